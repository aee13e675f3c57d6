/**
 * Planning of a main_l5 build (data-chain §5.1 steps 2–3): choose update or full rebuild from what is stored, then
 * split the work (scheduled days not yet stored) into per-segment batches of consecutive scheduled days.
 */
import type { DayProvenance } from '../tick-store.ts';
import { MainL5InputError } from './errors.ts';

export type BuildMode = 'update' | 'full_rebuild';

export interface ModeDecision {
  mode: BuildMode;
  /** Present when an update was asked for but the stored data is not compatible with the pinned schedule. */
  warning?: 'schedule_hash_mismatch';
  /**
   * Days already stored that the build skips (update mode only; empty on a full rebuild, whose first step deletes
   * the symbol's tick and daily-agg rows).
   */
  storedDays: Set<string>;
  /** Distinct non-empty stored hashes, sorted (report: `schedule_lineage.compatible_hashes_in_use`). */
  storedHashes: string[];
  /** Stored days that have rows without a `schedule_hash`, sorted. */
  daysWithoutHash: string[];
}

export interface DecideModeInput {
  fullRebuild: boolean;
  /** `TickStore.dayProvenance(ticks table, alias)` of (symbol, `main_l5`, `v2`). */
  stored: readonly DayProvenance[];
  /** `prefixHashes` of the pinned schedule (§4.3 lineage). */
  prefixHashes: ReadonlySet<string> | readonly string[];
}

/**
 * §5.1.2: `update` requires every stored hash to be a prefix hash of the pinned schedule and no stored day without a
 * hash; otherwise the symbol is fully rebuilt with warning `schedule_hash_mismatch`. `--full-rebuild` always
 * rebuilds (no warning). Nothing stored → update with no stored days.
 */
export function decideMode(input: DecideModeInput): ModeDecision {
  const prefix: ReadonlySet<string> = isReadonlyArray(input.prefixHashes)
    ? new Set(input.prefixHashes)
    : input.prefixHashes;
  const hashes = new Set<string>();
  const withoutHash: string[] = [];
  const days = new Set<string>();
  for (const d of input.stored) {
    if (d.rows <= 0) continue;
    days.add(d.trading_day);
    for (const h of d.schedule_hashes) if (h !== '') hashes.add(h);
    if (d.rows_without_hash > 0 || d.schedule_hashes.length === 0) withoutHash.push(d.trading_day);
  }
  const storedHashes = [...hashes].sort();
  const daysWithoutHash = withoutHash.sort();
  if (input.fullRebuild) return { mode: 'full_rebuild', storedDays: new Set(), storedHashes, daysWithoutHash };
  const compatible = daysWithoutHash.length === 0 && storedHashes.every((h) => prefix.has(h));
  if (!compatible) {
    return {
      mode: 'full_rebuild',
      warning: 'schedule_hash_mismatch',
      storedDays: new Set(),
      storedHashes,
      daysWithoutHash,
    };
  }
  return { mode: 'update', storedDays: days, storedHashes, daysWithoutHash };
}

function isReadonlyArray(v: ReadonlySet<string> | readonly string[]): v is readonly string[] {
  return Array.isArray(v);
}

export interface PlanScheduleRow {
  readonly trading_day: string;
  readonly main_contract: string;
  readonly segment_id: number | bigint;
}

/** One `data.main_l5.day_batch` child: consecutive scheduled days of one segment. */
export interface DayBatchPlan {
  segment_id: number;
  underlying_contract: string;
  days: string[];
}

/**
 * §5.1.3: scheduled days minus `storedDays`, grouped by segment into batches of ≤ `daysPerJob` consecutive scheduled
 * days, in schedule order. A stored day between two missing days, a segment change or a full batch starts a new
 * batch. `schedule` must be in strictly ascending `trading_day` order (the schedule's own order).
 */
export function planBatches(
  schedule: readonly PlanScheduleRow[],
  storedDays: ReadonlySet<string>,
  daysPerJob: number,
): DayBatchPlan[] {
  if (!Number.isSafeInteger(daysPerJob) || daysPerJob < 1) {
    throw new MainL5InputError(`days per job must be an integer ≥ 1, got ${String(daysPerJob)}`);
  }
  const batches: DayBatchPlan[] = [];
  let current: DayBatchPlan | null = null;
  let prevDay: string | null = null;
  for (const row of schedule) {
    if (prevDay !== null && row.trading_day <= prevDay) {
      throw new MainL5InputError(`schedule is not in ascending trading_day order at ${row.trading_day}`);
    }
    prevDay = row.trading_day;
    if (storedDays.has(row.trading_day)) {
      current = null;
      continue;
    }
    const segment = Number(row.segment_id);
    if (!Number.isSafeInteger(segment) || segment < 0) {
      throw new MainL5InputError(
        `segment_id ${String(row.segment_id)} of ${row.trading_day} is not a non-negative integer`,
      );
    }
    if (
      current === null ||
      current.segment_id !== segment ||
      current.underlying_contract !== row.main_contract ||
      current.days.length >= daysPerJob
    ) {
      current = { segment_id: segment, underlying_contract: row.main_contract, days: [] };
      batches.push(current);
    }
    current.days.push(row.trading_day);
  }
  return batches;
}
