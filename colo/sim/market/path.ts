/**
 * The variety's intraday latent level (market-protocol §2.3 "Intraday path"): a Brownian bridge over the day's slot
 * grid from the open level (previous anchor close plus an overnight gap) to the day's anchor close, with variance
 * per slot proportional to the U-shaped activity. Every contract of the variety rides on this one path, so the
 * curve moves together; contract spreads and micro noise are added in `generator.ts`.
 */
import type { DayGrid } from './grid.ts';
import { streamRng } from './prng.ts';

export interface VarietyPath {
  /** Latent level per slot (CNY). */
  level: Float64Array;
  /** Cumulative activity fraction after each slot, in (0, 1]; the bridge's clock. */
  frac: Float64Array;
}

/**
 * Bridge from `open` to `close` (CNY). `sigma` is the diffusion over the whole day (CNY, one σ at the end of an
 * unpinned walk); the bridge's largest spread is half of it, mid-day.
 */
export function buildVarietyPath(seed: number, grid: DayGrid, open: number, close: number, sigma: number): VarietyPath {
  const n = grid.n;
  const level = new Float64Array(n);
  const frac = new Float64Array(n);
  if (n === 0) return { level, frac };
  const act = grid.act;
  let total = 0;
  for (let i = 0; i < n; i++) total += act[i] as number;
  const k = sigma / Math.sqrt(total);
  const rng = streamRng(seed, grid.variety, grid.day, 'path');
  let w = 0;
  let cum = 0;
  for (let i = 0; i < n; i++) {
    const a = act[i] as number;
    w += k * Math.sqrt(a) * rng.nextNormal();
    cum += a;
    level[i] = w;
    frac[i] = cum / total;
  }
  frac[n - 1] = 1;
  const wEnd = w;
  const drift = close - open;
  for (let i = 0; i < n; i++) {
    const f = frac[i] as number;
    level[i] = open + drift * f + (level[i] as number) - f * wEnd;
  }
  return { level, frac };
}
