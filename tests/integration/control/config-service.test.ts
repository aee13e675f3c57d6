/**
 * Config Service on the real DynamoDB emulator (control-chain §5, acceptance 2–5): store-boundary rejections write
 * nothing, rollback is a new revision, optimistic concurrency with and without `expected_revision`, concurrent
 * writers never lose a change, env/config/flag/default precedence with `env_shadowed`, and one audit entry per write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configHash, resolveConfig } from '#shared/domain/control/config.ts';
import { isoUtc, systemClock } from '#shared/domain/time.ts';
import { ConfigKeyNotWritableError, ConfigRevisionConflictError, ForbiddenError } from '#shared/errors/control.ts';
import { DynamoConfigStore } from '#shared/infra/aws/config-store.ts';
import { type Caller, systemCaller } from '#shared/services/auth-service.ts';
import { ConfigService } from '#shared/services/config-service.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';

const KEY = 'GHTRADER_MAIN_L5_TOTAL_WORKERS';

describe('ConfigService on DynamoDB', () => {
  let stack: TestStack;
  let svc: ConfigService;
  const admin: Caller = systemCaller('cli', 'cli:test@host', 'req-config-test-1');

  beforeAll(async () => {
    stack = await createTestStack({ env: { [KEY]: '7' } });
    svc = stack.rt.configService;
    await svc.bootstrap();
  });
  afterAll(async () => {
    await stack.close();
  });

  it('bootstraps revision 1 (system, baseline, empty) exactly once', async () => {
    const first = await svc.getRevision(1);
    expect(first).toMatchObject({ revision: 1, action: 'baseline', snapshot: {}, actor: { type: 'system' } });
    const again = await svc.bootstrap();
    expect(again.revision).toBeGreaterThanOrEqual(1);
    expect((await svc.getRevision(1)).created_at).toBe(first.created_at);
  });

  it('refuses env-only, unmanaged and bad values at the store boundary and writes nothing', async () => {
    const head = await svc.head();
    await expect(svc.set(admin, { values: { GHTRADER_QUESTDB_PG_PASSWORD: 'x' } })).rejects.toThrow(
      new ConfigKeyNotWritableError('GHTRADER_QUESTDB_PG_PASSWORD', 'env_only'),
    );
    await expect(svc.set(admin, { values: { GHTRADER_NOT_A_KEY: '1' } })).rejects.toThrow(
      'config_key_not_writable:GHTRADER_NOT_A_KEY:unmanaged',
    );
    const bad = svc.set(admin, { values: { GHTRADER_L5_VALIDATE_STRICT_RATIO: 1.3, [KEY]: 3 } });
    await expect(bad).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(bad).rejects.toThrow(/GHTRADER_L5_VALIDATE_STRICT_RATIO/);
    expect((await svc.head()).revision).toBe(head.revision);
  });

  it('rollback is a new revision with the old snapshot, and an unchanged set writes nothing', async () => {
    const a = await svc.set(admin, { values: { [KEY]: 3 } }, 'cli_set');
    const b = await svc.set(admin, { values: { [KEY]: '5' } }, 'cli_set');
    expect(b.revision).toBe(a.revision + 1);
    const same = await svc.set(admin, { values: { [KEY]: 5 } });
    expect(same).toEqual({ revision: b.revision, config_hash: b.config_hash, changed_keys: [], changed: false });
    expect((await svc.head()).revision).toBe(b.revision);

    const c = await svc.rollback(admin, { revision: a.revision });
    expect(c).toMatchObject({ revision: b.revision + 1, rollback_to: a.revision, config_hash: a.config_hash });
    const stored = await svc.getRevision(c.revision);
    expect(stored).toMatchObject({ action: 'rollback', rollback_to: a.revision, reason: `rollback_to:${a.revision}` });
    expect(stored.snapshot[KEY]).toBe('3');
    expect(stored.changes).toEqual([{ key: KEY, before: '5', after: '3' }]);

    const history = await svc.history({ limit: '3' });
    expect(history.items.map((i) => i.revision)).toEqual([c.revision, b.revision, a.revision]);
    await expect(svc.rollback(admin, { revision: 999_999 })).rejects.toMatchObject({ code: 'not_found' });

    const audit = await stack.rt.audit.listDay(isoUtc(Date.now()).slice(0, 10), 50);
    const rollbackEntry = audit.find((e) => e.action === 'config.rollback' && e.target === `config:${c.revision}`);
    expect(rollbackEntry).toMatchObject({
      outcome: 'ok',
      actor: { type: 'cli', id: 'cli:test@host' },
      before: { [KEY]: '5' },
      after: { [KEY]: '3' },
    });
  });

  it('pages history with a signed cursor that cannot be reused with other filters', async () => {
    const first = await svc.history({ limit: '1' });
    expect(first.items).toHaveLength(1);
    expect(first.next_cursor).toBeTruthy();
    const second = await svc.history({ limit: '1', cursor: first.next_cursor as string });
    expect(second.items[0]?.revision).toBe((first.items[0]?.revision ?? 0) - 1);
    await expect(svc.history({ cursor: `${first.next_cursor}x` })).rejects.toMatchObject({ code: 'invalid_cursor' });
    expect((await svc.history({ limit: '999999' })).limit).toBe(500);
    expect((await svc.history({ limit: '0' })).limit).toBe(1);
    await expect(svc.history({ limit: 'abc' })).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('with expected_revision one of two racing writers wins and the other gets 409', async () => {
    const head = await svc.head();
    const results = await Promise.allSettled([
      svc.set(admin, { values: { GHTRADER_DOWNLOAD_MAX_WORKERS: 3 }, expected_revision: head.revision }),
      svc.set(admin, { values: { GHTRADER_QUERY_MAX_WORKERS: 9 }, expected_revision: head.revision }),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r) => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConfigRevisionConflictError);
    expect((await svc.head()).revision).toBe(head.revision + 1);
  });

  it('without expected_revision concurrent writers all land, none losing a change', async () => {
    const head = await svc.head();
    // A second service instance (another process's worth) over the same table.
    const other = serviceWith({});
    const [r1, r2] = await Promise.all([
      svc.set(admin, { values: { GHTRADER_DIAGNOSE_MAX_WORKERS: 5 } }),
      other.set(admin, { values: { GHTRADER_INDEX_BOOTSTRAP_WORKERS: 6 } }),
    ]);
    expect(new Set([r1.revision, r2.revision])).toEqual(new Set([head.revision + 1, head.revision + 2]));
    const now = await svc.head();
    expect(now.snapshot).toMatchObject({ GHTRADER_DIAGNOSE_MAX_WORKERS: '5', GHTRADER_INDEX_BOOTSTRAP_WORKERS: '6' });
  });

  it('resolves flag > config revision > env > default and marks env_shadowed', async () => {
    // Fresh key state: remove it, then look at each layer.
    await svc.set(admin, { values: { [KEY]: null } });
    let head = await svc.head();
    const layers = () => ({ revision: head.revision, snapshot: head.snapshot, env: stack.config.env });
    expect(resolveConfig(KEY, layers())).toMatchObject({ value: 7, source: `env:${KEY}` });
    await svc.set(admin, { values: { [KEY]: 13 } });
    head = await svc.head();
    expect(resolveConfig(KEY, layers())).toMatchObject({ value: 13, source: `config:${KEY}@${head.revision}` });
    expect(resolveConfig(KEY, layers(), { flag: '3' })).toMatchObject({ value: 3, source: 'flag' });
    expect(resolveConfig(KEY, { revision: 1, snapshot: {}, env: {} })).toMatchObject({ value: 0, source: 'default' });
    const eff = await svc.effective({ prefix: KEY });
    expect(eff.items.find((i) => i.key === KEY)).toMatchObject({ value: 13, env_shadowed: true });
  });

  it('import-env stores managed env keys; prune removes unmanaged ones; a viewer can do neither', async () => {
    await svc.set(admin, { values: { [KEY]: null } });
    const fromEnv = serviceWith({ [KEY]: '7', GHTRADER_QUESTDB_PG_PASSWORD: 'secret', GHTRADER_TYPO_KEY: '1' });
    const imported = await fromEnv.importEnv(admin);
    expect(imported.changed_keys).toEqual([KEY]);
    expect((await svc.head()).snapshot[KEY]).toBe('7');
    await expect(serviceWith({ GHTRADER_SUPERVISOR_POLL_S: '99' }).importEnv(admin)).rejects.toThrow(
      /GHTRADER_SUPERVISOR_POLL_S/,
    );

    // A retired key left in a stored snapshot (written before it was retired) is flagged and then pruned.
    const head = await svc.head();
    const store = new DynamoConfigStore(stack.rt.clients.doc, stack.config.tables.config);
    const legacy = { ...head.snapshot, GHTRADER_SLO_GPU_MIN: '1' };
    expect(
      await store.put({
        ...head,
        revision: head.revision + 1,
        snapshot: legacy,
        changed_keys: ['GHTRADER_SLO_GPU_MIN'],
        changes: [{ key: 'GHTRADER_SLO_GPU_MIN', before: null, after: '1' }],
        config_hash: configHash(legacy),
      }),
    ).toBe(true);
    const eff = await svc.effective({ prefix: 'GHTRADER_SLO_' });
    expect(eff.items.find((i) => i.key === 'GHTRADER_SLO_GPU_MIN')).toMatchObject({ unmanaged: true });
    const pruned = await svc.prune(admin);
    expect(pruned).toMatchObject({ changed: true, changed_keys: ['GHTRADER_SLO_GPU_MIN'] });
    expect((await svc.head()).snapshot).not.toHaveProperty('GHTRADER_SLO_GPU_MIN');

    const viewer: Caller = { ...admin, role: 'viewer' };
    await expect(svc.set(viewer, { values: { [KEY]: 1 } })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(svc.rollback(viewer, { revision: 1 })).rejects.toBeInstanceOf(ForbiddenError);
  });

  function serviceWith(env: Record<string, string>): ConfigService {
    return new ConfigService({
      store: new DynamoConfigStore(stack.rt.clients.doc, stack.config.tables.config),
      audit: stack.rt.audit,
      publish: () => {},
      clock: systemClock,
      log: stack.log,
      env,
      cursorSecret: 'x'.repeat(32),
    });
  }
});
