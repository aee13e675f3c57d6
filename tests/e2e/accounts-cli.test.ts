/**
 * `ghtrader accounts …` and `ghtrader account verify` as a user runs them (control-chain §2, §11; trading-chain §2):
 * against a running `ghtrader up --no-demo` (with its SHFE simulator, whose broker `ghsim` serves the account
 * `ghsim`/`ghsim`), the CLI's secrets are the ones the console lists and verifies, actions are audited as `cli`, and the
 * password never reaches the output; without any stack, `account verify` still logs in (the home's embedded DynamoDB,
 * the environment's credentials and DIFF endpoints) and exits 0, 1 or 2 by the outcome. With `--api`, the same
 * commands go through the HTTP API as the token's owner, and `account verify` follows the `account.verify` job.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimulatorHandle, startSimulator } from '#colo/sim/server.ts';
import { silentLogger } from '#shared/log.ts';
import {
  apiCli,
  type CliRun,
  type ConsoleClient,
  createApiToken,
  explain,
  homeCli,
  lastJson,
  type RunningStack,
  runCli,
  startLoggedIn,
  stopSuite,
  until,
} from './support/ghtrader-process.ts';

const json = (r: CliRun) => lastJson(r);

describe('ghtrader accounts / account verify against a running stack', () => {
  let home: string;
  let stack: RunningStack;
  let admin: ConsoleClient;

  const { cli, cliInput } = homeCli(() => home);

  beforeAll(async () => {
    ({ home, stack, admin } = await startLoggedIn('accounts', ['--no-demo'], 40_000));
  }, 60_000);

  afterAll(() => stopSuite(stack, home));

  it('stores a piped password in a 0600 file the console lists and verifies, and never prints it', async () => {
    // Act
    const upsert = await cliInput(
      ['accounts', 'upsert', '--account', 'Main', '--broker', 'ghsim', '--account-id', 'ghsim', '--json'],
      'ghsim\n',
    );
    const list = await cli(['accounts', 'list', '--json']);
    const brokers = await admin.request('GET', '/api/brokers');
    const submitted = await admin.request('POST', '/api/accounts/main/verify', {});
    const jobId = (submitted.json as { job: { job_id: string } }).job.job_id;
    const job = await until(
      async () => {
        const r = await admin.request('GET', `/api/jobs/${jobId}`);
        const j = r.json as { status: string; result: unknown };
        return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
      },
      60_000,
      'the console verify job to end',
    );
    const file = await stat(path.join(home, 'secrets', 'accounts', 'main.json'));

    // Assess
    expect(upsert.code, explain(upsert)).toBe(0);
    expect(json(upsert)).toMatchObject({
      created: true,
      account: {
        profile: 'main',
        configured: true,
        source: 'secret_store',
        broker_id: 'ghsim',
        account_id_masked: '***',
      },
    });
    expect(file.mode & 0o777).toBe(0o600);
    expect(list.code, explain(list)).toBe(0);
    const items = (json(list) as { items: { profile: string; configured: boolean }[] }).items;
    expect(items.map((i) => [i.profile, i.configured])).toEqual([
      ['default', false],
      ['main', true],
    ]);
    expect((brokers.json as { items: unknown[] }).items).toEqual([{ broker_id: 'ghsim', source: 'secret_store' }]);
    expect(submitted.status).toBe(201);
    expect(job).toMatchObject({ status: 'succeeded', result: { ok: true, snapshot: { balance: expect.any(Number) } } });
  });

  it('verifies inline with the stack’s simulator and exits 1 with ok:false for a wrong password', async () => {
    // Prepare
    const wrong = await cliInput(
      ['accounts', 'upsert', '--account', 'bad', '--broker', 'ghsim', '--account-id', 'ghsim'],
      'not-the-password',
    );

    // Act
    const good = await cli(['account', 'verify', '--account', 'main', '--json']);
    const refused = await cli(['account', 'verify', '--account', 'bad', '--json']);
    const text = await cli(['account', 'verify', '--account', 'main']);

    // Assess
    expect(wrong.code, explain(wrong)).toBe(0);
    expect(wrong.stdout).not.toContain('not-the-password');
    expect(good.code, explain(good)).toBe(0);
    expect(json(good)).toMatchObject({ profile: 'main', ok: true, source: 'secret_store', broker_id: 'ghsim' });
    expect(refused.code, explain(refused)).toBe(1);
    expect(json(refused)).toMatchObject({ ok: false, error: expect.stringMatching(/^diff_login_failed: .*402/) });
    expect(text.code, explain(text)).toBe(0);
    expect(text.stdout).toMatch(/^account main \(broker ghsim, account \*\*\*, secret_store\): ok at /);
  });

  it('refuses a password argument and bad flags with exit 2, and deletes with an audit entry as cli', async () => {
    // Act
    const argPassword = await cli([
      'accounts',
      'upsert',
      '--account',
      'x',
      '--broker',
      'ghsim',
      '--account-id',
      'a',
      '--password',
      'p',
    ]);
    const badTimeout = await cli(['account', 'verify', '--account', 'main', '--timeout-s', '61']);
    const deleted = await cli(['accounts', 'delete', '--account', 'bad', '--json']);
    const again = await cli(['accounts', 'delete', '--account', 'bad', '--json']);
    const audit = await until(
      async () => {
        const r = await admin.request('GET', '/api/audit?action=account.&target=account%3Abad');
        const items = (r.json as { items?: { action: string; actor: { type: string } }[] }).items ?? [];
        return items.some((i) => i.action === 'account.delete') ? items : null;
      },
      5_000,
      'the account.delete audit entry',
    );

    // Assess
    expect(argPassword.code, explain(argPassword)).toBe(2);
    expect(argPassword.stderr).toContain('--password is not accepted');
    expect(badTimeout.code, explain(badTimeout)).toBe(2);
    expect(badTimeout.stderr).toContain('--timeout-s: expected 1..60 seconds');
    expect(deleted.code, explain(deleted)).toBe(0);
    expect(json(deleted)).toEqual({ profile: 'bad', deleted: true });
    expect(again.code, explain(again)).toBe(2);
    expect(json(again)).toMatchObject({ error: { code: 'not_found' } });
    expect(audit.map((e) => [e.action, e.actor.type])).toEqual(
      expect.arrayContaining([
        ['account.delete', 'cli'],
        ['account.upsert', 'cli'],
        ['account.verify', 'cli'],
      ]),
    );
  });

  it('lists, upserts, verifies (following the job) and deletes through the API as the token’s owner', async () => {
    // Prepare: tokens, and the API mode with no store credentials (a home that holds no stack)
    const [adminToken, operatorToken] = await Promise.all([
      createApiToken(admin, 'e2e-accounts-admin', 'admin'),
      createApiToken(admin, 'e2e-accounts-operator', 'operator'),
    ]);
    const viaApi = (args: string[], token: string) => apiCli({ url: stack.banner.url, token, home }, args);
    const viaApiInput = (args: string[], input: string, token: string) =>
      apiCli({ url: stack.banner.url, token, home }, args, input);

    // Act
    const [upsert, wrong, refused] = await Promise.all([
      viaApiInput(
        ['accounts', 'upsert', '--account', 'via-api', '--broker', 'ghsim', '--account-id', 'ghsim', '--json'],
        'ghsim',
        adminToken,
      ),
      viaApiInput(
        ['accounts', 'upsert', '--account', 'via_api_bad', '--broker', 'ghsim', '--account-id', 'ghsim', '--json'],
        'not-the-password',
        adminToken,
      ),
      viaApiInput(
        ['accounts', 'upsert', '--account', 'nope', '--broker', 'ghsim', '--account-id', 'ghsim', '--json'],
        'ghsim',
        operatorToken,
      ),
    ]);
    const [listApi, listDirect, good, bad] = await Promise.all([
      viaApi(['accounts', 'list', '--json'], operatorToken),
      cli(['accounts', 'list', '--json']),
      viaApi(['account', 'verify', '--account', 'via_api', '--json'], operatorToken),
      viaApi(['account', 'verify', '--account', 'via_api_bad', '--json'], operatorToken),
    ]);
    const deleted = await viaApi(['accounts', 'delete', '--account', 'via_api_bad', '--json'], adminToken);

    // Assert
    expect(upsert.code, explain(upsert)).toBe(0);
    expect(json(upsert)).toMatchObject({ created: true, account: { profile: 'via_api', account_id_masked: '***' } });
    expect(wrong.code, explain(wrong)).toBe(0);
    expect(refused.code, explain(refused)).toBe(2);
    expect(json(refused)).toMatchObject({ error: { code: 'forbidden' } });
    expect(listApi.code, explain(listApi)).toBe(0);
    const profiles = (r: CliRun) => (json(r) as { items: { profile: string }[] }).items.map((i) => i.profile);
    expect(profiles(listApi)).toEqual(profiles(listDirect));
    expect(profiles(listApi)).toEqual(expect.arrayContaining(['via_api', 'via_api_bad']));
    expect(good.code, explain(good)).toBe(0);
    expect(json(good)).toMatchObject({
      profile: 'via_api',
      ok: true,
      broker_id: 'ghsim',
      snapshot: { balance: expect.any(Number) },
    });
    expect(bad.code, explain(bad)).toBe(1);
    expect(json(bad)).toMatchObject({ ok: false, error: expect.stringMatching(/^diff_login_failed: .*402/) });
    expect(deleted.code, explain(deleted)).toBe(0);
    expect(json(deleted)).toEqual({ profile: 'via_api_bad', deleted: true });
    for (const r of [upsert, wrong, refused, listApi, good, bad, deleted]) {
      expect(r.stdout + r.stderr).not.toContain('not-the-password');
      expect(r.stdout + r.stderr).not.toContain(adminToken);
    }
  });
});

describe('ghtrader account verify without a running stack', () => {
  let home: string;
  let sim: SimulatorHandle;
  let diffEnv: Record<string, string>;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'ghtrader-e2e-verify-'));
    sim = await startSimulator(
      {
        port: 0,
        clock: 'accelerated',
        start: '2025-01-10 09:30:00',
        config: { accounts: [{ user_name: 'cli12345678', password: 'Cli-Pw-9', initial_balance: 1_000_000 }] },
      },
      { log: silentLogger() },
    );
    diffEnv = {
      GHTRADER_DIFF_AUTH_URL: sim.url,
      GHTRADER_DIFF_NS_URL: `${sim.url}/ns`,
      GHTRADER_DIFF_FILES_URL: sim.url,
      GHTRADER_DIFF_TOKEN: sim.token,
    };
  });

  afterAll(async () => {
    await sim?.stop();
    await rm(home, { recursive: true, force: true });
  });

  const verify = (profile: string, env: Record<string, string>) =>
    runCli(['account', 'verify', '--account', profile, '--json', '--home', home], { ...diffEnv, ...env }, 60_000);

  it('logs in with the environment’s credentials on the home’s own stores and exits 0', async () => {
    // Act
    const r = await verify('Alt-01', {
      TQ_BROKER_ID_ALT_01: 'ghsim',
      TQ_ACCOUNT_ID_ALT_01: 'cli12345678',
      TQ_ACCOUNT_PASSWORD_ALT_01: 'Cli-Pw-9',
    });

    // Assess
    expect(r.code, explain(r)).toBe(0);
    expect(json(r)).toMatchObject({
      profile: 'alt_01',
      ok: true,
      source: 'env',
      account_id_masked: 'cl***78',
      snapshot: { trading_day: '20250110', balance: 1_000_000 },
    });
    expect(r.stdout + r.stderr).not.toContain('cli12345678');
    expect(r.stdout + r.stderr).not.toContain('Cli-Pw-9');
  });

  it('exits 1 naming the missing variables when the profile has no credentials', async () => {
    // Act
    const r = await verify('nobody', { TQ_BROKER_ID_NOBODY: 'ghsim' });

    // Assess
    expect(r.code, explain(r)).toBe(1);
    expect(json(r)).toMatchObject({
      error: {
        code: 'account_not_configured',
        details: { missing: ['TQ_ACCOUNT_ID_NOBODY', 'TQ_ACCOUNT_PASSWORD_NOBODY'] },
      },
    });
  });
});
