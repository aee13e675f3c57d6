/**
 * Shapes the market generator hands to the simulator server: columnar tick blocks in integer tick units, the
 * wire-shaped tick row, day statistics and the live quote fields (market-protocol §1.7, §2.3).
 */
import type { Variety } from '#shared/domain/market/varieties.ts';

/** Depth levels of the SHFE book. */
export const LEVELS = 5;

/**
 * One contract-day of ticks as columnar typed arrays. Prices are integer ticks (`price = ticks × priceTick`); row
 * `i` has tick id `idBase + i`. `volume`, `amount`, `highestTicks`, `lowestTicks` are cumulative over the trading
 * day. Blocks are shared through the cache: treat every array as read-only.
 */
export interface TickBlock {
  symbol: string;
  variety: Variety;
  tradingDay: string;
  idBase: number;
  count: number;
  priceTick: number;
  priceDecs: number;
  volumeMultiple: number;
  datetimeNs: BigInt64Array;
  lastTicks: Int32Array;
  /** `bidTicks[level][i]`, level 0 = best. */
  bidTicks: Int32Array[];
  askTicks: Int32Array[];
  bidVol: Int32Array[];
  askVol: Int32Array[];
  /** Cumulative lots. */
  volume: Float64Array;
  /** Cumulative turnover, CNY (Σ Δvolume × price × volume_multiple; exact integers for cu, au, ag). */
  amount: Float64Array;
  openInterest: Float64Array;
  highestTicks: Int32Array;
  lowestTicks: Int32Array;
}

/** Day figures of one contract-day; prices in CNY on the tick grid. */
export interface DayStats {
  open: number;
  close: number;
  settlement: number;
  highest: number;
  lowest: number;
  volume: number;
  amount: number;
  open_interest: number;
  pre_close: number;
  pre_settlement: number;
  pre_open_interest: number;
  upper_limit: number;
  lower_limit: number;
}

/** The five-level SHFE book as the wire carries it: prices in CNY, volumes in lots (levels 6–10 never exist). */
export interface L5BookFields {
  ask_price1: number;
  ask_volume1: number;
  ask_price2: number;
  ask_volume2: number;
  ask_price3: number;
  ask_volume3: number;
  ask_price4: number;
  ask_volume4: number;
  ask_price5: number;
  ask_volume5: number;
  bid_price1: number;
  bid_volume1: number;
  bid_price2: number;
  bid_volume2: number;
  bid_price3: number;
  bid_volume3: number;
  bid_price4: number;
  bid_volume4: number;
  bid_price5: number;
  bid_volume5: number;
}

/** A tick as the DIFF `ticks/<sym>/data/<id>` node carries it (datetime as ns). */
export interface SimTickRow extends L5BookFields {
  id: number;
  datetime: bigint;
  last_price: number;
  average: number;
  highest: number;
  lowest: number;
  volume: number;
  amount: number;
  open_interest: number;
}

/**
 * Live quote fields at a sim instant (§1.7 "Quote — live"). `close` and `settlement` are `"-"` until 15:00 CST of
 * the quote's trading day, as on the wire. `datetime` is the ns of the tick the quote reflects; the server formats
 * it (`formatCst`).
 */
export interface SimQuoteLive extends L5BookFields {
  /** Full symbol (`SHFE.cu2502`), as the quote node carries it. */
  instrument_id: string;
  /** The trading day the quote's figures belong to (not a wire field of the quote). */
  trading_day: string;
  datetime: bigint;
  last_price: number;
  highest: number;
  lowest: number;
  open: number;
  close: number | '-';
  average: number;
  volume: number;
  amount: number;
  open_interest: number;
  settlement: number | '-';
  upper_limit: number;
  lower_limit: number;
  pre_open_interest: number;
  pre_settlement: number;
  pre_close: number;
}
