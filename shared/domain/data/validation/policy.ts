/**
 * Validation policy (data-chain §6.2): keys `GHTRADER_L5_VALIDATE_*`, `<KEY>_<VAR>` before `<KEY>`, CLI flags win for
 * the gap threshold, the strict ratio and the per-day segment list size. Every value carries the source that won
 * (`policy_sources`) and is recorded in a `SettingsSnapshot` for the report's `config_snapshot`.
 */
import {
  DataSettingError,
  type NumberSetting,
  resolveBoolean,
  resolveNumber,
  type SettingLayers,
  type SettingSource,
  SettingsSnapshot,
} from '../settings.ts';

export const POLICY_PREFIX = 'GHTRADER_L5_VALIDATE_';
const K = (name: string): string => `${POLICY_PREFIX}${name}`;

export type PolicySource = SettingSource | 'cli';

export interface ValidationPolicy {
  gap_threshold_s: number;
  /** Per-session thresholds that are set (`GAP_THRESHOLD_S[_<VAR>]_DAY` / `_NIGHT`). */
  gap_threshold_s_by_session: { day?: number; night?: number };
  strict_ratio: number;
  missing_half_info_ratio: number;
  missing_half_block_ratio: number;
  gap_block_gt30: number;
  segments_warn_avg_per_day: number;
  outside_sessions_block_s: number;
  source_blocking: boolean;
  source_missing_days_tolerance: number;
  tq_check: boolean;
  tq_check_max_days: number;
  tq_check_max_segments: number;
  max_segments_per_day: number;
  invariant_block_rate: number;
  report_max_days: number;
  report_include_segments: boolean;
  report_segments_sample: number;
  report_max_events: number;
}

export type PolicySources = {
  [K in Exclude<keyof ValidationPolicy, 'gap_threshold_s_by_session'>]: PolicySource;
} & { gap_threshold_s_by_session: { day?: PolicySource; night?: PolicySource } };

/** Values given on the command line (or by the calling job); each wins over settings. */
export interface PolicyOverrides {
  gapThresholdS?: number;
  strictRatio?: number;
  maxSegmentsPerDay?: number;
}

export interface ResolvedPolicy {
  policy: ValidationPolicy;
  policy_sources: PolicySources;
  /** Every resolved value by full key name (the report's `config_snapshot`, with `hash()` = `config_hash`). */
  snapshot: SettingsSnapshot;
}

const clamp = (v: number, min: number, max = Number.POSITIVE_INFINITY): number => Math.min(max, Math.max(min, v));

/** Resolve the §6.2 table for `variety` (lower-case, e.g. `cu`). Throws `DataSettingError` on malformed values. */
export function resolveValidationPolicy(
  layers: SettingLayers,
  variety: string,
  overrides: PolicyOverrides = {},
  snapshot: SettingsSnapshot = new SettingsSnapshot(),
): ResolvedPolicy {
  const sources = {} as Record<string, PolicySource>;
  const num = (field: keyof ValidationPolicy, s: NumberSetting): number => {
    const r = resolveNumber(layers, s, variety);
    sources[field] = r.source;
    return snapshot.record(s.key, r);
  };
  const bool = (field: keyof ValidationPolicy, key: string, def: boolean): boolean => {
    const r = resolveBoolean(layers, { key, default: def }, variety);
    sources[field] = r.source;
    return snapshot.record(key, r);
  };
  // CLI values are not configuration: they show in `policy` / `policy_sources`, not in the config snapshot.
  const cli = (field: keyof ValidationPolicy, value: number): number => {
    if (!Number.isFinite(value))
      throw new DataSettingError(`--${field.replaceAll('_', '-')}`, String(value), 'a number');
    sources[field] = 'cli';
    return value;
  };

  const gapThreshold =
    overrides.gapThresholdS !== undefined
      ? cli('gap_threshold_s', clamp(overrides.gapThresholdS, 0.5))
      : num('gap_threshold_s', { key: K('GAP_THRESHOLD_S'), default: 5.0, min: 0.5 });

  const bySession: ValidationPolicy['gap_threshold_s_by_session'] = {};
  const bySessionSources: PolicySources['gap_threshold_s_by_session'] = {};
  for (const session of ['day', 'night'] as const) {
    const suffix = session.toUpperCase();
    const perVar = `${K('GAP_THRESHOLD_S')}_${variety.toUpperCase()}_${suffix}`;
    const generic = `${K('GAP_THRESHOLD_S')}_${suffix}`;
    // `default: NaN` marks "unset": the session then uses the global threshold.
    const r = resolveNumber(layers, { key: perVar, default: Number.NaN, min: 0.5, fallbacks: [generic] });
    if (r.source === 'default') continue;
    bySession[session] = snapshot.record(perVar, r);
    bySessionSources[session] = r.source;
  }

  const strictRatio =
    overrides.strictRatio !== undefined
      ? cli('strict_ratio', clamp(overrides.strictRatio, 0, 1))
      : num('strict_ratio', { key: K('STRICT_RATIO'), default: 0.8, min: 0, max: 1 });
  const info = num('missing_half_info_ratio', { key: K('MISSING_HALF_INFO_RATIO'), default: 0.02, min: 0, max: 1 });
  const block = num('missing_half_block_ratio', {
    key: K('MISSING_HALF_BLOCK_RATIO'),
    default: 0.1,
    min: info,
    max: 1,
  });
  const maxSegments =
    overrides.maxSegmentsPerDay !== undefined
      ? cli('max_segments_per_day', Math.max(10, Math.trunc(overrides.maxSegmentsPerDay)))
      : num('max_segments_per_day', { key: K('MAX_SEGMENTS_PER_DAY'), default: 200, min: 10, integer: true });

  const policy: ValidationPolicy = {
    gap_threshold_s: gapThreshold,
    gap_threshold_s_by_session: bySession,
    strict_ratio: strictRatio,
    missing_half_info_ratio: info,
    missing_half_block_ratio: block,
    gap_block_gt30: num('gap_block_gt30', { key: K('GAP_BLOCK_GT30'), default: 0, min: 0, integer: true }),
    segments_warn_avg_per_day: num('segments_warn_avg_per_day', {
      key: K('SEGMENTS_WARN_AVG_PER_DAY'),
      default: 500,
      min: 0,
    }),
    outside_sessions_block_s: num('outside_sessions_block_s', {
      key: K('OUTSIDE_SESSIONS_BLOCK_S'),
      default: 60,
      min: 0,
    }),
    source_blocking: bool('source_blocking', K('SOURCE_BLOCKING'), false),
    source_missing_days_tolerance: num('source_missing_days_tolerance', {
      key: K('SOURCE_MISSING_DAYS_TOLERANCE'),
      default: 0,
      min: 0,
      integer: true,
    }),
    tq_check: bool('tq_check', K('TQ_CHECK'), true),
    tq_check_max_days: num('tq_check_max_days', { key: K('TQ_CHECK_MAX_DAYS'), default: 2, min: 0, integer: true }),
    tq_check_max_segments: num('tq_check_max_segments', {
      key: K('TQ_CHECK_MAX_SEGMENTS'),
      default: 8,
      min: 0,
      integer: true,
    }),
    max_segments_per_day: maxSegments,
    invariant_block_rate: num('invariant_block_rate', {
      key: K('INVARIANT_BLOCK_RATE'),
      default: 0.001,
      min: 0,
      max: 1,
    }),
    report_max_days: num('report_max_days', { key: K('REPORT_MAX_DAYS'), default: 200, min: 1, integer: true }),
    report_include_segments: bool('report_include_segments', K('REPORT_INCLUDE_SEGMENTS'), false),
    report_segments_sample: num('report_segments_sample', {
      key: K('REPORT_SEGMENTS_SAMPLE'),
      default: 5,
      min: 0,
      integer: true,
    }),
    report_max_events: num('report_max_events', { key: K('REPORT_MAX_EVENTS'), default: 200, min: 1, integer: true }),
  };
  return {
    policy,
    policy_sources: { ...sources, gap_threshold_s_by_session: bySessionSources } as PolicySources,
    snapshot,
  };
}
