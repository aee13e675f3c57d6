/**
 * The AWS realtime sink (control-chain §7 AWS): warm-path messages routed to topics (`routeChannelMessage`), one
 * envelope per topic message with a per-topic `seq` (the last one replayed when a connection newly subscribes), and
 * delivery through the API Gateway Management API to the connections of the WsConnections table.
 *
 * Delivery contract:
 * - **Never awaits a client**: `publish` only queues; a pump sends with at most `maxInFlight` (50) requests in flight
 *   overall and `maxPerConnection` (8) per connection, round-robin over connections that have work.
 * - **Backpressure**: a connection holds at most `queueMax` (256) queued or in-flight messages; a message that does not
 *   fit is dropped for that connection and counted (`dropped_total`); its `seq` gap makes the browser refetch.
 * - **Accounting** (`BroadcastAccounting`, shared with the local hub): per queued send one attempt, then one success
 *   (fan-out latency from publish to the 200) or one failure; `GoneException` (410) is a failure whose connection is
 *   removed and its item deleted, counted as pruned when the round finishes; other errors (throttling, 5xx, timeout)
 *   are failures and keep the connection. A clean round clears `last_broadcast_error`.
 * - **Connections** come from the table (`refresh`, every `refreshMs`): expired items (`expires_at` past) are closed
 *   and deleted (counted as pruned); a topic newly present on a connection gets that topic's last envelope.
 */
import { BroadcastAccounting, type BroadcastCounters, type BroadcastRound } from '../../domain/control/broadcast.ts';
import {
  type Envelope,
  type MessageType,
  mayReceive,
  type Routed,
  SYSTEM_TOPIC,
  TopicSequencer,
} from '../../domain/control/realtime.ts';
import type { Role } from '../../domain/control/roles.ts';
import { isoUtc } from '../../domain/time.ts';
import { describeError } from '../../errors/base.ts';
import type { Logger } from '../../log.ts';
import type { FeedState } from '../redis/realtime-feed.ts';
import type { WsConnection } from './ws-connections.ts';
import type { WsManagement } from './ws-management.ts';

/** What the broadcaster needs of the WsConnections table. */
export interface WsConnectionSource {
  listAll(): Promise<WsConnection[]>;
  delete(connectionId: string): Promise<boolean>;
}

export interface WsBroadcasterOptions {
  connections: WsConnectionSource;
  management: WsManagement;
  log: Logger;
  nowMs?: () => number;
  maxInFlight?: number;
  maxPerConnection?: number;
  queueMax?: number;
  /** How often the connection list is re-read from the table (a new subscription takes effect within this). */
  refreshMs?: number;
}

interface Job {
  text: string;
  /** Absent for replays (direct answers, outside the broadcast counters, as in the local hub). */
  round?: BroadcastRoundState;
  t0: number;
}

interface BroadcastRoundState {
  round: BroadcastRound;
  pending: number;
  pruned: number;
  topic: string;
}

interface Conn {
  id: string;
  userId: string;
  role: Role;
  topics: Set<string>;
  expiresAtMs: number;
  queue: Job[];
  inflight: number;
  ready: boolean;
  gone: boolean;
}

/** How long a pruned connection id is ignored by `refresh` (its item delete may still be on the way). */
const TOMBSTONE_MS = 60_000;

export class WsBroadcaster {
  private readonly conns = new Map<string, Conn>();
  private readonly tombstones = new Map<string, number>();
  private readonly sequencer: TopicSequencer;
  private readonly accounting = new BroadcastAccounting();
  private readonly readyQueue: Conn[] = [];
  private inflight = 0;
  private itemsDeleted = 0;
  private itemDeleteFailures = 0;
  private refreshFailures = 0;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  private readonly deletes = new Set<Promise<void>>();
  private readonly o: Required<Omit<WsBroadcasterOptions, 'connections' | 'management' | 'log'>>;

  constructor(private readonly opts: WsBroadcasterOptions) {
    this.o = {
      nowMs: opts.nowMs ?? Date.now,
      maxInFlight: opts.maxInFlight ?? 50,
      maxPerConnection: opts.maxPerConnection ?? 8,
      queueMax: opts.queueMax ?? 256,
      refreshMs: opts.refreshMs ?? 1_000,
    };
    this.sequencer = new TopicSequencer(() => this.o.nowMs());
  }

  /** Read the connections now and then every `refreshMs`. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      void this.refresh().catch((err) => {
        this.refreshFailures++;
        this.opts.log.warn(
          { refresh_failures: this.refreshFailures, err: describeError(err) },
          'ws.connections_refresh_failed',
        );
      });
    }, this.o.refreshMs);
    this.timer.unref();
  }

  /** Stop refreshing, and wait for queued sends and item deletes to settle. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.refreshing;
    await this.idle();
  }

  /** Re-read the WsConnections table (one refresh at a time; a caller arriving during one waits for it). */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const items = await this.opts.connections.listAll();
    const now = this.o.nowMs();
    for (const [id, at] of this.tombstones) if (now - at > TOMBSTONE_MS) this.tombstones.delete(id);
    const seen = new Set<string>();
    let expired = 0;
    for (const item of items) {
      const id = item.connection_id;
      if (this.tombstones.has(id)) continue;
      const expiresAtMs = Date.parse(item.expires_at);
      if (!(expiresAtMs > now)) {
        // Expired session or token (or past API Gateway's 2 h): close it and drop the item, counted as pruned.
        // The tombstone `removeConn` leaves keeps it from being counted again while the delete is on its way.
        this.removeConn(id);
        expired++;
        this.closeExpired(id);
        continue;
      }
      seen.add(id);
      const existing = this.conns.get(id);
      const topics = new Set(item.topics);
      if (existing) {
        const added = [...topics].filter((t) => !existing.topics.has(t));
        existing.role = item.role;
        existing.topics.clear();
        for (const t of topics) existing.topics.add(t);
        existing.expiresAtMs = expiresAtMs;
        this.replay(existing, added);
      } else {
        const c: Conn = {
          id,
          userId: item.user_id,
          role: item.role,
          topics,
          expiresAtMs,
          queue: [],
          inflight: 0,
          ready: false,
          gone: false,
        };
        this.conns.set(id, c);
        this.replay(c, [...topics]);
      }
    }
    // Items that disappeared were disconnected (`$disconnect`); queued sends to them still settle.
    for (const id of [...this.conns.keys()]) if (!seen.has(id)) this.conns.delete(id);
    this.accounting.setConnections(this.conns.size);
    if (expired > 0) {
      this.accounting.prunedOutsideRound(expired);
      this.opts.log.warn({ pruned: expired }, 'ws.expired_connections_closed');
    }
  }

  private closeExpired(id: string): void {
    this.track(
      (async () => {
        await this.opts.management.close(id);
        await this.deleteItem(id);
      })(),
    );
  }

  /** Route one warm-path message to its topics and broadcast each. */
  deliver(channel: string, message: unknown): void {
    const envs = this.sequencer.route(channel, message);
    if (envs.length === 0) {
      this.opts.log.debug({ channel, unrouted: this.sequencer.unrouted }, 'ws.unrouted_message');
      return;
    }
    for (const env of envs) this.broadcast(env);
  }

  /** Announce the warm path's state to every connection (`system.warm_path`). */
  announce(state: FeedState): void {
    this.broadcast(this.sequencer.warmPath(state));
  }

  /** Broadcast one message on its topic (the next `seq`). */
  publish(r: Routed): void {
    this.broadcast(this.sequencer.next(r));
  }

  private broadcast(env: Envelope): void {
    const r = env;
    const now = this.o.nowMs();
    const targets: Conn[] = [];
    for (const c of this.conns.values()) {
      if (c.gone || c.expiresAtMs <= now) continue;
      if ((r.topic === SYSTEM_TOPIC || c.topics.has(r.topic)) && mayReceive(c.role, r.topic, r.type)) targets.push(c);
    }
    if (targets.length === 0) return;
    const text = JSON.stringify(env);
    const state: BroadcastRoundState = {
      round: this.accounting.round(() => isoUtc(this.o.nowMs())),
      pending: targets.length,
      pruned: 0,
      topic: r.topic,
    };
    const t0 = performance.now();
    for (const c of targets) {
      if (c.queue.length + c.inflight >= this.o.queueMax) {
        state.round.dropped();
        this.settle(state);
        continue;
      }
      state.round.attempt();
      this.enqueue(c, { text, round: state, t0 });
    }
    this.pump();
  }

  private replay(c: Conn, topics: string[]): void {
    for (const t of topics) {
      const env = this.sequencer.lastOf(t);
      if (env && mayReceive(c.role, t, env.type as MessageType) && c.queue.length + c.inflight < this.o.queueMax) {
        this.enqueue(c, { text: JSON.stringify(env), t0: performance.now() });
      }
    }
    this.pump();
  }

  private enqueue(c: Conn, job: Job): void {
    c.queue.push(job);
    if (!c.ready) {
      c.ready = true;
      this.readyQueue.push(c);
    }
  }

  private pump(): void {
    while (this.inflight < this.o.maxInFlight && this.readyQueue.length > 0) {
      const c = this.readyQueue.shift() as Conn;
      c.ready = false;
      // At its per-connection limit: `onSent` puts it back in line when one of its sends settles.
      if (c.inflight >= this.o.maxPerConnection) continue;
      const job = c.queue.shift();
      if (!job) continue;
      this.send(c, job);
      if (c.queue.length > 0 && c.inflight < this.o.maxPerConnection) {
        c.ready = true;
        this.readyQueue.push(c);
      }
    }
    if (this.inflight === 0 && this.readyQueue.length === 0 && this.deletes.size === 0) this.wakeIdle();
  }

  private send(c: Conn, job: Job): void {
    if (c.gone) {
      this.finishJob(job, 'gone', 'GoneException: connection is gone (410)');
      return;
    }
    this.inflight++;
    c.inflight++;
    this.opts.management.post(c.id, job.text).then(
      (result) => this.onSent(c, job, result, null),
      (err: unknown) => this.onSent(c, job, null, err),
    );
  }

  private onSent(c: Conn, job: Job, result: 'ok' | 'gone' | null, err: unknown): void {
    this.inflight--;
    c.inflight--;
    if (result === 'ok') {
      this.finishJob(job, 'ok', null);
    } else if (result === 'gone') {
      const removed = this.removeConn(c.id);
      if (removed && job.round) job.round.pruned++;
      else if (removed) this.accounting.prunedOutsideRound(1);
      if (removed) this.track(this.deleteItem(c.id));
      // Whatever was queued behind it fails the same way.
      for (const queued of c.queue.splice(0)) this.finishJob(queued, 'gone', 'GoneException: connection is gone (410)');
      this.finishJob(job, 'gone', 'GoneException: connection is gone (410)');
    } else {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      if (!job.round) this.opts.log.debug({ connection_id: c.id, err: describeError(err) }, 'ws.replay_failed');
      this.finishJob(job, 'error', message);
    }
    if (c.queue.length > 0 && !c.ready && c.inflight < this.o.maxPerConnection && !c.gone) {
      c.ready = true;
      this.readyQueue.push(c);
    }
    this.pump();
  }

  private finishJob(job: Job, outcome: 'ok' | 'gone' | 'error', error: string | null): void {
    const state = job.round;
    if (!state) return;
    if (outcome === 'ok') state.round.success(performance.now() - job.t0);
    else state.round.failure(error ?? outcome);
    this.settle(state);
  }

  private settle(state: BroadcastRoundState): void {
    if (--state.pending > 0) return;
    state.round.finish(state.pruned);
    if (state.pruned > 0) this.opts.log.warn({ pruned: state.pruned, topic: state.topic }, 'ws.dead_clients_pruned');
  }

  /** Forget a connection; true for the first caller only (so a gone connection is pruned once). */
  private removeConn(id: string): boolean {
    const c = this.conns.get(id);
    this.tombstones.set(id, this.o.nowMs());
    if (!c || c.gone) return false;
    c.gone = true;
    this.conns.delete(id);
    this.accounting.setConnections(this.conns.size);
    return true;
  }

  private async deleteItem(id: string): Promise<void> {
    try {
      if (await this.opts.connections.delete(id)) this.itemsDeleted++;
    } catch (err) {
      // The item stays; TTL or `$disconnect` removes it, and the tombstone keeps it out of deliveries meanwhile.
      this.itemDeleteFailures++;
      this.opts.log.warn({ connection_id: id, err: describeError(err) }, 'ws.connection_item_delete_failed');
    }
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: unknown) => {
        this.opts.log.warn({ err: describeError(err) }, 'ws.connection_close_failed');
      })
      .finally(() => {
        this.deletes.delete(tracked);
        if (this.inflight === 0 && this.readyQueue.length === 0 && this.deletes.size === 0) this.wakeIdle();
      });
    this.deletes.add(tracked);
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }

  /** Resolves once no send is queued or in flight and no item delete is pending. */
  idle(): Promise<void> {
    if (this.inflight === 0 && this.readyQueue.length === 0 && this.deletes.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stats(): BroadcastCounters & {
    topics: number;
    unrouted_total: number;
    in_flight: number;
    connection_items_deleted_total: number;
    connection_item_delete_failures_total: number;
    connections_refresh_failures_total: number;
  } {
    return {
      ...this.accounting.snapshot(),
      topics: this.sequencer.topics,
      unrouted_total: this.sequencer.unrouted,
      in_flight: this.inflight,
      connection_items_deleted_total: this.itemsDeleted,
      connection_item_delete_failures_total: this.itemDeleteFailures,
      connections_refresh_failures_total: this.refreshFailures,
    };
  }
}
