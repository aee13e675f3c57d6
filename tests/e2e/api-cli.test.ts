/**
 * `ghtrader --api URL jobs|config …` against a running `ghtrader up --no-demo --no-sim` (control-chain §11): the same
 * commands through the HTTP API with `GHTRADER_API_TOKEN` as bearer print what the direct mode prints, exit as it
 * does for the same errors, and their writes are seen by the direct mode; bad URLs, missing tokens and commands
 * without API routes exit 2.
 */
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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
    runCli(['--api', url, ...args], { GHTRADER_API_TOKEN: token, GHTRADER_HOME: path.join(home, 'nowhere') }, 60_000);

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

  it('refuses a missing or unknown token, a bad URL and commands without API routes; names an unreachable API', async () => {
    // Prepare
    const port = await closedPort();
    const unknownToken = `ght_aaaaaaaaaa_${'A'.repeat(43)}`;

    // Act
    const [missing, malformed, unknown, users, importEnv, badScheme, withCreds, unreachable] = await Promise.all([
      viaApi(['jobs', 'kinds'], ''),
      viaApi(['jobs', 'kinds'], 'not-a-token'),
      viaApi(['jobs', 'kinds', '--json'], unknownToken),
      viaApi(['users', 'list'], adminToken),
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
    expect(users.code, explain(users)).toBe(2);
    expect(users.stderr).toBe('ghtrader: users list is not available with --api (it needs the store credentials)\n');
    expect(importEnv.code, explain(importEnv)).toBe(2);
    expect(importEnv.stderr).toContain('config import-env is not available with --api');
    expect(badScheme.code, explain(badScheme)).toBe(2);
    expect(badScheme.stderr).toContain('--api: expected an http or https URL');
    expect(withCreds.code, explain(withCreds)).toBe(2);
    expect(withCreds.stderr).not.toContain('secret');
    expect(unreachable.code, explain(unreachable)).toBe(1);
    expect(unreachable.stderr).toContain(`GET http://127.0.0.1:${port}/api/jobs/kinds: cannot reach the API`);
    for (const r of [missing, malformed, unknown, users, badScheme, withCreds, unreachable]) {
      expect(r.stdout + r.stderr).not.toContain(adminToken);
    }
  });
});
