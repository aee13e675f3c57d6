/**
 * The gap plan of one contract-day (market-protocol §2.3 "Cadence"): which grid slots carry no tick. A cheap,
 * separate stream (seed, contract, day, 'gaps') so tick counts — and therefore tick ids — are known without
 * generating prices.
 *
 * - Isolated missing slots: about `isolated_gap_rate` of the slots (× the far-month factor), never the day's first
 *   or last slot (the opening trade and the close always exist).
 * - Outages: per session window, with probability `outage_prob` (× factor), one run of 20–240 slots (10–120 s),
 *   never at a window's first slot. A contract holding at least half of the variety's top OI gets at most one
 *   outage per day, which bounds a main contract-day's missing share below 1 %.
 */
import type { GridShape } from './grid.ts';
import type { GeneratorParams } from './params.ts';
import { streamRng } from './prng.ts';

export interface GapPlan {
  /** Isolated missing slots outside the outages, ascending. */
  isolated: Int32Array;
  /** Outage runs `[start, end)` in slot indices, ascending and disjoint. */
  outages: [number, number][];
  /** Slots that carry a tick. */
  count: number;
  /** Slots of the grid. */
  slots: number;
}

const MIN_OUTAGE_SLOTS = 20;
const MAX_OUTAGE_SLOTS = 240;

export function gapPlan(
  seed: number,
  symbol: string,
  day: string,
  shape: GridShape,
  share: number,
  params: GeneratorParams,
): GapPlan {
  const n = shape.n;
  if (n === 0) return { isolated: new Int32Array(0), outages: [], count: 0, slots: 0 };
  const rng = streamRng(seed, symbol, day, 'gaps');
  const factor = 1 + params.gap_far_factor * (1 - Math.min(1, Math.max(0, share)));

  const outages: [number, number][] = [];
  for (let w = 0; w < shape.windowStarts.length; w++) {
    const hit = rng.nextFloat() < params.outage_prob * factor;
    const lenDraw = rng.nextFloat();
    const posDraw = rng.nextFloat();
    if (!hit || (share >= 0.5 && outages.length > 0)) continue;
    const a = shape.windowStarts[w] as number;
    const b = shape.windowEnds[w] as number;
    const len = Math.min(b - a - 2, MIN_OUTAGE_SLOTS + Math.floor(lenDraw * (MAX_OUTAGE_SLOTS - MIN_OUTAGE_SLOTS + 1)));
    if (len <= 0) continue;
    const start = a + 1 + Math.floor(posDraw * (b - a - 1 - len));
    outages.push([start, start + len]);
  }

  const want = Math.round(n * params.isolated_gap_rate * factor * (0.5 + rng.nextFloat()));
  const picked = new Set<number>();
  // Bounded rejection sampling: a duplicate draw is retried, at most 4× the wanted count in total.
  for (let tries = 0; picked.size < want && tries < 4 * want + 16; tries++) {
    picked.add(1 + Math.floor(rng.nextFloat() * (n - 2)));
  }
  const sorted = Int32Array.from(picked).sort();
  let outagesSlots = 0;
  for (const [a, b] of outages) outagesSlots += b - a;
  let kept = 0;
  const isolated = new Int32Array(sorted.length);
  for (const s of sorted) {
    let inside = false;
    for (const [a, b] of outages) if (s >= a && s < b) inside = true;
    if (!inside) isolated[kept++] = s;
  }
  const iso = isolated.slice(0, kept);
  return { isolated: iso, outages, count: n - outagesSlots - iso.length, slots: n };
}

/** Slot indices that carry a tick, ascending (the grid minus the plan's gaps). */
export function keptSlots(plan: GapPlan): Int32Array {
  const out = new Int32Array(plan.count);
  let j = 0;
  let iso = 0;
  let outI = 0;
  const isolated = plan.isolated;
  for (let s = 0; s < plan.slots; s++) {
    let o = plan.outages[outI];
    while (o !== undefined && s >= o[1]) o = plan.outages[++outI];
    if (o !== undefined && s >= o[0]) continue;
    if (iso < isolated.length && isolated[iso] === s) {
      iso++;
      continue;
    }
    out[j++] = s;
  }
  return out;
}
