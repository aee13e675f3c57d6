/**
 * A supervisor over a real per-file stack (dynalite + real Redis via `createTestStack`) whose children are the fixture
 * program `tests/fixtures/supervisor/component.mjs`, standing in for the gateway and strategy processes that arrive
 * with the trading chain. Timings come in through `SupervisorSettings` (short poll and backoff), never through sleeps.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ChildHandle,
  type ChildLauncher,
  type ChildSpec,
  ProcessChildLauncher,
} from '#colo/supervisor/child-launcher.ts';
import { HostLock } from '#colo/supervisor/host-lock.ts';
import { Supervisor } from '#colo/supervisor/supervisor.ts';
import type { SupervisorSettings } from '#shared/domain/control/supervisor.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemClock } from '#shared/domain/time.ts';
import { systemCaller } from '#shared/services/auth-service.ts';
import type { TestStack } from '../support/stack.ts';

export const FIXTURE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'fixtures',
  'supervisor',
  'component.mjs',
);

export const FAST_SETTINGS: SupervisorSettings = {
  poll_s: 0.1,
  stop_grace_s: 5,
  backoff_base_s: 0.2,
  backoff_max_s: 60,
  stable_after_s: 60,
  crash_budget: 5,
  crash_window_s: 600,
  heartbeat_stale_s: 15,
  hung_restart_s: 0,
  lease_s: 3,
};

export interface Launch {
  spec: ChildSpec;
  at: number;
  exitAt: number | null;
  exit: { code: number | null; signal: string | null } | null;
}

/** The fixture launcher, recording every launch and exit with wall times. */
export class RecordingLauncher implements ChildLauncher {
  readonly launches: Launch[] = [];
  /** What the next children do (`run` or `exit:<code>`). */
  behavior = 'run';
  private readonly inner: ProcessChildLauncher;

  constructor(home: string, log: TestStack['log']) {
    this.inner = new ProcessChildLauncher({
      build: (spec) => ({
        command: process.execPath,
        args: [FIXTURE, spec.component, spec.profile, ...spec.args],
        env: { ...process.env, GHTRADER_HOME: home, FIXTURE_BEHAVIOR: this.behavior },
      }),
      logDir: path.join(home, 'logs'),
      log,
    });
  }

  launch(spec: ChildSpec): ChildHandle {
    const handle = this.inner.launch(spec);
    const rec: Launch = { spec, at: Date.now(), exitAt: null, exit: null };
    this.launches.push(rec);
    void handle.exited.then((e) => {
      rec.exitAt = Date.now();
      rec.exit = e;
    });
    return handle;
  }
}

export async function tempHome(): Promise<string> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'ght-sup-'));
  await mkdir(path.join(home, 'run'), { recursive: true });
  return home;
}

export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(3).toString('hex')}`;
}

export function makeSupervisor(o: {
  stack: TestStack;
  home: string;
  hostId: string;
  launcher: ChildLauncher;
  settings?: SupervisorSettings;
}): Supervisor {
  const { rt } = o.stack;
  return new Supervisor({
    hostId: o.hostId,
    home: o.home,
    locks: rt.locks,
    desired: rt.desiredStore,
    telemetry: rt.supervisorTelemetry,
    audit: rt.audit,
    publish: (channel, message) => rt.warm.publish(channel, message),
    launcher: o.launcher,
    hostLock: new HostLock(path.join(o.home, 'run', 'supervisor.lock'), `${o.hostId} test`),
    clock: systemClock,
    ids: ulidGen,
    log: o.stack.log,
    settings: async () => o.settings ?? FAST_SETTINGS,
    // Jitter 0: the backoffs are exactly base × 2^(n−1), so the test can assert them.
    random: () => 0.5,
    knownProfiles: [],
  });
}

export const operator = () => ({ ...systemCaller('cli', 'cli:test@host', ulidGen.next()), role: 'operator' as const });
