/**
 * A raw DIFF client for the simulator's integration tests: one WebSocket, a merge-patch mirror of the server's
 * tree (the shared `applyMergePatch`), every received frame kept in order, and explicit peeks. It has no session
 * logic on purpose: the tests document the wire.
 */
import WebSocket from 'ws';
import { parseDiffJson, stringifyDiffJson } from '#shared/infra/diff/json.ts';
import { applyMergePatch } from '#shared/infra/diff/store.ts';

export type Tree = Record<string, unknown>;

export interface Frame {
  aid: string;
  data?: Tree[];
  [k: string]: unknown;
}

export class RawDiffClient {
  readonly frames: Frame[] = [];
  /** The exact text of every frame received, in order. */
  readonly raw: string[] = [];
  readonly tree: Tree = {};
  /** Peek again after every `rtn_data` (the client's peek discipline). */
  autoPeek = false;
  private waiters: (() => void)[] = [];
  closed = false;
  closeCode: number | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.raw.push(text);
      const frame = parseDiffJson(text) as Frame;
      this.frames.push(frame);
      if (frame.aid === 'rtn_data') {
        for (const p of frame.data ?? []) applyMergePatch(this.tree, p);
        if (this.autoPeek) this.peek();
      }
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async connect(url: string, token: string | null): Promise<RawDiffClient> {
    const ws = new WebSocket(url, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      perMessageDeflate: true,
    });
    const client = new RawDiffClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** The HTTP status of a refused upgrade (and its body), or null when the upgrade succeeded. */
  static async refusal(url: string, token: string | null): Promise<{ status: number; body: string } | null> {
    const ws = new WebSocket(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    return new Promise((resolve) => {
      ws.once('open', () => {
        ws.close();
        resolve(null);
      });
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.once('error', () => undefined);
    });
  }

  send(msg: Record<string, unknown>): void {
    this.ws.send(stringifyDiffJson(msg));
  }

  peek(): void {
    this.send({ aid: 'peek_message' });
  }

  /** Wait until `pred` holds (checked after every frame), or fail after `timeoutMs`. */
  async until<T>(pred: () => T | undefined | null | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const v = pred();
      if (v) return v;
      if (this.closed) throw new Error(`socket closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Every notify received so far, in arrival order. */
  notifies(): { id: string; code: number; level: string; content: string; type: string }[] {
    const out: { id: string; code: number; level: string; content: string; type: string }[] = [];
    for (const f of this.frames) {
      for (const p of f.data ?? []) {
        const n = p.notify as Record<string, Record<string, unknown>> | undefined;
        if (!n) continue;
        for (const [id, v] of Object.entries(n)) {
          if (v)
            out.push({
              id,
              code: Number(v.code),
              level: String(v.level),
              content: String(v.content),
              type: String(v.type),
            });
        }
      }
    }
    return out;
  }

  /** `tree[a][b]...` or undefined. */
  at(...path: string[]): unknown {
    let cur: unknown = this.tree;
    for (const k of path) {
      if (typeof cur !== 'object' || cur === null) return undefined;
      cur = (cur as Tree)[k];
    }
    return cur;
  }

  close(): void {
    this.ws.close();
  }
}
