/**
 * `/api/config` (control-chain §3.1, §5): the effective view, the registry schema, history and single revisions
 * [viewer]; set and rollback [admin, denials audited]. Key rules, validation, optimistic concurrency and auditing all
 * live in the ConfigService, so the API, the CLI and the Config page answer identically.
 */
import { type Context, Hono } from 'hono';
import { type ConfigChange, diffSnapshots } from '#shared/domain/control/config.ts';
import type { Variety } from '#shared/domain/control/varieties.ts';
import { ControlError, NotFoundError, ValidationFailedError } from '#shared/errors/control.ts';
import { callerOf } from '#shared/services/auth-service.ts';
import type { ConfigService, EffectiveView, HistoryItem, SchemaItem } from '#shared/services/config-service.ts';
import type { WebEnv } from '../env.ts';
import { type HotDeps, hotConfig, hotJson } from '../hot-reads.ts';
import { requireRole } from '../middleware/require-role.ts';
import { readJson } from '../request-body.ts';
import { authMeta, principalOf } from '../request-info.ts';

/** Largest revision number accepted in a path (beyond it the number cannot exist and never reaches the store). */
const MAX_REVISION = 2 ** 31;

/** `:n` as a revision number: not a positive integer -> 400 `validation_failed`; beyond any real log -> 404. */
export function revisionParam(c: Context<WebEnv>): number {
  const raw = c.req.param('n') ?? '';
  if (!/^\d{1,12}$/.test(raw) || Number(raw) < 1) {
    const message = `revision must be a positive integer, got ${JSON.stringify(raw.slice(0, 32))}`;
    throw new ValidationFailedError(`invalid config revision: ${message}`, [
      { path: ['revision'], code: 'invalid_type', message },
    ]);
  }
  const n = Number(raw);
  if (n > MAX_REVISION) throw new NotFoundError('config revision', raw);
  return n;
}

/** Rows of the Config page's history list per page. */
export const CONFIG_PAGE_HISTORY = 50;

/** Per-key differences between two revisions, or why they could not be compared. */
export type ConfigDiff =
  | { ok: true; from: number; to: number; changes: ConfigChange[] }
  | { ok: false; from: string; to: string; code: string; message: string };

/** The effective view, or why it could not be resolved (e.g. an env value outside its registry bounds). */
export type EffectiveSection = { ok: true; view: EffectiveView } | { ok: false; code: string; message: string };

export interface ConfigPageModel {
  /** The head the page was rendered from (the edit form's and rollback buttons' `expected_revision`). */
  head: { revision: number; config_hash: string };
  effective: EffectiveSection;
  schema: SchemaItem[];
  history: { items: HistoryItem[]; next_cursor: string | null; limit: number };
  /** Uppercased key prefix filter ('' = all keys). */
  prefix: string;
  diff: ConfigDiff | null;
  /** `?saved=N` after a write from the page: the revision to announce. */
  saved: number | null;
}

/** A revision number from a query string, or null. */
function revisionOf(raw: string | undefined): number | null {
  const t = (raw ?? '').trim();
  return /^\d{1,12}$/.test(t) && Number(t) >= 1 && Number(t) <= MAX_REVISION ? Number(t) : null;
}

/** `?from=a&to=b`: the snapshots' per-key before/after; a bad or unknown revision is shown, not thrown. */
export async function loadConfigDiff(
  svc: ConfigService,
  fromRaw: string | undefined,
  toRaw: string | undefined,
): Promise<ConfigDiff | null> {
  if (fromRaw === undefined && toRaw === undefined) return null;
  const fromText = (fromRaw ?? '').slice(0, 32);
  const toText = (toRaw ?? '').slice(0, 32);
  const from = revisionOf(fromRaw);
  const to = revisionOf(toRaw);
  if (from === null || to === null) {
    return {
      ok: false,
      from: fromText,
      to: toText,
      code: 'validation_failed',
      message: 'both revisions must be positive integers',
    };
  }
  try {
    const [a, b] = await Promise.all([svc.getRevision(from), svc.getRevision(to)]);
    return { ok: true, from, to, changes: diffSnapshots(a.snapshot, b.snapshot) };
  } catch (err) {
    if (err instanceof ControlError)
      return { ok: false, from: fromText, to: toText, code: err.code, message: err.message };
    throw err;
  }
}

/** Everything the Config page renders on first paint (the same service calls as the API). */
export async function loadConfigPage(
  svc: ConfigService,
  variety: Variety,
  query: Record<string, string>,
): Promise<ConfigPageModel> {
  const prefix = (query.prefix ?? '').trim().toUpperCase().slice(0, 200);
  // First, so a fresh log is bootstrapped (revision 1) before the history is listed.
  const bootHead = await svc.head();
  const [effective, history, diff] = await Promise.all([
    loadEffective(svc, { var: variety, ...(prefix ? { prefix } : {}) }),
    svc.history({ limit: String(CONFIG_PAGE_HISTORY), ...(query.cursor ? { cursor: query.cursor } : {}) }),
    loadConfigDiff(svc, query.from, query.to),
  ]);
  const head = effective.ok ? effective.view : bootHead;
  return {
    head: { revision: head.revision, config_hash: head.config_hash },
    effective,
    schema: svc.schema(),
    history,
    prefix,
    diff,
    saved: revisionOf(query.saved),
  };
}

/** The effective view; a resolver refusal (a control error) becomes a section error so the rest still renders. */
async function loadEffective(svc: ConfigService, query: Record<string, string>): Promise<EffectiveSection> {
  try {
    return { ok: true, view: await svc.effective(query) };
  } catch (err) {
    if (err instanceof ControlError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

export function configRoutes(deps: HotDeps): Hono<WebEnv> {
  const hops = deps.config.auth.trustedProxyHops;
  const app = new Hono<WebEnv>();
  const svc = deps.configService;
  const hot = hotConfig(deps);

  app.get('/effective', requireRole(deps, 'viewer'), async (c) => hotJson(c, await hot.effective(c.req.query())));

  app.get('/schema', requireRole(deps, 'viewer'), (c) => c.json({ items: svc.schema(c.req.query()) }));

  app.get('/history', requireRole(deps, 'viewer'), async (c) => hotJson(c, await hot.history(c.req.query())));

  app.get('/revisions/:n', requireRole(deps, 'viewer'), async (c) => c.json(await svc.getRevision(revisionParam(c))));

  app.post('/set', requireRole(deps, 'admin', 'config.set'), async (c) => {
    const r = await svc.set(callerOf(principalOf(c), authMeta(c, hops)), await readJson(c), 'api_set');
    hot.changed();
    return c.json(r);
  });

  app.post('/rollback', requireRole(deps, 'admin', 'config.rollback'), async (c) => {
    const r = await svc.rollback(callerOf(principalOf(c), authMeta(c, hops)), await readJson(c));
    hot.changed();
    return c.json(r);
  });

  return app;
}
