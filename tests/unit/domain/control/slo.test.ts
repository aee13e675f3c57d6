import { describe, expect, it } from 'vitest';
import {
  type ControlPlaneInput,
  type DataPlaneInput,
  dlqRule,
  evaluateSlo,
  evaluateSupervisors,
  modelAgeRules,
  queueAgeRule,
  queueDepthRule,
  redisRule,
  type SloInput,
  type SloThresholds,
  type SupervisorHostInput,
  sloWorst,
  supervisorRules,
  tickStoreRule,
} from '#shared/domain/control/slo.ts';

const T: SloThresholds = {
  queue_warn: 64,
  queue_crit: 128,
  queue_age_warn_s: 300,
  supervisor_tick_fail_crit: 10,
  require_tickstore: true,
  require_redis: false,
  model_max_age_h: 48,
};

const host = (over: Partial<SupervisorHostInput> = {}): SupervisorHostInput => ({
  host_id: 'h1',
  lease_ok: true,
  last_tick_at: '2026-01-05T01:00:00.000Z',
  tick_failures_total: 0,
  silent_ticks: 0,
  idle: false,
  ...over,
});

function control(over: Partial<ControlPlaneInput> = {}): ControlPlaneInput {
  return {
    running_jobs: 1,
    queued_jobs: 2,
    queue_depth: 2,
    oldest_queued_age_s: 5,
    dlq_depth: 0,
    lease_expired_running: 0,
    audit_write_failures_total: 0,
    ws: { available: false, reason: 'no hub', as_of: '2026-01-05T01:00:00.000Z' },
    supervisors: { hosts: [], restarts_total: 0, crash_loop: [] },
    errors: [],
    ...over,
  };
}

function data(over: Partial<DataPlaneInput> = {}): DataPlaneInput {
  return {
    tickstore: { present: true, ok: true, latency_ms: 1.2, error: null },
    redis: { enabled: true, ok: true, error: null },
    freshness: { cu: { last_complete_trading_day: '2026-01-02', lag_days: 0, state: 'ok' } },
    ...over,
  };
}

function input(over: Partial<SloInput> = {}): SloInput {
  return {
    generated_at: '2026-01-05T01:00:00.000Z',
    thresholds: T,
    control: control(),
    data: data(),
    training: { newest_model_age_h: { cu: 1 }, train_failures_24h: 0 },
    ...over,
  };
}

describe('SLO rules (control-chain §10)', () => {
  it('queue depth: ≥ crit error, ≥ warn warn, below ok, unmeasured none', () => {
    expect(queueDepthRule(63, T)).toBeNull();
    expect(queueDepthRule(64, T)?.state).toBe('warn');
    expect(queueDepthRule(127, T)?.state).toBe('warn');
    expect(queueDepthRule(128, T)?.state).toBe('error');
    expect(queueDepthRule(null, T)).toBeNull();
  });

  it('oldest queued: ≥ 3 × age-warn error, ≥ age-warn warn', () => {
    expect(queueAgeRule(299.9, T)).toBeNull();
    expect(queueAgeRule(300, T)?.state).toBe('warn');
    expect(queueAgeRule(899, T)?.state).toBe('warn');
    expect(queueAgeRule(900, T)?.state).toBe('error');
    expect(queueAgeRule(null, T)).toBeNull();
  });

  it('DLQ not empty: warn', () => {
    expect(dlqRule(0)).toBeNull();
    expect(dlqRule(null)).toBeNull();
    expect(dlqRule(1)).toMatchObject({ rule: 'dlq_depth', state: 'warn' });
  });

  it('supervisor tick failures: ≥ crit error, any warn', () => {
    expect(supervisorRules({ hosts: [host()], restarts_total: 0, crash_loop: [] }, T)).toEqual([]);
    expect(
      supervisorRules({ hosts: [host({ tick_failures_total: 1 })], restarts_total: 0, crash_loop: [] }, T),
    ).toEqual([expect.objectContaining({ rule: 'supervisor_tick_failures', state: 'warn' })]);
    expect(
      supervisorRules({ hosts: [host({ tick_failures_total: 10 })], restarts_total: 0, crash_loop: [] }, T),
    ).toEqual([expect.objectContaining({ rule: 'supervisor_tick_failures', state: 'error' })]);
  });

  it('a supervisor silent 5 ticks with a non-idle profile is an error; idle or 4 ticks is not', () => {
    const rules = (h: SupervisorHostInput) => supervisorRules({ hosts: [h], restarts_total: 0, crash_loop: [] }, T);
    expect(rules(host({ silent_ticks: 4 }))).toEqual([]);
    expect(rules(host({ silent_ticks: 5, idle: true }))).toEqual([]);
    expect(rules(host({ silent_ticks: 5 }))).toEqual([
      expect.objectContaining({ rule: 'supervisor_silent', state: 'error' }),
    ]);
  });

  it('a crash loop is an error', () => {
    expect(supervisorRules({ hosts: [], restarts_total: 7, crash_loop: ['gateway:default'] }, T)).toEqual([
      expect.objectContaining({ rule: 'supervisor_crash_loop', state: 'error' }),
    ]);
  });

  it('supervisors object: empty without hosts, else its worst rule', () => {
    const none = evaluateSupervisors({ hosts: [], restarts_total: 0, crash_loop: [], message: 'none yet' }, T);
    expect(none.view).toEqual({ state: 'empty', hosts: [], restarts_total: 0, crash_loop: [], message: 'none yet' });
    const one = evaluateSupervisors(
      { hosts: [host({ tick_failures_total: 2, silent_ticks: 3 })], restarts_total: 1, crash_loop: [] },
      T,
    );
    expect(one.view.state).toBe('warn');
    expect(one.view.hosts).toEqual([
      { host_id: 'h1', lease_ok: true, last_tick_at: '2026-01-05T01:00:00.000Z', tick_failures_total: 2 },
    ]);
    expect(evaluateSupervisors({ hosts: [host()], restarts_total: 0, crash_loop: [] }, T).view.state).toBe('ok');
  });

  it('tick store down (or absent): error when required, warn when not', () => {
    const down = { present: true, ok: false, latency_ms: null, error: 'connection refused' };
    const absent = { present: false, ok: false, latency_ms: null, error: 'no tick store here' };
    expect(tickStoreRule({ present: true, ok: true, latency_ms: 1, error: null }, T)).toBeNull();
    expect(tickStoreRule(down, T)).toMatchObject({ state: 'error', message: expect.stringContaining('refused') });
    expect(tickStoreRule(down, { ...T, require_tickstore: false })?.state).toBe('warn');
    expect(tickStoreRule(absent, T)).toMatchObject({ state: 'error', message: expect.stringContaining('absent') });
    expect(tickStoreRule(absent, { ...T, require_tickstore: false })?.state).toBe('warn');
  });

  it('Redis down: error when required, warn when not; turned off counts only when required', () => {
    const down = { enabled: true, ok: false, error: 'redis_unavailable' };
    expect(redisRule({ enabled: true, ok: true, error: null }, T)).toBeNull();
    expect(redisRule(down, T)?.state).toBe('warn');
    expect(redisRule(down, { ...T, require_redis: true })?.state).toBe('error');
    expect(redisRule({ enabled: false, ok: false, error: null }, T)).toBeNull();
    expect(redisRule({ enabled: false, ok: false, error: null }, { ...T, require_redis: true })?.state).toBe('error');
  });

  it('a stale newest model warns', () => {
    expect(modelAgeRules({ cu: 48 }, T)).toEqual([]);
    expect(modelAgeRules({ cu: 48.5, au: 2 }, T)).toEqual([
      expect.objectContaining({ rule: 'model_age', state: 'warn', message: expect.stringContaining('cu') }),
    ]);
  });

  it('worst state ignores empty unless everything is empty', () => {
    expect(sloWorst([])).toBe('ok');
    expect(sloWorst(['ok', 'empty'])).toBe('ok');
    expect(sloWorst(['empty', 'empty'])).toBe('empty');
    expect(sloWorst(['ok', 'warn', 'empty'])).toBe('warn');
    expect(sloWorst(['warn', 'error', 'ok'])).toBe('error');
  });
});

describe('evaluateSlo', () => {
  it('all healthy: every plane ok, overall ok, the §10 shape', () => {
    const s = evaluateSlo(input());
    expect(s.overall).toBe('ok');
    expect(s).toMatchObject({
      generated_at: '2026-01-05T01:00:00.000Z',
      thresholds: T,
      data_plane: {
        state: 'ok',
        tickstore: { ok: true, latency_ms: 1.2, error: null },
        redis: { enabled: true, ok: true, error: null },
        freshness: { cu: { last_complete_trading_day: '2026-01-02', lag_days: 0 } },
      },
      training_plane: { state: 'ok', newest_model_age_h: { cu: 1 }, train_failures_24h: 0 },
      control_plane: {
        state: 'ok',
        running_jobs: 1,
        queued_jobs: 2,
        queue_depth: 2,
        oldest_queued_age_s: 5,
        dlq_depth: 0,
        lease_expired_running: 0,
        audit_write_failures_total: 0,
        supervisors: { state: 'empty', hosts: [], restarts_total: 0, crash_loop: [] },
      },
    });
  });

  it('plane = worst rule; overall = worst plane', () => {
    const s = evaluateSlo(
      input({
        control: control({ queue_depth: 70, dlq_depth: 1, oldest_queued_age_s: 1000 }),
        data: data({ redis: { enabled: true, ok: false, error: 'redis_unavailable' } }),
      }),
    );
    expect(s.control_plane.state).toBe('error');
    expect(s.control_plane.findings.map((f) => [f.rule, f.state])).toEqual([
      ['queue_depth', 'warn'],
      ['oldest_queued_age', 'error'],
      ['dlq_depth', 'warn'],
    ]);
    expect(s.data_plane.state).toBe('warn');
    expect(s.overall).toBe('error');
  });

  it('a warn plane makes overall warn', () => {
    const s = evaluateSlo(input({ training: { newest_model_age_h: { cu: 100 }, train_failures_24h: null } }));
    expect(s.training_plane.state).toBe('warn');
    expect(s.overall).toBe('warn');
  });

  it('no models: the training plane is empty and does not lower overall', () => {
    const s = evaluateSlo(
      input({ training: { newest_model_age_h: {}, train_failures_24h: null, message: 'no models yet' } }),
    );
    expect(s.training_plane).toMatchObject({ state: 'empty', message: 'no models yet' });
    expect(s.overall).toBe('ok');
  });

  it('an unmeasurable control-plane input is an error naming it', () => {
    const s = evaluateSlo(
      input({
        control: control({
          queued_jobs: null,
          queue_depth: null,
          errors: [{ input: 'jobs.count.queued', message: 'ResourceNotFoundException' }],
        }),
      }),
    );
    expect(s.control_plane.state).toBe('error');
    expect(s.control_plane.findings).toEqual([
      expect.objectContaining({ rule: 'input_unavailable', message: 'jobs.count.queued: ResourceNotFoundException' }),
    ]);
    expect(s.control_plane.errors).toHaveLength(1);
    expect(s.overall).toBe('error');
  });

  it('the tick store absent from the process: not ok, error when required', () => {
    const s = evaluateSlo(
      input({ data: data({ tickstore: { present: false, ok: false, latency_ms: null, error: 'none here' } }) }),
    );
    expect(s.data_plane.tickstore).toEqual({ ok: false, latency_ms: null, error: 'none here' });
    expect(s.data_plane.state).toBe('error');
    const relaxed = evaluateSlo({
      ...input({ data: data({ tickstore: { present: false, ok: false, latency_ms: null, error: 'none here' } }) }),
      thresholds: { ...T, require_tickstore: false },
    });
    expect(relaxed.data_plane.state).toBe('warn');
  });

  it('supervisor findings raise the control plane', () => {
    const s = evaluateSlo(
      input({
        control: control({ supervisors: { hosts: [host({ silent_ticks: 9 })], restarts_total: 0, crash_loop: [] } }),
      }),
    );
    expect(s.control_plane.supervisors.state).toBe('error');
    expect(s.control_plane.state).toBe('error');
  });
});
