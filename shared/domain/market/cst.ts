/**
 * Exchange time (Asia/Shanghai, "CST" = UTC+8, no DST since 1991) on epoch-nanosecond instants. Fixed +8 h offset
 * arithmetic, never `Intl`: it is faster, and it cannot change with the host's time-zone database.
 */
import { InvalidDateError } from '../../errors/market.ts';
import { dayNumber, isIsoDay, isoDay } from './calendar/days.ts';

/** CST is UTC + 8 h, in seconds. */
export const CST_OFFSET_S = 8 * 3600;
export const NS_PER_S = 1_000_000_000n;
export const SECONDS_PER_DAY = 86_400;

/** Epoch seconds of 00:00:00 CST on the day with day number `dayNum`. */
export function cstMidnightS(dayNum: number): number {
  return dayNum * SECONDS_PER_DAY - CST_OFFSET_S;
}

/** Epoch ns of 00:00:00 CST on ISO date `day`. */
export function cstMidnightNs(day: string): bigint {
  return BigInt(cstMidnightS(dayNumber(day))) * NS_PER_S;
}

/** Whole epoch seconds containing `ns` (floor, also for instants before 1970). */
export function floorSeconds(ns: bigint): number {
  const q = ns / NS_PER_S;
  return Number(ns < 0n && q * NS_PER_S !== ns ? q - 1n : q);
}

/** `'YYYY-MM-DD HH:MM:SS.ffffff'` in exchange time; sub-microsecond digits are truncated. */
export function formatCst(ns: bigint): string {
  const s = floorSeconds(ns);
  const micros = Number((ns - BigInt(s) * NS_PER_S) / 1000n);
  const local = s + CST_OFFSET_S;
  const dayNum = Math.floor(local / SECONDS_PER_DAY);
  const tod = local - dayNum * SECONDS_PER_DAY;
  return `${isoDay(dayNum)} ${clock(tod)}.${String(micros).padStart(6, '0')}`;
}

/** `HH:MM:SS` of a second-of-day offset (may exceed 24 h: `25:00:00`). */
export function clock(secondsOfDay: number): string {
  const h = Math.floor(secondsOfDay / 3600);
  const m = Math.floor((secondsOfDay % 3600) / 60);
  const sec = secondsOfDay % 60;
  return `${pad2(h)}:${pad2(m)}:${pad2(sec)}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

const CST_TEXT = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;

/**
 * Epoch ns of an exchange-time text: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS` or with up to nine
 * fraction digits (`T` may replace the space). No zone suffix is accepted: the text is CST by definition.
 */
export function parseCst(text: string): bigint {
  const m = CST_TEXT.exec(text);
  const day = m?.[1];
  if (!m || day === undefined || !isIsoDay(day)) {
    throw new InvalidDateError(text, 'exchange time YYYY-MM-DD[ HH:MM[:SS[.fffffffff]]] (CST)');
  }
  const h = Number(m[2] ?? 0);
  const mi = Number(m[3] ?? 0);
  const s = Number(m[4] ?? 0);
  if (h > 23 || mi > 59 || s > 59) {
    throw new InvalidDateError(text, 'exchange time with hours 00-23, minutes and seconds 00-59');
  }
  const fraction = BigInt((m[5] ?? '').padEnd(9, '0'));
  const seconds = cstMidnightS(dayNumber(day)) + h * 3600 + mi * 60 + s;
  return BigInt(seconds) * NS_PER_S + fraction;
}

/** The CST calendar date (`YYYY-MM-DD`) of an instant. */
export function cstDayOf(ns: bigint): string {
  const s = floorSeconds(ns) + CST_OFFSET_S;
  return new Date(Math.floor(s / SECONDS_PER_DAY) * SECONDS_PER_DAY * 1000).toISOString().slice(0, 10);
}
