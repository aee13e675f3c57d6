/**
 * Live updates (control-chain §7): ONE WebSocket per tab to `/ws` (same origin, so the session cookie travels),
 * subscribed to the topics the page registered. Envelopes `{v:1, topic, type, seq, ts, payload}` carry complete
 * payloads and are applied to the DOM the server rendered; `seq` is tracked per topic and a gap makes that topic
 * refetch over REST. `system.warm_path` (sent to every client) drives the warm-path badge.
 *
 * Degraded mode: while the socket is not subscribed, or the warm path is degraded (per `system.warm_path` or
 * `/api/status`), the page polls REST — `/api/status` plus each topic's refetch — every 2 s while the tab is visible and
 * every 30 s in the background. A closed socket reconnects after 1 s doubling to 30 s, plus jitter. When updates come
 * back every topic refetches once, polling stops and (if the interruption was announced) the recovery is announced in
 * the `aria-live` toast region. `<body data-live="live|polling">` says which mode the page is in.
 */
import { ApiError, toast, toLogin } from './api.ts';
import { refreshStatus, setWarmPathBadge } from './status.ts';

export interface Envelope {
  v: 1;
  topic: string;
  type: string;
  seq: number;
  ts: string;
  payload: unknown;
}

/** Why a topic refetches: (re)subscribed or recovered, a `seq` gap, or a fallback poll tick. */
export type RefetchReason = 'resync' | 'gap' | 'poll';

export interface LiveTopic {
  topic: string;
  /** Apply one message to the page (payloads are complete). */
  apply(env: Envelope): void;
  /** Bring the page's view of this topic up to date over REST. */
  refetch(reason: RefetchReason): Promise<void>;
}

export const ACTIVE_POLL_MS = 2_000;
export const BACKGROUND_POLL_MS = 30_000;
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
/** Application-level ping (API Gateway's 10 min idle limit) and how long a pong may take before the socket is dropped. */
const PING_MS = 5 * 60_000;
const PONG_TIMEOUT_MS = 10_000;

/** Delay before reconnect attempt `failures + 1`: 1 s doubling to 30 s, plus up to 25 % jitter. */
export function reconnectDelayMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, failures));
  return Math.round(base * (1 + 0.25 * random()));
}

type Timer = ReturnType<typeof setTimeout>;

interface ServerFrame {
  v?: number;
  type?: string;
  topic?: string;
  seq?: number;
  denied?: { topic: string; code: string }[];
  code?: string;
  message?: string;
}

class LiveConnection {
  private ws: WebSocket | null = null;
  private subscribed = false;
  private polling = false;
  private everLive = false;
  private interrupted = false;
  private stopped = false;
  private failures = 0;
  private readonly seqs = new Map<string, number>();
  private readonly handlers = new Map<string, LiveTopic>();
  private pollTimer: Timer | undefined;
  private reconnectTimer: Timer | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pongTimer: Timer | undefined;

  constructor(
    topics: readonly LiveTopic[],
    private degraded: boolean,
  ) {
    for (const t of topics) this.handlers.set(t.topic, t);
  }

  start(): void {
    this.connect();
    this.updateMode();
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState !== 'visible' || this.stopped) return;
      if (this.polling) this.schedulePoll(0);
      if (!this.ws) this.connect();
    });
    window.addEventListener('pagehide', () => this.stop());
    window.addEventListener('pageshow', (ev) => {
      if (!ev.persisted) return; // restored from the back-forward cache: start over
      this.stopped = false;
      this.connect();
      this.updateMode();
    });
  }

  private connect(): void {
    clearTimeout(this.reconnectTimer);
    if (this.stopped || this.ws) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${window.location.protocol === 'https:' ? 'wss:' : 'ws:'}//${window.location.host}/ws`);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.seqs.clear(); // a new socket may come from a restarted server: seq starts over
      const topics = [...this.handlers.keys()];
      if (topics.length > 0) this.send({ type: 'subscribe', topics });
      else this.setSubscribed();
      this.startPing();
      // The hub announces the warm path on changes only: read where it stands now.
      void refreshStatus().then((d) => {
        if (d !== null) this.setDegraded(d);
      });
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = (ev) => this.onClose(ws, ev.code);
  }

  private onClose(ws: WebSocket, code: number): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.subscribed = false;
    this.stopPing();
    if (code === 4401) {
      toLogin(); // session expired or revoked
      return;
    }
    this.updateMode();
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), reconnectDelayMs(this.failures++));
  }

  private send(frame: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  private onMessage(data: unknown): void {
    let m: ServerFrame;
    try {
      m = JSON.parse(String(data)) as ServerFrame;
    } catch {
      return;
    }
    if (m.v === 1 && typeof m.topic === 'string' && typeof m.seq === 'number') {
      this.onEnvelope(m as Envelope);
      return;
    }
    if (m.type === 'subscribed') {
      if (m.denied && m.denied.length > 0) console.warn('live: topics denied', m.denied);
      this.setSubscribed();
    } else if (m.type === 'pong') {
      clearTimeout(this.pongTimer);
    } else if (m.type === 'error') {
      console.warn(`live: ${m.code ?? 'error'}: ${m.message ?? ''}`);
      // The AWS WebSocket API cannot close with 4401: its broadcaster says so in this frame, then closes.
      if (m.code === 'session_expired') {
        this.stop();
        toLogin();
      }
    }
  }

  private onEnvelope(env: Envelope): void {
    if (env.type === 'system.warm_path') {
      const p = (env.payload ?? {}) as { degraded?: unknown; reason?: unknown };
      const degraded = p.degraded === true;
      const wasLive = !this.polling;
      setWarmPathBadge(degraded, typeof p.reason === 'string' ? [p.reason] : []);
      this.setDegraded(degraded); // back to live resyncs every topic
      // Already live again (a status poll saw the recovery first): what was published before the hub's feed came
      // back never reached it, so read it now.
      if (!degraded && wasLive && !this.polling) for (const h of this.handlers.values()) void this.refetch(h, 'resync');
      return;
    }
    const h = this.handlers.get(env.topic);
    if (!h) return;
    const last = this.seqs.get(env.topic);
    if (last !== undefined && env.seq <= last) return; // already applied
    this.seqs.set(env.topic, env.seq);
    try {
      h.apply(env);
    } catch (err) {
      console.warn(`live: applying ${env.type} on ${env.topic} failed`, err);
    }
    if (last !== undefined && env.seq > last + 1) void this.refetch(h, 'gap');
  }

  private async refetch(h: LiveTopic, reason: RefetchReason): Promise<void> {
    try {
      await h.refetch(reason);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) toLogin();
      else console.warn(`live: refetching ${h.topic} failed`, err);
    }
  }

  private setSubscribed(): void {
    this.failures = 0; // only a socket that got as far as subscribing resets the backoff
    this.subscribed = true;
    this.updateMode();
  }

  private setDegraded(degraded: boolean): void {
    if (this.degraded === degraded) return;
    this.degraded = degraded;
    this.updateMode();
  }

  /** Poll while the socket is not subscribed or the warm path is degraded; otherwise live. */
  private updateMode(): void {
    const poll = !this.subscribed || this.degraded;
    if (poll === this.polling) return;
    this.polling = poll;
    document.body.dataset.live = poll ? 'polling' : 'live';
    if (poll) {
      this.schedulePoll();
      return;
    }
    clearTimeout(this.pollTimer);
    this.everLive = true;
    if (this.interrupted) {
      this.interrupted = false;
      toast('Live updates are back.');
    }
    for (const h of this.handlers.values()) void this.refetch(h, 'resync');
  }

  /** Next poll `ms` from now, or one interval after `since` (a tick's start: ticks keep their rate however long they take). */
  private schedulePoll(ms?: number, since = Date.now()): void {
    clearTimeout(this.pollTimer);
    if (!this.polling || this.stopped) return;
    const interval = document.visibilityState === 'visible' ? ACTIVE_POLL_MS : BACKGROUND_POLL_MS;
    this.pollTimer = setTimeout(() => void this.pollOnce(), ms ?? Math.max(0, since + interval - Date.now()));
  }

  private async pollOnce(): Promise<void> {
    if (!this.polling || this.stopped) return;
    const started = Date.now();
    if (this.everLive && !this.interrupted) {
      this.interrupted = true;
      toast('Live updates interrupted; refreshing every 2 s until they are back.');
    }
    const degraded = await refreshStatus();
    if (degraded !== null) this.setDegraded(degraded); // may end polling (and resync)
    if (this.polling) await Promise.all([...this.handlers.values()].map((h) => this.refetch(h, 'poll')));
    this.schedulePoll(undefined, started);
  }

  private startPing(): void {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      this.send({ type: 'ping' });
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => {
        // No pong: treat the socket as dead now rather than waiting for the close handshake.
        const ws = this.ws;
        if (!ws) return;
        ws.close();
        this.onClose(ws, 1006);
      }, PONG_TIMEOUT_MS);
    }, PING_MS);
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  private stop(): void {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    clearTimeout(this.reconnectTimer);
    this.stopPing();
    this.polling = false;
    this.subscribed = false;
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'page hidden');
  }
}

/** Open the tab's socket for these topics (none still carries `system.warm_path` for the badge). */
export function startLive(topics: readonly LiveTopic[], degraded: boolean): void {
  new LiveConnection(topics, degraded).start();
}

/** A CSS selector finding the same control in a fresh rendering: its id, else its link target. */
function focusSelector(el: Element): string | null {
  if (el.id) return `#${CSS.escape(el.id)}`;
  const href = el.getAttribute('href');
  return href ? `[href="${CSS.escape(href)}"]` : null;
}

/**
 * Refetch this page and replace the children of the elements with these ids by their fresh server rendering (the
 * server's JSX stays the one renderer). Unchanged elements are left alone; focus inside a replaced element moves to
 * the same control in the new content when it is still there.
 */
export async function swapFromServer(ids: readonly string[]): Promise<void> {
  const res = await fetch(window.location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
  if (res.redirected && new URL(res.url).pathname === '/login') {
    toLogin();
    return;
  }
  if (!res.ok) throw new Error(`page refresh answered HTTP ${res.status}`);
  const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
  for (const id of ids) {
    const cur = document.getElementById(id);
    const next = doc.getElementById(id);
    if (!cur || !next || cur.innerHTML === next.innerHTML) continue;
    const active = document.activeElement;
    const selector = active && cur.contains(active) ? focusSelector(active) : null;
    cur.replaceChildren(...Array.from(next.childNodes, (n) => document.importNode(n, true)));
    if (selector) cur.querySelector<HTMLElement>(selector)?.focus();
  }
}

/** Run `fn` at most once per `ms`, trailing: calls in between fold into one run at the end of the window. */
export function throttle(fn: () => Promise<void>, ms: number): () => void {
  let last = 0;
  let timer: Timer | undefined;
  const run = () => {
    timer = undefined;
    last = Date.now();
    fn().catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 401) toLogin();
      else console.warn('live: refresh failed', err);
    });
  };
  return () => {
    if (timer) return;
    timer = setTimeout(run, Math.max(0, last + ms - Date.now()));
  };
}
