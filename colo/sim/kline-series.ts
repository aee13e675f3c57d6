/**
 * Kline series built from the generated ticks (market-protocol §2.5): 1-minute and daily bars.
 *
 * 1-minute bars sit on the session-minute grid: every whole minute of each `trading_time` window of a trading day
 * is one bar (the inclusive end second's ticks join the window's last bar), so per-day bar counts, and therefore
 * contiguous ids, come from the calendar alone. A minute without ticks (a feed gap) is a flat bar at the previous
 * close with volume 0. A daily bar's `datetime` is its trading day (CST midnight).
 */
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { cstMidnightNs } from '#shared/domain/market/cst.ts';
import { sessionWindows, tradingDayOf } from '#shared/domain/market/sessions.ts';
import type { Variety } from '#shared/domain/market/varieties.ts';
import type { MarketPort } from './market-port.ts';
import type { Row, Series } from './tick-series.ts';

export const MINUTE_NS = 60_000_000_000n;
export const DAY_NS = 86_400_000_000_000n;

interface MinuteLayout {
  /** Epoch seconds of each bar's start. */
  starts: number[];
  /** Window index per bar, and the window's end second (inclusive). */
  windowEnd: number[];
}

interface DayBars {
  day: string;
  bars: Row[];
  /** Ticks of the day already folded into `bars`. */
  ticksDone: number;
  cumVolume: number;
  complete: boolean;
}

abstract class ListingSeries {
  protected readonly firstDay: string | null;
  protected readonly lastDay: string | null;
  private days: string[] | null = null;

  constructor(
    protected readonly market: MarketPort,
    protected readonly cal: TradingCalendar,
    readonly symbol: string,
    protected readonly variety: Variety,
  ) {
    this.firstDay = market.firstListedDay(symbol);
    this.lastDay = market.lastTradingDay(symbol);
  }

  protected listingDays(): string[] {
    if (this.days) return this.days;
    if (this.firstDay === null) return [];
    const to = this.lastDay !== null && this.lastDay < this.cal.covers.to ? this.lastDay : this.cal.covers.to;
    this.days = this.cal.tradingDays(this.firstDay, to);
    return this.days;
  }

  /** Index of the current trading day in the listing (clamped at expiry), −1 before listing. */
  protected currentDayIndex(now: bigint): number {
    if (this.firstDay === null) return -1;
    const d = tradingDayOf(this.cal, now, 'SHFE', this.variety).trading_day;
    if (d < this.firstDay) return -1;
    const days = this.listingDays();
    if (this.lastDay !== null && d > this.lastDay) return days.length - 1;
    let lo = 0;
    let hi = days.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((days[mid] as string) <= d) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

export class MinuteKlineSeries extends ListingSeries implements Series {
  readonly path: readonly string[];
  readonly mutableLast = true;
  readonly freshRows = false;
  private bases: number[] | null = null;
  private readonly layouts = new Map<string, MinuteLayout>();
  private readonly built = new Map<string, DayBars>();

  constructor(market: MarketPort, cal: TradingCalendar, symbol: string, variety: Variety) {
    super(market, cal, symbol, variety);
    this.path = ['klines', symbol, MINUTE_NS.toString()];
  }

  private layout(day: string): MinuteLayout {
    let l = this.layouts.get(day);
    if (l) return l;
    l = { starts: [], windowEnd: [] };
    for (const w of sessionWindows(this.cal, day, this.variety)) {
      const n = Math.max(1, Math.ceil((w.end_s - w.start_s) / 60));
      for (let k = 0; k < n; k++) {
        l.starts.push(w.start_s + k * 60);
        l.windowEnd.push(w.end_s);
      }
    }
    if (this.layouts.size > 512) this.layouts.clear();
    this.layouts.set(day, l);
    return l;
  }

  /** Id of the first bar of each listing day (prefix sums of the minute layouts). */
  private dayBases(): number[] {
    if (this.bases) return this.bases;
    const out: number[] = [];
    let acc = 0;
    for (const d of this.listingDays()) {
      out.push(acc);
      acc += this.layout(d).starts.length;
    }
    this.bases = out;
    return out;
  }

  private barsOf(dayIdx: number, now: bigint): DayBars {
    const day = this.listingDays()[dayIdx] as string;
    let b = this.built.get(day);
    if (!b) {
      b = { day, bars: [], ticksDone: 0, cumVolume: 0, complete: false };
      if (this.built.size >= 8) this.built.delete(this.built.keys().next().value as string);
      this.built.set(day, b);
    }
    if (b.complete) return b;
    const layout = this.layout(day);
    const block = this.market.dayTicks(this.symbol, day);
    const visibleBars = layout.starts.filter((s) => BigInt(s) * 1_000_000_000n <= now).length;
    let slot = b.bars.length - 1;
    while (b.ticksDone < block.count && (block.datetimeNs[b.ticksDone] as bigint) <= now) {
      const row = this.market.tickRow(block, b.ticksDone);
      const sec = Number((block.datetimeNs[b.ticksDone] as bigint) / 1_000_000_000n);
      let target = slot < 0 ? 0 : slot;
      while (target + 1 < layout.starts.length && (layout.starts[target + 1] as number) <= sec) target += 1;
      while (b.bars.length <= target) this.pushFlat(b, layout);
      slot = target;
      const bar = b.bars[target] as Row;
      const price = Number(row.last_price);
      const vol = Number(row.volume);
      // Bars before the day's first trade (a feed gap at the open) take that trade's price, flat, volume 0.
      for (const early of b.bars) {
        if (early.open_unset !== true) continue;
        early.open = price;
        early.high = price;
        early.low = price;
        early.close = price;
        early.open_oi = Number(row.open_interest);
        early.close_oi = Number(row.open_interest);
        delete early.open_unset;
      }
      bar.high = Math.max(Number(bar.high), price);
      bar.low = Math.min(Number(bar.low), price);
      bar.close = price;
      bar.volume = Number(bar.volume) + Math.max(0, vol - b.cumVolume);
      bar.close_oi = Number(row.open_interest);
      b.cumVolume = vol;
      b.ticksDone += 1;
    }
    while (b.bars.length < visibleBars) this.pushFlat(b, layout);
    b.complete = b.ticksDone >= block.count && b.bars.length >= layout.starts.length;
    return b;
  }

  private pushFlat(b: DayBars, layout: MinuteLayout): void {
    const prev = b.bars.at(-1);
    const start = layout.starts[b.bars.length] as number;
    const close = prev ? Number(prev.close) : Number.NaN;
    const oi = prev ? Number(prev.close_oi) : 0;
    const bar: Row = {
      datetime: BigInt(start) * 1_000_000_000n,
      open: close,
      high: close,
      low: close,
      close,
      volume: 0,
      open_oi: oi,
      close_oi: oi,
    };
    // A bar the day's first trade has not reached yet takes its values from that trade.
    if (!prev || prev.open_unset === true) bar.open_unset = true;
    b.bars.push(bar);
  }

  lastId(now: bigint): number {
    const di = this.currentDayIndex(now);
    if (di < 0) return -1;
    const base = this.dayBases()[di] as number;
    const layout = this.layout(this.listingDays()[di] as string);
    const visible = layout.starts.filter((s) => BigInt(s) * 1_000_000_000n <= now).length;
    return base + visible - 1;
  }

  firstIdAtOrAfter(t: bigint, now: bigint): number {
    const last = this.lastId(now);
    const bases = this.dayBases();
    const days = this.listingDays();
    for (let i = 0; i < days.length; i++) {
      const starts = this.layout(days[i] as string).starts;
      const k = starts.findIndex((s) => BigInt(s) * 1_000_000_000n >= t);
      if (k >= 0) return Math.min((bases[i] as number) + k, last + 1);
    }
    return last + 1;
  }

  rows(from: number, to: number, now: bigint): [number, Row][] {
    const last = Math.min(to, this.lastId(now));
    const out: [number, Row][] = [];
    if (last < Math.max(0, from)) return out;
    const bases = this.dayBases();
    let di = 0;
    while (di + 1 < bases.length && (bases[di + 1] as number) <= Math.max(0, from)) di += 1;
    for (let id = Math.max(0, from); id <= last; di += 1) {
      const bars = this.barsOf(di, now).bars;
      const base = bases[di] as number;
      for (let k = id - base; k < bars.length && id <= last; k++, id++) {
        const { open_unset: _skip, ...row } = bars[k] as Row;
        out.push([id, row]);
      }
      if (di + 1 >= bases.length) break;
      id = Math.max(id, bases[di + 1] as number);
    }
    return out;
  }

  meta(now: bigint): Row {
    const di = this.currentDayIndex(now);
    if (di < 0) return {};
    const base = this.dayBases()[di] as number;
    const n = this.layout(this.listingDays()[di] as string).starts.length;
    return { trading_day_start_id: base, trading_day_end_id: base + n - 1 };
  }
}

export class DailyKlineSeries extends ListingSeries implements Series {
  readonly path: readonly string[];
  readonly mutableLast = true;
  readonly freshRows = false;

  constructor(market: MarketPort, cal: TradingCalendar, symbol: string, variety: Variety) {
    super(market, cal, symbol, variety);
    this.path = ['klines', symbol, DAY_NS.toString()];
  }

  lastId(now: bigint): number {
    return this.currentDayIndex(now);
  }

  firstIdAtOrAfter(t: bigint, now: bigint): number {
    const last = this.lastId(now);
    const days = this.listingDays();
    const k = days.findIndex((d) => cstMidnightNs(d) >= t);
    return k < 0 ? last + 1 : Math.min(k, last + 1);
  }

  rows(from: number, to: number, now: bigint): [number, Row][] {
    const last = Math.min(to, this.lastId(now));
    const days = this.listingDays();
    const out: [number, Row][] = [];
    for (let id = Math.max(0, from); id <= last; id++) {
      const day = days[id] as string;
      if (id === last && (this.lastDay === null || day <= this.lastDay)) {
        const q = this.market.quoteAt(this.symbol, now);
        if (q !== null && tradingDayOf(this.cal, now, 'SHFE', this.variety).trading_day === day) {
          out.push([
            id,
            {
              datetime: cstMidnightNs(day),
              open: Number(q.open),
              high: Number(q.highest),
              low: Number(q.lowest),
              close: Number(q.last_price),
              volume: Number(q.volume),
              open_oi: Number(q.pre_open_interest),
              close_oi: Number(q.open_interest),
            },
          ]);
          continue;
        }
      }
      const f = this.market.dayFigures(this.symbol, day);
      out.push([
        id,
        {
          datetime: cstMidnightNs(day),
          open: f.open,
          high: f.highest,
          low: f.lowest,
          close: f.close,
          volume: f.volume,
          open_oi: f.pre_open_interest,
          close_oi: f.open_interest,
        },
      ]);
    }
    return out;
  }

  meta(now: bigint): Row {
    const di = this.currentDayIndex(now);
    return di < 0 ? {} : { trading_day_start_id: di, trading_day_end_id: di };
  }
}
