/**
 * A contract's whole series (ticks or klines) as the chart engine sees it: contiguous ids from 0 on the first listed
 * day, visible up to the sim clock's "now". Implementations map ids to trading days through cheap per-day bases, so
 * a window anywhere in a contract's life costs only the days it touches.
 */
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { tradingDayOf } from '#shared/domain/market/sessions.ts';
import type { Variety } from '#shared/domain/market/varieties.ts';
import type { MarketPort, TickBlockView } from './market-port.ts';

export type Row = Record<string, unknown>;

export interface Series {
  /** `ticks/<symbol>` or `klines/<symbol>/<duration>` node path segments. */
  readonly path: readonly string[];
  /** Rows can still change after they first appear (the kline bar being built). */
  readonly mutableLast: boolean;
  /** `rows` returns new objects on every call, owned by the caller (which may change them instead of copying). */
  readonly freshRows: boolean;
  /** Newest id at or before `now`; −1 when there is none. */
  lastId(now: bigint): number;
  /** First id whose `datetime` ≥ `t`; `lastId(now) + 1` when there is none. */
  firstIdAtOrAfter(t: bigint, now: bigint): number;
  /** Rows `from..to` (inclusive, clipped to `lastId(now)`), ascending. */
  rows(from: number, to: number, now: bigint): [number, Row][];
  /** Extra fields of the series node besides `last_id` and `data` (klines: trading-day id range). */
  meta(now: bigint): Row;
}

/** First index with `arr[i] > x` (upper bound). */
export function upperBound(arr: BigInt64Array, count: number, x: bigint): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((arr[mid] as bigint) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with `arr[i] >= x` (lower bound). */
export function lowerBound(arr: BigInt64Array, count: number, x: bigint): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((arr[mid] as bigint) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The tick series of one contract. */
export class TickSeries implements Series {
  readonly path: readonly string[];
  readonly mutableLast = false;
  /** `MarketPort.tickRow` makes a new row per call, and `decorate` returns it or a copy. */
  readonly freshRows = true;
  private readonly firstDay: string | null;
  private readonly lastDay: string | null;
  private days: string[] | null = null;

  constructor(
    private readonly market: MarketPort,
    private readonly cal: TradingCalendar,
    readonly symbol: string,
    private readonly variety: Variety,
    /** Maps a row before it goes out (faults such as odd_ns): the row itself or a new one; identity by default. */
    private readonly decorate: (symbol: string, id: number, row: Row) => Row = (_s, _i, r) => r,
  ) {
    this.path = ['ticks', symbol];
    this.firstDay = market.firstListedDay(symbol);
    this.lastDay = market.lastTradingDay(symbol);
  }

  private dayOf(ns: bigint): string {
    return tradingDayOf(this.cal, ns, 'SHFE', this.variety).trading_day;
  }

  /** The trading day (clamped to the listing window) whose block holds "now", or null before listing. */
  private currentDay(now: bigint): string | null {
    if (this.firstDay === null) return null;
    const d = this.dayOf(now);
    if (d < this.firstDay) return null;
    return this.lastDay !== null && d > this.lastDay ? this.lastDay : d;
  }

  lastId(now: bigint): number {
    const d = this.currentDay(now);
    if (d === null) return -1;
    const block = this.market.dayTicks(this.symbol, d);
    return block.idBase + upperBound(block.datetimeNs, block.count, now) - 1;
  }

  firstIdAtOrAfter(t: bigint, now: bigint): number {
    const last = this.lastId(now);
    if (this.firstDay === null) return last + 1;
    const d = this.dayOf(t);
    if (d < this.firstDay) return 0;
    if (this.lastDay !== null && d > this.lastDay) return last + 1;
    const block = this.market.dayTicks(this.symbol, d);
    return Math.min(block.idBase + lowerBound(block.datetimeNs, block.count, t), last + 1);
  }

  private listingDays(): string[] {
    if (this.days) return this.days;
    if (this.firstDay === null) return [];
    const to = this.lastDay !== null && this.lastDay < this.cal.covers.to ? this.lastDay : this.cal.covers.to;
    this.days = this.cal.tradingDays(this.firstDay, to);
    return this.days;
  }

  /** Index into `listingDays()` of the day holding `id` (binary search on the cheap per-day bases). */
  private dayIndexOf(id: number): number {
    const days = this.listingDays();
    let lo = 0;
    let hi = days.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.market.tickIdBase(this.symbol, days[mid] as string) <= id) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  rows(from: number, to: number, now: bigint): [number, Row][] {
    const last = Math.min(to, this.lastId(now));
    const start = Math.max(0, from);
    if (last < start) return [];
    const days = this.listingDays();
    const out: [number, Row][] = [];
    let di = this.dayIndexOf(start);
    let id = start;
    while (id <= last && di < days.length) {
      const block: TickBlockView = this.market.dayTicks(this.symbol, days[di] as string);
      for (let i = id - block.idBase; i < block.count && id <= last; i++, id++) {
        out.push([id, this.decorate(this.symbol, id, this.market.tickRow(block, i))]);
      }
      di += 1;
    }
    return out;
  }

  meta(): Row {
    return {};
  }
}
