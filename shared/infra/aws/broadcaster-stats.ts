/**
 * Broadcaster counters in the TradingState table (control-chain §7 Accounting): every 5 s a realtime sink (the local
 * `/ws` hub or the AWS WebSocket broadcaster) puts its `BroadcastCounters` as item `{pk: broadcaster#<id>, sk:
 * counters}` with `as_of`, so a process that does not hold the sink (the HTTP API Lambda, the SLO snapshot, the CLI)
 * reads them with their age. Ids: `console` for the AWS broadcaster (one per deployment, under its lease), `local` for
 * the hub of `ghtrader up`.
 *
 * A sink under a lease passes its fencing token: the put is conditional on no higher fence having written, so a
 * broadcaster that lost its lease can never overwrite its successor's counters (`superseded`). A failed flush is
 * logged and counted and retried at the next tick; it never stops the sink.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { BroadcastCounters } from '../../domain/control/broadcast.ts';
import { type Clock, isoUtc } from '../../domain/time.ts';
import { describeError } from '../../errors/base.ts';
import type { Logger } from '../../log.ts';
import { isConditionFailed } from './dynamo-errors.ts';

export const BROADCASTER_STATS_SK = 'counters';
export const BROADCASTER_STATS_INTERVAL_MS = 5_000;

export function broadcasterStatsKey(id: string): { pk: string; sk: string } {
  return { pk: `broadcaster#${id}`, sk: BROADCASTER_STATS_SK };
}

const LatencySchema = z.object({
  count: z.number(),
  p50_ms: z.number().nullable(),
  p99_ms: z.number().nullable(),
  max_ms: z.number().nullable(),
});

/** The stored item, as readers parse it. */
export const BroadcasterStatsSchema = z.object({
  pk: z.string(),
  sk: z.literal(BROADCASTER_STATS_SK),
  broadcaster_id: z.string(),
  sink: z.enum(['local', 'aws']),
  host_id: z.string(),
  fence: z.number().int().min(0),
  started_at: z.string(),
  as_of: z.string(),
  connections: z.number(),
  broadcast_attempt_total: z.number(),
  broadcast_success_total: z.number(),
  broadcast_failures_total: z.number(),
  dead_clients_pruned_total: z.number(),
  dropped_total: z.number(),
  last_broadcast_error: z.string().nullable(),
  last_broadcast_error_at: z.string().nullable(),
  fanout_latency: LatencySchema,
  /** Sink-specific extras (topics, unrouted messages, deleted connection items, ...), numbers only. */
  extra: z.record(z.string(), z.number()),
});
export type BroadcasterStats = z.infer<typeof BroadcasterStatsSchema>;

/** What a sink exposes to the flusher: its counters, plus any numeric extras it adds (stored under `extra`). */
export type CountersSource = () => BroadcastCounters;

export interface BroadcasterStatsFlusherOptions {
  doc: DynamoDBDocumentClient;
  /** Physical name of the TradingState table. */
  table: string;
  id: string;
  sink: BroadcasterStats['sink'];
  hostId: string;
  source: CountersSource;
  clock: Clock;
  log: Logger;
  intervalMs?: number;
  /** The sink's current fencing token (its lease); 0 for an unleased sink. */
  fence?: () => number;
}

const COUNTER_KEYS = new Set<string>([
  'connections',
  'broadcast_attempt_total',
  'broadcast_success_total',
  'broadcast_failures_total',
  'dead_clients_pruned_total',
  'dropped_total',
  'last_broadcast_error',
  'last_broadcast_error_at',
  'fanout_latency',
]);

export type FlushResult = 'written' | 'superseded';

export class BroadcasterStatsFlusher {
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt: string;
  private failures = 0;
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: BroadcasterStatsFlusherOptions) {
    this.startedAt = isoUtc(o.clock.nowMs());
  }

  /** Flush every `intervalMs` (5 s) until `stop()`. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.inFlight = this.flushNow().catch((err) => {
        this.failures++;
        this.o.log.warn(
          { broadcaster_id: this.o.id, flush_failures: this.failures, err: describeError(err) },
          'broadcaster.stats_flush_failed',
        );
      });
    }, this.o.intervalMs ?? BROADCASTER_STATS_INTERVAL_MS);
    this.timer.unref();
  }

  /** Put the current counters now. Throws on a store failure; `superseded` when a higher fence has written. */
  async flushNow(): Promise<FlushResult> {
    const counters = this.o.source();
    const extra: Record<string, number> = {};
    for (const [k, v] of Object.entries(counters as object)) {
      if (!COUNTER_KEYS.has(k) && typeof v === 'number' && Number.isFinite(v)) extra[k] = v;
    }
    const fence = this.o.fence?.() ?? 0;
    const item: BroadcasterStats = {
      ...broadcasterStatsKey(this.o.id),
      sk: BROADCASTER_STATS_SK,
      broadcaster_id: this.o.id,
      sink: this.o.sink,
      host_id: this.o.hostId,
      fence,
      started_at: this.startedAt,
      as_of: isoUtc(this.o.clock.nowMs()),
      connections: counters.connections,
      broadcast_attempt_total: counters.broadcast_attempt_total,
      broadcast_success_total: counters.broadcast_success_total,
      broadcast_failures_total: counters.broadcast_failures_total,
      dead_clients_pruned_total: counters.dead_clients_pruned_total,
      dropped_total: counters.dropped_total,
      last_broadcast_error: counters.last_broadcast_error,
      last_broadcast_error_at: counters.last_broadcast_error_at,
      fanout_latency: counters.fanout_latency,
      extra,
    };
    try {
      await this.o.doc.send(
        new PutCommand({
          TableName: this.o.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR fence <= :fence',
          ExpressionAttributeValues: { ':fence': fence },
        }),
      );
      return 'written';
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      this.o.log.warn({ broadcaster_id: this.o.id, fence }, 'broadcaster.stats_superseded');
      return 'superseded';
    }
  }

  /** Stop the timer and write a last snapshot (so the stored counters end where the sink ended). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
    await this.flushNow();
  }
}

/** The stored counters of broadcaster `id`, or null when none was ever flushed. Throws on a malformed item. */
export async function readBroadcasterStats(
  doc: DynamoDBDocumentClient,
  table: string,
  id: string,
): Promise<BroadcasterStats | null> {
  const r = await doc.send(new GetCommand({ TableName: table, Key: broadcasterStatsKey(id), ConsistentRead: true }));
  if (!r.Item) return null;
  const parsed = BroadcasterStatsSchema.safeParse(r.Item);
  if (!parsed.success) {
    const text = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`TradingState item broadcaster#${id} does not match its schema: ${text}`);
  }
  return parsed.data;
}
