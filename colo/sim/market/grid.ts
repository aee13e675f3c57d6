/**
 * The 500 ms slot grid of one (variety, trading day): every `.000`/`.500` instant from each session window's start
 * through its end second's `.000` (both interval ends included, market-protocol §2.3 "Cadence"), from the shared
 * `sessionWindows`. A cu day has 55,804 slots, au/ag 66,604; a non-trading day none.
 *
 * Each slot also carries the U-shaped activity weight (variance share of the intraday path and trade intensity):
 * high at each window's open, lowest mid-window, rising into its close.
 */
import { endianness } from 'node:os';
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { sessionWindows } from '#shared/domain/market/sessions.ts';
import type { Variety } from '#shared/domain/market/varieties.ts';

export const SLOT_NS = 500_000_000;
const SLOTS_PER_S = 2;
/** Slots over which the opening burst of a window decays (about 5 minutes). */
const OPEN_BURST_SLOTS = 600;

/** Window layout only: enough to count ticks and plan gaps without building the grid. */
export interface GridShape {
  /** Slot index of each window's first slot; windows are in time order. */
  windowStarts: number[];
  /** Exclusive end slot index of each window. */
  windowEnds: number[];
  /** Window start, epoch seconds. */
  windowStartS: number[];
  /** Session kind per window. */
  windowSessions: ('day' | 'night')[];
  /** Total slots. */
  n: number;
}

export interface DayGrid extends GridShape {
  variety: Variety;
  day: string;
  /** Epoch ns of each slot. */
  slotNs: BigInt64Array;
  /** Activity weight per slot (mean about 1). */
  act: Float64Array;
}

/** Window layout of a trading day (empty on a closed day). */
export function gridShape(cal: TradingCalendar, day: string, variety: Variety): GridShape {
  const windows = sessionWindows(cal, day, variety);
  const shape: GridShape = { windowStarts: [], windowEnds: [], windowStartS: [], windowSessions: [], n: 0 };
  for (const w of windows) {
    const slots = (w.end_s - w.start_s) * SLOTS_PER_S + 1;
    shape.windowStarts.push(shape.n);
    shape.n += slots;
    shape.windowEnds.push(shape.n);
    shape.windowStartS.push(w.start_s);
    shape.windowSessions.push(w.session);
  }
  return shape;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** The full grid: slot instants and activity weights. */
export function buildGrid(cal: TradingCalendar, day: string, variety: Variety): DayGrid {
  const shape = gridShape(cal, day, variety);
  const slotNs = new BigInt64Array(shape.n);
  const act = new Float64Array(shape.n);
  const words = LITTLE_ENDIAN ? new Uint32Array(slotNs.buffer) : null;
  for (let w = 0; w < shape.windowStarts.length; w++) {
    const a = shape.windowStarts[w] as number;
    const b = shape.windowEnds[w] as number;
    const base = BigInt(shape.windowStartS[w] as number) * 1_000_000_000n;
    if (words) {
      // Fill the 64-bit instants as two 32-bit words with a carry: no BigInt per slot.
      let hi = Number(base >> 32n);
      let lo = Number(base & 0xffff_ffffn);
      for (let s = a; s < b; s++) {
        words[2 * s] = lo;
        words[2 * s + 1] = hi;
        lo += SLOT_NS;
        if (lo >= 4_294_967_296) {
          lo -= 4_294_967_296;
          hi += 1;
        }
      }
    } else {
      for (let s = a; s < b; s++) slotNs[s] = base + BigInt(s - a) * BigInt(SLOT_NS);
    }
    const len = b - a;
    for (let s = a; s < b; s++) {
      const k = s - a;
      const x = (2 * k) / Math.max(1, len - 1) - 1;
      const x2 = x * x;
      act[s] = 0.45 + 1.6 * x2 * x2 + 1.8 * Math.exp(-k / OPEN_BURST_SLOTS);
    }
  }
  return { ...shape, variety, day, slotNs, act };
}
