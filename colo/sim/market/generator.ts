/**
 * Tick generation for one contract-day (market-protocol §2.3 "Intraday path and book", "Trades and cumulative
 * fields"). Pure in its inputs; every draw comes from streams keyed by (seed, contract, day, stream).
 *
 * Per kept slot (grid minus the gap plan):
 * - latent mid (ticks) = variety path + term-structure spread (moving from D−1's to D's over the day's activity
 *   clock) + constant contract offset + the contract's own AR(1) micro noise, reflected inside the variety band;
 * - book: bid1 = ⌊mid⌋, ask1 = bid1 + 1 tick (2 or 3 with small probability), levels 2–5 one tick outward with
 *   occasional one-tick holes; depth per level from the variety's main range scaled by the contract's OI share,
 *   mostly kept from the previous tick while the level's price stays;
 * - trades: the day volume (analytic) is allotted over ticks by cumulative rounding of random activity-weighted
 *   weights, so increments sum exactly to it; tick 0 always trades (the opening trade); the trade price is bid1 or
 *   ask1 (aggressor drawn, leaning with the mid's move); `last` changes only on trades;
 * - open interest moves from the previous day-end value to the analytic day-end value along the cumulative
 *   volume, plus a bridge pinned at both ends; it changes only on trade ticks and by at most the traded lots.
 *
 * Inner loops use 32-bit draws and typed arrays only (no BigInt, no allocation per tick).
 */

import type { Variety } from '#shared/domain/market/varieties.ts';
import { type GapPlan, keptSlots } from './gaps.ts';
import type { DayGrid } from './grid.ts';
import type { VarietyParams } from './params.ts';
import type { VarietyPath } from './path.ts';
import type { CounterRng } from './prng.ts';
import { streamRng } from './prng.ts';
import { LEVELS, type TickBlock } from './types.ts';

/** Everything one contract-day needs besides the streams. */
export interface ContractDayInput extends BlockHeader {
  seed: number;
  params: VarietyParams;
  grid: DayGrid;
  path: VarietyPath;
  gaps: GapPlan;
  /** Term-structure spread + contract offset, ticks, at D−1's close and at D's close. */
  offsetStartTicks: number;
  offsetEndTicks: number;
  /** Analytic day volume (lots, ≥ 1). */
  dayVolume: number;
  /** Open interest before the first tick and at day end. */
  oiStart: number;
  oiEnd: number;
  /** Contract OI / largest OI of the variety that day, (0, 1]. */
  share: number;
}

const U32 = 4_294_967_296;
/** AR(1) coefficient of a contract's micro noise per tick (half-life ≈ 17 s). */
const MICRO_RHO = 0.98;
/** Margin (ticks) between the latent mid and the band edges, room for five levels, a wide spread and holes. */
const BAND_MARGIN_LO = 12;
const BAND_MARGIN_HI = 14;

/** Generate the block. `input.gaps` decides how many rows there are. */
export function generateContractDay(input: ContractDayInput): TickBlock {
  const { grid, path, gaps, params: p } = input;
  const keep = keptSlots(gaps);
  const m = keep.length;
  const block = allocateBlock(input, m);
  if (m === 0) return block;
  copyInstants(grid, keep, block.datetimeNs);

  const key = (stream: string): CounterRng => streamRng(input.seed, input.symbol, input.day, stream);
  const microRng = key('micro');
  const bookRng = key('book');
  const depthRng = key('depth');
  const tradeRng = key('trades');
  const oiRng = key('oi');

  // --- latent mid, ticks -------------------------------------------------------------------------------------
  const tick = input.priceTick;
  const bandLo = Math.ceil(p.band[0] / tick - 1e-9) + BAND_MARGIN_LO;
  const bandHi = Math.floor(p.band[1] / tick + 1e-9) - BAND_MARGIN_HI;
  const mid = new Float64Array(m);
  const level = path.level;
  const frac = path.frac;
  const off0 = input.offsetStartTicks;
  const offD = input.offsetEndTicks - off0;
  const microStep = p.micro_noise_ticks * Math.sqrt(1 - MICRO_RHO * MICRO_RHO) * Math.SQRT2 * Math.sqrt(3);
  let micro = 0;
  for (let j = 0; j < m; j++) {
    const s = keep[j] as number;
    const a = microRng.u32(j);
    // Triangular draw in (−1, 1) with variance 1/6; × √6 → unit variance.
    micro = MICRO_RHO * micro + microStep * (((a & 0xffff) + (a >>> 16)) / 65_536 - 1);
    let x = (level[s] as number) / tick + off0 + offD * (frac[s] as number) + micro;
    if (x < bandLo) x = Math.min(bandHi, 2 * bandLo - x);
    else if (x > bandHi) x = Math.max(bandLo, 2 * bandHi - x);
    mid[j] = x;
  }

  // --- book ----------------------------------------------------------------------------------------------------
  const bid = block.bidTicks;
  const ask = block.askTicks;
  const bidVol = block.bidVol;
  const askVol = block.askVol;
  const wide = p.wide_spread_prob * 65_536;
  const wider = wide / 4;
  const hole = Math.round(p.hole_prob * 256);
  const scale = Math.min(1, Math.max(0, input.share));
  const depthLo = p.main_depth[0];
  const depthSpan = p.main_depth[1] - p.main_depth[0];
  const depthOf = (bits: number): number => {
    const q = bits / 1024;
    const d = Math.round(scale * (depthLo + depthSpan * q * q));
    return d < 1 ? 1 : d;
  };
  const b0 = bid[0] as Int32Array;
  const a0 = ask[0] as Int32Array;
  for (let j = 0; j < m; j++) {
    const spreadBits = bookRng.u32(3 * j) & 0xffff;
    const bidHoles = bookRng.u32(3 * j + 1);
    const askHoles = bookRng.u32(3 * j + 2);
    const b1 = Math.floor(mid[j] as number);
    const a1 = b1 + (spreadBits < wider ? 3 : spreadBits < wide ? 2 : 1);
    b0[j] = b1;
    a0[j] = a1;
    let bp = b1;
    let ap = a1;
    for (let l = 1; l < LEVELS; l++) {
      bp -= 1 + (((bidHoles >>> (8 * (l - 1))) & 0xff) < hole ? 1 : 0);
      ap += 1 + (((askHoles >>> (8 * (l - 1))) & 0xff) < hole ? 1 : 0);
      (bid[l] as Int32Array)[j] = bp;
      (ask[l] as Int32Array)[j] = ap;
    }
    // Ten depths from four draws, 10 bits each (three per draw). A level whose price did not move since the
    // previous tick keeps most of its queue (70 % old, 30 % fresh draw), so depth persists instead of flickering.
    const d0 = depthRng.u32(4 * j);
    const d1 = depthRng.u32(4 * j + 1);
    const d2 = depthRng.u32(4 * j + 2);
    const d3 = depthRng.u32(4 * j + 3);
    setDepth(bid, bidVol, 0, j, depthOf(d0 & 1023));
    setDepth(bid, bidVol, 1, j, depthOf((d0 >>> 10) & 1023));
    setDepth(bid, bidVol, 2, j, depthOf((d0 >>> 20) & 1023));
    setDepth(bid, bidVol, 3, j, depthOf(d1 & 1023));
    setDepth(bid, bidVol, 4, j, depthOf((d1 >>> 10) & 1023));
    setDepth(ask, askVol, 0, j, depthOf((d1 >>> 20) & 1023));
    setDepth(ask, askVol, 1, j, depthOf(d2 & 1023));
    setDepth(ask, askVol, 2, j, depthOf((d2 >>> 10) & 1023));
    setDepth(ask, askVol, 3, j, depthOf((d2 >>> 20) & 1023));
    setDepth(ask, askVol, 4, j, depthOf(d3 & 1023));
  }

  // --- trade sizes: weights, then cumulative rounding to the exact day volume ------------------------------------
  const weight = new Float64Array(m);
  const act = grid.act;
  const idle = p.idle_tick_prob * 65_536;
  let totalWeight = 0;
  for (let j = 0; j < m; j++) {
    const a = tradeRng.u32(2 * j);
    if ((a & 0xffff) < idle) continue;
    // Exponential size draw from the upper 16 bits.
    const w = (act[keep[j] as number] as number) * -Math.log(((a >>> 16) + 0.5) / 65_536);
    weight[j] = w;
    totalWeight += w;
  }
  // The opening auction: tick 0 carries 0.3–0.7 % of the day's weight on top of its own draw.
  const auction = totalWeight * (0.003 + 0.004 * tradeRng.float(2 * m));
  weight[0] = (weight[0] as number) + auction;
  totalWeight += auction;
  // One lot of the opening trade is guaranteed; the rest follows the weights.
  const rest = Math.max(0, input.dayVolume - 1);
  const dv = new Int32Array(m);
  if (totalWeight > 0) {
    let cum = 0;
    let allotted = 0;
    for (let j = 0; j < m; j++) {
      cum += weight[j] as number;
      const upTo = j === m - 1 ? rest : Math.floor((rest * cum) / totalWeight + 0.5);
      dv[j] = upTo - allotted;
      allotted = upTo;
    }
  } else {
    dv[0] = rest;
  }
  dv[0] = (dv[0] as number) + 1;

  // --- trades and cumulative fields ------------------------------------------------------------------------------
  const last = block.lastTicks;
  const hiT = block.highestTicks;
  const loT = block.lowestTicks;
  const vol = block.volume;
  const amount = block.amount;
  const tickValue = Math.round(tick * input.volumeMultiple * 1e6) / 1e6;
  let lastPx = 0;
  let high = 0;
  let low = 0;
  let cumVol = 0;
  let amountTicks = 0;
  let prevMid = mid[0] as number;
  let trades = 0;
  for (let j = 0; j < m; j++) {
    const q = dv[j] as number;
    const mj = mid[j] as number;
    if (q > 0) {
      const lean = Math.max(-0.35, Math.min(0.35, (mj - prevMid) * 0.8));
      const buy = tradeRng.u32(2 * j + 1) / U32 < 0.5 + lean;
      lastPx = buy ? (a0[j] as number) : (b0[j] as number);
      if (trades === 0) {
        high = lastPx;
        low = lastPx;
      } else if (lastPx > high) high = lastPx;
      else if (lastPx < low) low = lastPx;
      cumVol += q;
      amountTicks += q * lastPx;
      trades++;
    }
    prevMid = mj;
    last[j] = lastPx;
    hiT[j] = high;
    loT[j] = low;
    vol[j] = cumVol;
    amount[j] = amountTicks * tickValue;
  }

  // --- open interest: drift along cumulative volume + a bridge over trade ticks, pinned at both ends -------------
  // Each trade moves OI by at most its size, and never so far that the remaining volume could not bring it back
  // to the day-end figure; the analytic volume is ≥ |day OI change| + 1 (`flows.ts`), so the bounds always meet
  // and the last trade lands exactly on `oiEnd`.
  const oi = block.openInterest;
  const oiEnd = input.oiEnd;
  const net = oiEnd - input.oiStart;
  const total = cumVol;
  const step = trades > 0 ? (0.6 * total) / trades : 0;
  const walk = weight; // reuse: the weights are no longer needed
  let w = 0;
  for (let j = 0; j < m; j++) {
    if ((dv[j] as number) > 0) {
      const a = oiRng.u32(j);
      w += step * (((a & 0xffff) + (a >>> 16)) / 65_536 - 1) * 2.449489742783178;
    }
    walk[j] = w;
  }
  const wEnd = w;
  let oiNow = input.oiStart;
  for (let j = 0; j < m; j++) {
    const q = dv[j] as number;
    if (q > 0) {
      const cum = vol[j] as number;
      const f = cum / total;
      const target = Math.round(input.oiStart + net * f + (walk[j] as number) - f * wEnd);
      const remaining = total - cum;
      const lo = Math.max(0, oiNow - q, oiEnd - remaining);
      const hi = Math.min(oiNow + q, oiEnd + remaining);
      oiNow = target < lo ? lo : target > hi ? hi : target;
    }
    oi[j] = oiNow;
  }
  return block;
}

/** The identifying fields of a block. */
export interface BlockHeader {
  symbol: string;
  variety: Variety;
  day: string;
  idBase: number;
  priceTick: number;
  priceDecs: number;
  volumeMultiple: number;
}

/** Depth at `level` of tick `j`: the fresh draw, or mostly the previous tick's queue when the price stayed. */
function setDepth(prices: Int32Array[], depths: Int32Array[], level: number, j: number, fresh: number): void {
  const px = prices[level] as Int32Array;
  const d = depths[level] as Int32Array;
  if (j > 0 && px[j] === px[j - 1]) {
    d[j] = Math.round(0.7 * (d[j - 1] as number) + 0.3 * fresh);
  } else {
    d[j] = fresh;
  }
}

function allocateBlock(input: BlockHeader, m: number): TickBlock {
  // One buffer for the 24 Int32 columns: one allocation per contract-day.
  const ints = new Int32Array(m * 24);
  let next = 0;
  const col = (): Int32Array => ints.subarray(m * next, m * ++next);
  const levels = (): Int32Array[] => Array.from({ length: LEVELS }, col);
  return {
    symbol: input.symbol,
    variety: input.variety,
    tradingDay: input.day,
    idBase: input.idBase,
    count: m,
    priceTick: input.priceTick,
    priceDecs: input.priceDecs,
    volumeMultiple: input.volumeMultiple,
    datetimeNs: new BigInt64Array(m),
    lastTicks: col(),
    bidTicks: levels(),
    askTicks: levels(),
    bidVol: levels(),
    askVol: levels(),
    volume: new Float64Array(m),
    amount: new Float64Array(m),
    openInterest: new Float64Array(m),
    highestTicks: col(),
    lowestTicks: col(),
  };
}

/** Copy the kept slots' instants in runs (typed-array `set`, no BigInt per tick). */
function copyInstants(grid: DayGrid, keep: Int32Array, out: BigInt64Array): void {
  let j = 0;
  while (j < keep.length) {
    const start = keep[j] as number;
    let k = j + 1;
    while (k < keep.length && (keep[k] as number) === start + (k - j)) k++;
    out.set(grid.slotNs.subarray(start, start + (k - j)), j);
    j = k;
  }
}

/** An empty block for a day without ticks (closed day, not listed, expired). */
export function emptyBlock(header: BlockHeader): TickBlock {
  return allocateBlock(header, 0);
}
