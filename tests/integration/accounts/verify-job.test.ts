/**
 * `account.verify` end to end against the real SHFE simulator (a broker with one account and a known password) over a
 * real per-file stack: jobs submitted through the JobService, claimed by the local runner, the handler logging in over
 * DIFF discovery exactly as under `ghtrader up`. A good account answers `ok: true` with a snapshot; a wrong password is
 * a succeeded job with `ok: false` and the broker's refusal; no credentials fail `account_not_configured` naming the
 * variables; an unreachable broker, a broker that does not answer in time and a held gateway lease fail with their
 * codes. Each outcome but the lease refusal is the profile's `last_verify`.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#colo/sim/server.ts';
import { isTerminal, type JobRecord } from '#shared/domain/control/jobs.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemClock } from '#shared/domain/time.ts';
import { JobFailedError, LockHeldError } from '#shared/errors/control.ts';
import { simDiffConfig } from '#shared/infra/diff/config.ts';
import { silentLogger } from '#shared/log.ts';
import { type AccountVerifyDeps, accountJobHandlers, verifyAccount } from '#shared/services/account-verify.ts';
import type { RequestContext } from '#shared/services/job-service.ts';
import { CAL, startSim } from '../diff/support.ts';
import { createTestStack, type TestStack, waitFor } from '../support/stack.ts';

const ACCOUNT = 'acct7788990';
const PASSWORD = 'good-Pw-31337';
const MASKED = 'ac***90';

let sim: SimulatorHandle;
let stack: TestStack;
let deps: AccountVerifyDeps;

const ctx = (): RequestContext => ({
  actor: { actor: 'verify-test', role: 'operator' },
  requestId: ulidGen.next(),
  actorType: 'system',
});

async function runVerify(profile: string, timeoutS?: number): Promise<JobRecord> {
  const { job } = await stack.rt.jobs.submit(
    { kind: 'account.verify', params: { account_profile: profile, ...(timeoutS ? { timeout_s: timeoutS } : {}) } },
    ctx(),
  );
  return waitFor(
    async () => {
      const j = await stack.rt.jobs.get(job.job_id);
      return isTerminal(j.status) ? j : null;
    },
    45_000,
    `account.verify ${job.job_id} to end`,
  );
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  sim = await startSim({
    config: { accounts: [{ user_name: ACCOUNT, password: PASSWORD, initial_balance: 10_000_000 }] },
  });
  stack = await createTestStack({
    runner: true,
    env: {
      TQ_BROKER_ID_ENVP: 'ghsim',
      TQ_ACCOUNT_ID_ENVP: ACCOUNT,
      TQ_ACCOUNT_PASSWORD_ENVP: PASSWORD,
      TQ_BROKER_ID_HALF: 'ghsim',
    },
  });
  const { rt } = stack;
  deps = {
    secrets: rt.secrets,
    env: rt.config.env,
    states: rt.accountStates,
    locks: rt.locks,
    diffConfig: () => simDiffConfig(sim, { GHTRADER_DIFF_BACKOFF_BASE_MS: '50' }),
    calendar: CAL,
    clock: systemClock,
    diffClientOptions: { httpRetryDelayMs: () => 20 },
  };
  rt.addHandlers(accountJobHandlers(deps));
  const put = (profile: string, password: string) =>
    rt.secrets?.put({
      v: 1,
      profile,
      broker_id: sim.brokerId,
      account_id: ACCOUNT,
      password,
      updated_at: new Date().toISOString(),
    });
  await put('good', PASSWORD);
  await put('wrong', 'not-the-password');
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await sim?.stop();
});

describe('account.verify against the SHFE simulator', () => {
  it('logs in with a stored account and answers ok with the account numbers and counts only', async () => {
    // Act
    const job = await runVerify('good');

    // Assess
    expect(job.status).toBe('succeeded');
    expect(job.params).toEqual({ account_profile: 'good', timeout_s: 20 });
    expect(job.result).toMatchObject({
      profile: 'good',
      ok: true,
      configured: true,
      source: 'secret_store',
      error: null,
      broker_id: 'ghsim',
      account_id_masked: MASKED,
      snapshot: {
        trading_day: '20250110',
        balance: 10_000_000,
        available: 10_000_000,
        margin: 0,
        float_profit: 0,
        positions: 0,
        orders: 0,
        trades: 0,
      },
    });
    expect(await stack.rt.accountStates.lastVerify('good')).toEqual({
      ok: true,
      verified_at: (job.result as { verified_at: string }).verified_at,
      error: null,
      job_id: job.job_id,
    });
  });

  it('uses the profile’s environment variables when no secret is stored', async () => {
    // Act
    const job = await runVerify('envp');

    // Assess
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({ ok: true, source: 'env', account_id_masked: MASKED });
  });

  it('answers a wrong password as a succeeded job with ok:false and the broker’s refusal', async () => {
    // Act
    const job = await runVerify('wrong');

    // Assess
    expect(job.status).toBe('succeeded');
    const result = job.result as { ok: boolean; error: string; snapshot: unknown };
    expect(result.ok).toBe(false);
    expect(result.snapshot).toBeNull();
    expect(result.error).toMatch(/^diff_login_failed: .*code 402/);
    expect(result.error).toContain(MASKED);
    expect(result.error).not.toContain(ACCOUNT);
    expect(await stack.rt.accountStates.lastVerify('wrong')).toMatchObject({ ok: false, error: result.error });
  });

  it('fails account_not_configured naming the missing variables when nothing is configured', async () => {
    // Act
    const none = await runVerify('nope');
    const half = await runVerify('half');

    // Assess
    expect(none.status).toBe('failed');
    expect(none.error).toMatchObject({ code: 'account_not_configured', retryable: false });
    expect(none.error?.message).toContain('TQ_BROKER_ID_NOPE, TQ_ACCOUNT_ID_NOPE, TQ_ACCOUNT_PASSWORD_NOPE');
    expect(half.error?.code).toBe('account_not_configured');
    expect(half.error?.message).toContain('missing TQ_ACCOUNT_ID_HALF, TQ_ACCOUNT_PASSWORD_HALF');
    expect(await stack.rt.accountStates.lastVerify('nope')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^account_not_configured: /),
      job_id: none.job_id,
    });
  });

  it('fails broker_timeout when the broker does not answer within timeout_s', async () => {
    // Prepare: the simulator holds every trade frame for 5 s
    sim.admin.addFault({ kind: 'delay', socket: 'trade', ms: 5_000, for_s: 10 });

    // Act
    const job = await runVerify('good', 1).finally(() => sim.admin.clearFaults());

    // Assess
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'broker_timeout', retryable: false });
    expect(job.error?.message).toContain(`for ${MASKED} within 1 s`);
  });

  it('refuses at submission while the gateway holds trade:account=<p>, and never opens a session beside it', async () => {
    // Prepare
    const held = await stack.rt.locks.acquire(
      'trade:account=good',
      { ownerId: 'gateway-test', host: 'h', pid: 1 },
      30_000,
    );
    if (!held.ok) throw new Error('could not take the gateway lease');

    // Act
    const submitted = await stack.rt.jobs
      .submit({ kind: 'account.verify', params: { account_profile: 'good' } }, ctx())
      .catch((e: unknown) => e);
    const inline = await verifyAccount(
      { profile: 'good', timeoutS: 5, jobId: null, signal: new AbortController().signal, log: silentLogger() },
      deps,
    ).catch((e: unknown) => e);
    for (const lease of held.leases) await stack.rt.locks.release(lease);

    // Assess
    expect(submitted).toBeInstanceOf(LockHeldError);
    expect((submitted as LockHeldError).details.conflicts).toEqual([
      { key: 'trade:account=good', owner: 'gateway-test', expires_at: expect.any(String) },
    ]);
    expect(inline).toBeInstanceOf(JobFailedError);
    expect((inline as JobFailedError).code).toBe('lock_held');
  });

  it('fails broker_unreachable when the DIFF endpoints do not answer, and records it', async () => {
    // Prepare
    const port = await closedPort();
    const unreachable: AccountVerifyDeps = {
      ...deps,
      diffConfig: () => simDiffConfig({ url: `http://127.0.0.1:${port}`, token: sim.token }),
    };

    // Act
    const err = await verifyAccount(
      { profile: 'good', timeoutS: 10, jobId: null, signal: new AbortController().signal, log: silentLogger() },
      unreachable,
    ).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(JobFailedError);
    expect(err).toMatchObject({ code: 'broker_unreachable', retryable: false });
    expect((err as Error).message).not.toContain(ACCOUNT);
    expect(await stack.rt.accountStates.lastVerify('good')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^broker_unreachable: /),
      job_id: null,
    });
  });
});
