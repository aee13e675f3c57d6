/**
 * Layered validation states (data-chain §6.5), one semantics for report, CLI, gate and console: `error` blocks
 * promotion and exits 1, `warn` is surfaced and exits 0, `ok` passes; the boolean `ok` = `overall_state != "error"`.
 */
import type { ValidationPolicy } from './policy.ts';

export type LayerState = 'ok' | 'warn' | 'error';
export type HalfSecondsState = 'ok' | 'info' | 'error';

/**
 * Reason codes, strongest first (§6.5). `segments_avg_warn` and `provider_check_warn` are additions: they name the
 * two warnings the spec's list has no code for (average segments per day above the warn level; provider-check errors
 * or provider-missing segments without a missing day) and only apply when no listed code does.
 */
export const REASON_CODES = [
  'outside_sessions_block',
  'field_invariant_block',
  'missing_half_seconds_block',
  'gap_gt30_block',
  'source_missing_days_block',
  'source_missing_days_warn',
  'missing_half_seconds_info',
  'field_invariant_warn',
  'outside_sessions_warn',
  'segments_avg_warn',
  'provider_check_warn',
  'quality_ok',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number] | 'noop_up_to_date';

/** One line per code: what the operator does next. */
export const ACTION_HINTS: Readonly<Record<ReasonCode, string>> = {
  outside_sessions_block:
    'Ticks fall outside the session windows: check calendar/sessions and exchange events, rebuild main_l5 (--full-rebuild) and rerun validate.',
  field_invariant_block:
    'Order-book invariants fail above INVARIANT_BLOCK_RATE: inspect field_quality for crossed/misordered books or negative cells and rebuild the affected days.',
  missing_half_seconds_block:
    'Fixed-cadence days miss too many half-seconds: inspect the top issue days, re-download them or tune MISSING_HALF_BLOCK_RATIO for this variety.',
  gap_gt30_block:
    'Gaps longer than 30 s exceed GAP_BLOCK_GT30: review the top gap days (provider check) and re-download them or adjust the gap policy if expected.',
  source_missing_days_block:
    'Days without any in-session tick exceed the source tolerance: verify the provider for those days, backfill them or raise SOURCE_MISSING_DAYS_TOLERANCE.',
  source_missing_days_warn:
    'Some scheduled days have no in-session ticks: check missing_days_sample against the provider before training.',
  missing_half_seconds_info: 'Half-second misses are above the info level: monitor the trend; no action needed now.',
  field_invariant_warn:
    'A few order-book invariant violations were found: review field_quality totals; they stay below the block rate.',
  outside_sessions_warn:
    'Some ticks fall outside the session windows (below the block level): verify the session configuration and ingest trim.',
  segments_avg_warn:
    'Average missing segments per day exceed SEGMENTS_WARN_AVG_PER_DAY: review the top gap days and the gap threshold.',
  provider_check_warn:
    'The provider check failed or confirmed provider-missing segments: review provider_check and gap_attribution.',
  quality_ok: 'No action needed.',
  noop_up_to_date: 'No new trading days for the current schedule hash; nothing to validate.',
};

/** Σ over the validated days, what §6.5 decides on. */
export interface StateTotals {
  /** Validated (schedule) days. */
  checked_days: number;
  missing_days: number;
  missing_segments_total: number;
  gap_count_gt_30_total: number;
  ticks_outside_sessions_seconds_total: number;
  missing_half_seconds_total: number;
  /** Σ expected_seconds_strict over `fixed_0p5s` days. */
  expected_seconds_strict_fixed_total: number;
  /** Σ (cross + bid_order + ask_order + negative) violations. */
  invariant_violations_total: number;
  rows_total: number;
  provider_check_errors: number;
  provider_missing_segments: number;
}

export type StatePolicy = Pick<
  ValidationPolicy,
  | 'missing_half_info_ratio'
  | 'missing_half_block_ratio'
  | 'gap_block_gt30'
  | 'segments_warn_avg_per_day'
  | 'outside_sessions_block_s'
  | 'source_blocking'
  | 'source_missing_days_tolerance'
  | 'invariant_block_rate'
>;

export interface ValidationStates {
  ok: boolean;
  engineering_state: LayerState;
  policy_state: LayerState;
  source_state: LayerState;
  overall_state: LayerState;
  reason_code: ReasonCode;
  action_hint: string;
  missing_half_seconds_ratio: number;
  missing_half_seconds_state: HalfSecondsState;
  segments_blocking: boolean;
  outside_sessions_blocking: boolean;
  source_missing_days_count: number;
  source_missing_days_blocking: boolean;
  segments_avg_per_day: number;
  invariant_rate: number;
  invariant_blocking: boolean;
}

const RANK: Record<LayerState, number> = { ok: 0, warn: 1, error: 2 };

export function worstState(...states: LayerState[]): LayerState {
  return states.reduce<LayerState>((w, s) => (RANK[s] > RANK[w] ? s : w), 'ok');
}

/** §6.5: the three layers, the overall state, `ok`, and the strongest applicable reason code with its hint. */
export function evaluateStates(t: StateTotals, p: StatePolicy): ValidationStates {
  const halfRatio =
    t.expected_seconds_strict_fixed_total > 0
      ? t.missing_half_seconds_total / t.expected_seconds_strict_fixed_total
      : 0;
  let half: HalfSecondsState = 'ok';
  if (t.missing_half_seconds_total > 0) {
    if (t.expected_seconds_strict_fixed_total <= 0 || halfRatio >= p.missing_half_block_ratio) half = 'error';
    else if (halfRatio >= p.missing_half_info_ratio) half = 'info';
  }
  const segmentsBlocking = t.gap_count_gt_30_total > p.gap_block_gt30;
  const outsideBlocking = t.ticks_outside_sessions_seconds_total > p.outside_sessions_block_s;
  const sourceBlocking = p.source_blocking && t.missing_days > p.source_missing_days_tolerance;
  const segmentsAvg = t.missing_segments_total / Math.max(1, t.checked_days);
  const invariantRate = t.rows_total > 0 ? t.invariant_violations_total / t.rows_total : 0;
  const invariantBlocking = invariantRate > p.invariant_block_rate;
  const segmentsAvgWarn = p.segments_warn_avg_per_day > 0 && segmentsAvg > p.segments_warn_avg_per_day;
  const providerWarn = t.provider_check_errors > 0 || t.provider_missing_segments > 0;

  const engineering: LayerState =
    outsideBlocking || invariantBlocking
      ? 'error'
      : t.ticks_outside_sessions_seconds_total > 0 || t.invariant_violations_total > 0
        ? 'warn'
        : 'ok';
  const policy: LayerState =
    segmentsBlocking || half === 'error' ? 'error' : half === 'info' || segmentsAvgWarn ? 'warn' : 'ok';
  const source: LayerState = sourceBlocking ? 'error' : t.missing_days > 0 || providerWarn ? 'warn' : 'ok';
  const overall = worstState(engineering, policy, source);

  let reason: ReasonCode;
  if (outsideBlocking) reason = 'outside_sessions_block';
  else if (invariantBlocking) reason = 'field_invariant_block';
  else if (half === 'error') reason = 'missing_half_seconds_block';
  else if (segmentsBlocking) reason = 'gap_gt30_block';
  else if (sourceBlocking) reason = 'source_missing_days_block';
  else if (t.missing_days > 0) reason = 'source_missing_days_warn';
  else if (half === 'info') reason = 'missing_half_seconds_info';
  else if (t.invariant_violations_total > 0) reason = 'field_invariant_warn';
  else if (t.ticks_outside_sessions_seconds_total > 0) reason = 'outside_sessions_warn';
  else if (segmentsAvgWarn) reason = 'segments_avg_warn';
  else if (providerWarn) reason = 'provider_check_warn';
  else reason = 'quality_ok';

  return {
    ok: overall !== 'error',
    engineering_state: engineering,
    policy_state: policy,
    source_state: source,
    overall_state: overall,
    reason_code: reason,
    action_hint: ACTION_HINTS[reason],
    missing_half_seconds_ratio: halfRatio,
    missing_half_seconds_state: half,
    segments_blocking: segmentsBlocking,
    outside_sessions_blocking: outsideBlocking,
    source_missing_days_count: t.missing_days,
    source_missing_days_blocking: sourceBlocking,
    segments_avg_per_day: segmentsAvg,
    invariant_rate: invariantRate,
    invariant_blocking: invariantBlocking,
  };
}

/** §10.2 exit code of a validation state: 0 for `ok`, `warn` and `noop`, 1 for `error`. */
export function exitCodeOf(state: LayerState | 'noop'): 0 | 1 {
  return state === 'error' ? 1 : 0;
}
