/**
 * The QuestDB partition-rewrite guard (§1.4, §10.3) on the real lock store (dynalite): the caller's own writer lock
 * must be held, the other writers' locks are taken for the rewrite and given back after it, and a held one refuses
 * the rewrite naming its holder (never preempted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import { buildLockKey } from '#shared/services/data/main-l5.ts';
import { lockRewriteGuard, rewriteWriterLocks } from '#shared/services/data/rewrite-guard.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';

const TICKS = TABLES.ticksMainL5.name;
const LEASE_MS = 60_000;
const owner = (id: string) => ({ ownerId: id, host: 'test-host', pid: 1 });

describe('QuestDB rewrite guard on the lock store', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ runner: false });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('names the writer locks of the tick, daily-aggregate and schedule tables, and refuses other tables', () => {
    expect(rewriteWriterLocks(TICKS, { symbol: 'KQ.m@SHFE.au' })).toEqual({
      own: 'main_l5:symbol=KQ.m@SHFE.au',
      others: ['main_l5:symbol=KQ.m@SHFE.cu', 'main_l5:symbol=KQ.m@SHFE.ag'],
    });
    expect(rewriteWriterLocks(TABLES.dailyAgg.name, { symbol: 'SHFE.cu2505' }).own).toBe('main_l5:symbol=KQ.m@SHFE.cu');
    expect(rewriteWriterLocks(TABLES.mainSchedule.name, { exchange: 'SHFE', variety: 'ag' })).toEqual({
      own: 'main_schedule:var=ag',
      others: ['main_schedule:var=cu', 'main_schedule:var=au'],
    });
    expect(() => rewriteWriterLocks(TABLES.validateSummary.name, { symbol: 'KQ.m@SHFE.cu' })).toThrow(
      /no writers of that table are known/,
    );
  });

  it('takes the other builds’ locks for the rewrite and gives them back after it', async () => {
    // Prepare: the rebuild of cu holds its build lock
    const mine = await stack.rt.locks.acquire(buildLockKey('cu'), owner('build-cu'), LEASE_MS);
    if (!mine.ok) throw new Error('expected the cu build lock');
    const guard = lockRewriteGuard(stack.rt.locks, 'rewrite-test');
    // Act
    const release = await guard(TICKS, { symbol: 'KQ.m@SHFE.cu', lockOwner: 'build-cu' });
    const during = await Promise.all([buildLockKey('au'), buildLockKey('ag')].map((k) => stack.rt.locks.holder(k)));
    const auDuring = await stack.rt.locks.acquire(buildLockKey('au'), owner('build-au'), LEASE_MS);
    await release();
    const after = await Promise.all([buildLockKey('au'), buildLockKey('ag')].map((k) => stack.rt.locks.holder(k)));
    // Assess
    expect(during.map((h) => h?.owner)).toEqual(['rewrite-test', 'rewrite-test']);
    expect(auDuring.ok).toBe(false);
    expect(after).toEqual([null, null]);
    await stack.rt.locks.release(mine.leases[0] as (typeof mine.leases)[0]);
  });

  it('refuses when the caller does not hold its own lock, or another build is running, taking nothing', async () => {
    // Prepare
    const guard = lockRewriteGuard(stack.rt.locks, 'rewrite-test');
    // Act / Assess: nobody holds the au build lock
    await expect(guard(TICKS, { symbol: 'KQ.m@SHFE.au', lockOwner: 'build-au' })).rejects.toThrow(
      /must hold main_l5:symbol=KQ\.m@SHFE\.au, and nobody does/,
    );
    // Prepare: au rebuilds while an ag build runs
    const au = await stack.rt.locks.acquire(buildLockKey('au'), owner('build-au'), LEASE_MS);
    const ag = await stack.rt.locks.acquire(buildLockKey('ag'), owner('build-ag'), LEASE_MS);
    if (!au.ok || !ag.ok) throw new Error('expected the au and ag build locks');
    // Act
    const attempt = guard(TICKS, { symbol: 'KQ.m@SHFE.au', lockOwner: 'build-au' });
    // Assess: blocked, naming the holder; the cu lock it could take is not kept
    await expect(attempt).rejects.toThrow(/main_l5:symbol=KQ\.m@SHFE\.ag \(held by build-ag on test-host\)/);
    expect(await stack.rt.locks.holder(buildLockKey('cu'))).toBeNull();
    expect((await stack.rt.locks.holder(buildLockKey('ag')))?.owner).toBe('build-ag');
  });

  it('refuses a delete that names no lock owner, or whose lock another job holds, taking nothing', async () => {
    // Prepare: another job holds the cu schedule lock
    const guard = lockRewriteGuard(stack.rt.locks, 'rewrite-test');
    const held = await stack.rt.locks.acquire('main_schedule:var=cu', owner('schedule-job-1'), LEASE_MS);
    if (!held.ok) throw new Error('expected the cu schedule lock');
    const scope = { exchange: 'SHFE', variety: 'cu' } as const;

    // Act / Assess
    await expect(guard(TABLES.mainSchedule.name, scope)).rejects.toThrow(/names no lockOwner/);
    await expect(guard(TABLES.mainSchedule.name, { ...scope, lockOwner: 'schedule-job-2' })).rejects.toThrow(
      /main_schedule:var=cu is held by schedule-job-1 on test-host, not by the caller schedule-job-2/,
    );
    expect(await stack.rt.locks.holder('main_schedule:var=au')).toBeNull();
    const release = await guard(TABLES.mainSchedule.name, { ...scope, lockOwner: 'schedule-job-1' });
    await release();
    await stack.rt.locks.release(held.leases[0] as (typeof held.leases)[0]);
  });
});
