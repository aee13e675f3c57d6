/**
 * The contract universe as the generator sees it: trading-day indices over the calendar's coverage, and per
 * contract its listing window (first listed day, last trading day) as indices, so "trading days to expiry" is a
 * subtraction. Listing and expiry come from `shared/domain/market` (`listedContracts`, `lastTradingDay`); this file
 * only indexes them.
 */
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { dayNumber, isWeekendNum } from '#shared/domain/market/calendar/days.ts';
import { CONTRACT_SPECS, lastTradingDay, listedContracts } from '#shared/domain/market/contracts.ts';
import { type ContractSymbol, contractSymbol, parseContractSymbol } from '#shared/domain/market/symbols.ts';
import type { Variety } from '#shared/domain/market/varieties.ts';
import { CalendarOutOfRangeError } from '#shared/errors/market.ts';
import { Lru } from './lru.ts';

/** A contract with its listing window as trading-day indices (see `Universe.dayIndex`). */
export interface ContractInfo {
  contract: ContractSymbol;
  symbol: string;
  variety: Variety;
  /** Last trading day (ISO); `null` when it lies beyond the calendar's coverage. */
  lastDay: string | null;
  /** Index of the last trading day; beyond coverage, an estimate counting weekdays (used for shapes only). */
  lastIdx: number;
  /** First listed trading day (ISO) and its index; `null`/estimate before the calendar's coverage. */
  firstDay: string | null;
  firstIdx: number;
  /** `year × 12 + month − 1` of the delivery month, for month arithmetic. */
  deliveryMonthKey: number;
}

export class Universe {
  /** Every trading day of the calendar's coverage, ascending. */
  readonly days: readonly string[];
  /** Day number (days since 1970-01-01) of each entry of `days`: a calendar-independent axis for smooth noise. */
  private readonly dayNumbers: Int32Array;
  private readonly indexByDay = new Map<string, number>();
  private readonly contracts = new Map<string, ContractInfo>();
  private readonly listedCache = new Lru<string, ContractInfo[]>(1024);

  constructor(readonly calendar: TradingCalendar) {
    this.days = calendar.tradingDays(calendar.covers.from, calendar.covers.to);
    this.dayNumbers = new Int32Array(this.days.length);
    this.days.forEach((d, i) => {
      this.indexByDay.set(d, i);
      this.dayNumbers[i] = dayNumber(d);
    });
  }

  /** Index of trading day `day` in `days`, or −1 when `day` is not a trading day (or outside coverage). */
  dayIndex(day: string): number {
    return this.indexByDay.get(day) ?? -1;
  }

  /** The trading day at `idx`. */
  dayAt(idx: number): string {
    const d = this.days[idx];
    if (d === undefined) throw new RangeError(`trading-day index ${idx} is outside the calendar's coverage`);
    return d;
  }

  /**
   * Calendar day number of trading-day index `idx`. Smooth day-level noise is keyed on it rather than on `idx`, so
   * a holiday override or a longer calendar coverage does not shift every later day's figures.
   */
  dayNumberAt(idx: number): number {
    const n = this.dayNumbers[idx];
    if (n === undefined) throw new RangeError(`trading-day index ${idx} is outside the calendar's coverage`);
    return n;
  }

  /** The trading day itself, or the next one for a closed day (a weekend or holiday belongs to the next session). */
  tradingDayOnOrAfter(day: string): string {
    return this.calendar.isTradingDay(day) ? day : this.calendar.nextTradingDay(day);
  }

  /** Contract facts, cached per symbol. Throws `SymbolParseError` for a malformed symbol. */
  contract(symbol: string): ContractInfo {
    let info = this.contracts.get(symbol);
    if (info) return info;
    const c = parseContractSymbol(symbol);
    const spec = CONTRACT_SPECS[c.variety];
    const last = this.lastDayOf(c);
    // The contract lists the trading day after the contract `listed_count` cycle steps earlier expires.
    let y = c.year;
    let m = c.month;
    for (let k = 0; k < spec.listed_count; k++) {
      do {
        m -= 1;
        if (m < 1) {
          m = 12;
          y -= 1;
        }
      } while (!spec.listed_months.includes(m));
    }
    const predecessorLast = this.lastDayOf(contractSymbol(c.variety, y, m));
    let firstDay: string | null = null;
    let firstIdx = predecessorLast.idx + 1;
    if (predecessorLast.day !== null) {
      firstDay = this.calendar.nextTradingDay(predecessorLast.day);
      firstIdx = this.dayIndex(firstDay);
    }
    info = {
      contract: c,
      symbol: c.symbol,
      variety: c.variety,
      lastDay: last.day,
      lastIdx: last.idx,
      firstDay,
      firstIdx,
      deliveryMonthKey: c.year * 12 + c.month - 1,
    };
    this.contracts.set(symbol, info);
    return info;
  }

  /** Contracts listed on trading day `idx`, sorted by expiry. */
  listedAt(variety: Variety, idx: number): ContractInfo[] {
    const key = `${variety}|${idx}`;
    return this.listedCache.getOrSet(key, () =>
      listedContracts(this.calendar, variety, this.dayAt(idx)).map((c) => this.contract(c.symbol)),
    );
  }

  /** Whether the contract trades on trading day `idx`. */
  isListedAt(info: ContractInfo, idx: number): boolean {
    return idx >= info.firstIdx && idx <= info.lastIdx;
  }

  /**
   * Last trading day and its index. Beyond the calendar's coverage (contracts listed near its end) the index is
   * extrapolated by weekdays so OI shapes stay smooth; such a contract cannot expire inside coverage anyway.
   */
  private lastDayOf(c: ContractSymbol): { day: string | null; idx: number } {
    try {
      const day = lastTradingDay(this.calendar, c);
      const idx = this.dayIndex(day);
      if (idx >= 0) return { day, idx };
    } catch (err) {
      if (!(err instanceof CalendarOutOfRangeError)) throw err;
    }
    const fifteenth = dayNumber(`${c.year}-${String(c.month).padStart(2, '0')}-15`);
    const coverTo = dayNumber(this.calendar.covers.to);
    const coverFrom = dayNumber(this.calendar.covers.from);
    if (fifteenth < coverFrom) {
      let weekdays = 0;
      for (let n = fifteenth; n < coverFrom; n++) if (!isWeekendNum(n)) weekdays++;
      return { day: null, idx: -weekdays };
    }
    let weekdays = 0;
    for (let n = coverTo + 1; n <= fifteenth; n++) if (!isWeekendNum(n)) weekdays++;
    return { day: null, idx: this.days.length - 1 + Math.max(1, weekdays) };
  }
}
