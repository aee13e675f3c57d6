/**
 * The supervisor process against dynalite and the real Redis (control-chain §6.2, acceptance 23 and 24). The children
 * are the fixture program `tests/fixtures/supervisor/component.mjs`, standing in for `ghtrader gateway run`, which
 * arrives with the trading chain. Backoff base 0.2 s instead of 2 s: the test asserts the doubling and the order, not
 * wall seconds.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Supervisor } from '#colo/supervisor/supervisor.ts';
import type { AuditEntry } from '#shared/domain/control/audit.ts';
import { supervisorsOverview } from '#shared/services/supervisor-view.ts';
import { createTestStack, type TestStack, waitFor } from '../support/stack.ts';
import { makeSupervisor, operator, RecordingLauncher, tempHome, uniqueName } from './support.ts';

let stack: TestStack;
const running: Supervisor[] = [];

beforeAll(async () => {
  stack = await createTestStack();
});

afterAll(async () => {
  for (const s of running) await s.stop();
  await stack.close();
});

async function auditOf(target: string): Promise<AuditEntry[]> {
  const day = new Date().toISOString().slice(0, 10);
  return (await stack.rt.audit.listDay(day, 500)).filter((e) => e.target === target).reverse();
}

const component = (profile: string) => stack.rt.supervisorTelemetry.getComponent('gateway', profile);

describe('acceptance 23: desired sim starts one gateway, desired idle stops it', () => {
  it('starts within one tick with desired_non_idle_no_process, stops with desired_idle, persists counters and audit', async () => {
    // Prepare
    const home = await tempHome();
    const hostId = uniqueName('h23-');
    const profile = uniqueName('p');
    const launcher = new RecordingLauncher(home, stack.log);
    await stack.rt.desired.write(operator(), 'gateway', {
      account_profile: profile,
      desired: { mode: 'sim', host_id: hostId },
    });
    const sup = makeSupervisor({ stack, home, hostId, launcher });
    running.push(sup);

    // Act
    const t0 = Date.now();
    await sup.start({ standby: false });
    const started = await waitFor(async () => (await component(profile))?.state === 'running', 5_000, 'running');

    // Assess
    expect(started).toBe(true);
    expect(launcher.launches).toHaveLength(1);
    expect(launcher.launches[0]?.at).toBeLessThan(t0 + 1_000);
    expect(launcher.launches[0]?.spec).toEqual({ component: 'gateway', profile, args: ['--account', profile] });
    const up = await component(profile);
    expect(up).toMatchObject({
      host_id: hostId,
      started_total: 1,
      restart_reasons_total: { desired_non_idle_no_process: 1 },
      stopped_total: 0,
      last_reason: 'desired_non_idle_no_process',
    });
    expect(up?.heartbeat?.state_revision).toBeGreaterThanOrEqual(1);
    expect(up?.child_pid).toBeGreaterThan(0);

    // Act: desired idle (through the service, as the API does)
    const stop = await stack.rt.desired.stop(operator(), 'gateway', { account_profile: profile });
    expect(stop.was_running).toBe(true);
    await waitFor(async () => (await component(profile))?.state === 'desired_idle', 5_000, 'desired_idle');

    // Assess
    expect(launcher.launches[0]?.exit).toEqual({ code: 0, signal: null });
    const state = JSON.parse(await readFile(path.join(home, 'state', 'gateway', profile, 'state.json'), 'utf8'));
    expect(state.health.stopping).toBe(true);
    expect(await component(profile)).toMatchObject({
      started_total: 1,
      stopped_total: 1,
      stop_reasons_total: { desired_idle: 1 },
      child_pid: null,
    });
    const audit = await auditOf(`gateway:${profile}`);
    const sup23 = audit.filter((e) => e.action.startsWith('supervisor.'));
    expect(sup23.map((e) => [e.action, e.reason, e.outcome])).toEqual([
      ['supervisor.start', 'desired_non_idle_no_process', 'ok'],
      ['supervisor.stop', 'desired_idle', 'ok'],
    ]);
    for (const e of sup23) {
      expect(e.actor).toEqual({ type: 'system', id: `supervisor@${hostId}`, name: `system:supervisor@${hostId}` });
      expect((e.after as { fencing_token: number }).fencing_token).toBe(sup.currentLease()?.fence);
    }
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['gateway.desired', 'gateway.stop']));
    const host = (await stack.rt.supervisorTelemetry.listHosts()).find((h) => h.host_id === hostId);
    expect(host?.ticks_total).toBeGreaterThan(1);
    expect(host?.tick_failures_total).toBe(0);
    expect(host?.fencing_token).toBe(sup.currentLease()?.fence);
    await sup.stop();
  });
});

describe('acceptance 24: a gateway that exits 1 at once', () => {
  it('backs off 1×, 2×, 4×, 8× the base, holds the 5th crash as crash_loop across a supervisor restart, and an operator start clears it', async () => {
    // Prepare
    const home = await tempHome();
    const hostId = uniqueName('h24-');
    const profile = uniqueName('p');
    const launcher = new RecordingLauncher(home, stack.log);
    launcher.behavior = 'exit:1';
    await stack.rt.desired.write(operator(), 'gateway', {
      account_profile: profile,
      desired: { mode: 'sim', host_id: hostId },
    });
    const first = makeSupervisor({ stack, home, hostId, launcher });
    running.push(first);

    // Act
    await first.start({ standby: false });
    await waitFor(async () => (await component(profile))?.state === 'crash_loop', 15_000, 'crash_loop');

    // Assess: 5 starts, 5 crashes, and the waits between a crash and the next start double from the base.
    expect(launcher.launches).toHaveLength(5);
    const gaps = launcher.launches.slice(1).map((l, i) => l.at - (launcher.launches[i]?.exitAt ?? Number.NaN));
    const expected = [200, 400, 800, 1600];
    gaps.forEach((gap, i) => {
      const want = expected[i] ?? 0;
      // Never early (the deadline is exit + backoff), and late by at most a poll plus spawn latency.
      expect(gap, `gap ${i + 1}`).toBeGreaterThanOrEqual(want - 20);
      expect(gap, `gap ${i + 1}`).toBeLessThan(want + 400);
    });
    for (let i = 1; i < gaps.length; i++) expect((gaps[i] ?? 0) > (gaps[i - 1] ?? 0)).toBe(true);
    const looped = await component(profile);
    expect(looped).toMatchObject({
      state: 'crash_loop',
      started_total: 5,
      restart_reasons_total: { desired_non_idle_no_process: 1, 'crashed:exit_1': 4 },
      consecutive_crashes: 5,
      last_exit: { code: 1, signal: null },
      crash_loop_revision: 1,
    });
    expect(looped?.budget_window).toHaveLength(5);
    // The observability view (and the SLO supervisors block) reads the same persisted telemetry.
    const overview = await supervisorsOverview(stack.rt.supervisorTelemetry, Date.now());
    expect(overview.input.crash_loop).toContain(`gateway:${profile}`);
    expect(overview.input.hosts.find((h) => h.host_id === hostId)).toMatchObject({
      lease_ok: true,
      tick_failures_total: 0,
      idle: false,
    });
    expect(overview.input.restarts_total).toBeGreaterThanOrEqual(5);
    await new Promise((r) => setTimeout(r, 600));
    expect(launcher.launches).toHaveLength(5);

    // Act: the supervisor restarts
    const firstFence = first.currentLease()?.fence ?? Number.POSITIVE_INFINITY;
    await first.stop();
    const second = makeSupervisor({ stack, home, hostId, launcher });
    running.push(second);
    await second.start({ standby: false });
    await waitFor(
      async () => {
        const h = (await stack.rt.supervisorTelemetry.listHosts()).find((x) => x.host_id === hostId);
        return h && h.fencing_token === second.currentLease()?.fence && h.ticks_total > 0;
      },
      5_000,
      'second supervisor ticks',
    );
    await new Promise((r) => setTimeout(r, 500));

    // Assess: nothing forgotten, nothing started
    expect(second.currentLease()?.fence).toBeGreaterThan(firstFence);
    expect(launcher.launches).toHaveLength(5);
    expect(await component(profile)).toMatchObject({
      state: 'crash_loop',
      restart_reasons_total: { 'crashed:exit_1': 4 },
    });

    // Act: an operator start (the component now starts cleanly)
    launcher.behavior = 'run';
    const r = await stack.rt.desired.start(operator(), 'gateway', { account_profile: profile });
    expect(r.desired_revision).toBe(2);
    await waitFor(async () => (await component(profile))?.state === 'running', 5_000, 'running after operator start');

    // Assess
    expect(launcher.launches).toHaveLength(6);
    expect(await component(profile)).toMatchObject({
      restart_reasons_total: { 'crashed:exit_1': 4, operator_start: 1 },
      consecutive_crashes: 0,
      budget_window: [],
      crash_loop_revision: null,
    });
    const audit = await auditOf(`gateway:${profile}`);
    expect(audit.filter((e) => e.action === 'supervisor.crash')).toHaveLength(5);
    expect(audit.filter((e) => e.action === 'supervisor.crash_loop')).toHaveLength(1);

    // Act: shutdown stops the child as supervisor_shutdown, marked for supervisor_restart
    await second.stop();
    expect(launcher.launches[5]?.exit).toEqual({ code: 0, signal: null });
    expect(await component(profile)).toMatchObject({
      stop_reasons_total: { supervisor_shutdown: 1 },
      resume_after_shutdown: true,
    });
  });
});
