/** Shared fixtures for the market-generator tests: one calendar, seeded markets, and column helpers. */
import { SimMarket } from '#colo/sim/market/index.ts';
import type { TickBlock } from '#colo/sim/market/types.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { sessionWindows } from '#shared/domain/market/sessions.ts';
import type { Variety } from '#shared/domain/market/varieties.ts';

export const cal = shippedCalendar();

/** A fresh market (no shared caches between callers). */
export function freshMarket(seed = 42, cacheSize = 32): SimMarket {
  return new SimMarket({ seed, calendar: cal, cacheSize });
}

/** Slots of the 500 ms grid on a trading day (both ends of every window included). */
export function gridSlots(day: string, variety: Variety): number {
  return sessionWindows(cal, day, variety).reduce((n, w) => n + 2 * (w.end_s - w.start_s) + 1, 0);
}

/** Column `level` of a per-level column set (level 0 = best). */
export function lvl(cols: Int32Array[], level: number): Int32Array {
  const c = cols[level];
  if (!c) throw new Error(`no level ${level}`);
  return c;
}

/** Indices `i` of a block for which `bad(i)` holds (first few only, for readable failures). */
export function violations(block: TickBlock, bad: (i: number) => boolean, limit = 5): number[] {
  const out: number[] = [];
  for (let i = 0; i < block.count && out.length < limit; i++) if (bad(i)) out.push(i);
  return out;
}
