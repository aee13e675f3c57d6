/**
 * `ghtrader data calendar --refresh`: the lenient reader of a downloaded holiday list (Shinny's
 * `shinny_chinese_holiday.json` or a compatible file) and the comparison with the shipped data (data-chain §3.1).
 * The download itself happens in the command; this file is pure.
 */
import * as z from 'zod';
import { CalendarDataError } from '../../../errors/market.ts';
import { dayNumber, daysInMonth, isIsoDay, isoDay, isWeekendNum } from './days.ts';
import { IsoDaySchema } from './exchange-events.ts';

/** A refreshed holiday list: weekday closures only, and the whole years it speaks for. */
export interface RefreshedHolidays {
  holidays: string[];
  /** 1 January of the first year to 31 December of the last year that has any parsable date. */
  covers: { from: string; to: string };
  /** Items that were not a date (`YYYY-MM-DD`, `YYYYMMDD`, or such an 8-digit number). */
  dropped: number;
  /** Saturdays and Sundays in the list; they never trade anyway. */
  weekends_ignored: number;
}

const LIST_KEYS = ['holidays', 'holiday', 'data'] as const;

function items(json: unknown): unknown[] {
  if (Array.isArray(json)) return json;
  if (typeof json !== 'object' || json === null) {
    throw new CalendarDataError('refreshed holiday list', 'expected a JSON list or object of lists');
  }
  const obj = json as Record<string, unknown>;
  for (const key of LIST_KEYS) {
    const v = obj[key];
    if (Array.isArray(v)) return v;
  }
  // An object of lists (for example one list per year): concatenated.
  const lists = Object.values(obj).filter(Array.isArray);
  if (lists.length === 0) {
    throw new CalendarDataError('refreshed holiday list', 'found an object without any list of dates');
  }
  return lists.flat();
}

function toIsoDay(item: unknown): string | null {
  const text = typeof item === 'number' && Number.isInteger(item) ? String(item) : item;
  if (typeof text !== 'string') return null;
  const t = text.trim();
  if (isIsoDay(t)) return t;
  if (/^\d{8}$/.test(t)) {
    const iso = `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}`;
    return isIsoDay(iso) ? iso : null;
  }
  return null;
}

/**
 * Read a refreshed holiday list leniently: a bare list; an object with the list under `holidays`, `holiday` or `data`;
 * or an object of lists (concatenated). Items `YYYY-MM-DD` or `YYYYMMDD`; unparsable items are dropped and counted,
 * weekend dates ignored and counted. Throws `CalendarDataError` when nothing parsable is left.
 */
export function parseRefreshedHolidays(json: unknown): RefreshedHolidays {
  let dropped = 0;
  let weekends = 0;
  let minYear = Number.POSITIVE_INFINITY;
  let maxYear = Number.NEGATIVE_INFINITY;
  const out = new Set<string>();
  for (const item of items(json)) {
    const day = toIsoDay(item);
    if (day === null) {
      dropped += 1;
      continue;
    }
    const year = Number(day.slice(0, 4));
    minYear = Math.min(minYear, year);
    maxYear = Math.max(maxYear, year);
    if (isWeekendNum(dayNumber(day))) {
      weekends += 1;
      continue;
    }
    out.add(day);
  }
  if (!Number.isFinite(minYear)) {
    throw new CalendarDataError('refreshed holiday list', `no parsable date among the items (${dropped} dropped)`);
  }
  return {
    holidays: [...out].sort(),
    covers: { from: `${minYear}-01-01`, to: `${maxYear}-12-${String(daysInMonth(maxYear, 12))}` },
    dropped,
    weekends_ignored: weekends,
  };
}

export interface CalendarDisagreement {
  date: string;
  shipped: 'holiday' | 'open';
  refreshed: 'holiday' | 'open';
}

/**
 * Weekdays inside both coverages on which the shipped list and the refreshed list disagree. Reported by the
 * command, never applied: inside the shipped coverage the shipped data wins.
 */
export function calendarDisagreements(
  shipped: { covers: { from: string; to: string }; holidays: readonly string[] },
  refreshed: { covers: { from: string; to: string }; holidays: readonly string[] },
): CalendarDisagreement[] {
  const from = Math.max(dayNumber(shipped.covers.from), dayNumber(refreshed.covers.from));
  const to = Math.min(dayNumber(shipped.covers.to), dayNumber(refreshed.covers.to));
  const a = new Set(shipped.holidays);
  const b = new Set(refreshed.holidays);
  const out: CalendarDisagreement[] = [];
  for (let n = from; n <= to; n++) {
    if (isWeekendNum(n)) continue;
    const day = isoDay(n);
    const inA = a.has(day);
    const inB = b.has(day);
    if (inA !== inB) {
      out.push({ date: day, shipped: inA ? 'holiday' : 'open', refreshed: inB ? 'holiday' : 'open' });
    }
  }
  return out;
}

/** `calendar/refreshed.json` as the refresh command stores it and every later run reads it back. */
export const RefreshedCalendarFileSchema = z.object({
  source_url: z.string(),
  fetched_at: z.string(),
  covers: z.object({ from: IsoDaySchema, to: IsoDaySchema }),
  holidays: z.array(IsoDaySchema),
  dropped: z.number().int().nonnegative(),
  weekends_ignored: z.number().int().nonnegative(),
});
export type RefreshedCalendarFile = z.infer<typeof RefreshedCalendarFileSchema>;
