/**
 * The Redis warm path (ioredis). Everything keeps working without Redis: commands fail fast instead of queueing
 * (`enableOfflineQueue: false`), publishes are fire-and-forget, and `status()` reports the degradation with a reason
 * (`redis_unavailable` when not connected, `redis_ping_failed` when connected but not answering, `redis_disabled`
 * when turned off by config). A probe loop pings every `probeIntervalMs` and detects recovery on its own.
 */
import { Redis } from 'ioredis';
import { describeError } from '../../errors/base.ts';
import type { Logger } from '../../log.ts';

export type WarmPathReason = 'redis_unavailable' | 'redis_ping_failed' | 'redis_disabled';

export interface WarmPathStatus {
  degraded: boolean;
  reason: WarmPathReason | null;
  error: string;
  last_ok_at: string | null;
  checked_at: string;
}

export interface WarmPathOptions {
  url: string;
  prefix: string;
  enabled: boolean;
  log: Logger;
  probeIntervalMs?: number;
  /** Per-command deadline; a slower Redis counts as failed for that command. */
  commandTimeoutMs?: number;
}

/** One Redis stream entry: its id (`<ms>-<seq>`) and its field/value pairs. */
export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
}

/** Port: the warm path as the rest of the system sees it. */
export interface WarmPath {
  readonly prefix: string;
  status(): WarmPathStatus;
  /** Best effort: never throws, never blocks the caller on an outage. */
  publish(channel: string, message: unknown): void;
  set(key: string, value: string, ttlS?: number): Promise<void>;
  get(key: string): Promise<string | null>;
  del(key: string): Promise<void>;
  /**
   * `XADD <prefix><stream> MAXLEN ~ <maxLenApprox> * field value …`: append one entry and return its id. Throws when
   * Redis is disabled or unavailable (like `set`): the caller decides whether the durable sink alone is enough.
   */
  xadd(stream: string, fields: Record<string, string>, maxLenApprox: number): Promise<string>;
  /** `XRANGE <prefix><stream> <start> <end> [COUNT n]`: entries oldest first (default the whole stream). */
  xrange(stream: string, start?: string, end?: string, count?: number): Promise<StreamEntry[]>;
  /** Ping now and update the status (the probe loop does this periodically). */
  probe(): Promise<WarmPathStatus>;
  /** Wait up to `timeoutMs` for the first connection, then probe: a starting process reports the real state. */
  settle(timeoutMs: number): Promise<WarmPathStatus>;
  close(): Promise<void>;
}

export class RedisWarmPath implements WarmPath {
  readonly prefix: string;
  private readonly client: Redis | null;
  private current: WarmPathStatus;
  private timer: NodeJS.Timeout | null = null;
  private publishFailures = 0;

  constructor(private readonly opts: WarmPathOptions) {
    this.prefix = opts.prefix;
    const now = new Date().toISOString();
    if (!opts.enabled) {
      this.client = null;
      this.current = {
        degraded: true,
        reason: 'redis_disabled',
        error: 'GHTRADER_REDIS_ENABLED=false',
        last_ok_at: null,
        checked_at: now,
      };
      return;
    }
    this.current = {
      degraded: true,
      reason: 'redis_unavailable',
      error: 'not connected yet',
      last_ok_at: null,
      checked_at: now,
    };
    this.client = new Redis(opts.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2_000,
      commandTimeout: opts.commandTimeoutMs ?? 1_000,
      // Reconnect forever with a bounded backoff; the probe reports the outage meanwhile.
      retryStrategy: (times) => Math.min(250 * times, 2_000),
    });
    this.client.on('error', (err) => {
      // ioredis emits every failed reconnect; the status carries it, the log gets it at debug to avoid floods.
      opts.log.debug({ err: describeError(err) }, 'redis.error');
    });
    this.client.on('ready', () => {
      void this.probe();
    });
    this.client.connect().catch((err) => {
      this.mark('redis_unavailable', err);
    });
    const interval = opts.probeIntervalMs ?? 2_000;
    this.timer = setInterval(() => {
      void this.probe();
    }, interval);
    this.timer.unref();
  }

  status(): WarmPathStatus {
    return this.current;
  }

  async settle(timeoutMs: number): Promise<WarmPathStatus> {
    const client = this.client;
    if (!client) return this.current;
    if (client.status !== 'ready') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          client?.off('ready', done);
          resolve();
        }
        client.once('ready', done);
      });
    }
    return this.probe();
  }

  async probe(): Promise<WarmPathStatus> {
    if (!this.client) return this.current;
    if (this.client.status !== 'ready') {
      this.mark('redis_unavailable', new Error(`connection ${this.client.status}`));
      return this.current;
    }
    try {
      const pong = await this.client.ping();
      if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
      const wasDegraded = this.current.degraded;
      const now = new Date().toISOString();
      this.current = { degraded: false, reason: null, error: '', last_ok_at: now, checked_at: now };
      if (wasDegraded) this.opts.log.info('redis.recovered');
    } catch (err) {
      this.mark('redis_ping_failed', err);
    }
    return this.current;
  }

  publish(channel: string, message: unknown): void {
    if (this.client?.status !== 'ready') return;
    this.client.publish(`${this.prefix}${channel}`, JSON.stringify(message)).catch((err) => {
      this.publishFailures++;
      this.opts.log.warn({ channel, failures: this.publishFailures, err: describeError(err) }, 'redis.publish_failed');
    });
  }

  async set(key: string, value: string, ttlS?: number): Promise<void> {
    const c = this.require();
    if (ttlS !== undefined) await c.set(`${this.prefix}${key}`, value, 'EX', Math.max(1, Math.ceil(ttlS)));
    else await c.set(`${this.prefix}${key}`, value);
  }

  async get(key: string): Promise<string | null> {
    return this.require().get(`${this.prefix}${key}`);
  }

  async del(key: string): Promise<void> {
    await this.require().del(`${this.prefix}${key}`);
  }

  async xadd(stream: string, fields: Record<string, string>, maxLenApprox: number): Promise<string> {
    if (!Number.isInteger(maxLenApprox) || maxLenApprox < 1) {
      throw new RangeError(`xadd ${stream}: MAXLEN must be an integer ≥ 1, got ${maxLenApprox}`);
    }
    const pairs = Object.entries(fields).flat();
    if (pairs.length === 0) throw new RangeError(`xadd ${stream}: an entry needs at least one field`);
    const id = await this.require().xadd(`${this.prefix}${stream}`, 'MAXLEN', '~', maxLenApprox, '*', ...pairs);
    // Only NOMKSTREAM (not used here) makes XADD answer nil.
    if (id === null) throw new Error(`xadd ${stream}: Redis returned no entry id`);
    return id;
  }

  async xrange(stream: string, start = '-', end = '+', count?: number): Promise<StreamEntry[]> {
    const c = this.require();
    const key = `${this.prefix}${stream}`;
    const raw = count === undefined ? await c.xrange(key, start, end) : await c.xrange(key, start, end, 'COUNT', count);
    return raw.map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
      return { id, fields };
    });
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.client) return;
    try {
      await this.client.quit();
    } catch {
      // quit() rejects when the connection is already gone; disconnect() below is the fallback for that case.
      this.client.disconnect();
    }
  }

  private require(): Redis {
    if (!this.client) throw new Error('Redis warm path is disabled (GHTRADER_REDIS_ENABLED=false)');
    return this.client;
  }

  private mark(reason: WarmPathReason, err: unknown): void {
    const wasOk = !this.current.degraded;
    this.current = {
      degraded: true,
      reason,
      error: err instanceof Error ? err.message : String(err),
      last_ok_at: this.current.last_ok_at,
      checked_at: new Date().toISOString(),
    };
    if (wasOk) this.opts.log.warn({ reason, error: this.current.error }, 'redis.degraded');
  }
}
