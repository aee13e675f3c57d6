/**
 * The console's live market feed: per variety, the main contract (`KQ.m@SHFE.<var>` names it in
 * `underlying_symbol`), that contract's latest L5 quote, and a bounded window of its recent ticks. It holds one
 * market-data connection (opened through the injected `open`, the same discovery path production uses) and answers
 * `snapshot()` from memory, so a page or an API request never waits on the network.
 *
 * Contracts:
 * - Bounded memory: per variety one quote and a ring of `windowSize` points (oldest overwritten); the port streams it
 *   reads are drained as items arrive (their own bound, 10,000 quotes / 100,000 ticks, fails the stream, never trims).
 * - A roll (the alias names another contract) clears that variety's quote and window and re-subscribes the new
 *   underlying's quote and ticks; the old subscriptions are released. An alias naming a contract of another variety
 *   is a data-integrity error shown in the status, and nothing is subscribed for it.
 * - Failures are never swallowed: a failed open or a failed stream becomes `feed.state = 'error'` with the code and
 *   message, is logged, and the whole connection is reopened after a backoff (1 s doubling to 30 s: at most one
 *   attempt in flight, at most one every 30 s while it keeps failing). Notices (reconnecting, md_stall, data_error,
 *   schema_drift, no_data) show as `warn` with `stale` where the data may lag the market.
 */

import { CONTRACT_SPECS } from '../domain/market/contracts.ts';
import { formatCst } from '../domain/market/cst.ts';
import {
  BOOK_LEVELS,
  type FeedStatus,
  type MarketFeedSource,
  type MarketPoint,
  type MarketQuote,
  type MarketSnapshot,
} from '../domain/market/feed.ts';
import type {
  MarketDataSource,
  MarketNotice,
  Quote,
  QuoteEvent,
  Subscription,
  TickRow,
} from '../domain/market/ports.ts';
import { continuousSymbol, parseAnySymbol, parseContractSymbol } from '../domain/market/symbols.ts';
import { VARIETIES, type Variety } from '../domain/market/varieties.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import { describeError, GhtraderError } from '../errors/base.ts';
import type { Logger } from '../log.ts';

/** An open market-data connection: the two streams the feed reads, and how to let it go. */
export interface FeedConnection {
  source: Pick<MarketDataSource, 'subscribeQuotes' | 'subscribeTicks'>;
  close(): Promise<void>;
}

export interface MarketFeedOptions {
  /** Open (discover, connect, wait for readiness) a market-data connection; called again after every failure. */
  open: () => Promise<FeedConnection>;
  clock: Clock;
  log: Logger;
  varieties?: readonly Variety[];
  /** Points kept per variety (default 600, 10..10,000). */
  windowSize?: number;
  /** Ticks of history the tick subscription starts with (default = windowSize). */
  tickViewWidth?: number;
  /** First reopen delay; doubles per consecutive failure up to `retryMaxMs` (defaults 1 s and 30 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** How long a notice (data_error, schema_drift, no_data) keeps the status at `warn` after it arrived. */
const ISSUE_HOLD_MS = 60_000;
/** After a roll, how long ticks may arrive without a quote before the status says the quote is missing. */
const QUOTE_GRACE_MS = 5_000;
const CONNECTION_LOST = new Set([2019112910, 2019112911]);

/** A fixed-capacity ring of points: pushing into a full ring overwrites the oldest. */
export class PointRing {
  private readonly buf: (MarketPoint | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be ≥ 1, got ${capacity}`);
    this.buf = new Array<MarketPoint | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(p: MarketPoint): void {
    if (this.count < this.capacity) {
      this.buf[(this.head + this.count) % this.capacity] = p;
      this.count++;
    } else {
      this.buf[this.head] = p;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  clear(): void {
    this.buf.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  /** Oldest first. */
  toArray(): MarketPoint[] {
    const out: MarketPoint[] = [];
    for (let i = 0; i < this.count; i++) {
      const p = this.buf[(this.head + i) % this.capacity];
      if (p !== undefined) out.push(p);
    }
    return out;
  }
}

interface Issue {
  code: string;
  text: string;
  atMs: number;
}

interface VarietyState {
  variety: Variety;
  main: string | null;
  /** Wall ms of the last roll (the grace period for the first quote starts there). */
  rolledAtMs: number;
  quote: MarketQuote | null;
  /** The newest tick row of the main contract (the book shown while no quote arrives). */
  lastTick: TickRow | null;
  ring: PointRing;
  streams: { quotes: Subscription<QuoteEvent>; ticks: Subscription<TickRow> } | null;
  /** Wall ms of the last thing this variety saw (quote, tick, roll, notice); null before any. */
  changedAtMs: number | null;
  stalledMs: number | null;
  issue: Issue | null;
  /** Set when the alias names an impossible main; cleared by the next valid one. */
  integrity: Issue | null;
}

/** `quote.<side>_price` as exactly five levels (NaN where the provider sent fewer). */
function levels(values: readonly number[]): number[] {
  return Array.from({ length: BOOK_LEVELS }, (_, i) => values[i] ?? Number.NaN);
}

/** The panel's view of a port quote. */
export function marketQuoteOf(q: Quote): MarketQuote {
  return {
    symbol: q.symbol,
    datetime: q.datetime,
    datetime_ns: q.datetime_ns,
    last_price: q.last_price,
    bid_price: levels(q.bid_price),
    bid_volume: levels(q.bid_volume),
    ask_price: levels(q.ask_price),
    ask_volume: levels(q.ask_volume),
    volume: q.volume,
    open_interest: q.open_interest,
    highest: q.highest,
    lowest: q.lowest,
    pre_settlement: q.pre_settlement,
    price_decs: Number.isFinite(q.price_decs) ? q.price_decs : 0,
    source: 'quote',
  };
}

/** The panel's view of a tick row (the L5 snapshot at that instant), for when the provider sends no quote. */
export function marketQuoteOfTick(row: TickRow, priceDecs: number): MarketQuote {
  const r = row as unknown as Record<string, number>;
  const side = (name: string) => Array.from({ length: BOOK_LEVELS }, (_, i) => r[`${name}${i + 1}`] ?? Number.NaN);
  return {
    symbol: row.symbol,
    datetime: formatCst(row.datetime),
    datetime_ns: row.datetime,
    last_price: row.last_price,
    bid_price: side('bid_price'),
    bid_volume: side('bid_volume'),
    ask_price: side('ask_price'),
    ask_volume: side('ask_volume'),
    volume: row.volume,
    open_interest: row.open_interest,
    highest: row.highest,
    lowest: row.lowest,
    pre_settlement: Number.NaN,
    price_decs: priceDecs,
    source: 'tick',
  };
}

function varietyOfSymbol(symbol: string): Variety | null {
  try {
    const s = parseAnySymbol(symbol);
    return s.kind === 'contract' ? s.contract.variety : s.variety;
  } catch {
    // A symbol we cannot parse belongs to no variety of ours; the caller ignores it.
    return null;
  }
}

function errorCode(err: unknown): string {
  return err instanceof GhtraderError ? err.code : 'market_feed_failed';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The live market feed (see the file comment).
 *
 * @example
 * const feed = new MarketFeed({ open: async () => { const md = await client.openMarket(); return { source: md, close: () => client.close() }; }, clock: systemClock, log });
 * feed.start();
 * feed.snapshot('cu'); // { variety, main_contract, quote, points, feed }
 */
export class MarketFeed implements MarketFeedSource {
  private readonly states = new Map<Variety, VarietyState>();
  private readonly varieties: readonly Variety[];
  private readonly viewWidth: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private conn: FeedConnection | null = null;
  private aliasStream: Subscription<QuoteEvent> | null = null;
  /** Incremented on every (re)connect and teardown: pumps of an older generation stop touching state. */
  private generation = 0;
  private phase: 'idle' | 'connecting' | 'live' | 'waiting_retry' | 'closed' = 'idle';
  private failure: (Issue & { attempt: number; retryAtMs: number | null }) | null = null;
  private consecutiveFailures = 0;
  private linkLost: Issue | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Streams closed on purpose (rolls, teardown): their loops end quietly. */
  private readonly retired = new WeakSet<object>();
  private stopping: Promise<void> | null = null;

  constructor(private readonly opts: MarketFeedOptions) {
    this.varieties = opts.varieties ?? VARIETIES;
    const size = opts.windowSize ?? 600;
    if (!Number.isInteger(size) || size < 10 || size > 10_000) {
      throw new RangeError(`windowSize must be an integer in [10, 10000], got ${size}`);
    }
    this.viewWidth = opts.tickViewWidth ?? size;
    this.retryBaseMs = opts.retryBaseMs ?? 1_000;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
    for (const v of this.varieties) {
      this.states.set(v, {
        variety: v,
        main: null,
        rolledAtMs: 0,
        quote: null,
        lastTick: null,
        ring: new PointRing(size),
        streams: null,
        changedAtMs: null,
        stalledMs: null,
        issue: null,
        integrity: null,
      });
    }
  }

  /** Connect in the background; the status says `unknown` ("connecting") until the first answer. */
  start(): void {
    if (this.phase !== 'idle') return;
    void this.connect();
  }

  snapshot(variety: Variety): MarketSnapshot {
    const st = this.states.get(variety);
    if (!st) {
      return {
        variety,
        main_contract: null,
        quote: null,
        points: [],
        feed: {
          state: 'empty',
          text: `this market feed does not carry ${variety}`,
          error: '',
          updated_at: '',
          stale: false,
        },
      };
    }
    return {
      variety,
      main_contract: st.main,
      quote: st.quote ?? (st.lastTick ? marketQuoteOfTick(st.lastTick, CONTRACT_SPECS[st.variety].price_decs) : null),
      points: st.ring.toArray(),
      feed: this.statusOf(st),
    };
  }

  /**
   * Release every subscription and the connection; idempotent. It does not wait for an open still in flight (that
   * could take the source's whole readiness timeout): such a connection is closed as soon as its open resolves.
   */
  close(): Promise<void> {
    this.stopping ??= (async () => {
      this.phase = 'closed';
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      await this.teardown();
    })();
    return this.stopping;
  }

  // ---- connection lifecycle ----------------------------------------------------------------------------------

  /** A method, not a field read, so the phase is re-read after an await. */
  private isClosed(): boolean {
    return this.phase === 'closed';
  }

  private async connect(): Promise<void> {
    if (this.phase === 'closed') return;
    this.phase = 'connecting';
    const gen = ++this.generation;
    let conn: FeedConnection;
    try {
      conn = await this.opts.open();
    } catch (err) {
      if (this.isClosed() || gen !== this.generation) return;
      this.fail(err, 'open');
      return;
    }
    if (this.isClosed() || gen !== this.generation) {
      await conn.close().catch((err: unknown) => this.logCloseError(err, 'connection'));
      return;
    }
    this.conn = conn;
    this.phase = 'live';
    this.linkLost = null;
    try {
      const aliases = conn.source.subscribeQuotes(this.varieties.map((v) => continuousSymbol(v)));
      this.aliasStream = aliases;
      aliases.onNotice((n) => this.onNotice(n));
      this.pump(gen, aliases, 'main-contract quotes', (e) => this.onAliasQuote(gen, e));
    } catch (err) {
      this.fail(err, 'subscribe');
    }
  }

  /** A stream or the open failed: show it, drop the connection, reopen after the backoff. */
  private fail(err: unknown, during: string): void {
    if (this.phase === 'closed') return;
    this.generation++;
    this.consecutiveFailures++;
    const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(this.consecutiveFailures - 1, 16));
    const now = this.opts.clock.nowMs();
    this.failure = {
      code: errorCode(err),
      text: `${during}: ${errorText(err)}`,
      atMs: now,
      attempt: this.consecutiveFailures,
      retryAtMs: now + delay,
    };
    this.opts.log.error(
      { err: describeError(err), during, attempt: this.consecutiveFailures, retry_in_ms: delay },
      'market_feed.failed',
    );
    this.phase = 'waiting_retry';
    void this.teardown();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  /** Close every stream and the connection; state (main, quote, window) stays for the snapshot, marked stale. */
  private async teardown(): Promise<void> {
    const closing: Promise<void>[] = [];
    const retire = (s: Subscription<unknown> | null) => {
      if (!s) return;
      this.retired.add(s);
      closing.push(s.close().catch((err: unknown) => this.logCloseError(err, 'subscription')));
    };
    retire(this.aliasStream);
    this.aliasStream = null;
    for (const st of this.states.values()) {
      retire(st.streams?.quotes ?? null);
      retire(st.streams?.ticks ?? null);
      st.streams = null;
    }
    const conn = this.conn;
    this.conn = null;
    await Promise.all(closing);
    if (conn) await conn.close().catch((err: unknown) => this.logCloseError(err, 'connection'));
  }

  private logCloseError(err: unknown, what: string): void {
    this.opts.log.warn({ err: describeError(err), what }, 'market_feed.close_failed');
  }

  /** Drain a stream into `onItem`; a failure or an unexpected end fails the feed (this generation only). */
  private pump<T>(gen: number, stream: Subscription<T>, what: string, onItem: (item: T) => void): void {
    void (async () => {
      try {
        for await (const item of stream) {
          if (gen !== this.generation) return;
          onItem(item);
        }
        if (gen === this.generation && !this.retired.has(stream) && this.phase !== 'closed') {
          throw new Error(`the ${what} stream ended without being closed`);
        }
      } catch (err) {
        if (gen === this.generation && this.phase !== 'closed') this.fail(err, what);
      }
    })();
  }

  // ---- events ------------------------------------------------------------------------------------------------

  private onAliasQuote(gen: number, e: QuoteEvent): void {
    const v = varietyOfSymbol(e.symbol);
    const st = v ? this.states.get(v) : undefined;
    if (!st) return;
    this.consecutiveFailures = 0;
    this.failure = null;
    const underlying = e.quote.underlying_symbol;
    if (underlying === '' || underlying === st.main) return;
    let ok = false;
    try {
      ok = parseContractSymbol(underlying).variety === st.variety;
    } catch {
      // Not a contract symbol at all: the same integrity error as a contract of another variety (below).
    }
    const now = this.opts.clock.nowMs();
    if (!ok) {
      st.integrity = {
        code: 'main_contract_invalid',
        text: `${e.symbol} names ${JSON.stringify(underlying)} as its main contract, which is not a ${st.variety} contract`,
        atMs: now,
      };
      st.changedAtMs = now;
      this.opts.log.error({ alias: e.symbol, underlying }, 'market_feed.main_contract_invalid');
      return;
    }
    st.integrity = null;
    this.roll(gen, st, underlying);
  }

  private roll(gen: number, st: VarietyState, main: string): void {
    const conn = this.conn;
    if (!conn) return;
    const previous = st.main;
    const old = st.streams;
    if (old) {
      for (const s of [old.quotes, old.ticks]) {
        this.retired.add(s);
        s.close().catch((err: unknown) => this.logCloseError(err, 'subscription'));
      }
    }
    st.main = main;
    st.quote = null;
    st.lastTick = null;
    st.ring.clear();
    st.stalledMs = null;
    st.changedAtMs = this.opts.clock.nowMs();
    st.rolledAtMs = st.changedAtMs;
    const quotes = conn.source.subscribeQuotes([main]);
    const ticks = conn.source.subscribeTicks(main, this.viewWidth);
    st.streams = { quotes, ticks };
    ticks.onNotice((n) => this.onNotice(n));
    this.pump(gen, quotes, `${main} quotes`, (e) => {
      st.quote = marketQuoteOf(e.quote);
      st.stalledMs = null;
      st.changedAtMs = this.opts.clock.nowMs();
    });
    this.pump(gen, ticks, `${main} ticks`, (row) => {
      st.ring.push([row.datetime, row.last_price, row.bid_price1, row.ask_price1, row.volume]);
      st.lastTick = row;
      // Ticks are live market data too: a quote-only silence while they flow is "quote missing", not a stall.
      st.stalledMs = null;
      st.changedAtMs = this.opts.clock.nowMs();
    });
    this.opts.log.info({ variety: st.variety, main, previous }, 'market_feed.main_contract');
  }

  private onNotice(n: MarketNotice): void {
    const now = this.opts.clock.nowMs();
    switch (n.kind) {
      case 'connection':
        if (n.socket !== 'md') return;
        this.linkLost = CONNECTION_LOST.has(n.code) ? { code: 'md_reconnecting', text: n.message, atMs: now } : null;
        for (const st of this.states.values()) st.changedAtMs = now;
        return;
      case 'md_stall':
        for (const s of n.symbols) {
          const v = varietyOfSymbol(s);
          const st = v ? this.states.get(v) : undefined;
          if (st) {
            st.stalledMs = n.silent_ms;
            st.changedAtMs = now;
          }
        }
        return;
      case 'data_error':
      case 'no_data': {
        const st = this.stateOf(n.symbol);
        if (!st || n.symbol !== st.main) return;
        st.issue =
          n.kind === 'data_error'
            ? { code: 'data_error', text: `tick ${n.id} of ${n.symbol} refused: ${n.reason}`, atMs: now }
            : { code: 'no_data', text: `the server has no tick data for ${n.symbol}`, atMs: now };
        st.changedAtMs = now;
        this.opts.log.warn({ notice: n }, 'market_feed.notice');
        return;
      }
      case 'schema_drift':
        for (const st of this.states.values()) {
          st.issue = { code: 'schema_drift', text: `${n.path}: expected ${n.expected}, found ${n.found}`, atMs: now };
        }
        this.opts.log.warn({ notice: n }, 'market_feed.notice');
        return;
    }
  }

  private stateOf(symbol: string): VarietyState | undefined {
    const v = varietyOfSymbol(symbol);
    return v ? this.states.get(v) : undefined;
  }

  // ---- status ------------------------------------------------------------------------------------------------

  private statusOf(st: VarietyState): FeedStatus {
    const now = this.opts.clock.nowMs();
    const updated = st.changedAtMs ?? this.failure?.atMs ?? null;
    const base = { updated_at: updated === null ? '' : isoUtc(updated) };
    const hasData = st.quote !== null || st.ring.size > 0;
    if (this.phase === 'closed') {
      return { ...base, state: 'unknown', text: 'the market feed is stopped', error: '', stale: hasData };
    }
    if (this.failure && this.phase !== 'live') {
      const f = this.failure;
      const retry =
        f.retryAtMs === null
          ? ''
          : `; retry ${f.attempt + 1} in ${Math.max(0, Math.ceil((f.retryAtMs - now) / 1000))} s`;
      return { ...base, state: 'error', text: `market feed failed (${f.text})${retry}`, error: f.code, stale: true };
    }
    if (this.phase !== 'live') {
      return { ...base, state: 'unknown', text: 'connecting to the market-data source', error: '', stale: hasData };
    }
    if (st.integrity)
      return { ...base, state: 'error', text: st.integrity.text, error: st.integrity.code, stale: true };
    if (this.linkLost) {
      return {
        ...base,
        state: 'warn',
        text: `market-data connection lost (${this.linkLost.text}); reconnecting`,
        error: this.linkLost.code,
        stale: true,
      };
    }
    if (st.stalledMs !== null) {
      return {
        ...base,
        state: 'warn',
        text: `no quote for ${Math.round(st.stalledMs / 1000)} s inside a trading session`,
        error: 'md_stall',
        stale: true,
      };
    }
    if (st.main === null) {
      return {
        ...base,
        state: 'empty',
        text: `waiting for ${continuousSymbol(st.variety)} to name its main contract`,
        error: '',
        stale: false,
      };
    }
    if (st.quote === null && (st.lastTick === null || now - st.rolledAtMs < QUOTE_GRACE_MS)) {
      return { ...base, state: 'empty', text: `waiting for the first quote of ${st.main}`, error: '', stale: false };
    }
    if (st.quote === null) {
      return {
        ...base,
        state: 'warn',
        text: `the server sends no quote for ${st.main}; last price and book come from its latest tick (no pre-settlement)`,
        error: 'quote_missing',
        stale: false,
      };
    }
    if (st.issue && now - st.issue.atMs < ISSUE_HOLD_MS) {
      return { ...base, state: 'warn', text: st.issue.text, error: st.issue.code, stale: false };
    }
    return {
      ...base,
      state: 'ok',
      text: `${st.main} live; last quote ${st.quote.datetime || 'not yet timed'} CST`,
      error: '',
      stale: false,
    };
  }
}
