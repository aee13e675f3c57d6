/** Synthetic columnar tick days for the tick-store contract suite and bench (valid `fnv1a64_v1` row hashes). */
import { rowHashFnv1a64V1 } from '#shared/domain/data/row-hash.ts';
import { TICK_NUMERIC_COLUMN_COUNT } from '#shared/domain/data/tick-columns.ts';
import type { TickDayBatch } from '#shared/domain/data/tick-store.ts';

/** 2026-01-05 09:00:00 CST (01:00 UTC) in epoch ns. */
export const DAY_START_NS = 1_767_574_800_000_000_000n;

export interface DayOptions {
  /** First tick instant; ticks follow every 500 ms. */
  startNs?: bigint;
  /** Shifts every price so two symbols' days differ. */
  priceOffset?: number;
  underlyingContract?: string;
}

/** `n` ticks at 2/s with plausible L5 prices and volumes. */
export function makeDay(n: number, opts: DayOptions = {}): TickDayBatch {
  const start = opts.startNs ?? DAY_START_NS;
  const base = 70_000 + (opts.priceOffset ?? 0);
  const datetimeNs = new BigInt64Array(n);
  const values = Array.from({ length: TICK_NUMERIC_COLUMN_COUNT }, () => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    datetimeNs[r] = start + BigInt(r) * 500_000_000n;
    const last = base + (r % 37) * 10;
    const cells = [last, last - 3.5, last + 200, last - 200, r * 3, r * 3 * last * 5, 200_000 + r];
    for (let i = 0; i < 7; i++) (values[i] as Float64Array)[r] = cells[i] as number;
    for (let level = 0; level < 5; level++) {
      const c = 7 + level * 4;
      (values[c] as Float64Array)[r] = last - 10 * (level + 1);
      (values[c + 1] as Float64Array)[r] = 1 + ((r + level) % 9);
      (values[c + 2] as Float64Array)[r] = last + 10 * (level + 1);
      (values[c + 3] as Float64Array)[r] = 2 + ((r * 7 + level) % 11);
    }
  }
  return withHashes({
    ticksKind: 'main_l5',
    datasetVersion: 'v2',
    underlyingContract: opts.underlyingContract ?? 'SHFE.cu2602',
    segmentId: 3n,
    scheduleHash: '0123456789abcdef',
    datetimeNs,
    rowHash: new BigInt64Array(n),
    values,
  });
}

/** Recompute `row_hash` of every row (after a test edits values). */
export function withHashes(batch: TickDayBatch): TickDayBatch {
  const row = new Float64Array(TICK_NUMERIC_COLUMN_COUNT);
  const rowHash = new BigInt64Array(batch.datetimeNs.length);
  for (let r = 0; r < rowHash.length; r++) {
    for (let i = 0; i < TICK_NUMERIC_COLUMN_COUNT; i++) row[i] = (batch.values[i] as Float64Array)[r] as number;
    rowHash[r] = rowHashFnv1a64V1(batch.datetimeNs[r] as bigint, row);
  }
  return { ...batch, rowHash };
}

/** The rows at `indices` of a batch, in that order (repeats allowed). */
export function pick(batch: TickDayBatch, indices: readonly number[]): TickDayBatch {
  const take = <T extends BigInt64Array | Float64Array>(a: T, make: (n: number) => T): T => {
    const out = make(indices.length);
    indices.forEach((ix, j) => {
      out[j] = a[ix] as T[number];
    });
    return out;
  };
  return {
    ...batch,
    datetimeNs: take(batch.datetimeNs, (n) => new BigInt64Array(n)),
    rowHash: take(batch.rowHash, (n) => new BigInt64Array(n)),
    values: batch.values.map((v) => take(v, (n) => new Float64Array(n))),
  };
}
