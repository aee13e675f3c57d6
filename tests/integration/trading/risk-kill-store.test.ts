import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyKill, applyReset, type KillInput, type RiskKillRecord } from '#shared/domain/trading/risk-kill.ts';
import { DynamoRiskKillStore } from '#shared/infra/aws/risk-kill-store.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';

const KILL: KillInput = {
  trigger: 'max_daily_loss',
  reason: 'daily loss 5200 > 5000',
  details: { pnl: -5200.5, limit: 5000, symbols: ['SHFE.cu2502'] },
  at_ns: 2n ** 62n + 1n,
  by: 'gateway',
  fence: 3,
};
const RESET = { at_ns: 2n ** 62n + 1_000_000_000n, by: 'alice', note: 'reviewed with the broker', fence: 3 };

function must<T>(v: T | null, what: string): T {
  if (v === null) throw new Error(`expected ${what}`);
  return v;
}

describe('DynamoRiskKillStore on the real emulator', () => {
  let stack: TestStack;
  let store: DynamoRiskKillStore;
  beforeAll(async () => {
    stack = await createTestStack();
    store = new DynamoRiskKillStore(stack.rt.clients.doc, stack.config.tables.riskKill);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('has no record for a profile never killed', async () => {
    // Act
    const read = await store.get('never');

    // Assess
    expect(read).toBeNull();
  });

  it('writes the first kill at revision 1 with instants as strings and details as a map', async () => {
    // Prepare
    const next = must(applyKill('first', null, KILL), 'a kill');

    // Act
    const put = await store.put(next);
    const read = await store.get('first');
    const raw = await stack.rt.clients.dynamo.send(
      new GetItemCommand({
        TableName: stack.config.tables.riskKill,
        Key: { account_profile: { S: 'first' } },
        ConsistentRead: true,
      }),
    );

    // Assess
    expect(put).toBe(true);
    expect(read).toEqual(next);
    expect(read?.revision).toBe(1);
    expect(read?.killed_at_ns).toBe(2n ** 62n + 1n);
    expect(raw.Item?.killed_at_ns).toEqual({ S: '4611686018427387905' });
    expect(raw.Item?.reset_at_ns).toEqual({ NULL: true });
    expect(raw.Item?.revision).toEqual({ N: '1' });
    expect(raw.Item?.details?.M).toBeDefined();
  });

  it('refuses a second revision 1 and keeps the first', async () => {
    // Prepare
    const first = must(applyKill('twice', null, KILL), 'a kill');
    await store.put(first);
    const rival = must(applyKill('twice', null, { ...KILL, trigger: 'operator', reason: 'rival' }), 'a kill');

    // Act
    const put = await store.put(rival);

    // Assess
    expect(put).toBe(false);
    expect(await store.get('twice')).toEqual(first);
  });

  it('refuses a write built on a stale revision, and one that skips a revision', async () => {
    // Prepare: kill (r1), reset (r2) lands; a writer still holding r1 tries its own reset and a kill at r3.
    const killed = must(applyKill('stale', null, KILL), 'a kill');
    await store.put(killed);
    const reset = must(applyReset('stale', killed, RESET).next, 'a reset');
    expect(await store.put(reset)).toBe(true);
    const staleReset = must(applyReset('stale', killed, { ...RESET, by: 'bob', note: 'late' }).next, 'a reset');
    const skipping: RiskKillRecord = { ...killed, revision: 4 };

    // Act
    const stalePut = await store.put(staleReset);
    const skipPut = await store.put(skipping);

    // Assess
    expect(stalePut).toBe(false);
    expect(skipPut).toBe(false);
    expect(await store.get('stale')).toEqual(reset);
  });

  it('refuses a revision above 1 for a profile with no record', async () => {
    // Prepare
    const orphan: RiskKillRecord = { ...must(applyKill('orphan', null, KILL), 'a kill'), revision: 2 };

    // Act
    const put = await store.put(orphan);

    // Assess
    expect(put).toBe(false);
    expect(await store.get('orphan')).toBeNull();
  });

  it('goes kill -> reset -> kill through the domain transitions, one revision each', async () => {
    // Act: every step reads, applies, writes, as the gateway does.
    const k1 = must(applyKill('cycle', await store.get('cycle'), KILL), 'the first kill');
    const put1 = await store.put(k1);
    const noop = applyKill('cycle', await store.get('cycle'), { ...KILL, reason: 'again' });
    const r = applyReset('cycle', await store.get('cycle'), RESET);
    const put2 = await store.put(must(r.next, 'a reset'));
    const idle = applyReset('cycle', await store.get('cycle'), RESET);
    const k2 = must(
      applyKill('cycle', await store.get('cycle'), { ...KILL, trigger: 'operator', reason: 'manual', details: {} }),
      'the second kill',
    );
    const put3 = await store.put(k2);
    const final = await store.get('cycle');

    // Assess
    expect([put1, put2, put3]).toEqual([true, true, true]);
    expect(noop).toBeNull();
    expect(r.was_killed).toBe(true);
    expect(idle).toEqual({ was_killed: false, next: null });
    expect(final).toEqual(k2);
    expect(final).toMatchObject({
      state: 'KILLED',
      revision: 3,
      trigger: 'operator',
      reason: 'manual',
      details: {},
      killed_at_ns: KILL.at_ns,
      reset_at_ns: RESET.at_ns,
      reset_by: 'alice',
      reset_note: 'reviewed with the broker',
    });
  });

  it('keeps profiles apart', async () => {
    // Prepare
    await store.put(must(applyKill('iso_a', null, KILL), 'a kill'));

    // Act
    const b = await store.get('iso_b');
    const putB = await store.put(must(applyKill('iso_b', null, KILL), 'a kill'));

    // Assess
    expect(b).toBeNull();
    expect(putB).toBe(true);
  });

  it('throws naming the profile on a corrupt stored record', async () => {
    // Prepare: a KILLED record with a numeric instant, written behind the store's back.
    await stack.rt.clients.doc.send(
      new PutCommand({
        TableName: stack.config.tables.riskKill,
        Item: {
          account_profile: 'corrupt',
          state: 'KILLED',
          revision: 1,
          trigger: 'operator',
          reason: 'x',
          details: {},
          killed_at_ns: 5,
          killed_by: 'gateway',
          reset_at_ns: null,
          reset_by: null,
          reset_note: null,
          fence: 0,
        },
      }),
    );

    // Act
    const read = store.get('corrupt');

    // Assess
    await expect(read).rejects.toThrow(/stored risk-kill record of corrupt at killed_at_ns/);
  });

  it('refuses to write an invalid record', async () => {
    // Prepare
    const bad: RiskKillRecord = {
      ...must(applyKill('invalid', null, KILL), 'a kill'),
      account_profile: 'Not Canonical',
    };

    // Act
    const put = store.put(bad);

    // Assess
    await expect(put).rejects.toThrow(/invalid risk-kill record Not Canonical r1 at account_profile/);
  });
});
