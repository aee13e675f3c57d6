import { describe, expect, it } from 'vitest';
import { DataSettingError } from '#shared/domain/data/settings.ts';
import { resolveValidationPolicy } from '#shared/domain/data/validation/index.ts';

describe('resolveValidationPolicy (§6.2)', () => {
  it('uses the spec defaults with source "default"', () => {
    // Act
    const { policy, policy_sources } = resolveValidationPolicy({ env: {} }, 'cu');

    // Assess
    expect(policy).toMatchObject({
      gap_threshold_s: 5,
      gap_threshold_s_by_session: {},
      strict_ratio: 0.8,
      missing_half_info_ratio: 0.02,
      missing_half_block_ratio: 0.1,
      gap_block_gt30: 0,
      segments_warn_avg_per_day: 500,
      outside_sessions_block_s: 60,
      source_blocking: false,
      source_missing_days_tolerance: 0,
      tq_check: true,
      tq_check_max_days: 2,
      tq_check_max_segments: 8,
      max_segments_per_day: 200,
      invariant_block_rate: 0.001,
      report_max_days: 200,
      report_include_segments: false,
      report_segments_sample: 5,
      report_max_events: 200,
    });
    expect(policy_sources.gap_threshold_s).toBe('default');
  });

  it('_CU keys win over the generic key and policy_sources names env:…_CU', () => {
    // Act
    const { policy, policy_sources, snapshot } = resolveValidationPolicy(
      {
        env: {
          GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S: '3',
          GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S_CU: '7',
          GHTRADER_L5_VALIDATE_GAP_BLOCK_GT30: '4',
          GHTRADER_L5_VALIDATE_GAP_BLOCK_GT30_AU: '9',
        },
      },
      'cu',
    );

    // Assess
    expect(policy.gap_threshold_s).toBe(7);
    expect(policy_sources.gap_threshold_s).toBe('env:GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S_CU');
    expect(policy.gap_block_gt30).toBe(4);
    expect(policy_sources.gap_block_gt30).toBe('env:GHTRADER_L5_VALIDATE_GAP_BLOCK_GT30');
    expect(snapshot.toJSON().GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S).toEqual({
      value: 7,
      source: 'env:GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S_CU',
    });
  });

  it('CLI values win for gap threshold, strict ratio and segments per day, clamped', () => {
    // Act
    const { policy, policy_sources } = resolveValidationPolicy(
      { env: { GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S_CU: '7', GHTRADER_L5_VALIDATE_STRICT_RATIO: '0.5' } },
      'cu',
      { gapThresholdS: 0.1, strictRatio: 1.5, maxSegmentsPerDay: 3 },
    );

    // Assess
    expect(policy.gap_threshold_s).toBe(0.5);
    expect(policy.strict_ratio).toBe(1);
    expect(policy.max_segments_per_day).toBe(10);
    expect(policy_sources.gap_threshold_s).toBe('cli');
    expect(policy_sources.strict_ratio).toBe('cli');
  });

  it('per-session thresholds: <KEY>_<VAR>_DAY before <KEY>_NIGHT / _DAY, unset sessions absent', () => {
    // Act
    const { policy, policy_sources } = resolveValidationPolicy(
      {
        env: {
          GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S_DAY: '12',
          GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S_CU_DAY: '10',
          GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S_AG_NIGHT: '20',
        },
      },
      'cu',
    );

    // Assess
    expect(policy.gap_threshold_s_by_session).toEqual({ day: 10 });
    expect(policy_sources.gap_threshold_s_by_session).toEqual({
      day: 'env:GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S_CU_DAY',
    });
  });

  it('clamps the block ratio to at least the info ratio and rejects malformed values', () => {
    // Act
    const { policy } = resolveValidationPolicy(
      {
        env: {
          GHTRADER_L5_VALIDATE_MISSING_HALF_INFO_RATIO: '0.3',
          GHTRADER_L5_VALIDATE_MISSING_HALF_BLOCK_RATIO: '0.1',
        },
      },
      'au',
    );

    // Assess
    expect(policy.missing_half_block_ratio).toBe(0.3);
    expect(() => resolveValidationPolicy({ env: { GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S: 'x' } }, 'cu')).toThrow(
      DataSettingError,
    );
  });
});
