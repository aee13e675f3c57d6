import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatewayCommand, type GatewayCommand, type GatewayCommandType } from '#shared/domain/trading/commands.ts';
import { DynamoCommandStore } from '#shared/infra/aws/command-store.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';

const nextId = monotonicFactory();
const T0 = 1_735_689_600_000_000_000n;

/** A valid command for `profile` with a fresh, increasing ULID. */
function command(
  profile: string,
  over: { type?: GatewayCommandType; params?: unknown; issued_at_ns?: bigint; command_id?: string } = {},
): GatewayCommand {
  return buildGatewayCommand({
    command_id: over.command_id ?? nextId(),
    type: over.type ?? 'cancel_all',
    account_profile: profile,
    params: over.params ?? {},
    issued_at_ns: over.issued_at_ns ?? T0,
    issued_by: 'alice',
    source: 'api',
  });
}

describe('DynamoCommandStore on the real emulator', () => {
  let stack: TestStack;
  let store: DynamoCommandStore;
  beforeAll(async () => {
    stack = await createTestStack();
    store = new DynamoCommandStore(stack.rt.clients.doc, stack.config.tables.commands);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('stores the wire envelope (issued_at_ns a string, params a map) and reads it back with a bigint beyond 2^53', async () => {
    // Prepare
    const big = 2n ** 63n + 12_345n;
    const c = command('rt', {
      type: 'set_target',
      params: { symbol: 'SHFE.cu2502', target: -3 },
      issued_at_ns: big,
    });

    // Act
    const put = await store.put(c);
    const read = await store.get('rt', c.command_id);
    const raw = await stack.rt.clients.dynamo.send(
      new GetItemCommand({
        TableName: stack.config.tables.commands,
        Key: { account_profile: { S: 'rt' }, command_id: { S: c.command_id } },
        ConsistentRead: true,
      }),
    );

    // Assess
    expect(put).toBe(true);
    expect(read).toEqual(c);
    expect(read?.issued_at_ns).toBe(big);
    expect(raw.Item?.issued_at_ns).toEqual({ S: '9223372036854788153' });
    expect(raw.Item?.params).toEqual({ M: { symbol: { S: 'SHFE.cu2502' }, target: { N: '-3' } } });
    expect(Object.keys(raw.Item ?? {}).sort()).toEqual([
      'account_profile',
      'command_id',
      'issued_at_ns',
      'issued_by',
      'params',
      'source',
      'type',
    ]);
  });

  it('returns null for an unknown command id', async () => {
    // Act
    const read = await store.get('rt', nextId());

    // Assess
    expect(read).toBeNull();
  });

  it('refuses a second put of the same command id and keeps the original', async () => {
    // Prepare
    const original = command('dup', { type: 'kill', params: { reason: 'first' } });
    await store.put(original);
    const imposter = { ...original, params: { reason: 'second' }, issued_by: 'mallory' };

    // Act
    const again = await store.put(imposter);
    const read = await store.get('dup', original.command_id);

    // Assess
    expect(again).toBe(false);
    expect(read).toEqual(original);
  });

  it('refuses to store an invalid command before writing anything', async () => {
    // Prepare
    const bad = { ...command('bad'), type: 'kill' as const, params: {} };

    // Act
    const put = store.put(bad);

    // Assess
    await expect(put).rejects.toThrow(/invalid command to store at params\.reason/);
    expect(await store.get('bad', bad.command_id)).toBeNull();
  });

  it('pages oldest first through 30 commands with limit 10 and a cursor, then returns nothing past the end', async () => {
    // Prepare
    const all: GatewayCommand[] = [];
    for (let i = 0; i < 30; i++) all.push(command('pages', { issued_at_ns: T0 + BigInt(i) }));
    // Written out of order: the sort key, not the write order, decides.
    for (const c of [...all].reverse()) expect(await store.put(c)).toBe(true);

    // Act
    const seen: GatewayCommand[][] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 4; i++) {
      const page: GatewayCommand[] = await store.after('pages', cursor, 10);
      seen.push(page);
      cursor = page.at(-1)?.command_id ?? cursor;
    }

    // Assess
    expect(seen.map((p) => p.length)).toEqual([10, 10, 10, 0]);
    expect(seen.flat()).toEqual(all);
  });

  it('returns only ids strictly greater than the cursor', async () => {
    // Prepare
    const cs = [command('cursor'), command('cursor'), command('cursor')];
    for (const c of cs) await store.put(c);

    // Act
    const afterFirst = await store.after('cursor', cs[0]?.command_id ?? '', 10);
    const afterLast = await store.after('cursor', cs[2]?.command_id ?? '', 10);

    // Assess
    expect(afterFirst.map((c) => c.command_id)).toEqual([cs[1]?.command_id, cs[2]?.command_id]);
    expect(afterLast).toEqual([]);
  });

  it('lists recent commands newest first, bounded by the limit', async () => {
    // Prepare
    const cs = Array.from({ length: 5 }, (_, i) => command('recent', { issued_at_ns: T0 + BigInt(i) }));
    for (const c of cs) await store.put(c);

    // Act
    const top3 = await store.recent('recent', 3);
    const all = await store.recent('recent', 100);

    // Assess
    expect(top3.map((c) => c.command_id)).toEqual([cs[4], cs[3], cs[2]].map((c) => c?.command_id));
    expect(all).toEqual([...cs].reverse());
  });

  it('keeps profiles apart', async () => {
    // Prepare
    const a = command('iso_a', { type: 'disarm_live' });
    const b = command('iso_b', { type: 'clear_target', params: { symbol: 'SHFE.au2506' } });
    await store.put(a);
    await store.put(b);

    // Act
    const afterA = await store.after('iso_a', null, 10);
    const recentB = await store.recent('iso_b', 10);
    const crossGet = await store.get('iso_a', b.command_id);
    const none = await store.after('iso_none', null, 10);

    // Assess
    expect(afterA).toEqual([a]);
    expect(recentB).toEqual([b]);
    expect(crossGet).toBeNull();
    expect(none).toEqual([]);
  });

  it('throws naming the profile and command id on a corrupt stored item, in get, after and recent', async () => {
    // Prepare: a valid neighbour and a kill without its reason, written behind the store's back.
    const good = command('corrupt');
    await store.put(good);
    const badId = nextId();
    await stack.rt.clients.doc.send(
      new PutCommand({
        TableName: stack.config.tables.commands,
        Item: {
          command_id: badId,
          type: 'kill',
          account_profile: 'corrupt',
          params: {},
          issued_at_ns: T0.toString(),
          issued_by: 'alice',
          source: 'api',
        },
      }),
    );
    const expected = new RegExp(`stored command corrupt/${badId} at params\\.reason`);

    // Act + Assess: the three reads run at once, each with its expectation attached from the start (awaiting one
    // after another would leave a later rejection unhandled while an earlier read is still on the wire).
    await Promise.all([
      expect(store.get('corrupt', badId)).rejects.toThrow(expected),
      expect(store.after('corrupt', null, 10)).rejects.toThrow(expected),
      expect(store.recent('corrupt', 10)).rejects.toThrow(expected),
    ]);
    expect(await store.get('corrupt', good.command_id)).toEqual(good);
    expect(await store.after('corrupt', badId, 10)).toEqual([]);
  });

  it('rejects a limit below 1 instead of asking DynamoDB', async () => {
    // Act
    const zero = store.after('rt', null, 0);
    const fraction = store.recent('rt', 1.5);

    // Assess
    await expect(zero).rejects.toThrow(RangeError);
    await expect(fraction).rejects.toThrow(/limit must be an integer/);
  });
});
