import { describe, expect, it } from 'vitest';
import { MainL5HealthError } from '#shared/domain/data/main-l5/errors.ts';
import {
  type BuildHealthInput,
  buildStatus,
  computeBuildHealth,
  dailyAggSkipState,
  healthFailureMessage,
  validationGateDecision,
  validationGateError,
  validationRuntimeError,
} from '#shared/domain/data/main-l5/finalize.ts';
import { type DayOutcome, type DayOutcomeReason, makeDayOutcome } from '#shared/domain/data/main-l5/outcomes.ts';

const HASH = 'f25225a1507bb808';
const PREFIX = ['76ef5715bc2bd60d', 'd1316d4913c783dd', HASH];
const DAYS = ['2025-01-02', '2025-01-03', '2025-01-06'];
const SCHEDULE = DAYS.map((trading_day, i) => ({
  trading_day,
  main_contract: i < 2 ? 'SHFE.cu2501' : 'SHFE.cu2502',
  segment_id: i < 2 ? 0 : 1,
}));

function outcome(day: string, reason: DayOutcomeReason | null, nowMs = Date.parse('2025-01-07T00:00:00Z')): DayOutcome {
  return makeDayOutcome({
    day,
    underlying_contract: 'SHFE.cu2501',
    segment_id: 0,
    schedule_hash: HASH,
    reason,
    now_ms: nowMs,
  });
}

function input(patch: Partial<BuildHealthInput>): BuildHealthInput {
  return {
    scheduleDays: SCHEDULE,
    coveredDays: new Set(),
    firstStoredDay: null,
    outcomes: [],
    tolerance: 0,
    storedHashes: [HASH],
    prefixHashes: PREFIX,
    pinnedHash: HASH,
    currentPrefixHashes: PREFIX,
    failedChildren: 0,
    now: '2025-01-07T00:00:00.000Z',
    ...patch,
  };
}

describe('computeBuildHealth (data-chain §5.6, §11 item 10)', () => {
  it('1 of 3 days covered and no outcomes → health fails naming not_attempted', () => {
    // Act
    const h = computeBuildHealth(
      input({ coveredDays: new Set([DAYS[0] as string]), firstStoredDay: DAYS[0] as string }),
    );

    // Assess
    expect(h).toMatchObject({
      aligned_start: '2025-01-02',
      expected_days: 3,
      covered_days: 1,
      missing_days: 2,
      engineering_missing_days: 2,
      engineering_missing_days_sample: ['2025-01-03', '2025-01-06'],
      provider_missing_days: 0,
      transient_skipped_days: 0,
      skip_ledger_total: 2,
      skip_ledger_by_reason: { not_attempted: 2 },
      skip_ledger_by_class: { engineering_missing: 2 },
    });
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]).toContain('not_attempted');
    expect(healthFailureMessage(h.errors)).toMatch(
      /^main_l5 health check failed: engineering_missing_days=2 .*not_attempted/,
    );
    expect(buildStatus(h.errors)).toBe('rejected');
    expect(h.skip_ledger.map((o) => [o.day, o.class, o.reason, o.schedule_hash, o.created_at])).toEqual([
      ['2025-01-03', 'engineering_missing', 'not_attempted', HASH, '2025-01-07T00:00:00.000Z'],
      ['2025-01-06', 'engineering_missing', 'not_attempted', HASH, '2025-01-07T00:00:00.000Z'],
    ]);
    expect(h.skip_ledger[1]).toMatchObject({ underlying_contract: 'SHFE.cu2502', segment_id: 1 });
  });

  it('tolerance 1 with day 3 provider_empty → no health errors (promoted)', () => {
    // Act
    const h = computeBuildHealth(
      input({
        coveredDays: new Set(DAYS.slice(0, 2)),
        firstStoredDay: DAYS[0] as string,
        outcomes: [outcome(DAYS[1] as string, null), outcome(DAYS[2] as string, 'provider_empty')],
        tolerance: 1,
      }),
    );

    // Assess
    expect(h.errors).toEqual([]);
    expect(buildStatus(h.errors)).toBe('promoted');
    expect(h).toMatchObject({
      provider_missing_days: 1,
      tolerated_provider_missing_days: 1,
      provider_missing_days_excess: 0,
      missing_days_tolerance: 1,
      covered_first_day: '2025-01-02',
      covered_last_day: '2025-01-03',
      skip_ledger_by_reason: { provider_empty: 1 },
    });
  });

  it('tolerance 0 with day 3 provider_empty → provider_missing above tolerance', () => {
    const h = computeBuildHealth(
      input({
        coveredDays: new Set(DAYS.slice(0, 2)),
        outcomes: [outcome(DAYS[2] as string, 'provider_empty')],
      }),
    );
    expect(h.provider_missing_days_excess).toBe(1);
    expect(h.errors).toEqual([
      'provider_missing_days=1 exceeds missing_days_tolerance=0 (excess=1; provider_empty=1) sample=[2025-01-06]',
    ]);
  });

  it('tolerance 3 with day 3 write_failed → fails (engineering gaps are never tolerated)', () => {
    const h = computeBuildHealth(
      input({
        coveredDays: new Set(DAYS.slice(0, 2)),
        outcomes: [outcome(DAYS[2] as string, 'write_failed')],
        tolerance: 3,
      }),
    );
    expect(h.engineering_missing_days).toBe(1);
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]).toContain('write_failed');
  });

  it('a maintenance skip blocks even with tolerance 5, with the rerun hint', () => {
    // Prepare
    const skipped = makeDayOutcome({
      day: DAYS[2] as string,
      underlying_contract: 'SHFE.cu2502',
      segment_id: 1,
      schedule_hash: HASH,
      reason: 'maintenance_circuit_open',
      circuit_open_until_ms: Date.parse('2025-01-06T12:00:00Z'),
      circuit_failures: 3,
      now_ms: Date.parse('2025-01-06T11:00:00Z'),
    });

    // Act
    const h = computeBuildHealth(input({ coveredDays: new Set(DAYS.slice(0, 2)), outcomes: [skipped], tolerance: 5 }));

    // Assess
    expect(h.transient_skipped_days).toBe(1);
    expect(h.transient_skipped_days_sample).toEqual(['2025-01-06']);
    expect(h.provider_missing_days).toBe(0);
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]).toContain('transient_skipped_days=1 (maintenance_circuit_open=1)');
    expect(h.errors[0]).toContain('--update after circuit_open_until=2025-01-06T12:00:00.000Z');
  });

  it('formats a validation gate error naming its reason code', () => {
    // Act
    const msg = validationGateError({
      state: 'error',
      reason_code: 'gap_gt30_block',
      action_hint: 'inspect_gaps',
      report_uri: 'reports/validate/x_latest.json',
    });

    // Assess
    expect(msg).toBe(
      'validation_state=error reason_code=gap_gt30_block action_hint=inspect_gaps report_uri=reports/validate/x_latest.json',
    );
    expect(healthFailureMessage([msg])).toBe(`main_l5 health check failed: ${msg}`);
    expect(new MainL5HealthError([msg, 'failed_children=1']).message).toBe(
      `main_l5 health check failed: ${msg}; failed_children=1`,
    );
    expect(validationRuntimeError(new Error('boom'))).toBe('validation_runtime_error: boom');
  });

  it('drops provider gaps before the aligned start from the expected set, but never failures', () => {
    // Act
    const providerGap = computeBuildHealth(
      input({
        coveredDays: new Set(DAYS.slice(1)),
        firstStoredDay: DAYS[1] as string,
        outcomes: [outcome(DAYS[0] as string, 'no_l5_rows')],
      }),
    );
    const failure = computeBuildHealth(
      input({
        coveredDays: new Set(DAYS.slice(1)),
        firstStoredDay: DAYS[1] as string,
        outcomes: [outcome(DAYS[0] as string, 'download_failed')],
      }),
    );
    const notAttempted = computeBuildHealth(
      input({ coveredDays: new Set(DAYS.slice(1)), firstStoredDay: DAYS[1] as string }),
    );

    // Assess
    expect(providerGap).toMatchObject({ aligned_start: '2025-01-03', expected_days: 2, missing_days: 0, errors: [] });
    expect(providerGap.skip_ledger_by_reason).toEqual({ no_l5_rows: 1 });
    expect(failure).toMatchObject({ expected_days: 3, engineering_missing_days: 1 });
    expect(failure.errors[0]).toContain('download_failed=1');
    expect(notAttempted).toMatchObject({ expected_days: 3, engineering_missing_days: 1 });
  });

  it('treats a written outcome without stored rows as readback_mismatch', () => {
    const h = computeBuildHealth(
      input({ coveredDays: new Set(DAYS.slice(0, 2)), outcomes: [outcome(DAYS[2] as string, null)] }),
    );
    expect(h.engineering_missing_days).toBe(1);
    expect(h.skip_ledger.map((o) => o.reason)).toEqual(['readback_mismatch']);
  });

  it('uses the latest outcome of a day recorded twice', () => {
    const h = computeBuildHealth(
      input({
        coveredDays: new Set(DAYS.slice(0, 2)),
        outcomes: [
          outcome(DAYS[2] as string, 'provider_empty', Date.parse('2025-01-07T02:00:00Z')),
          outcome(DAYS[2] as string, 'download_failed', Date.parse('2025-01-07T01:00:00Z')),
        ],
        tolerance: 1,
      }),
    );
    expect(h.errors).toEqual([]);
    expect(h.skip_ledger.map((o) => o.reason)).toEqual(['provider_empty']);
  });

  it('reports incompatible stored hashes, failed children and a schedule changed during the build', () => {
    // Act
    const h = computeBuildHealth(
      input({
        coveredDays: new Set(DAYS),
        storedHashes: [HASH, 'deadbeefdeadbeef'],
        failedChildren: 2,
        currentPrefixHashes: ['76ef5715bc2bd60d', '0000000000000000'],
      }),
    );

    // Assess
    expect(h.missing_days).toBe(0);
    expect(h.errors).toEqual([
      `stored schedule_hash set is not within the prefixHashes of ${HASH}: incompatible [deadbeefdeadbeef]`,
      'failed_children=2',
      `schedule_changed_during_build: pinned schedule_hash ${HASH} is not a prefix of the current schedule; rerun ghtrader data main-l5`,
    ]);
  });

  it('samples the first 8 days and sums missing days per segment', () => {
    // Prepare: 12 days in two segments, none covered, all provider_empty.
    const days = Array.from({ length: 12 }, (_, i) => `2025-02-${String(10 + i).padStart(2, '0')}`);
    const schedule = days.map((trading_day, i) => ({
      trading_day,
      main_contract: i < 5 ? 'SHFE.cu2503' : 'SHFE.cu2504',
      segment_id: i < 5 ? 3 : 4,
    }));

    // Act
    const h = computeBuildHealth(
      input({
        scheduleDays: schedule,
        coveredDays: new Set(days.slice(0, 2)),
        outcomes: days.slice(2).map((d) => outcome(d, 'provider_empty')),
        tolerance: 4,
      }),
    );

    // Assess
    expect(h.provider_missing_days).toBe(10);
    expect(h.provider_missing_days_sample).toEqual(days.slice(2, 10));
    expect(h.tolerated_provider_missing_days).toBe(4);
    expect(h.provider_missing_days_excess).toBe(6);
    expect(h.missing_by_segment).toEqual([
      { segment_id: 3, underlying_contract: 'SHFE.cu2503', missing_days: 3, total_days: 5 },
      { segment_id: 4, underlying_contract: 'SHFE.cu2504', missing_days: 7, total_days: 7 },
    ]);
    expect(h.skip_ledger.map((o) => o.day)).toEqual(days.slice(2));
  });

  it('refuses a negative tolerance', () => {
    expect(() => computeBuildHealth(input({ tolerance: -1 }))).toThrow(/tolerance/);
  });
});

describe('gate and daily-agg decisions (§5.6 steps 4-5)', () => {
  it('skips validation after health errors and only runs it when enforced', () => {
    expect(validationGateDecision(true, ['x'])).toEqual({
      enabled: true,
      run: false,
      checked: false,
      state: 'skipped',
      reason_code: 'preexisting_health_errors',
    });
    expect(validationGateDecision(true, [])).toEqual({ enabled: true, run: true });
    expect(validationGateDecision(false, [])).toEqual({ enabled: false, run: false });
  });

  it('names why the daily agg does not run', () => {
    expect(dailyAggSkipState(false, [], 3)).toBe('disabled_by_config');
    expect(dailyAggSkipState(true, ['x'], 3)).toBe('skipped/blocked_by_health_errors');
    expect(dailyAggSkipState(true, [], 0)).toBe('skipped/no_days_written');
    expect(dailyAggSkipState(true, [], 1)).toBeNull();
  });
});
