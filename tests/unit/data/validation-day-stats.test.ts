import { describe, expect, it } from 'vitest';
import {
  computeDayStats,
  type DayStatsOptions,
  inSessionIntervals,
  secondCounts,
  secondCountsFrom,
  tickTimes,
  type WindowSeconds,
} from '#shared/domain/data/validation/index.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { parseCst, sessionWindows } from '#shared/domain/market/sessions.ts';

const EVENT: DayStatsOptions = { strictRatio: 0.8, gapThresholdS: 5, maxSegmentsPerDay: 200 };
const W05: WindowSeconds[] = [{ session: 'day', start_s: 0, end_s: 5 }];

describe('computeDayStats (§6.3, acceptance item 14)', () => {
  it('window 0..5 with ticks at 1 and 4, event mode, threshold 5', () => {
    // Act
    const s = computeDayStats(
      W05,
      secondCountsFrom([
        [1, 1],
        [4, 1],
      ]),
      EVENT,
    );

    // Assess
    expect(s.cadence_mode).toBe('event');
    expect(s.expected_seconds).toBe(6);
    expect(s.expected_seconds_strict).toBe(4);
    expect(s.missing_seconds).toBe(2);
    expect(s.missing_segments).toBe(0);
    expect(s.gap_buckets['2_5']).toBe(0);
    expect(s.observed_segments).toBe(1);
    expect(s.total_segments).toBe(1);
    expect(s.session_end_lag_s).toBe(1);
    expect(s.max_gap_s).toBe(2);
    expect(s.boundary_missing_seconds).toBe(2);
    expect(s.missing_half_seconds).toBe(0);
  });

  it('two ticks in each of those seconds, threshold 2, fixed mode: 2 missing halves and one 2_5 segment 2..3', () => {
    // Act
    const s = computeDayStats(
      W05,
      secondCountsFrom([
        [1, 2],
        [4, 2],
      ]),
      { ...EVENT, gapThresholdS: 2 },
    );

    // Assess
    expect(s.cadence_mode).toBe('fixed_0p5s');
    expect(s.two_plus_ratio).toBe(1);
    expect(s.missing_half_seconds).toBe(2);
    expect(s.missing_segments).toBe(1);
    expect(s.gap_buckets).toEqual({ '2_5': 1, '6_15': 0, '16_30': 0, gt_30: 0 });
    expect(s.gap_buckets_by_session.day?.['2_5']).toBe(1);
    expect(s.segments).toEqual([{ session: 'day', start_s: 2, end_s: 3, duration_s: 2, tqsdk_status: 'unchecked' }]);
    expect(s.observed_segments).toBe(2);
    expect(s.total_segments).toBe(3);
  });

  it('session 09:00:00–09:00:05 (item 15): ratio 0.5 and no segments; a day-session threshold 10 overrides a global 2', () => {
    // Prepare
    const t0 = Number(parseCst('2025-01-13 09:00:00') / 1_000_000_000n);
    const win: WindowSeconds[] = [{ session: 'day', start_s: t0, end_s: t0 + 5 }];
    const counts = secondCountsFrom([
      [t0 + 1, 1],
      [t0 + 4, 1],
    ]);

    // Act
    const event = computeDayStats(win, counts, EVENT);
    const global2 = computeDayStats(win, counts, { ...EVENT, gapThresholdS: 2 });
    const daySession10 = computeDayStats(win, counts, {
      ...EVENT,
      gapThresholdS: 2,
      gapThresholdBySession: { day: 10 },
    });

    // Assess
    expect(event.missing_seconds_ratio).toBe(0.5);
    expect(event.missing_segments).toBe(0);
    expect(global2.missing_segments).toBe(1);
    expect(daySession10.missing_segments).toBe(0);
    expect(daySession10.gap_threshold_s).toBe(2);
  });

  it('counts leading, trailing and whole-window gaps, buckets by duration and gt_30 only above 30 s', () => {
    // Prepare: window 0..100 (strict 1..99), ticks at 40 and 70 → leading 1..39 (39 s), internal 41..69 (29 s),
    // trailing 71..99 (29 s); an empty second window 200..210 (strict 201..209, 9 s).
    const windows: WindowSeconds[] = [
      { session: 'night', start_s: 0, end_s: 100 },
      { session: 'day', start_s: 200, end_s: 210 },
    ];

    // Act
    const s = computeDayStats(
      windows,
      secondCountsFrom([
        [40, 1],
        [70, 1],
      ]),
      EVENT,
    );

    // Assess
    expect(s.missing_segments).toBe(4);
    expect(s.gap_buckets).toEqual({ '2_5': 0, '6_15': 1, '16_30': 2, gt_30: 1 });
    expect(s.gap_buckets_by_session).toEqual({
      night: { '2_5': 0, '6_15': 0, '16_30': 2, gt_30: 1 },
      day: { '2_5': 0, '6_15': 1, '16_30': 0, gt_30: 0 },
    });
    expect(s.gap_count_gt_30).toBe(1);
    expect(s.max_gap_s).toBe(39);
    expect(s.observed_segments).toBe(2);
    expect(s.session_end_lag_s).toBe(210 - 70);
    expect(s.missing_day).toBe(false);
  });

  it('a day without in-session ticks is a missing day; ticks outside every window count as outside seconds', () => {
    // Act
    const s = computeDayStats(
      W05,
      secondCountsFrom([
        [-10, 3],
        [9, 1],
      ]),
      EVENT,
    );

    // Assess
    expect(s.missing_day).toBe(true);
    expect(s.ticks_outside_sessions_seconds).toBe(2);
    expect(s.last_tick_s).toBeNull();
    expect(s.session_end_lag_s).toBeNull();
  });

  it('caps the listed segments at maxSegmentsPerDay but counts them all', () => {
    // Prepare: ticks every 3rd second → 2-s gaps.
    const pairs: [number, number][] = [];
    for (let s = 1; s < 100; s += 3) pairs.push([s, 1]);

    // Act
    const s = computeDayStats([{ session: 'day', start_s: 0, end_s: 100 }], secondCountsFrom(pairs), {
      ...EVENT,
      gapThresholdS: 2,
      maxSegmentsPerDay: 10,
    });

    // Assess
    expect(s.missing_segments).toBe(33);
    expect(s.segments).toHaveLength(10);
  });

  it('Monday validated alone keeps Friday night (item 5): Friday-night ticks are in session', () => {
    // Prepare
    const cal = shippedCalendar();
    const windows = sessionWindows(cal, '2025-01-13', 'cu');
    const ns = new BigInt64Array([
      parseCst('2025-01-10 21:00:00.000'),
      parseCst('2025-01-10 21:00:00.500'),
      parseCst('2025-01-11 00:59:59.900'),
      parseCst('2025-01-13 09:30:00'),
    ]);

    // Act
    const s = computeDayStats(windows, secondCounts(tickTimes(ns).secs), EVENT);

    // Assess
    expect(s.ticks_outside_sessions_seconds).toBe(0);
    expect(s.observed_seconds_in_sessions).toBe(3);
  });
});

describe('tickTimes / secondCounts', () => {
  it('floors exactly at second boundaries, also before 1970 and far from the first tick', () => {
    // Prepare
    const ns = new BigInt64Array([
      1_736_470_800_999_999_999n,
      1_736_470_801_000_000_000n,
      1_736_470_800_000_000_000n + 200n * 86_400_000_000_000n + 999_999_999n,
      -1n,
    ]);

    // Act
    const t = tickTimes(ns);

    // Assess
    expect([...t.secs]).toEqual([1_736_470_800, 1_736_470_801, 1_736_470_800 + 200 * 86_400, -1]);
    expect(t.relNs[1]).toBe(1_000_000_000);
  });

  it('groups per second and honours the row mask', () => {
    // Prepare
    const secs = new Float64Array([5, 5, 6, 8, 8, 8]);

    // Act
    const all = secondCounts(secs);
    const masked = secondCounts(secs, new Uint8Array([1, 0, 1, 1, 1, 0]));

    // Assess
    expect([...all.secs]).toEqual([5, 6, 8]);
    expect([...all.counts]).toEqual([2, 1, 3]);
    expect([...masked.counts]).toEqual([1, 1, 2]);
  });
});

describe('inSessionIntervals', () => {
  it('takes intervals between consecutive ticks of one window only, with rank percentiles', () => {
    // Prepare: window A 0..10 with ticks at 1.0, 1.5, 3.5; window B 20..30 with ticks at 21.0, 21.25; one outside.
    const ns = new BigInt64Array([
      1_000_000_000n,
      1_500_000_000n,
      3_500_000_000n,
      15_000_000_000n,
      21_000_000_000n,
      21_250_000_000n,
    ]);
    const t = tickTimes(ns);
    const windows: WindowSeconds[] = [
      { session: 'night', start_s: 0, end_s: 10 },
      { session: 'day', start_s: 20, end_s: 30 },
    ];

    // Act
    const iv = inSessionIntervals(t.secs, t.relNs, null, windows);

    // Assess: intervals [500, 2000, 250] → sorted [250, 500, 2000].
    expect(iv.intervals).toBe(3);
    expect(iv.median_interval_ms).toBe(500);
    expect(iv.p95_interval_ms).toBe(500);
    expect(iv.p99_interval_ms).toBe(500);
    expect(iv.max_tick_interval_ms).toBe(2000);
  });
});
