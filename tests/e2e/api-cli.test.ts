/**
 * `ghtrader --api URL jobs|config|gateway|strategy|risk-kill …` against a running `ghtrader up --no-demo --no-sim` (control-chain §11): the same
 * commands through the HTTP API with `GHTRADER_API_TOKEN` as bearer print what the direct mode prints, exit as it
 * does for the same errors, and their writes are seen by the direct mode; bad URLs, missing tokens and commands
 * without API routes exit 2.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiCli,
  type CliRun,
  type ConsoleClient,
  createApiToken,
  explain,
  lastJson,
  type RunningStack,
  runCli,
  startLoggedIn,
  stopSuite,
} from './support/ghtrader-process.ts';

const KEY = 'GHTRADER_MAIN_L5_TOTAL_WORKERS';

const json = (r: CliRun) => lastJson(r);
/** An answer without its `generated_at` (two reads a moment apart). */
const ungenerated = (r: CliRun) => {
  const { generated_at: _, ...rest } = json(r) as Record<string, unknown>;
  return rest;
};

interface Job {
  job_id: string;
  kind: string;
  status: string;
  cancel_requested_at: string | null;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('ghtrader --api …: jobs and config through the HTTP API', () => {
  let home: string;
  let stack: RunningStack;
  let admin: ConsoleClient;
  let operatorToken: string;
  let adminToken: string;

  /** The direct mode: the stack's store credentials. */
  const direct = (args: string[]): Promise<CliRun> => runCli([...args, '--home', home], {}, 60_000);
  /** The API mode as the token's owner; no `--home`, and a home that holds no stack. */
  const viaApi = (args: string[], token: string, url = stack.banner.url): Promise<CliRun> =>
    apiCli({ url, token, home, timeoutMs: 60_000 }, args);

  beforeAll(async () => {
    ({ home, stack, admin } = await startLoggedIn('api-cli', ['--no-demo', '--no-sim'], 30_000));
    [operatorToken, adminToken] = await Promise.all([
      createApiToken(admin, 'e2e-api-cli-operator', 'operator'),
      createApiToken(admin, 'e2e-api-cli-admin', 'admin'),
    ]);
  }, 40_000);
  afterAll(() => stopSuite(stack, home));

  it('runs jobs kinds, submit --wait, list, show, logs, cancel and cancel-batch with the direct mode’s output', async () => {
    // Act
    const [kindsApi, kindsDirect, kindsTextApi, kindsTextDirect, submitted, sleeper, follow] = await Promise.all([
      viaApi(['jobs', 'kinds', '--json'], operatorToken),
      direct(['jobs', 'kinds', '--json']),
      viaApi(['jobs', 'kinds'], operatorToken),
      direct(['jobs', 'kinds']),
      viaApi(['jobs', 'submit', 'system.selftest', '--wait', '--json'], operatorToken),
      viaApi(['jobs', 'submit', 'system.sleep', '--param', 'seconds=60', '--json'], operatorToken),
      // Its own short sleep, followed through the API until it ends.
      viaApi(['jobs', 'submit', 'system.sleep', '--param', 'seconds=2', '--json'], operatorToken).then((r) =>
        viaApi(['jobs', 'logs', (json(r).job as Job).job_id, '--follow'], operatorToken),
      ),
    ]);
    const id = (json(submitted).job as Job).job_id;
    const sleepId = (json(sleeper).job as Job).job_id;
    const [listApi, showApi, showDirect, logsApi, logsDirect, directSubmit, cancel, again, unknown] = await Promise.all(
      [
        viaApi(['jobs', 'list', '--kind', 'system.selftest', '--json'], operatorToken),
        viaApi(['jobs', 'show', id, '--json'], operatorToken),
        direct(['jobs', 'show', id, '--json']),
        viaApi(['jobs', 'logs', id, '--json'], operatorToken),
        direct(['jobs', 'logs', id, '--json']),
        direct(['jobs', 'submit', 'system.selftest', '--wait', '--json']),
        viaApi(['jobs', 'cancel', sleepId, '--reason', 'e2e api cancel', '--json'], operatorToken),
        // A terminal job: 409 job_not_cancellable.
        viaApi(['jobs', 'cancel', id, '--json'], operatorToken),
        viaApi(['jobs', 'show', '01ARZ3NDEKTSV4RRFFQ69G5FAV', '--json'], operatorToken),
      ],
    );
    const batch = await viaApi(
      ['jobs', 'cancel-batch', '--kind', 'system.sleep', '--reason', 'e2e api batch', '--json'],
      operatorToken,
    );

    // Assert: kinds
    expect(kindsApi.code, explain(kindsApi)).toBe(0);
    expect(json(kindsApi)).toEqual(json(kindsDirect));
    expect(kindsTextApi.stdout).toBe(kindsTextDirect.stdout);
    // submit --wait: the same document as the direct mode's
    expect(submitted.code, explain(submitted)).toBe(0);
    expect(json(submitted)).toMatchObject({ deduped: false, job: { kind: 'system.selftest', status: 'succeeded' } });
    expect(directSubmit.code, explain(directSubmit)).toBe(0);
    expect(Object.keys(json(submitted)).sort()).toEqual(Object.keys(json(directSubmit)).sort());
    expect(Object.keys(json(submitted).job as object).sort()).toEqual(
      Object.keys(json(directSubmit).job as object).sort(),
    );
    // list / show / logs
    expect(listApi.code, explain(listApi)).toBe(0);
    expect((json(listApi).items as Job[]).map((j) => j.job_id)).toContain(id);
    expect(json(listApi)).toMatchObject({ counts: expect.any(Object), limit: expect.any(Number) });
    expect(showApi.code, explain(showApi)).toBe(0);
    expect(json(showApi)).toEqual(json(showDirect));
    expect(logsApi.code, explain(logsApi)).toBe(0);
    expect(json(logsApi)).toEqual(json(logsDirect));
    expect((json(logsApi) as { text: string }).text).not.toBe('');
    // logs --follow polls until the job ends, printing its lines
    expect(follow.code, explain(follow)).toBe(0);
    expect(follow.stdout).toContain('slept 2 s; done');
    expect(follow.stderr).toMatch(/\(job \S+ succeeded\)/);
    // cancel; a terminal job's 409 job_not_cancellable exits 1 as in the direct mode; 404 exits 2
    expect(cancel.code, explain(cancel)).toBe(0);
    expect((json(cancel).job as Job).job_id).toBe(sleepId);
    expect((json(cancel).job as Job).cancel_requested_at).not.toBeNull();
    expect(batch.code, explain(batch)).toBe(0);
    expect(json(batch)).toMatchObject({ matched: expect.any(Number), truncated: false });
    expect(unknown.code, explain(unknown)).toBe(2);
    expect(json(unknown)).toMatchObject({ error: { code: 'not_found' } });
    expect(again.code, explain(again)).toBe(1);
    expect(json(again)).toMatchObject({ error: { code: 'job_not_cancellable', details: { job_id: id } } });
  });

  it('sets config as the admin token, seen by the direct mode; an operator is refused as the direct mode maps it', async () => {
    // Act
    const set = await viaApi(['config', 'set', `${KEY}=7`, '--reason', 'e2e via api', '--json'], adminToken);
    const rev = json(set).revision as number;
    const [getApi, getDirect, getTextApi, getTextDirect, showDirect, history, schema] = await Promise.all([
      viaApi(['config', 'get', KEY, '--json'], operatorToken),
      direct(['config', 'get', KEY, '--json']),
      viaApi(['config', 'get', KEY], operatorToken),
      direct(['config', 'get', KEY]),
      direct(['config', 'show', String(rev), '--json']),
      viaApi(['config', 'history', '--limit', '2', '--json'], operatorToken),
      viaApi(['config', 'schema', '--json'], operatorToken),
    ]);
    const [denied, deniedText, apiDenied, envOnly, stale] = await Promise.all([
      viaApi(['config', 'set', `${KEY}=8`, '--json'], operatorToken),
      viaApi(['config', 'set', `${KEY}=8`], operatorToken),
      admin.withBearer(operatorToken).request('POST', '/api/config/set', { values: { [KEY]: '8' } }),
      viaApi(['config', 'set', 'GHTRADER_QUESTDB_PG_PASSWORD=x', '--json'], adminToken),
      viaApi(['config', 'set', `${KEY}=9`, '--expected-revision', String(rev - 1), '--json'], adminToken),
    ]);
    const [rollback, diff] = await Promise.all([
      viaApi(['config', 'rollback', String(rev - 1), '--json'], adminToken),
      viaApi(['config', 'diff', String(rev - 1), String(rev), '--json'], operatorToken),
    ]);

    // Assert: the write went through the API as the token (not the CLI's store identity) and the stores have it
    expect(set.code, explain(set)).toBe(0);
    expect(json(set)).toMatchObject({ changed: true, changed_keys: [KEY] });
    expect(json(showDirect)).toMatchObject({ revision: rev, reason: 'e2e via api', snapshot: { [KEY]: '7' } });
    expect((json(showDirect).actor as { name: string }).name).not.toMatch(/^cli:/);
    expect(getApi.code, explain(getApi)).toBe(0);
    expect(json(getApi)).toEqual(json(getDirect));
    expect(json(getApi)).toMatchObject({ value: 7, source: `config:${KEY}@${rev}` });
    expect(getTextApi.stdout).toBe(getTextDirect.stdout);
    expect(history.code, explain(history)).toBe(0);
    expect((json(history).items as { revision: number }[])[0]?.revision).toBe(rev);
    expect(schema.code, explain(schema)).toBe(0);
    expect((json(schema).items as { key: string }[]).map((i) => i.key)).toContain(KEY);
    // forbidden (403) exits 2, as the direct mode maps a 4xx that is not a conflict, with the API's own body
    expect(apiDenied.status).toBe(403);
    expect(denied.code, explain(denied)).toBe(2);
    expect(json(denied)).toEqual(apiDenied.json);
    expect(deniedText.code).toBe(2);
    expect(deniedText.stderr).toBe(`ghtrader: ${(apiDenied.json as { error: { message: string } }).error.message}\n`);
    expect(envOnly.code, explain(envOnly)).toBe(2);
    expect(json(envOnly)).toMatchObject({
      error: {
        code: 'config_key_not_writable',
        message: 'config_key_not_writable:GHTRADER_QUESTDB_PG_PASSWORD:env_only',
      },
    });
    expect(stale.code, explain(stale)).toBe(1);
    expect(json(stale)).toMatchObject({ error: { code: 'config_revision_conflict' } });
    expect(rollback.code, explain(rollback)).toBe(0);
    expect(json(rollback)).toMatchObject({ rollback_to: rev - 1, changed: true });
    expect(diff.code, explain(diff)).toBe(0);
    expect(json(diff)).toMatchObject({ from: rev - 1, to: rev, changes: [{ key: KEY, after: '7' }] });
  });

  it('drives desired state, gateway commands and the risk kill as the token’s owner, as the direct mode does', async () => {
    // Prepare: a viewer token, and a profile of this test's own
    const viewerToken = await createApiToken(admin, 'e2e-api-cli-viewer', 'viewer');
    const P = 'e2e_api';

    // Act: desired state through the API, read back by both modes
    // On a host no supervisor runs, so no gateway is started and both reads see the same record.
    const desired = await viaApi(
      ['gateway', 'desired', '--account', P, '--mode', 'paper', '--host-id', 'e2e-elsewhere', '--json'],
      operatorToken,
    );
    const [statusApi, statusDirect, startAgain, strategyStatus] = await Promise.all([
      viaApi(['gateway', 'status', '--account', P, '--json'], viewerToken),
      direct(['gateway', 'status', '--account', P, '--json']),
      viaApi(['gateway', 'start', '--account', P, '--json'], operatorToken),
      viaApi(['strategy', 'status', '--account', P, '--json'], viewerToken),
    ]);
    const stop = await viaApi(['gateway', 'stop', '--account', P, '--reason', 'e2e done', '--json'], operatorToken);

    // Assert: the API's default reason, the same status either way, 409 -> exit 1, stop idempotent and idle
    expect(desired.code, explain(desired)).toBe(0);
    expect(json(desired)).toMatchObject({ account_profile: P, desired_revision: 1, desired: { mode: 'paper' } });
    expect(statusApi.code, explain(statusApi)).toBe(0);
    expect(json(statusApi)).toMatchObject({
      desired_revision: 1,
      desired_reason: 'api_desired',
      desired: { mode: 'paper', host_id: 'e2e-elsewhere' },
      supervisor: null,
    });
    expect(ungenerated(statusApi)).toEqual(ungenerated(statusDirect));
    expect(startAgain.code, explain(startAgain)).toBe(1);
    expect(json(startAgain)).toMatchObject({ error: { code: 'already_running' } });
    expect(strategyStatus.code, explain(strategyStatus)).toBe(0);
    expect(json(strategyStatus)).toMatchObject({ component: 'strategy', account_profile: P, desired_revision: null });
    expect(stop.code, explain(stop)).toBe(0);
    expect(json(stop)).toMatchObject({ desired_revision: 2, desired: { mode: 'idle' }, was_running: false });

    // Act: commands and the risk kill through the API; a viewer's and bad input's refusals
    const [target, kill, viewerKill, badType] = await Promise.all([
      viaApi(
        [
          'gateway',
          'command',
          '--account',
          P,
          '--type',
          'set_target',
          '--param',
          'symbol=SHFE.cu2502',
          '--param',
          'target=2',
          '--json',
        ],
        operatorToken,
      ),
      viaApi(['risk-kill', 'activate', '--account', P, '--reason', 'e2e drill', '--json'], operatorToken),
      viaApi(['risk-kill', 'reset', '--account', P, '--reason', 'not mine', '--json'], viewerToken),
      viaApi(['gateway', 'command', '--account', P, '--type', 'nope', '--json'], operatorToken),
    ]);
    const [killStatusApi, killStatusDirect, badTypeDirect] = await Promise.all([
      viaApi(['risk-kill', 'status', '--account', P, '--json'], viewerToken),
      direct(['risk-kill', 'status', '--account', P, '--json']),
      direct(['gateway', 'command', '--account', P, '--type', 'nope', '--json']),
    ]);
    const history = await admin.request('GET', `/api/gateway/commands?account_profile=${P}`);

    // Assert: stored with source api; the record is read the same way; refusals exit as the direct mode's do
    expect(target.code, explain(target)).toBe(0);
    expect(json(target)).toMatchObject({ account_profile: P, type: 'set_target' });
    expect(kill.code, explain(kill)).toBe(0);
    expect(json(kill)).toMatchObject({ account_profile: P, type: 'kill' });
    expect(viewerKill.code, explain(viewerKill)).toBe(2);
    expect(json(viewerKill)).toMatchObject({ error: { code: 'forbidden' } });
    expect(badType.code, explain(badType)).toBe(2);
    expect(badTypeDirect.code, explain(badTypeDirect)).toBe(2);
    expect(json(badType)).toEqual(json(badTypeDirect));
    expect(killStatusApi.code, explain(killStatusApi)).toBe(0);
    expect(ungenerated(killStatusApi)).toEqual(ungenerated(killStatusDirect));
    // The gateway alone executes a kill and writes the record: until one runs, the profile stays ACTIVE.
    expect(json(killStatusApi)).toMatchObject({ state: 'ACTIVE', risk_kill_active: false });
    const items = (history.json as { items: { command_id: string; type: string; source: string }[] }).items;
    // Sent at once, so either may be newer.
    const byId = (a: string[], b: string[]) => ((a[0] as string) < (b[0] as string) ? -1 : 1);
    expect(items.map((i) => [i.command_id, i.type, i.source]).sort(byId)).toEqual(
      [
        [(json(kill) as { command_id: string }).command_id, 'kill', 'api'],
        [(json(target) as { command_id: string }).command_id, 'set_target', 'api'],
      ].sort(byId),
    );
  });

  it('lists the stack’s leases with locks list, the same keys and owners directly and through the API', async () => {
    // Act
    const [directRun, apiRun, textRun, badLimit, badLimitApi] = await Promise.all([
      direct(['locks', 'list', '--json']),
      viaApi(['locks', 'list', '--json'], operatorToken),
      direct(['locks', 'list']),
      direct(['locks', 'list', '--limit', 'abc', '--json']),
      viaApi(['locks', 'list', '--limit', 'abc', '--json'], operatorToken),
    ]);

    // Assess: the up's own supervisor lease is there; renewals move the times, not the holders
    const holders = (r: CliRun) =>
      (json(r).items as { key: string; owner: string }[]).map((l) => `${l.key} ${l.owner}`).sort();
    expect(directRun.code, explain(directRun)).toBe(0);
    expect(apiRun.code, explain(apiRun)).toBe(0);
    expect(holders(directRun).some((h) => h.startsWith('supervisor:'))).toBe(true);
    expect(holders(apiRun)).toEqual(holders(directRun));
    expect(textRun.stdout).toMatch(/^supervisor:\S+ {2}held {4}/m);
    expect(badLimit.code, explain(badLimit)).toBe(2);
    expect(badLimitApi.code, explain(badLimitApi)).toBe(2);
    expect((json(badLimitApi).error as { code: string }).code).toBe('validation_failed');
  });

  it('refuses a missing or unknown token, a bad URL and commands without API routes; names an unreachable API', async () => {
    // Prepare
    const port = await closedPort();
    const unknownToken = `ght_aaaaaaaaaa_${'A'.repeat(43)}`;

    // Act
    const [missing, malformed, unknown, loginLink, importEnv, badScheme, withCreds, unreachable] = await Promise.all([
      viaApi(['jobs', 'kinds'], ''),
      viaApi(['jobs', 'kinds'], 'not-a-token'),
      viaApi(['jobs', 'kinds', '--json'], unknownToken),
      viaApi(['admin', 'login-link'], adminToken),
      viaApi(['config', 'import-env'], adminToken),
      viaApi(['jobs', 'kinds'], adminToken, 'ftp://127.0.0.1/'),
      viaApi(['jobs', 'kinds'], adminToken, 'http://me:secret@127.0.0.1/'),
      viaApi(['jobs', 'kinds'], adminToken, `http://127.0.0.1:${port}`),
    ]);

    // Assert
    expect(missing.code, explain(missing)).toBe(2);
    expect(missing.stderr).toContain('GHTRADER_API_TOKEN');
    expect(malformed.code, explain(malformed)).toBe(2);
    expect(malformed.stderr).toContain('GHTRADER_API_TOKEN is not an API token');
    expect(malformed.stderr).not.toContain('not-a-token');
    expect(unknown.code, explain(unknown)).toBe(2);
    expect(json(unknown)).toMatchObject({ error: { code: 'unauthenticated' } });
    expect(loginLink.code, explain(loginLink)).toBe(2);
    expect(loginLink.stderr).toBe(
      'ghtrader: admin login-link is not available with --api (it needs the store credentials)\n',
    );
    expect(importEnv.code, explain(importEnv)).toBe(2);
    expect(importEnv.stderr).toContain('config import-env is not available with --api');
    expect(badScheme.code, explain(badScheme)).toBe(2);
    expect(badScheme.stderr).toContain('--api: expected an http or https URL');
    expect(withCreds.code, explain(withCreds)).toBe(2);
    expect(withCreds.stderr).not.toContain('secret');
    expect(unreachable.code, explain(unreachable)).toBe(1);
    expect(unreachable.stderr).toContain(`GET http://127.0.0.1:${port}/api/jobs/kinds: cannot reach the API`);
    for (const r of [missing, malformed, unknown, loginLink, badScheme, withCreds, unreachable]) {
      expect(r.stdout + r.stderr).not.toContain(adminToken);
    }
  });
});
