/**
 * Static contract facts as the md socket and the trade engine see them: quote static fields, `ins_query` answers
 * (market-protocol §2.4), tradability and per-lot terms (§2.2). Derived from the shared contract rules and the
 * market port; nothing here is stored.
 */
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { CONTRACT_SPECS, expireDatetimeNs } from '#shared/domain/market/contracts.ts';
import { cstMidnightNs } from '#shared/domain/market/cst.ts';
import { defaultTradingTime, tradingDayOf } from '#shared/domain/market/sessions.ts';
import { type ContractSymbol, contractSymbol, parseAnySymbol } from '#shared/domain/market/symbols.ts';
import { VARIETIES, type Variety } from '#shared/domain/market/varieties.ts';
import type { SimConfig } from './config.ts';
import type { MarketPort } from './market-port.ts';
import type { InstrumentStatus } from './trade-engine/intake.ts';
import type { ContractTerms } from './trade-engine/terms.ts';

const NAMES: Record<Variety, string> = { cu: '沪铜', au: '沪金', ag: '沪银' };

export type ParsedSymbol = { kind: 'contract'; contract: ContractSymbol } | { kind: 'cont'; variety: Variety };

export function parseSymbol(symbol: string): ParsedSymbol | null {
  try {
    const s = parseAnySymbol(symbol);
    return s.kind === 'contract' ? s : { kind: 'cont', variety: s.variety };
  } catch {
    // Not a symbol the sim serves: callers answer "unknown" (no quotes node, 409, empty chart).
    return null;
  }
}

export type Entry = Record<string, unknown>;

export class ContractCatalog {
  constructor(
    private readonly cal: TradingCalendar,
    private readonly market: MarketPort,
    private readonly config: SimConfig,
    private readonly historyFrom: string,
  ) {}

  /** A contract the sim knows on `day`: listed, or expired no earlier than `--history-from`. */
  contractExists(c: ContractSymbol, day: string): boolean {
    if (this.market.isListed(c.symbol, day)) return true;
    const last = this.market.lastTradingDay(c.symbol);
    return last !== null && last < day && last >= this.historyFrom;
  }

  /** Whether `symbol` gets a quotes node on `day`. */
  exists(symbol: string, day: string): boolean {
    const p = parseSymbol(symbol);
    if (!p) return false;
    return p.kind === 'cont' ? true : this.contractExists(p.contract, day);
  }

  /** Static quote fields (the `ins_query` facts in quote field names), or null for an unknown symbol. */
  staticQuote(symbol: string, day: string): Entry | null {
    const e = this.entry(symbol, day);
    if (!e) return null;
    const { class: cls, underlying: _u, ...rest } = e;
    return { ...rest, ins_class: cls };
  }

  /** One `multi_symbol_info` entry, or null for an unknown symbol. */
  entry(symbol: string, day: string): Entry | null {
    const p = parseSymbol(symbol);
    if (!p) return null;
    if (p.kind === 'cont') {
      const spec = CONTRACT_SPECS[p.variety];
      const main = this.market.mainContract(p.variety, day);
      return {
        instrument_id: symbol,
        instrument_name: `${NAMES[p.variety]}主连`,
        class: 'CONT',
        exchange_id: 'KQ',
        product_id: p.variety,
        price_tick: spec.price_tick,
        price_decs: spec.price_decs,
        volume_multiple: spec.volume_multiple,
        max_limit_order_volume: 0,
        min_limit_order_volume: 0,
        trading_time: defaultTradingTime(p.variety, day),
        expired: false,
        underlying_symbol: main,
        underlying: { edges: [{ node: { instrument_id: main } }] },
      };
    }
    const c = p.contract;
    if (!this.contractExists(c, day)) return null;
    const spec = CONTRACT_SPECS[c.variety];
    const terms = this.config.products[c.variety];
    const last = this.market.lastTradingDay(c.symbol);
    return {
      instrument_id: c.symbol,
      instrument_name: `${NAMES[c.variety]}${c.yymm}`,
      class: 'FUTURE',
      exchange_id: 'SHFE',
      product_id: c.variety,
      price_tick: spec.price_tick,
      price_decs: spec.price_decs,
      volume_multiple: spec.volume_multiple,
      max_limit_order_volume: terms.max_limit_order_volume,
      min_limit_order_volume: terms.min_limit_order_volume,
      trading_time: defaultTradingTime(c.variety, day),
      expired: last !== null && last < day,
      ...expiry(this.cal, c, last),
      delivery_year: c.year,
      delivery_month: c.month,
      underlying_symbol: '',
      margin: terms.margin,
      commission: terms.commission,
    };
  }

  /** Per-lot terms of a contract (whether or not it is still listed), or null for anything else. */
  termsOf(symbol: string): ContractTerms | null {
    const p = parseSymbol(symbol);
    if (p?.kind !== 'contract') return null;
    const spec = CONTRACT_SPECS[p.contract.variety];
    const terms = this.config.products[p.contract.variety];
    return {
      symbol: p.contract.symbol,
      exchange_id: 'SHFE',
      instrument_id: p.contract.instrument_id,
      product: p.contract.variety,
      priceTick: spec.price_tick,
      volumeMultiple: spec.volume_multiple,
      marginPerLot: terms.margin,
      commissionPerLot: terms.commission,
    };
  }

  /** How the trade engine sees `exchange_id` + `instrument_id` on `day` (409 unknown, 410 not tradable). */
  instrumentStatus(exchangeId: unknown, instrumentId: unknown, day: string): InstrumentStatus {
    const symbol = `${String(exchangeId)}.${String(instrumentId)}`;
    if (exchangeId === 'KQ' || String(instrumentId).startsWith('m@')) {
      return parseSymbol(symbol) ? { kind: 'not_tradable', symbol, reason: 'continuous' } : { kind: 'unknown', symbol };
    }
    const p = parseSymbol(symbol);
    if (p?.kind !== 'contract' || !this.contractExists(p.contract, day)) return { kind: 'unknown', symbol };
    if (!this.market.isListed(p.contract.symbol, day)) return { kind: 'not_tradable', symbol, reason: 'expired' };
    const terms = this.termsOf(p.contract.symbol);
    return terms ? { kind: 'tradable', terms } : { kind: 'unknown', symbol };
  }

  /**
   * Answer an `ins_query` from its `variables` alone: by `instrument_id` list, or by `class` (`class_`) +
   * `exchange_id` + `product_id` (+ `expired`, `timestamp` ns for a point-in-time universe).
   */
  query(variables: unknown, nowNs: bigint): { result: Entry } | { error: string } {
    if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
      return { error: 'variables must be an object' };
    }
    const v = variables as Record<string, unknown>;
    const allowed = new Set(['instrument_id', 'class', 'class_', 'exchange_id', 'product_id', 'expired', 'timestamp']);
    const unsupported = Object.keys(v).filter((k) => !allowed.has(k));
    if (unsupported.length > 0) return { error: `unsupported variables: ${unsupported.join(', ')}` };
    let at = nowNs;
    if (v.timestamp !== undefined) {
      if (typeof v.timestamp !== 'bigint' && typeof v.timestamp !== 'number') return { error: 'timestamp must be ns' };
      at = BigInt(v.timestamp);
    }
    const day = tradingDayOf(this.cal, at, 'SHFE', 'cu').trading_day;
    const list = (x: unknown): string[] | null =>
      x === undefined
        ? null
        : typeof x === 'string'
          ? [x]
          : Array.isArray(x) && x.every((s) => typeof s === 'string')
            ? x
            : [];

    const ids = list(v.instrument_id);
    if (ids !== null) {
      const entries = ids.map((s) => this.entry(s, day)).filter((e): e is Entry => e !== null);
      return { result: { multi_symbol_info: entries } };
    }
    const classes = list(v.class ?? v.class_);
    const exchanges = list(v.exchange_id);
    const products = list(v.product_id);
    if (classes === null && exchanges === null && products === null) {
      return { error: 'expected instrument_id, or class + exchange_id + product_id' };
    }
    if (v.expired !== undefined && typeof v.expired !== 'boolean') return { error: 'expired must be a boolean' };
    const expired = v.expired as boolean | undefined;
    const varieties = VARIETIES.filter((x) => products === null || products.includes(x));
    const out: Entry[] = [];
    for (const variety of varieties) {
      if ((classes === null || classes.includes('CONT')) && (exchanges === null || exchanges.includes('KQ'))) {
        if (expired !== true) {
          const e = this.entry(`KQ.m@SHFE.${variety}`, day);
          if (e) out.push(e);
        }
      }
      if ((classes === null || classes.includes('FUTURE')) && (exchanges === null || exchanges.includes('SHFE'))) {
        for (const symbol of this.contractsOf(variety, day, expired)) {
          const e = this.entry(symbol, day);
          if (e) out.push(e);
        }
      }
    }
    return { result: { multi_symbol_info: out } };
  }

  /** Listed (expired false), expired since `--history-from` (true), or both (undefined) on `day`. */
  private contractsOf(variety: Variety, day: string, expired: boolean | undefined): string[] {
    const listed = this.market.listed(variety, day);
    const out: string[] = expired === true ? [] : [...listed];
    if (expired === false) return out;
    const spec = CONTRACT_SPECS[variety];
    const first = listed[0];
    const p = first ? parseSymbol(first) : null;
    if (p?.kind !== 'contract') return out;
    let y = p.contract.year;
    let m = p.contract.month;
    const older: string[] = [];
    // Walk the month cycle backwards until contracts expired before --history-from (bounded: 20 years of months).
    for (let k = 0; k < 240; k++) {
      m -= 1;
      if (m < 1) {
        m = 12;
        y -= 1;
      }
      if (!spec.listed_months.includes(m)) continue;
      const c = contractSymbol(variety, y, m);
      const last = this.market.lastTradingDay(c.symbol);
      if (last === null || last < this.historyFrom) break;
      if (last < day) older.push(c.symbol);
    }
    return [...older.reverse(), ...out];
  }
}

const FIFTEEN_HOURS_NS = 15n * 3_600_000_000_000n;

/**
 * `expire_datetime` (15:00 CST of the last trading day). A contract listed near the end of the calendar's coverage
 * can expire beyond it: the simulator then sends a provisional expiry (the 15th, or the Monday after when it falls on
 * a weekend) flagged `expire_provisional: true`, a sim extra. Exchange holidays of that year are unknown, so the
 * real date may differ; ghtrader's own code never derives a trading day from it.
 */
function expiry(
  cal: TradingCalendar,
  c: ContractSymbol,
  last: string | null,
): { expire_datetime: bigint; expire_provisional?: true } {
  if (last !== null) return { expire_datetime: expireDatetimeNs(cal, c) };
  const fifteenth = new Date(Date.UTC(c.year, c.month - 1, 15));
  const dow = fifteenth.getUTCDay();
  fifteenth.setUTCDate(15 + (dow === 6 ? 2 : dow === 0 ? 1 : 0));
  return {
    expire_datetime: cstMidnightNs(fifteenth.toISOString().slice(0, 10)) + FIFTEEN_HOURS_NS,
    expire_provisional: true,
  };
}
