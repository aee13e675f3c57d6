import { describe, expect, it } from 'vitest';
import { TICK_NUMERIC_COLUMNS } from '#shared/domain/data/tick-columns.ts';
import {
  ACTION_HINTS,
  computeDayStats,
  computeFieldQuality,
  emptyProviderCheck,
  evaluateStates,
  exitCodeOf,
  REASON_CODES,
  resolveValidationPolicy,
  type StatePolicy,
  type StateTotals,
  secondCountsFrom,
  ValidationTotals,
} from '#shared/domain/data/validation/index.ts';

const POLICY: StatePolicy = {
  missing_half_info_ratio: 0.02,
  missing_half_block_ratio: 0.1,
  gap_block_gt30: 0,
  segments_warn_avg_per_day: 500,
  outside_sessions_block_s: 60,
  source_blocking: false,
  source_missing_days_tolerance: 0,
  invariant_block_rate: 0.001,
};

const CLEAN: StateTotals = {
  checked_days: 10,
  missing_days: 0,
  missing_segments_total: 0,
  gap_count_gt_30_total: 0,
  ticks_outside_sessions_seconds_total: 0,
  missing_half_seconds_total: 0,
  expected_seconds_strict_fixed_total: 100_000,
  invariant_violations_total: 0,
  rows_total: 1_000_000,
  provider_check_errors: 0,
  provider_missing_segments: 0,
};

describe('evaluateStates (§6.5)', () => {
  it('a clean run is ok everywhere with quality_ok', () => {
    // Act
    const s = evaluateStates(CLEAN, POLICY);

    // Assess
    expect(s).toMatchObject({
      ok: true,
      engineering_state: 'ok',
      policy_state: 'ok',
      source_state: 'ok',
      overall_state: 'ok',
      reason_code: 'quality_ok',
      action_hint: 'No action needed.',
    });
  });

  it('follows the reason_code precedence, removing the strongest cause one at a time', () => {
    // Prepare: every cause at once, then peel them off in precedence order.
    const all: StateTotals = {
      ...CLEAN,
      ticks_outside_sessions_seconds_total: 61,
      invariant_violations_total: 5_000,
      missing_half_seconds_total: 20_000,
      gap_count_gt_30_total: 3,
      missing_days: 2,
    };
    const policy = { ...POLICY, source_blocking: true, source_missing_days_tolerance: 0 };
    const steps: [Partial<StateTotals>, Partial<StatePolicy>, string][] = [
      [{}, {}, 'outside_sessions_block'],
      [{ ticks_outside_sessions_seconds_total: 1 }, {}, 'field_invariant_block'],
      [{ invariant_violations_total: 1 }, {}, 'missing_half_seconds_block'],
      [{ missing_half_seconds_total: 5_000 }, {}, 'gap_gt30_block'],
      [{ gap_count_gt_30_total: 0 }, {}, 'source_missing_days_block'],
      [{}, { source_blocking: false }, 'source_missing_days_warn'],
      [{ missing_days: 0 }, {}, 'missing_half_seconds_info'],
      [{ missing_half_seconds_total: 0 }, {}, 'field_invariant_warn'],
      [{ invariant_violations_total: 0 }, {}, 'outside_sessions_warn'],
      [{ ticks_outside_sessions_seconds_total: 0 }, {}, 'quality_ok'],
    ];
    let totals = all;
    let p: StatePolicy = policy;
    const codes: string[] = [];

    // Act
    for (const [t, pp, _] of steps) {
      totals = { ...totals, ...t };
      p = { ...p, ...pp };
      codes.push(evaluateStates(totals, p).reason_code);
    }

    // Assess
    expect(codes).toEqual(steps.map(([, , c]) => c));
  });

  it('ok = overall != error: warn is ok=true and exits 0, error is ok=false and exits 1', () => {
    // Act
    const warn = evaluateStates({ ...CLEAN, ticks_outside_sessions_seconds_total: 5 }, POLICY);
    const error = evaluateStates({ ...CLEAN, ticks_outside_sessions_seconds_total: 61 }, POLICY);

    // Assess
    expect(warn).toMatchObject({ engineering_state: 'warn', overall_state: 'warn', ok: true });
    expect(exitCodeOf(warn.overall_state)).toBe(0);
    expect(error).toMatchObject({ engineering_state: 'error', overall_state: 'error', ok: false });
    expect(exitCodeOf(error.overall_state)).toBe(1);
    expect(exitCodeOf('noop')).toBe(0);
  });

  it('gt30 segments block only above GAP_BLOCK_GT30; half misses without fixed days are an error', () => {
    // Act
    const under = evaluateStates({ ...CLEAN, gap_count_gt_30_total: 2 }, { ...POLICY, gap_block_gt30: 2 });
    const over = evaluateStates({ ...CLEAN, gap_count_gt_30_total: 3 }, { ...POLICY, gap_block_gt30: 2 });
    const noFixed = evaluateStates(
      { ...CLEAN, missing_half_seconds_total: 1, expected_seconds_strict_fixed_total: 0 },
      POLICY,
    );

    // Assess
    expect(under.policy_state).toBe('ok');
    expect(over).toMatchObject({ policy_state: 'error', reason_code: 'gap_gt30_block' });
    expect(noFixed).toMatchObject({ missing_half_seconds_state: 'error', policy_state: 'error' });
  });

  it('provider-check errors and the segments average warn under their own codes', () => {
    // Act
    const provider = evaluateStates({ ...CLEAN, provider_check_errors: 1 }, POLICY);
    const segments = evaluateStates({ ...CLEAN, missing_segments_total: 5_010 }, POLICY);

    // Assess
    expect(provider).toMatchObject({ source_state: 'warn', reason_code: 'provider_check_warn', ok: true });
    expect(segments).toMatchObject({ policy_state: 'warn', reason_code: 'segments_avg_warn' });
  });

  it('has a one-line action hint for every code', () => {
    // Assess
    for (const code of [...REASON_CODES, 'noop_up_to_date'] as const) {
      expect(ACTION_HINTS[code].length).toBeGreaterThan(10);
      expect(ACTION_HINTS[code]).not.toContain('\n');
    }
  });
});

/** A clean field-quality record for `rows` ticks. */
function cleanQuality(rows: number) {
  const values = TICK_NUMERIC_COLUMNS.map((c, i) =>
    new Float64Array(rows).fill(c.startsWith('ask_price') ? 100 + i : c.startsWith('bid_price') ? 100 - i : 1),
  );
  return computeFieldQuality(values, rows);
}

describe('item 15: states over one day of session 09:00:00–09:00:05', () => {
  const t0 = 1_736_730_000;
  const windows = [{ session: 'day' as const, start_s: t0, end_s: t0 + 5 }];

  it('a fixed day with half-miss ratio in [info 0.10, block 0.50) → policy warn, overall warn, ok', () => {
    // Prepare: strict seconds 1..4, two ticks in 1..3, none in 4 → 1 missing half of 4 = 0.25.
    const { policy } = resolveValidationPolicy(
      {
        env: {
          GHTRADER_L5_VALIDATE_MISSING_HALF_INFO_RATIO: '0.10',
          GHTRADER_L5_VALIDATE_MISSING_HALF_BLOCK_RATIO: '0.50',
        },
      },
      'cu',
    );
    const stats = computeDayStats(
      windows,
      secondCountsFrom([
        [t0 + 1, 2],
        [t0 + 2, 2],
        [t0 + 3, 2],
      ]),
      { strictRatio: policy.strict_ratio, gapThresholdS: policy.gap_threshold_s, maxSegmentsPerDay: 200 },
    );
    const totals = new ValidationTotals();
    totals.add({
      trading_day: '2025-01-13',
      underlying_contract: 'SHFE.cu2502',
      stats,
      field_quality: cleanQuality(6),
      applied_events: [],
      holiday_night_skipped: false,
      provider_inference: 'unknown',
    });

    // Act
    const r = totals.report(policy, emptyProviderCheck(false, 2, 8));

    // Assess
    expect(stats.cadence_mode).toBe('fixed_0p5s');
    expect(r.missing_half_seconds_ratio).toBe(0.25);
    expect(r).toMatchObject({
      policy_state: 'warn',
      engineering_state: 'ok',
      source_state: 'ok',
      overall_state: 'warn',
      reason_code: 'missing_half_seconds_info',
      ok: true,
    });
    expect(exitCodeOf(r.overall_state)).toBe(0);
  });

  it('source blocking with tolerance 1 and one missing day → source warn, source_missing_days_warn', () => {
    // Prepare
    const { policy } = resolveValidationPolicy(
      {
        env: {
          GHTRADER_L5_VALIDATE_SOURCE_BLOCKING: 'true',
          GHTRADER_L5_VALIDATE_SOURCE_MISSING_DAYS_TOLERANCE: '1',
        },
      },
      'cu',
    );
    const stats = computeDayStats(windows, secondCountsFrom([]), {
      strictRatio: policy.strict_ratio,
      gapThresholdS: policy.gap_threshold_s,
      maxSegmentsPerDay: 200,
    });
    const totals = new ValidationTotals();
    totals.add({
      trading_day: '2025-01-13',
      underlying_contract: 'SHFE.cu2502',
      stats,
      field_quality: cleanQuality(0),
      applied_events: [],
      holiday_night_skipped: false,
      provider_inference: 'unknown',
    });

    // Act
    const r = totals.report(policy, emptyProviderCheck(false, 2, 8));

    // Assess
    expect(r.missing_days).toBe(1);
    expect(r.missing_days_sample).toEqual(['2025-01-13']);
    expect(r).toMatchObject({
      source_state: 'warn',
      source_missing_days_blocking: false,
      reason_code: 'source_missing_days_warn',
      ok: true,
    });
  });
});
