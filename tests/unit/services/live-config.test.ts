/**
 * LiveConfig's refresh rules without a store: a failed re-read keeps the head in use (counted, logged, retried no
 * sooner than 1 s later), only the first load throws, reads before it throw, an older head never replaces a newer
 * one, and a throwing change listener neither stops the others nor the read that found the revision.
 */
import { describe, expect, it } from 'vitest';
import type { ConfigRevision } from '#shared/domain/control/config.ts';
import { createLogger } from '#shared/log.ts';
import { LiveConfig, LiveConfigNotLoadedError } from '#shared/services/live-config.ts';
import { ManualClock } from './support/in-memory-ports.ts';

function revision(n: number, snapshot: Record<string, string> = {}): ConfigRevision {
  return {
    revision: n,
    created_at: '2026-11-21T00:00:00.000Z',
    actor: { type: 'system', id: 'test', name: 'test' },
    role: 'admin',
    reason: 'test',
    action: n === 1 ? 'baseline' : 'set',
    snapshot,
    changed_keys: Object.keys(snapshot),
    changes: [],
    config_hash: `h${n}`,
  } as ConfigRevision;
}

/** A Config Service stand-in whose head the test sets, and which can be made to fail. */
class Heads {
  head: ConfigRevision = revision(1);
  failing = false;
  reads = 0;
  private readonly listeners = new Set<(h: ConfigRevision) => void>();
  async current(): Promise<ConfigRevision> {
    this.reads++;
    if (this.failing) throw new Error('ProvisionedThroughputExceededException: slow down');
    return this.head;
  }
  onHead(l: (h: ConfigRevision) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  noteRevision(): void {}
  announce(h: ConfigRevision): void {
    this.head = h;
    for (const l of this.listeners) l(h);
  }
}

function setup() {
  const heads = new Heads();
  const clock = new ManualClock(1_000_000);
  const lines: string[] = [];
  const log = createLogger({ service: 't', level: 'debug', destination: { write: (l) => lines.push(l) } });
  const live = new LiveConfig({ configService: heads, env: {}, clock, log });
  const events = () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
  return { heads, clock, live, events };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('LiveConfig', () => {
  it('refuses reads before the first load, and the first load’s failure is thrown', async () => {
    const { heads, live } = setup();
    expect(() => live.number('GHTRADER_WS_CLIENT_QUEUE_MAX')).toThrow(LiveConfigNotLoadedError);
    heads.failing = true;
    await expect(live.fresh()).rejects.toThrow(/ProvisionedThroughputExceeded/);
    heads.failing = false;
    await live.fresh();
    expect(live.number('GHTRADER_WS_CLIENT_QUEUE_MAX')).toBe(256);
  });

  it('keeps the head in use when a re-read fails, counts it, and retries no sooner than 1 s later', async () => {
    const { heads, clock, live, events } = setup();
    heads.head = revision(2, { GHTRADER_WS_CLIENT_QUEUE_MAX: '64' });
    await live.fresh();
    heads.failing = true;
    clock.advanceS(6);

    await live.fresh();
    expect(live.number('GHTRADER_WS_CLIENT_QUEUE_MAX')).toBe(64);
    await flush();
    expect(live.stats().refresh_failures_total).toBe(1);
    expect(events()).toContain('config.refresh_failed');
    const readsAfterFailure = heads.reads;

    // Within the 1 s back-off, reads start no re-read.
    clock.advanceS(0.5);
    live.number('GHTRADER_WS_CLIENT_QUEUE_MAX');
    await live.fresh();
    expect(heads.reads).toBe(readsAfterFailure);

    // After it, the next read re-reads, and once the store answers the new head applies.
    heads.failing = false;
    heads.head = revision(3, { GHTRADER_WS_CLIENT_QUEUE_MAX: '32' });
    clock.advanceS(0.6);
    await live.fresh();
    expect(live.number('GHTRADER_WS_CLIENT_QUEUE_MAX')).toBe(32);
    expect(events()).toContain('config.applied');
  });

  it('never replaces a newer head with an older one, and isolates a failing change listener', async () => {
    const { heads, live, events } = setup();
    await live.fresh();
    const seen: number[] = [];
    live.onChange(() => {
      throw new Error('listener broke');
    });
    live.onChange((h) => seen.push(h.revision));

    heads.announce(revision(5, { GHTRADER_WS_LAG_CLOSE_S: '9' }));
    heads.announce(revision(4, { GHTRADER_WS_LAG_CLOSE_S: '7' }));

    expect(live.revision).toBe(5);
    expect(live.number('GHTRADER_WS_LAG_CLOSE_S')).toBe(9);
    expect(seen).toEqual([5]);
    expect(events()).toContain('config.apply_failed');
  });

  it('overProcess: the revision’s value when it sets the key, else the process’s own value', async () => {
    const { heads, live } = setup();
    await live.fresh();
    expect(live.overProcess('GHTRADER_JOBS_HEARTBEAT_S', 0.2)).toBe(0.2);
    heads.announce(revision(2, { GHTRADER_JOBS_HEARTBEAT_S: '3' }));
    expect(live.overProcess('GHTRADER_JOBS_HEARTBEAT_S', 0.2)).toBe(3);
    expect(live.overProcess('GHTRADER_LOG_LEVEL', 'silent')).toBe('silent');
  });
});
