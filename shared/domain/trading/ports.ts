/**
 * The broker port (market-protocol §1.13): what the account gateway needs from a broker session.
 * `shared/infra/diff/ports.ts` implements it over DIFF. Field names follow the DIFF wire (`volume_orign` sic).
 * Instants are epoch-ns `bigint`s; money and prices are `number`s (NaN when the broker had no value).
 */

export type Direction = 'BUY' | 'SELL';
export type Offset = 'OPEN' | 'CLOSE' | 'CLOSETODAY';
export type OrderStatus = 'ALIVE' | 'FINISHED';

export interface Account {
  user_id: string;
  currency: string;
  pre_balance: number;
  deposit: number;
  withdraw: number;
  static_balance: number;
  close_profit: number;
  commission: number;
  premium: number;
  position_profit: number;
  float_profit: number;
  balance: number;
  margin: number;
  frozen_margin: number;
  frozen_commission: number;
  frozen_premium: number;
  available: number;
  /** ghtrader convention: margin / balance. */
  risk_ratio: number;
}

export interface Position {
  /** `EXCHANGE.instrument`, the wire key. */
  symbol: string;
  exchange_id: string;
  instrument_id: string;
  volume_long_today: number;
  volume_long_his: number;
  volume_long: number;
  volume_long_frozen_today: number;
  volume_long_frozen_his: number;
  volume_long_frozen: number;
  volume_short_today: number;
  volume_short_his: number;
  volume_short: number;
  volume_short_frozen_today: number;
  volume_short_frozen_his: number;
  volume_short_frozen: number;
  pos_long_his: number;
  pos_long_today: number;
  pos_short_his: number;
  pos_short_today: number;
  volume_long_yd: number;
  volume_short_yd: number;
  open_price_long: number;
  open_price_short: number;
  open_cost_long: number;
  open_cost_short: number;
  position_price_long: number;
  position_price_short: number;
  position_cost_long: number;
  position_cost_short: number;
  last_price: number;
  float_profit_long: number;
  float_profit_short: number;
  float_profit: number;
  position_profit_long: number;
  position_profit_short: number;
  position_profit: number;
  margin_long: number;
  margin_short: number;
  margin: number;
  /** Client-derived: pos_long_his + pos_long_today. */
  pos_long: number;
  /** Client-derived: pos_short_his + pos_short_today. */
  pos_short: number;
  /** Client-derived: pos_long − pos_short. */
  pos: number;
}

export interface Order {
  seqno: number;
  user_id: string;
  order_id: string;
  exchange_id: string;
  instrument_id: string;
  direction: string;
  offset: string;
  volume_orign: number;
  volume_left: number;
  price_type: string;
  limit_price: number;
  time_condition: string;
  volume_condition: string;
  insert_date_time: bigint | null;
  exchange_order_id: string;
  status: string;
  last_msg: string;
  frozen_margin: number;
  /** Client-derived: status == FINISHED. */
  is_dead: boolean;
  /** Client-derived: exchange_order_id != '' and status == ALIVE. */
  is_online: boolean;
  /** Client-derived: exchange_order_id == '' and status == FINISHED. */
  is_error: boolean;
  /** Client-derived: volume-weighted average price of the order's trades; NaN without trades. */
  trade_price: number;
}

export interface Trade {
  /** The wire key (usually `<order_id>|<n>`, never parsed). */
  key: string;
  user_id: string;
  order_id: string;
  trade_id: string;
  exchange_trade_id: string;
  exchange_id: string;
  instrument_id: string;
  direction: string;
  offset: string;
  price: number;
  volume: number;
  trade_date_time: bigint | null;
  commission: number;
  seqno: number;
}

export interface Notify {
  id: string;
  /** MESSAGE, TEXT, HTML or SETTLEMENT. */
  type: string;
  /** INFO, WARNING or ERROR. */
  level: string;
  /** Consumers key on the code, never on the text. */
  code: number;
  content: string;
}

/** How the order rests: plain limit (GFD), fill-and-kill (IOC + ANY), fill-or-kill (IOC + ALL). */
export type OrderKind = 'LIMIT' | 'FAK' | 'FOK';

export interface OrderRequest {
  /** `^[A-Za-z0-9_-]{1,64}$`, unique per user forever (the gateway makes it). */
  order_id: string;
  /** `SHFE.cu2502`; `KQ.*` aliases are refused. */
  symbol: string;
  direction: Direction;
  offset: Offset;
  volume: number;
  limit_price: number;
  kind?: OrderKind;
  /** Only `LIMIT` is accepted on SHFE; `ANY`/`BEST`/`FIVELEVEL` are refused locally. Default `LIMIT`. */
  price_type?: 'LIMIT' | 'ANY' | 'BEST' | 'FIVELEVEL';
}

/** What one applied td batch changed. Removed keys are listed separately (orders/positions that vanished). */
export interface BrokerUpdate {
  kind: 'update';
  batch_seq: number;
  /** True for the one batch releasing a resync snapshot after a reconnect. */
  resync: boolean;
  account: Account | null;
  orders: Order[];
  trades: Trade[];
  positions: Position[];
  removed: { orders: string[]; trades: string[]; positions: string[] };
}

export type BrokerEvent =
  | BrokerUpdate
  | { kind: 'notify'; notify: Notify }
  | { kind: 'connection'; code: number; message: string }
  | { kind: 'order_ack_timeout'; order_id: string; waited_ms: number }
  | { kind: 'settlement_info'; trading_day: string; user_name: string; settlement_info: string }
  | { kind: 'schema_drift'; path: string; expected: string; found: string };

export interface BrokerSnapshot {
  batch_seq: number;
  trading_day: string;
  account: Account;
  positions: Position[];
  orders: Order[];
  trades: Trade[];
}

export interface BrokerSession {
  login(): Promise<{ trading_day: string; user_id: string }>;
  snapshot(): BrokerSnapshot;
  /** Resolves when sent; the outcome arrives as events. */
  insertOrder(req: OrderRequest): Promise<{ order_id: string }>;
  cancelOrder(orderId: string): Promise<void>;
  /** Per-batch order/trade/position/account changes, notifies, connection events, order_ack_timeout. */
  events(): AsyncIterable<BrokerEvent>;
  close(): Promise<void>;
}
