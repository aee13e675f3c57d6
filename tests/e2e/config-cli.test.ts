/**
 * `ghtrader config …` against a running `ghtrader up --no-demo --no-sim` (control-chain §5, §11, §13 items 1–3):
 * store-boundary rejections exit 2 with the exact message and write nothing; set / get / unchanged set / history /
 * rollback / diff / show; a stale `--expected-revision` exits 1; and the HTTP API rejects the same key with the
 * identical message and sees the CLI's revisions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliRun,
  ConsoleClient,
  explain,
  lastJson,
  type RunningStack,
  runCli,
  startUp,
} from './support/ghtrader-process.ts';

type Run = CliRun;

const KEY = 'GHTRADER_MAIN_L5_TOTAL_WORKERS';
const ENV_ONLY_MESSAGE = 'config_key_not_writable:GHTRADER_QUESTDB_PG_PASSWORD:env_only';

const json = (r: CliRun) => lastJson(r);

describe('ghtrader config … against a running stack', () => {
  let home: string;
  let stack: RunningStack;

  const cli = (args: string[], timeoutMs = 60_000): Promise<Run> =>
    runCli(['config', ...args, '--home', home], {}, timeoutMs);

  const headRevision = async () => {
    const r = await cli(['history', '--limit', '1', '--json']);
    expect(r.code, explain(r)).toBe(0);
    const items = json(r).items as { revision: number }[];
    return items[0]?.revision ?? 0;
  };

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'ghtrader-e2e-config-'));
    stack = await startUp(home, ['--no-demo', '--no-sim'], 30_000);
  }, 40_000);
  afterAll(async () => {
    if (stack?.child.exitCode === null) await stack.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('rejects env-only, unmanaged and invalid keys with exit 2 and the exact message, writing nothing', async () => {
    // Prepare
    const head = await headRevision();

    // Act
    const [envOnly, envOnlyJson, unmanaged, badValue, batch, empty, badRev] = await Promise.all([
      cli(['set', 'GHTRADER_QUESTDB_PG_PASSWORD=x']),
      cli(['set', 'GHTRADER_QUESTDB_PG_PASSWORD=x', '--json']),
      cli(['set', 'GHTRADER_NOT_A_KEY=1']),
      cli(['set', 'GHTRADER_L5_VALIDATE_STRICT_RATIO=1.3', '--json']),
      cli(['set', `${KEY}=4`, 'GHTRADER_NOT_A_KEY=1']),
      cli(['set', `${KEY}=`]),
      cli(['show', 'abc']),
    ]);
    const after = await headRevision();

    // Assert
    expect(envOnly.code, explain(envOnly)).toBe(2);
    expect(envOnly.stderr).toBe(`ghtrader: ${ENV_ONLY_MESSAGE}\n`);
    expect(envOnly.stdout).toBe('');
    expect(envOnlyJson.code, explain(envOnlyJson)).toBe(2);
    expect(json(envOnlyJson)).toEqual({
      error: {
        code: 'config_key_not_writable',
        message: ENV_ONLY_MESSAGE,
        details: { key: 'GHTRADER_QUESTDB_PG_PASSWORD', why: 'env_only' },
      },
    });
    expect(unmanaged.code, explain(unmanaged)).toBe(2);
    expect(unmanaged.stderr).toBe('ghtrader: config_key_not_writable:GHTRADER_NOT_A_KEY:unmanaged\n');
    expect(badValue.code, explain(badValue)).toBe(2);
    expect(json(badValue)).toMatchObject({ error: { code: 'validation_failed' } });
    expect((json(badValue).error as { message: string }).message).toContain('GHTRADER_L5_VALIDATE_STRICT_RATIO');
    expect(batch.code, explain(batch)).toBe(2);
    expect(batch.stderr).toContain('config_key_not_writable:GHTRADER_NOT_A_KEY:unmanaged');
    expect(empty.code, explain(empty)).toBe(2);
    expect(empty.stderr).toContain(`config unset ${KEY}`);
    expect(badRev.code, explain(badRev)).toBe(2);
    expect(after).toBe(head);
  });

  it('says when a stored key is one no code of this version reads, on set and in the schema', async () => {
    // Act
    const [set, schema] = await Promise.all([cli(['set', 'GHTRADER_QDB_CONN_RESERVE=4']), cli(['schema'])]);
    const unset = await cli(['unset', 'GHTRADER_QDB_CONN_RESERVE']);

    // Assert
    expect(set.code, explain(set)).toBe(0);
    expect(set.stdout).toMatch(
      /changed: GHTRADER_QDB_CONN_RESERVE\nnote: GHTRADER_QDB_CONN_RESERVE is stored, but nothing reads it yet: the QuestDB adapter speaks HTTP only/,
    );
    expect(schema.stdout).toMatch(/^GHTRADER_QDB_CONN_RESERVE .*\(not read yet: the QuestDB adapter/m);
    expect(schema.stdout).toMatch(/^GHTRADER_LOCK_WAIT_TIMEOUT_S (?!.*not read yet).*$/m);
    expect(unset.code, explain(unset)).toBe(0);
  });

  it('sets, reads back with its source, dedupes, lists, rolls back, diffs, shows and unsets', async () => {
    // Act
    const setA = await cli(['set', `${KEY}=3`, '--json']);
    const [getA, getText] = await Promise.all([cli(['get', KEY, '--json']), cli(['get', KEY])]);
    const same = await cli(['set', `${KEY}=3`, '--json']);
    const setB = await cli(['set', `${KEY}=5`, '--reason', 'e2e raise', '--json']);
    const stale = await cli(['set', `${KEY}=6`, '--expected-revision', String(json(setA).revision), '--json']);
    const rollback = await cli(['rollback', String(json(setA).revision), '--json']);
    const a = json(setA).revision as number;
    const b = json(setB).revision as number;
    const c = json(rollback).revision as number;
    const [history, historyText, show, showText, showA, diff] = await Promise.all([
      cli(['history', '--json']),
      cli(['history', '--limit', '3']),
      cli(['show', String(c), '--json']),
      cli(['show', String(c)]),
      cli(['show', String(a), '--json']),
      cli(['diff', String(a), String(b), '--json']),
    ]);
    const unset = await cli(['unset', KEY, '--json']);
    const getDefault = await cli(['get', KEY, '--json']);

    // Assert
    expect(setA.code, explain(setA)).toBe(0);
    expect(json(setA)).toMatchObject({ changed: true, changed_keys: [KEY] });
    expect(getA.code, explain(getA)).toBe(0);
    expect(json(getA)).toMatchObject({ key: KEY, value: 3, source: `config:${KEY}@${a}`, revision: a });
    expect(getText.stdout).toBe(`3  (config:${KEY}@${a})\n`);
    expect(same.code, explain(same)).toBe(0);
    expect(json(same)).toEqual({
      revision: a,
      config_hash: json(setA).config_hash,
      changed_keys: [],
      changed: false,
    });
    expect(setB.code, explain(setB)).toBe(0);
    expect(b).toBe(a + 1);
    expect(stale.code, explain(stale)).toBe(1);
    expect(json(stale)).toMatchObject({ error: { code: 'config_revision_conflict' } });
    expect(rollback.code, explain(rollback)).toBe(0);
    expect(json(rollback)).toMatchObject({ revision: b + 1, rollback_to: a, changed: true, changed_keys: [KEY] });
    expect(json(rollback).config_hash).toBe(json(setA).config_hash);
    expect(history.code, explain(history)).toBe(0);
    const items = json(history).items as {
      revision: number;
      action: string;
      reason: string;
      actor: { name: string };
    }[];
    expect(items.slice(0, 3).map((i) => [i.revision, i.action, i.reason])).toEqual([
      [c, 'rollback', `rollback_to:${a}`],
      [b, 'set', 'e2e raise'],
      [a, 'set', 'cli_set'],
    ]);
    expect(items[0]?.actor.name).toMatch(/^cli:.+@.+$/);
    expect(json(history).limit).toBe(30);
    const lines = historyText.stdout.trim().split('\n');
    expect(lines.slice(0, 3).map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([c, b, a]);
    expect(lines[3]).toMatch(/^next: --cursor \S+$/);
    expect(show.code, explain(show)).toBe(0);
    expect(json(show)).toMatchObject({
      revision: c,
      action: 'rollback',
      rollback_to: a,
      snapshot: { [KEY]: '3' },
      changes: [{ key: KEY, before: '5', after: '3' }],
      config_hash: json(showA).config_hash,
    });
    expect(showText.stdout).toContain(`${KEY}=3`);
    expect(diff.code, explain(diff)).toBe(0);
    expect(json(diff)).toMatchObject({ from: a, to: b, changes: [{ key: KEY, before: '3', after: '5' }] });
    expect(unset.code, explain(unset)).toBe(0);
    expect(json(unset)).toMatchObject({ revision: c + 1, changed: true, changed_keys: [KEY] });
    expect(json(getDefault)).toMatchObject({ key: KEY, value: 0, source: 'default' });
  });

  it('answers the same key through the HTTP API with the identical message, and sees the CLI revisions', async () => {
    // Prepare
    if (!stack.banner.login_url) throw new Error(`no login url in banner: ${stack.output()}`);
    const admin = new ConsoleClient(stack.banner.url);
    await admin.loginOneTime(stack.banner.login_url);
    const head = await headRevision();

    // Act
    const api = await admin.request('POST', '/api/config/set', { values: { GHTRADER_QUESTDB_PG_PASSWORD: 'x' } });
    const cli1 = await cli(['set', 'GHTRADER_QUESTDB_PG_PASSWORD=x', '--json']);
    const effective = await admin.request('GET', '/api/config/effective');

    // Assert
    expect(api.status, api.text).toBe(400);
    expect(api.json).toEqual({
      error: {
        code: 'config_key_not_writable',
        message: ENV_ONLY_MESSAGE,
        details: { key: 'GHTRADER_QUESTDB_PG_PASSWORD', why: 'env_only' },
      },
    });
    expect((json(cli1).error as { message: string }).message).toBe(
      (api.json as { error: { message: string } }).error.message,
    );
    expect(effective.status).toBe(200);
    expect((effective.json as { revision: number }).revision).toBe(head);
    expect(await headRevision()).toBe(head);
  });
});
