/**
 * Publishes each variety's main-contract summary on the warm path as `ticks:<var>` (control-chain §7: ≤ 2 Hz), from
 * the in-memory market feed: every `intervalMs` (500 ms) it reads each snapshot and publishes what changed since its
 * last message (`ticksMessage`). Publishing is fire-and-forget through the warm path, which logs and counts failures;
 * a reader that missed messages sees the `seq` gap and refetches over REST.
 */

import type { MarketFeedSource } from '../domain/market/feed.ts';
import { type TicksCursor, ticksMessage } from '../domain/market/feed-json.ts';
import { VARIETIES, type Variety } from '../domain/market/varieties.ts';
import { describeError } from '../errors/base.ts';
import type { Logger } from '../log.ts';

/** 2 Hz: the spec's ceiling for `ticks:<var>`. */
export const TICKS_PUBLISH_INTERVAL_MS = 500;

export interface TicksPublisherOptions {
  feed: MarketFeedSource;
  publish: (channel: string, message: unknown) => void;
  log: Logger;
  varieties?: readonly Variety[];
  intervalMs?: number;
}

export class TicksPublisher {
  private readonly cursors = new Map<Variety, TicksCursor>();
  private timer: NodeJS.Timeout | null = null;
  private published = 0;

  constructor(private readonly opts: TicksPublisherOptions) {
    const ms = opts.intervalMs ?? TICKS_PUBLISH_INTERVAL_MS;
    if (!(ms >= TICKS_PUBLISH_INTERVAL_MS)) {
      throw new RangeError(`ticks publish interval must be ≥ ${TICKS_PUBLISH_INTERVAL_MS} ms (≤ 2 Hz), got ${ms}`);
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.publishChanges(), this.opts.intervalMs ?? TICKS_PUBLISH_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Messages published since start. */
  count(): number {
    return this.published;
  }

  /** One round: publish what changed for every variety (a snapshot that throws is logged, the others still go). */
  publishChanges(): void {
    for (const v of this.opts.varieties ?? VARIETIES) {
      try {
        const next = ticksMessage(this.cursors.get(v) ?? null, this.opts.feed.snapshot(v));
        if (!next) continue;
        this.cursors.set(v, next.cursor);
        this.opts.publish(`ticks:${v}`, next.message);
        this.published++;
      } catch (err) {
        this.opts.log.error({ variety: v, err: describeError(err) }, 'ticks.publish_failed');
      }
    }
  }
}
