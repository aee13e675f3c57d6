/**
 * The simulator's core, independent of HTTP: clock, market driver, md and trade sessions, the trade engine,
 * faults and timers (market-protocol §2.4–§2.8). `server.ts` feeds it sockets.
 */
import type { WebSocket } from 'ws';
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { tradingDayOf } from '#shared/domain/market/sessions.ts';
import { parseContractSymbol } from '#shared/domain/market/symbols.ts';
import type { Logger } from '#shared/log.ts';
import { SimClock, type WallNs } from './clock.ts';
import type { SimOptions } from './config.ts';
import type { ConnectionEnv, ConnectionStats } from './connection.ts';
import { ContractCatalog, parseSymbol } from './contract-catalog.ts';
import { badValueOf, type Faults, oddNsOffset } from './faults.ts';
import { DAY_NS, DailyKlineSeries, MINUTE_NS, MinuteKlineSeries } from './kline-series.ts';
import type { LedgerStore } from './ledger-store.ts';
import { inDailyMaintenance, MarketDriver, type Timer } from './market-driver.ts';
import type { LiveQuote, MarketPort, TickBlockView } from './market-port.ts';
import { MdSession } from './md-session.ts';
import type { Patch } from './pending-patches.ts';
import { type Row, type Series, TickSeries } from './tick-series.ts';
import { type MarketView, TradeEngine } from './trade-engine/engine.ts';
import type { BookLevel } from './trade-engine/matching.ts';
import { TradeSession } from './trade-session.ts';

export interface SimulatorDeps {
  cal: TradingCalendar;
  market: MarketPort;
  store: LedgerStore;
  faults: Faults;
  log: Logger;
  wall?: WallNs;
}

/** Bound of remembered bad-value tick rows (ids whose rows carry an injected value). */
const BAD_ROWS_MAX = 100_000;
const LEVELS = [1, 2, 3, 4, 5];

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number.NaN;
}

export class Simulator {
  readonly clock: SimClock;
  readonly driver: MarketDriver;
  readonly catalog: ContractCatalog;
  readonly engine: TradeEngine;
  readonly md = new Set<MdSession>();
  readonly trade = new Set<TradeSession>();
  private interestDirty = true;
  private mdInterest = new Set<string>();
  private notifySeq = 0;
  private dailyMaintenance = false;
  private readonly quoteCache = new Map<
    string,
    { ns: bigint; value: { quote: LiveQuote; nanToken: boolean } | null }
  >();
  private readonly badNow = new Map<string, { fields: string[]; value: '-' | null | 'NaN' | 'NaN-token' }>();
  private readonly badRows = new Map<string, { fields: string[]; value: '-' | null | 'NaN' | 'NaN-token' }>();
  /** Tick rows generated while a limit_lock fault held the contract: side and limit price (bounded like badRows). */
  private readonly lockRows = new Map<string, { side: 'up' | 'down'; price: number }>();
  private readonly series = new Map<string, Series>();
  private loop: NodeJS.Timeout | null = null;
  private readonly connEnv: ConnectionEnv;

  constructor(
    readonly opts: SimOptions,
    private readonly deps: SimulatorDeps,
  ) {
    this.clock = new SimClock({
      mode: opts.clock,
      speed: opts.speed,
      startNs: opts.start,
      endNs: opts.end,
      ...(deps.wall ? { wall: deps.wall } : {}),
    });
    this.catalog = new ContractCatalog(deps.cal, deps.market, opts.config, opts.historyFrom);
    this.connEnv = { log: deps.log, delayMs: (k) => deps.faults.delayMs(k) };
    const start = this.clock.now();
    this.dailyMaintenance = opts.maintenance === 'daily' && inDailyMaintenance(start);
    this.driver = new MarketDriver(
      {
        cal: deps.cal,
        market: deps.market,
        maintenanceDaily: opts.maintenance === 'daily',
        onTick: (s, b, i) => this.onTick(s, b, i),
        onInstant: (_ns, symbols) => this.onInstant(symbols),
        onTimer: (t) => this.onTimer(t),
      },
      start,
    );
    this.engine = new TradeEngine({
      config: opts.config,
      openAccounts: opts.openAccounts,
      policy: { fillPrice: opts.fillPrice, partialFills: opts.partialFills },
      store: deps.store,
      catalog: this.catalog,
      market: deps.market,
      cal: deps.cal,
      now: () => this.driver.now,
      tradingDay: () => this.tradingDay(),
      stamp: (k) => this.driver.now + (deps.faults.oddNs ? oddNsOffset(k) : 0n),
      onDemandMaintenance: () => deps.faults.onDemandMaintenance,
      view: (s) => this.view(s),
      nextNotifyId: () => this.nextNotifyId(),
      interestChanged: () => {
        this.interestDirty = true;
      },
      log: deps.log,
    });
  }

  nextNotifyId(): string {
    this.notifySeq += 1;
    return `ghsim_${this.notifySeq}`;
  }

  /** Trading day (ISO) of the processed instant. */
  tradingDay(): string {
    return tradingDayOf(this.deps.cal, this.driver.now, 'SHFE', 'cu').trading_day;
  }

  get maintenanceActive(): boolean {
    return this.deps.faults.onDemandMaintenance || this.dailyMaintenance;
  }

  // ---- the market loop ----------------------------------------------------------------------------------------

  start(): void {
    if (this.opts.clock === 'replay') return;
    this.loop = setInterval(() => this.step(), this.opts.tickIntervalMs);
  }

  stop(): void {
    if (this.loop) clearInterval(this.loop);
    this.loop = null;
  }

  /** Realtime/accelerated: bring the market up to the clock (skipping idle time when asked). */
  step(): void {
    try {
      if (this.opts.skipIdle && !this.driver.inAnySession(this.driver.now)) {
        const open = this.driver.nextSessionOpenAfter(this.driver.now) - 5_000_000_000n;
        if (open > this.clock.now()) this.clock.skipTo(open);
      }
      this.advance(this.clock.now());
    } catch (err) {
      this.deps.log.error({ err }, 'sim market step failed');
    }
  }

  private refreshInterest(): void {
    if (!this.interestDirty) return;
    this.interestDirty = false;
    const md = new Set<string>();
    for (const s of this.md) for (const x of s.interest()) md.add(x);
    this.mdInterest = md;
    const all = new Set([...md, ...this.engine.interest()]);
    this.driver.setInterest(all);
  }

  advance(target: bigint): void {
    this.refreshInterest();
    if (target <= this.driver.now) return;
    this.driver.advanceTo(target);
    this.refreshInterest();
    if (this.opts.clock === 'replay') {
      const root = this.rootPatch();
      if (root) for (const s of this.md) s.push(root);
    }
  }

  /** Replay: the first md socket peeked with nothing pending: step to its next event. */
  private idlePeek(session: MdSession): void {
    if (this.opts.clock !== 'replay') return;
    const first = [...this.md].find((s) => s.isOpen);
    if (first !== session || this.clock.finished) return;
    this.refreshInterest();
    const symbols = session.interest();
    if (symbols.size === 0) return;
    for (let k = 0; k < 64 && session.waiting && !this.clock.finished; k++) {
      const t = this.driver.nextTickOf(symbols);
      const end = this.clock.endNs;
      const target = t === null || (end !== undefined && t > end) ? end : t;
      if (target === undefined) return;
      this.clock.advanceReplay(target);
      this.advance(this.clock.now());
    }
  }

  rootPatch(): Patch | null {
    if (this.opts.clock !== 'replay') return null;
    return {
      _tqsdk_backtest: {
        start_dt: this.clock.startNs,
        current_dt: this.clock.now(),
        end_dt: this.clock.endNs ?? this.clock.now(),
      },
    };
  }

  private onTick(symbol: string, block: TickBlockView, i: number): void {
    this.quoteCache.delete(symbol);
    this.badNow.delete(symbol);
    if (this.mdInterest.has(symbol)) {
      const bad = this.deps.faults.takeBadValues(symbol);
      if (bad) {
        this.badNow.set(symbol, bad);
        if (this.badRows.size >= BAD_ROWS_MAX) this.badRows.clear();
        this.badRows.set(`${symbol}|${block.idBase + i}`, bad);
      }
    }
    const lock = this.deps.faults.limitLock(symbol);
    if (lock) {
      const q = this.liveQuote(symbol)?.quote;
      const price = num(lock === 'up' ? q?.upper_limit : q?.lower_limit);
      if (this.lockRows.size >= BAD_ROWS_MAX) this.lockRows.clear();
      if (Number.isFinite(price)) this.lockRows.set(`${symbol}|${block.idBase + i}`, { side: lock, price });
    }
    this.engine.onTick(symbol);
    if (this.deps.faults.stalled(symbol)) return;
    for (const s of this.md) s.onTick(symbol);
  }

  private onInstant(symbols: ReadonlySet<string>): void {
    const live = new Set([...symbols].filter((s) => !this.deps.faults.stalled(s)));
    if (live.size === 0) return;
    for (const s of this.md) s.charts.advance(this.driver.now, live);
  }

  private onTimer(t: Timer): void {
    switch (t.kind) {
      case 'settlement': {
        const day = tradingDayOf(this.deps.cal, t.ns - 1n, 'SHFE', 'cu').trading_day;
        this.deps.log.info({ trading_day: day }, 'sim settlement');
        this.engine.settle(day);
        for (const s of this.md) s.onDayChange();
        this.interestDirty = true;
        return;
      }
      case 'maintenance_start':
        // A window the clock has already left (replay jumps, big accelerated steps) is never observable: skip it.
        if (this.clock.now() >= t.ns + 1_800_000_000_000n) return;
        this.dailyMaintenance = true;
        this.deps.log.info('sim daily maintenance window starts; dropping every socket');
        this.dropAll('all', false);
        return;
      case 'maintenance_end':
        this.dailyMaintenance = false;
        return;
    }
  }

  /** Forget which rows carried injected values (after `DELETE /admin/faults`, history is served clean again). */
  clearFaultRows(): void {
    this.badRows.clear();
    this.lockRows.clear();
    this.badNow.clear();
    this.quoteCache.clear();
  }

  dropAll(which: 'md' | 'trade' | 'all', abrupt: boolean): number {
    let n = 0;
    const targets = [...(which === 'trade' ? [] : this.md), ...(which === 'md' ? [] : this.trade)];
    for (const s of targets) {
      s.drop(abrupt, 'maintenance');
      n += 1;
    }
    return n;
  }

  // ---- quotes, books, series ----------------------------------------------------------------------------------

  /** The live quote of a contract at the processed instant, with faults applied (cached per tick). */
  liveQuote(symbol: string): { quote: LiveQuote; nanToken: boolean } | null {
    const now = this.driver.now;
    const hit = this.quoteCache.get(symbol);
    if (hit && hit.ns === now) return hit.value;
    const q = this.deps.market.quoteAt(symbol, now);
    let value: { quote: LiveQuote; nanToken: boolean } | null = null;
    if (q) {
      const quote: Record<string, unknown> = { ...q };
      const lock = this.deps.faults.limitLock(symbol);
      if (lock) {
        const side = lock === 'up' ? 'ask' : 'bid';
        quote.last_price = lock === 'up' ? q.upper_limit : q.lower_limit;
        for (const l of LEVELS) {
          quote[`${side}_price${l}`] = '-';
          quote[`${side}_volume${l}`] = 0;
        }
      }
      const bad = this.badNow.get(symbol);
      if (bad) for (const f of bad.fields) quote[f] = badValueOf(bad.value);
      value = { quote: quote as LiveQuote, nanToken: bad?.value === 'NaN-token' };
    }
    this.quoteCache.set(symbol, { ns: now, value });
    return value;
  }

  private view(symbol: string): MarketView | null {
    const q = this.liveQuote(symbol)?.quote;
    if (!q) return null;
    const side = (s: 'ask' | 'bid'): BookLevel[] =>
      LEVELS.map((l) => ({ price: num(q[`${s}_price${l}`]), volume: num(q[`${s}_volume${l}`]) }));
    return {
      book: { asks: side('ask'), bids: side('bid') },
      lastPrice: num(q.last_price),
      upperLimit: num(q.upper_limit),
      lowerLimit: num(q.lower_limit),
    };
  }

  private decorateRow = (symbol: string, id: number, row: Row): Row => {
    const bad = this.badRows.get(`${symbol}|${id}`);
    const lock = this.lockRows.get(`${symbol}|${id}`);
    if (!bad && !lock && !this.deps.faults.oddNs) return row;
    const out: Row = { ...row };
    if (this.deps.faults.oddNs && typeof row.datetime === 'bigint') out.datetime = row.datetime + oddNsOffset(id);
    if (lock) {
      const side = lock.side === 'up' ? 'ask' : 'bid';
      out.last_price = lock.price;
      for (const l of LEVELS) {
        out[`${side}_price${l}`] = '-';
        out[`${side}_volume${l}`] = 0;
      }
    }
    if (bad) for (const f of bad.fields) out[f] = badValueOf(bad.value);
    return out;
  };

  seriesFor(symbol: string, duration: bigint): Series | null | 'unsupported_duration' {
    if (duration !== 0n && duration !== MINUTE_NS && duration !== DAY_NS) return 'unsupported_duration';
    const p = parseSymbol(symbol);
    if (p?.kind !== 'contract' || this.deps.market.firstListedDay(symbol) === null) return null;
    const key = `${symbol}|${duration}`;
    let s = this.series.get(key);
    if (!s) {
      const v = parseContractSymbol(symbol).variety;
      s =
        duration === 0n
          ? new TickSeries(this.deps.market, this.deps.cal, symbol, v, this.decorateRow)
          : duration === MINUTE_NS
            ? new MinuteKlineSeries(this.deps.market, this.deps.cal, symbol, v)
            : new DailyKlineSeries(this.deps.market, this.deps.cal, symbol, v);
      if (this.series.size > 256) this.series.clear();
      this.series.set(key, s);
    }
    return s;
  }

  // ---- sockets ------------------------------------------------------------------------------------------------

  attachMd(ws: WebSocket): MdSession {
    const s = new MdSession(ws, this.connEnv, {
      now: () => this.driver.now,
      tradingDay: () => this.tradingDay(),
      catalog: this.catalog,
      liveQuote: (sym) => this.liveQuote(sym),
      mainOf: (alias) => {
        const p = parseSymbol(alias);
        return p && p.kind === 'cont' ? this.deps.market.mainContract(p.variety, this.tradingDay()) : null;
      },
      seriesFor: (sym, d) => this.seriesFor(sym, d),
      interestChanged: () => {
        this.interestDirty = true;
      },
      idlePeek: (sess) => this.idlePeek(sess),
      rootPatch: () => this.rootPatch(),
      nextNotifyId: () => this.nextNotifyId(),
      legacyGreeting: this.opts.legacyGreeting,
      log: this.deps.log,
    });
    this.md.add(s);
    ws.on('close', () => this.md.delete(s));
    s.start();
    return s;
  }

  attachTrade(ws: WebSocket): TradeSession {
    const s = new TradeSession(ws, this.connEnv, {
      brokerId: this.opts.config.broker_id,
      engine: this.engine,
      nextNotifyId: () => this.nextNotifyId(),
      log: this.deps.log,
    });
    this.trade.add(s);
    ws.on('close', () => this.trade.delete(s));
    s.start();
    return s;
  }

  /** Push an unsolicited notify to the selected sockets. */
  pushNotify(which: 'md' | 'trade' | 'all', n: { type: string; level: string; code: number; content: string }): number {
    let count = 0;
    const targets = [...(which === 'trade' ? [] : this.md), ...(which === 'md' ? [] : this.trade)];
    for (const s of targets) {
      s.sendFrame({ aid: 'rtn_data', data: [{ notify: { [this.nextNotifyId()]: { ...n } } }] }, true);
      count += 1;
    }
    return count;
  }

  stats(): ConnectionStats[] {
    return [...this.md, ...this.trade].map((s) => s.stats());
  }
}
