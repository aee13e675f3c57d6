import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisWarmPath, type WarmPathStatus } from '#shared/infra/redis/warm-path.ts';
import { silentLogger } from '#shared/log.ts';
import { waitFor } from '../support/stack.ts';
import { freePort, RedisServerProcess } from './redis-server.ts';

/** Against real redis-server processes this file starts and kills; never the shared Redis. */
const PREFIX = `ghtrader-it-warm-${randomBytes(4).toString('hex')}:`;
const PROBE_MS = 200;

const opened: RedisWarmPath[] = [];
function warmPath(url: string, enabled = true): RedisWarmPath {
  const warm = new RedisWarmPath({ url, prefix: PREFIX, enabled, log: silentLogger(), probeIntervalMs: PROBE_MS });
  opened.push(warm);
  return warm;
}

/** Wait for the probe loop (not a manual probe) to report `want`. */
function statusBecomes(warm: RedisWarmPath, want: (s: WarmPathStatus) => boolean, timeoutMs: number, what: string) {
  return waitFor(async () => (want(warm.status()) ? warm.status() : null), timeoutMs, what, 50);
}

/** Settle `p` and report how long it took, so a hang shows up as a number rather than a test timeout. */
async function timed<T>(p: Promise<T>): Promise<{ result: PromiseSettledResult<T>; ms: number }> {
  const t0 = performance.now();
  const [result] = await Promise.allSettled([p]);
  if (!result) throw new Error('unreachable: allSettled of one promise');
  return { result, ms: performance.now() - t0 };
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((w) => w.close()));
});

describe('RedisWarmPath with nothing listening', () => {
  it('reports degraded with reason redis_unavailable', async () => {
    // Prepare
    const warm = warmPath(`redis://127.0.0.1:${await freePort()}`);

    // Act
    const status = await warm.probe();

    // Assess
    expect(status).toMatchObject({ degraded: true, reason: 'redis_unavailable', last_ok_at: null });
    expect(status.error).not.toBe('');
  });

  it('rejects set, get and del within 2 s instead of queueing them', async () => {
    // Prepare
    const warm = warmPath(`redis://127.0.0.1:${await freePort()}`);

    // Act
    const outcomes = await Promise.all([timed(warm.set('k', 'v', 10)), timed(warm.get('k')), timed(warm.del('k'))]);

    // Assess
    for (const { result, ms } of outcomes) {
      expect(result.status).toBe('rejected');
      expect(ms).toBeLessThan(2_000);
    }
  });

  it('rejects xadd and xrange within 2 s instead of queueing them', async () => {
    // Prepare
    const warm = warmPath(`redis://127.0.0.1:${await freePort()}`);

    // Act
    const outcomes = await Promise.all([
      timed(warm.xadd('commands:p', { a: '1' }, 100)),
      timed(warm.xrange('commands:p')),
    ]);

    // Assess
    for (const { result, ms } of outcomes) {
      expect(result.status).toBe('rejected');
      expect(ms).toBeLessThan(2_000);
    }
  });

  it('drops publishes without throwing', async () => {
    // Prepare
    const warm = warmPath(`redis://127.0.0.1:${await freePort()}`);

    // Act
    const publish = () => warm.publish('job.status', { job_id: 'j1' });

    // Assess
    expect(publish).not.toThrow();
    expect(warm.status().degraded).toBe(true);
  });
});

describe('RedisWarmPath with a server up', () => {
  let server: RedisServerProcess;
  let raw: Redis;
  beforeAll(async () => {
    server = new RedisServerProcess(await freePort());
    await server.start();
    raw = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await raw.connect();
  });
  afterAll(async () => {
    raw?.disconnect();
    await server?.stop('SIGTERM');
  });

  it('probes ok once connected', async () => {
    // Prepare
    const warm = warmPath(server.url);

    // Act
    const status = await waitFor(
      async () => {
        const s = await warm.probe();
        return s.degraded ? null : s;
      },
      3_000,
      'the warm path to connect',
    );

    // Assess
    expect(status).toMatchObject({ degraded: false, reason: null, error: '' });
    expect(status.last_ok_at).toBe(status.checked_at);
  });

  it('round-trips set, get and del under the prefix', async () => {
    // Prepare
    const warm = warmPath(server.url);
    await statusBecomes(warm, (s) => !s.degraded, 3_000, 'the warm path to connect');

    // Act
    await warm.set('selftest:a', 'hello', 60);
    const read = await warm.get('selftest:a');
    const rawValue = await raw.get(`${PREFIX}selftest:a`);
    const rawTtl = await raw.ttl(`${PREFIX}selftest:a`);
    const unprefixed = await raw.exists('selftest:a');
    await warm.del('selftest:a');
    const afterDel = await warm.get('selftest:a');
    const rawAfterDel = await raw.exists(`${PREFIX}selftest:a`);

    // Assess
    expect(read).toBe('hello');
    expect(rawValue).toBe('hello');
    expect(rawTtl).toBeGreaterThan(0);
    expect(rawTtl).toBeLessThanOrEqual(60);
    expect(unprefixed).toBe(0);
    expect(afterDel).toBeNull();
    expect(rawAfterDel).toBe(0);
  });

  it('stores without expiry when no ttl is given', async () => {
    // Prepare
    const warm = warmPath(server.url);
    await statusBecomes(warm, (s) => !s.degraded, 3_000, 'the warm path to connect');

    // Act
    await warm.set('no-ttl', 'x');
    const rawTtl = await raw.ttl(`${PREFIX}no-ttl`);
    await warm.del('no-ttl');

    // Assess
    expect(rawTtl).toBe(-1);
  });

  it('publishes JSON on the prefixed channel', async () => {
    // Prepare
    const warm = warmPath(server.url);
    await statusBecomes(warm, (s) => !s.degraded, 3_000, 'the warm path to connect');
    const sub = new Redis(server.url);
    const received: { channel: string; message: string }[] = [];
    sub.on('message', (channel: string, message: string) => received.push({ channel, message }));
    await sub.subscribe(`${PREFIX}job.status`);

    try {
      // Act
      warm.publish('job.status', { job_id: 'j1', status: 'running' });
      await waitFor(async () => received.length > 0, 2_000, 'the published message');

      // Assess
      expect(received).toEqual([{ channel: `${PREFIX}job.status`, message: '{"job_id":"j1","status":"running"}' }]);
    } finally {
      sub.disconnect();
    }
  });

  // Streams (`XADD`/`XRANGE`, the commands' fast sink) on the same server.

  it('appends under the prefix and reads the entries back in order with their ids', async () => {
    // Prepare
    const warm = warmPath(server.url);
    await statusBecomes(warm, (s) => !s.degraded, 3_000, 'the warm path to connect');

    // Act
    const id1 = await warm.xadd('commands:rt', { command: '{"a":1}', type: 'kill' }, 100);
    const id2 = await warm.xadd('commands:rt', { command: '{"a":2}', type: 'flatten' }, 100);
    const entries = await warm.xrange('commands:rt');
    const rawLen = await raw.xlen(`${PREFIX}commands:rt`);
    const unprefixed = await raw.exists('commands:rt');

    // Assess
    expect(id1).toMatch(/^\d+-\d+$/);
    expect(entries).toEqual([
      { id: id1, fields: { command: '{"a":1}', type: 'kill' } },
      { id: id2, fields: { command: '{"a":2}', type: 'flatten' } },
    ]);
    expect(rawLen).toBe(2);
    expect(unprefixed).toBe(0);
  });

  it('reads a range after an exclusive start and bounded by a count', async () => {
    // Prepare
    const warm = warmPath(server.url);
    await statusBecomes(warm, (s) => !s.degraded, 3_000, 'the warm path to connect');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await warm.xadd('range', { i: String(i) }, 100));

    // Act
    const firstTwo = await warm.xrange('range', '-', '+', 2);
    const afterSecond = await warm.xrange('range', `(${ids[1]}`);
    const between = await warm.xrange('range', ids[1] ?? '', ids[3] ?? '');
    const missing = await warm.xrange('range-none');

    // Assess
    expect(firstTwo.map((e) => e.fields.i)).toEqual(['0', '1']);
    expect(afterSecond.map((e) => e.id)).toEqual(ids.slice(2));
    expect(between.map((e) => e.fields.i)).toEqual(['1', '2', '3']);
    expect(missing).toEqual([]);
  });

  it('keeps the stream near its MAXLEN ~ bound', async () => {
    // Prepare
    const warm = warmPath(server.url);
    await statusBecomes(warm, (s) => !s.degraded, 3_000, 'the warm path to connect');

    // Act
    let last = '';
    for (let i = 0; i < 300; i++) last = await warm.xadd('bounded', { i: String(i) }, 100);
    const len = await raw.xlen(`${PREFIX}bounded`);
    const tail = await warm.xrange('bounded', last);

    // Assess: approximate trimming drops whole macro nodes, so the length lands in [100, 300) but never grows to 300.
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThan(300);
    expect(tail).toEqual([{ id: last, fields: { i: '299' } }]);
  });

  it('refuses an entry without fields or a MAXLEN below 1 before talking to Redis', async () => {
    // Prepare
    const warm = warmPath(server.url);
    await statusBecomes(warm, (s) => !s.degraded, 3_000, 'the warm path to connect');

    // Act
    const empty = warm.xadd('refused', {}, 100);
    const zero = warm.xadd('refused', { a: '1' }, 0);

    // Assess
    await expect(empty).rejects.toThrow(/at least one field/);
    await expect(zero).rejects.toThrow(/MAXLEN must be an integer/);
    expect(await raw.exists(`${PREFIX}refused`)).toBe(0);
  });
});

describe('RedisWarmPath across a Redis outage', () => {
  it('reports the outage within a few probes and detects recovery on its own after a restart', async () => {
    // Prepare
    const server = new RedisServerProcess(await freePort());
    await server.start();
    try {
      const warm = warmPath(server.url);
      const up = await statusBecomes(warm, (s) => !s.degraded, 3_000, 'the warm path to connect');

      // Act: crash Redis.
      await server.stop('SIGKILL');
      const down = await statusBecomes(warm, (s) => s.degraded, 10 * PROBE_MS + 1_000, 'the outage to be reported');
      const duringOutage = await timed(warm.set('k', 'v'));
      const publishDuringOutage = () => warm.publish('job.status', { job_id: 'j1' });

      // Act: bring it back on the same port.
      await server.start();
      const t0 = performance.now();
      const recovered = await statusBecomes(warm, (s) => !s.degraded, 5_000, 'recovery to be detected');
      const recoveryMs = performance.now() - t0;
      await warm.set('after-restart', 'ok', 10);

      // Assess
      expect(['redis_unavailable', 'redis_ping_failed']).toContain(down.reason);
      expect(down.last_ok_at).toBe(up.last_ok_at);
      expect(duringOutage.result.status).toBe('rejected');
      expect(duringOutage.ms).toBeLessThan(2_000);
      expect(publishDuringOutage).not.toThrow();
      expect(recovered).toMatchObject({ degraded: false, reason: null });
      expect(recoveryMs).toBeLessThan(5_000);
      expect(await warm.get('after-restart')).toBe('ok');
    } finally {
      await server.stop('SIGTERM');
    }
  });
});

describe('RedisWarmPath turned off', () => {
  it('reports redis_disabled and never connects', async () => {
    // Prepare: a URL that would fail loudly if it were used.
    const warm = warmPath('redis://127.0.0.1:1', false);

    // Act
    const probed = await warm.probe();
    const set = await timed(warm.set('k', 'v'));
    const xadd = await timed(warm.xadd('commands:p', { a: '1' }, 100));
    const xrange = await timed(warm.xrange('commands:p'));

    // Assess
    expect(probed).toMatchObject({ degraded: true, reason: 'redis_disabled', error: 'GHTRADER_REDIS_ENABLED=false' });
    expect(warm.status()).toBe(probed);
    expect(set.result.status).toBe('rejected');
    expect(set.result.status === 'rejected' && String(set.result.reason)).toMatch(/disabled/);
    expect(xadd.result.status === 'rejected' && String(xadd.result.reason)).toMatch(
      /Redis warm path is disabled \(GHTRADER_REDIS_ENABLED=false\)/,
    );
    expect(xrange.result.status === 'rejected' && String(xrange.result.reason)).toMatch(/disabled/);
    expect(() => warm.publish('job.status', {})).not.toThrow();
  });
});
