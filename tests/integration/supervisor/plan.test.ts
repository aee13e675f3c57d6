/**
 * `ghtrader supervisor --once` (`colo/supervisor/plan.ts`) on the real emulators: with no supervisor on the host the
 * plan is what a first tick would decide (start a desired gateway, leave one whose lease another process holds), with
 * a supervisor holding the host it reports that supervisor and the recorded states, and it never writes telemetry,
 * takes a lease or starts anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planOnce } from '#colo/supervisor/plan.ts';
import { supervisorSettingsFrom } from '#colo/supervisor/settings.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemClock } from '#shared/domain/time.ts';
import { systemCaller } from '#shared/services/auth-service.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';

let stack: TestStack;
const HOST = `plan-${ulidGen.next().slice(-6).toLowerCase()}`;

const plan = () => {
  const { rt } = stack;
  return planOnce({
    hostId: HOST,
    locks: rt.locks,
    desired: rt.desiredStore,
    telemetry: rt.supervisorTelemetry,
    settings: supervisorSettingsFrom(rt.configService, rt.config.env),
    knownProfiles: ['default'],
    clock: systemClock,
  });
};

beforeAll(async () => {
  stack = await createTestStack();
  const cli = systemCaller('cli', 'cli:test@host', ulidGen.next());
  for (const p of ['plan_a', 'plan_b']) {
    await stack.rt.desired.write(cli, 'gateway', {
      account_profile: p,
      desired: { mode: 'sim', host_id: HOST },
    });
  }
  await stack.rt.desired.write(cli, 'gateway', {
    account_profile: 'plan_elsewhere',
    desired: { mode: 'sim', host_id: 'another-host' },
  });
});
afterAll(async () => {
  await stack?.close();
});

describe('supervisor --once', () => {
  it('decides as a first tick would, changing nothing', async () => {
    // Prepare: a process outside any supervisor holds plan_b's gateway lease
    const held = await stack.rt.locks.acquire(
      'trade:account=plan_b',
      { ownerId: 'manual-gw', host: 'h', pid: 1 },
      30_000,
    );
    expect(held.ok).toBe(true);

    // Act
    const p = await plan();

    // Assess
    const item = (key: string) => p.items.find((i) => `${i.component}:${i.account_profile}` === key);
    expect(p.active_supervisor).toBeNull();
    expect(p.note).toContain('nothing was started or stopped');
    expect(item('gateway:plan_a')).toMatchObject({
      desired_mode: 'sim',
      desired_host_id: HOST,
      recorded_state: 'not_initialized',
      action: 'start',
      reason: 'desired_non_idle_no_process',
    });
    expect(item('gateway:plan_b')).toMatchObject({
      action: 'none',
      status: 'externally_managed',
      lease_holder: 'manual-gw',
    });
    expect(item('gateway:plan_elsewhere')).toMatchObject({ desired_host_id: 'another-host', action: 'none' });
    expect(item('gateway:default')).toMatchObject({ desired_mode: null, action: 'none' });
    // Nothing was written or taken.
    expect(await stack.rt.supervisorTelemetry.getComponent('gateway', 'plan_a')).toBeNull();
    expect(await stack.rt.locks.holder(`supervisor:host=${HOST}`)).toBeNull();
    expect(await stack.rt.locks.holder('trade:account=plan_a')).toBeNull();
  });

  it('reports the active supervisor and the recorded states when one holds the host', async () => {
    // Prepare
    const lease = await stack.rt.locks.acquire(
      `supervisor:host=${HOST}`,
      { ownerId: `supervisor:${HOST}:1`, host: HOST, pid: 1 },
      30_000,
    );
    expect(lease.ok).toBe(true);

    // Act
    const p = await plan();

    // Assess
    expect(p.active_supervisor).toMatchObject({ owner: `supervisor:${HOST}:1`, fencing_token: expect.any(Number) });
    expect(p.items.every((i) => i.action === 'none' && i.reason === 'managed_by_active_supervisor')).toBe(true);
    expect(p.note).toContain(`supervisor:${HOST}:1 manages this host`);
  });
});
