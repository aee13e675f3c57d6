import { Redis } from 'ioredis';
import { REALTIME_CHANNEL_PATTERNS } from '../../domain/control/realtime.ts';
import { describeError } from '../../errors/base.ts';
import type { Logger } from '../../log.ts';

export interface RealtimeFeedOptions {
  url: string;
  /** Warm-path key prefix (`ghtrader:`): channels are `<prefix><channel>`. */
  prefix: string;
  enabled: boolean;
  log: Logger;
  /** Reconnect interval while Redis is down (spec: every 3 s). */
  retryMs?: number;
}

export type FeedState = { up: true } | { up: false; reason: 'redis_unavailable' | 'redis_disabled'; error: string };

export interface RealtimeFeedHandlers {
  /** One decoded message on `channel` (prefix removed). */
  message(channel: string, message: unknown): void;
  /** The feed went down or came back (the hub announces `system.warm_path`). */
  state(state: FeedState): void;
}

/**
 * The local realtime source (control-chain §7): ONE ioredis connection in subscriber mode, `PSUBSCRIBE` of the
 * realtime channels under the prefix, reconnecting every 3 s while Redis is down. Messages that are not JSON are
 * logged and skipped (never thrown into the hub).
 */
export class RedisRealtimeFeed {
  private readonly client: Redis | null;
  private state: FeedState;
  private badMessages = 0;

  constructor(
    private readonly opts: RealtimeFeedOptions,
    private readonly handlers: RealtimeFeedHandlers,
  ) {
    if (!opts.enabled) {
      this.client = null;
      this.state = { up: false, reason: 'redis_disabled', error: 'GHTRADER_REDIS_ENABLED=false' };
      return;
    }
    this.state = { up: false, reason: 'redis_unavailable', error: 'not connected yet' };
    const retry = opts.retryMs ?? 3_000;
    this.client = new Redis(opts.url, {
      lazyConnect: true,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      connectTimeout: 2_000,
      retryStrategy: () => retry,
    });
    const patterns = REALTIME_CHANNEL_PATTERNS.map((p) => `${opts.prefix}${p}`);
    this.client.on('error', (err) => opts.log.debug({ err: describeError(err) }, 'realtime.redis_error'));
    this.client.on('ready', () => {
      // ioredis re-subscribes on reconnect by itself; the first ready subscribes.
      this.client
        ?.psubscribe(...patterns)
        .then(() => this.setState({ up: true }))
        .catch((err) => this.setState({ up: false, reason: 'redis_unavailable', error: String(err) }));
    });
    this.client.on('close', () => {
      if (this.state.up) this.setState({ up: false, reason: 'redis_unavailable', error: 'connection closed' });
    });
    this.client.on('pmessage', (_pattern: string, channel: string, text: string) => {
      if (!channel.startsWith(opts.prefix)) return;
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch (err) {
        this.badMessages++;
        opts.log.warn({ channel, bad_messages: this.badMessages, err: describeError(err) }, 'realtime.bad_message');
        return;
      }
      handlers.message(channel.slice(opts.prefix.length), message);
    });
    this.client.connect().catch((err) => {
      this.setState({ up: false, reason: 'redis_unavailable', error: String(err) });
    });
  }

  current(): FeedState {
    return this.state;
  }

  private setState(next: FeedState): void {
    const changed = next.up !== this.state.up;
    this.state = next;
    if (changed) {
      this.opts.log.info({ up: next.up }, next.up ? 'realtime.feed_up' : 'realtime.feed_down');
      this.handlers.state(next);
    }
  }

  async close(): Promise<void> {
    if (!this.client) return;
    this.client.removeAllListeners('close');
    this.client.disconnect();
  }
}
