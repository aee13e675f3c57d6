import { describe, expect, it } from 'vitest';
import {
  backoffSeconds,
  type ChildView,
  type ComponentMemory,
  crashReason,
  type DecisionInput,
  type DesiredView,
  decide,
  initialMemory,
  type SupervisorSettings,
} from '#shared/domain/control/supervisor.ts';

const S: SupervisorSettings = {
  poll_s: 2,
  stop_grace_s: 30,
  backoff_base_s: 2,
  backoff_max_s: 60,
  stable_after_s: 60,
  crash_budget: 5,
  crash_window_s: 600,
  heartbeat_stale_s: 15,
  hung_restart_s: 0,
  lease_s: 10,
};
const T0 = Date.parse('2026-01-05T01:00:00.000Z');
const desired = (over: Partial<DesiredView> = {}): DesiredView => ({
  revision: 3,
  active: true,
  launch_key: '--account p',
  action: 'desired',
  ...over,
});
const alive = (over: Partial<Extract<ChildView, { kind: 'alive' }>> = {}): ChildView => ({
  kind: 'alive',
  started_at_ms: T0,
  launch_key: '--account p',
  stop_requested: null,
  ...over,
});
const exited = (code: number | null, atMs: number, signal: string | null = null): ChildView => ({
  kind: 'exited',
  exit: { code, signal, at_ms: atMs },
  stop_requested: null,
});
const input = (over: Partial<DecisionInput> = {}): DecisionInput => ({
  component: 'gateway',
  desired: desired(),
  child: { kind: 'none' },
  heartbeat_age_s: null,
  memory: initialMemory(),
  external_holder: null,
  now_ms: T0,
  settings: S,
  jitter: 0,
  ...over,
});

describe('decide: start and stop', () => {
  it('starts a gateway desired non-idle with no process as desired_non_idle_no_process', () => {
    const d = decide(input());
    expect(d).toMatchObject({ action: 'start', reason: 'desired_non_idle_no_process', status: 'starting' });
  });

  it('starts a strategy desired run with no process as desired_run_no_process', () => {
    expect(decide(input({ component: 'strategy' }))).toMatchObject({
      action: 'start',
      reason: 'desired_run_no_process',
    });
  });

  it('stops a running child when desired becomes idle', () => {
    const d = decide(input({ desired: desired({ active: false }), child: alive() }));
    expect(d).toMatchObject({ action: 'stop', reason: 'desired_idle', status: 'stopping' });
  });

  it('does nothing for an idle document without a process, and reports no document as not_initialized', () => {
    expect(decide(input({ desired: desired({ active: false }) }))).toMatchObject({
      action: 'none',
      status: 'desired_idle',
    });
    expect(decide(input({ desired: null }))).toMatchObject({ action: 'none', status: 'not_initialized' });
  });

  it('leaves a component whose trading lease someone else holds alone (externally_managed)', () => {
    expect(decide(input({ external_holder: 'job-x' }))).toMatchObject({
      action: 'none',
      reason: 'externally_managed',
      status: 'externally_managed',
    });
  });

  it('restarts a child whose launch arguments no longer match desired, then starts it as desired_changed', () => {
    const d = decide(input({ child: alive({ launch_key: '--account p --symbol A' }) }));
    expect(d).toMatchObject({ action: 'restart', reason: 'desired_changed', status: 'stopping' });
    const afterExit = decide(
      input({
        memory: d.memory,
        child: {
          kind: 'exited',
          exit: { code: 0, signal: null, at_ms: T0 + 500 },
          stop_requested: { reason: 'desired_changed', at_ms: T0 },
        },
        now_ms: T0 + 600,
      }),
    );
    expect(afterExit).toMatchObject({ action: 'start', reason: 'desired_changed' });
    expect(afterExit.memory.consecutive_crashes).toBe(0);
  });

  it('starts after a supervisor shutdown as supervisor_restart', () => {
    const memory: ComponentMemory = { ...initialMemory(), state: 'stopping', resume_after_shutdown: true };
    const d = decide(input({ memory }));
    expect(d).toMatchObject({ action: 'start', reason: 'supervisor_restart' });
    expect(d.memory.resume_after_shutdown).toBe(false);
  });

  it('raises stop_timeout once after the grace and never anything harsher', () => {
    const child = alive({ stop_requested: { reason: 'desired_idle', at_ms: T0 } });
    const early = decide(input({ desired: desired({ active: false }), child, now_ms: T0 + 29_000 }));
    expect(early).toMatchObject({ action: 'none', reason: 'desired_idle', status: 'stopping', events: [] });
    const late = decide(input({ desired: desired({ active: false }), child, now_ms: T0 + 30_000 }));
    expect(late).toMatchObject({ action: 'none', reason: 'stop_timeout', events: ['stop_timeout'] });
    const again = decide(
      input({ desired: desired({ active: false }), child, memory: late.memory, now_ms: T0 + 40_000 }),
    );
    expect(again.events).toEqual([]);
    expect(again.action).toBe('none');
  });
});

describe('decide: heartbeat', () => {
  it('is starting without a heartbeat, running while fresh and degraded from the stale age', () => {
    expect(decide(input({ child: alive(), now_ms: T0 + 1000 })).status).toBe('starting');
    expect(decide(input({ child: alive(), heartbeat_age_s: 14.9 })).status).toBe('running');
    expect(decide(input({ child: alive(), heartbeat_age_s: 15 })).status).toBe('degraded');
  });

  it('restarts a hung child as heartbeat_lost only when hung_restart_s > 0', () => {
    expect(decide(input({ child: alive(), heartbeat_age_s: 500 })).action).toBe('none');
    const d = decide(input({ child: alive(), heartbeat_age_s: 45, settings: { ...S, hung_restart_s: 45 } }));
    expect(d).toMatchObject({ action: 'restart', reason: 'heartbeat_lost' });
  });
});

describe('decide: crash backoff and budget', () => {
  it('backs off 2, 4, 8, 16 s (±20 %) and capped at the max', () => {
    expect([1, 2, 3, 4].map((n) => backoffSeconds(n, S, 0))).toEqual([2, 4, 8, 16]);
    expect(backoffSeconds(4, S, 1)).toBeCloseTo(19.2);
    expect(backoffSeconds(4, S, -1)).toBeCloseTo(12.8);
    expect(backoffSeconds(10, S, 0)).toBe(60);
    expect(() => backoffSeconds(0, S, 0)).toThrow(RangeError);
    expect(() => backoffSeconds(1, S, 1.5)).toThrow(RangeError);
  });

  it('names crashes by exit code or signal', () => {
    expect(crashReason({ code: 1, signal: null })).toBe('crashed:exit_1');
    expect(crashReason({ code: null, signal: 'SIGSEGV' })).toBe('crashed:signal_SIGSEGV');
  });

  it('walks 4 backoffs then holds the 5th crash within the window as crash_loop', () => {
    let memory = initialMemory();
    let now = T0;
    const waits: number[] = [];
    for (let crash = 1; crash <= 5; crash++) {
      const d = decide(input({ memory, child: exited(1, now), now_ms: now }));
      memory = d.memory;
      if (crash < 5) {
        expect(d).toMatchObject({
          action: 'wait_backoff',
          reason: 'crashed:exit_1',
          status: 'backoff',
          events: ['crash'],
        });
        waits.push(d.backoff_s ?? -1);
        // Not before the deadline ...
        const early = decide(input({ memory, now_ms: (memory.backoff_until_ms ?? 0) - 1 }));
        expect(early).toMatchObject({ action: 'wait_backoff', reason: 'crashed:exit_1' });
        // ... and at it, a restart carrying the crash as its reason.
        now = memory.backoff_until_ms ?? 0;
        const start = decide(input({ memory, now_ms: now }));
        expect(start).toMatchObject({ action: 'start', reason: 'crashed:exit_1' });
        memory = start.memory;
        now += 100;
      } else {
        expect(d).toMatchObject({
          action: 'hold_crash_loop',
          reason: 'crashed:exit_1',
          status: 'crash_loop',
          events: ['crash', 'crash_loop'],
        });
      }
    }
    expect(waits).toEqual([2, 4, 8, 16]);
    expect(memory.crash_loop_revision).toBe(3);
    // Nothing starts while the same desired revision stands, however long it waits.
    expect(decide(input({ memory, now_ms: now + 3_600_000 }))).toMatchObject({
      action: 'hold_crash_loop',
      status: 'crash_loop',
    });
  });

  it('applies the jitter to the chosen backoff', () => {
    const d = decide(input({ child: exited(1, T0), jitter: 0.5 }));
    expect(d.backoff_s).toBeCloseTo(2.2);
    expect(d.memory.backoff_until_ms).toBe(T0 + 2200);
  });

  it('lets old crashes age out of the budget window', () => {
    const memory: ComponentMemory = {
      ...initialMemory(),
      consecutive_crashes: 4,
      budget_window_ms: [T0 - 700_000, T0 - 650_000, T0 - 100_000, T0 - 50_000],
    };
    const d = decide(input({ memory, child: exited(1, T0) }));
    expect(d.action).toBe('wait_backoff');
    expect(d.memory.budget_window_ms).toEqual([T0 - 100_000, T0 - 50_000, T0]);
  });

  it('an operator start (a new desired revision) clears crash_loop and starts as operator_start', () => {
    const memory: ComponentMemory = {
      ...initialMemory(),
      state: 'crash_loop',
      consecutive_crashes: 5,
      budget_window_ms: [T0, T0, T0, T0, T0],
      crash_loop_revision: 3,
    };
    const d = decide(input({ memory, desired: desired({ revision: 4, action: 'start' }) }));
    expect(d).toMatchObject({ action: 'start', reason: 'operator_start', events: ['crash_loop_cleared'] });
    expect(d.memory).toMatchObject({ consecutive_crashes: 0, budget_window_ms: [], crash_loop_revision: null });
  });

  it('any other desired change clears crash_loop too, as desired_changed; idle clears it without a start', () => {
    const memory: ComponentMemory = { ...initialMemory(), state: 'crash_loop', crash_loop_revision: 3 };
    expect(decide(input({ memory, desired: desired({ revision: 4 }) }))).toMatchObject({
      action: 'start',
      reason: 'desired_changed',
    });
    expect(decide(input({ memory, desired: desired({ revision: 4, active: false }) }))).toMatchObject({
      action: 'none',
      status: 'desired_idle',
    });
  });

  it('resets the consecutive crash count after stable_after_s of healthy uptime', () => {
    const memory: ComponentMemory = { ...initialMemory(), consecutive_crashes: 3, budget_window_ms: [T0 - 1000] };
    const young = decide(input({ memory, child: alive(), heartbeat_age_s: 1, now_ms: T0 + 59_000 }));
    expect(young.memory.consecutive_crashes).toBe(3);
    const stale = decide(input({ memory, child: alive(), heartbeat_age_s: 20, now_ms: T0 + 61_000 }));
    expect(stale.memory.consecutive_crashes).toBe(3);
    const stable = decide(input({ memory, child: alive(), heartbeat_age_s: 1, now_ms: T0 + 60_000 }));
    expect(stable.memory.consecutive_crashes).toBe(0);
    expect(stable.events).toEqual(['stable_reset']);
    // The next crash backs off from the base again.
    const crash = decide(input({ memory: stable.memory, child: exited(1, T0 + 70_000), now_ms: T0 + 70_000 }));
    expect(crash.backoff_s).toBe(2);
  });

  it('does not count an exit it asked for, nor one after desired went idle', () => {
    const asked = decide(
      input({
        desired: desired({ active: false }),
        child: {
          kind: 'exited',
          exit: { code: 0, signal: null, at_ms: T0 },
          stop_requested: { reason: 'desired_idle', at_ms: T0 },
        },
      }),
    );
    expect(asked).toMatchObject({ action: 'none', status: 'desired_idle', events: [] });
    const idle = decide(input({ desired: desired({ active: false }), child: exited(1, T0) }));
    expect(idle.memory.consecutive_crashes).toBe(0);
    expect(idle.events).toEqual([]);
  });

  it('restarts a crashed child whose backoff deadline a restarted supervisor persisted, not earlier', () => {
    const memory: ComponentMemory = {
      ...initialMemory(),
      state: 'backoff',
      consecutive_crashes: 2,
      backoff_until_ms: T0 + 4000,
      pending_start_reason: 'crashed:signal_SIGKILL',
    };
    expect(decide(input({ memory, now_ms: T0 + 3999 })).action).toBe('wait_backoff');
    expect(decide(input({ memory, now_ms: T0 + 4000 }))).toMatchObject({
      action: 'start',
      reason: 'crashed:signal_SIGKILL',
    });
  });
});
