/**
 * The ports over DIFF (market-protocol §1.13): `DiffMarketDataSource implements MarketDataSource` and
 * `DiffBrokerSession implements BrokerSession`.
 *
 * Tick emission rule (live `subscribeTicks`): a row with NaN `last_price`, an off-grid price, or a NaN book price on
 * a side whose volume is not 0 (only a limit-locked side may be NaN) is not emitted; a `data_error` notice (symbol,
 * id, reason) is. Each id is emitted once, in order; after a reconnect the stream resumes at the next unseen id, and
 * ids evicted before they could be read are reported as one `data_error` with reason `gap`.
 *
 * Stream bounds: quote streams buffer 10,000 events, tick streams 100,000 rows, broker event streams 100,000 events;
 * past the bound the stream fails with `QueueOverflowError` (never trimmed silently).
 */
import { CONTRACT_SPECS, priceToTicks } from '#shared/domain/market/contracts.ts';
import type {
  ContractInfo,
  ListContractsOptions,
  MarketDataSource,
  MarketNotice,
  QuoteEvent,
  Subscription,
  TickRow,
} from '#shared/domain/market/ports.ts';
import { tradingDayOf } from '#shared/domain/market/sessions.ts';
import { parseAnySymbol } from '#shared/domain/market/symbols.ts';
import type { Variety } from '#shared/domain/market/varieties.ts';
import type { BrokerEvent, BrokerSession, BrokerSnapshot, OrderRequest } from '#shared/domain/trading/ports.ts';
import { NotConnectedError } from '#shared/errors/diff.ts';
import { CalendarOutOfRangeError } from '#shared/errors/market.ts';
import { type ChartHandle, rowOf } from './chart.ts';
import { type ContinuousTableSource, continuousMappingFrom } from './continuous.ts';
import { compactDay, downloadTicks } from './download.ts';
import type { DiffMarket, MarketTokens } from './market.ts';
import { AsyncQueue } from './queue.ts';
import type { DiffTrade } from './trade.ts';
import { tickRowView } from './views.ts';

const QUOTE_BOUND = 10_000;
const TICK_BOUND = 100_000;
const BROKER_BOUND = 100_000;
const PRICE_FIELDS = [
  'last_price',
  'highest',
  'lowest',
  ...[1, 2, 3, 4, 5].flatMap((k) => [`ask_price${k}`, `bid_price${k}`]),
] as const;

/** Why a tick must not be emitted (§1.13), or null when it is clean. */
export function tickDefect(row: TickRow, priceTick: number): string | null {
  const r = row as unknown as Record<string, number>;
  if (Number.isNaN(row.last_price)) return 'nan_last_price';
  for (const side of ['ask', 'bid'] as const) {
    for (let k = 1; k <= 5; k++) {
      const p = r[`${side}_price${k}`];
      const v = r[`${side}_volume${k}`];
      if (p !== undefined && Number.isNaN(p) && v !== 0) return `nan_book:${side}_price${k}`;
    }
  }
  for (const f of PRICE_FIELDS) {
    const p = r[f];
    if (p !== undefined && Number.isFinite(p) && priceToTicks(p, priceTick) === null) return `off_grid:${f}`;
  }
  return null;
}

class NoticeHub {
  private readonly listeners = new Set<(n: MarketNotice) => void>();
  on(l: (n: MarketNotice) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(n: MarketNotice): void {
    for (const l of this.listeners) l(n);
  }
}

export class DiffMarketDataSource implements MarketDataSource {
  /** Open streams: ended by `close()`, failed by a fatal connection error (auth refused on reconnect). */
  private readonly streams = new Set<AsyncQueue<unknown>>();
  /** Tail of the download queue (see `downloadTicks`). */
  private downloadTail: Promise<void> = Promise.resolve();

  constructor(
    readonly market: DiffMarket,
    private readonly tokens: MarketTokens,
    private readonly continuous: ContinuousTableSource,
    private readonly pageTimeoutMs: number,
  ) {
    market.conn.onFatal((err) => {
      for (const q of this.streams) q.fail(err);
    });
  }

  private track<T>(q: AsyncQueue<T>): AsyncQueue<T> {
    this.streams.add(q as AsyncQueue<unknown>);
    return q;
  }

  /** Notices of the whole source (connection, md_stall, no_data, schema_drift, data_error of any stream). */
  onNotice(l: (n: MarketNotice) => void): () => void {
    return this.market.onNotice(l);
  }

  async listContracts(variety: Variety, opts: ListContractsOptions = {}): Promise<ContractInfo[]> {
    return this.market.queryContracts({
      class: ['FUTURE'],
      exchange_id: ['SHFE'],
      product_id: [variety],
      ...(opts.includeExpired ? {} : { expired: false }),
      ...(opts.at !== undefined ? { timestamp: opts.at } : {}),
    });
  }

  async marketNow(): Promise<bigint> {
    // One quote anchors the market clock (a simulator's clock is not the wall clock).
    await this.market.getQuote('KQ.m@SHFE.cu');
    return this.market.marketNowNs();
  }

  /**
   * Downloads run one at a time on this session: concurrent tick charts on one connection cut each other's pages
   * short (seen as days ending exactly at a 2,000-row page boundary, for the same and for different contracts), and
   * a short page reads as the end of the day. Parallel downloads use parallel sessions (see the data chain's
   * provider pool). Queued, not refused: a second caller waits for the first download to finish.
   */
  downloadTicks(symbol: string, tradingDay: string): AsyncIterable<TickRow[]> {
    const prev = this.downloadTail;
    let done!: () => void;
    const mine = new Promise<void>((r) => {
      done = r;
    });
    const tail = prev.then(() => mine);
    this.downloadTail = tail;
    const self = this;
    return (async function* () {
      try {
        await prev;
        yield* downloadTicks(self.market, self.tokens, symbol, tradingDay, self.pageTimeoutMs);
      } finally {
        done();
      }
    })();
  }

  async continuousMapping(
    variety: string,
    fromDay: string,
    toDay: string,
  ): Promise<{ trading_day: string; underlying: string }[]> {
    const table = await this.continuous.table();
    const cal = this.market.calendar;
    const nowNs = this.market.marketNowNs();
    const v = variety as Variety;
    let current: string | undefined;
    try {
      current = tradingDayOf(cal, nowNs, 'SHFE', v).trading_day;
    } catch (err) {
      // "Now" outside the calendar's coverage: history only, from the table.
      if (!(err instanceof CalendarOutOfRangeError)) throw err;
      current = undefined;
    }
    let today: { trading_day: string; underlying: string } | undefined;
    if (current !== undefined && compactDay(toDay) >= compactDay(current)) {
      const q = await this.market.getQuote(`KQ.m@SHFE.${variety}`);
      if (q.underlying_symbol !== '') today = { trading_day: current, underlying: q.underlying_symbol };
    }
    return continuousMappingFrom(cal, table, variety, fromDay, toDay, today);
  }

  subscribeQuotes(symbols: string[]): Subscription<QuoteEvent> {
    const hub = new NoticeHub();
    let unsubUpdate: () => void = () => {};
    const unsubNotice = this.market.onNotice((n) => {
      if (n.kind === 'connection' || n.kind === 'md_stall' || n.kind === 'schema_drift') hub.emit(n);
    });
    const queue = this.track(
      new AsyncQueue<QuoteEvent>(`quotes ${symbols.join(',')}`, QUOTE_BOUND, () => {
        unsubUpdate();
        unsubNotice();
        this.streams.delete(queue as AsyncQueue<unknown>);
      }),
    );
    const wanted = [...new Set(symbols)];
    unsubUpdate = this.market.conn.store.onUpdate((e) => {
      if (!e.changes.has('quotes')) return;
      for (const s of wanted) {
        if (!e.changes.has(`quotes/${s}`)) continue;
        const quote = this.market.quote(s);
        if (quote !== undefined) queue.push({ symbol: s, batch_seq: e.batch_seq, quote });
      }
    });
    this.market.subscribeQuote(wanted);
    return Object.assign(queue, {
      onNotice: (l: (n: MarketNotice) => void) => hub.on(l),
      close: async () => {
        this.streams.delete(queue as AsyncQueue<unknown>);
        unsubUpdate();
        unsubNotice();
        queue.end();
      },
    });
  }

  subscribeTicks(symbol: string, viewWidth = 200): Subscription<TickRow> {
    const hub = new NoticeHub();
    const any = parseAnySymbol(symbol);
    const variety = any.kind === 'contract' ? any.contract.variety : any.variety;
    const cal = this.market.calendar;
    const chart: ChartHandle = this.market.setChart({ symbol, duration: 0n, viewWidth });
    let next: number | undefined;
    const priceTick = () => {
      const info = this.market.contract(symbol)?.price_tick ?? this.market.quote(symbol)?.price_tick;
      return info !== undefined && Number.isFinite(info) ? info : CONTRACT_SPECS[variety].price_tick;
    };
    const dataError = (id: number, reason: string) => {
      const n: MarketNotice = { kind: 'data_error', symbol, id, reason };
      hub.emit(n);
      this.market.emit(n);
    };
    let unsubUpdate: () => void = () => {};
    const unsubNotice = this.market.onNotice((n) => {
      if (n.kind === 'connection' || n.kind === 'md_stall' || (n.kind === 'no_data' && n.chart_id === chart.chartId)) {
        hub.emit(n);
      }
    });
    const queue = this.track(
      new AsyncQueue<TickRow>(`ticks ${symbol}`, TICK_BOUND, () => {
        unsubUpdate();
        unsubNotice();
        chart.release();
        this.streams.delete(queue as AsyncQueue<unknown>);
      }),
    );
    const drain = () => {
      if (!chart.applied()) return;
      const view = chart.view();
      if (view === undefined || view.left_id < 0 || view.right_id < 0) return;
      if (next === undefined) next = view.left_id;
      if (next < view.left_id) {
        dataError(next, `gap: ids ${next}..${view.left_id - 1} left the window before they were read`);
        next = view.left_id;
      }
      const tick = priceTick();
      const rows = chart.rows();
      while (next <= view.right_id) {
        const node = rowOf(rows, next);
        if (node === undefined) break;
        const ns = node.datetime;
        const td = typeof ns === 'bigint' ? compactDay(tradingDayOf(cal, ns, 'SHFE', variety).trading_day) : '';
        const row = tickRowView(symbol, next, node, td);
        if (row === null) {
          dataError(next, 'missing_datetime');
        } else {
          const defect = tickDefect(row, tick);
          if (defect === null) queue.push(row);
          else dataError(next, defect);
        }
        next++;
      }
    };
    unsubUpdate = this.market.conn.store.onUpdate((e) => {
      if (e.changes.has(`charts/${chart.chartId}`) || e.changes.has(`ticks/${symbol}`)) drain();
    });
    drain();
    return Object.assign(queue, {
      onNotice: (l: (n: MarketNotice) => void) => hub.on(l),
      close: async () => {
        this.streams.delete(queue as AsyncQueue<unknown>);
        unsubUpdate();
        unsubNotice();
        chart.release();
        queue.end();
      },
    });
  }

  async close(): Promise<void> {
    for (const q of this.streams) q.end();
    this.streams.clear();
    await this.market.close();
  }
}

export class DiffBrokerSession implements BrokerSession {
  private trade: DiffTrade | undefined;
  private readonly listeners = new Set<(e: BrokerEvent) => void>();
  private readonly streams = new Set<AsyncQueue<BrokerEvent>>();

  constructor(
    private readonly connect: () => Promise<DiffTrade>,
    /** `"sim"` for a loopback trade URL, else `"shinny"`; the gateway's live-trading gate reads it. */
    readonly endpointKind: 'sim' | 'shinny',
  ) {}

  async login(): Promise<{ trading_day: string; user_id: string }> {
    if (this.trade !== undefined) throw new Error('login() was already called on this session');
    const trade = await this.connect();
    this.trade = trade;
    trade.onEvent((e) => {
      for (const l of this.listeners) l(e);
    });
    trade.conn.onFatal((err) => {
      for (const q of this.streams) q.fail(err);
    });
    return trade.login();
  }

  /** The underlying td client (after `login()`). */
  get client(): DiffTrade | undefined {
    return this.trade;
  }

  snapshot(): BrokerSnapshot {
    if (this.trade === undefined) throw new NotConnectedError('td', 'snapshot');
    return this.trade.snapshot();
  }

  async insertOrder(req: OrderRequest): Promise<{ order_id: string }> {
    if (this.trade === undefined) throw new NotConnectedError('td', 'insert_order');
    return this.trade.insertOrder(req);
  }

  async cancelOrder(orderId: string): Promise<void> {
    if (this.trade === undefined) throw new NotConnectedError('td', 'cancel_order');
    this.trade.cancelOrder(orderId);
  }

  events(): AsyncIterable<BrokerEvent> {
    const queue: AsyncQueue<BrokerEvent> = new AsyncQueue<BrokerEvent>('broker events', BROKER_BOUND, () => {
      this.listeners.delete(listener);
      this.streams.delete(queue);
    });
    const listener = (e: BrokerEvent) => queue.push(e);
    this.listeners.add(listener);
    this.streams.add(queue);
    return queue;
  }

  /** Close the session; open event streams end after their buffered events. */
  async close(): Promise<void> {
    for (const q of this.streams) q.end();
    this.streams.clear();
    this.listeners.clear();
    await this.trade?.close();
  }
}
