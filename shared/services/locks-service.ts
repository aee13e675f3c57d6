/**
 * `GET /api/locks` (control-chain §3.2): the lease locks in key order, from the Locks table's `shard-key` index (a
 * query, never a scan), with signed cursors. Read-only: nothing here takes, renews or releases a lease.
 */
import * as z from 'zod';
import { decodeCursor, encodeCursor } from '../domain/control/cursor.ts';
import { clampedLimit } from '../domain/control/job-requests.ts';
import type { LockLister, LockListing } from '../domain/control/locks.ts';
import { parseOrThrow } from '../domain/control/validation.ts';
import { DependencyUnavailableError, InvalidCursorError } from '../errors/control.ts';

/** `limit` bounds (the spec's table names none for locks: the command history's, with a larger maximum). */
export const LOCK_LIST_LIMIT = { default: 100, min: 1, max: 500 } as const;

export const LockListQuerySchema = z
  .object({
    /** Keys starting with this, e.g. `trade:` for the trading leases or `main_l5:` for the builds. */
    prefix: z.string().min(1).max(200).optional(),
    limit: clampedLimit(LOCK_LIST_LIMIT),
    cursor: z.string().min(1).max(4000).optional(),
  })
  .strict();

const LockCursorKeySchema = z.object({ shard: z.string(), key: z.string() }).strict();

export interface LockListResult {
  items: LockListing[];
  next_cursor: string | null;
  limit: number;
  /** How many listed leases have expired (free for the next taker; their holder stopped renewing). */
  expired_count: number;
}

export class LocksService {
  constructor(private readonly deps: { locks: LockLister; cursorSecret: string | undefined }) {}

  async list(rawQuery: unknown): Promise<LockListResult> {
    const q = parseOrThrow(LockListQuerySchema, rawQuery ?? {}, 'lock list query');
    const secret = this.deps.cursorSecret;
    if (!secret) throw new DependencyUnavailableError('list cursor secret (GHTRADER_CURSOR_SECRET)');
    const filters = { list: 'locks', prefix: q.prefix ?? null };
    let start: Record<string, unknown> | undefined;
    if (q.cursor) {
      const parsed = LockCursorKeySchema.safeParse(decodeCursor(secret, q.cursor, filters));
      if (!parsed.success) throw new InvalidCursorError('not a lock cursor');
      start = parsed.data;
    }
    const page = await this.deps.locks.list({
      ...(q.prefix ? { prefix: q.prefix } : {}),
      limit: q.limit,
      ...(start ? { start } : {}),
    });
    return {
      items: page.items,
      next_cursor: page.next ? encodeCursor(secret, page.next, filters) : null,
      limit: q.limit,
      expired_count: page.items.filter((l) => l.expired).length,
    };
  }
}
