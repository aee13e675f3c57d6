/**
 * The AWS realtime sink (control-chain §7 AWS): warm-path messages routed to topics (`routeChannelMessage`), one
 * envelope per topic message with a per-topic `seq` (the last one replayed when a connection newly subscribes), and
 * delivery through the API Gateway Management API to the connections of the WsConnections table.
 *
 * Delivery contract:
 * - **Never awaits a client**: `publish` only queues; a pump sends with at most `maxInFlight` (50) requests in flight
 *   overall and `maxPerConnection` (8) per connection, round-robin over connections that have work.
 * - **Backpressure**: a connection holds at most `limits.queueMax` (256) queued or in-flight messages; a message that
 *   does not fit is dropped for that connection and counted (`dropped_total`); its `seq` gap makes the browser refetch.
 *   The first drop starts the connection's lag, which ends when its queue has drained (nothing queued or in flight);
 *   a connection lagging `limits.lagCloseMs` (30 s) without a break is closed (`DeleteConnection`: API Gateway cannot
 *   send the local hub's 1013), its item deleted, counted as pruned (`ws.lagging_clients_closed`; checked every
 *   min(1 s, `lagCloseMs`)). `limits` is read at each use, so an object with getters follows config revisions.
 * - **Accounting** (`BroadcastAccounting`, shared with the local hub): per queued send one attempt, then one success
 *   (fan-out latency from publish to the 200) or one failure; `GoneException` (410) is a failure whose connection is
 *   removed and its item deleted, counted as pruned when the round finishes; other errors (throttling, 5xx, timeout)
 *   are failures and keep the connection. What was still queued for a connection the broadcaster closes (gone,
 *   lagging, revoked, expired) fails at once, so no round stays pending. A clean round clears `last_broadcast_error`.
 * - **Connections** come from the table (`refresh`, every `refreshMs`): expired items (`expires_at` past) are closed
 *   and deleted (counted as pruned); a topic newly present on a connection gets that topic's last envelope. A closed
 *   connection is tombstoned for 60 s, so a table read racing its item delete never brings it back.
 * - **Session re-check** (with `recheck`; the hub's 60 s re-check): every `recheckMs` (60 s) each connection's
 *   `credential_ref` is re-checked. Null (expired, revoked, user gone or disabled) or no reference (an item from before
 *   references existed) -> one frame `{type:"error", code:"session_expired"}` (API Gateway cannot send the hub's 4401),
 *   then `DeleteConnection` and the item deleted, counted as pruned (`ws.session_revoked_closed`). Another role takes
 *   effect in memory at once (a demotion drops the topics and the queued messages the role may no longer read, as
 *   the hub re-filters) and then in the item (`setRole`, conditional on `topics_rev`); a later table read never
 *   restores the old role. A re-check that throws (store outage) keeps the connection and counts
 *   `session_recheck_failures_total`.
 */
import { BroadcastAccounting, type BroadcastCounters, type BroadcastRound } from '../../domain/control/broadcast.ts';
import { type Envelope, type MessageType, mayReceive, SYSTEM_TOPIC, topicRole } from '../../domain/control/realtime.ts';
import { type Role, roleAtLeast } from '../../domain/control/roles.ts';
import { isoUtc } from '../../domain/time.ts';
import { describeError } from '../../errors/base.ts';
import type { Logger } from '../../log.ts';
import { SequencedSink } from '../realtime-sink.ts';
import type { WsConnection } from './ws-connections.ts';
import type { WsManagement } from './ws-management.ts';

/** What the broadcaster needs of the WsConnections table. */
export interface WsConnectionSource {
  listAll(): Promise<WsConnection[]>;
  delete(connectionId: string): Promise<boolean>;
  /** Set the role and keep the topics `keepTopic` admits; null when the item is gone. */
  setRole(connectionId: string, role: Role, keepTopic: (topic: string) => boolean): Promise<WsConnection | null>;
}

/** Backpressure limits, read at each use (pass getters to follow config revisions). */
export interface WsBroadcasterLimits {
  /** Queued plus in-flight messages per connection (`GHTRADER_WS_CLIENT_QUEUE_MAX`). */
  readonly queueMax: number;
  /** Continuous lag after which a connection is closed, in ms (`GHTRADER_WS_LAG_CLOSE_S` × 1000). */
  readonly lagCloseMs: number;
}

export const DEFAULT_WS_BROADCASTER_LIMITS: WsBroadcasterLimits = { queueMax: 256, lagCloseMs: 30_000 };

/** A re-checked credential: its current role, or null when it is expired or revoked (or its user gone or disabled). */
export type CredentialRecheck = (credentialRef: string) => Promise<{ role: Role } | null>;

export interface WsBroadcasterOptions {
  connections: WsConnectionSource;
  management: WsManagement;
  log: Logger;
  nowMs?: () => number;
  maxInFlight?: number;
  maxPerConnection?: number;
  /** Default `DEFAULT_WS_BROADCASTER_LIMITS`. */
  limits?: WsBroadcasterLimits;
  /** How often the connection list is re-read from the table (a new subscription takes effect within this). */
  refreshMs?: number;
  /** Re-checks a connection's `credential_ref`; absent -> no session re-check (tests of delivery alone). */
  recheck?: CredentialRecheck;
  /** How often every connection's credential is re-checked (default 60 s). */
  recheckMs?: number;
}

interface Job {
  text: string;
  topic: string;
  type: MessageType;
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
  /** Effective role: the last re-check's when there was one, else the item's. */
  role: Role;
  /** The role the item holds (a failed `setRole` is retried at the next re-check). */
  itemRole: Role;
  /** The role the last re-check found; it outranks the item's, which may be an older read. */
  recheckedRole: Role | null;
  /** Null on items written before credential references existed. */
  credentialRef: string | null;
  topics: Set<string>;
  expiresAtMs: number;
  queue: Job[];
  inflight: number;
  /** When a message was first dropped for it with no drained queue since; null when not lagging. */
  lagSince: number | null;
  ready: boolean;
  gone: boolean;
}

/** How long a pruned connection id is ignored by `refresh` (its item delete may still be on the way). */
const TOMBSTONE_MS = 60_000;
/** Credential re-checks in flight at once during one pass (connections sharing a credential share one re-check). */
const RECHECK_CONCURRENCY = 8;
/** What a connection closed for its credential is told first (the local hub closes 4401 with this reason). */
const SESSION_EXPIRED_FRAME = JSON.stringify({
  type: 'error',
  code: 'session_expired',
  message: 'session expired or revoked',
});

const readable = (role: Role, topics: Iterable<string>): string[] =>
  [...topics].filter((t) => roleAtLeast(role, topicRole(t)));

export class WsBroadcaster extends SequencedSink {
  private readonly conns = new Map<string, Conn>();
  private readonly tombstones = new Map<string, number>();
  private readonly accounting = new BroadcastAccounting();
  private readonly readyQueue: Conn[] = [];
  private readonly limits: WsBroadcasterLimits;
  private inflight = 0;
  private itemsDeleted = 0;
  private itemDeleteFailures = 0;
  private refreshFailures = 0;
  private recheckFailures = 0;
  private roleUpdateFailures = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private lagTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private refreshing: Promise<void> | null = null;
  private rechecking: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  private readonly deletes = new Set<Promise<void>>();
  private readonly o: Required<Omit<WsBroadcasterOptions, 'connections' | 'management' | 'log' | 'limits' | 'recheck'>>;

  constructor(private readonly opts: WsBroadcasterOptions) {
    super(opts.nowMs ?? Date.now, opts.log);
    this.o = {
      nowMs: opts.nowMs ?? Date.now,
      maxInFlight: opts.maxInFlight ?? 50,
      maxPerConnection: opts.maxPerConnection ?? 8,
      refreshMs: opts.refreshMs ?? 1_000,
      recheckMs: opts.recheckMs ?? 60_000,
    };
    this.limits = opts.limits ?? DEFAULT_WS_BROADCASTER_LIMITS;
  }

  /** Read the connections now, then every `refreshMs`; re-check credentials every `recheckMs`; watch for laggards. */
  async start(): Promise<void> {
    await this.refresh();
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.o.refreshMs, () => {
      void this.refresh().catch((err) => {
        this.refreshFailures++;
        this.opts.log.warn(
          { refresh_failures: this.refreshFailures, err: describeError(err) },
          'ws.connections_refresh_failed',
        );
      });
    });
    if (this.opts.recheck) {
      every(this.o.recheckMs, () => {
        void this.recheckSessions().catch((err) => {
          this.opts.log.error({ err: describeError(err) }, 'ws.session_recheck_pass_failed');
        });
      });
    }
    this.scheduleLagCheck();
  }

  /** Stop the timers, and wait for a running refresh or re-check, queued sends and item deletes to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    if (this.lagTimer) clearTimeout(this.lagTimer);
    this.lagTimer = null;
    await this.refreshing;
    await this.rechecking;
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
        // The tombstone keeps it from being counted again while the delete is on its way.
        this.closeConn(id, 'connection expired', null);
        expired++;
        continue;
      }
      seen.add(id);
      const existing = this.conns.get(id);
      const credentialRef = item.credential_ref ?? null;
      if (existing) {
        existing.itemRole = item.role;
        existing.role = existing.recheckedRole ?? item.role;
        existing.credentialRef = credentialRef;
        const topics = readable(existing.role, item.topics);
        const added = topics.filter((t) => !existing.topics.has(t));
        existing.topics.clear();
        for (const t of topics) existing.topics.add(t);
        existing.expiresAtMs = expiresAtMs;
        this.replay(existing, added);
      } else {
        const c: Conn = {
          id,
          userId: item.user_id,
          role: item.role,
          itemRole: item.role,
          recheckedRole: null,
          credentialRef,
          topics: new Set(readable(item.role, item.topics)),
          expiresAtMs,
          queue: [],
          inflight: 0,
          lagSince: null,
          ready: false,
          gone: false,
        };
        this.conns.set(id, c);
        this.replay(c, [...c.topics]);
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

  protected broadcast(env: Envelope): void {
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
    const queueMax = this.limits.queueMax;
    for (const c of targets) {
      if (c.queue.length + c.inflight >= queueMax) {
        state.round.dropped();
        c.lagSince ??= now;
        this.settle(state);
        continue;
      }
      state.round.attempt();
      this.enqueue(c, { text, topic: r.topic, type: r.type, round: state, t0 });
    }
    this.pump();
  }

  private replay(c: Conn, topics: string[]): void {
    for (const t of topics) {
      const env = this.sequencer.lastOf(t);
      const type = env?.type as MessageType;
      if (env && mayReceive(c.role, t, type) && c.queue.length + c.inflight < this.limits.queueMax) {
        this.enqueue(c, { text: JSON.stringify(env), topic: t, type, t0: performance.now() });
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
      this.failQueued(c, 'GoneException: connection is gone (410)');
      this.finishJob(job, 'gone', 'GoneException: connection is gone (410)');
    } else {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      if (!job.round) this.opts.log.debug({ connection_id: c.id, err: describeError(err) }, 'ws.replay_failed');
      this.finishJob(job, 'error', message);
    }
    // Its queue drained: whatever lag it had is over.
    if (c.queue.length === 0 && c.inflight === 0) c.lagSince = null;
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

  /** Fail (and settle) every send still queued for a connection; in-flight ones settle when their request does. */
  private failQueued(c: Conn, error: string): void {
    for (const queued of c.queue.splice(0)) this.finishJob(queued, 'gone', error);
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

  /**
   * Close a connection the broadcaster gave up on (expired, lagging, revoked): forget it (tombstoned), fail what it
   * had queued, then in the background send `notice` first when given, `DeleteConnection` and delete its item. True
   * when this call removed a known connection; the caller counts it as pruned.
   */
  private closeConn(id: string, why: string, notice: string | null): boolean {
    const c = this.conns.get(id);
    const removed = this.removeConn(id);
    if (c && removed) this.failQueued(c, `connection closed: ${why}`);
    this.track(this.closeAndDelete(id, notice));
    return removed;
  }

  private async closeAndDelete(id: string, notice: string | null): Promise<void> {
    try {
      if (notice !== null) {
        let told: 'ok' | 'gone' | 'failed';
        try {
          told = await this.opts.management.post(id, notice);
        } catch (err) {
          // Still close it: the reason is a courtesy, the close is what matters.
          told = 'failed';
          this.opts.log.warn({ connection_id: id, err: describeError(err) }, 'ws.close_notice_failed');
        }
        if (told === 'gone') return;
      }
      await this.opts.management.close(id);
    } finally {
      // Even when the close failed: without its item nothing is delivered to it, and its next frame closes it.
      await this.deleteItem(id);
    }
  }

  private scheduleLagCheck(): void {
    if (this.stopped) return;
    this.lagTimer = setTimeout(
      () => {
        this.closeLaggards();
        this.scheduleLagCheck();
      },
      Math.min(1_000, this.limits.lagCloseMs),
    );
    this.lagTimer.unref();
  }

  /** Close every connection that has been lagging `limits.lagCloseMs` without a break (counted as pruned). */
  private closeLaggards(): void {
    const now = this.o.nowMs();
    const lagCloseMs = this.limits.lagCloseMs;
    let closed = 0;
    for (const c of [...this.conns.values()]) {
      if (c.lagSince === null || now - c.lagSince < lagCloseMs) continue;
      const why = `closed after ${Math.round((now - c.lagSince) / 1000)} s of continuous lag`;
      this.opts.log.info({ connection_id: c.id, user_id: c.userId, lag_ms: now - c.lagSince }, 'ws.lagging_client');
      if (this.closeConn(c.id, why, null)) closed++;
    }
    if (closed > 0) {
      this.accounting.prunedOutsideRound(closed);
      this.opts.log.warn({ pruned: closed, lag_close_ms: lagCloseMs }, 'ws.lagging_clients_closed');
    }
  }

  /**
   * Re-check every connection's credential now (one pass at a time; a caller arriving during one waits for it):
   * null or no reference -> told, closed and its item deleted (pruned); another role -> applied; a throw -> kept.
   */
  recheckSessions(): Promise<void> {
    this.rechecking ??= this.doRecheck().finally(() => {
      this.rechecking = null;
    });
    return this.rechecking;
  }

  private async doRecheck(): Promise<void> {
    const recheck = this.opts.recheck;
    if (!recheck) throw new Error('WsBroadcaster: recheckSessions() needs the recheck option');
    // Connections of one session or token (a user's tabs) share one re-check per pass.
    const verdicts = new Map<string, Promise<{ role: Role } | null>>();
    const pending = [...this.conns.values()];
    let revoked = 0;
    let legacy = 0;
    let failures = 0;
    let firstError: unknown = null;
    const worker = async () => {
      for (let c = pending.shift(); c; c = pending.shift()) {
        if (this.conns.get(c.id) !== c) continue;
        const ref = c.credentialRef;
        if (ref === null) {
          // Connected before items carried a reference: it cannot be re-checked; the browser reconnects.
          if (this.closeConn(c.id, 'no credential reference to re-check', SESSION_EXPIRED_FRAME)) legacy++;
          continue;
        }
        let who: { role: Role } | null;
        try {
          let verdict = verdicts.get(ref);
          if (!verdict) {
            verdict = recheck(ref);
            verdicts.set(ref, verdict);
          }
          who = await verdict;
        } catch (err) {
          // A store outage is not a revocation: keep the connection, try again next pass.
          failures++;
          firstError ??= err;
          continue;
        }
        // Disconnected or closed while it was being re-checked.
        if (this.conns.get(c.id) !== c) continue;
        if (!who) {
          if (this.closeConn(c.id, 'session expired or revoked', SESSION_EXPIRED_FRAME)) revoked++;
          continue;
        }
        await this.applyRole(c, who.role);
      }
    };
    await Promise.all(Array.from({ length: RECHECK_CONCURRENCY }, worker));
    if (failures > 0) {
      this.recheckFailures += failures;
      this.opts.log.warn(
        { failures, session_recheck_failures: this.recheckFailures, err: describeError(firstError) },
        'ws.session_recheck_failed',
      );
    }
    if (revoked + legacy > 0) {
      this.accounting.prunedOutsideRound(revoked + legacy);
      this.opts.log.warn({ pruned: revoked + legacy, revoked, legacy }, 'ws.session_revoked_closed');
    }
  }

  /**
   * A re-check's role: in memory at once (a demotion drops the topics, and the queued messages, the role may no longer
   * read), then in the item, so `$default` admits later subscriptions under it and a table read does not undo it.
   */
  private async applyRole(c: Conn, role: Role): Promise<void> {
    c.recheckedRole = role;
    if (role !== c.role) {
      const demoted = !roleAtLeast(role, c.role);
      c.role = role;
      const kept = new Set(readable(role, c.topics));
      for (const t of [...c.topics]) if (!kept.has(t)) c.topics.delete(t);
      if (demoted) {
        const withdrawn = c.queue.filter((j) => !mayReceive(role, j.topic, j.type));
        c.queue = c.queue.filter((j) => mayReceive(role, j.topic, j.type));
        for (const j of withdrawn)
          this.finishJob(j, 'error', `withdrawn: role ${role} may not read ${j.topic} ${j.type}`);
      }
      this.opts.log.info(
        { connection_id: c.id, user_id: c.userId, role, demoted, topics: [...c.topics] },
        'ws.connection_role_changed',
      );
    }
    if (role === c.itemRole) return;
    try {
      const updated = await this.opts.connections.setRole(c.id, role, (t) => roleAtLeast(role, topicRole(t)));
      if (updated) c.itemRole = updated.role;
    } catch (err) {
      // Memory already holds the new role; the next pass writes it again.
      this.roleUpdateFailures++;
      this.opts.log.warn({ connection_id: c.id, role, err: describeError(err) }, 'ws.connection_role_update_failed');
    }
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

  /** Resolves once no send is queued or in flight and no close or item delete is pending. */
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
    session_recheck_failures_total: number;
    connection_role_update_failures_total: number;
  } {
    return {
      ...this.accounting.snapshot(),
      topics: this.sequencer.topics,
      unrouted_total: this.sequencer.unrouted,
      in_flight: this.inflight,
      connection_items_deleted_total: this.itemsDeleted,
      connection_item_delete_failures_total: this.itemDeleteFailures,
      connections_refresh_failures_total: this.refreshFailures,
      session_recheck_failures_total: this.recheckFailures,
      connection_role_update_failures_total: this.roleUpdateFailures,
    };
  }
}
