/**
 * The market-data port (market-protocol §1.13): what the data chain and the strategy need from a market-data
 * provider. `shared/infra/diff/ports.ts` implements it over DIFF; domain code depends only on these types.
 *
 * Conventions: instants are epoch-nanosecond `bigint`s; prices and volumes are `number`s and may be NaN where the
 * provider had no value; trading days at this port are `YYYYMMDD` strings (the DIFF wire form).
 */
import type { TradingTime } from './sessions.ts';
import type { Variety } from './varieties.ts';

/** Static contract information as the provider's contract service answers it. */
export interface ContractInfo {
  /** `SHFE.cu2502` or `KQ.m@SHFE.cu`. */
  symbol: string;
  instrument_id: string;
  exchange_id: string;
  product_id: string;
  instrument_name: string;
  /** `FUTURE`, `CONT`, ... (wire `class`). */
  ins_class: string;
  price_tick: number;
  price_decs: number;
  volume_multiple: number;
  max_limit_order_volume: number;
  min_limit_order_volume: number;
  expired: boolean;
  /** Epoch ns of the expiry instant, as the contract service sends it; null when absent. */
  expire_datetime: bigint | null;
  delivery_year: number;
  delivery_month: number;
  trading_time: TradingTime | null;
  /** CONT aliases only: the underlying contract. */
  underlying_symbol: string;
  /** Per-lot margin and commission in CNY when the provider sends them (simulator extras). */
  margin?: number;
  commission?: number;
}

/** A live quote snapshot (§1.7). Numeric fields are NaN when absent or sent as "-". */
export interface Quote {
  symbol: string;
  instrument_id: string;
  /** `YYYY-MM-DD HH:MM:SS.ffffff` CST as sent; `''` before the first live data. */
  datetime: string;
  /** Client-derived from `datetime`; null before the first live data. */
  datetime_ns: bigint | null;
  ask_price: readonly number[];
  ask_volume: readonly number[];
  bid_price: readonly number[];
  bid_volume: readonly number[];
  last_price: number;
  highest: number;
  lowest: number;
  open: number;
  close: number;
  average: number;
  volume: number;
  amount: number;
  open_interest: number;
  settlement: number;
  upper_limit: number;
  lower_limit: number;
  pre_open_interest: number;
  pre_settlement: number;
  pre_close: number;
  ins_class: string;
  instrument_name: string;
  exchange_id: string;
  product_id: string;
  price_tick: number;
  price_decs: number;
  volume_multiple: number;
  max_limit_order_volume: number;
  min_limit_order_volume: number;
  underlying_symbol: string;
  expired: boolean;
  expire_datetime: bigint | null;
  /** Client-derived: CST calendar days from `datetime` to `expire_datetime`; NaN when either is unknown. */
  expire_rest_days: number;
  delivery_year: number;
  delivery_month: number;
  trading_time: TradingTime | null;
  margin: number;
  commission: number;
}

/**
 * One tick row: the wire field names plus `symbol`, `id` and `trading_day` (`YYYYMMDD`, from the shared calendar).
 * Book levels are flattened as on the wire (`ask_price1` … `bid_volume5`).
 */
export interface TickRow {
  symbol: string;
  id: number;
  trading_day: string;
  datetime: bigint;
  last_price: number;
  average: number;
  highest: number;
  lowest: number;
  volume: number;
  amount: number;
  open_interest: number;
  ask_price1: number;
  ask_volume1: number;
  bid_price1: number;
  bid_volume1: number;
  ask_price2: number;
  ask_volume2: number;
  bid_price2: number;
  bid_volume2: number;
  ask_price3: number;
  ask_volume3: number;
  bid_price3: number;
  bid_volume3: number;
  ask_price4: number;
  ask_volume4: number;
  bid_price4: number;
  bid_volume4: number;
  ask_price5: number;
  ask_volume5: number;
  bid_price5: number;
  bid_volume5: number;
}

/** One event per applied batch per changed quote. */
export interface QuoteEvent {
  symbol: string;
  batch_seq: number;
  quote: Quote;
}

/** Out-of-band notices of a market-data source; consumers key on `kind`. */
export type MarketNotice =
  | { kind: 'data_error'; symbol: string; id: number; reason: string }
  | { kind: 'md_stall'; symbols: string[]; silent_ms: number }
  | { kind: 'connection'; code: number; socket: 'md' | 'td'; message: string }
  | { kind: 'no_data'; chart_id: string; symbol: string }
  | { kind: 'schema_drift'; path: string; expected: string; found: string };

/**
 * A live stream. Iterate it once; `close()` ends the iteration and releases the server-side subscription.
 * Backpressure: items are buffered up to the implementation's stated bound; on overflow the stream fails with an
 * error rather than dropping items silently.
 */
export interface Subscription<T> extends AsyncIterable<T> {
  /** Register a listener for notices concerning this subscription; returns the unsubscribe function. */
  onNotice(listener: (n: MarketNotice) => void): () => void;
  close(): Promise<void>;
}

export interface ListContractsOptions {
  includeExpired?: boolean;
  /** Point-in-time universe: epoch ns. */
  at?: bigint;
}

export interface MarketDataSource {
  listContracts(variety: Variety, opts?: ListContractsOptions): Promise<ContractInfo[]>;
  /** Pages of ≤ 2,000 rows, ids contiguous, every row of `tradingDay` (`YYYYMMDD`). */
  downloadTicks(symbol: string, tradingDay: string): AsyncIterable<TickRow[]>;
  continuousMapping(
    variety: string,
    fromDay: string,
    toDay: string,
  ): Promise<{ trading_day: string; underlying: string }[]>;
  /** One event per batch per changed quote. */
  subscribeQuotes(symbols: string[]): Subscription<QuoteEvent>;
  /** A set_chart tail: each id once, in order; resumes at the next unseen id after a reconnect. */
  subscribeTicks(symbol: string, viewWidth?: number): Subscription<TickRow>;
  /**
   * The provider's notion of now (the simulator's or a replay clock; exchange time against Shinny), after seeing at
   * least one quote so it is not just the local wall clock.
   */
  marketNow?(): Promise<bigint>;
  close(): Promise<void>;
}
