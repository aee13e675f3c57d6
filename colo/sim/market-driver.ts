/**
 * Moves the simulated market forward in sim time (market-protocol §2.7): delivers every tick of the contracts
 * someone needs (md subscriptions and charts, open orders and positions) in time order, and fires timers as time
 * crosses them — settlement at 18:00 CST, the daily maintenance window 19:00–19:30 CST — before any market step at
 * or after the same instant.
 *
 * One cursor per contract of interest walks that contract's day block; when a day's ticks are exhausted the cursor
 * waits for the day's end (18:00 CST) and rolls to the next trading day's block. Work per step is proportional to
 * the ticks delivered plus the contracts of interest.
 */
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { CST_OFFSET_S, NS_PER_S, SECONDS_PER_DAY } from '#shared/domain/market/cst.ts';
import { sessionWindows, tradingDayEndNs, tradingDayOf } from '#shared/domain/market/sessions.ts';
import { parseContractSymbol } from '#shared/domain/market/symbols.ts';
import { VARIETIES, type Variety } from '#shared/domain/market/varieties.ts';
import type { MarketPort, TickBlockView } from './market-port.ts';
import { upperBound } from './tick-series.ts';

export type TimerKind = 'settlement' | 'maintenance_start' | 'maintenance_end';

export interface Timer {
  kind: TimerKind;
  ns: bigint;
}

export interface DriverDeps {
  cal: TradingCalendar;
  market: MarketPort;
  maintenanceDaily: boolean;
  /** A tick of `symbol` (row `i` of `block`) is now part of the market. */
  onTick: (symbol: string, block: TickBlockView, i: number) => void;
  /** Every tick at instant `ns` has been delivered (`symbols` got one). */
  onInstant: (ns: bigint, symbols: ReadonlySet<string>) => void;
  onTimer: (timer: Timer) => void;
}

interface Cursor {
  symbol: string;
  variety: Variety;
  day: string;
  block: TickBlockView;
  idx: number;
}

const H19 = 19n * 3600n * NS_PER_S;
const H19_30 = H19 + 1800n * NS_PER_S;
const DAY = BigInt(SECONDS_PER_DAY) * NS_PER_S;

/** 00:00 CST of the calendar day holding `ns`. */
export function cstMidnightOf(ns: bigint): bigint {
  const s = ns / NS_PER_S;
  const local = s + BigInt(CST_OFFSET_S);
  const dayStart = local - (((local % 86_400n) + 86_400n) % 86_400n);
  return (dayStart - BigInt(CST_OFFSET_S)) * NS_PER_S;
}

/** The daily maintenance window holds `ns` (19:00 ≤ CST time of day < 19:30). */
export function inDailyMaintenance(ns: bigint): boolean {
  const tod = ns - cstMidnightOf(ns);
  return tod >= H19 && tod < H19_30;
}

export class MarketDriver {
  /** Sim time the market has been processed to. */
  private processedNs: bigint;
  /** Timers at or before this instant have fired. */
  private timerCursorNs: bigint;
  private readonly cursors = new Map<string, Cursor>();

  constructor(
    private readonly deps: DriverDeps,
    startNs: bigint,
  ) {
    this.processedNs = startNs;
    this.timerCursorNs = startNs;
  }

  get now(): bigint {
    return this.processedNs;
  }

  /** Make the cursor set equal `symbols` (new cursors start after the processed instant). */
  setInterest(symbols: ReadonlySet<string>): void {
    for (const s of [...this.cursors.keys()]) if (!symbols.has(s)) this.cursors.delete(s);
    for (const s of symbols) {
      if (this.cursors.has(s)) continue;
      const variety = parseContractSymbol(s).variety;
      const day = tradingDayOf(this.deps.cal, this.processedNs, 'SHFE', variety).trading_day;
      const block = this.deps.market.dayTicks(s, day);
      this.cursors.set(s, {
        symbol: s,
        variety,
        day,
        block,
        idx: upperBound(block.datetimeNs, block.count, this.processedNs),
      });
    }
  }

  private cursorNext(c: Cursor): bigint {
    return c.idx < c.block.count ? (c.block.datetimeNs[c.idx] as bigint) : tradingDayEndNs(this.deps.cal, c.day);
  }

  /** The earliest timer strictly after `ns`. */
  nextTimerAfter(ns: bigint): Timer {
    const day = tradingDayOf(this.deps.cal, ns, 'SHFE', 'cu').trading_day;
    let best: Timer = { kind: 'settlement', ns: tradingDayEndNs(this.deps.cal, day) };
    if (this.deps.maintenanceDaily) {
      const mid = cstMidnightOf(ns);
      const candidates: Timer[] = [
        { kind: 'maintenance_start', ns: mid + H19 },
        { kind: 'maintenance_end', ns: mid + H19_30 },
        { kind: 'maintenance_start', ns: mid + DAY + H19 },
      ];
      for (const t of candidates) if (t.ns > ns && t.ns < best.ns) best = t;
    }
    return best;
  }

  /** Deliver everything up to and including `target`. */
  advanceTo(target: bigint): void {
    while (true) {
      const timer = this.nextTimerAfter(this.timerCursorNs);
      let tickNs: bigint | null = null;
      for (const c of this.cursors.values()) {
        const n = this.cursorNext(c);
        if (tickNs === null || n < tickNs) tickNs = n;
      }
      if (timer.ns <= target && (tickNs === null || timer.ns <= tickNs)) {
        this.timerCursorNs = timer.ns;
        if (timer.ns > this.processedNs) this.processedNs = timer.ns;
        this.deps.onTimer(timer);
        continue;
      }
      if (tickNs === null || tickNs > target) break;
      if (tickNs > this.processedNs) this.processedNs = tickNs;
      const delivered = new Set<string>();
      for (const c of [...this.cursors.values()]) {
        if (this.cursorNext(c) !== tickNs) continue;
        if (c.idx < c.block.count) {
          const i = c.idx;
          c.idx += 1;
          delivered.add(c.symbol);
          this.deps.onTick(c.symbol, c.block, i);
        } else {
          // The day is over for this contract: move to the next trading day's block.
          c.day = tradingDayOf(this.deps.cal, tickNs, 'SHFE', c.variety).trading_day;
          c.block = this.deps.market.dayTicks(c.symbol, c.day);
          c.idx = 0;
        }
      }
      if (delivered.size > 0) this.deps.onInstant(tickNs, delivered);
    }
    if (target > this.processedNs) this.processedNs = target;
    if (target > this.timerCursorNs) this.timerCursorNs = target;
  }

  /**
   * The instant of the next real tick of any of `symbols` after the processed instant, looking at most `maxDays`
   * trading days ahead; null when there is none (not listed, expired).
   */
  nextTickOf(symbols: ReadonlySet<string>, maxDays = 10): bigint | null {
    let best: bigint | null = null;
    for (const s of symbols) {
      const c = this.cursors.get(s);
      if (!c) continue;
      let t: bigint | null = c.idx < c.block.count ? (c.block.datetimeNs[c.idx] as bigint) : null;
      let day = c.day;
      for (let k = 0; t === null && k < maxDays; k++) {
        day = tradingDayOf(this.deps.cal, tradingDayEndNs(this.deps.cal, day), 'SHFE', c.variety).trading_day;
        const b = this.deps.market.dayTicks(s, day);
        if (b.count > 0) t = b.datetimeNs[0] as bigint;
      }
      if (t !== null && (best === null || t < best)) best = t;
    }
    return best;
  }

  /** Whether any variety is inside a session at `ns`. */
  inAnySession(ns: bigint): boolean {
    return VARIETIES.some((v) => tradingDayOf(this.deps.cal, ns, 'SHFE', v).in_session);
  }

  /** Start of the next session window of any variety after `ns`. */
  nextSessionOpenAfter(ns: bigint): bigint {
    let best: bigint | null = null;
    for (const v of VARIETIES) {
      let day = tradingDayOf(this.deps.cal, ns, 'SHFE', v).trading_day;
      for (let k = 0; k < 15; k++) {
        const w = sessionWindows(this.deps.cal, day, v).find((x) => x.start_ns > ns);
        if (w) {
          if (best === null || w.start_ns < best) best = w.start_ns;
          break;
        }
        day = this.deps.cal.nextTradingDay(day);
      }
    }
    return best ?? ns;
  }
}
