/**
 * Where `ghtrader up` starts the simulator's clock so the console shows a live market at any wall-clock hour.
 *
 * The rule (exactly; `shiftedSimStart` implements it, `tests/unit/colo/sim-demo-clock.test.ts` pins it):
 * 1. Reference windows are cu's session windows from the shared calendar (`sessionWindows`). cu's windows lie inside
 *    au's and ag's (same day session, a shorter night), so all three varieties trade inside every one of them.
 * 2. If now lies inside a window, the clock starts at now: no shift, the simulator follows the wall clock.
 * 3. Otherwise take the most recent window that ended before now (walking back over trading days, so weekends,
 *    holidays and dropped night sessions are handled by the calendar) and start `DEMO_LEAD_S` (30 min) before its
 *    close, or at its open when the window is shorter than that. Ticks then flow for 30 minutes of wall time before
 *    the simulated market reaches that close; after it the simulator goes on at speed 1 like a real exchange
 *    (breaks, the next session `now − start` later). Started at any time inside the same closed period, the clock
 *    starts at the same instant, so restarts inside one break replay the same (deterministic) market and never move
 *    the simulator's trading day backwards within that break.
 * 4. When now lies past the calendar's coverage, the last window of the last covered trading day is used (rule 3).
 *
 * The simulator runs `accelerated` at speed 1 from that start (`--sim-clock realtime` uses the wall clock instead).
 */
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { cstMidnightNs, type SessionWindow, sessionWindows, tradingDayOf } from '#shared/domain/market/sessions.ts';
import { CalendarOutOfRangeError } from '#shared/errors/market.ts';

/** How much of the last session the demo replays when it starts outside every session. */
export const DEMO_LEAD_S = 30 * 60;
const NS_PER_S = 1_000_000_000n;
/** Trading days walked back looking for an ended window (a trading day always has one; 10 is generous). */
const MAX_DAYS_BACK = 10;

export interface ShiftedStart {
  /** The instant the simulator clock starts at (epoch ns). */
  startNs: bigint;
  /** `in_session`: now itself (no shift); `last_session`: inside the most recent ended window. */
  rule: 'in_session' | 'last_session';
  /** The window the start lies in. */
  window: SessionWindow;
  tradingDay: string;
}

/** The simulator's start for a demo at wall time `nowNs` (the rule in the file comment). */
export function shiftedSimStart(cal: TradingCalendar, nowNs: bigint): ShiftedStart {
  let day: string;
  try {
    day = tradingDayOf(cal, nowNs, 'SHFE', 'cu').trading_day;
  } catch (err) {
    // Before the calendar's coverage there is nothing to fall back to.
    if (!(err instanceof CalendarOutOfRangeError) || nowNs < cstMidnightNs(cal.covers.from)) throw err;
    const last = cal.isTradingDay(cal.covers.to) ? cal.covers.to : cal.prevTradingDay(cal.covers.to);
    const windows = sessionWindows(cal, last, 'cu');
    const w = windows[windows.length - 1];
    if (!w) throw new Error(`trading day ${last} has no cu session window`);
    return leadInto(w, last);
  }
  for (let i = 0; i < MAX_DAYS_BACK; i++) {
    const windows = sessionWindows(cal, day, 'cu');
    const inside = windows.find((w) => w.start_ns <= nowNs && nowNs <= w.end_ns);
    if (inside) return { startNs: nowNs, rule: 'in_session', window: inside, tradingDay: day };
    const ended = windows.filter((w) => w.end_ns < nowNs);
    const last = ended[ended.length - 1];
    if (last) return leadInto(last, day);
    day = cal.prevTradingDay(day);
  }
  throw new Error(`no cu session window ended in the ${MAX_DAYS_BACK} trading days before ${nowNs} ns`);
}

function leadInto(w: SessionWindow, tradingDay: string): ShiftedStart {
  const startS = Math.max(w.start_s, w.end_s - DEMO_LEAD_S);
  return { startNs: BigInt(startS) * NS_PER_S, rule: 'last_session', window: w, tradingDay };
}
