import * as z from 'zod';

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
  outcome: z.enum(['ok', 'denied', 'failed']),
  reason: z.string().nullable(),
  before: z.unknown().nullable(),
  after: z.unknown().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type AuditInput = Omit<AuditEntry, 'audit_id' | 'ts'>;

/** Port: append-only audit log. */
export interface AuditLog {
  /** Append one entry; returns it with id and timestamp. Never updates or deletes. */
  append(entry: AuditInput): Promise<AuditEntry>;
  /** Newest entries of one UTC day (`YYYY-MM-DD`), newest first. */
  listDay(day: string, limit: number): Promise<AuditEntry[]>;
}
