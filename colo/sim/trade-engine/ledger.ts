/**
 * The account ledger of one simulated user: the exact wire shapes of `trade/<user_name>/...` (market-protocol §1.7)
 * plus the engine's own counters. Persisted as DIFF JSON (bigint-safe) and parsed back through these schemas.
 */
import * as z from 'zod';

const money = z.number();
const lots = z.number().int().min(0);

export const AccountSchema = z.object({
  user_id: z.string(),
  currency: z.literal('CNY'),
  pre_balance: money,
  deposit: money,
  withdraw: money,
  static_balance: money,
  close_profit: money,
  commission: money,
  premium: money,
  position_profit: money,
  float_profit: money,
  balance: money,
  margin: money,
  frozen_margin: money,
  frozen_commission: money,
  frozen_premium: money,
  available: money,
  risk_ratio: z.number(),
});
export type Account = z.infer<typeof AccountSchema>;

export const PositionSchema = z.object({
  user_id: z.string(),
  exchange_id: z.string(),
  instrument_id: z.string(),
  volume_long_today: lots,
  volume_long_his: lots,
  volume_long: lots,
  volume_long_frozen_today: lots,
  volume_long_frozen_his: lots,
  volume_long_frozen: lots,
  volume_short_today: lots,
  volume_short_his: lots,
  volume_short: lots,
  volume_short_frozen_today: lots,
  volume_short_frozen_his: lots,
  volume_short_frozen: lots,
  pos_long_his: lots,
  pos_long_today: lots,
  pos_short_his: lots,
  pos_short_today: lots,
  volume_long_yd: lots,
  volume_short_yd: lots,
  open_price_long: z.number(),
  open_price_short: z.number(),
  open_cost_long: money,
  open_cost_short: money,
  position_price_long: z.number(),
  position_price_short: z.number(),
  position_cost_long: money,
  position_cost_short: money,
  last_price: z.number(),
  float_profit_long: money,
  float_profit_short: money,
  float_profit: money,
  position_profit_long: money,
  position_profit_short: money,
  position_profit: money,
  margin_long: money,
  margin_short: money,
  margin: money,
});
export type Position = z.infer<typeof PositionSchema>;

export const DirectionSchema = z.enum(['BUY', 'SELL']);
export type Direction = z.infer<typeof DirectionSchema>;
export const OffsetSchema = z.enum(['OPEN', 'CLOSE', 'CLOSETODAY']);
export type Offset = z.infer<typeof OffsetSchema>;

export const OrderSchema = z.object({
  seqno: z.number().int(),
  user_id: z.string(),
  order_id: z.string(),
  exchange_id: z.string(),
  instrument_id: z.string(),
  direction: z.string(),
  offset: z.string(),
  volume_orign: z.number(),
  volume_left: z.number(),
  price_type: z.string(),
  limit_price: z.number(),
  time_condition: z.string(),
  volume_condition: z.string(),
  insert_date_time: z.bigint(),
  exchange_order_id: z.string(),
  status: z.enum(['ALIVE', 'FINISHED']),
  last_msg: z.string(),
  frozen_margin: money,
});
export type Order = z.infer<typeof OrderSchema>;

export const TradeSchema = z.object({
  seqno: z.number().int(),
  user_id: z.string(),
  order_id: z.string(),
  trade_id: z.string(),
  exchange_trade_id: z.string(),
  exchange_id: z.string(),
  instrument_id: z.string(),
  direction: DirectionSchema,
  offset: OffsetSchema,
  price: z.number(),
  volume: z.number().int().min(1),
  trade_date_time: z.bigint(),
  commission: money,
});
export type Trade = z.infer<typeof TradeSchema>;

/** Bound of the remembered order ids used for duplicate detection (407); the oldest are forgotten first. */
export const SEEN_ORDER_IDS_MAX = 100_000;
/** Bound of the kept settlement statements (`qry_settlement_info`). */
export const STATEMENTS_MAX = 60;

export const LedgerSchema = z.object({
  version: z.literal(1),
  user_name: z.string().min(1),
  /** ISO `YYYY-MM-DD`; the wire form is `YYYYMMDD`. */
  trading_day: z.string(),
  account: AccountSchema,
  positions: z.record(z.string(), PositionSchema),
  orders: z.record(z.string(), OrderSchema),
  trades: z.record(z.string(), TradeSchema),
  /** Trading day (ISO) each order / trade belongs to; orders and trades older than the last settled day are dropped. */
  order_days: z.record(z.string(), z.string()),
  trade_days: z.record(z.string(), z.string()),
  /** Per-user sequence of `seqno` for orders and trades. */
  seqno: z.number().int().min(0),
  /** Per-day sequence behind `exchange_order_id` (12 digits); reset at settlement. */
  exchange_order_seq: z.number().int().min(0),
  /** Number of fills per order (the `n` of `<order_id>|<n>`). */
  fill_counts: z.record(z.string(), z.number().int().min(0)),
  seen_order_ids: z.array(z.string()),
  statements: z.array(z.object({ trading_day: z.string(), text: z.string() })),
  /** The trading day whose first login already got the previous statement (notify 325). */
  statement_sent_day: z.string(),
});
export type Ledger = z.infer<typeof LedgerSchema>;

export function emptyAccount(userName: string, balance: number): Account {
  return {
    user_id: userName,
    currency: 'CNY',
    pre_balance: balance,
    deposit: 0,
    withdraw: 0,
    static_balance: balance,
    close_profit: 0,
    commission: 0,
    premium: 0,
    position_profit: 0,
    float_profit: 0,
    balance,
    margin: 0,
    frozen_margin: 0,
    frozen_commission: 0,
    frozen_premium: 0,
    available: balance,
    risk_ratio: 0,
  };
}

export function newLedger(userName: string, tradingDay: string, initialBalance: number): Ledger {
  return {
    version: 1,
    user_name: userName,
    trading_day: tradingDay,
    account: emptyAccount(userName, initialBalance),
    positions: {},
    orders: {},
    trades: {},
    order_days: {},
    trade_days: {},
    seqno: 0,
    exchange_order_seq: 0,
    fill_counts: {},
    seen_order_ids: [],
    statements: [],
    statement_sent_day: tradingDay,
  };
}

export function emptyPosition(userName: string, exchangeId: string, instrumentId: string): Position {
  return {
    user_id: userName,
    exchange_id: exchangeId,
    instrument_id: instrumentId,
    volume_long_today: 0,
    volume_long_his: 0,
    volume_long: 0,
    volume_long_frozen_today: 0,
    volume_long_frozen_his: 0,
    volume_long_frozen: 0,
    volume_short_today: 0,
    volume_short_his: 0,
    volume_short: 0,
    volume_short_frozen_today: 0,
    volume_short_frozen_his: 0,
    volume_short_frozen: 0,
    pos_long_his: 0,
    pos_long_today: 0,
    pos_short_his: 0,
    pos_short_today: 0,
    volume_long_yd: 0,
    volume_short_yd: 0,
    open_price_long: 0,
    open_price_short: 0,
    open_cost_long: 0,
    open_cost_short: 0,
    position_price_long: 0,
    position_price_short: 0,
    position_cost_long: 0,
    position_cost_short: 0,
    last_price: 0,
    float_profit_long: 0,
    float_profit_short: 0,
    float_profit: 0,
    position_profit_long: 0,
    position_profit_short: 0,
    position_profit: 0,
    margin_long: 0,
    margin_short: 0,
    margin: 0,
  };
}

/** `YYYY-MM-DD` → `YYYYMMDD` (the wire form of a trading day). */
export function wireDay(isoDay: string): string {
  return isoDay.replaceAll('-', '');
}
