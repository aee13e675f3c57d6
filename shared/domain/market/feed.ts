/**
 * The live market panel's port (`MarketFeedSource`): per variety, the main contract, its latest quote and a bounded
 * window of recent ticks, plus a status payload saying how far to trust them. `shared/services/market-feed.ts`
 * implements it over a `MarketDataSource`; the web app reads it.
 *
 * Conventions: instants are epoch-nanosecond `bigint`s; prices and volumes are `number`s and NaN where the provider
 * had no value (an empty book level, a limit-locked side); JSON answers turn ns into decimal strings and NaN into null.
 */
import type { Variety } from './varieties.ts';

/** Depth of the book the panel shows (SHFE L5). */
export const BOOK_LEVELS = 5;

/** One tick of the chart window: `[datetime_ns, last_price, bid_price1, ask_price1, volume]` (volume cumulative). */
export type MarketPoint = readonly [datetime_ns: bigint, last: number, bid1: number, ask1: number, volume: number];

/** The main contract's latest quote, as the panel shows it. Book arrays hold levels 1..5 (index 0 = level 1). */
export interface MarketQuote {
  symbol: string;
  /** `YYYY-MM-DD HH:MM:SS.ffffff` CST as the provider sent it. */
  datetime: string;
  datetime_ns: bigint | null;
  last_price: number;
  bid_price: readonly number[];
  bid_volume: readonly number[];
  ask_price: readonly number[];
  ask_volume: readonly number[];
  /** Cumulative volume of the trading day (lots). */
  volume: number;
  open_interest: number;
  highest: number;
  lowest: number;
  pre_settlement: number;
  /** Decimal places prices are shown with. */
  price_decs: number;
  /**
   * `quote`: the provider's quote of the contract. `tick`: built from the contract's latest tick row (a tick is the
   * L5 snapshot at that instant) while the provider sends no quote for it; `pre_settlement` is then NaN and the
   * feed status says why.
   */
  source: 'quote' | 'tick';
}

/** The status payload contract (control-chain §1): `state`, one-line `text`, `error` code or "", `updated_at`, `stale`. */
export interface FeedStatus {
  state: 'ok' | 'warn' | 'error' | 'empty' | 'unknown';
  text: string;
  error: string;
  /** UTC ISO-8601 with ms of the last change the feed saw; "" before any. */
  updated_at: string;
  /** True when what the snapshot shows may be behind the market (connection lost, stalled, failed). */
  stale: boolean;
}

export interface MarketSnapshot {
  variety: Variety;
  /** `SHFE.cu2503`; null until `KQ.m@SHFE.<var>` names its underlying. */
  main_contract: string | null;
  /** Null until the main contract's first quote arrives. */
  quote: MarketQuote | null;
  /** Oldest first; bounded by the feed's window size. Cleared when the main contract rolls. */
  points: readonly MarketPoint[];
  feed: FeedStatus;
}

/** What the console reads: a synchronous, in-memory snapshot (never blocks on the network). */
export interface MarketFeedSource {
  snapshot(variety: Variety): MarketSnapshot;
}
