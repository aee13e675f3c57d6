/**
 * The main-contract schedule (market-protocol §2.3 "Roll rule"), computed from analytic day-end figures only.
 *
 * main(D) is decided from D−1's figures: it switches to a later-expiring listed contract only when that contract
 * has both the largest OI and the largest volume, effective at D's first open, and never back. Guard: the main
 * keeps ≥ `MIN_DAYS_TO_EXPIRY` trading days to expiry and is never in its delivery month. The dominance shapes in
 * `flows.ts` make the natural switch happen well before the guard; a guard-forced switch is counted in
 * `forcedSwitches` (a tuning failure the tests assert never happens) and picks the later contract with the
 * largest OI.
 *
 * The schedule is path-dependent, so it is computed forward from the fixed generator epoch and cached per variety.
 */
import type { Variety } from '#shared/domain/market/varieties.ts';
import { NoEligibleMainError } from './errors.ts';
import type { Flows } from './flows.ts';
import type { ContractInfo, Universe } from './universe.ts';

export const MIN_DAYS_TO_EXPIRY = 10;

export class RollSchedule {
  /** Main per trading-day index, from `epochIdx` to the furthest computed. */
  private readonly mains: Record<Variety, ContractInfo[]> = { cu: [], au: [], ag: [] };
  /** Trading-day indices where the guard, not the figures, forced a switch. */
  readonly forcedSwitches: Record<Variety, number[]> = { cu: [], au: [], ag: [] };

  constructor(
    private readonly universe: Universe,
    private readonly flows: Flows,
    private readonly epochIdx: number,
  ) {}

  /** The main contract of `variety` on trading-day index `idx` (≥ epoch). */
  mainAt(variety: Variety, idx: number): ContractInfo {
    const list = this.mains[variety];
    if (idx < this.epochIdx)
      throw new RangeError(`roll schedule starts at trading-day index ${this.epochIdx}, asked ${idx}`);
    while (this.epochIdx + list.length <= idx)
      list.push(this.decide(variety, this.epochIdx + list.length, list.at(-1)));
    return list[idx - this.epochIdx] as ContractInfo;
  }

  private eligible(info: ContractInfo, idx: number): boolean {
    const day = this.universe.dayAt(idx);
    const monthKey = Number(day.slice(0, 4)) * 12 + Number(day.slice(5, 7)) - 1;
    return info.lastIdx - idx >= MIN_DAYS_TO_EXPIRY && info.deliveryMonthKey !== monthKey;
  }

  private decide(variety: Variety, idx: number, prev: ContractInfo | undefined): ContractInfo {
    const figures = this.flows.listedFlows(variety, idx - 1);
    let main = prev;
    if (main === undefined) {
      // Epoch start: the contract with the largest OI among the eligible ones (no history to switch from).
      main = bestBy(
        figures.filter((f) => this.eligible(f.info, idx)),
        (f) => f.oi,
      )?.info;
    } else {
      const byOi = bestBy(figures, (f) => f.oi);
      const byVolume = bestBy(figures, (f) => f.volume);
      const leader = byOi?.info;
      if (
        leader !== undefined &&
        leader === byVolume?.info &&
        leader.lastIdx > main.lastIdx &&
        this.universe.isListedAt(leader, idx) &&
        this.eligible(leader, idx)
      ) {
        main = leader;
      }
    }
    if (main === undefined || !this.eligible(main, idx)) {
      const current = main;
      const later = figures.filter(
        (f) => (current === undefined || f.info.lastIdx > current.lastIdx) && this.eligible(f.info, idx),
      );
      const forced = bestBy(later, (f) => f.oi)?.info;
      if (forced === undefined) throw new NoEligibleMainError(variety, this.universe.dayAt(idx));
      if (current !== undefined) this.forcedSwitches[variety].push(idx);
      main = forced;
    }
    return main;
  }
}

/** The element with the largest key; ties go to the later-listed (later-expiring) one. */
function bestBy<T>(items: readonly T[], key: (t: T) => number): T | undefined {
  let best: T | undefined;
  let bestKey = Number.NEGATIVE_INFINITY;
  for (const it of items) {
    const k = key(it);
    if (k >= bestKey) {
      best = it;
      bestKey = k;
    }
  }
  return best;
}
