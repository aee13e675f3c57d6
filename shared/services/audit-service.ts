/**
 * Reading the audit log (control-chain §9, §3.1): `GET /api/audit` and the Audit page. Validates the query, resolves
 * the time window (default the last 7 days, at most 400), and signs positions into opaque cursors bound to the
 * filters, so a cursor can neither be forged nor reused with other filters. The store reads by key or index only.
 */
import * as z from 'zod';
import {
  AUDIT_DEFAULT_RANGE_DAYS,
  AUDIT_MAX_RANGE_DAYS,
  type AuditEntry,
  type AuditListQuery,
  AuditListQuerySchema,
  type AuditListRequest,
  type AuditLog,
  type AuditPosition,
} from '../domain/control/audit.ts';
import { decodeCursor, encodeCursor } from '../domain/control/cursor.ts';
import { parseOrThrow } from '../domain/control/validation.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import { DependencyUnavailableError, InvalidCursorError, ValidationFailedError } from '../errors/control.ts';

const DAY_MS = 24 * 3600 * 1000;
const ISO_MS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** What an audit cursor signs: the resolved window and the store position inside it. */
const AuditCursorKeySchema = z
  .object({
    from: z.string().regex(ISO_MS_RE),
    to: z.string().regex(ISO_MS_RE),
    day: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional(),
    key: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export interface AuditServiceDeps {
  audit: AuditLog;
  clock: Clock;
  /** Signs list cursors; absent -> listing answers 503 (the deployment lacks `GHTRADER_CURSOR_SECRET`). */
  cursorSecret: string | undefined;
}

export interface AuditListResult {
  items: AuditEntry[];
  next_cursor: string | null;
  limit: number;
  /** The resolved inclusive window (UTC ISO-8601), so callers can show what "the last 7 days" meant. */
  from: string;
  to: string;
}

export class AuditService {
  constructor(private readonly deps: AuditServiceDeps) {}

  async list(rawQuery: unknown): Promise<AuditListResult> {
    const q = parseOrThrow(AuditListQuerySchema, rawQuery, 'audit list query');
    const secret = this.deps.cursorSecret;
    if (!secret) throw new DependencyUnavailableError('list cursor secret (GHTRADER_CURSOR_SECRET)');
    const reader = this.deps.audit.list?.bind(this.deps.audit);
    if (!reader) throw new DependencyUnavailableError('audit log reader');
    // The raw filters (not the resolved window): a cursor from "the last 7 days" stays valid on the next page.
    const filters = {
      list: 'audit',
      actor: q.actor ?? null,
      action: q.action ?? null,
      target: q.target ?? null,
      outcome: q.outcome ?? null,
      from: q.from ?? null,
      to: q.to ?? null,
    };
    let window: { from: string; to: string };
    let start: AuditPosition | undefined;
    if (q.cursor) {
      const parsed = AuditCursorKeySchema.safeParse(decodeCursor(secret, q.cursor, filters));
      if (!parsed.success) throw new InvalidCursorError('not an audit cursor');
      const { from, to, day, key } = parsed.data;
      window = { from, to };
      start = { ...(day ? { day } : {}), ...(key ? { key } : {}) };
    } else {
      window = this.window(q);
    }
    const action = actionFilter(q.action);
    const page = await reader({
      ...(q.actor ? { actorId: q.actor } : {}),
      ...(action ? { action } : {}),
      ...(q.target !== undefined ? { target: q.target } : {}),
      ...(q.outcome ? { outcome: q.outcome } : {}),
      from: window.from,
      to: window.to,
      limit: q.limit,
      readBudget: 5 * q.limit,
      ...(start ? { start } : {}),
    } satisfies AuditListRequest);
    return {
      items: page.items,
      next_cursor: page.next ? encodeCursor(secret, { ...window, ...page.next }, filters) : null,
      limit: q.limit,
      ...window,
    };
  }

  /** `to` defaults to now and `from` to 7 days before `to`; `from > to` or a window over 400 days is a 400. */
  private window(q: AuditListQuery): { from: string; to: string } {
    const to = q.to ?? isoUtc(this.deps.clock.nowMs());
    const toMs = Date.parse(to);
    const from = q.from ?? isoUtc(toMs - AUDIT_DEFAULT_RANGE_DAYS * DAY_MS);
    const fromMs = Date.parse(from);
    if (fromMs > toMs) {
      const message = `from (${from}) is after to (${to})`;
      throw new ValidationFailedError(`invalid audit list query at from: ${message}`, [
        { path: ['from'], code: 'custom', message },
      ]);
    }
    if (toMs - fromMs > AUDIT_MAX_RANGE_DAYS * DAY_MS) {
      const message = `the window from ${from} to ${to} exceeds ${AUDIT_MAX_RANGE_DAYS} days`;
      throw new ValidationFailedError(`invalid audit list query at from: ${message}`, [
        { path: ['from'], code: 'custom', message },
      ]);
    }
    return { from, to };
  }
}

/** `config.set` is exact; `config.` and `config.*` are prefixes; a bare `*` filters nothing. */
function actionFilter(action: string | undefined): { value: string; prefix: boolean } | null {
  if (!action) return null;
  if (action.endsWith('*')) {
    const value = action.slice(0, -1);
    return value ? { value, prefix: true } : null;
  }
  return { value: action, prefix: action.endsWith('.') };
}
