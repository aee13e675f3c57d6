import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lease, LockOwner } from '#shared/domain/control/locks.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';

const a: LockOwner = { ownerId: 'job-a', host: 'host-a', pid: 1 };
const b: LockOwner = { ownerId: 'job-b', host: 'host-b', pid: 2 };

describe('DynamoLockStore on the real emulator', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  it('gives the second contender a conflict naming the holder, then a higher fence after expiry', async () => {
    // Prepare
    const locks = stack.rt.locks;
    const first = await locks.acquire('main_l5:symbol=KQ.m@SHFE.cu', a, 400);
    expect(first.ok).toBe(true);
    if (!first.ok) return;

    // Act
    const second = await locks.acquire('main_l5:symbol=KQ.m@SHFE.cu', b, 400);

    // Assess
    expect(second.ok).toBe(false);
    if (second.ok) return;
    expect(second.conflicts).toEqual([
      expect.objectContaining({ key: 'main_l5:symbol=KQ.m@SHFE.cu', owner: 'job-a', host: 'host-a', pid: 1 }),
    ]);

    // Act: after the lease expires the same contender acquires with a higher fencing token.
    await new Promise((r) => setTimeout(r, 500));
    const third = await locks.acquire('main_l5:symbol=KQ.m@SHFE.cu', b, 400);

    // Assess
    expect(third.ok).toBe(true);
    if (!third.ok) return;
    expect(third.leases[0]?.fence).toBeGreaterThan(first.leases[0]?.fence ?? Number.POSITIVE_INFINITY);
  });

  it('never lets a non-owner renew or release, and frees the key on release by the owner', async () => {
    // Prepare
    const locks = stack.rt.locks;
    const r = await locks.acquire('k:renew', a, 5_000);
    if (!r.ok) throw new Error('expected to acquire');
    const lease = r.leases[0];
    if (!lease) throw new Error('expected a lease');

    // Act
    const renewed = await locks.renew(lease, 10_000);
    const foreignRelease = await locks.release({ ...lease, ownerId: 'job-b' });
    const ownRelease = await locks.release(renewed);

    // Assess
    expect(renewed.expiresAtMs).toBeGreaterThan(lease.expiresAtMs);
    expect(foreignRelease).toBe(false);
    expect(ownRelease).toBe(true);
    expect(await locks.holder('k:renew')).toBeNull();
    await expect(locks.renew(renewed, 1_000)).rejects.toMatchObject({ code: 'lock_lost' });
  });

  it('acquires several keys in sorted order and rolls back all of them on a conflict', async () => {
    // Prepare
    const locks = stack.rt.locks;
    const held = await locks.acquire('multi:b', b, 5_000);
    expect(held.ok).toBe(true);

    // Act
    const r = await locks.acquireAll(['multi:c', 'multi:a', 'multi:b'], a, 5_000);

    // Assess
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.conflicts.map((c) => [c.key, c.owner])).toEqual([['multi:b', 'job-b']]);
    expect(await locks.holder('multi:a')).toBeNull();
    expect(await locks.holder('multi:c')).toBeNull();
  });

  it('does not preempt a live holder however often a contender retries', async () => {
    // Prepare
    const locks = stack.rt.locks;
    await locks.acquire('k:nopreempt', a, 5_000);

    // Act
    const attempts = await Promise.all([1, 2, 3, 4, 5].map(() => locks.acquire('k:nopreempt', b, 5_000)));

    // Assess
    expect(attempts.every((x) => !x.ok)).toBe(true);
    expect((await locks.holder('k:nopreempt'))?.owner).toBe('job-a');
  });

  it('lists the leases in key order through the index: holders, expired ones flagged, no fence counters, by prefix and page', async () => {
    // Prepare: three leases under a fresh prefix, one of them expired, one released
    const locks = stack.rt.locks;
    const p = `list${Date.now()}:`;
    const held = await locks.acquire(`${p}b`, a, 60_000);
    await locks.acquire(`${p}a`, b, 1);
    const released = await locks.acquire(`${p}c`, a, 60_000);
    if (!held.ok || !released.ok) throw new Error('expected to acquire');
    await locks.release(released.leases[0] as Lease);
    await new Promise((r) => setTimeout(r, 20));

    // Act
    const all = await locks.list({ prefix: p, limit: 10 });
    const first = await locks.list({ prefix: p, limit: 1 });
    const rest = await locks.list({ prefix: p, limit: 10, start: first.next ?? undefined });

    // Assess
    expect(all.items.map((l) => [l.key, l.owner, l.expired])).toEqual([
      [`${p}a`, 'job-b', true],
      [`${p}b`, 'job-a', false],
    ]);
    expect(all.items[1]).toMatchObject({ host: 'host-a', pid: 1, fencing_token: held.leases[0]?.fence });
    expect(all.items[1]?.acquired_at).toMatch(/Z$/);
    expect(first.items.map((l) => l.key)).toEqual([`${p}a`]);
    expect(first.next).not.toBeNull();
    expect(rest.items.map((l) => l.key)).toEqual([`${p}b`]);
    const everything = await locks.list({ limit: 500 });
    expect(everything.items.some((l) => l.key.startsWith('fence#'))).toBe(false);
  });

  it('lists a lease taken before the index existed once it is renewed', async () => {
    // Prepare: a lease item as an older version wrote it (no shard attribute)
    const locks = stack.rt.locks;
    const key = `legacy${Date.now()}`;
    const r = await locks.acquire(key, a, 60_000);
    if (!r.ok) throw new Error('expected to acquire');
    await stack.rt.clients.doc.send(
      new UpdateCommand({
        TableName: stack.config.tables.locks,
        Key: { key },
        UpdateExpression: 'REMOVE #s',
        ExpressionAttributeNames: { '#s': 'shard' },
      }),
    );
    expect((await locks.list({ prefix: key, limit: 10 })).items).toEqual([]);

    // Act
    await locks.renew(r.leases[0] as Lease, 60_000);

    // Assess
    expect((await locks.list({ prefix: key, limit: 10 })).items.map((l) => l.key)).toEqual([key]);
  });
});
