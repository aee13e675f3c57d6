import { describe, expect, it } from 'vitest';
import { cacheTagsForChannel, HotCache } from '#shared/domain/control/hot-cache.ts';

function manualClock(start = 1_000_000) {
  let now = start;
  return {
    nowMs: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('HotCache', () => {
  it('answers from the cache within the lifetime and loads again after it', async () => {
    const clock = manualClock();
    const cache = new HotCache({ ttlMs: 1000, clock, refreshAheadRatio: 1 });
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get('k', [], load)).toBe(1);
    clock.advance(999);
    expect(await cache.get('k', [], load)).toBe(1);
    clock.advance(1);
    expect(await cache.get('k', [], load)).toBe(2);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, entries: 1 });
  });

  it('shares one load between concurrent callers (single flight)', async () => {
    const cache = new HotCache({ ttlMs: 1000, clock: manualClock() });
    const d = deferred<string>();
    let loads = 0;
    const load = () => {
      loads++;
      return d.promise;
    };
    const all = Promise.all([cache.get('k', [], load), cache.get('k', [], load), cache.get('k', [], load)]);
    d.resolve('v');
    expect(await all).toEqual(['v', 'v', 'v']);
    expect(loads).toBe(1);
    expect(cache.stats().coalesced).toBe(2);
  });

  it('drops entries by tag, and a load in flight during the invalidation is not kept', async () => {
    const cache = new HotCache({ ttlMs: 1000, clock: manualClock() });
    await cache.get('a', ['jobs:all'], async () => 'a1');
    await cache.get('b', ['config'], async () => 'b1');
    cache.invalidate('jobs:all');
    expect(await cache.get('a', ['jobs:all'], async () => 'a2')).toBe('a2');
    expect(await cache.get('b', ['config'], async () => 'b2')).toBe('b1');

    const slow = deferred<string>();
    const before = cache.get('c', ['job:1'], () => slow.promise);
    cache.invalidate('job:1');
    // A read that starts after the invalidation loads again instead of joining the stale load.
    const after = cache.get('c', ['job:1'], async () => 'fresh');
    slow.resolve('stale');
    expect(await before).toBe('stale');
    expect(await after).toBe('fresh');
    expect(await cache.get('c', ['job:1'], async () => 'third')).toBe('fresh');
  });

  it('refreshes a hot entry in the background after 70 % of its lifetime, never answering older than it', async () => {
    const clock = manualClock();
    const cache = new HotCache({ ttlMs: 1000, clock });
    let version = 0;
    const pending: ReturnType<typeof deferred<number>>[] = [];
    const load = () => {
      version++;
      const d = deferred<number>();
      pending.push(d);
      return d.promise;
    };
    const first = cache.get('k', [], load);
    pending[0]?.resolve(1);
    expect(await first).toBe(1);
    clock.advance(699);
    expect(await cache.get('k', [], load)).toBe(1);
    expect(version).toBe(1);
    clock.advance(1);
    // 700 ms: answered from the entry at once, one background load started (and only one).
    expect(await cache.get('k', [], load)).toBe(1);
    expect(await cache.get('k', [], load)).toBe(1);
    expect(version).toBe(2);
    pending[1]?.resolve(2);
    await Promise.resolve();
    await Promise.resolve();
    expect(await cache.get('k', [], load)).toBe(2);
    // The refreshed entry is dated from its load's start (700 ms): it expires at 1700 ms, not later.
    clock.advance(999);
    expect(await cache.get('k', [], load)).toBe(2);
    clock.advance(1);
    const after = cache.get('k', [], load);
    pending.at(-1)?.resolve(3);
    expect(await after).toBe(3);
    expect(cache.stats()).toMatchObject({ refreshes: 2, refresh_failures: 0 });
  });

  it('drops a background refresh overtaken by an invalidation, and counts a failed one', async () => {
    const clock = manualClock();
    const cache = new HotCache({ ttlMs: 1000, clock });
    await cache.get('k', ['t'], async () => 'a');
    clock.advance(800);
    const slow = deferred<string>();
    expect(await cache.get('k', ['t'], () => slow.promise)).toBe('a');
    cache.invalidate('t');
    expect(await cache.get('k', ['t'], async () => 'b')).toBe('b');
    slow.resolve('stale');
    await Promise.resolve();
    await Promise.resolve();
    expect(await cache.get('k', ['t'], async () => 'c')).toBe('b');

    clock.advance(800);
    expect(await cache.get('k', ['t'], async () => Promise.reject(new Error('store down')))).toBe('b');
    await Promise.resolve();
    await Promise.resolve();
    expect(cache.stats().refresh_failures).toBe(1);
    clock.advance(200);
    await expect(cache.get('k', ['t'], async () => Promise.reject(new Error('still down')))).rejects.toThrow(
      'still down',
    );
  });

  it('never keeps a failed load', async () => {
    const cache = new HotCache({ ttlMs: 1000, clock: manualClock() });
    await expect(cache.get('k', [], async () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect(await cache.get('k', [], async () => 'ok')).toBe('ok');
  });

  it('with ttlMs 0 every read loads', async () => {
    const cache = new HotCache({ ttlMs: 0, clock: manualClock() });
    let loads = 0;
    await cache.get('k', [], async () => ++loads);
    await cache.get('k', [], async () => ++loads);
    expect(loads).toBe(2);
  });

  it('refuses a lifetime above 1 s or not an integer', () => {
    expect(() => new HotCache({ ttlMs: 1001, clock: manualClock() })).toThrow(/\[0, 1000\]/);
    expect(() => new HotCache({ ttlMs: 0.5, clock: manualClock() })).toThrow(RangeError);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = new HotCache({ ttlMs: 1000, clock: manualClock(), maxEntries: 2 });
    await cache.get('a', [], async () => 1);
    await cache.get('b', [], async () => 2);
    await cache.get('c', [], async () => 3);
    expect(cache.stats().entries).toBe(2);
    expect(await cache.get('a', [], async () => 10)).toBe(10);
    expect(await cache.get('c', [], async () => 30)).toBe(3);
  });

  it('keeps a final value past its lifetime and invalidations, and a value not yet final only for the lifetime', async () => {
    // Arrange: a job record that ends after its first read
    const clock = manualClock();
    const cache = new HotCache({ ttlMs: 1000, clock, refreshAheadRatio: 1 });
    const statuses = ['running', 'succeeded', 'failed'];
    let loads = 0;
    const load = async () => ({ status: statuses[loads++] as string });
    const read = () => cache.getUntilFinal('job:J', ['job:J'], load, (j) => j.status !== 'running');

    // Act + Assert: running is cached for the lifetime only
    expect((await read()).status).toBe('running');
    clock.advance(999);
    expect((await read()).status).toBe('running');
    clock.advance(1);
    expect((await read()).status).toBe('succeeded');

    // Act + Assert: succeeded is final: no load after the lifetime or an invalidation
    clock.advance(3_600_000);
    cache.invalidate('job:J');
    expect((await read()).status).toBe('succeeded');
    expect(loads).toBe(2);
    expect(cache.stats()).toMatchObject({ final_entries: 1, final_hits: 1 });
  });

  it('holds at most maxFinalEntries final values, dropping the least recently read', async () => {
    const cache = new HotCache({ ttlMs: 1000, clock: manualClock(), maxFinalEntries: 2 });
    const final = (key: string, value: number) =>
      cache.getUntilFinal(
        key,
        [],
        async () => value,
        () => true,
      );
    await final('a', 1);
    await final('b', 2);
    await final('a', 10); // a read: b is now the least recently read
    await final('c', 3);
    expect(cache.stats().final_entries).toBe(2);
    expect(await final('a', 100)).toBe(1);
    expect(await final('c', 300)).toBe(3);
    expect(await final('b', 20)).toBe(20);
  });

  it('with ttlMs 0 a final value is not kept either', async () => {
    const cache = new HotCache({ ttlMs: 0, clock: manualClock() });
    let loads = 0;
    const read = () =>
      cache.getUntilFinal(
        'k',
        [],
        async () => ++loads,
        () => true,
      );
    await read();
    await read();
    expect(loads).toBe(2);
  });
});

describe('cacheTagsForChannel', () => {
  it('maps job events to the list and the job, config and audit to their topics', () => {
    const status = { type: 'job.status', job: { job_id: 'J1', var: 'cu' } };
    expect(cacheTagsForChannel('jobs:updates', status).sort()).toEqual(['job:J1', 'jobs:all', 'jobs:cu']);
    const progress = { type: 'job.progress', job_id: 'J2', kind: 'system.sleep', var: null, progress: {} };
    expect(cacheTagsForChannel('jobs:updates', progress).sort()).toEqual(['job:J2', 'jobs:all']);
    expect(cacheTagsForChannel('config:updates', { revision: 3 })).toEqual(['config']);
    expect(cacheTagsForChannel('audit:updates', { audit_id: 'A' })).toEqual(['audit']);
    expect(cacheTagsForChannel('nonsense', { a: 1 })).toEqual([]);
  });
});
