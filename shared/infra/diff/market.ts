/**
 * The md side of the DIFF client (market-protocol §1.9): quote subscriptions (one union per connection), getQuote,
 * contract queries, set_chart handles, and the reconnect hooks that replay all of it. Tick download lives in
 * `download.ts`, the continuous mapping in `continuous.ts`; both use this class.
 *
 * Bounds: the subscription union only grows for the life of the connection (its wire form is warned about above
 * 100,000 characters); the contract cache holds one entry per symbol ever queried; pending queries are bounded by
 * their callers (each waits with a deadline and is dropped when answered or timed out).
 */
import { randomBytes } from 'node:crypto';
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import type { ContractInfo, MarketNotice, Quote } from '#shared/domain/market/ports.ts';
import { tradingDayOf } from '#shared/domain/market/sessions.ts';
import { parseAnySymbol } from '#shared/domain/market/symbols.ts';
import type { Variety } from '#shared/domain/market/varieties.ts';
import { type DiffError, NotConnectedError, ProtocolError, UnknownSymbolError } from '#shared/errors/diff.ts';
import { CalendarOutOfRangeError, SymbolParseError } from '#shared/errors/market.ts';
import { type Logger, silentLogger } from '#shared/log.ts';
import { type JwtClaims, requireFeature } from './auth.ts';
import { ChartHandle, type ChartRequest, chartReady, seriesPath, stateCovers } from './chart.ts';
import type { FrameLog } from './framelog.ts';
import { type Backoff, type ConnectionEvent, DiffConnection, type TokenSource } from './reconnect.ts';
import type { DiffFrame } from './transport.ts';
import { contractInfoView, isNode, quoteDatetimeNs, quoteView } from './views.ts';
import { waitForStore } from './wait.ts';

export type MarketTokens = TokenSource & { claims(): Promise<JwtClaims> };

export interface DiffMarketOptions {
  url: string;
  tokens: MarketTokens;
  backoff: Backoff;
  calendar: TradingCalendar;
  resyncTimeoutMs: number;
  readyTimeoutMs: number;
  stallMs: number;
  logger?: Logger;
  frameLog?: FrameLog | undefined;
  /** Wall clock (ms). */
  nowMs?: () => number;
  /** Random hex for generated ids (`GHT_q_<hex>`, `GHT_rt_<hex>`, `GHT_dl_<hex>`). */
  hexId?: () => string;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
}

/** The two `ins_query` shapes of §1.9. */
export type ContractFilter =
  | { instrument_id: string[] }
  | { class: string[]; exchange_id: string[]; product_id: string[]; expired?: boolean; timestamp?: bigint };

const FRAGMENTS =
  '... on basic { instrument_id exchange_id instrument_name class price_tick price_decs trading_time { day night } } ' +
  '... on tradeable { volume_multiple upper_limit lower_limit pre_close } ' +
  '... on future { expired product_id delivery_year delivery_month expire_datetime max_limit_order_volume ' +
  'min_limit_order_volume margin commission } ' +
  '... on derivative { underlying { edges { node { ... on basic { instrument_id } } } } }';

/** The GraphQL text and variables of a contract query (exactly the two shapes of §1.9). */
export function contractQuery(filter: ContractFilter): { query: string; variables: Record<string, unknown> } {
  if ('instrument_id' in filter) {
    return {
      query: `query ($instrument_id:[String]) {multi_symbol_info(instrument_id:$instrument_id) { ${FRAGMENTS} }}`,
      variables: { instrument_id: [...filter.instrument_id] },
    };
  }
  const defs = ['$class:[Class]', '$exchange_id:[String]', '$product_id:[String]'];
  const args = ['class:$class', 'exchange_id:$exchange_id', 'product_id:$product_id'];
  const variables: Record<string, unknown> = {
    class: [...filter.class],
    exchange_id: [...filter.exchange_id],
    product_id: [...filter.product_id],
  };
  if (filter.expired !== undefined) {
    defs.push('$expired:Boolean');
    args.push('expired:$expired');
    variables.expired = filter.expired;
  }
  if (filter.timestamp !== undefined) {
    defs.push('$timestamp:Int64');
    args.push('timestamp:$timestamp');
    variables.timestamp = filter.timestamp;
  }
  return {
    query: `query (${defs.join(',')}) {multi_symbol_info(${args.join(',')}) { ${FRAGMENTS} }}`,
    variables,
  };
}

const defaultHex = () => randomBytes(8).toString('hex');

export class DiffMarket {
  readonly conn: DiffConnection;
  readonly calendar: TradingCalendar;
  readonly log: Logger;
  private readonly union = new Set<string>();
  /** The ins_list text last sent (the server's echo of it is the §1.8 signal). */
  private sentInsList: string | undefined;
  readonly charts = new Map<string, ChartHandle>();
  private readonly pendingQueries = new Map<string, DiffFrame>();
  private readonly contracts = new Map<string, ContractInfo>();
  private readonly noticeListeners = new Set<(n: MarketNotice) => void>();
  private readonly lastQuotePatchMs = new Map<string, number>();
  private readonly stalled = new Set<string>();
  /** Newest quote instant seen and the wall time it arrived: the market clock between quotes (see marketNowNs). */
  private lastQuoteNs: bigint | undefined;
  private lastQuoteWallMs = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private fatal: DiffError | undefined;
  private readonly hex: () => string;
  private readonly nowMs: () => number;

  constructor(private readonly opts: DiffMarketOptions) {
    this.calendar = opts.calendar;
    this.log = (opts.logger ?? silentLogger()).child({ component: 'diff-md' });
    this.hex = opts.hexId ?? defaultHex;
    this.nowMs = opts.nowMs ?? Date.now;
    this.conn = new DiffConnection(
      {
        socket: 'md',
        url: opts.url,
        tokens: opts.tokens,
        backoff: opts.backoff,
        resyncTimeoutMs: opts.resyncTimeoutMs,
        logger: opts.logger,
        frameLog: opts.frameLog,
        nowMs: this.nowMs,
        ...(opts.pingIntervalMs !== undefined ? { pingIntervalMs: opts.pingIntervalMs } : {}),
        ...(opts.pongTimeoutMs !== undefined ? { pongTimeoutMs: opts.pongTimeoutMs } : {}),
      },
      {
        resend: (send) => this.resend(send),
        isComplete: (tree) => this.snapshotComplete(tree),
        onEscape: (tree) => this.markNoData(tree),
      },
    );
    this.conn.onFrame((f) => this.log.info({ aid: f.aid }, 'ignoring a non-rtn_data frame on md'));
    this.conn.onConnection((e: ConnectionEvent) =>
      this.emit({ kind: 'connection', code: e.code, socket: 'md', message: e.message }),
    );
    this.conn.onSchemaDrift((d) =>
      this.emit({ kind: 'schema_drift', path: d.path, expected: d.expected, found: String(d.found) }),
    );
    this.conn.onFatal((e) => {
      this.fatal = e;
    });
    this.conn.store.onUpdate((e) => {
      if (!e.changes.has('quotes')) return;
      const now = this.nowMs();
      for (const s of this.union) {
        if (e.changes.has(`quotes/${s}`)) {
          this.lastQuotePatchMs.set(s, now);
          this.stalled.delete(s);
          const ns = this.quoteNs(s);
          if (ns !== null && (this.lastQuoteNs === undefined || ns >= this.lastQuoteNs)) {
            this.lastQuoteNs = ns;
            this.lastQuoteWallMs = now;
          }
        }
      }
    });
  }

  /** Connect and wait for initial readiness (`mdhis_more_data == false`, 60 s). Requires the `futr` feature. */
  async start(): Promise<void> {
    requireFeature(await this.opts.tokens.claims(), 'futr');
    await this.conn.start(this.opts.readyTimeoutMs);
    await this.wait(() => (this.conn.store.get('mdhis_more_data') === false ? true : undefined), {
      timeoutMs: this.opts.readyTimeoutMs,
      what: 'md initial readiness (mdhis_more_data == false)',
    });
    this.startStallWatchdog();
  }

  onNotice(l: (n: MarketNotice) => void): () => void {
    this.noticeListeners.add(l);
    return () => this.noticeListeners.delete(l);
  }

  emit(n: MarketNotice): void {
    for (const l of this.noticeListeners) l(n);
  }

  /** Generated ids: `GHT_<kind>_<hex>`. */
  newId(kind: 'q' | 'rt' | 'dl'): string {
    return `GHT_${kind}_${this.hex()}`;
  }

  /** Wait for a store predicate; also rejects when the connection fails for good. */
  wait<T>(predicate: () => T | undefined, o: { timeoutMs: number; what: string; details?: Record<string, unknown> }) {
    return waitForStore(this.conn.store, predicate, {
      ...o,
      abort: (reject) => {
        if (this.fatal) {
          reject(this.fatal);
          return () => {};
        }
        return this.conn.onFatal(reject);
      },
    });
  }

  /** Send now when the socket is open; otherwise the state is replayed by the reconnect hook. */
  sendIfOpen(frame: DiffFrame): void {
    if (this.conn.canSend()) this.conn.send(frame);
  }

  // ---- quotes ------------------------------------------------------------------------------------------------------

  /**
   * Add symbols to the connection's subscription union; when it grows, send the full sorted list (each send replaces
   * the server's list). Symbols are case-sensitive (`SHFE.cu2502`, `KQ.m@SHFE.cu`).
   */
  subscribeQuote(symbols: readonly string[]): void {
    const before = this.union.size;
    for (const s of symbols) {
      if (s === '' || s.includes(',')) throw new ProtocolError(`not a symbol: ${JSON.stringify(s)}`);
      this.union.add(s);
    }
    if (this.union.size === before) return;
    const frame = this.subscribeFrame();
    this.sendIfOpen(frame);
  }

  /** The current subscription union, sorted. */
  subscriptions(): string[] {
    return [...this.union].sort();
  }

  private subscribeFrame(): DiffFrame {
    const insList = this.subscriptions().join(',');
    if (insList.length > 100_000)
      this.log.warn({ length: insList.length }, 'subscribe_quote ins_list above 100,000 characters');
    this.sentInsList = insList;
    return { aid: 'subscribe_quote', ins_list: insList };
  }

  /** The quote of `symbol` as the mirror holds it now (static fields completed from the contract cache). */
  quote(symbol: string): Quote | undefined {
    const node = this.conn.store.get(`quotes/${symbol}`);
    return isNode(node) ? quoteView(symbol, node, this.contracts.get(symbol)) : undefined;
  }

  /** Contract information known for `symbol` (from `ins_query` answers). */
  contract(symbol: string): ContractInfo | undefined {
    return this.contracts.get(symbol);
  }

  /**
   * Subscribe and resolve when the quote has `price_tick` (fetched by ins_query when absent) and a live `datetime`.
   * Rejects `UnknownSymbolError` when the server echoed the list without a quote for it, `DiffTimeoutError` otherwise.
   */
  async getQuote(symbol: string, options: { timeoutMs?: number } = {}): Promise<Quote> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    requireFeature(await this.opts.tokens.claims(), 'futr');
    this.subscribeQuote([symbol]);
    const node = this.conn.store.get(`quotes/${symbol}`);
    if (!this.contracts.has(symbol) && !(isNode(node) && typeof node.price_tick === 'number')) {
      // Contract info in the background; a failure is logged, the quote wait below decides.
      this.queryContracts({ instrument_id: [symbol] }, { timeoutMs }).catch((err: unknown) =>
        this.log.warn({ symbol, err: (err as Error).message }, 'contract query for getQuote failed'),
      );
    }
    return this.wait(
      () => {
        const q = this.quote(symbol);
        if (q === undefined) {
          const echoed = this.conn.store.get('ins_list');
          if (typeof echoed === 'string' && echoed === this.sentInsList && echoed.split(',').includes(symbol)) {
            throw new UnknownSymbolError(symbol);
          }
          return undefined;
        }
        return Number.isFinite(q.price_tick) && q.datetime !== '' ? q : undefined;
      },
      { timeoutMs, what: `getQuote(${symbol})`, details: { symbol } },
    );
  }

  // ---- contracts ---------------------------------------------------------------------------------------------------

  /** Run one `ins_query` and release it; the answer also fills the contract cache. */
  async queryContracts(filter: ContractFilter, options: { timeoutMs?: number } = {}): Promise<ContractInfo[]> {
    const { query, variables } = contractQuery(filter);
    const queryId = this.newId('q');
    const frame: DiffFrame = { aid: 'ins_query', query_id: queryId, query, variables };
    if (query.length > 50_000) this.log.warn({ length: query.length }, 'ins_query text above 50,000 characters');
    if (!this.conn.canSend()) throw new NotConnectedError('md', 'ins_query');
    this.pendingQueries.set(queryId, frame);
    try {
      this.conn.send(frame);
      const answer = await this.wait(
        () => {
          const n = this.conn.store.get(`symbols/${queryId}`);
          return isNode(n) && n.query !== undefined ? n : undefined;
        },
        { timeoutMs: options.timeoutMs ?? this.opts.readyTimeoutMs, what: `ins_query ${queryId}` },
      );
      if (answer.error !== undefined && answer.error !== null) {
        throw new ProtocolError(`ins_query failed: ${JSON.stringify(answer.error)}`, { query_id: queryId, variables });
      }
      const result = isNode(answer.result) ? answer.result.multi_symbol_info : undefined;
      const entries = Array.isArray(result) ? result.filter(isNode) : [];
      const infos = entries.map(contractInfoView);
      for (const i of infos) if (i.symbol !== '') this.contracts.set(i.symbol, i);
      return infos;
    } finally {
      this.pendingQueries.delete(queryId);
      this.sendIfOpen({ aid: 'ins_query', query_id: queryId, query: '' });
    }
  }

  // ---- charts ------------------------------------------------------------------------------------------------------

  /** Create a chart (`GHT_rt_<hex>` live, `GHT_dl_<hex>` download) and return its handle. */
  setChart(req: ChartRequest, kind: 'rt' | 'dl' = 'rt'): ChartHandle {
    return new ChartHandle(this.newId(kind), req, this.conn.store, {
      sendIfOpen: (f) => this.sendIfOpen(f),
      registry: this.charts,
    });
  }

  // ---- reconnect hooks ---------------------------------------------------------------------------------------------

  private resend(send: (f: DiffFrame) => void): void {
    if (this.union.size > 0) send(this.subscribeFrame());
    for (const chart of this.charts.values()) {
      chart.noData = false;
      send(chart.frame);
    }
    for (const q of this.pendingQueries.values()) send(q);
  }

  /** §1.11 md completeness over the scratch tree. */
  private snapshotComplete(tree: Record<string, unknown>): boolean {
    if (tree.mdhis_more_data !== false) return false;
    if (this.union.size > 0 && tree.ins_list !== this.sentInsList) return false;
    for (const chart of this.charts.values()) {
      const node = getPath(tree, `charts/${chart.chartId}`);
      if (!isNode(node) || !stateCovers(node.state, chart.frame) || !chartReady(node)) return false;
      if (node.left_id === -1 || node.right_id === -1) return false;
      const lastId = getPath(tree, `${seriesPath(chart.request)}/last_id`);
      if (typeof lastId !== 'number' || lastId === -1) return false;
    }
    return true;
  }

  /** Resync timed out: charts whose symbol still has no data are marked `no_data`; the release goes ahead. */
  private markNoData(tree: Record<string, unknown>): undefined {
    for (const chart of this.charts.values()) {
      const node = getPath(tree, `charts/${chart.chartId}`);
      const lastId = getPath(tree, `${seriesPath(chart.request)}/last_id`);
      const complete =
        isNode(node) &&
        stateCovers(node.state, chart.frame) &&
        node.left_id !== -1 &&
        typeof lastId === 'number' &&
        lastId !== -1;
      if (!complete) {
        chart.noData = true;
        this.log.warn(
          { chart_id: chart.chartId, symbol: chart.request.symbol },
          'chart marked no_data after resync timeout',
        );
        this.emit({ kind: 'no_data', chart_id: chart.chartId, symbol: chart.request.symbol });
      }
    }
  }

  // ---- stall watchdog ----------------------------------------------------------------------------------------------

  /**
   * The market's "now" in ns: the replay clock when the server sends one; else the newest quote instant plus the
   * wall time since it arrived (a simulator's accelerated clock is not the wall clock; against Shinny this tracks
   * exchange time); else the wall clock.
   */
  marketNowNs(): bigint {
    const dt = this.conn.store.get('_tqsdk_backtest/current_dt');
    if (typeof dt === 'bigint') return dt;
    const now = this.nowMs();
    if (this.lastQuoteNs !== undefined)
      return this.lastQuoteNs + BigInt(Math.trunc(now - this.lastQuoteWallMs)) * 1_000_000n;
    return BigInt(Math.trunc(now)) * 1_000_000n;
  }

  private startStallWatchdog(): void {
    const stallMs = this.opts.stallMs;
    const tickMs = Math.max(20, Math.min(1_000, stallMs / 4));
    this.stallTimer = setInterval(() => {
      try {
        this.checkStall();
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'stall watchdog pass failed');
      }
    }, tickMs);
    this.stallTimer.unref();
  }

  /** One watchdog pass (exposed for tests): emits `md_stall` for in-session symbols silent for `stallMs`. */
  checkStall(): void {
    if (this.union.size === 0 || !this.conn.isLive) return;
    const now = this.nowMs();
    const nowNs = this.marketNowNs();
    const silent: string[] = [];
    let worst = 0;
    for (const s of this.union) {
      if (this.stalled.has(s)) continue;
      let variety: Variety;
      try {
        const a = parseAnySymbol(s);
        variety = a.kind === 'contract' ? a.contract.variety : a.variety;
      } catch (err) {
        // A symbol outside our varieties has no session table: the watchdog does not judge it.
        if (err instanceof SymbolParseError) continue;
        throw err;
      }
      let inSession = false;
      try {
        inSession = tradingDayOf(this.calendar, nowNs, 'SHFE', variety).in_session;
      } catch (err) {
        // Outside the calendar's coverage there are no sessions to be silent in.
        if (!(err instanceof CalendarOutOfRangeError)) throw err;
      }
      if (!inSession) {
        // Outside sessions silence is normal; restart the clock so the next session gets a full grace period.
        this.lastQuotePatchMs.set(s, now);
        continue;
      }
      const last = this.lastQuotePatchMs.get(s) ?? now;
      if (!this.lastQuotePatchMs.has(s)) this.lastQuotePatchMs.set(s, now);
      if (now - last >= this.opts.stallMs) {
        silent.push(s);
        worst = Math.max(worst, now - last);
      }
    }
    if (silent.length === 0) return;
    for (const s of silent) this.stalled.add(s);
    this.log.warn({ symbols: silent, silent_ms: worst }, 'md_stall: no quote patch inside a session');
    this.emit({ kind: 'md_stall', symbols: silent, silent_ms: worst });
  }

  /** Latest quote datetime of a symbol in ns (or null). */
  quoteNs(symbol: string): bigint | null {
    const v = this.conn.store.get(`quotes/${symbol}/datetime`);
    return typeof v === 'string' ? quoteDatetimeNs(v) : null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.stallTimer) clearInterval(this.stallTimer);
    for (const c of [...this.charts.values()]) c.release();
    await this.conn.close();
  }
}

/** Read a slash path in a plain tree. */
export function getPath(tree: Record<string, unknown>, path: string): unknown {
  let node: unknown = tree;
  for (const seg of path.split('/')) {
    if (!isNode(node) || !Object.hasOwn(node, seg)) return undefined;
    node = node[seg];
  }
  return node;
}
