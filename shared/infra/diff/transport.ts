/**
 * One DIFF WebSocket connection, md or td (market-protocol §1.4). A `DiffTransport` lives for one TCP connection:
 * reconnecting creates a new one (see `reconnect.ts`).
 *
 * Contracts:
 * - Upgrade headers: `Authorization: Bearer`, `User-Agent: ghtrader <version>`, `Accept: application/json`; TLS for
 *   wss; permessage-deflate on; handshake timeout 10 s; no frame-size cap (`maxPayload: 0` is "unlimited" in `ws`:
 *   a 10,000-row chart frame is several MB and the 10,000-row chart cap is the real bound).
 * - Keepalive: ping every 20 s; no pong within 10 s → the socket is destroyed and reported as an abrupt drop.
 * - Peek discipline: at most one `peek_message` outstanding. It is set when sent and cleared by any received
 *   `rtn_data`; after the frame's listeners ran (the batch is applied) the transport peeks again at once.
 * - `send` on a socket that is not open throws `NotConnectedError`: nothing is queued.
 * - A frame that is not valid JSON or not an object with a string `aid` is a protocol error: the socket is
 *   destroyed (the reconnect manager then resyncs from scratch) rather than risking a diverged mirror.
 */
import { WebSocket } from 'ws';
import {
  AuthError,
  DiffError,
  DiffHttpError,
  MaintenanceError,
  NotConnectedError,
  ProtocolError,
} from '#shared/errors/diff.ts';
import { USER_AGENT } from './config.ts';
import type { FrameLog, SocketKind } from './framelog.ts';
import { parseDiffJson, type SchemaDriftInfo, stringifyDiffJson } from './json.ts';

export interface DiffFrame {
  aid: string;
  [key: string]: unknown;
}

export interface CloseInfo {
  code: number;
  reason: string;
  /** True when the peer vanished without a close frame (or the pong deadline passed). */
  abrupt: boolean;
  /** Set when we closed it on purpose (`close()`), or after a protocol error. */
  error?: DiffError;
}

export interface TransportOptions {
  url: string;
  socket: SocketKind;
  token: string;
  handshakeTimeoutMs?: number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  frameLog?: FrameLog | undefined;
  onSchemaDrift?: (info: SchemaDriftInfo) => void;
}

/** Parse a frame's text; throws `ProtocolError` unless it is an object with a string `aid`. */
export function parseFrame(text: string, onSchemaDrift?: (info: SchemaDriftInfo) => void): DiffFrame {
  const v = parseDiffJson(text, onSchemaDrift ? { onSchemaDrift } : {});
  if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof (v as { aid?: unknown }).aid !== 'string') {
    throw new ProtocolError('a DIFF frame must be a JSON object with a string "aid"', { length: text.length });
  }
  return v as DiffFrame;
}

export class DiffTransport {
  readonly socket: SocketKind;
  private ws: WebSocket | undefined;
  private peekOutstanding = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private closedInfo: CloseInfo | undefined;
  private readonly frameListeners = new Set<(f: DiffFrame) => void>();
  private readonly closeListeners = new Set<(c: CloseInfo) => void>();
  private autoPeek = true;
  /** Counters for tests and diagnostics. */
  readonly stats = { peeksSent: 0, framesReceived: 0, rtnDataReceived: 0, bytesReceived: 0 };

  constructor(private readonly opts: TransportOptions) {
    this.socket = opts.socket;
  }

  get isOpen(): boolean {
    return this.ws !== undefined && this.ws.readyState === WebSocket.OPEN && this.closedInfo === undefined;
  }

  /** True while a peek_message is outstanding. */
  get peeking(): boolean {
    return this.peekOutstanding;
  }

  /**
   * Open the socket. Rejects `AuthError` on HTTP 401/403, `MaintenanceError` on HTTP 503, `DiffHttpError` on any
   * other refused upgrade, and the underlying network error otherwise.
   */
  connect(): Promise<void> {
    const headers = {
      Authorization: `Bearer ${this.opts.token}`,
      'User-Agent': USER_AGENT,
      Accept: 'application/json',
    };
    const ws = new WebSocket(this.opts.url, {
      headers,
      perMessageDeflate: true,
      handshakeTimeout: this.opts.handshakeTimeoutMs ?? 10_000,
      maxPayload: 0,
    });
    this.ws = ws;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      ws.on('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8').slice(0, 200);
          const status = res.statusCode ?? 0;
          if (status === 401 || status === 403)
            fail(new AuthError(`${this.socket} upgrade refused (HTTP ${status})`, status));
          else if (status === 503)
            fail(new MaintenanceError(`${this.socket} server in maintenance (HTTP 503: ${body})`));
          else fail(new DiffHttpError(`${this.socket} upgrade refused (HTTP ${status})`, status));
          ws.terminate();
        });
        res.on('error', (e) => fail(e));
      });
      ws.on('open', () => {
        settled = true;
        this.startKeepalive();
        resolve();
      });
      ws.on('error', (err) => {
        if (!settled) fail(err);
      });
      // DIFF frames are text; a binary frame is decoded as UTF-8 JSON all the same.
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
        const text = Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Array.isArray(data)
            ? Buffer.concat(data).toString('utf8')
            : Buffer.from(data).toString('utf8');
        this.onText(text);
      });
      ws.on('pong', () => {
        if (this.pongTimer) clearTimeout(this.pongTimer);
        this.pongTimer = undefined;
      });
      ws.on('close', (code: number, reason: Buffer) => {
        this.stopKeepalive();
        const info: CloseInfo = this.closedInfo ?? {
          code,
          reason: reason.toString('utf8'),
          abrupt: code === 1006,
        };
        this.closedInfo = info;
        this.peekOutstanding = false;
        if (!settled) fail(new DiffHttpError(`${this.socket} socket closed during the handshake (code ${code})`));
        for (const l of this.closeListeners) l(info);
      });
    });
  }

  /** Listen to every parsed frame (after the frame log). Listeners of `rtn_data` apply the batch synchronously. */
  onFrame(listener: (f: DiffFrame) => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  /** Called once when the socket closes, for whatever reason. */
  onClose(listener: (c: CloseInfo) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Send a command frame. Throws `NotConnectedError` when the socket is not open. */
  send(frame: DiffFrame): void {
    if (!this.isOpen || this.ws === undefined) throw new NotConnectedError(this.socket, `send ${frame.aid}`);
    const text = stringifyDiffJson(frame);
    this.opts.frameLog?.write(this.socket, 'send', text);
    this.ws.send(text);
    if (frame.aid === 'peek_message') {
      this.peekOutstanding = true;
      this.stats.peeksSent++;
    }
  }

  /** Send `peek_message` unless one is outstanding (never a second one). */
  peek(): void {
    if (this.peekOutstanding || !this.isOpen) return;
    this.send({ aid: 'peek_message' });
  }

  /** Stop (or resume) peeking automatically after each rtn_data; used by tests that drive the discipline. */
  setAutoPeek(on: boolean): void {
    this.autoPeek = on;
  }

  /** Close with a close frame. Idempotent. */
  close(code = 1000, reason = 'client closing'): void {
    if (this.ws === undefined) return;
    this.stopKeepalive();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      try {
        this.ws.close(code, reason);
      } catch {
        this.ws.terminate();
      }
      // A peer that never answers the close frame must not keep the socket alive.
      const ws = this.ws;
      setTimeout(() => ws.terminate(), 2_000).unref();
    }
  }

  /** Destroy the TCP socket without a close frame (used on keepalive or protocol failure). */
  destroy(error?: DiffError): void {
    if (this.ws === undefined) return;
    if (this.closedInfo === undefined) {
      this.closedInfo = {
        code: 1006,
        reason: error?.message ?? 'destroyed',
        abrupt: true,
        ...(error ? { error } : {}),
      };
    }
    this.ws.terminate();
  }

  private onText(text: string): void {
    this.stats.framesReceived++;
    this.stats.bytesReceived += text.length;
    this.opts.frameLog?.write(this.socket, 'recv', text);
    let frame: DiffFrame;
    try {
      frame = parseFrame(text, this.opts.onSchemaDrift);
    } catch (err) {
      this.destroy(err instanceof DiffError ? err : new ProtocolError(String(err)));
      return;
    }
    if (frame.aid === 'rtn_data') {
      this.stats.rtnDataReceived++;
      this.peekOutstanding = false;
    }
    try {
      for (const l of this.frameListeners) l(frame);
    } catch (err) {
      // A batch that cannot be applied leaves the mirror in doubt: drop the socket so the resync rebuilds it.
      this.destroy(
        err instanceof DiffError ? err : new ProtocolError(`applying a ${frame.aid} frame failed`, {}, { cause: err }),
      );
      return;
    }
    if (frame.aid === 'rtn_data' && this.autoPeek) this.peek();
  }

  private startKeepalive(): void {
    const interval = this.opts.pingIntervalMs ?? 20_000;
    const pongTimeout = this.opts.pongTimeoutMs ?? 10_000;
    this.pingTimer = setInterval(() => {
      if (!this.isOpen || this.ws === undefined || this.pongTimer !== undefined) return;
      this.ws.ping();
      this.pongTimer = setTimeout(() => {
        this.pongTimer = undefined;
        this.destroy(new ProtocolError(`${this.socket}: no pong within ${pongTimeout} ms`));
      }, pongTimeout);
      this.pongTimer.unref();
    }, interval);
    this.pingTimer.unref();
  }

  private stopKeepalive(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pingTimer = undefined;
    this.pongTimer = undefined;
  }
}
