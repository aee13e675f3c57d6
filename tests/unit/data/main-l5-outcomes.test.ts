import { describe, expect, it } from 'vitest';
import { computeBuildHealth } from '#shared/domain/data/main-l5/finalize.ts';
import {
  type CircuitState,
  circuitAfterFailure,
  circuitAfterSuccess,
  circuitOpen,
  classifyProviderError,
  classOfReason,
  type DayOutcome,
  DayOutcomeSchema,
  type DayRetryState,
  emptyDayReason,
  INITIAL_DAY_RETRY_STATE,
  makeDayOutcome,
  onProviderError,
  providerCalls,
  sqsDelaySeconds,
} from '#shared/domain/data/main-l5/outcomes.ts';
import { type MainL5Settings, resolveMainL5Settings } from '#shared/domain/data/main-l5/settings.ts';
import { shapeDay } from '#shared/domain/data/main-l5/shape.ts';
import { TICK_NUMERIC_COLUMNS } from '#shared/domain/data/tick-columns.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import type { TickRow } from '#shared/domain/market/ports.ts';
import { parseCst } from '#shared/domain/market/sessions.ts';
import { DiffTimeoutError, MaintenanceError } from '#shared/errors/diff.ts';

const settingsOf = (env: Record<string, string> = {}): MainL5Settings => resolveMainL5Settings({ env }, 'cu');

function l5Tick(cst: string): TickRow {
  const row: Record<string, unknown> = { symbol: 'SHFE.cu2502', id: 1, trading_day: '', datetime: parseCst(cst) };
  for (const c of TICK_NUMERIC_COLUMNS) row[c] = 1;
  return row as unknown as TickRow;
}

/**
 * A child of one build processing `days` in order the way §5.5 prescribes, on a fake clock: circuit check, provider
 * call, `onProviderError` decisions (a requeue is simulated as the redelivered message continuing the same day with
 * the returned state), breaker updates on the parent, shaping on success.
 */
function simulateChild(
  days: readonly string[],
  provider: (day: string) => TickRow[][],
  settings: MainL5Settings,
): { outcomes: DayOutcome[]; calls: number; requeues: number[]; reconnects: number; breaker: CircuitState } {
  let nowMs = Date.parse('2025-01-13T11:00:00Z');
  let breaker: CircuitState = { failures: 0, openUntilMs: null };
  const outcomes: DayOutcome[] = [];
  const requeues: number[] = [];
  let calls = 0;
  let reconnects = 0;
  const base = (day: string) => ({
    day,
    underlying_contract: 'SHFE.cu2502',
    segment_id: 0,
    schedule_hash: 'f25225a1507bb808',
  });
  for (const day of days) {
    let state: DayRetryState = INITIAL_DAY_RETRY_STATE;
    for (;;) {
      if (circuitOpen(breaker.openUntilMs, nowMs)) {
        outcomes.push(
          makeDayOutcome({
            ...base(day),
            reason: 'maintenance_circuit_open',
            circuit_open_until_ms: breaker.openUntilMs,
            circuit_failures: breaker.failures,
            now_ms: nowMs,
          }),
        );
        break;
      }
      calls++;
      let pages: TickRow[][];
      try {
        pages = provider(day);
      } catch (err) {
        const d = onProviderError(state, classifyProviderError(err), settings);
        if (d.action === 'requeue') {
          requeues.push(d.delayS);
          nowMs += d.delayS * 1000;
          state = d.next;
          continue;
        }
        if (d.action === 'retry') {
          if (d.reconnect) reconnects++;
          nowMs += d.backoffS * 1000;
          state = d.next;
          continue;
        }
        if (d.countsAsCircuitFailure) breaker = circuitAfterFailure(breaker, settings, nowMs);
        outcomes.push(
          makeDayOutcome({
            ...base(day),
            reason: d.reason,
            attempts: providerCalls(d.next),
            wait_total_s: d.next.waitedS,
            circuit_open_until_ms: breaker.openUntilMs,
            circuit_failures: breaker.failures,
            error: err,
            now_ms: nowMs,
          }),
        );
        break;
      }
      breaker = circuitAfterSuccess(breaker, nowMs);
      const shaped = shapeDay(pages, { tradingDay: day, variety: 'cu', calendar: shippedCalendar() });
      const empty = emptyDayReason(shaped.counts);
      outcomes.push(
        makeDayOutcome({
          ...base(day),
          reason: empty,
          counts: shaped.counts,
          rows_written: empty === null ? shaped.batch.datetimeNs.length : 0,
          attempts: providerCalls(state),
          wait_total_s: state.waitedS,
          now_ms: nowMs,
        }),
      );
      break;
    }
  }
  return { outcomes, calls, requeues, reconnects, breaker };
}

describe('provider errors, maintenance and the breaker (data-chain §5.5, §11 items 11-12)', () => {
  it('item 11: always "maintenance window", max retries 1 → one requeue, one transient_skipped outcome, finalize fails even with tolerance 5', () => {
    // Prepare
    const settings = settingsOf({ GHTRADER_TQ_MAINTENANCE_MAX_RETRIES: '1' });
    const provider = () => {
      throw new Error('maintenance window');
    };

    // Act
    const run = simulateChild(['2025-01-13'], provider, settings);
    const health = computeBuildHealth({
      scheduleDays: [{ trading_day: '2025-01-13', main_contract: 'SHFE.cu2502', segment_id: 0 }],
      coveredDays: new Set(),
      firstStoredDay: null,
      outcomes: run.outcomes,
      tolerance: 5,
      storedHashes: [],
      prefixHashes: ['f25225a1507bb808'],
      pinnedHash: 'f25225a1507bb808',
      currentPrefixHashes: ['f25225a1507bb808'],
      failedChildren: 0,
    });

    // Assess
    expect(run.requeues).toEqual([2100]);
    expect(run.calls).toBe(2);
    expect(run.outcomes).toHaveLength(1);
    expect(run.outcomes[0]).toMatchObject({
      class: 'transient_skipped',
      reason: 'maintenance_retry_exhausted',
      rows_written: 0,
      wait_total_s: 2100,
      attempts: 2,
      error: 'maintenance window',
    });
    expect(health.transient_skipped_days).toBe(1);
    expect(health.errors.some((e) => e.startsWith('transient_skipped_days=1'))).toBe(true);
  });

  it('item 11: max retries 0, threshold 1, two days → the provider is called once; reasons exhausted, circuit_open', () => {
    // Prepare
    const settings = settingsOf({
      GHTRADER_TQ_MAINTENANCE_MAX_RETRIES: '0',
      GHTRADER_TQ_MAINTENANCE_CIRCUIT_THRESHOLD: '1',
    });
    const provider = () => {
      throw new Error('Server is under MAINTENANCE');
    };

    // Act
    const run = simulateChild(['2025-01-13', '2025-01-14'], provider, settings);

    // Assess
    expect(run.calls).toBe(1);
    expect(run.outcomes.map((o) => o.reason)).toEqual(['maintenance_retry_exhausted', 'maintenance_circuit_open']);
    expect(run.outcomes.map((o) => o.class)).toEqual(['transient_skipped', 'transient_skipped']);
    expect(run.breaker.failures).toBe(1);
    expect(run.outcomes[1]?.circuit_open_until).toBe(
      new Date(Date.parse('2025-01-13T11:00:00Z') + 2100_000).toISOString(),
    );
  });

  it('item 12: a first call failing with "…timeout", retry max 1, reset-after 2 → no reconnect, then 1 row written', () => {
    // Prepare
    const settings = settingsOf({
      GHTRADER_TQ_RETRY_MAX: '1',
      GHTRADER_TQ_RETRY_BASE_S: '0',
      GHTRADER_TQ_RETRY_MAX_S: '0',
      GHTRADER_TQ_TIMEOUT_RESET_AFTER: '2',
    });
    let n = 0;
    const provider = () => {
      n++;
      if (n === 1) throw new Error('get_tick_data_series timeout');
      return [[l5Tick('2025-01-13 10:00:00')]];
    };

    // Act
    const run = simulateChild(['2025-01-13'], provider, settings);

    // Assess
    expect(run.reconnects).toBe(0);
    expect(run.calls).toBe(2);
    expect(run.outcomes).toHaveLength(1);
    expect(run.outcomes[0]).toMatchObject({ class: 'written', reason: null, rows_written: 1, attempts: 2 });
  });
});

describe('onProviderError (§5.5 steps 3-4)', () => {
  const s = settingsOf();

  it('requeues maintenance waits until the retries are used up', () => {
    // Act
    const a = onProviderError(INITIAL_DAY_RETRY_STATE, 'maintenance', s);
    const next = a.action === 'requeue' ? a.next : INITIAL_DAY_RETRY_STATE;
    const b = onProviderError({ ...next, maintenanceAttempts: 3 }, 'maintenance', s);

    // Assess
    expect(a).toEqual({
      action: 'requeue',
      delayS: 2100,
      next: { attempts: 0, maintenanceAttempts: 1, waitedS: 2100 },
    });
    expect(b).toMatchObject({ action: 'outcome', reason: 'maintenance_retry_exhausted', countsAsCircuitFailure: true });
  });

  it('caps the wait at the remaining budget and stops when the budget is spent', () => {
    const capped = onProviderError({ attempts: 0, maintenanceAttempts: 1, waitedS: 6300 }, 'maintenance', s);
    const spent = onProviderError({ attempts: 0, maintenanceAttempts: 2, waitedS: 7200 }, 'maintenance', s);
    expect(capped).toEqual({
      action: 'requeue',
      delayS: 900,
      next: { attempts: 0, maintenanceAttempts: 2, waitedS: 7200 },
    });
    expect(spent).toMatchObject({
      action: 'outcome',
      reason: 'maintenance_wait_budget_exhausted',
      countsAsCircuitFailure: true,
    });
  });

  it('treats maintenance as an ordinary error when the maintenance wait is 0', () => {
    const d = onProviderError(
      INITIAL_DAY_RETRY_STATE,
      'maintenance',
      settingsOf({ GHTRADER_TQ_MAINTENANCE_WAIT_S: '0' }),
    );
    expect(d).toEqual({
      action: 'retry',
      backoffS: 10,
      reconnect: true,
      next: { attempts: 1, maintenanceAttempts: 0, waitedS: 0 },
    });
  });

  it('backs off exponentially up to max_s and fails the day after retry max', () => {
    // Prepare
    const tight = settingsOf({ GHTRADER_TQ_RETRY_MAX: '4', GHTRADER_TQ_RETRY_MAX_S: '50' });
    let state: DayRetryState = INITIAL_DAY_RETRY_STATE;
    const backoffs: number[] = [];

    // Act
    for (;;) {
      const d = onProviderError(state, 'other', tight);
      if (d.action !== 'retry') {
        expect(d).toMatchObject({ action: 'outcome', reason: 'download_failed', countsAsCircuitFailure: false });
        expect(d.next.attempts).toBe(5);
        break;
      }
      backoffs.push(d.backoffS);
      state = d.next;
    }

    // Assess
    expect(backoffs).toEqual([10, 20, 40, 50]);
  });

  it('reconnects after a timeout only once attempts reach timeout_reset_after', () => {
    const first = onProviderError(INITIAL_DAY_RETRY_STATE, 'timeout', s);
    const second = onProviderError({ attempts: 1, maintenanceAttempts: 0, waitedS: 0 }, 'timeout', s);
    const other = onProviderError(INITIAL_DAY_RETRY_STATE, 'other', s);
    expect(first).toMatchObject({ action: 'retry', reconnect: false });
    expect(second).toMatchObject({ action: 'retry', reconnect: true });
    expect(other).toMatchObject({ action: 'retry', reconnect: true });
  });
});

describe('classifyProviderError', () => {
  it.each<[unknown, string]>([
    [new Error('maintenance window'), 'maintenance'],
    [new Error('Server MAINTENANCE in progress'), 'maintenance'],
    [new Error('系统运维中'), 'maintenance'],
    [new Error('服务器维护'), 'maintenance'],
    [new MaintenanceError('md server in maintenance (HTTP 503: )'), 'maintenance'],
    [new Error('wrapped', { cause: new Error('daily maintenance') }), 'maintenance'],
    [{ notify: { code: 2019112911, content: '交易服务器维护中' } }, 'maintenance'],
    ['maintenance', 'maintenance'],
    [new Error('get_tick_data_series timeout'), 'timeout'],
    [new Error('request timed out'), 'timeout'],
    [new Error('请求超时'), 'timeout'],
    [new DiffTimeoutError('set_chart ticks', 30000), 'timeout'],
    [new Error('maintenance timeout'), 'maintenance'],
    [new Error('connection reset by peer'), 'other'],
    [undefined, 'other'],
  ])('classifies %s as %s', (err, kind) => {
    expect(classifyProviderError(err)).toBe(kind);
  });
});

describe('circuit breaker (per build)', () => {
  const s = settingsOf();
  const now = 1_000_000;

  it('opens at the threshold for the cooldown and never moves open_until backwards', () => {
    // Act
    let st: CircuitState = { failures: 0, openUntilMs: null };
    st = circuitAfterFailure(st, s, now);
    st = circuitAfterFailure(st, s, now);
    const beforeThreshold = st;
    st = circuitAfterFailure(st, s, now);
    const later = circuitAfterFailure({ failures: 5, openUntilMs: now + 10_000_000 }, s, now);

    // Assess
    expect(beforeThreshold).toEqual({ failures: 2, openUntilMs: null });
    expect(st).toEqual({ failures: 3, openUntilMs: now + 2100_000 });
    expect(circuitOpen(st.openUntilMs, now + 2099_999)).toBe(true);
    expect(circuitOpen(st.openUntilMs, now + 2100_000)).toBe(false);
    expect(later.openUntilMs).toBe(now + 10_000_000);
  });

  it('stays closed when disabled or with a zero cooldown', () => {
    const disabled = settingsOf({
      GHTRADER_TQ_MAINTENANCE_CIRCUIT_ENABLED: 'false',
      GHTRADER_TQ_MAINTENANCE_CIRCUIT_THRESHOLD: '1',
    });
    const zero = settingsOf({
      GHTRADER_TQ_MAINTENANCE_CIRCUIT_COOLDOWN_S: '0',
      GHTRADER_TQ_MAINTENANCE_CIRCUIT_THRESHOLD: '1',
    });
    expect(circuitAfterFailure({ failures: 0, openUntilMs: null }, disabled, now)).toEqual({
      failures: 1,
      openUntilMs: null,
    });
    expect(circuitAfterFailure({ failures: 0, openUntilMs: null }, zero, now)).toEqual({
      failures: 1,
      openUntilMs: null,
    });
  });

  it('resets failures on success and clears only an expired open state', () => {
    expect(circuitAfterSuccess({ failures: 4, openUntilMs: now - 1 }, now)).toEqual({ failures: 0, openUntilMs: null });
    expect(circuitAfterSuccess({ failures: 4, openUntilMs: now + 1 }, now)).toEqual({
      failures: 0,
      openUntilMs: now + 1,
    });
    expect(circuitOpen(null, now)).toBe(false);
    expect(circuitOpen(undefined, now)).toBe(false);
  });
});

describe('day outcomes', () => {
  it('derives classes from reasons per the §5.5 table', () => {
    expect(classOfReason(null)).toBe('written');
    expect(classOfReason('provider_empty')).toBe('provider_missing');
    expect(classOfReason('no_l5_rows')).toBe('provider_missing');
    expect(classOfReason('maintenance_wait_budget_exhausted')).toBe('transient_skipped');
    expect(classOfReason('maintenance_circuit_open')).toBe('transient_skipped');
    for (const r of [
      'no_rows_in_session',
      'download_failed',
      'write_failed',
      'readback_mismatch',
      'not_attempted',
    ] as const) {
      expect(classOfReason(r)).toBe('engineering_missing');
    }
    expect(() => classOfReason('nope' as 'not_attempted')).toThrow(/unknown day outcome reason/);
  });

  it('names the empty-day reason from the shaping counts', () => {
    expect(emptyDayReason({ rows_fetched: 0, rows_l5: 0, rows_in_session: 0 })).toBe('provider_empty');
    expect(emptyDayReason({ rows_fetched: 5, rows_l5: 0, rows_in_session: 0 })).toBe('no_l5_rows');
    expect(emptyDayReason({ rows_fetched: 5, rows_l5: 3, rows_in_session: 0 })).toBe('no_rows_in_session');
    expect(emptyDayReason({ rows_fetched: 5, rows_l5: 3, rows_in_session: 1 })).toBeNull();
  });

  it('builds outcomes with exactly the spec fields and parses them back', () => {
    // Act
    const o = makeDayOutcome({
      day: '2025-01-13',
      underlying_contract: 'SHFE.cu2502',
      segment_id: 2n,
      schedule_hash: 'f25225a1507bb808',
      reason: 'write_failed',
      counts: { rows_fetched: 10, rows_l5: 9, rows_in_session: 8 },
      attempts: 1,
      error: new Error('ILP request failed'),
      now_ms: Date.parse('2025-01-13T11:00:00Z'),
    });

    // Assess
    expect(Object.keys(o).sort()).toEqual(
      [
        'day',
        'underlying_contract',
        'segment_id',
        'schedule_hash',
        'class',
        'reason',
        'rows_fetched',
        'rows_l5',
        'rows_in_session',
        'rows_written',
        'attempts',
        'wait_total_s',
        'error',
        'created_at',
      ].sort(),
    );
    expect(o).toMatchObject({ class: 'engineering_missing', segment_id: 2, created_at: '2025-01-13T11:00:00.000Z' });
    expect(DayOutcomeSchema.parse(JSON.parse(JSON.stringify(o)))).toEqual(o);
    expect(DayOutcomeSchema.safeParse({ ...o, class: 'provider_missing' }).success).toBe(false);
  });

  it('computes SQS delays capped at 900 s', () => {
    expect(sqsDelaySeconds(1000, 2000)).toBe(0);
    expect(sqsDelaySeconds(2000 + 1500, 2000)).toBe(2);
    expect(sqsDelaySeconds(2100_000, 0)).toBe(900);
  });
});
