/**
 * The one China-futures trading calendar (data-chain §3.1): a trading day is Monday–Friday and not a holiday.
 * Holidays come from the shipped list, then a refreshed list (only after the shipped coverage), then operator
 * overrides (precedence: override > shipped > refreshed). A date outside coverage throws
 * `CalendarOutOfRangeError`; the calendar never guesses from weekdays.
 */
import * as z from 'zod';
import { CalendarDataError, CalendarOutOfRangeError } from '../../../errors/market.ts';
import shippedJson from './cn-futures-holidays.json' with { type: 'json' };
import { dayNumber, isoDay, isWeekendNum } from './days.ts';
import { BUILTIN_EXCHANGE_EVENTS, type ExchangeEvent, IsoDaySchema } from './exchange-events.ts';
import type { CalendarOverrides } from './overrides.ts';

export type { ExchangeEvent } from './exchange-events.ts';
export type { CalendarOverrides } from './overrides.ts';

export const CalendarDataSchema = z.object({
  source: z.string().min(1),
  source_urls: z.array(z.string()),
  covers: z.object({ from: IsoDaySchema, to: IsoDaySchema }),
  holidays: z.array(IsoDaySchema),
});

/** Shape of `cn-futures-holidays.json`: every weekday the exchanges were closed inside `covers`. */
export interface CalendarData {
  source: string;
  source_urls: string[];
  covers: { from: string; to: string };
  holidays: string[];
}

/** A refreshed list as the calendar consumes it (see `parseRefreshedHolidays`). */
export interface RefreshedCalendar {
  holidays: string[];
  covers: { from: string; to: string };
}

export class TradingCalendar {
  /** Inclusive range of dates this calendar can answer for. */
  readonly covers: { from: string; to: string };
  private readonly fromNum: number;
  private readonly toNum: number;
  /** Per covered day (index = day number − fromNum): 1 when the exchanges are closed (weekend or holiday). */
  private readonly closed: Uint8Array;
  /** Per covered day: the day number of the next / previous trading day, or −1 when outside coverage. */
  private readonly nextNum: Int32Array;
  private readonly prevNum: Int32Array;
  private readonly days: string[];
  private readonly events: readonly ExchangeEvent[];

  constructor(data: CalendarData, overrides?: CalendarOverrides, refreshed?: RefreshedCalendar) {
    const parsed = CalendarDataSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CalendarDataError('holiday data', `${issue?.message} at ${issue?.path.map(String).join('.')}`);
    }
    const shippedFrom = dayNumber(data.covers.from);
    const shippedTo = dayNumber(data.covers.to);
    if (shippedTo < shippedFrom) {
      throw new CalendarDataError(
        'holiday data',
        `covers.to ${data.covers.to} is before covers.from ${data.covers.from}`,
      );
    }
    let toNum = shippedTo;
    // A refreshed list extends coverage only when it continues the shipped one without a gap.
    const useRefreshed =
      refreshed !== undefined &&
      dayNumber(refreshed.covers.from) <= shippedTo + 1 &&
      dayNumber(refreshed.covers.to) > shippedTo;
    if (useRefreshed) toNum = dayNumber(refreshed.covers.to);
    if (overrides?.covers_to !== undefined) toNum = Math.max(toNum, dayNumber(overrides.covers_to));

    this.fromNum = shippedFrom;
    this.toNum = toNum;
    this.covers = { from: data.covers.from, to: isoDay(toNum) };
    const len = toNum - shippedFrom + 1;
    this.closed = new Uint8Array(len);
    this.days = new Array<string>(len);
    for (let i = 0; i < len; i++) {
      this.days[i] = isoDay(shippedFrom + i);
      if (isWeekendNum(shippedFrom + i)) this.closed[i] = 1;
    }
    const mark = (day: string, lo: number, hi: number, value: 0 | 1): void => {
      const n = dayNumber(day);
      if (n < lo || n > hi || isWeekendNum(n)) return;
      this.closed[n - shippedFrom] = value;
    };
    for (const d of data.holidays) mark(d, shippedFrom, shippedTo, 1);
    if (useRefreshed) for (const d of refreshed.holidays) mark(d, shippedTo + 1, toNum, 1);
    for (const d of overrides?.add_holidays ?? []) mark(d, shippedFrom, toNum, 1);
    for (const d of overrides?.remove_holidays ?? []) mark(d, shippedFrom, toNum, 0);

    this.nextNum = new Int32Array(len).fill(-1);
    this.prevNum = new Int32Array(len).fill(-1);
    let next = -1;
    for (let i = len - 1; i >= 0; i--) {
      this.nextNum[i] = next;
      if (this.closed[i] === 0) next = shippedFrom + i;
    }
    let prev = -1;
    for (let i = 0; i < len; i++) {
      this.prevNum[i] = prev;
      if (this.closed[i] === 0) prev = shippedFrom + i;
    }

    const replaced = new Set((overrides?.exchange_events ?? []).map((e) => e.id));
    this.events = Object.freeze([
      ...BUILTIN_EXCHANGE_EVENTS.filter((e) => !replaced.has(e.id)),
      ...(overrides?.exchange_events ?? []),
    ]);
  }

  /** Monday–Friday and not a holiday. Throws `CalendarOutOfRangeError` outside `covers`. */
  isTradingDay(day: string): boolean {
    return this.isTradingDayNum(dayNumber(day));
  }

  /** The first trading day strictly after `day` (which need not be a trading day itself). */
  nextTradingDay(day: string): string {
    return this.dayString(this.nextTradingDayNum(dayNumber(day)));
  }

  /** The last trading day strictly before `day` (which need not be a trading day itself). */
  prevTradingDay(day: string): string {
    return this.dayString(this.prevTradingDayNum(dayNumber(day)));
  }

  /** Trading days in `[from, to]`, ascending; empty when `from > to`. Both ends must be covered. */
  tradingDays(from: string, to: string): string[] {
    const a = this.index(dayNumber(from));
    const b = this.index(dayNumber(to));
    const out: string[] = [];
    for (let i = a; i <= b; i++) if (this.closed[i] === 0) out.push(this.days[i] as string);
    return out;
  }

  /** Built-in exchange events followed by the overrides' (an override with a built-in's id replaces it). */
  exchangeEvents(): ExchangeEvent[] {
    return this.events.map((e) => ({ ...e }));
  }

  /** Every weekday closure inside `covers`, ascending (after overrides). */
  holidays(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.closed.length; i++) {
      if (this.closed[i] === 1 && !isWeekendNum(this.fromNum + i)) out.push(this.days[i] as string);
    }
    return out;
  }

  // Day-number fast paths for the session code (no string parsing per tick).

  /** Whether the day number lies inside `covers`. */
  coversNum(dayNum: number): boolean {
    return dayNum >= this.fromNum && dayNum <= this.toNum;
  }

  /** `isTradingDay` on a day number. */
  isTradingDayNum(dayNum: number): boolean {
    return this.closed[this.index(dayNum)] === 0;
  }

  /** `nextTradingDay` on a day number. */
  nextTradingDayNum(dayNum: number): number {
    const n = this.nextNum[this.index(dayNum)] ?? -1;
    if (n < 0) throw this.outOfRange(this.toNum + 1);
    return n;
  }

  /** `prevTradingDay` on a day number. */
  prevTradingDayNum(dayNum: number): number {
    const n = this.prevNum[this.index(dayNum)] ?? -1;
    if (n < 0) throw this.outOfRange(this.fromNum - 1);
    return n;
  }

  /** The ISO date of a covered day number (cached strings). */
  dayString(dayNum: number): string {
    return this.days[this.index(dayNum)] as string;
  }

  private index(dayNum: number): number {
    if (dayNum < this.fromNum || dayNum > this.toNum) throw this.outOfRange(dayNum);
    return dayNum - this.fromNum;
  }

  private outOfRange(dayNum: number): CalendarOutOfRangeError {
    return new CalendarOutOfRangeError(isoDay(dayNum), this.covers);
  }
}

/** The shipped holiday data (`cn-futures-holidays.json`). */
export const SHIPPED_CALENDAR_DATA: CalendarData = shippedJson;

let defaultCalendar: TradingCalendar | undefined;

/**
 * The calendar from the shipped JSON. Without overrides it is one cached instance; with overrides a new calendar
 * is built each call (callers keep it).
 */
export function shippedCalendar(overrides?: CalendarOverrides): TradingCalendar {
  if (overrides !== undefined) return new TradingCalendar(SHIPPED_CALENDAR_DATA, overrides);
  defaultCalendar ??= new TradingCalendar(SHIPPED_CALENDAR_DATA);
  return defaultCalendar;
}
