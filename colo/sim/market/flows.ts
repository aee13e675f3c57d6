/**
 * Analytic day-end open interest and day volume per (seed, contract, trading day) — market-protocol §2.3 "Open
 * interest and the main contract". No tick is generated: the roll schedule, tick-count planning and depth scaling
 * read these figures directly.
 *
 * Shape: each contract's weight is a function of trading days to expiry τ (see `DominanceSchema`), times a small
 * static per-contract factor, a ramp over its first listed days, and smooth (OI) or daily (volume) noise; a
 * variety-level scale wanders slowly. Volume uses the squared weight, so it concentrates on the dominant contract
 * more than OI does, while both cross between consecutive dominant contracts on about the same day.
 */
import type { Variety } from '#shared/domain/market/varieties.ts';
import type { GeneratorParams, VarietyParams } from './params.ts';
import { streamRng, valueNoise } from './prng.ts';
import type { ContractInfo, Universe } from './universe.ts';

/** Figures of one listed contract on one trading day. */
export interface ContractFlow {
  info: ContractInfo;
  /** Day-end open interest (lots). */
  oi: number;
  /** Day volume (lots, ≥ 2 so the opening trade always exists). */
  volume: number;
  /** Open interest / largest open interest of the variety that day, in (0, 1]. */
  share: number;
}

/**
 * Average dominance weight of the main over its reign (measured over 2024–2025): the scale that turns the spec's
 * main OI / volume ranges into variety levels.
 */
const MAIN_MEAN_WEIGHT = { monthly: 0.94, semiannual: 0.85 } as const;
/** Listed days over which a new contract's figures ramp up from nearly zero. */
const LISTING_RAMP_DAYS = 15;

export function dominanceWeight(p: VarietyParams, month: number, tau: number): number {
  const d = p.dominance;
  if (d.kind === 'monthly') {
    const x = (tau - d.peak) / d.width;
    return Math.exp(-x * x);
  }
  const rise = 1 / (1 + Math.exp((tau - d.rise_at) / d.rise_scale));
  const fall = 1 / (1 + Math.exp((d.fall_at - tau) / d.fall_scale));
  return (d.major_months.includes(month) ? 1 : d.minor_weight) * rise * fall;
}

export class Flows {
  private readonly byDay = new Map<string, ContractFlow[]>();

  constructor(
    private readonly seed: number,
    private readonly params: GeneratorParams,
    private readonly universe: Universe,
  ) {}

  /** Figures for every contract listed on trading day `idx`, in listing order (by expiry). Cached. */
  listedFlows(variety: Variety, idx: number): ContractFlow[] {
    const key = `${variety}|${idx}`;
    let out = this.byDay.get(key);
    if (out) return out;
    const listed = this.universe.listedAt(variety, idx);
    const raw = listed.map((info) => this.contractFigures(info, idx));
    let maxOi = 1;
    for (const r of raw) maxOi = Math.max(maxOi, r.oi);
    out = listed.map((info, i) => {
      const r = raw[i] as { oi: number; volume: number };
      return { info, oi: r.oi, volume: r.volume, share: Math.max(r.oi, 1) / maxOi };
    });
    // Bounded: about 20 years × 3 varieties of small arrays; cleared rather than evicted when full.
    if (this.byDay.size >= 32_768) this.byDay.clear();
    this.byDay.set(key, out);
    return out;
  }

  /** The figures of one contract on trading day `idx` (listed or not; the caller decides). */
  flowOf(info: ContractInfo, idx: number): ContractFlow {
    for (const f of this.listedFlows(info.variety, idx)) if (f.info.symbol === info.symbol) return f;
    const r = this.contractFigures(info, idx);
    return { info, oi: r.oi, volume: r.volume, share: 0 };
  }

  /**
   * Day-end OI and day volume of `info` on trading day `idx` — pure in (seed, contract, day). Before its first
   * listed day a contract has none. The volume is at least the day's OI change plus one lot, so the intraday OI
   * path can move by at most each trade's size and still land on the day-end figure (see `generator.ts`).
   */
  contractFigures(info: ContractInfo, idx: number): { oi: number; volume: number } {
    if (idx < info.firstIdx || idx > info.lastIdx) return { oi: 0, volume: 0 };
    const p = this.params.varieties[info.variety];
    const w = dominanceWeight(p, info.contract.month, info.lastIdx - idx);
    const scale = this.contractScale(info, idx);
    const oi = this.openInterest(info, idx);
    const prevOi = this.openInterest(info, idx - 1);
    const meanWeight = MAIN_MEAN_WEIGHT[p.dominance.kind];
    const volLevel =
      ((p.main_volume[0] + p.main_volume[1]) / 2 / (meanWeight * meanWeight)) *
      (1 + 0.25 * valueNoise(this.seed, info.variety, 'volume-level', this.universe.dayNumberAt(idx), 21));
    const day = this.universe.dayAt(idx);
    const volNoise = Math.exp(0.12 * (2 * streamRng(this.seed, info.symbol, day, 'volume').float(0) - 1));
    const raw = Math.round(volLevel * (p.volume_floor + w * w) * scale * volNoise);
    return { oi, volume: Math.max(2, raw, Math.abs(oi - prevOi) + 1) };
  }

  /** Day-end OI (lots); 0 outside the listing window (so the first listed day starts from 0). */
  private openInterest(info: ContractInfo, idx: number): number {
    if (idx < 0 || idx < info.firstIdx || idx > info.lastIdx) return 0;
    const p = this.params.varieties[info.variety];
    const w = dominanceWeight(p, info.contract.month, info.lastIdx - idx);
    const meanWeight = MAIN_MEAN_WEIGHT[p.dominance.kind];
    const oiLevel =
      ((p.main_open_interest[0] + p.main_open_interest[1]) / 2 / meanWeight) *
      (1 + 0.15 * valueNoise(this.seed, info.variety, 'oi-level', this.universe.dayNumberAt(idx), 56));
    const oiNoise = Math.exp(0.05 * valueNoise(this.seed, info.symbol, 'oi', this.universe.dayNumberAt(idx), 8));
    const oi = Math.round(oiLevel * (p.oi_floor + (1 - p.oi_floor) * w) * this.contractScale(info, idx) * oiNoise);
    return Math.max(0, oi);
  }

  /** Static per-contract factor (±5 %) times the ramp over the first listed days. */
  private contractScale(info: ContractInfo, idx: number): number {
    const staticDraw = streamRng(this.seed, info.symbol, 'static', 'flows').float(0);
    const ramp = Math.min(1, (idx - info.firstIdx + 1) / LISTING_RAMP_DAYS);
    return Math.exp(0.05 * (2 * staticDraw - 1)) * ramp;
  }
}
