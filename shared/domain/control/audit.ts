import * as z from 'zod';
import { clampedLimit } from './job-requests.ts';

export const AUDIT_OUTCOMES = ['ok', 'denied', 'failed'] as const;

/** One audit entry (control-chain §9). `before`/`after` are summaries ≤ 4 KiB each, secrets removed. */
export const AuditEntrySchema = z.object({
  audit_id: z.string(),
  ts: z.string(),
  actor: z.object({ type: z.enum(['user', 'token', 'cli', 'system']), id: z.string(), name: z.string() }),
  role: z.string(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  request_id: z.string().nullable(),
  action: z.string(),
  target: z.string(),
  outcome: z.enum(AUDIT_OUTCOMES),
  reason: z.string().nullable(),
  before: z.unknown().nullable(),
  after: z.unknown().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type AuditInput = Omit<AuditEntry, 'audit_id' | 'ts'>;
export type AuditOutcome = AuditEntry['outcome'];

/** `GET /api/audit` `limit` (control-chain §3.1). */
export const AUDIT_LIMIT = { default: 100, min: 1, max: 500 } as const;
/** Window when `from` is absent: the last 7 days up to `to`. */
export const AUDIT_DEFAULT_RANGE_DAYS = 7;
/** Widest window one listing may cover (the retention floor). */
export const AUDIT_MAX_RANGE_DAYS = 400;

/** A filter instant: UTC ISO-8601 with `Z` (seconds and milliseconds optional), normalised to `isoUtc` form. */
export const UtcInstantSchema = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z$/,
    'expected UTC ISO-8601 ending in Z, e.g. 2025-01-31T08:00:00Z',
  )
  .transform((s, ctx) => {
    const ms = Date.parse(s);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: `not a valid instant: ${s}` });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  });

/** An audit actor id as stored on the `actor-ts` index: `<type>:<id>`. */
export const AuditActorIdSchema = z
  .string()
  .max(300)
  .regex(/^(user|token|cli|system):.+$/, 'expected <type>:<id> with type user, token, cli or system');

/**
 * Query of `GET /api/audit` (strings, as they come from a query string). `action` is exact, or a prefix when it ends
 * in `.` or `*` (`config.` and `config.*` both match every `config.*` action). `from`/`to` are resolved against the
 * clock by the service (default: the last 7 days; at most 400 days).
 */
export const AuditListQuerySchema = z
  .object({
    actor: AuditActorIdSchema.optional(),
    action: z.string().min(1).max(100).optional(),
    target: z.string().min(1).max(500).optional(),
    from: UtcInstantSchema.optional(),
    to: UtcInstantSchema.optional(),
    outcome: z.enum(AUDIT_OUTCOMES).optional(),
    limit: clampedLimit(AUDIT_LIMIT),
    cursor: z.string().min(1).max(4000).optional(),
  })
  .strict();
export type AuditListQuery = z.infer<typeof AuditListQuerySchema>;

/** Where a listing resumes: a UTC day partition (day mode) and/or the store's last evaluated key. */
export interface AuditPosition {
  /** `YYYY-MM-DD` partition to continue in (absent when listing by actor). */
  day?: string;
  /** Exclusive start key inside that partition or index (absent: from its newest item). */
  key?: Record<string, unknown>;
}

/** One store read of the audit log, newest first. */
export interface AuditListRequest {
  /** `<type>:<id>`: read the `actor-ts` index instead of the day partitions. */
  actorId?: string;
  action?: { value: string; prefix: boolean };
  target?: string;
  outcome?: AuditOutcome;
  /** Inclusive window, `isoUtc` instants. */
  from: string;
  to: string;
  limit: number;
  /** Items the store may read (before filters) in this call; like jobs, 5 × limit. */
  readBudget: number;
  start?: AuditPosition;
}

export interface AuditListPage {
  items: AuditEntry[];
  /** Null when the window is exhausted. */
  next: AuditPosition | null;
}

/** Port: append-only audit log. */
export interface AuditLog {
  /** Append one entry; returns it with id and timestamp. Never updates or deletes. */
  append(entry: AuditInput): Promise<AuditEntry>;
  /** Newest entries of one UTC day (`YYYY-MM-DD`), newest first. */
  listDay(day: string, limit: number): Promise<AuditEntry[]>;
  /**
   * Filtered listing, newest first, by key or index queries only (never a scan). Optional so write-only fakes stay
   * valid; a log without it cannot serve `GET /api/audit` (503).
   */
  list?(query: AuditListRequest): Promise<AuditListPage>;
}
