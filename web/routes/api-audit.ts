/**
 * `/api/audit` (control-chain §3.2, §9): `GET` lists audit entries [operator], filtered by actor, action, target,
 * outcome and time, newest first, with signed cursors. The log is append-only from the services' side: there is no
 * write route, so every other method is 405 `method_not_allowed`. The Audit page reads through the same service.
 */
import { Hono } from 'hono';
import type { Variety } from '#shared/domain/control/varieties.ts';
import { ControlError, MethodNotAllowedError } from '#shared/errors/control.ts';
import { type AuditListResult, AuditService } from '#shared/services/audit-service.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { type HotDeps, hotAudit, hotJson } from '../hot-reads.ts';
import { requireRole } from '../middleware/require-role.ts';

/** The audit reader over the app's audit log, signing cursors with the deployment's cursor secret. */
export function auditService(deps: Pick<AppDeps, 'audit' | 'clock' | 'config'>): AuditService {
  return new AuditService({ audit: deps.audit, clock: deps.clock, cursorSecret: deps.config.auth.cursorSecret });
}

export function auditRoutes(deps: HotDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const svc = hotAudit(deps, auditService(deps));

  app.get('/', requireRole(deps, 'operator'), async (c) => hotJson(c, await svc.list(c.req.query())));

  // Identity first (an anonymous write is still 401), then 405 for any method but GET.
  app.all('/', requireRole(deps, 'viewer'), (c) => {
    c.header('Allow', 'GET, HEAD');
    throw new MethodNotAllowedError(c.req.method, c.req.path, ['GET', 'HEAD']);
  });

  return app;
}

/** The Audit page's filters as entered (instants normalised to UTC ISO-8601 with `Z`; '' = unset). */
export interface AuditPageFilters {
  actor: string;
  action: string;
  target: string;
  from: string;
  to: string;
  outcome: string;
}

export interface AuditPageModel {
  filters: AuditPageFilters;
  /** Null when the filters or cursor were refused; `error` then says why. */
  result: AuditListResult | null;
  error: { code: string; message: string } | null;
  nextHref: string | null;
  firstHref: string | null;
}

const FILTER_KEYS = ['actor', 'action', 'target', 'from', 'to', 'outcome'] as const;

/**
 * A page instant: a bare date covers the whole UTC day (`from` at 00:00, `to` at 23:59:59.999); a date-time without
 * a zone is read as UTC; anything else goes to the service as typed (and is refused there, with its reason shown).
 */
function pageInstant(raw: string, edge: 'from' | 'to'): string {
  const t = raw.trim().slice(0, 40);
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return edge === 'from' ? `${t}T00:00:00Z` : `${t}T23:59:59.999Z`;
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(t)) return `${t.replace(' ', 'T')}Z`;
  return t;
}

/** Everything the Audit page renders: the same service call as `GET /api/audit`, errors shown instead of thrown. */
export async function loadAuditPage(
  svc: Pick<AuditService, 'list'>,
  variety: Variety,
  query: Record<string, string>,
): Promise<AuditPageModel> {
  const filters: AuditPageFilters = {
    actor: (query.actor ?? '').trim().slice(0, 300),
    action: (query.action ?? '').trim().slice(0, 100),
    target: (query.target ?? '').trim().slice(0, 500),
    from: pageInstant(query.from ?? '', 'from'),
    to: pageInstant(query.to ?? '', 'to'),
    outcome: (query.outcome ?? '').trim().slice(0, 16),
  };
  const params = new URLSearchParams();
  for (const k of FILTER_KEYS) if (filters[k]) params.set(k, filters[k]);
  const limit = (query.limit ?? '').trim().slice(0, 12);
  if (limit) params.set('limit', limit);
  const listQuery: Record<string, string> = Object.fromEntries(params);
  if (query.cursor) listQuery.cursor = query.cursor;
  const base = `/v/${variety}/audit${params.size > 0 ? `?${params.toString()}` : ''}`;
  const join = params.size > 0 ? '&' : '?';
  try {
    const result = await svc.list(listQuery);
    return {
      filters,
      result,
      error: null,
      nextHref: result.next_cursor ? `${base}${join}cursor=${encodeURIComponent(result.next_cursor)}` : null,
      firstHref: query.cursor ? base : null,
    };
  } catch (err) {
    if (!(err instanceof ControlError) || err.status >= 500) throw err;
    return { filters, result: null, error: { code: err.code, message: err.message }, nextHref: null, firstHref: base };
  }
}
