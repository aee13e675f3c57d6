/**
 * Typed read-only views over the mirror tree (market-protocol §1.7). Each view is a fresh frozen snapshot of one
 * node: numeric fields are `number` (NaN when absent or sent as "-"), ns fields are `bigint | null`, strings default
 * to `''`. Client-derived fields (`datetime_ns`, `expire_rest_days`, `pos_*`, `is_*`, `trade_price`) are computed
 * here and never expected on the wire.
 */
import type { ContractInfo, Quote, TickRow } from '#shared/domain/market/ports.ts';
import type { TradingTime } from '#shared/domain/market/sessions.ts';
import { parseCst } from '#shared/domain/market/sessions.ts';
import type { Account, Notify, Order, Position, Trade } from '#shared/domain/trading/ports.ts';
import { ACCOUNT_FIELDS, POSITION_FIELDS } from './fields.ts';

type Node = Record<string, unknown>;

export function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Numeric field: numbers as they are, anything else NaN. */
export function num(node: Node | undefined, key: string): number {
  const v = node?.[key];
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number.NaN;
}

export function str(node: Node | undefined, key: string): string {
  const v = node?.[key];
  return typeof v === 'string' ? v : '';
}

export function ns(node: Node | undefined, key: string): bigint | null {
  const v = node?.[key];
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return null;
}

function bool(node: Node | undefined, key: string): boolean {
  return node?.[key] === true;
}

function tradingTime(v: unknown): TradingTime | null {
  if (!isNode(v)) return null;
  const ranges = (x: unknown): [string, string][] =>
    Array.isArray(x)
      ? x.filter((r): r is [string, string] => Array.isArray(r) && typeof r[0] === 'string' && typeof r[1] === 'string')
      : [];
  return { day: ranges(v.day), night: ranges(v.night) };
}

const NS_PER_DAY = 86_400_000_000_000n;
const CST_OFFSET_NS = 8n * 3_600_000_000_000n;

function cstDayNumber(t: bigint): bigint {
  const local = t + CST_OFFSET_NS;
  const q = local / NS_PER_DAY;
  return local < 0n && q * NS_PER_DAY !== local ? q - 1n : q;
}

/** Quote `datetime` text → epoch ns, or null when empty or unparsable. */
export function quoteDatetimeNs(text: string): bigint | null {
  if (text === '') return null;
  try {
    return parseCst(text);
  } catch {
    return null;
  }
}

function levels(node: Node, prefix: string): number[] {
  const out: number[] = [];
  for (let k = 1; k <= 5; k++) out.push(num(node, `${prefix}${k}`));
  return out;
}

/**
 * A quote view of `quotes/<symbol>`. Static fields missing from the node are taken from `contract` (an `ins_query`
 * answer kept outside the mirror tree, so the tree stays an exact mirror of the server).
 */
export function quoteView(symbol: string, node: Node, contract?: ContractInfo): Quote {
  const q = quoteFromNode(symbol, node);
  if (contract === undefined) return Object.freeze(q);
  const fill = <K extends keyof Quote & keyof ContractInfo>(k: K) => {
    const cur = q[k];
    const missing = typeof cur === 'number' ? Number.isNaN(cur) : cur === '' || cur === null;
    if (missing && contract[k] !== undefined) (q as Record<K, unknown>)[k] = contract[k];
  };
  for (const k of [
    'instrument_id',
    'instrument_name',
    'exchange_id',
    'product_id',
    'ins_class',
    'price_tick',
    'price_decs',
    'volume_multiple',
    'max_limit_order_volume',
    'min_limit_order_volume',
    'expire_datetime',
    'delivery_year',
    'delivery_month',
    'trading_time',
    'underlying_symbol',
    'margin',
    'commission',
  ] as const)
    fill(k);
  if (node.expired === undefined) q.expired = contract.expired;
  if (Number.isNaN(q.expire_rest_days) && q.datetime_ns !== null && q.expire_datetime !== null) {
    q.expire_rest_days = Number(cstDayNumber(q.expire_datetime) - cstDayNumber(q.datetime_ns));
  }
  return Object.freeze(q);
}

function quoteFromNode(symbol: string, node: Node): Quote {
  const datetime = str(node, 'datetime');
  const datetimeNs = quoteDatetimeNs(datetime);
  const expire = ns(node, 'expire_datetime');
  const rest =
    datetimeNs !== null && expire !== null ? Number(cstDayNumber(expire) - cstDayNumber(datetimeNs)) : Number.NaN;
  return {
    symbol,
    instrument_id: str(node, 'instrument_id'),
    datetime,
    datetime_ns: datetimeNs,
    ask_price: levels(node, 'ask_price'),
    ask_volume: levels(node, 'ask_volume'),
    bid_price: levels(node, 'bid_price'),
    bid_volume: levels(node, 'bid_volume'),
    last_price: num(node, 'last_price'),
    highest: num(node, 'highest'),
    lowest: num(node, 'lowest'),
    open: num(node, 'open'),
    close: num(node, 'close'),
    average: num(node, 'average'),
    volume: num(node, 'volume'),
    amount: num(node, 'amount'),
    open_interest: num(node, 'open_interest'),
    settlement: num(node, 'settlement'),
    upper_limit: num(node, 'upper_limit'),
    lower_limit: num(node, 'lower_limit'),
    pre_open_interest: num(node, 'pre_open_interest'),
    pre_settlement: num(node, 'pre_settlement'),
    pre_close: num(node, 'pre_close'),
    ins_class: str(node, 'ins_class') || str(node, 'class'),
    instrument_name: str(node, 'instrument_name'),
    exchange_id: str(node, 'exchange_id'),
    product_id: str(node, 'product_id'),
    price_tick: num(node, 'price_tick'),
    price_decs: num(node, 'price_decs'),
    volume_multiple: num(node, 'volume_multiple'),
    max_limit_order_volume: num(node, 'max_limit_order_volume'),
    min_limit_order_volume: num(node, 'min_limit_order_volume'),
    underlying_symbol: str(node, 'underlying_symbol'),
    expired: bool(node, 'expired'),
    expire_datetime: expire,
    expire_rest_days: rest,
    delivery_year: num(node, 'delivery_year'),
    delivery_month: num(node, 'delivery_month'),
    trading_time: tradingTime(node.trading_time),
    margin: num(node, 'margin'),
    commission: num(node, 'commission'),
  };
}

/**
 * A tick row of `ticks/<symbol>/data/<id>`; `tradingDay` (`YYYYMMDD`) comes from the shared calendar. Returns null when
 * the row has no ns `datetime` (a row that cannot be placed in time is never a tick).
 */
export function tickRowView(symbol: string, id: number, node: Node, tradingDay: string): TickRow | null {
  const datetime = ns(node, 'datetime');
  if (datetime === null) return null;
  // Direct reads in one literal (one hidden class for every row), in the order of `TickRow`.
  const row: TickRow = {
    symbol,
    id,
    trading_day: tradingDay,
    datetime,
    last_price: numOf(node.last_price),
    average: numOf(node.average),
    highest: numOf(node.highest),
    lowest: numOf(node.lowest),
    volume: numOf(node.volume),
    amount: numOf(node.amount),
    open_interest: numOf(node.open_interest),
    ask_price1: numOf(node.ask_price1),
    ask_volume1: numOf(node.ask_volume1),
    bid_price1: numOf(node.bid_price1),
    bid_volume1: numOf(node.bid_volume1),
    ask_price2: numOf(node.ask_price2),
    ask_volume2: numOf(node.ask_volume2),
    bid_price2: numOf(node.bid_price2),
    bid_volume2: numOf(node.bid_volume2),
    ask_price3: numOf(node.ask_price3),
    ask_volume3: numOf(node.ask_volume3),
    bid_price3: numOf(node.bid_price3),
    bid_volume3: numOf(node.bid_volume3),
    ask_price4: numOf(node.ask_price4),
    ask_volume4: numOf(node.ask_volume4),
    bid_price4: numOf(node.bid_price4),
    bid_volume4: numOf(node.bid_volume4),
    ask_price5: numOf(node.ask_price5),
    ask_volume5: numOf(node.ask_volume5),
    bid_price5: numOf(node.bid_price5),
    bid_volume5: numOf(node.bid_volume5),
  };
  return Object.freeze(row);
}

/** `num` on a value already read (numbers as they are, bigints converted, anything else NaN). */
function numOf(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number.NaN;
}

export interface ChartView {
  chart_id: string;
  left_id: number;
  right_id: number;
  more_data: boolean | null;
  ready: boolean | null;
  state: Readonly<Record<string, unknown>> | null;
}

/** A view of `charts/<chart_id>`; `more_data`/`ready` are null when not (yet) sent. */
export function chartView(chartId: string, node: Node): ChartView {
  const state = node.state;
  const optBool = (v: unknown) => (typeof v === 'boolean' ? v : null);
  return Object.freeze({
    chart_id: chartId,
    left_id: typeof node.left_id === 'number' ? node.left_id : -1,
    right_id: typeof node.right_id === 'number' ? node.right_id : -1,
    more_data: optBool(node.more_data),
    ready: optBool(node.ready),
    state: isNode(state) ? state : null,
  });
}

function numericFields(node: Node, table: Readonly<Record<string, string>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, t] of Object.entries(table)) if (t === 'number') out[k] = num(node, k);
  return out;
}

/** A view of `trade/<u>/accounts/CNY`. */
export function accountView(node: Node): Account {
  return Object.freeze({
    ...(numericFields(node, ACCOUNT_FIELDS) as unknown as Account),
    user_id: str(node, 'user_id'),
    currency: str(node, 'currency') || 'CNY',
  });
}

/** An all-zero account for a session that has not received its account node yet. */
export function emptyAccount(): Account {
  return accountView({});
}

/** A view of `trade/<u>/positions/<EXCHANGE.instrument>` with `pos_long`, `pos_short`, `pos`. */
export function positionView(symbol: string, node: Node): Position {
  const base = numericFields(node, POSITION_FIELDS);
  const z = (k: string) => {
    const v = base[k];
    return v === undefined || Number.isNaN(v) ? 0 : v;
  };
  const posLong = z('pos_long_his') + z('pos_long_today');
  const posShort = z('pos_short_his') + z('pos_short_today');
  return Object.freeze({
    ...(base as unknown as Position),
    symbol,
    exchange_id: str(node, 'exchange_id'),
    instrument_id: str(node, 'instrument_id'),
    pos_long: posLong,
    pos_short: posShort,
    pos: posLong - posShort,
  });
}

/** A view of `trade/<u>/trades/<key>`. */
export function tradeView(key: string, node: Node): Trade {
  return Object.freeze({
    key,
    user_id: str(node, 'user_id'),
    order_id: str(node, 'order_id'),
    trade_id: str(node, 'trade_id'),
    exchange_trade_id: str(node, 'exchange_trade_id'),
    exchange_id: str(node, 'exchange_id'),
    instrument_id: str(node, 'instrument_id'),
    direction: str(node, 'direction'),
    offset: str(node, 'offset'),
    price: num(node, 'price'),
    volume: num(node, 'volume'),
    trade_date_time: ns(node, 'trade_date_time'),
    commission: num(node, 'commission'),
    seqno: num(node, 'seqno'),
  });
}

/**
 * A view of `trade/<u>/orders/<order_id>`; `trades` are the order's trades (any order), used for `trade_price`.
 */
export function orderView(orderId: string, node: Node, trades: Iterable<Trade> = []): Order {
  const status = str(node, 'status');
  const exchangeOrderId = str(node, 'exchange_order_id');
  let vol = 0;
  let notional = 0;
  for (const t of trades) {
    if (t.order_id !== orderId || !Number.isFinite(t.volume) || !Number.isFinite(t.price)) continue;
    vol += t.volume;
    notional += t.volume * t.price;
  }
  return Object.freeze({
    seqno: num(node, 'seqno'),
    user_id: str(node, 'user_id'),
    order_id: str(node, 'order_id') || orderId,
    exchange_id: str(node, 'exchange_id'),
    instrument_id: str(node, 'instrument_id'),
    direction: str(node, 'direction'),
    offset: str(node, 'offset'),
    volume_orign: num(node, 'volume_orign'),
    volume_left: num(node, 'volume_left'),
    price_type: str(node, 'price_type'),
    limit_price: num(node, 'limit_price'),
    time_condition: str(node, 'time_condition'),
    volume_condition: str(node, 'volume_condition'),
    insert_date_time: ns(node, 'insert_date_time'),
    exchange_order_id: exchangeOrderId,
    status,
    last_msg: str(node, 'last_msg'),
    frozen_margin: num(node, 'frozen_margin'),
    is_dead: status === 'FINISHED',
    is_online: exchangeOrderId !== '' && status === 'ALIVE',
    is_error: exchangeOrderId === '' && status === 'FINISHED',
    trade_price: vol > 0 ? notional / vol : Number.NaN,
  });
}

/** A view of `notify/<id>`. */
export function notifyView(id: string, node: Node): Notify {
  return Object.freeze({
    id,
    type: str(node, 'type'),
    level: str(node, 'level'),
    code: num(node, 'code'),
    content: str(node, 'content'),
  });
}

/** One `multi_symbol_info` entry of an `ins_query` result → `ContractInfo`. */
export function contractInfoView(entry: Node): ContractInfo {
  const underlying = firstUnderlying(entry);
  const info: ContractInfo = {
    symbol: str(entry, 'instrument_id'),
    instrument_id: str(entry, 'instrument_id'),
    exchange_id: str(entry, 'exchange_id'),
    product_id: str(entry, 'product_id'),
    instrument_name: str(entry, 'instrument_name'),
    ins_class: str(entry, 'class') || str(entry, 'ins_class'),
    price_tick: num(entry, 'price_tick'),
    price_decs: num(entry, 'price_decs'),
    volume_multiple: num(entry, 'volume_multiple'),
    max_limit_order_volume: num(entry, 'max_limit_order_volume'),
    min_limit_order_volume: num(entry, 'min_limit_order_volume'),
    expired: bool(entry, 'expired'),
    expire_datetime: ns(entry, 'expire_datetime'),
    delivery_year: num(entry, 'delivery_year'),
    delivery_month: num(entry, 'delivery_month'),
    trading_time: tradingTime(entry.trading_time),
    underlying_symbol: underlying,
  };
  if (typeof entry.margin === 'number') info.margin = entry.margin;
  if (typeof entry.commission === 'number') info.commission = entry.commission;
  return Object.freeze(info);
}

function firstUnderlying(entry: Node): string {
  const u = entry.underlying;
  if (!isNode(u) || !Array.isArray(u.edges)) return str(entry, 'underlying_symbol');
  for (const edge of u.edges) {
    if (isNode(edge) && isNode(edge.node)) {
      const id = str(edge.node, 'instrument_id');
      if (id !== '') return id;
    }
  }
  return '';
}
