/**
 * The console broadcaster as a leased process (control-chain §7 AWS): at most one per deployment delivers, the one
 * holding lease `broadcaster:console` in the Locks table. A candidate never preempts: while another live holder has the
 * lease it waits and tries again every `retryMs`. Once it holds the lease it starts ONE Redis `PSUBSCRIBE`
 * (`RedisRealtimeFeed`), the `WsBroadcaster` and the 5 s counter flush (fenced by the lease's token), renews every
 * third of the lease, and stops all three at once when the lease is lost (or cannot be renewed before it expires),
 * then goes back to waiting. `stop()` releases a held lease so a standby takes over without waiting for expiry.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Lease, LockOwner, LockStore } from '../../domain/control/locks.ts';
import type { Clock } from '../../domain/time.ts';
import { describeError } from '../../errors/base.ts';
import { LockLostError } from '../../errors/control.ts';
import type { Logger } from '../../log.ts';
import { RedisRealtimeFeed } from '../redis/realtime-feed.ts';
import { BroadcasterStatsFlusher } from './broadcaster-stats.ts';
import { WsBroadcaster, type WsBroadcasterOptions } from './ws-broadcaster.ts';

export const BROADCASTER_LEASE_KEY = 'broadcaster:console';
/** Id of the AWS broadcaster's counters in TradingState (`broadcaster#console`). */
export const CONSOLE_BROADCASTER_ID = 'console';

export type LeaderState = 'waiting' | 'leading' | 'stopped';

export interface LeasedWsBroadcasterOptions {
  locks: LockStore;
  owner: LockOwner;
  redis: { url: string; prefix: string; enabled: boolean };
  broadcaster: Omit<WsBroadcasterOptions, 'log'>;
  stats: { doc: DynamoDBDocumentClient; table: string; hostId: string; intervalMs?: number };
  clock: Clock;
  log: Logger;
  leaseMs?: number;
  retryMs?: number;
}

interface Leadership {
  broadcaster: WsBroadcaster;
  feed: RedisRealtimeFeed;
  flusher: BroadcasterStatsFlusher;
}

export class LeasedWsBroadcaster {
  private readonly leaseMs: number;
  private readonly retryMs: number;
  private stateNow: LeaderState = 'waiting';
  private leadership: Leadership | null = null;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly o: LeasedWsBroadcasterOptions) {
    this.leaseMs = o.leaseMs ?? 30_000;
    this.retryMs = o.retryMs ?? 5_000;
  }

  state(): LeaderState {
    return this.stateNow;
  }

  /** The delivering broadcaster while this process holds the lease, else null. */
  current(): WsBroadcaster | null {
    return this.leadership?.broadcaster ?? null;
  }

  /** Start competing for the lease in the background; `done` settles when `stop()` finished. */
  start(): void {
    this.loop ??= this.run().catch((err) => {
      this.o.log.error({ err: describeError(err) }, 'broadcaster.loop_failed');
      this.stateNow = 'stopped';
      throw err;
    });
  }

  /** The background loop's end: rejects when it died on an unexpected error (the process should exit 1). */
  done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await this.loop?.catch(() => undefined);
    this.stateNow = 'stopped';
  }

  private sleep(ms: number): Promise<void> {
    if (this.abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const { locks, owner, log } = this.o;
    let standbyLogged = false;
    while (!this.abort.signal.aborted) {
      const r = await locks.acquire(BROADCASTER_LEASE_KEY, owner, this.leaseMs);
      if (!r.ok) {
        // Once per stretch of waiting at info level; every retry at debug.
        if (!standbyLogged) log.info({ holder: r.conflicts[0] }, 'broadcaster.standby');
        standbyLogged = true;
        this.stateNow = 'waiting';
        log.debug({ holder: r.conflicts[0] }, 'broadcaster.lease_held_elsewhere');
        await this.sleep(this.retryMs);
        continue;
      }
      standbyLogged = false;
      let lease = r.leases[0] as Lease;
      log.info({ key: lease.key, fence: lease.fence, owner: owner.ownerId }, 'broadcaster.lease_acquired');
      const leadership = await this.lead(lease);
      let lost = false;
      try {
        while (!this.abort.signal.aborted) {
          await this.sleep(Math.max(50, Math.floor(this.leaseMs / 3)));
          if (this.abort.signal.aborted) break;
          try {
            lease = await locks.renew(lease, this.leaseMs);
          } catch (err) {
            if (err instanceof LockLostError) {
              lost = true;
              log.error({ key: lease.key, fence: lease.fence }, 'broadcaster.lease_lost');
              break;
            }
            // A store hiccup: keep leading while the lease is still ours for sure, else step down.
            log.warn({ err: describeError(err) }, 'broadcaster.lease_renew_failed');
            if (this.o.clock.nowMs() >= lease.expiresAtMs - Math.floor(this.leaseMs / 3)) {
              lost = true;
              log.error({ key: lease.key, fence: lease.fence }, 'broadcaster.lease_unrenewable');
              break;
            }
          }
        }
      } finally {
        await this.stepDown(leadership);
        if (!lost) {
          const released = await locks.release(lease);
          log.info({ key: lease.key, fence: lease.fence, released }, 'broadcaster.lease_released');
        }
      }
    }
  }

  private async lead(lease: Lease): Promise<Leadership> {
    const { log } = this.o;
    const broadcaster = new WsBroadcaster({ ...this.o.broadcaster, log: log.child({ component: 'ws-broadcaster' }) });
    await broadcaster.start();
    const feed = new RedisRealtimeFeed(
      { ...this.o.redis, log: log.child({ component: 'realtime-feed' }) },
      { message: (channel, message) => broadcaster.deliver(channel, message), state: (s) => broadcaster.announce(s) },
    );
    const flusher = new BroadcasterStatsFlusher({
      doc: this.o.stats.doc,
      table: this.o.stats.table,
      id: CONSOLE_BROADCASTER_ID,
      sink: 'aws',
      hostId: this.o.stats.hostId,
      source: () => broadcaster.stats(),
      clock: this.o.clock,
      log,
      fence: () => lease.fence,
      ...(this.o.stats.intervalMs ? { intervalMs: this.o.stats.intervalMs } : {}),
    });
    flusher.start();
    this.leadership = { broadcaster, feed, flusher };
    this.stateNow = 'leading';
    return this.leadership;
  }

  private async stepDown(l: Leadership): Promise<void> {
    this.leadership = null;
    this.stateNow = this.abort.signal.aborted ? 'stopped' : 'waiting';
    await l.feed.close();
    await l.broadcaster.stop();
    try {
      await l.flusher.stop();
    } catch (err) {
      this.o.log.warn({ err: describeError(err) }, 'broadcaster.final_stats_flush_failed');
    }
  }
}
