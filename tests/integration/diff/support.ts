/**
 * Helpers for the DIFF client integration tests: a real simulator on a random loopback port (backoff base 50 ms),
 * a client configured against it, and small polling helpers. No mocks of our own infrastructure.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SimOptionsInput } from '#colo/sim/config.ts';
import { type SimulatorHandle, startSimulator } from '#colo/sim/server.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { DiffClient, type DiffClientOptions } from '#shared/infra/diff/client.ts';
import { type DiffConfig, loadDiffConfig } from '#shared/infra/diff/config.ts';
import { silentLogger } from '#shared/log.ts';

export const CAL = shippedCalendar();

/** A simulator on a random port: accelerated clock inside the Friday 2025-01-10 day session unless overridden. */
export function startSim(over: SimOptionsInput = {}): Promise<SimulatorHandle> {
  return startSimulator(
    { port: 0, clock: 'accelerated', start: '2025-01-10 09:30:00', speed: 1, openAccounts: true, ...over },
    { log: silentLogger() },
  );
}

/** Discovery configuration: AUTH, NS and FILES at the simulator, password grant, test backoff. */
export function simEnv(sim: SimulatorHandle, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GHTRADER_DIFF_AUTH_URL: sim.url,
    GHTRADER_DIFF_NS_URL: `${sim.url}/ns`,
    GHTRADER_DIFF_FILES_URL: sim.url,
    GHTRADER_DIFF_USER: 'ghtrader-it',
    GHTRADER_DIFF_PASSWORD: 'any',
    GHTRADER_DIFF_BACKOFF_BASE_MS: '50',
    GHTRADER_DIFF_READY_TIMEOUT_S: '20',
    ...extra,
  };
}

export function makeClient(env: Record<string, string>, over: Partial<DiffClientOptions> = {}): DiffClient {
  const config: DiffConfig = loadDiffConfig(env);
  return new DiffClient({ config, calendar: CAL, httpRetryDelayMs: () => 20, ...over });
}

export function tempFile(name: string): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'ght-diff-')), name);
}

/** Poll `fn` until it returns a value other than undefined, or fail after `timeoutMs`. */
export async function until<T>(fn: () => T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An unsigned JWT-shaped token with the given claims (the simulator refuses any token but its own). */
export function fakeJwt(claims: unknown): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.x`;
}
