/**
 * Replay of frame logs (market-protocol §1.12).
 *
 * Store replay: feed a log's `recv` frames of one socket into a fresh store; the caller asserts the final tree and
 * the event sequence.
 *
 * Mock-server replay: serve a log on loopback (`/md` and `/td`, one connection each). For each socket the script is
 * played in order: a recorded `send` waits for the client's next non-peek frame and compares it structurally after
 * mapping generated ids (`chart_id`, `order_id`, `query_id`) by first appearance (a masked `"***"` password matches
 * any); a recorded `recv` is delivered — an `rtn_data` that answered a held peek at recording time only while the
 * live client has a peek outstanding, an unsolicited frame at once. Peeks are tracked, never matched one by one
 * (several peeks before a change count as one). A mismatch fails the replay with a structural diff.
 */
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { ProtocolError } from '#shared/errors/diff.ts';
import type { FrameLine, SocketKind } from './framelog.ts';
import { parseDiffJson } from './json.ts';
import { DiffStore, type UpdateEvent } from './store.ts';
import { parseFrame } from './transport.ts';

export interface StoreReplay {
  store: DiffStore;
  events: { batch_seq: number; paths: string[]; resync: boolean }[];
}

/** Feed every recorded `recv` rtn_data of `sock` into a fresh store. */
export function replayStore(lines: readonly FrameLine[], sock: SocketKind): StoreReplay {
  const store = new DiffStore();
  const events: StoreReplay['events'] = [];
  store.onUpdate((e: UpdateEvent) =>
    events.push({ batch_seq: e.batch_seq, paths: [...e.changes.paths].sort(), resync: e.resync }),
  );
  for (const line of lines) {
    if (line.sock !== sock || line.dir !== 'recv') continue;
    const f = parseFrame(line.raw);
    if (f.aid === 'rtn_data' && Array.isArray(f.data)) store.applyBatch(f.data);
  }
  return { store, events };
}

const GENERATED_ID_KEYS = new Set(['chart_id', 'order_id', 'query_id']);

/** Structural differences between a recorded and a live frame (`[]` = equal), with generated ids mapped. */
export function structuralDiff(
  recorded: unknown,
  live: unknown,
  ids: Map<string, string>,
  path = '',
  key?: string,
): string[] {
  if (key !== undefined && GENERATED_ID_KEYS.has(key) && typeof recorded === 'string' && typeof live === 'string') {
    const mapped = ids.get(recorded);
    if (mapped === undefined) {
      for (const v of ids.values()) if (v === live) return [`${path}: live id ${live} already stands for another id`];
      ids.set(recorded, live);
      return [];
    }
    return mapped === live ? [] : [`${path}: expected id ${mapped} (recorded ${recorded}), found ${live}`];
  }
  if (key === 'password' && recorded === '***') return [];
  if (typeof recorded !== typeof live) return [`${path || '/'}: expected ${show(recorded)}, found ${show(live)}`];
  if (typeof recorded !== 'object' || recorded === null || live === null) {
    return Object.is(recorded, live) ? [] : [`${path || '/'}: expected ${show(recorded)}, found ${show(live)}`];
  }
  if (Array.isArray(recorded) !== Array.isArray(live)) return [`${path || '/'}: array vs object`];
  const r = recorded as Record<string, unknown>;
  const l = live as Record<string, unknown>;
  const out: string[] = [];
  for (const k of new Set([...Object.keys(r), ...Object.keys(l)])) {
    const p = `${path}/${k}`;
    if (!Object.hasOwn(l, k)) out.push(`${p}: missing (expected ${show(r[k])})`);
    else if (!Object.hasOwn(r, k)) out.push(`${p}: unexpected ${show(l[k])}`);
    else out.push(...structuralDiff(r[k], l[k], ids, p, k));
  }
  return out;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
  return s === undefined ? String(v) : s.length > 120 ? `${s.slice(0, 120)}…` : s;
}

export interface MockServer {
  /** `ws://127.0.0.1:<port>/md` */
  mdUrl: string;
  /** `ws://127.0.0.1:<port>/td` */
  tdUrl: string;
  /** Resolves when every script was played to its end; rejects on the first mismatch. */
  done(sock: SocketKind): Promise<void>;
  /** Upgrade headers seen per socket (for header assertions). */
  headers: Partial<Record<SocketKind, Record<string, string | string[] | undefined>>>;
  /** Non-peek frames the client sent after its script ended. */
  extra: Record<SocketKind, string[]>;
  /** Drop a socket abruptly (no close frame). */
  drop(sock: SocketKind): void;
  close(): Promise<void>;
}

interface Script {
  lines: FrameLine[];
  done: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function makeScript(lines: FrameLine[]): Script {
  let resolve: () => void = () => {};
  let reject: (e: Error) => void = () => {};
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  done.catch(() => {});
  return { lines, done, resolve, reject };
}

/** Serve recorded frame logs on 127.0.0.1 (port 0 = free port). */
export async function startMockServer(
  lines: readonly FrameLine[],
  options: { port?: number } = {},
): Promise<MockServer> {
  const scripts: Record<SocketKind, Script> = {
    md: makeScript(lines.filter((l) => l.sock === 'md')),
    td: makeScript(lines.filter((l) => l.sock === 'td')),
  };
  const sockets: Partial<Record<SocketKind, WebSocket>> = {};
  const server: MockServer = {
    mdUrl: '',
    tdUrl: '',
    headers: {},
    extra: { md: [], td: [] },
    done: (sock) => scripts[sock].done,
    drop: (sock) => sockets[sock]?.terminate(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of Object.values(sockets)) ws?.terminate();
        wss.close(() => resolve());
      }),
  };
  const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as AddressInfo).port;
  server.mdUrl = `ws://127.0.0.1:${port}/md`;
  server.tdUrl = `ws://127.0.0.1:${port}/td`;
  wss.on('connection', (ws, req) => {
    const sock: SocketKind | undefined = req.url === '/md' ? 'md' : req.url === '/td' ? 'td' : undefined;
    if (sock === undefined || sockets[sock] !== undefined) {
      ws.close(1008, 'mock server: unknown path or second connection');
      return;
    }
    sockets[sock] = ws;
    server.headers[sock] = req.headers;
    play(ws, scripts[sock], server.extra[sock]);
  });
  return server;
}

function play(ws: WebSocket, script: Script, extra: string[]): void {
  const ids = new Map<string, string>();
  const inbox: string[] = [];
  let livePeek = false;
  let recordedPeek = false;
  let i = 0;
  let finished = false;
  let wake: (() => void) | undefined;
  const fail = (msg: string) => {
    if (finished) return;
    finished = true;
    script.reject(new ProtocolError(`mock replay: ${msg}`));
    ws.close(1011, 'replay mismatch');
  };
  ws.on('message', (data: Buffer) => {
    const text = data.toString('utf8');
    let aid: unknown;
    try {
      aid = (parseDiffJson(text) as { aid?: unknown }).aid;
    } catch {
      fail(`client sent malformed JSON: ${text.slice(0, 120)}`);
      return;
    }
    if (aid === 'peek_message') livePeek = true;
    else if (finished) extra.push(text);
    else inbox.push(text);
    wake?.();
  });
  ws.on('close', () => {
    if (!finished) fail(`client closed at script line ${i} of ${script.lines.length}`);
  });
  const step = (): void => {
    wake = undefined;
    while (!finished && i < script.lines.length) {
      const line = script.lines[i] as FrameLine;
      if (line.dir === 'send') {
        const rec = parseDiffJson(line.raw) as { aid?: unknown };
        if (rec.aid === 'peek_message') {
          recordedPeek = true;
          i++;
          continue;
        }
        const next = inbox.shift();
        if (next === undefined) {
          wake = step;
          return;
        }
        const diff = structuralDiff(rec, parseDiffJson(next), ids);
        if (diff.length > 0) {
          fail(`send #${i} differs from the recording:\n  ${diff.join('\n  ')}`);
          return;
        }
        i++;
        continue;
      }
      const aid = (parseDiffJson(line.raw) as { aid?: unknown }).aid;
      const solicited = aid === 'rtn_data' && recordedPeek;
      if (solicited && !livePeek) {
        wake = step;
        return;
      }
      let raw = line.raw;
      for (const [recorded, live] of ids) if (recorded !== live) raw = raw.split(recorded).join(live);
      ws.send(raw);
      if (solicited) {
        livePeek = false;
        recordedPeek = false;
      }
      i++;
    }
    if (!finished && i >= script.lines.length) {
      finished = true;
      for (const t of inbox) extra.push(t);
      script.resolve();
    }
  };
  step();
}
