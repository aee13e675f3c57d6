/**
 * Totals over the validated days and the report body of data-chain §6.5: every §6.3 counter as a total (and by
 * session where it applies), ratios, timeliness, session/event bookkeeping, field-quality totals, provider-check
 * attribution and the `issues` list. Pure: the service feeds one `DayResult` per validated day.
 */
import {
  type DayStats,
  emptyBuckets,
  GAP_BUCKETS,
  type GapBuckets,
  type GapSegment,
  type Session,
} from './day-stats.ts';
import {
  type FieldQuality,
  type FieldQualityTotals,
  fieldQualityTotals,
  invariantViolations,
} from './field-quality.ts';
import type { ValidationPolicy } from './policy.ts';
import { evaluateStates, type ValidationStates } from './states.ts';

export type ProviderInference = 'provider_empty_day' | 'unknown_partial' | 'unknown';

export interface DayResult {
  trading_day: string;
  underlying_contract: string;
  stats: DayStats;
  field_quality: FieldQuality;
  /** Ids of exchange events that shaped the day's windows (§3.3). */
  applied_events: readonly string[];
  /** The night was dropped because a weekday holiday precedes the day. */
  holiday_night_skipped: boolean;
  provider_inference: ProviderInference;
}

/** `provider_inference` from the day's main_l5 build outcome class (§6.3). */
export function providerInference(outcomeClass: string | undefined): ProviderInference {
  if (outcomeClass === 'provider_missing') return 'provider_empty_day';
  if (outcomeClass === 'written') return 'unknown_partial';
  return 'unknown';
}

export interface ProviderCheckSummary {
  enabled: boolean;
  /** Why the check could not run at all (not counted as an error). */
  error: string | null;
  max_days: number;
  max_segments: number;
  checked_days: number;
  checked_segments: number;
  provider_missing_segments: number;
  provider_has_data_segments: number;
  errors: number;
  error_samples: { trading_day: string; error: string }[];
}

export function emptyProviderCheck(enabled: boolean, maxDays: number, maxSegments: number): ProviderCheckSummary {
  return {
    enabled,
    error: null,
    max_days: maxDays,
    max_segments: maxSegments,
    checked_days: 0,
    checked_segments: 0,
    provider_missing_segments: 0,
    provider_has_data_segments: 0,
    errors: 0,
    error_samples: [],
  };
}

/** A day listed in `issues`. */
export interface IssueDay {
  trading_day: string;
  underlying_contract: string;
  cadence_mode: string;
  two_plus_ratio: number;
  expected_seconds: number;
  expected_seconds_strict: number;
  observed_seconds: number;
  missing_day: boolean;
  missing_seconds: number;
  missing_seconds_ratio: number;
  missing_half_seconds: number;
  boundary_missing_seconds: number;
  ticks_outside_sessions_seconds: number;
  missing_segments_total: number;
  max_gap_s: number;
  gap_buckets: GapBuckets;
  gap_count_gt_30s: number;
  session_end_lag_s: number | null;
  provider_inference: ProviderInference;
  missing_segments: GapSegment[];
  missing_segments_sample?: GapSegment[];
  missing_segments_sampled?: number;
  missing_segments_truncated: boolean;
}

const SAMPLE = 20;

/** Accumulates day results; `report()` evaluates §6.5 and returns the report body. */
export class ValidationTotals {
  checked_days = 0;
  readonly missing_days: string[] = [];
  missing_segments_total = 0;
  missing_seconds_total = 0;
  missing_half_seconds_total = 0;
  boundary_missing_seconds_total = 0;
  ticks_outside_sessions_seconds_total = 0;
  seconds_with_ticks_total = 0;
  seconds_with_one_tick_total = 0;
  seconds_with_two_plus_total = 0;
  observed_seconds_in_sessions_total = 0;
  expected_seconds_total = 0;
  expected_seconds_strict_total = 0;
  expected_seconds_strict_fixed_total = 0;
  fixed_days = 0;
  event_days = 0;
  max_gap_s = 0;
  gap_count_gt_30s = 0;
  observed_segments_total = 0;
  total_segments = 0;
  readonly gap_buckets_total: GapBuckets = emptyBuckets();
  readonly gap_buckets_by_session_total: Partial<Record<Session, GapBuckets>> = {};
  readonly session_end_lags: number[] = [];
  readonly holiday_night_skipped: string[] = [];
  readonly exchange_events_used: { trading_day: string; id: string }[] = [];
  readonly event_override_days: string[] = [];
  readonly field_quality: FieldQuality[] = [];
  readonly issues: IssueDay[] = [];
  readonly inference_counts: Record<ProviderInference, number> = {
    provider_empty_day: 0,
    unknown_partial: 0,
    unknown: 0,
  };

  add(d: DayResult): void {
    const s = d.stats;
    this.checked_days++;
    if (s.missing_day) this.missing_days.push(d.trading_day);
    this.missing_segments_total += s.missing_segments;
    this.missing_seconds_total += s.missing_seconds;
    this.missing_half_seconds_total += s.missing_half_seconds;
    this.boundary_missing_seconds_total += s.boundary_missing_seconds;
    this.ticks_outside_sessions_seconds_total += s.ticks_outside_sessions_seconds;
    this.seconds_with_ticks_total += s.seconds_with_ticks;
    this.seconds_with_one_tick_total += s.seconds_with_one;
    this.seconds_with_two_plus_total += s.seconds_with_two_plus;
    this.observed_seconds_in_sessions_total += s.observed_seconds_in_sessions;
    this.expected_seconds_total += s.expected_seconds;
    this.expected_seconds_strict_total += s.expected_seconds_strict;
    if (s.cadence_mode === 'fixed_0p5s') {
      this.fixed_days++;
      this.expected_seconds_strict_fixed_total += s.expected_seconds_strict;
    } else this.event_days++;
    this.max_gap_s = Math.max(this.max_gap_s, s.max_gap_s);
    this.gap_count_gt_30s += s.gap_count_gt_30;
    this.observed_segments_total += s.observed_segments;
    this.total_segments += s.total_segments;
    for (const b of GAP_BUCKETS) this.gap_buckets_total[b] += s.gap_buckets[b];
    for (const [session, buckets] of Object.entries(s.gap_buckets_by_session) as [Session, GapBuckets][]) {
      const t = this.gap_buckets_by_session_total[session] ?? emptyBuckets();
      for (const b of GAP_BUCKETS) t[b] += buckets[b];
      this.gap_buckets_by_session_total[session] = t;
    }
    if (s.session_end_lag_s !== null) this.session_end_lags.push(s.session_end_lag_s);
    if (d.holiday_night_skipped) this.holiday_night_skipped.push(d.trading_day);
    if (d.applied_events.length > 0) {
      this.event_override_days.push(d.trading_day);
      for (const id of d.applied_events) this.exchange_events_used.push({ trading_day: d.trading_day, id });
    }
    this.field_quality.push(d.field_quality);
    this.inference_counts[d.provider_inference]++;

    const hasHalf = s.missing_half_seconds > 0 && s.cadence_mode === 'fixed_0p5s';
    if (s.missing_segments > 0 || hasHalf || s.ticks_outside_sessions_seconds > 0 || s.missing_day) {
      this.issues.push({
        trading_day: d.trading_day,
        underlying_contract: d.underlying_contract,
        cadence_mode: s.cadence_mode,
        two_plus_ratio: s.two_plus_ratio,
        expected_seconds: s.expected_seconds,
        expected_seconds_strict: s.expected_seconds_strict,
        observed_seconds: s.observed_seconds_in_sessions,
        missing_day: s.missing_day,
        missing_seconds: s.missing_seconds,
        missing_seconds_ratio: s.missing_seconds_ratio,
        missing_half_seconds: s.missing_half_seconds,
        boundary_missing_seconds: s.boundary_missing_seconds,
        ticks_outside_sessions_seconds: s.ticks_outside_sessions_seconds,
        missing_segments_total: s.missing_segments,
        max_gap_s: s.max_gap_s,
        gap_buckets: { ...s.gap_buckets },
        gap_count_gt_30s: s.gap_count_gt_30,
        session_end_lag_s: s.session_end_lag_s,
        provider_inference: d.provider_inference,
        missing_segments: s.segments.map((g) => ({ ...g })),
        missing_segments_truncated: s.missing_segments > s.segments.length,
      });
    }
  }

  /** §6.5 states plus every total of the report. */
  report(policy: ValidationPolicy, provider: ProviderCheckSummary): ValidationSummary {
    const fq = fieldQualityTotals(this.field_quality, this.gap_count_gt_30s);
    const states = evaluateStates(
      {
        checked_days: this.checked_days,
        missing_days: this.missing_days.length,
        missing_segments_total: this.missing_segments_total,
        gap_count_gt_30_total: this.gap_count_gt_30s,
        ticks_outside_sessions_seconds_total: this.ticks_outside_sessions_seconds_total,
        missing_half_seconds_total: this.missing_half_seconds_total,
        expected_seconds_strict_fixed_total: this.expected_seconds_strict_fixed_total,
        invariant_violations_total: this.field_quality.reduce((k, d) => k + invariantViolations(d), 0),
        rows_total: fq.rows_total,
        provider_check_errors: provider.errors,
        provider_missing_segments: provider.provider_missing_segments,
      },
      policy,
    );
    const lags = [...this.session_end_lags].sort((a, b) => a - b);
    const issues = [...this.issues].sort(
      (a, b) =>
        b.missing_segments_total - a.missing_segments_total ||
        b.missing_half_seconds - a.missing_half_seconds ||
        b.ticks_outside_sessions_seconds - a.ticks_outside_sessions_seconds ||
        b.max_gap_s - a.max_gap_s ||
        (a.trading_day < b.trading_day ? -1 : a.trading_day > b.trading_day ? 1 : 0),
    );
    const kept = issues.slice(0, policy.report_max_days);
    if (!policy.report_include_segments) {
      for (const d of kept) {
        const sample = d.missing_segments.slice(0, policy.report_segments_sample);
        d.missing_segments_sample = sample;
        d.missing_segments_sampled = sample.length;
        d.missing_segments = [];
      }
    }
    const events = this.exchange_events_used;
    return {
      ...states,
      checked_days: this.checked_days,
      missing_days: this.missing_days.length,
      missing_days_sample: this.missing_days.slice(0, SAMPLE),
      missing_segments_total: this.missing_segments_total,
      missing_seconds_total: this.missing_seconds_total,
      missing_half_seconds_total: this.missing_half_seconds_total,
      boundary_missing_seconds_total: this.boundary_missing_seconds_total,
      ticks_outside_sessions_seconds_total: this.ticks_outside_sessions_seconds_total,
      seconds_with_ticks_total: this.seconds_with_ticks_total,
      seconds_with_one_tick_total: this.seconds_with_one_tick_total,
      seconds_with_two_plus_total: this.seconds_with_two_plus_total,
      observed_seconds_in_sessions_total: this.observed_seconds_in_sessions_total,
      expected_seconds_total: this.expected_seconds_total,
      expected_seconds_strict_total: this.expected_seconds_strict_total,
      expected_seconds_strict_fixed_total: this.expected_seconds_strict_fixed_total,
      missing_seconds_ratio:
        this.expected_seconds_strict_total > 0 ? this.missing_seconds_total / this.expected_seconds_strict_total : 0,
      cadence_mode: 'hybrid',
      fixed_days: this.fixed_days,
      event_days: this.event_days,
      two_plus_ratio:
        this.seconds_with_ticks_total > 0 ? this.seconds_with_two_plus_total / this.seconds_with_ticks_total : 0,
      max_gap_s: this.max_gap_s,
      gap_buckets_total: { ...this.gap_buckets_total },
      gap_buckets_by_session_total: structuredClone(this.gap_buckets_by_session_total),
      gap_count_gt_30s: this.gap_count_gt_30s,
      observed_segments_total: this.observed_segments_total,
      total_segments: this.total_segments,
      timeliness: {
        p95_lag_s: lags.length > 0 ? (lags[Math.floor(0.95 * (lags.length - 1))] as number) : null,
        max_lag_s: lags.length > 0 ? (lags[lags.length - 1] as number) : null,
        days_with_lag: lags.length,
      },
      holiday_night_skipped_days: this.holiday_night_skipped.length,
      holiday_night_skipped_sample: this.holiday_night_skipped.slice(0, SAMPLE),
      exchange_events_used: events.slice(0, policy.report_max_events),
      exchange_events_used_total: events.length,
      exchange_events_used_truncated: events.length > policy.report_max_events,
      event_override_days: this.event_override_days.length,
      event_override_days_sample: this.event_override_days.slice(0, SAMPLE),
      provider_check: provider,
      gap_attribution: {
        provider_missing: provider.provider_missing_segments,
        provider_has_data: provider.provider_has_data_segments,
        unchecked: Math.max(0, this.missing_segments_total - provider.checked_segments),
        provider_missing_pct:
          provider.checked_segments > 0
            ? Math.round((provider.provider_missing_segments / provider.checked_segments) * 1000) / 10
            : null,
      },
      provider_inference: { ...this.inference_counts },
      field_quality: fq,
      days_with_issues: issues.length,
      issues_total: issues.length,
      issues_truncated: issues.length > kept.length,
      issues: kept,
    };
  }
}

export interface ValidationSummary extends ValidationStates {
  checked_days: number;
  missing_days: number;
  missing_days_sample: string[];
  missing_segments_total: number;
  missing_seconds_total: number;
  missing_half_seconds_total: number;
  boundary_missing_seconds_total: number;
  ticks_outside_sessions_seconds_total: number;
  seconds_with_ticks_total: number;
  seconds_with_one_tick_total: number;
  seconds_with_two_plus_total: number;
  observed_seconds_in_sessions_total: number;
  expected_seconds_total: number;
  expected_seconds_strict_total: number;
  expected_seconds_strict_fixed_total: number;
  missing_seconds_ratio: number;
  cadence_mode: 'hybrid';
  fixed_days: number;
  event_days: number;
  two_plus_ratio: number;
  max_gap_s: number;
  gap_buckets_total: GapBuckets;
  gap_buckets_by_session_total: Partial<Record<Session, GapBuckets>>;
  gap_count_gt_30s: number;
  observed_segments_total: number;
  total_segments: number;
  timeliness: { p95_lag_s: number | null; max_lag_s: number | null; days_with_lag: number };
  holiday_night_skipped_days: number;
  holiday_night_skipped_sample: string[];
  exchange_events_used: { trading_day: string; id: string }[];
  exchange_events_used_total: number;
  exchange_events_used_truncated: boolean;
  event_override_days: number;
  event_override_days_sample: string[];
  provider_check: ProviderCheckSummary;
  gap_attribution: {
    provider_missing: number;
    provider_has_data: number;
    unchecked: number;
    provider_missing_pct: number | null;
  };
  provider_inference: Record<ProviderInference, number>;
  field_quality: FieldQualityTotals;
  days_with_issues: number;
  issues_total: number;
  issues_truncated: boolean;
  issues: IssueDay[];
}
