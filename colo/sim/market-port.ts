/**
 * What the servers need from the market generator (`colo/sim/market/`, `SimMarket`). The servers depend on this
 * port, not on the generator's internals, so the socket layers can be tested with a small stand-in and the generator
 * can change its storage without touching them. `market-adapter.ts` implements it over `SimMarket`.
 */
import type { Variety } from '#shared/domain/market/varieties.ts';

/** One trading day of ticks of one contract, as typed arrays in integer tick units. */
export interface TickBlockView {
  /** Epoch ns of each tick, ascending. */
  readonly datetimeNs: BigInt64Array;
  readonly count: number;
  /** Id of the block's first tick (ids are contiguous per contract across days). */
  readonly idBase: number;
}

/** Live quote fields (wire shapes): prices as numbers or `"-"`, `datetime` as `YYYY-MM-DD HH:MM:SS.ffffff`. */
export type LiveQuote = Record<string, number | string>;

/** A wire tick row (`datetime` as bigint ns). */
export type TickRow = Record<string, number | bigint | string>;

/** Settlement-relevant figures of a finished contract-day. */
export interface DayFigures {
  open: number;
  highest: number;
  lowest: number;
  close: number;
  settlement: number;
  volume: number;
  open_interest: number;
  pre_open_interest: number;
}

export interface MarketPort {
  /** Listed (tradable) on trading day `day`. */
  isListed(symbol: string, day: string): boolean;
  /** Last trading day (ISO) of a contract, or null when the symbol is not a contract the sim knows. */
  lastTradingDay(symbol: string): string | null;
  /** First listed trading day (ISO) of a contract; null when unknown or before the calendar's coverage. */
  firstListedDay(symbol: string): string | null;
  /** Listed contracts of a variety on `day`, by expiry. */
  listed(variety: Variety, day: string): string[];
  /** The main contract of a variety on trading day `day`. */
  mainContract(variety: Variety, day: string): string;
  /** `{"SHFE.cu": [[yyyymmdd, "SHFE.cu2503"], ...], ...}` from `from` to `to` (ISO days). */
  continuousTable(from: string, to: string): Record<string, [number, string][]>;
  /** The ticks of a contract-day (empty block when not listed or not a trading day). */
  dayTicks(symbol: string, day: string): TickBlockView;
  /** Id of the first tick of `day` for a contract (cheap: no price generation). */
  tickIdBase(symbol: string, day: string): number;
  /** Wire row of tick `i` of `block`: a new object on every call, which the caller owns (may keep and change). */
  tickRow(block: TickBlockView, i: number): TickRow;
  /**
   * The live quote as of instant `ns` (last tick at or before it; before a day's first tick, the previous day's
   * final state); null when the contract does not trade on the instant's trading day.
   */
  quoteAt(symbol: string, ns: bigint): LiveQuote | null;
  /** Figures of a contract-day (settlement is the day's final average on the tick grid). */
  dayFigures(symbol: string, day: string): DayFigures;
}
