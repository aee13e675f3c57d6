import { describe, expect, it } from 'vitest';
import { TABLES, TICK_NUMERIC_COLUMNS } from '#shared/domain/data/tick-columns.ts';
import {
  computeDayStats,
  computeFieldQuality,
  fieldQualityRow,
  gapRows,
  markSegments,
  secondCountsFrom,
  summaryRow,
  tickGapRow,
} from '#shared/domain/data/validation/index.ts';

const CTX = { symbol: 'KQ.m@SHFE.cu', trading_day: '2025-01-13', schedule_hash: 'f25225a1507bb808', updated_at: 5n };
const T0 = 1_736_730_000; // 2025-01-13 09:00:00 CST

function stats() {
  // Window 0..100 s after T0, ticks at +1, +40 and +95..+99 → gaps 2..39 (38 s) and 41..94 (54 s), threshold 5.
  return computeDayStats(
    [{ session: 'day', start_s: T0, end_s: T0 + 100 }],
    secondCountsFrom([[T0 + 1, 1], [T0 + 40, 1], ...[95, 96, 97, 98, 99].map((s): [number, number] => [T0 + s, 1])]),
    { strictRatio: 0.8, gapThresholdS: 5, maxSegmentsPerDay: 200 },
  );
}

const names = (t: { columns: readonly { name: string }[] }) => t.columns.map((c) => c.name).sort();

describe('validation rows (§1.2, §6.6)', () => {
  it('summary row: exactly the catalogue columns, typed, ts = trading day 00:00 UTC in µs', () => {
    // Act
    const row = summaryRow(CTX, stats());

    // Assess
    expect(Object.keys(row).sort()).toEqual(names(TABLES.validateSummary));
    expect(row.ts).toBe(BigInt(Date.parse('2025-01-13T00:00:00Z')) * 1000n);
    expect(row.expected_seconds).toBe(101n);
    expect(row.missing_day).toBe(0n);
    expect(row.gap_bucket_gt_30).toBe(2n);
    expect(row.max_gap_s).toBe(54n);
    expect(row.last_tick_ts).toBe(BigInt(T0 + 99) * 1_000_000n);
    expect(row.session_end_lag_s).toBe(1n);
    expect(row.gap_threshold_s).toBe(5);
    expect(row.cadence_mode).toBe('event');
  });

  it('gap rows: ts = gap start, µs bounds, status unchecked', () => {
    // Act
    const rows = gapRows(CTX, stats().segments);

    // Assess
    expect(rows).toHaveLength(2);
    const first = rows[0] ?? {};
    expect(Object.keys(first).sort()).toEqual(names(TABLES.validateGaps));
    expect(first).toMatchObject({
      session: 'day',
      start_ts: BigInt(T0 + 2) * 1_000_000n,
      end_ts: BigInt(T0 + 39) * 1_000_000n,
      ts: BigInt(T0 + 2) * 1_000_000n,
      duration_s: 38n,
      tqsdk_status: 'unchecked',
    });
  });

  it('tick-gap row from the summary (§6.6 step 3)', () => {
    // Prepare
    const s = stats();

    // Act
    const row = tickGapRow(CTX, s, { median_interval_ms: 1000, p95_interval_ms: 39_000, p99_interval_ms: null });

    // Assess
    expect(Object.keys(row).sort()).toEqual(names(TABLES.tickGaps));
    expect(row).toMatchObject({
      ticks_kind: 'main_l5',
      dataset_version: 'v2',
      tick_count_actual: BigInt(s.seconds_with_ticks),
      tick_count_expected_max: 101n,
      tick_count_expected_min: BigInt(101 - s.missing_seconds),
      max_interval_ms: 54_000n,
      largest_gap_duration_ms: 54_000n,
      abnormal_gaps_count: 0n,
      critical_gaps_count: 2n,
      median_interval_ms: 1000n,
      p99_interval_ms: null,
    });
  });

  it('field-quality row carries every check column', () => {
    // Act
    const cols = TICK_NUMERIC_COLUMNS.map(() => new Float64Array(3).fill(1));
    const row = fieldQualityRow(CTX, computeFieldQuality(cols, 3));

    // Assess
    expect(Object.keys(row).sort()).toEqual(names(TABLES.fieldQuality));
    expect(row.rows_total).toBe(3n);
    expect(row.bid_ask_cross_violations).toBe(3n);
    expect(row.bid_ask_cross_rate).toBe(1);
  });
});

describe('markSegments (provider check)', () => {
  it('marks a segment provider_has_data iff a tick lies in [start, end + 1 s), up to the limit', () => {
    // Prepare
    const segs = [
      { session: 'day' as const, start_s: 10, end_s: 12, duration_s: 3, tqsdk_status: 'unchecked' as const },
      { session: 'day' as const, start_s: 20, end_s: 22, duration_s: 3, tqsdk_status: 'unchecked' as const },
      { session: 'day' as const, start_s: 30, end_s: 32, duration_s: 3, tqsdk_status: 'unchecked' as const },
    ];
    const ticks = [12_999_999_999n, 23_000_000_000n, 9_999_999_999n];

    // Act
    const r = markSegments(segs, ticks, 2);

    // Assess
    expect(r).toEqual({ checked: 2, provider_missing: 1, provider_has_data: 1 });
    expect(segs.map((s) => s.tqsdk_status)).toEqual(['provider_has_data', 'provider_missing', 'unchecked']);
  });
});
