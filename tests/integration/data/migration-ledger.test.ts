import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimOptions } from '#shared/domain/data/migration-ledger.ts';
import type { Clock } from '#shared/domain/time.ts';
import { DynamoMigrationLedger } from '#shared/infra/aws/migration-ledger.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';

const STORE = 'questdb:127.0.0.1:9000';
const TABLE = 'ghtrader_ticks_main_l5_v2';

function opts(owner: string, extra: Partial<ClaimOptions> = {}): ClaimOptions {
  return { owner, sqlSha256: 'ab'.repeat(32), action: 'create_table', leaseMs: 60_000, retryFailed: false, ...extra };
}

describe('DynamoMigrationLedger on the real emulator', () => {
  let stack: TestStack;
  let now = Date.parse('2025-03-01T00:00:00.000Z');
  const clock: Clock = { nowMs: () => now };
  let ledger: DynamoMigrationLedger;
  beforeAll(async () => {
    stack = await createTestStack();
    ledger = new DynamoMigrationLedger(stack.rt.clients.doc, stack.config.tables.migrationLedger, clock);
  });
  afterAll(async () => {
    await stack.close();
  });

  it('lets exactly one of five racing claimers win, and the losers see the winner', async () => {
    // Prepare
    const owners = ['job-1', 'job-2', 'job-3', 'job-4', 'job-5'];

    // Act
    const results = await Promise.all(owners.map((o) => ledger.claim(STORE, TABLE, '0001_race', opts(o))));

    // Assess
    const winners = results.filter((r) => r.claimed);
    expect(winners).toHaveLength(1);
    const winner = winners[0];
    if (!winner?.claimed) throw new Error('expected a winner');
    expect(winner.record).toMatchObject({
      status: 'pending',
      migration_id: '0001_race',
      store_id: STORE,
      table: TABLE,
    });
    for (const r of results) {
      if (r.claimed) continue;
      expect(r.current).toMatchObject({ status: 'pending', applied_by: winner.record.applied_by });
    }
    expect((await ledger.status(STORE, TABLE)).pending).toContain('0001_race');
  });

  it('treats applied as final: a later claim fails and names the applier, even with retryFailed', async () => {
    // Prepare
    const store = 'duckdb:data/applied.duckdb';
    const first = await ledger.claim(store, TABLE, '0002_rename', opts('job-a'));
    expect(first.claimed).toBe(true);
    expect(await ledger.markApplied(store, TABLE, '0002_rename', 'job-a', 'renamed 2 columns')).toBe(true);

    // Act
    now += 10 * 60_000;
    const later = await ledger.claim(store, TABLE, '0002_rename', opts('job-b', { retryFailed: true }));
    const refail = await ledger.markFailed(store, TABLE, '0002_rename', 'job-a', 'late error');

    // Assess
    expect(later).toEqual({
      claimed: false,
      current: expect.objectContaining({ status: 'applied', applied_by: 'job-a', detail: 'renamed 2 columns' }),
    });
    expect(refail).toBe(false);
    const status = await ledger.status(store, TABLE);
    expect(status).toMatchObject({ ready: true, applied: ['0002_rename'], pending: [], failed: [] });
  });

  it('retries a failed migration only with retryFailed', async () => {
    // Prepare
    const store = 'duckdb:data/failed.duckdb';
    await ledger.claim(store, TABLE, '0003_provenance', opts('job-a'));
    expect(await ledger.markFailed(store, TABLE, '0003_provenance', 'job-a', 'both old and new columns present')).toBe(
      true,
    );
    const failedStatus = await ledger.status(store, TABLE);

    // Act
    const plain = await ledger.claim(store, TABLE, '0003_provenance', opts('job-b'));
    const retry = await ledger.claim(store, TABLE, '0003_provenance', opts('job-b', { retryFailed: true }));

    // Assess
    expect(failedStatus).toMatchObject({ ready: false, failed: ['0003_provenance'] });
    expect(plain).toEqual({
      claimed: false,
      current: expect.objectContaining({ status: 'failed', detail: 'both old and new columns present' }),
    });
    expect(retry.claimed).toBe(true);
    expect(await ledger.markApplied(store, TABLE, '0003_provenance', 'job-b', 'ok')).toBe(true);
    expect((await ledger.status(store, TABLE)).ready).toBe(true);
  });

  it('lets a claimer take over an expired pending lease, after which the old owner cannot finish', async () => {
    // Prepare
    const store = 'duckdb:data/lease.duckdb';
    await ledger.claim(store, TABLE, '0004_algo', opts('job-a', { leaseMs: 1_000 }));
    const whileLive = await ledger.claim(store, TABLE, '0004_algo', opts('job-b'));

    // Act
    now += 2_000;
    const takeover = await ledger.claim(store, TABLE, '0004_algo', opts('job-b'));
    const staleApply = await ledger.markApplied(store, TABLE, '0004_algo', 'job-a', 'late');

    // Assess
    expect(whileLive).toEqual({ claimed: false, current: expect.objectContaining({ applied_by: 'job-a' }) });
    expect(takeover.claimed).toBe(true);
    expect(staleApply).toBe(false);
    const [record] = await ledger.list(store, TABLE);
    expect(record).toMatchObject({ status: 'pending', applied_by: 'job-b', detail: '' });
  });

  it('refuses markApplied and markFailed by a non-owner and never overwrites', async () => {
    // Prepare
    const store = 'duckdb:data/owner.duckdb';
    await ledger.claim(store, TABLE, '0005_builds', opts('job-a'));

    // Act
    const foreignApply = await ledger.markApplied(store, TABLE, '0005_builds', 'job-b', 'hijack');
    const foreignFail = await ledger.markFailed(store, TABLE, '0005_builds', 'job-b', 'hijack');
    const missing = await ledger.markApplied(store, TABLE, '0099_missing', 'job-a', 'x');

    // Assess
    expect(foreignApply).toBe(false);
    expect(foreignFail).toBe(false);
    expect(missing).toBe(false);
    expect(await ledger.list(store, TABLE)).toEqual([
      expect.objectContaining({ migration_id: '0005_builds', status: 'pending', applied_by: 'job-a', detail: '' }),
    ]);
  });

  it('lists one table of one store by query, ordered by migration id', async () => {
    // Prepare
    const store = 'duckdb:data/list.duckdb';
    for (const id of ['0002_b', '0001_a']) {
      await ledger.claim(store, TABLE, id, opts('job-a'));
      await ledger.markApplied(store, TABLE, id, 'job-a', 'ok');
    }
    await ledger.claim(store, 'other_table', '0001_a', opts('job-a'));

    // Act
    const records = await ledger.list(store, TABLE);
    const other = await ledger.status(store, 'other_table');

    // Assess
    expect(records.map((r) => r.migration_id)).toEqual(['0001_a', '0002_b']);
    expect(other).toEqual({
      store_id: store,
      table: 'other_table',
      ready: false,
      applied: [],
      pending: ['0001_a'],
      failed: [],
    });
  });
});
