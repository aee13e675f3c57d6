/**
 * The local realtime hub behind `GET /ws` (control-chain §7): authenticated sockets subscribe to topics, every routed
 * warm-path message becomes one envelope `{v:1, topic, type, seq, ts, payload}` with a per-topic `seq`, the last
 * message per topic is replayed on subscribe, and the broadcaster never awaits a client:
 *
 * - **Accounting**: per send one attempt, then a success or a failure; sockets that failed are pruned after the round
 *   (`ws.dead_clients_pruned`); a clean round clears `last_broadcast_error` (`BroadcastAccounting`, shared domain).
 * - **Abrupt drops**: a socket that vanished without a close handshake (1006) stays until the next round or keepalive
 *   finds it, so it is counted as a failure and pruned; a clean close leaves at once.
 * - **Backpressure**: a client's in-flight sends are bounded (queue max, 256) and so is its socket buffer (1 MiB); a
 *   message that does not fit is dropped for that client and counted (its `seq` gap makes it refetch); 30 s of
 *   continuous lag closes it 1013 (counted as pruned).
 * - **Hygiene**: client frames ≤ 4 KiB and ≤ 10/s else 1008; ping every 30 s, no pong within 10 s terminates;
 *   sessions re-checked every 60 s (gone -> 4401; demotion drops topics the role may no longer read); ≤ 10 sockets per
 *   user and ≤ 1000 per hub (1013).
 */
import type { WebSocket } from 'ws';
import { BroadcastAccounting, type BroadcastCounters, type BroadcastRound } from '#shared/domain/control/broadcast.ts';
import {
  admitTopics,
  ClientFrameSchema,
  type Envelope,
  MAX_CLIENT_FRAME_BYTES,
  MAX_CLIENT_FRAMES_PER_S,
  type MessageType,
  mayReceive,
  SYSTEM_TOPIC,
  topicRole,
} from '#shared/domain/control/realtime.ts';
import { type Role, roleAtLeast } from '#shared/domain/control/roles.ts';
import { isoUtc } from '#shared/domain/time.ts';
import { describeError } from '#shared/errors/base.ts';
import { SequencedSink } from '#shared/infra/realtime-sink.ts';
import type { Logger } from '#shared/log.ts';
import type { WsLimits } from '#shared/services/live-config.ts';

const OPEN = 1;

export interface HubIdentity {
  userId: string;
  role: Role;
}

export interface HubOptions {
  log: Logger;
  /** Re-check a socket's credential (session or bearer): its current identity, or null when expired or revoked. */
  reauthenticate: (credential: HubCredential) => Promise<HubIdentity | null>;
  /**
   * Per-client queue bound and continuous-lag close (`GHTRADER_WS_CLIENT_QUEUE_MAX`, `GHTRADER_WS_LAG_CLOSE_S`), read at
   * each use so an object with getters (`liveWsLimits`) follows config revisions. Default 256 messages, 30 s.
   */
  limits?: WsLimits;
  maxBufferedBytes?: number;
  pingIntervalMs?: number;
  /** A ping not answered within this long terminates the socket (spec: 10 s; at most the ping interval). */
  pongTimeoutMs?: number;
  sessionRecheckMs?: number;
  maxPerUser?: number;
  maxTotal?: number;
  nowMs?: () => number;
}

export type HubCredential = { kind: 'session'; id: string } | { kind: 'bearer'; token: string };

interface Client {
  readonly id: number;
  readonly ws: WebSocket;
  readonly credential: HubCredential;
  userId: string;
  role: Role;
  readonly topics: Set<string>;
  inflight: number;
  lagSince: number | null;
  awaitingPong: boolean;
  /** Vanished without a close handshake: kept until a send or the keepalive finds it, then pruned. */
  gone: boolean;
  readonly frames: number[];
}

export class RealtimeHub extends SequencedSink {
  private readonly clients = new Map<number, Client>();
  private readonly accounting = new BroadcastAccounting();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly pongTimers = new Set<NodeJS.Timeout>();
  private nextId = 1;
  private readonly o: Required<Omit<HubOptions, 'log' | 'reauthenticate'>>;

  constructor(private readonly opts: HubOptions) {
    super(opts.nowMs ?? Date.now, opts.log);
    this.o = {
      limits: opts.limits ?? { queueMax: 256, lagCloseMs: 30_000 },
      maxBufferedBytes: opts.maxBufferedBytes ?? 1024 * 1024,
      pingIntervalMs: opts.pingIntervalMs ?? 30_000,
      pongTimeoutMs: Math.min(opts.pongTimeoutMs ?? 10_000, opts.pingIntervalMs ?? 30_000),
      sessionRecheckMs: opts.sessionRecheckMs ?? 60_000,
      maxPerUser: opts.maxPerUser ?? 10,
      maxTotal: opts.maxTotal ?? 1000,
      nowMs: opts.nowMs ?? Date.now,
    };
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(Math.min(1_000, this.o.limits.lagCloseMs), () => this.closeLaggards());
    every(this.o.pingIntervalMs, () => this.keepalive());
    every(this.o.sessionRecheckMs, () => void this.recheckSessions());
  }

  /** Take over an upgraded socket. Over a limit it is closed 1013 at once and never counted. */
  connect(ws: WebSocket, identity: HubIdentity, credential: HubCredential): void {
    const mine = [...this.clients.values()].filter((c) => c.userId === identity.userId && !c.gone).length;
    if (this.clients.size >= this.o.maxTotal || mine >= this.o.maxPerUser) {
      ws.close(1013, this.clients.size >= this.o.maxTotal ? 'too many connections' : 'too many sockets for this user');
      return;
    }
    const client: Client = {
      id: this.nextId++,
      ws,
      credential,
      userId: identity.userId,
      role: identity.role,
      topics: new Set(),
      inflight: 0,
      lagSince: null,
      awaitingPong: false,
      gone: false,
      frames: [],
    };
    this.clients.set(client.id, client);
    this.accounting.setConnections(this.clients.size);
    ws.on('message', (data, isBinary) => this.onFrame(client, data as Buffer, isBinary));
    ws.on('pong', () => {
      client.awaitingPong = false;
    });
    ws.on('error', (err) => this.opts.log.debug({ client: client.id, err: describeError(err) }, 'ws.socket_error'));
    ws.on('close', (code) => {
      if (code === 1006)
        client.gone = true; // abrupt: counted as a failed send, then pruned
      else this.remove(client);
    });
  }

  protected broadcast(r: Envelope): void {
    const text = JSON.stringify(r);
    const targets: Client[] = [];
    for (const c of this.clients.values()) {
      if ((r.topic === SYSTEM_TOPIC || c.topics.has(r.topic)) && mayReceive(c.role, r.topic, r.type)) targets.push(c);
    }
    if (targets.length === 0) return;
    const round = this.accounting.round(() => isoUtc(this.o.nowMs()));
    const t0 = performance.now();
    const failed = new Set<Client>();
    let pending = targets.length;
    const settle = () => {
      if (--pending > 0) return;
      let pruned = 0;
      for (const c of failed) if (this.remove(c, true)) pruned++;
      round.finish(pruned);
      if (pruned > 0) this.opts.log.warn({ pruned, topic: r.topic }, 'ws.dead_clients_pruned');
    };
    // Read once per round (a live-config getter resolves the key on each read).
    const queueMax = this.o.limits.queueMax;
    for (const c of targets) this.sendTo(c, text, round, t0, failed, settle, queueMax);
  }

  private sendTo(
    c: Client,
    text: string,
    round: BroadcastRound,
    t0: number,
    failed: Set<Client>,
    settle: () => void,
    queueMax: number,
  ): void {
    if (c.gone || c.ws.readyState !== OPEN) {
      round.attempt();
      round.failure(c.gone ? 'socket closed abruptly (1006)' : `socket not open (readyState ${c.ws.readyState})`);
      failed.add(c);
      settle();
      return;
    }
    if (c.inflight >= queueMax || c.ws.bufferedAmount > this.o.maxBufferedBytes) {
      round.dropped();
      c.lagSince ??= this.o.nowMs();
      settle();
      return;
    }
    round.attempt();
    c.inflight++;
    c.ws.send(text, (err) => {
      c.inflight--;
      if (err) {
        round.failure(err.message);
        failed.add(c);
      } else {
        round.success(performance.now() - t0);
        if (c.inflight === 0) c.lagSince = null;
      }
      settle();
    });
  }

  private onFrame(c: Client, data: Buffer, isBinary: boolean): void {
    const now = this.o.nowMs();
    while (c.frames.length > 0 && now - (c.frames[0] as number) >= 1_000) c.frames.shift();
    c.frames.push(now);
    if (isBinary || data.length > MAX_CLIENT_FRAME_BYTES || c.frames.length > MAX_CLIENT_FRAMES_PER_S) {
      c.ws.close(1008, isBinary ? 'binary frames are not accepted' : 'frame too large or too frequent');
      return;
    }
    let parsed: ReturnType<typeof ClientFrameSchema.safeParse>;
    try {
      parsed = ClientFrameSchema.safeParse(JSON.parse(data.toString('utf8')));
    } catch {
      this.reply(c, { type: 'error', code: 'invalid_frame', message: 'frames are JSON objects' });
      return;
    }
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      this.reply(c, {
        type: 'error',
        code: 'invalid_frame',
        message: `${first?.path.join('.') || 'frame'}: ${first?.message ?? 'does not match {type: subscribe|unsubscribe|ping}'}`,
      });
      return;
    }
    const f = parsed.data;
    if (f.type === 'ping') {
      this.reply(c, { type: 'pong', ts: isoUtc(now) });
    } else if (f.type === 'unsubscribe') {
      for (const t of f.topics) c.topics.delete(t);
      this.reply(c, { type: 'unsubscribed', topics: f.topics });
    } else {
      const { topics, denied } = admitTopics(c.role, c.topics, f.topics);
      const added = topics.filter((t) => !c.topics.has(t));
      for (const t of topics) c.topics.add(t);
      this.reply(c, { type: 'subscribed', topics, denied });
      for (const t of added) {
        const env = this.sequencer.lastOf(t);
        if (env && mayReceive(c.role, t, env.type as MessageType)) this.reply(c, env);
      }
    }
  }

  /** A direct answer to one client (not a broadcast: not in the broadcast counters). */
  private reply(c: Client, msg: unknown): void {
    if (c.ws.readyState !== OPEN) return;
    c.ws.send(JSON.stringify(msg), (err) => {
      if (err) this.opts.log.debug({ client: c.id, err: describeError(err) }, 'ws.reply_failed');
    });
  }

  private closeLaggards(): void {
    const now = this.o.nowMs();
    const lagCloseMs = this.o.limits.lagCloseMs;
    let closed = 0;
    for (const c of this.clients.values()) {
      if (c.lagSince !== null && now - c.lagSince >= lagCloseMs) {
        c.ws.close(1013, 'client too slow');
        // A peer that stopped reading may never finish the close handshake.
        setTimeout(() => c.ws.terminate(), 1_000).unref();
        if (this.remove(c, true)) closed++;
      }
    }
    if (closed > 0) {
      this.accounting.prunedOutsideRound(closed);
      this.opts.log.warn({ pruned: closed }, 'ws.lagging_clients_closed');
    }
  }

  private keepalive(): void {
    this.reapUnanswered();
    for (const c of this.clients.values()) {
      c.awaitingPong = true;
      try {
        c.ws.ping();
      } catch {
        c.gone = true;
      }
    }
    const t = setTimeout(() => {
      this.pongTimers.delete(t);
      this.reapUnanswered();
    }, this.o.pongTimeoutMs);
    t.unref();
    this.pongTimers.add(t);
  }

  /** Terminate every socket that vanished or left the last ping unanswered (counted as pruned). */
  private reapUnanswered(): void {
    let pruned = 0;
    for (const c of [...this.clients.values()]) {
      if (c.gone || c.awaitingPong) {
        c.ws.terminate();
        if (this.remove(c, true)) pruned++;
      }
    }
    if (pruned > 0) {
      this.accounting.prunedOutsideRound(pruned);
      this.opts.log.warn({ pruned }, 'ws.dead_clients_pruned');
    }
  }

  /** Re-check every socket's credential: gone -> close 4401; demoted -> drop the topics it may no longer read. */
  async recheckSessions(): Promise<void> {
    for (const c of [...this.clients.values()]) {
      let who: HubIdentity | null;
      try {
        who = await this.opts.reauthenticate(c.credential);
      } catch (err) {
        // A store outage is not a revocation: keep the socket, try again next time.
        this.opts.log.warn({ client: c.id, err: describeError(err) }, 'ws.session_recheck_failed');
        continue;
      }
      if (!who) {
        c.ws.close(4401, 'session expired or revoked');
        this.remove(c);
        continue;
      }
      c.role = who.role;
      for (const t of [...c.topics]) if (!roleAtLeast(c.role, topicRole(t))) c.topics.delete(t);
    }
  }

  private remove(c: Client, asPruned = false): boolean {
    const had = this.clients.delete(c.id);
    this.accounting.setConnections(this.clients.size);
    if (had && asPruned && c.ws.readyState === OPEN) c.ws.terminate();
    return had;
  }

  stats(): BroadcastCounters & { topics: number; unrouted_total: number } {
    return { ...this.accounting.snapshot(), topics: this.sequencer.topics, unrouted_total: this.sequencer.unrouted };
  }

  /** Close every socket (1001, going away) and stop the timers. */
  close(): void {
    for (const t of this.timers) clearInterval(t);
    for (const t of this.pongTimers) clearTimeout(t);
    this.pongTimers.clear();
    for (const c of this.clients.values()) c.ws.close(1001, 'server shutting down');
    this.clients.clear();
    this.accounting.setConnections(0);
  }
}
