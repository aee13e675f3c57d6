/**
 * SHFE contract specifications, listing and expiry (market-protocol §2.2). Expiry and listing depend on the trading
 * calendar; prices are kept on the tick grid (`priceToTicks` never rounds silently).
 */
import type { TradingCalendar } from './calendar/calendar.ts';
import { dayNumber } from './calendar/days.ts';
import { cstMidnightS, NS_PER_S } from './cst.ts';
import { type ContractSymbol, contractSymbol } from './symbols.ts';
import { parseVariety, type Variety } from './varieties.ts';

export interface ContractSpec {
  variety: Variety;
  exchange: 'SHFE';
  /** Minimum price move, CNY per unit of `volume_multiple`. */
  price_tick: number;
  /** Decimals needed to print a price on the tick grid. */
  price_decs: number;
  /** Units per lot (t, g or kg). */
  volume_multiple: number;
  /** Delivery months (1..12) of the listing cycle. */
  listed_months: number[];
  /** How many unexpired contracts of the cycle are listed at once. */
  listed_count: number;
  product_name: string;
}

const EVERY_MONTH = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

/**
 * The contract universe of market-protocol §2.2. Listing (`listed_months`, `listed_count`) is the simulator's
 * convention: the real SHFE gold cycle also lists the three nearest consecutive months.
 */
export const CONTRACT_SPECS: Readonly<Record<Variety, ContractSpec>> = Object.freeze({
  cu: {
    variety: 'cu',
    exchange: 'SHFE',
    price_tick: 10,
    price_decs: 0,
    volume_multiple: 5,
    listed_months: EVERY_MONTH,
    listed_count: 12,
    product_name: 'copper',
  },
  au: {
    variety: 'au',
    exchange: 'SHFE',
    price_tick: 0.02,
    price_decs: 2,
    volume_multiple: 1000,
    listed_months: [2, 4, 6, 8, 10, 12],
    listed_count: 6,
    product_name: 'gold',
  },
  ag: {
    variety: 'ag',
    exchange: 'SHFE',
    price_tick: 1,
    price_decs: 0,
    volume_multiple: 15,
    listed_months: EVERY_MONTH,
    listed_count: 12,
    product_name: 'silver',
  },
});

/** Last trading day: the 15th of the delivery month, or the next trading day when the 15th is not one. */
export function lastTradingDay(cal: TradingCalendar, contract: ContractSymbol): string {
  const fifteenth = `${contract.year}-${String(contract.month).padStart(2, '0')}-15`;
  return cal.isTradingDay(fifteenth) ? fifteenth : cal.nextTradingDay(fifteenth);
}

/** `expire_datetime`: 15:00 CST of the last trading day, epoch ns (simulator convention). */
export function expireDatetimeNs(cal: TradingCalendar, contract: ContractSymbol): bigint {
  return BigInt(cstMidnightS(dayNumber(lastTradingDay(cal, contract))) + 15 * 3600) * NS_PER_S;
}

/** Whether the contract still trades on `tradingDay` (its last trading day is that day or later). */
export function isExpired(cal: TradingCalendar, contract: ContractSymbol, tradingDay: string): boolean {
  return lastTradingDay(cal, contract) < tradingDay;
}

/**
 * Contracts listed on `tradingDay`: the next `listed_count` unexpired contracts of the variety's month cycle,
 * sorted by expiry. A new contract lists on the trading day after the nearest one expires. Only contracts that
 * deliver in the month of `tradingDay` or earlier need the calendar; later ones are unexpired by construction, so
 * listing works up to the end of the calendar's coverage.
 */
export function listedContracts(cal: TradingCalendar, variety: Variety, tradingDay: string): ContractSymbol[] {
  const spec = CONTRACT_SPECS[parseVariety(variety)];
  const d = dayNumber(tradingDay);
  const year = Number(tradingDay.slice(0, 4));
  const month = Number(tradingDay.slice(5, 7));
  if (!cal.isTradingDayNum(d)) {
    // Listing is a trading-day notion; a closed day lists what the next trading day lists.
    return listedContracts(cal, variety, cal.nextTradingDay(tradingDay));
  }
  const out: ContractSymbol[] = [];
  // Start one month back: a contract of the previous month can never still trade (its 15th-based last trading day
  // falls in its own month), but starting there keeps the rule explicit rather than assumed.
  let y = month === 1 ? year - 1 : year;
  let m = month === 1 ? 12 : month - 1;
  while (out.length < spec.listed_count) {
    if (spec.listed_months.includes(m)) {
      const c = contractSymbol(spec.variety, y, m);
      const laterMonth = y > year || (y === year && m > month);
      if (laterMonth || !isExpired(cal, c, tradingDay)) out.push(c);
    }
    m += 1;
    if (m > 12) {
      m = 1;
      y += 1;
    }
  }
  return out;
}

/**
 * `price` in whole ticks of size `tick` when it lies on the grid (|price/tick − round| < 1e-6), else `null`.
 * Never rounds silently: an off-grid price is the caller's data error to report.
 */
export function priceToTicks(price: number, tick: number): number | null {
  if (!Number.isFinite(price) || !Number.isFinite(tick) || tick <= 0) return null;
  const q = price / tick;
  const r = Math.round(q);
  if (Math.abs(q - r) >= 1e-6) return null;
  return r === 0 ? 0 : r;
}

/** The price of `ticks` whole ticks, rounded to the variety's decimals so `ticksToPrice(7001, 0.02)` is `140.02`. */
export function ticksToPrice(ticks: number, spec: Pick<ContractSpec, 'price_tick' | 'price_decs'>): number {
  return Number((ticks * spec.price_tick).toFixed(spec.price_decs));
}
