/**
 * The variety anchor (market-protocol §2.3 "Price levels"): one close level per trading day from a mean-reverting
 * walk in log price, reflected into the variety band narrowed by room for term-structure spreads, computed forward
 * from the fixed generator epoch and cached per variety. Day d's shock is drawn from the stream (seed, variety,
 * d, 'anchor'), so the walk does not depend on which day is asked first.
 */
import type { Variety } from '#shared/domain/market/varieties.ts';
import type { GeneratorParams, VarietyParams } from './params.ts';
import { streamRng, valueNoise } from './prng.ts';
import type { Universe } from './universe.ts';

/** Trading months per trading day, for "months to delivery" of the term structure. */
export const MONTHS_PER_TRADING_DAY = 1 / 21;
/** The farthest listed contract is at most about this many months from delivery. */
const MAX_MONTHS_OUT = 12.5;

/** Bounds of the anchor's log price: the band minus the room the term structure needs on each side. */
export function anchorBounds(p: VarietyParams): { lo: number; hi: number } {
  const [bandLo, bandHi] = p.band;
  const [sLo, sHi] = p.spread_per_month;
  const roomHi = Math.max(0, sHi) * MAX_MONTHS_OUT;
  const roomLo = Math.max(0, -sLo) * MAX_MONTHS_OUT;
  // Keep at least half of the band for the walk itself, whatever the spreads say.
  const half = (bandHi - bandLo) / 4;
  return {
    lo: Math.log(bandLo + Math.min(roomLo, half) + 0.01 * (bandHi - bandLo)),
    hi: Math.log(bandHi - Math.min(roomHi, half) - 0.01 * (bandHi - bandLo)),
  };
}

export class AnchorWalk {
  private readonly logs: Record<Variety, number[]> = { cu: [], au: [], ag: [] };

  constructor(
    private readonly seed: number,
    private readonly params: GeneratorParams,
    private readonly universe: Universe,
    /** Trading-day index of the generator epoch: the first day of the walk. */
    readonly epochIdx: number,
  ) {}

  /** Anchor close level (CNY) of trading-day index `idx` ≥ epoch. */
  close(variety: Variety, idx: number): number {
    return Math.exp(this.logClose(variety, idx));
  }

  logClose(variety: Variety, idx: number): number {
    if (idx < this.epochIdx)
      throw new RangeError(`anchor walk starts at trading-day index ${this.epochIdx}, asked ${idx}`);
    const list = this.logs[variety];
    const p = this.params.varieties[variety];
    const { lo, hi } = anchorBounds(p);
    const mid = (lo + hi) / 2;
    while (this.epochIdx + list.length <= idx) {
      const i = this.epochIdx + list.length;
      const rng = streamRng(this.seed, variety, this.universe.dayAt(i), 'anchor');
      let x: number;
      const prev = list.at(-1);
      if (prev === undefined) x = mid + (2 * rng.nextFloat() - 1) * 0.5 * (hi - lo);
      else x = prev + p.mean_reversion * (mid - prev) + p.daily_sigma * rng.nextNormal();
      // Reflect (repeatedly, for a step wider than the band) so the walk stays inside without sticking to an edge.
      for (let k = 0; k < 8 && (x < lo || x > hi); k++) x = x < lo ? 2 * lo - x : 2 * hi - x;
      list.push(Math.min(hi, Math.max(lo, x)));
    }
    return list[idx - this.epochIdx] as number;
  }

  /** Overnight gap into trading day `idx`, as a log return (σ = gap_sigma × daily σ). */
  overnightGap(variety: Variety, idx: number): number {
    const p = this.params.varieties[variety];
    return p.gap_sigma * p.daily_sigma * streamRng(this.seed, variety, this.universe.dayAt(idx), 'gap').nextNormal();
  }

  /** Term-structure spread per month to delivery (CNY) on trading day `idx`: slowly varying inside its range. */
  spreadPerMonth(variety: Variety, idx: number): number {
    const [lo, hi] = this.params.varieties[variety].spread_per_month;
    const t = (1 + valueNoise(this.seed, variety, 'spread', this.universe.dayNumberAt(idx), 42)) / 2;
    return lo + (hi - lo) * t;
  }
}
