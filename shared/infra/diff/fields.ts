/**
 * The field-type coercion table of the merge store (market-protocol §1.6): path patterns → field types. A pattern
 * segment `*` matches any key. Fields not listed are stored as received.
 */

/** `number` may hold NaN; `ns` is an epoch-nanosecond `bigint`. */
export type FieldType = 'number' | 'ns' | 'string' | 'bool';

/** One level of the schema tree: the types of this node's own fields and the schemas of its children. */
export interface SchemaNode {
  readonly fields?: Readonly<Record<string, FieldType>>;
  readonly children?: Readonly<Record<string, SchemaNode>>;
}

function typed(type: FieldType, names: readonly string[]): Record<string, FieldType> {
  return Object.fromEntries(names.map((n) => [n, type]));
}

function levels(prefixes: readonly string[], from: number, to: number): string[] {
  const out: string[] = [];
  for (const p of prefixes) for (let k = from; k <= to; k++) out.push(`${p}${k}`);
  return out;
}

/** Book levels 1..10: the live server sends 6..10 as null on SHFE; they are typed anyway. */
const BOOK = levels(['ask_price', 'ask_volume', 'bid_price', 'bid_volume'], 1, 10);

export const QUOTE_FIELDS: Readonly<Record<string, FieldType>> = {
  ...typed('number', [
    ...BOOK,
    'last_price',
    'highest',
    'lowest',
    'open',
    'close',
    'average',
    'volume',
    'amount',
    'open_interest',
    'settlement',
    'upper_limit',
    'lower_limit',
    'pre_open_interest',
    'pre_settlement',
    'pre_close',
    'price_tick',
    'price_decs',
    'volume_multiple',
    'max_limit_order_volume',
    'min_limit_order_volume',
    'max_market_order_volume',
    'min_market_order_volume',
    'delivery_year',
    'delivery_month',
    'margin',
    'commission',
    'strike_price',
  ]),
  ...typed('string', [
    'instrument_id',
    'datetime',
    'ins_class',
    'class',
    'instrument_name',
    'exchange_id',
    'product_id',
    'underlying_symbol',
  ]),
  expired: 'bool',
  expire_datetime: 'ns',
};

export const TICK_FIELDS: Readonly<Record<string, FieldType>> = {
  ...typed('number', [...BOOK, 'last_price', 'average', 'highest', 'lowest', 'volume', 'amount', 'open_interest']),
  datetime: 'ns',
};

export const KLINE_FIELDS: Readonly<Record<string, FieldType>> = {
  ...typed('number', ['open', 'high', 'low', 'close', 'volume', 'open_oi', 'close_oi']),
  datetime: 'ns',
};

export const ACCOUNT_FIELDS: Readonly<Record<string, FieldType>> = {
  ...typed('string', ['user_id', 'currency']),
  ...typed('number', [
    'pre_balance',
    'deposit',
    'withdraw',
    'static_balance',
    'close_profit',
    'commission',
    'premium',
    'position_profit',
    'float_profit',
    'balance',
    'margin',
    'frozen_margin',
    'frozen_commission',
    'frozen_premium',
    'available',
    'risk_ratio',
  ]),
};

const SIDES = ['long', 'short'];
export const POSITION_FIELDS: Readonly<Record<string, FieldType>> = {
  ...typed('string', ['user_id', 'exchange_id', 'instrument_id']),
  ...typed('number', [
    ...SIDES.flatMap((s) => [
      `volume_${s}_today`,
      `volume_${s}_his`,
      `volume_${s}`,
      `volume_${s}_frozen_today`,
      `volume_${s}_frozen_his`,
      `volume_${s}_frozen`,
      `pos_${s}_his`,
      `pos_${s}_today`,
      `volume_${s}_yd`,
      `open_price_${s}`,
      `open_cost_${s}`,
      `position_price_${s}`,
      `position_cost_${s}`,
      `float_profit_${s}`,
      `position_profit_${s}`,
      `margin_${s}`,
    ]),
    'last_price',
    'float_profit',
    'position_profit',
    'margin',
  ]),
};

export const ORDER_FIELDS: Readonly<Record<string, FieldType>> = {
  ...typed('string', [
    'user_id',
    'order_id',
    'exchange_id',
    'instrument_id',
    'direction',
    'offset',
    'price_type',
    'time_condition',
    'volume_condition',
    'exchange_order_id',
    'status',
    'last_msg',
  ]),
  ...typed('number', ['seqno', 'volume_orign', 'volume_left', 'limit_price', 'frozen_margin', 'frozen_premium']),
  insert_date_time: 'ns',
};

export const TRADE_FIELDS: Readonly<Record<string, FieldType>> = {
  ...typed('string', [
    'user_id',
    'order_id',
    'trade_id',
    'exchange_trade_id',
    'exchange_id',
    'instrument_id',
    'direction',
    'offset',
  ]),
  ...typed('number', ['price', 'volume', 'commission', 'seqno']),
  trade_date_time: 'ns',
};

export const NOTIFY_FIELDS: Readonly<Record<string, FieldType>> = {
  ...typed('string', ['type', 'level', 'content']),
  code: 'number',
};

/** The DIFF data tree of §1.7 as a schema. */
export const DIFF_SCHEMA: SchemaNode = {
  fields: { mdhis_more_data: 'bool', ins_list: 'string' },
  children: {
    _tqsdk_backtest: { fields: { start_dt: 'ns', current_dt: 'ns', end_dt: 'ns' } },
    quotes: { children: { '*': { fields: QUOTE_FIELDS } } },
    notify: { children: { '*': { fields: NOTIFY_FIELDS } } },
    ticks: {
      children: {
        '*': { fields: { last_id: 'number' }, children: { data: { children: { '*': { fields: TICK_FIELDS } } } } },
      },
    },
    klines: {
      children: {
        '*': {
          children: {
            '*': {
              fields: { last_id: 'number', trading_day_start_id: 'number', trading_day_end_id: 'number' },
              children: { data: { children: { '*': { fields: KLINE_FIELDS } } } },
            },
          },
        },
      },
    },
    charts: {
      children: { '*': { fields: { left_id: 'number', right_id: 'number', more_data: 'bool', ready: 'bool' } } },
    },
    trade: {
      children: {
        '*': {
          fields: { user_id: 'string', trading_day: 'string', trade_more_data: 'bool' },
          children: {
            session: { fields: { user_id: 'string', trading_day: 'string' } },
            accounts: { children: { '*': { fields: ACCOUNT_FIELDS } } },
            positions: { children: { '*': { fields: POSITION_FIELDS } } },
            orders: { children: { '*': { fields: ORDER_FIELDS } } },
            trades: { children: { '*': { fields: TRADE_FIELDS } } },
          },
        },
      },
    },
  },
};
