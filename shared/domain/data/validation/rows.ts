/**
 * The rows validation persists (data-chain §1.2, §6.6): summary, gap, tick-gap and field-quality rows, each with
 * exactly the catalogue's columns and typed values (LONG / TIMESTAMP → bigint, TIMESTAMP in µs; `ts` per §1.1: the
 * trading day at 00:00 UTC for per-day tables, the gap start for the gaps table).
 */
import { DataChainError } from '../../../errors/data.ts';
import { DATASET_VERSION, TABLES, type TableDef } from '../tick-columns.ts';
import { type CellValue, dayTsMicros, type Row } from '../tick-store.ts';
import type { DayStats, GapSegment } from './day-stats.ts';
import { type FieldQuality, INVARIANT_CHECKS } from './field-quality.ts';

const secToMicros = (s: number): bigint => BigInt(s) * 1_000_000n;
const long = (n: number): bigint => BigInt(Math.trunc(n));

/** Throws unless `row` has exactly the declared columns of `table` (a programming error, never data). */
export function assertRowShape(table: TableDef, row: Row): Row {
  const declared = table.columns.map((c) => c.name);
  const missing = declared.filter((c) => !(c in row));
  const extra = Object.keys(row).filter((c) => !declared.includes(c));
  if (missing.length > 0 || extra.length > 0) {
    throw new DataChainError(
      'validation_row_shape',
      `row for ${table.name} does not match the catalogue (missing [${missing.join(', ')}], extra [${extra.join(', ')}])`,
      { details: { table: table.name, missing, extra } },
    );
  }
  return row;
}

export interface RowContext {
  symbol: string;
  trading_day: string;
  schedule_hash: string;
  /** `updated_at` in µs. */
  updated_at: bigint;
}

/** One `ghtrader_main_l5_validate_summary_v2` row from a day's statistics. */
export function summaryRow(ctx: RowContext, s: DayStats): Row {
  const row: Record<string, CellValue> = {
    symbol: ctx.symbol,
    trading_day: ctx.trading_day,
    cadence_mode: s.cadence_mode,
    expected_seconds: long(s.expected_seconds),
    expected_seconds_strict: long(s.expected_seconds_strict),
    seconds_with_ticks: long(s.seconds_with_ticks),
    seconds_with_two_plus: long(s.seconds_with_two_plus),
    two_plus_ratio: s.two_plus_ratio,
    observed_segments: long(s.observed_segments),
    total_segments: long(s.total_segments),
    missing_day: s.missing_day ? 1n : 0n,
    missing_segments: long(s.missing_segments),
    missing_seconds: long(s.missing_seconds),
    missing_seconds_ratio: s.missing_seconds_ratio,
    gap_bucket_2_5: long(s.gap_buckets['2_5']),
    gap_bucket_6_15: long(s.gap_buckets['6_15']),
    gap_bucket_16_30: long(s.gap_buckets['16_30']),
    gap_bucket_gt_30: long(s.gap_buckets.gt_30),
    gap_count_gt_30: long(s.gap_count_gt_30),
    missing_half_seconds: long(s.missing_half_seconds),
    last_tick_ts: s.last_tick_s === null ? null : secToMicros(s.last_tick_s),
    session_end_lag_s: s.session_end_lag_s === null ? null : long(s.session_end_lag_s),
    max_gap_s: long(s.max_gap_s),
    gap_threshold_s: s.gap_threshold_s,
    schedule_hash: ctx.schedule_hash,
    updated_at: ctx.updated_at,
    ts: dayTsMicros(ctx.trading_day),
  };
  return assertRowShape(TABLES.validateSummary, row);
}

/** One `ghtrader_main_l5_validate_gaps_v2` row per listed segment; `ts` = gap start. */
export function gapRows(ctx: RowContext, segments: readonly GapSegment[]): Row[] {
  return segments.map((g) =>
    assertRowShape(TABLES.validateGaps, {
      symbol: ctx.symbol,
      trading_day: ctx.trading_day,
      session: g.session,
      start_ts: secToMicros(g.start_s),
      end_ts: secToMicros(g.end_s),
      duration_s: long(g.duration_s),
      tqsdk_status: g.tqsdk_status,
      schedule_hash: ctx.schedule_hash,
      updated_at: ctx.updated_at,
      ts: secToMicros(g.start_s),
    }),
  );
}

/** The summary fields a tick-gap row is derived from (§6.6 step 3). */
export interface TickGapSource {
  seconds_with_ticks: number;
  expected_seconds: number;
  missing_seconds: number;
  max_gap_s: number;
  gap_buckets: { '2_5': number; '6_15': number; '16_30': number; gt_30: number };
}

export interface TickGapIntervals {
  median_interval_ms: number | null;
  p95_interval_ms: number | null;
  p99_interval_ms: number | null;
}

/**
 * `ghtrader_tick_gaps_v2` row from a summary (§6.6 step 3): actual = seconds_with_ticks (historical meaning),
 * expected max = expected_seconds, expected min = expected − missing_seconds, max interval = largest gap =
 * max_gap_s·1000, abnormal = buckets 2_5+6_15+16_30, critical = gt_30; interval percentiles from in-session ticks.
 */
export function tickGapRow(ctx: RowContext, s: TickGapSource, iv: TickGapIntervals): Row {
  const ms = (v: number | null): bigint | null => (v === null ? null : long(v));
  return assertRowShape(TABLES.tickGaps, {
    symbol: ctx.symbol,
    trading_day: ctx.trading_day,
    ticks_kind: 'main_l5',
    dataset_version: DATASET_VERSION,
    tick_count_actual: long(s.seconds_with_ticks),
    tick_count_expected_min: long(s.expected_seconds - s.missing_seconds),
    tick_count_expected_max: long(s.expected_seconds),
    median_interval_ms: ms(iv.median_interval_ms),
    p95_interval_ms: ms(iv.p95_interval_ms),
    p99_interval_ms: ms(iv.p99_interval_ms),
    max_interval_ms: long(s.max_gap_s * 1000),
    abnormal_gaps_count: long(s.gap_buckets['2_5'] + s.gap_buckets['6_15'] + s.gap_buckets['16_30']),
    critical_gaps_count: long(s.gap_buckets.gt_30),
    largest_gap_duration_ms: long(s.max_gap_s * 1000),
    schedule_hash: ctx.schedule_hash,
    updated_at: ctx.updated_at,
    ts: dayTsMicros(ctx.trading_day),
  });
}

/** One `ghtrader_field_quality_v2` row. */
export function fieldQualityRow(ctx: Omit<RowContext, 'schedule_hash'>, fq: FieldQuality): Row {
  const row: Record<string, CellValue> = {
    symbol: ctx.symbol,
    trading_day: ctx.trading_day,
    ticks_kind: 'main_l5',
    dataset_version: DATASET_VERSION,
    rows_total: long(fq.rows_total),
    bid_price1_null_rate: fq.bid_price1_null_rate,
    ask_price1_null_rate: fq.ask_price1_null_rate,
    last_price_null_rate: fq.last_price_null_rate,
    volume_null_rate: fq.volume_null_rate,
    open_interest_null_rate: fq.open_interest_null_rate,
    l5_fields_null_rate: fq.l5_fields_null_rate,
    price_jump_outliers: long(fq.price_jump_outliers),
    volume_spike_outliers: long(fq.volume_spike_outliers),
    spread_anomaly_outliers: long(fq.spread_anomaly_outliers),
  };
  for (const k of INVARIANT_CHECKS) {
    row[`${k}_violations`] = long(fq.invariants[k].violations);
    row[`${k}_rate`] = fq.invariants[k].rate;
  }
  row.updated_at = ctx.updated_at;
  row.ts = dayTsMicros(ctx.trading_day);
  return assertRowShape(TABLES.fieldQuality, row);
}
