/**
 * Per-day validation statistics (data-chain §6.3): expected / strict seconds of D's session windows, cadence
 * (`fixed_0p5s` vs `event`), missing seconds and half-seconds, gaps and segments with their buckets, outside-session
 * seconds, session-end lag, and the in-session tick-interval percentiles the tick-gap rows carry (§6.6 step 3).
 * Pure: windows come from `sessionWindows` (§3.3), counts from `secondCounts`.
 */
import type { SessionWindow } from '../../market/sessions.ts';
import { selectRanks } from './select.ts';
import type { SecondCounts } from './tick-times.ts';

export type Session = 'day' | 'night';
export type CadenceMode = 'fixed_0p5s' | 'event';
export type GapStatus = 'unchecked' | 'provider_missing' | 'provider_has_data';

/** The bounds of a window as validation needs them (a `SessionWindow` fits). */
export type WindowSeconds = Pick<SessionWindow, 'session' | 'start_s' | 'end_s'>;

export const GAP_BUCKETS = ['2_5', '6_15', '16_30', 'gt_30'] as const;
export type GapBucket = (typeof GAP_BUCKETS)[number];
export type GapBuckets = Record<GapBucket, number>;

export function emptyBuckets(): GapBuckets {
  return { '2_5': 0, '6_15': 0, '16_30': 0, gt_30: 0 };
}

/** `2_5` = 2–5 s, `6_15`, `16_30`, `gt_30` = ≥ 31 s; a 1-s segment gets no bucket. */
export function bucketOf(durationS: number): GapBucket | null {
  if (durationS >= 31) return 'gt_30';
  if (durationS >= 16) return '16_30';
  if (durationS >= 6) return '6_15';
  if (durationS >= 2) return '2_5';
  return null;
}

/** One missing segment (a gap ≥ its session's threshold), whole seconds, inclusive bounds. */
export interface GapSegment {
  session: Session;
  start_s: number;
  end_s: number;
  duration_s: number;
  tqsdk_status: GapStatus;
}

export interface DayStatsOptions {
  /** `two_plus_ratio ≥ strictRatio` ⇒ `fixed_0p5s`. */
  readonly strictRatio: number;
  /** Global gap threshold (s). */
  readonly gapThresholdS: number;
  /** Per-session overrides of the threshold. */
  readonly gapThresholdBySession?: Readonly<Partial<Record<Session, number>>>;
  /** Segments listed per day (all are counted). */
  readonly maxSegmentsPerDay: number;
}

export interface DayStats {
  expected_seconds: number;
  expected_seconds_strict: number;
  /** Distinct in-session seconds with ticks (boundary seconds included). */
  observed_seconds_in_sessions: number;
  ticks_outside_sessions_seconds: number;
  /** Non-boundary in-session seconds with exactly one tick / two or more. */
  seconds_with_one: number;
  seconds_with_two_plus: number;
  /** `seconds_with_one + seconds_with_two_plus`. */
  seconds_with_ticks: number;
  two_plus_ratio: number;
  cadence_mode: CadenceMode;
  missing_day: boolean;
  missing_seconds: number;
  missing_seconds_ratio: number;
  /** Strict seconds without two ticks; 0 unless `fixed_0p5s`. */
  missing_half_seconds: number;
  boundary_missing_seconds: number;
  /** Gaps ≥ threshold (all of them, also those not listed). */
  missing_segments: number;
  /** Listed segments, at most `maxSegmentsPerDay`, in window then time order. */
  segments: GapSegment[];
  observed_segments: number;
  total_segments: number;
  max_gap_s: number;
  gap_buckets: GapBuckets;
  gap_buckets_by_session: Partial<Record<Session, GapBuckets>>;
  gap_count_gt_30: number;
  /** Last tick second inside a window; null when no in-window tick. */
  last_tick_s: number | null;
  /** Max window end; null when the day has no windows. */
  session_end_s: number | null;
  session_end_lag_s: number | null;
  /** The global threshold in effect (the summary's `gap_threshold_s`). */
  gap_threshold_s: number;
}

/** First index with `secs[i] ≥ x`. */
function lowerBound(secs: Float64Array, x: number, from = 0): number {
  let lo = from;
  let hi = secs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((secs[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * §6.3 for one trading day. `windows` are D's session windows (any order); `counts` the per-second tick counts of
 * the dataset's L5 rows. A day without windows returns zeros (callers skip such days).
 */
export function computeDayStats(
  windows: readonly WindowSeconds[],
  counts: SecondCounts,
  opts: DayStatsOptions,
): DayStats {
  const ws = [...windows].sort((a, b) => a.start_s - b.start_s || a.end_s - b.end_s);
  const { secs, counts: cnt } = counts;
  const n = secs.length;
  const globalThreshold = Math.max(0.5, opts.gapThresholdS);
  const thresholdOf = (s: Session): number => {
    const v = opts.gapThresholdBySession?.[s];
    return v === undefined || Number.isNaN(v) ? globalThreshold : Math.max(0.5, v);
  };

  let expected = 0;
  let expectedStrict = 0;
  let boundaryMissing = 0;
  let one = 0;
  let twoPlus = 0;
  let lastTick: number | null = null;
  let sessionEnd: number | null = null;

  // Distinct seconds inside any window (a second inside two overlapping windows counts once).
  let inSession = 0;
  {
    let wi = 0;
    for (let i = 0; i < n; i++) {
      const s = secs[i] as number;
      while (wi < ws.length && s > (ws[wi] as WindowSeconds).end_s) wi++;
      let inside = false;
      for (let k = wi; k < ws.length && (ws[k] as WindowSeconds).start_s <= s; k++) {
        if (s <= (ws[k] as WindowSeconds).end_s) {
          inside = true;
          break;
        }
      }
      if (inside) {
        inSession++;
        lastTick = s;
      }
    }
  }

  const countAt = (s: number): number => {
    const i = lowerBound(secs, s);
    return i < n && secs[i] === s ? (cnt[i] as number) : 0;
  };

  for (const w of ws) {
    expected += w.end_s - w.start_s + 1;
    sessionEnd = sessionEnd === null ? w.end_s : Math.max(sessionEnd, w.end_s);
    if (countAt(w.start_s) === 0) boundaryMissing++;
    if (countAt(w.end_s) === 0) boundaryMissing++;
    const s0 = w.start_s + 1;
    const e0 = w.end_s - 1;
    if (e0 < s0) continue;
    expectedStrict += e0 - s0 + 1;
    const lo = lowerBound(secs, s0);
    const hi = lowerBound(secs, e0 + 1, lo);
    for (let i = lo; i < hi; i++) {
      if ((cnt[i] as number) >= 2) twoPlus++;
      else one++;
    }
  }

  const withTicks = one + twoPlus;
  const twoPlusRatio = withTicks > 0 ? twoPlus / withTicks : 0;
  const cadence: CadenceMode = twoPlusRatio >= opts.strictRatio ? 'fixed_0p5s' : 'event';

  let missingSeconds = 0;
  let missingHalf = 0;
  let missingSegments = 0;
  let maxGap = 0;
  let observedSegments = 0;
  let gt30 = 0;
  const segments: GapSegment[] = [];
  const buckets = emptyBuckets();
  const bySession: Partial<Record<Session, GapBuckets>> = {};

  const recordGap = (session: Session, a: number, b: number): void => {
    if (b < a) return;
    const duration = b - a + 1;
    if (duration > maxGap) maxGap = duration;
    if (duration < thresholdOf(session)) return;
    missingSegments++;
    const bucket = bucketOf(duration);
    if (bucket !== null) {
      buckets[bucket]++;
      const sb = bySession[session] ?? emptyBuckets();
      sb[bucket]++;
      bySession[session] = sb;
    }
    if (duration > 30) gt30++;
    if (segments.length < opts.maxSegmentsPerDay) {
      segments.push({ session, start_s: a, end_s: b, duration_s: duration, tqsdk_status: 'unchecked' });
    }
  };

  for (const w of ws) {
    const s0 = w.start_s + 1;
    const e0 = w.end_s - 1;
    if (e0 < s0) continue;
    const lo = lowerBound(secs, s0);
    const hi = lowerBound(secs, e0 + 1, lo);
    const strictLen = e0 - s0 + 1;
    missingSeconds += strictLen - (hi - lo);
    if (cadence === 'fixed_0p5s') {
      let withTwo = 0;
      for (let i = lo; i < hi; i++) if ((cnt[i] as number) >= 2) withTwo++;
      missingHalf += strictLen - withTwo;
    }
    if (hi === lo) {
      recordGap(w.session, s0, e0);
      continue;
    }
    const threshold = thresholdOf(w.session);
    let windowSegments = 1;
    const first = secs[lo] as number;
    if (first > s0) recordGap(w.session, s0, first - 1);
    for (let i = lo + 1; i < hi; i++) {
      const a = secs[i - 1] as number;
      const b = secs[i] as number;
      if (b - a > 1) {
        if (b - a - 1 >= threshold) windowSegments++;
        recordGap(w.session, a + 1, b - 1);
      }
    }
    const last = secs[hi - 1] as number;
    if (last < e0) recordGap(w.session, last + 1, e0);
    observedSegments += windowSegments;
  }

  return {
    expected_seconds: expected,
    expected_seconds_strict: expectedStrict,
    observed_seconds_in_sessions: inSession,
    ticks_outside_sessions_seconds: n - inSession,
    seconds_with_one: one,
    seconds_with_two_plus: twoPlus,
    seconds_with_ticks: withTicks,
    two_plus_ratio: twoPlusRatio,
    cadence_mode: cadence,
    missing_day: inSession === 0 && expected > 0,
    missing_seconds: missingSeconds,
    missing_seconds_ratio: expectedStrict > 0 ? missingSeconds / expectedStrict : 0,
    missing_half_seconds: missingHalf,
    boundary_missing_seconds: boundaryMissing,
    missing_segments: missingSegments,
    segments,
    observed_segments: observedSegments,
    total_segments: observedSegments + missingSegments,
    max_gap_s: maxGap,
    gap_buckets: buckets,
    gap_buckets_by_session: bySession,
    gap_count_gt_30: gt30,
    last_tick_s: lastTick,
    session_end_s: sessionEnd,
    session_end_lag_s: sessionEnd !== null && lastTick !== null ? Math.max(0, sessionEnd - lastTick) : null,
    gap_threshold_s: globalThreshold,
  };
}

/** In-session tick-interval statistics of one day (§6.6 step 3), integer milliseconds; null when < 2 ticks. */
export interface IntervalStats {
  median_interval_ms: number | null;
  p95_interval_ms: number | null;
  p99_interval_ms: number | null;
  /** Largest interval between consecutive in-session ticks of one window. */
  max_tick_interval_ms: number | null;
  intervals: number;
}

/** The rank rule of the timeliness percentiles (§6.3): the q-th of n sorted values is `sorted[int(q·(n−1))]`. */
export function percentileRank(n: number, q: number): number {
  return Math.floor(q * (n - 1));
}

/**
 * Intervals between consecutive ticks that lie in the same session window (a break between windows is not an
 * interval), from per-tick seconds and relative ns (`tickTimes`), for the ticks selected by `mask`. Ticks must be
 * ascending in time (as `readTickDay` returns them).
 */
export function inSessionIntervals(
  secsPerTick: Float64Array,
  relNs: Float64Array,
  mask: Uint8Array | null,
  windows: readonly WindowSeconds[],
): IntervalStats {
  const ws = [...windows].sort((a, b) => a.start_s - b.start_s || a.end_s - b.end_s);
  const n = secsPerTick.length;
  const out = new Float64Array(Math.max(0, n - 1));
  let k = 0;
  let wi = 0;
  let prevWindow = -1;
  let prevNs = 0;
  for (let i = 0; i < n; i++) {
    if (mask !== null && mask[i] !== 1) continue;
    const s = secsPerTick[i] as number;
    while (wi < ws.length && s > (ws[wi] as WindowSeconds).end_s) wi++;
    const inWindow = wi < ws.length && s >= (ws[wi] as WindowSeconds).start_s ? wi : -1;
    if (inWindow < 0) continue;
    const ns = relNs[i] as number;
    if (inWindow === prevWindow) out[k++] = Math.floor((ns - prevNs) / 1e6);
    prevWindow = inWindow;
    prevNs = ns;
  }
  if (k === 0) {
    return {
      median_interval_ms: null,
      p95_interval_ms: null,
      p99_interval_ms: null,
      max_tick_interval_ms: null,
      intervals: 0,
    };
  }
  // The percentile ranks, found by selection (no sort); the maximum lies right of the last rank.
  const iv = out.subarray(0, k);
  const ranks = [0.5, 0.95, 0.99].map((q) => percentileRank(k, q));
  const [p50, p95, p99] = selectRanks(iv, ranks) as [number, number, number];
  let max = p99;
  for (let i = (ranks[2] as number) + 1; i < k; i++) if ((iv[i] as number) > max) max = iv[i] as number;
  return {
    median_interval_ms: p50,
    p95_interval_ms: p95,
    p99_interval_ms: p99,
    max_tick_interval_ms: max,
    intervals: k,
  };
}
