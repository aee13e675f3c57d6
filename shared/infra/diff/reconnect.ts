/**
 * Reconnect manager (market-protocol §1.11): one logical md or td connection across TCP connections.
 *
 * - Backoff is shared by all sockets of a client: the first retry is immediate when the timer has expired; each
 *   attempt then arms the timer with a random delay in [base·2ⁿ, 2·base·2ⁿ] (2ⁿ capped at 64); n resets once a
 *   connection is live again.
 * - After a reconnect the owner's `resend` hook replays state (md: subscribe_quote + charts; td: req_login), and the
 *   new snapshot is built in a scratch store. It is released into the mirror as ONE update batch (the difference,
 *   deletions included) when the owner's `isComplete` hook says so, or when the resync timeout passes: then the
 *   owner's `onEscape` hook marks what never completed (charts → `no_data`) and the release happens anyway.
 * - Connection events carry TqSdk's codes: 2019112901 connected, 2019112902 reconnected, 2019112910 reconnecting,
 *   2019112911 disconnected.
 * - Auth failures are not retried (one token refresh on a 401, then `AuthError` is fatal). A first-ever connect
 *   refused with HTTP 503, or failing inside 19:00–19:30 CST, fails fast with `MaintenanceError`; later failures in
 *   the window keep retrying.
 */
import {
  AuthError,
  ClosedError,
  type DiffError,
  DiffTimeoutError,
  MaintenanceError,
  NotConnectedError,
  ProtocolError,
} from '#shared/errors/diff.ts';
import { type Logger, silentLogger } from '#shared/log.ts';
import type { FrameLog, SocketKind } from './framelog.ts';
import { DiffStore, type SchemaDriftEvent } from './store.ts';
import { type CloseInfo, type DiffFrame, DiffTransport } from './transport.ts';

export const CONNECTION_CODES = {
  connected: 2019112901,
  reconnected: 2019112902,
  reconnecting: 2019112910,
  disconnected: 2019112911,
} as const;

export interface ConnectionEvent {
  socket: SocketKind;
  code: number;
  message: string;
}

/** Shared reconnect backoff (see file comment). `rng` and `nowMs` are injectable for tests. */
export class Backoff {
  private n = 0;
  private timerAt = 0;

  constructor(
    readonly baseMs: number,
    private readonly rng: () => number = Math.random,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Milliseconds to wait before the next attempt; records the attempt and arms the timer. */
  nextDelay(): number {
    const now = this.nowMs();
    const wait = Math.max(0, this.timerAt - now);
    const factor = Math.min(2 ** this.n, 64);
    this.timerAt = now + wait + this.baseMs * factor * (1 + this.rng());
    this.n++;
    return wait;
  }

  /** A connection became live: the next failure starts again at 2⁰ (the armed timer still applies). */
  reset(): void {
    this.n = 0;
  }
}

export type ConnectionState = 'idle' | 'connecting' | 'syncing' | 'live' | 'waiting' | 'closed' | 'failed';

export interface TokenSource {
  accessToken(): Promise<string>;
  onUnauthorized(where: string): Promise<string>;
  onAuthorized(): void;
}

export interface ConnectionOptions {
  socket: SocketKind;
  url: string;
  tokens: TokenSource;
  backoff: Backoff;
  resyncTimeoutMs: number;
  logger?: Logger;
  frameLog?: FrameLog | undefined;
  /** Injected wall clock (ms) for the maintenance window check. */
  nowMs?: () => number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  handshakeTimeoutMs?: number;
}

export interface ConnectionHooks {
  /** Replay state after every (re)connect, before the first peek. `send` writes to the new socket. */
  resend(send: (f: DiffFrame) => void): void;
  /** Whether the scratch snapshot is complete and may be released. */
  isComplete(tree: Record<string, unknown>): boolean;
  /**
   * The resync timeout passed: mark what is incomplete (e.g. charts → no_data) before the forced release. Return
   * `false` to refuse the release instead (td: an incomplete trade snapshot would read as "everything vanished"):
   * the socket is then dropped and the manager reconnects with backoff, the mirror left as it was.
   */
  onEscape?(tree: Record<string, unknown>): boolean | undefined;
}

const CST_OFFSET_MS = 8 * 3_600_000;

/** Whether `ms` lies in the daily 19:00–19:30 CST maintenance window. */
export function inMaintenanceWindow(ms: number): boolean {
  const tod = (((ms + CST_OFFSET_MS) % 86_400_000) + 86_400_000) % 86_400_000;
  return tod >= 19 * 3_600_000 && tod < 19.5 * 3_600_000;
}

const sleep = (ms: number, signal: { cancelled: boolean; wake?: () => void }) =>
  new Promise<void>((resolve) => {
    if (signal.cancelled) {
      resolve();
      return;
    }
    const t = setTimeout(resolve, ms);
    signal.wake = () => {
      clearTimeout(t);
      resolve();
    };
  });

export class DiffConnection {
  /** The released mirror; owners read it and subscribe to its update events. */
  readonly store = new DiffStore();
  readonly socket: SocketKind;
  private transport: DiffTransport | undefined;
  private scratch: DiffStore | undefined;
  private stateValue: ConnectionState = 'idle';
  private everConnected = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly sleeper: { cancelled: boolean; wake?: () => void } = { cancelled: false };
  private readonly log: Logger;
  private readonly frameListeners = new Set<(f: DiffFrame) => void>();
  private readonly connListeners = new Set<(e: ConnectionEvent) => void>();
  private readonly fatalListeners = new Set<(e: DiffError) => void>();
  private readonly driftListeners = new Set<(e: Omit<SchemaDriftEvent, 'batch_seq'>) => void>();
  private fatalError: DiffError | undefined;
  /** Counters for tests: completed resyncs and forced (timeout) releases. */
  readonly stats = { connects: 0, resyncs: 0, escapes: 0 };

  constructor(
    private readonly opts: ConnectionOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    this.socket = opts.socket;
    this.log = (opts.logger ?? silentLogger()).child({ socket: opts.socket });
    this.store.onSchemaDrift((d) => this.emitDrift(d));
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** The current transport (for diagnostics and tests), if any. */
  get currentTransport(): DiffTransport | undefined {
    return this.transport;
  }

  /** True when the socket is open and its snapshot released (commands may be sent). */
  get isLive(): boolean {
    return this.stateValue === 'live' && this.transport?.isOpen === true;
  }

  onFrame(l: (f: DiffFrame) => void): () => void {
    this.frameListeners.add(l);
    return () => this.frameListeners.delete(l);
  }

  onConnection(l: (e: ConnectionEvent) => void): () => void {
    this.connListeners.add(l);
    return () => this.connListeners.delete(l);
  }

  /** A fatal error ended the connection for good (auth refused, closed); no more reconnects. */
  onFatal(l: (e: DiffError) => void): () => void {
    this.fatalListeners.add(l);
    return () => this.fatalListeners.delete(l);
  }

  onSchemaDrift(l: (e: Omit<SchemaDriftEvent, 'batch_seq'>) => void): () => void {
    this.driftListeners.add(l);
    return () => this.driftListeners.delete(l);
  }

  /**
   * First connect. Resolves when the socket is open and the state has been sent (readiness is the owner's to await).
   * Rejects `AuthError`, `MaintenanceError`, or `DiffTimeoutError` when no connection succeeded within `deadlineMs`.
   */
  async start(deadlineMs: number): Promise<void> {
    if (this.stateValue !== 'idle') throw new Error(`${this.socket} connection already started`);
    const deadline = Date.now() + deadlineMs;
    let lastError: unknown;
    for (;;) {
      if (this.closedNow()) throw new ClosedError(`${this.socket} connect`);
      try {
        await this.openOnce(false);
        this.everConnected = true;
        this.emitConnection(CONNECTION_CODES.connected, 'connected');
        return;
      } catch (err) {
        lastError = err;
        if (err instanceof ClosedError) throw err;
        if (err instanceof AuthError) {
          this.fail(err);
          throw err;
        }
        const now = (this.opts.nowMs ?? Date.now)();
        if (err instanceof MaintenanceError || inMaintenanceWindow(now)) {
          const e =
            err instanceof MaintenanceError
              ? err
              : new MaintenanceError(`${this.socket} connect failed inside the 19:00–19:30 CST maintenance window`, {
                  cause: err,
                });
          this.fail(e);
          throw e;
        }
        this.log.warn({ err: (err as Error).message }, 'DIFF connect failed; retrying');
      }
      const wait = this.opts.backoff.nextDelay();
      if (Date.now() + wait > deadline) {
        const e = new DiffTimeoutError(`${this.socket} first connect`, deadlineMs, {
          last_error: (lastError as Error)?.message,
        });
        this.fail(e);
        throw e;
      }
      this.stateValue = 'waiting';
      await sleep(wait, this.sleeper);
    }
  }

  /** Send a command. Throws `NotConnectedError` unless the socket is open (and, with `requireLive`, released). */
  send(frame: DiffFrame, requireLive = false): void {
    const t = this.transport;
    if (t === undefined || !t.isOpen || (requireLive && this.stateValue !== 'live')) {
      throw new NotConnectedError(this.socket, `send ${frame.aid}`);
    }
    t.send(frame);
  }

  /** Whether a command could be sent now. */
  canSend(requireLive = false): boolean {
    return this.transport?.isOpen === true && (!requireLive || this.stateValue === 'live');
  }

  /** Drop the current socket abruptly (tests and fault handling); the manager reconnects. */
  dropForTest(): void {
    this.transport?.destroy();
  }

  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.sleeper.cancelled = true;
    this.sleeper.wake?.();
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    const t = this.transport;
    this.transport = undefined;
    if (t?.isOpen) {
      await new Promise<void>((resolve) => {
        t.onClose(() => resolve());
        t.close();
        setTimeout(resolve, 2_000).unref();
      });
    }
  }

  /** Read through a method: the state changes across awaits, which flow narrowing cannot see. */
  private closedNow(): boolean {
    return this.stateValue === 'closed';
  }

  private async openOnce(resync: boolean): Promise<void> {
    this.stateValue = 'connecting';
    let token = await this.opts.tokens.accessToken();
    for (;;) {
      const t = new DiffTransport({
        url: this.opts.url,
        socket: this.socket,
        token,
        frameLog: this.opts.frameLog,
        onSchemaDrift: (d) => this.emitDrift({ path: d.path, expected: 'number', found: d.raw }),
        ...(this.opts.pingIntervalMs !== undefined ? { pingIntervalMs: this.opts.pingIntervalMs } : {}),
        ...(this.opts.pongTimeoutMs !== undefined ? { pongTimeoutMs: this.opts.pongTimeoutMs } : {}),
        ...(this.opts.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: this.opts.handshakeTimeoutMs } : {}),
      });
      // Listeners and the target store exist before the upgrade completes: a server may greet in the same tick as
      // the upgrade, and no frame may be lost.
      const scratch = resync ? new DiffStore() : undefined;
      scratch?.onSchemaDrift((d) => this.emitDrift(d));
      this.transport = t;
      this.scratch = scratch;
      t.onFrame((f) => this.onFrameReceived(t, f));
      t.onClose((c) => this.onTransportClosed(t, c));
      try {
        await t.connect();
        this.opts.tokens.onAuthorized();
      } catch (err) {
        if (this.transport === t) {
          this.transport = undefined;
          this.scratch = undefined;
        }
        if (err instanceof AuthError && err.status === 401) {
          // One refresh on a 401; a second 401 (or a static token) makes onUnauthorized throw AuthError.
          token = await this.opts.tokens.onUnauthorized(`${this.socket} WebSocket upgrade`);
          continue;
        }
        throw err;
      }
      if (this.closedNow()) {
        t.close();
        throw new ClosedError(`${this.socket} connect`);
      }
      this.stats.connects++;
      if (scratch !== undefined) {
        this.stateValue = 'syncing';
        this.resyncTimer = setTimeout(() => this.escapeResync(), this.opts.resyncTimeoutMs);
        this.resyncTimer.unref();
      } else {
        this.stateValue = 'live';
      }
      this.hooks.resend((f) => t.send(f));
      t.peek();
      // A greeting that already completed the scratch snapshot is released now.
      if (scratch !== undefined && this.scratch === scratch && this.hooks.isComplete(scratch.root)) this.release(false);
      return;
    }
  }

  private onFrameReceived(t: DiffTransport, f: DiffFrame): void {
    if (t !== this.transport) return;
    if (f.aid === 'rtn_data') {
      if (!Array.isArray(f.data)) throw new ProtocolError('rtn_data without a data array');
      const scratch = this.scratch;
      if (scratch !== undefined) {
        scratch.applyBatch(f.data);
        // While still connecting, completeness is checked once the state has been resent (see openOnce).
        if (this.stateValue === 'syncing' && this.hooks.isComplete(scratch.root)) this.release(false);
      } else {
        this.store.applyBatch(f.data);
      }
      return;
    }
    for (const l of this.frameListeners) l(f);
  }

  private release(forced: boolean): void {
    const scratch = this.scratch;
    if (scratch === undefined) return;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    this.scratch = undefined;
    this.stateValue = 'live';
    this.stats.resyncs++;
    this.store.releaseSnapshot(scratch.root);
    this.opts.backoff.reset();
    this.emitConnection(
      CONNECTION_CODES.reconnected,
      forced ? 'reconnected (resync released by timeout)' : 'reconnected',
    );
  }

  private escapeResync(): void {
    const scratch = this.scratch;
    if (scratch === undefined) return;
    this.stats.escapes++;
    if (this.hooks.onEscape?.(scratch.root) === false) {
      this.log.warn({ timeout_ms: this.opts.resyncTimeoutMs }, 'DIFF resync incomplete at its timeout; reconnecting');
      this.transport?.destroy(new DiffTimeoutError(`${this.socket} resync`, this.opts.resyncTimeoutMs));
      return;
    }
    this.log.warn({ timeout_ms: this.opts.resyncTimeoutMs }, 'DIFF resync incomplete at its timeout; releasing anyway');
    this.release(true);
  }

  private onTransportClosed(t: DiffTransport, c: CloseInfo): void {
    if (t !== this.transport || this.stateValue === 'connecting') return;
    this.transport = undefined;
    this.scratch = undefined;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    if (this.stateValue === 'closed' || this.stateValue === 'failed') return;
    this.emitConnection(
      CONNECTION_CODES.disconnected,
      `disconnected (code ${c.code}${c.abrupt ? ', abrupt' : ''}${c.error ? `: ${c.error.message}` : ''})`,
    );
    void this.reconnectLoop();
  }

  private async reconnectLoop(): Promise<void> {
    for (;;) {
      if (this.stateValue === 'closed' || this.stateValue === 'failed') return;
      const wait = this.opts.backoff.nextDelay();
      this.stateValue = 'waiting';
      this.emitConnection(CONNECTION_CODES.reconnecting, `reconnecting in ${Math.round(wait)} ms`);
      if (wait > 0) await sleep(wait, this.sleeper);
      if (this.sleeper.cancelled) return;
      try {
        await this.openOnce(true);
        return;
      } catch (err) {
        if (err instanceof AuthError) {
          this.fail(err);
          return;
        }
        if (err instanceof ClosedError) return;
        this.log.warn({ err: (err as Error).message }, 'DIFF reconnect failed');
      }
    }
  }

  private fail(err: DiffError): void {
    if (this.fatalError !== undefined) return;
    this.fatalError = err;
    this.stateValue = 'failed';
    for (const l of this.fatalListeners) l(err);
  }

  private emitConnection(code: number, message: string): void {
    if (this.everConnected || code === CONNECTION_CODES.connected) {
      for (const l of this.connListeners) l({ socket: this.socket, code, message });
    }
  }

  private emitDrift(d: Omit<SchemaDriftEvent, 'batch_seq'>): void {
    this.log.warn({ path: d.path, expected: d.expected }, 'DIFF schema drift');
    for (const l of this.driftListeners) l(d);
  }
}
