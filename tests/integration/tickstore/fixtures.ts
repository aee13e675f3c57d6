/**
 * Synthetic columnar tick days (valid `fnv1a64_v1` row hashes) and small-table rows for the tick-store contract suite
 * and bench.
 */
import { rowHashFnv1a64V1 } from '#shared/domain/data/row-hash.ts';
import { TABLES, type TableDef, TICK_NUMERIC_COLUMN_COUNT } from '#shared/domain/data/tick-columns.ts';
import {
  type CellValue,
  dayTsMicros,
  msToMicros,
  type Row,
  type TickDayBatch,
} from '#shared/domain/data/tick-store.ts';

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

/** A row of `def` with every declared column `null`, then `cells` (every key must be declared or dynamic). */
export function rowOf(def: TableDef, cells: Record<string, CellValue>): Row {
  const row: Record<string, CellValue> = {};
  for (const c of def.columns) row[c.name] = null;
  return { ...row, ...cells };
}

/** `updated_at` of the fixture rows: 2026-01-05 12:00:00 UTC in µs. */
export const UPDATED_AT_US = msToMicros(Date.UTC(2026, 0, 5, 12));

/** One `ghtrader_main_schedule_v2` row (ts = the trading day at 00:00 UTC). */
export function scheduleRow(
  variety: string,
  tradingDay: string,
  mainContract: string,
  opts: { segmentId?: bigint; scheduleHash?: string; exchange?: string } = {},
): Row {
  return rowOf(TABLES.mainSchedule, {
    exchange: opts.exchange ?? 'SHFE',
    variety,
    trading_day: tradingDay,
    main_contract: mainContract,
    segment_id: opts.segmentId ?? 0n,
    schedule_hash: opts.scheduleHash ?? 'fedcba9876543210',
    updated_at: UPDATED_AT_US,
    ts: dayTsMicros(tradingDay),
  });
}

/** One `ghtrader_main_l5_builds_v2` row. */
export function mainL5BuildRow(symbol: string, buildId: string, tsMicros: bigint, rowsTotal = 1000n): Row {
  return rowOf(TABLES.mainL5Builds, {
    symbol,
    build_id: buildId,
    schedule_hash: 'fedcba9876543210',
    mode: 'update',
    status: 'ok',
    l5_rule: 'l5_levels_2_5_v2',
    aligned_start: '2026-01-05',
    covered_first_day: '2026-01-05',
    covered_last_day: '2026-01-07',
    rows_total: rowsTotal,
    days_written: 3n,
    report_uri: `reports/main_l5/${buildId}.json`,
    ts: tsMicros,
  });
}
