/**
 * The lock proof a QuestDB partition rewrite needs (data-chain §1.4, §10.3). A row delete on QuestDB copies, drops and
 * re-inserts whole partitions, which hold every symbol's rows, so it may run only while no other writer of the table
 * can write: the caller holds its own writer lock (the build of the symbol it rebuilds, the schedule job of its
 * variety) and the guard takes the other writers' locks for the duration of the rewrite, refusing when one is held.
 * Locks are never preempted: a held lock fails the rewrite with the holder named.
 */
import { hostname } from 'node:os';
import { scheduleLockKey } from '../../domain/control/job-kinds/data.ts';
import type { LockStore } from '../../domain/control/locks.ts';
import { TABLE_NAMES } from '../../domain/data/tick-columns.ts';
import type { DeleteScope } from '../../domain/data/tick-store.ts';
import { parseAnySymbol } from '../../domain/market/symbols.ts';
import { VARIETIES, type Variety } from '../../domain/market/varieties.ts';
import { DataChainError } from '../../errors/data.ts';
import type { RewriteGuard } from '../../infra/tickstore/questdb.ts';
import { buildLockKey } from './main-l5.ts';

/** How long the other writers stay locked out: long enough for the largest rewrite (a symbol's years of ticks). */
export const REWRITE_LOCK_LEASE_MS = 30 * 60_000;

/** The writer lock the caller of a rewrite holds, and the other writers' locks (§10.3). */
export function rewriteWriterLocks(table: string, scope: DeleteScope): { own: string; others: string[] } {
  const pick = (own: Variety, key: (v: Variety) => string) => ({
    own: key(own),
    others: VARIETIES.filter((v) => v !== own).map(key),
  });
  if (table === TABLE_NAMES.mainSchedule) {
    if (scope.variety === undefined) throw refused(table, 'the delete names no variety');
    return pick(varietyOf(table, scope.variety), scheduleLockKey);
  }
  if (table === TABLE_NAMES.ticksMainL5 || table === TABLE_NAMES.dailyAgg) {
    if (scope.symbol === undefined) throw refused(table, 'the delete names no symbol');
    const any = parseAnySymbol(scope.symbol);
    return pick(varietyOf(table, any.kind === 'contract' ? any.contract.variety : any.variety), buildLockKey);
  }
  throw refused(table, 'no writers of that table are known to this guard');
}

function varietyOf(table: string, v: string): Variety {
  if (!(VARIETIES as readonly string[]).includes(v)) throw refused(table, `unknown variety ${JSON.stringify(v)}`);
  return v as Variety;
}

function refused(table: string, reason: string): DataChainError {
  return new DataChainError('questdb_rewrite_refused', `refusing to rewrite partitions of ${table}: ${reason}`, {
    details: { table, reason },
  });
}

/**
 * A `RewriteGuard` over the lock store: the caller's own writer lock must be held by the caller (the job named by the
 * delete's `lockOwner`), the others are taken for the rewrite and released after it.
 */
export function lockRewriteGuard(
  locks: LockStore,
  ownerId = `questdb-rewrite@${hostname()}:${process.pid}`,
): RewriteGuard {
  return async (table, scope) => {
    const { own, others } = rewriteWriterLocks(table, scope);
    if (scope.lockOwner === undefined) {
      throw refused(table, `the delete names no lockOwner; rewrites run inside the job that holds ${own}`);
    }
    const holder = await locks.holder(own);
    if (holder === null) {
      throw refused(table, `the caller must hold ${own}, and nobody does; rewrites run inside the job that holds it`);
    }
    if (holder.owner !== scope.lockOwner) {
      throw refused(
        table,
        `${own} is held by ${holder.owner} on ${holder.host}, not by the caller ${scope.lockOwner}; rewrites run inside the job that holds it`,
      );
    }
    const taken = await locks.acquireAll(
      others,
      { ownerId, host: hostname(), pid: process.pid },
      REWRITE_LOCK_LEASE_MS,
    );
    if (!taken.ok) {
      const held = taken.conflicts.map((c) => `${c.key} (held by ${c.owner} on ${c.host})`).join(', ');
      throw new DataChainError(
        'questdb_rewrite_blocked',
        `cannot rewrite partitions of ${table} while another writer runs: ${held}; run this again when it has finished`,
        { details: { table, conflicts: taken.conflicts } },
      );
    }
    return async () => {
      for (const lease of [...taken.leases].reverse()) await locks.release(lease);
    };
  };
}
