/**
 * One supervisor per host (acceptance 25, control-chain §6.2), with the real `ghtrader supervisor` command run from
 * source (`node --import tsx colo/cli.ts`) against this file's dynalite tables: a second supervisor for the same host
 * exits 1 with `lease_held:<owner>`; after the first is killed (SIGKILL: no release, the lease must expire), a
 * `--standby` one takes over within the 10 s lease with a higher fencing token.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBroadcasterStats } from '#shared/infra/aws/broadcaster-stats.ts';
import { ManagementServer } from '../aws-ws/management-server.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';
import { tempHome, uniqueName } from './support.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = path.join(ROOT, 'colo', 'cli.ts');

let stack: TestStack;
const children: ChildProcess[] = [];

beforeAll(async () => {
  stack = await createTestStack();
});

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
  }
  await stack.close();
});

interface Run {
  child: ChildProcess;
  out: () => string;
  exit: Promise<number | null>;
}

function supervisor(home: string, args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'supervisor', '--json', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...stack.config.env, GHTRADER_HOME: home, GHTRADER_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    out += String(d);
  });
  return { child, out: () => out, exit: new Promise((r) => child.once('exit', (code) => r(code))) };
}

async function banner(run: Run, timeoutMs: number): Promise<{ owner: string; fencing_token: number; at: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = run
      .out()
      .split('\n')
      .find((l) => l.startsWith('{"host_id"'));
    if (line) return { ...JSON.parse(line), at: Date.now() };
    if (Date.now() > deadline || run.child.exitCode !== null) {
      throw new Error(`no supervisor banner within ${timeoutMs} ms:\n${run.out()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('acceptance 25: one supervisor per host', () => {
  it('refuses a second supervisor with lease_held and lets a standby take over with a higher fencing token', async () => {
    // Prepare
    const home = await tempHome();
    const hostId = uniqueName('h25-');
    const first = supervisor(home, ['--host-id', hostId]);
    const a = await banner(first, 30_000);

    // Act: a second one, and a standby
    const second = supervisor(home, ['--host-id', hostId]);
    const standby = supervisor(home, ['--host-id', hostId, '--standby']);

    // Assess: the second exits 1 naming the holder
    expect(await second.exit).toBe(1);
    const err = JSON.parse(second.out().trim().split('\n').pop() ?? '{}');
    expect(err.error).toMatchObject({ code: 'lease_held', message: `lease_held:${a.owner}` });
    expect(standby.child.exitCode).toBeNull();
    expect(standby.out()).not.toContain('"host_id"');

    // Act: kill the first (no release: its lease has to expire)
    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    await first.exit;
    const c = await banner(standby, 20_000);

    // Assess
    expect(c.at - killedAt).toBeLessThan(11_000);
    expect(c.fencing_token).toBeGreaterThan(a.fencing_token);
    expect(c.owner).not.toBe(a.owner);
    const holder = await stack.rt.locks.holder(`supervisor:host=${hostId}`);
    expect(holder).toMatchObject({ owner: c.owner, fence: c.fencing_token });

    // A clean stop releases the lease and exits 0.
    standby.child.kill('SIGTERM');
    expect(await standby.exit).toBe(0);
    expect(await stack.rt.locks.holder(`supervisor:host=${hostId}`)).toBeNull();
  });
});

describe('the AWS live-update broadcaster inside the supervisor (control-chain §7)', () => {
  it('takes lease broadcaster:console, flushes its counters to TradingState, and releases the lease on SIGTERM', async () => {
    // Prepare: the Management API stand-in (no local emulator exists for it)
    const management = await ManagementServer.start();
    try {
      const home = await tempHome();
      const hostId = uniqueName('hb-');

      // Act
      const run = supervisor(home, ['--host-id', hostId, '--broadcaster-endpoint', management.endpoint]);
      await banner(run, 30_000);

      // Assess: the lease is this host's broadcaster, and its counters land in TradingState
      await expect
        .poll(async () => (await stack.rt.locks.holder('broadcaster:console'))?.owner ?? '', { timeout: 15_000 })
        .toMatch(new RegExp(`^broadcaster:${hostId}:`));
      await expect
        .poll(async () => readBroadcasterStats(stack.rt.clients.doc, stack.config.tables.tradingState, 'console'), {
          timeout: 15_000,
          interval: 500,
        })
        .toMatchObject({ host_id: hostId });
      run.child.kill('SIGTERM');
      expect(await run.exit).toBe(0);
      expect(await stack.rt.locks.holder('broadcaster:console')).toBeNull();
    } finally {
      await management.close();
    }
  }, 60_000);
});
