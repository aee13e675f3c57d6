/**
 * Trading sessions and the one trading-day function (data-chain §3.2–§3.4). Ingest, validation, features, the
 * trading chain and the simulator all call `sessionWindows` / `tradingDayOf`; nothing else decides a trading day.
 */
import * as z from 'zod';
import { InvalidTradingTimeError, NotATradingDayError, UnsupportedExchangeError } from '../../errors/market.ts';
import type { TradingCalendar } from './calendar/calendar.ts';
import { dayNumber, isWeekendNum } from './calendar/days.ts';
import type { ExchangeEvent } from './calendar/exchange-events.ts';
import { CST_OFFSET_S, cstMidnightS, floorSeconds, formatCst, NS_PER_S, SECONDS_PER_DAY } from './cst.ts';
import { parseVariety, type Variety } from './varieties.ts';

export { clock, cstMidnightNs, formatCst, parseCst } from './cst.ts';

/** `trading_time` as the provider sends it: `HH:MM:SS` pairs; night ends may be ≥ `24:00:00` (next calendar day). */
export interface TradingTime {
  day: [string, string][];
  night: [string, string][];
}

const ClockSchema = z.string().regex(/^([0-3]\d|4[0-7]):[0-5]\d:[0-5]\d$/, 'expected HH:MM:SS (hours 00-47)');
const RangeSchema = z.tuple([ClockSchema, ClockSchema]);

/** A provider `trading_time`; a missing or null `night` means no night session. */
export const TradingTimeSchema = z.object({
  day: z.array(RangeSchema),
  night: z
    .array(RangeSchema)
    .nullish()
    .transform((v) => v ?? []),
});

/**
 * One session window of a trading day. Bounds are whole seconds and inclusive: an instant is inside iff
 * `floor(ns / 1e9) ∈ [start_s, end_s]`, i.e. iff `start_ns ≤ ns ≤ end_ns`, where `end_ns` is the last nanosecond of
 * second `end_s` (`end_s × 1e9 + 999_999_999`), so a tick at 15:00:00.500 is inside a window ending 15:00:00.
 */
export interface SessionWindow {
  session: 'day' | 'night';
  start_s: number;
  end_s: number;
  start_ns: bigint;
  end_ns: bigint;
}

/** Windows of one trading day plus what shaped them, for reports (§3.3: applied events are reported). */
export interface SessionPlan {
  trading_day: string;
  windows: SessionWindow[];
  /** Ids of the exchange events that changed this day's windows. */
  applied_events: string[];
  /** `holiday_gap` when the night session was dropped because a weekday holiday precedes the day. */
  night_dropped: 'holiday_gap' | null;
}

/** One entry of a variety's session history: the `trading_time` in effect from trading day `effective_from` on. */
export interface SessionVersion {
  effective_from: string;
  trading_time: TradingTime;
}

const SHFE_DAY: [string, string][] = [
  ['09:00:00', '10:15:00'],
  ['10:30:00', '11:30:00'],
  ['13:30:00', '15:00:00'],
];

/**
 * Shipped SHFE session history per variety (data-chain §3.2). Before the first night session only day windows
 * exist. First trading days with a night session (SHFE continuous-trading notices, 2013):
 * - `au`, `ag`: night trading began on the evening of Friday 2013-07-05 (21:00–02:30), so the first trading day
 *   with a night session is Monday 2013-07-08.
 * - `cu`: night trading began on the evening of Friday 2013-12-20 (21:00–01:00), so the first trading day with a
 *   night session is Monday 2013-12-23.
 * Later changes observed from the provider are appended by the schedule job (`calendar/sessions.json`), not here.
 */
export const DEFAULT_SESSION_VERSIONS: Readonly<Record<Variety, readonly SessionVersion[]>> = Object.freeze({
  cu: [
    { effective_from: '1990-01-01', trading_time: { day: SHFE_DAY, night: [] } },
    { effective_from: '2013-12-23', trading_time: { day: SHFE_DAY, night: [['21:00:00', '25:00:00']] } },
  ],
  au: [
    { effective_from: '1990-01-01', trading_time: { day: SHFE_DAY, night: [] } },
    { effective_from: '2013-07-08', trading_time: { day: SHFE_DAY, night: [['21:00:00', '26:30:00']] } },
  ],
  ag: [
    { effective_from: '1990-01-01', trading_time: { day: SHFE_DAY, night: [] } },
    { effective_from: '2013-07-08', trading_time: { day: SHFE_DAY, night: [['21:00:00', '26:30:00']] } },
  ],
});

/** The `trading_time` in effect on `tradingDay` in a version history (the last version with `effective_from ≤ D`). */
export function tradingTimeAt(versions: readonly SessionVersion[], tradingDay: string): TradingTime {
  dayNumber(tradingDay);
  let found: SessionVersion | undefined;
  for (const v of versions)
    if (v.effective_from <= tradingDay && (!found || v.effective_from >= found.effective_from)) found = v;
  if (!found) throw new InvalidTradingTimeError(`no session version in effect on ${tradingDay}`);
  return copyTradingTime(found.trading_time);
}

/** The shipped SHFE `trading_time` of `variety` in effect on `tradingDay` (no night before 2013; see above). */
export function defaultTradingTime(variety: Variety, tradingDay: string): TradingTime {
  return tradingTimeAt(DEFAULT_SESSION_VERSIONS[parseVariety(variety)], tradingDay);
}

function copyTradingTime(tt: TradingTime): TradingTime {
  return { day: tt.day.map(([a, b]) => [a, b]), night: tt.night.map(([a, b]) => [a, b]) };
}

/** Seconds after the anchor's midnight of an `HH:MM:SS` clock (hours may exceed 23). */
function offsetOf(text: string): number {
  const m = /^(\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) throw new InvalidTradingTimeError(`expected HH:MM:SS, found ${JSON.stringify(text)}`);
  const h = Number(m[1]);
  const mi = Number(m[2]);
  const s = Number(m[3]);
  if (h > 47 || mi > 59 || s > 59) throw new InvalidTradingTimeError(`out-of-range clock ${JSON.stringify(text)}`);
  return h * 3600 + mi * 60 + s;
}

interface RawWindow {
  session: 'day' | 'night';
  start: number;
  end: number;
}

function anchored(session: 'day' | 'night', ranges: [string, string][], anchor: number): RawWindow[] {
  return ranges.map(([a, b]) => {
    const start = anchor + offsetOf(a);
    let end = anchor + offsetOf(b);
    if (end <= start) end += SECONDS_PER_DAY;
    return { session, start, end };
  });
}

/**
 * A shift time anchored like the session's own times. Night times before 12:00:00 (for example `00:30:00` for a
 * night that ends early) are read as the next calendar day, the same day `25:00:00` would name.
 */
function shiftInstant(session: 'day' | 'night', time: string, anchor: number): number {
  const off = offsetOf(time);
  return anchor + (session === 'night' && off < 12 * 3600 ? off + SECONDS_PER_DAY : off);
}

function eventApplies(e: ExchangeEvent, variety: Variety, day: string): boolean {
  return (
    e.exchange === 'SHFE' &&
    (e.variety === undefined || e.variety === variety) &&
    e.start_day <= day &&
    day <= e.end_day
  );
}

function byStartEnd(a: RawWindow, b: RawWindow): number {
  return a.start - b.start || a.end - b.end;
}

function planNum(cal: TradingCalendar, dNum: number, variety: Variety, tradingTime?: TradingTime): SessionPlan {
  const v = parseVariety(variety);
  const day = cal.dayString(dNum);
  if (!cal.isTradingDayNum(dNum)) return { trading_day: day, windows: [], applied_events: [], night_dropped: null };
  const tt = tradingTime ?? defaultTradingTime(v, day);
  const dayAnchor = cstMidnightS(dNum);
  const sessions: Record<'day' | 'night', RawWindow[]> = { day: anchored('day', tt.day, dayAnchor), night: [] };
  let nightAnchor = 0;
  let nightDropped: SessionPlan['night_dropped'] = null;
  if (tt.night.length > 0) {
    const prev = cal.prevTradingDayNum(dNum);
    let gap = false;
    for (let n = prev + 1; n < dNum; n++) if (!isWeekendNum(n)) gap = true;
    if (gap) nightDropped = 'holiday_gap';
    else {
      nightAnchor = cstMidnightS(prev);
      sessions.night = anchored('night', tt.night, nightAnchor);
    }
  }
  const anchorOf = (s: 'day' | 'night'): number => (s === 'day' ? dayAnchor : nightAnchor);

  const events = cal.exchangeEvents().filter((e) => eventApplies(e, v, day));
  const applied: string[] = [];
  for (const e of events) {
    if (e.kind !== 'skip' || sessions[e.session].length === 0) continue;
    sessions[e.session] = [];
    applied.push(e.id);
  }
  for (const e of events) {
    const ws = sessions[e.session].sort(byStartEnd);
    if (e.kind === 'skip' || e.time === undefined || ws.length === 0) continue;
    const at = shiftInstant(e.session, e.time, anchorOf(e.session));
    if (e.kind === 'shift_start') {
      const first = ws[0] as RawWindow;
      if (at >= first.end) continue;
      first.start = at;
    } else {
      const last = ws[ws.length - 1] as RawWindow;
      if (at <= last.start) continue;
      last.end = at;
    }
    applied.push(e.id);
  }

  const windows = [...sessions.night, ...sessions.day].sort(byStartEnd).map(
    (w): SessionWindow => ({
      session: w.session,
      start_s: w.start,
      end_s: w.end,
      start_ns: BigInt(w.start) * NS_PER_S,
      end_ns: BigInt(w.end) * NS_PER_S + (NS_PER_S - 1n),
    }),
  );
  return { trading_day: day, windows, applied_events: applied, night_dropped: nightDropped };
}

/**
 * Session windows of trading day D (§3.3), sorted by (start, end): day windows anchored on D's CST midnight, night
 * windows on `prevTradingDay(D)`'s; no night after a weekday holiday gap; exchange events applied. A day that is
 * not a trading day has no windows. Uses `tradingTime` as given, else the shipped version in effect on D.
 */
export function sessionWindows(
  cal: TradingCalendar,
  tradingDay: string,
  variety: Variety,
  tradingTime?: TradingTime,
): SessionWindow[] {
  return planNum(cal, dayNumber(tradingDay), variety, tradingTime).windows;
}

/** `sessionWindows` plus the events applied and whether the night was dropped, for reports and the CLI. */
export function sessionPlan(
  cal: TradingCalendar,
  tradingDay: string,
  variety: Variety,
  tradingTime?: TradingTime,
): SessionPlan {
  return planNum(cal, dayNumber(tradingDay), variety, tradingTime);
}

/** 18:00 of the previous trading day and 18:00 of D (CST, epoch s): D's span, `[start, end)`. */
function spanOf(cal: TradingCalendar, dNum: number): [number, number] {
  if (!cal.isTradingDayNum(dNum)) throw new NotATradingDayError(cal.dayString(dNum));
  return [cstMidnightS(cal.prevTradingDayNum(dNum)) + 18 * 3600, cstMidnightS(dNum) + 18 * 3600];
}

/** Start of trading day D's span: 18:00 CST of `prevTradingDay(D)`, in epoch ns (inclusive). */
export function tradingDayStartNs(cal: TradingCalendar, tradingDay: string): bigint {
  return BigInt(spanOf(cal, dayNumber(tradingDay))[0]) * NS_PER_S;
}

/** End of trading day D's span: 18:00 CST of D, in epoch ns (exclusive). */
export function tradingDayEndNs(cal: TradingCalendar, tradingDay: string): bigint {
  return BigInt(spanOf(cal, dayNumber(tradingDay))[1]) * NS_PER_S;
}

export interface TradingDayOf {
  trading_day: string;
  in_session: boolean;
  session: 'day' | 'night' | null;
}

// ---- tradingDayOf: per-tick hot path ------------------------------------------------------------------------------

/** A trading day's span and windows in flat form, built once per (calendar, trading time source, variety, day). */
interface DayEntry {
  day: string;
  spanStart: number;
  spanEnd: number;
  starts: number[];
  ends: number[];
  sessions: ('day' | 'night')[];
}

interface EntryCache {
  byDay: Map<string, DayEntry>;
  /** The entry used last per variety: consecutive ticks almost always fall in the same span. */
  last: Map<string, DayEntry>;
}

/**
 * Bound of `byDay` per calendar and trading-time source (≈ 16 years × 3 varieties). When full the map is cleared
 * and refilled on demand: correctness never depends on the cache, only speed does.
 */
const MAX_CACHED_DAYS = 16_384;

const defaultCaches = new WeakMap<TradingCalendar, EntryCache>();
const customCaches = new WeakMap<TradingCalendar, WeakMap<TradingTime, EntryCache>>();

function cacheFor(cal: TradingCalendar, tt: TradingTime | undefined): EntryCache {
  if (tt === undefined) {
    let c = defaultCaches.get(cal);
    if (!c) {
      c = { byDay: new Map(), last: new Map() };
      defaultCaches.set(cal, c);
    }
    return c;
  }
  let perTt = customCaches.get(cal);
  if (!perTt) {
    perTt = new WeakMap();
    customCaches.set(cal, perTt);
  }
  let c = perTt.get(tt);
  if (!c) {
    c = { byDay: new Map(), last: new Map() };
    perTt.set(tt, c);
  }
  return c;
}

function entryFor(cache: EntryCache, cal: TradingCalendar, dNum: number, variety: Variety, tt?: TradingTime): DayEntry {
  const key = `${variety}|${dNum}`;
  let e = cache.byDay.get(key);
  if (e) return e;
  const [spanStart, spanEnd] = spanOf(cal, dNum);
  const plan = planNum(cal, dNum, variety, tt);
  // The span rule and the window rule agree only while every window lies inside the span (§3.4); a trading_time
  // that breaks this (a night opening before 18:00, a day session after 18:00) is refused, not half-applied.
  for (const w of plan.windows) {
    if (w.start_s < spanStart || w.end_s >= spanEnd) {
      throw new InvalidTradingTimeError(
        `${variety} ${w.session} window ${formatCst(w.start_ns)}..${formatCst(w.end_ns)} of ${plan.trading_day} leaves its 18:00-to-18:00 span`,
      );
    }
  }
  e = {
    day: plan.trading_day,
    spanStart,
    spanEnd,
    starts: plan.windows.map((w) => w.start_s),
    ends: plan.windows.map((w) => w.end_s),
    sessions: plan.windows.map((w) => w.session),
  };
  if (cache.byDay.size >= MAX_CACHED_DAYS) cache.byDay.clear();
  cache.byDay.set(key, e);
  return e;
}

/**
 * The trading day of an instant (§3.4): the D whose windows contain it (`in_session` true), else the D whose span
 * `[18:00 CST of prevTradingDay(D), 18:00 CST of D)` contains it (holiday and weekend instants map to the next
 * trading day). O(1) per call after the first instant of a span: windows are cached per (day, variety).
 *
 * @example tradingDayOf(cal, parseCst('2025-01-11 01:30:00'), 'SHFE', 'ag') // { trading_day: '2025-01-13', in_session: true, session: 'night' }
 */
export function tradingDayOf(
  cal: TradingCalendar,
  ns: bigint,
  exchange: 'SHFE',
  variety: Variety,
  tradingTime?: TradingTime,
): TradingDayOf {
  if (exchange !== 'SHFE') throw new UnsupportedExchangeError(exchange);
  const sec = floorSeconds(ns);
  const cache = cacheFor(cal, tradingTime);
  let e = cache.last.get(variety);
  if (e === undefined || sec < e.spanStart || sec >= e.spanEnd) {
    const local = sec + CST_OFFSET_S;
    const calDay = Math.floor(local / SECONDS_PER_DAY);
    const afterClose = local - calDay * SECONDS_PER_DAY >= 18 * 3600;
    const dNum = afterClose || !cal.isTradingDayNum(calDay) ? cal.nextTradingDayNum(calDay) : calDay;
    e = entryFor(cache, cal, dNum, parseVariety(variety), tradingTime);
    cache.last.set(variety, e);
  }
  for (let i = 0; i < e.starts.length; i++) {
    if (sec >= (e.starts[i] as number) && sec <= (e.ends[i] as number)) {
      return { trading_day: e.day, in_session: true, session: e.sessions[i] ?? null };
    }
  }
  return { trading_day: e.day, in_session: false, session: null };
}
