/**
 * One DIFF WebSocket connection of the simulator (md or trade): pending patches, the held peek, and counters.
 *
 * Backpressure contract: the server sends `rtn_data` only in answer to a `peek_message` (one frame per peek; several
 * peeks while one is held count as one), except unsolicited frames (greeting, notifies pushed by faults or
 * warnings, `qry_settlement_info` replies). Changes made while no peek is held accumulate, coalesced, in
 * `PendingPatches`; nothing is dropped. A `delay` fault holds each outgoing frame for N ms, preserving order.
 */
import type { WebSocket } from 'ws';
import { ProtocolError } from '#shared/errors/diff.ts';
import { stringifyDiffJson } from '#shared/infra/diff/json.ts';
import type { Logger } from '#shared/log.ts';
import { type Patch, PendingPatches, type PushOptions } from './pending-patches.ts';

export type SocketKind = 'md' | 'trade';

export interface ConnectionStats {
  id: number;
  kind: SocketKind;
  opened_at: string;
  user: string | null;
  peeks: number;
  /** Peeks that arrived while one was already held (each counted once more here). */
  peeks_while_held: number;
  subscriptions: number;
  live_charts: number;
  frames_sent: number;
  bytes_sent: number;
  unsolicited_frames: number;
}

export interface ConnectionEnv {
  log: Logger;
  /** Extra hold per outgoing frame from an active `delay` fault (ms; 0 = none). */
  delayMs: (kind: SocketKind) => number;
}

let nextConnectionId = 1;

export abstract class DiffConnection {
  readonly id = nextConnectionId++;
  abstract readonly kind: SocketKind;
  protected readonly pending = new PendingPatches();
  protected peekHeld = false;
  /** A patch carrying an injected bare-NaN value is pending (the `NaN-token` fault). */
  protected nanTokenPending = false;
  private flushQueued = false;
  private sendChain: Promise<void> = Promise.resolve();
  private closed = false;
  readonly openedAt = new Date().toISOString();
  protected counters = { peeks: 0, peeksWhileHeld: 0, frames: 0, bytes: 0, unsolicited: 0 };

  constructor(
    protected readonly ws: WebSocket,
    protected readonly env: ConnectionEnv,
  ) {
    ws.on('close', () => {
      this.closed = true;
      this.onClose();
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === this.ws.OPEN;
  }

  protected abstract onClose(): void;

  /**
   * Queue a patch for the next `rtn_data`; flushes on the next microtask when a peek is held. `opts`: see
   * `PendingPatches.push`.
   */
  push(patch: Patch, nanToken = false, opts: PushOptions = {}): void {
    this.pending.push(patch, opts);
    if (nanToken) this.nanTokenPending = true;
    this.scheduleFlush();
  }

  protected scheduleFlush(): void {
    if (!this.peekHeld || this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /** Hook run just before pending patches go out (the chart engine adds its next chunk). */
  protected beforeFlush(): void {}

  /** Answer the held peek with everything pending; keeps holding when nothing is. */
  flush(): void {
    if (!this.peekHeld || !this.isOpen) return;
    this.beforeFlush();
    if (this.pending.isEmpty) return;
    const finite = !this.pending.holdsNonFinite;
    const data = this.pending.take();
    const nan = this.nanTokenPending;
    this.nanTokenPending = false;
    this.peekHeld = false;
    this.sendFrame({ aid: 'rtn_data', data }, false, nan, finite);
  }

  /** A `peek_message` arrived. */
  protected notePeek(): void {
    this.counters.peeks += 1;
    if (this.peekHeld) this.counters.peeksWhileHeld += 1;
    this.peekHeld = true;
  }

  /**
   * Serialise and send one frame (after the `delay` fault's hold, in order). `knownFinite`: every number in the frame
   * was checked finite (pending patches track it), so it serialises in one native pass.
   */
  sendFrame(frame: Record<string, unknown>, unsolicited: boolean, nanToken = false, knownFinite = false): void {
    if (!this.isOpen) return;
    let text: string;
    try {
      text = stringifyDiffJson(frame, { nonFinite: nanToken ? 'token' : 'throw', knownFinite });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      // A NaN reached a frame without a fault asking for it: a generator or bookkeeping bug. Report it loudly and
      // send null (the client deletes the key) rather than a frame it cannot parse.
      this.env.log.error({ err, conn: this.id }, 'non-finite number in an outgoing DIFF frame; sent as null');
      text = stringifyDiffJson(frame, { nonFinite: 'null' });
    }
    this.counters.frames += 1;
    this.counters.bytes += Buffer.byteLength(text);
    if (unsolicited) this.counters.unsolicited += 1;
    const hold = this.env.delayMs(this.kind);
    if (hold <= 0) {
      this.sendChain = this.sendChain.then(() => this.rawSend(text));
      return;
    }
    this.sendChain = this.sendChain.then(
      () => new Promise<void>((resolve) => setTimeout(() => resolve(this.rawSend(text)), hold)),
    );
  }

  private rawSend(text: string): void {
    if (this.isOpen) this.ws.send(text);
  }

  /** Close with a close frame (`abrupt: false`) or destroy the TCP socket without one. */
  drop(abrupt: boolean, reason = 'dropped by the simulator'): void {
    if (abrupt) this.ws.terminate();
    else this.ws.close(1001, reason);
  }

  abstract stats(): ConnectionStats;

  protected baseStats(user: string | null, subscriptions: number, liveCharts: number): ConnectionStats {
    return {
      id: this.id,
      kind: this.kind,
      opened_at: this.openedAt,
      user,
      peeks: this.counters.peeks,
      peeks_while_held: this.counters.peeksWhileHeld,
      subscriptions,
      live_charts: liveCharts,
      frames_sent: this.counters.frames,
      bytes_sent: this.counters.bytes,
      unsolicited_frames: this.counters.unsolicited,
    };
  }
}
