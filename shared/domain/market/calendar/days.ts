/**
 * Calendar-date arithmetic on ISO `YYYY-MM-DD` strings through integer day numbers (days since 1970-01-01).
 * Pure integer math, no `Date` parsing of free text and no time zones: a date is a label, not an instant.
 */
import { InvalidDateError } from '../../../errors/market.ts';

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

/** True for a well-formed, existing ISO calendar date (`2025-02-30` is false). */
export function isIsoDay(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const m = ISO_DAY.exec(value);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= daysInMonth(y, mo);
}

/** Number of days in month `month` (1..12) of `year` (proleptic Gregorian). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Days since 1970-01-01 of an ISO date; throws `InvalidDateError` on anything else. */
export function dayNumber(day: string): number {
  if (!isIsoDay(day)) throw new InvalidDateError(day, 'an ISO date YYYY-MM-DD');
  return Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))) / MS_PER_DAY;
}

/** The ISO date of a day number. */
export function isoDay(dayNum: number): string {
  return new Date(dayNum * MS_PER_DAY).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday, of a day number (1970-01-01 was a Thursday). */
export function weekdayOf(dayNum: number): number {
  return (((dayNum + 4) % 7) + 7) % 7;
}

/** Saturday or Sunday. */
export function isWeekendNum(dayNum: number): boolean {
  const w = weekdayOf(dayNum);
  return w === 0 || w === 6;
}

/** `day` shifted by `n` calendar days. */
export function addDays(day: string, n: number): string {
  return isoDay(dayNumber(day) + n);
}
