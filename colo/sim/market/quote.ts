/**
 * Day summaries, price limits and the live quote built from a tick block (market-protocol §1.7 "Quote — live",
 * §2.2 limits, §2.3 settlement). Pure functions over blocks; `SimMarket` supplies the blocks and caches.
 */
import { averagePrice, tickRow, ticksToWirePrice } from './rows.ts';
import type { SimQuoteLive, TickBlock } from './types.ts';

/** Day figures of a contract-day in ticks (prices) and lots / CNY. */
export interface DaySummary {
  open: number;
  close: number;
  settlement: number;
  highest: number;
  lowest: number;
  volume: number;
  amount: number;
  openInterest: number;
}

/** `pre_close`, `pre_settlement` (ticks) and `pre_open_interest` of a day. */
export interface PreviousDay {
  close: number;
  settlement: number;
  openInterest: number;
}

/** Final figures of a non-empty block; settlement = the final average rounded to the tick (half up). */
export function summarizeBlock(block: TickBlock): DaySummary {
  const n = block.count - 1;
  if (n < 0) throw new RangeError(`${block.symbol} ${block.tradingDay} has no ticks to summarize`);
  const volume = block.volume[n] as number;
  const amount = block.amount[n] as number;
  // amount = Σ lots × ticks × tickValue exactly, so amount / tickValue recovers the integer Σ lots × ticks.
  const tickValue = Math.round(block.priceTick * block.volumeMultiple * 1e6) / 1e6;
  return {
    open: block.lastTicks[0] as number,
    close: block.lastTicks[n] as number,
    settlement: Math.floor(amount / tickValue / volume + 0.5),
    highest: block.highestTicks[n] as number,
    lowest: block.lowestTicks[n] as number,
    volume,
    amount,
    openInterest: block.openInterest[n] as number,
  };
}

/** Limits = pre_settlement × (1 ± fraction), rounded inward to the tick; integer-exact in ticks. */
export function limitTicks(preSettlementTicks: number, fraction: number): { upper: number; lower: number } {
  const bp = Math.round(fraction * 10_000);
  return {
    upper: Math.floor((preSettlementTicks * (10_000 + bp)) / 10_000),
    lower: Math.ceil((preSettlementTicks * (10_000 - bp)) / 10_000),
  };
}

/** The live quote as of row `i` of `block`; `closed` turns `close`/`settlement` from `"-"` into numbers. */
export function buildQuote(
  block: TickBlock,
  i: number,
  day: DaySummary,
  pre: PreviousDay,
  limits: { upper: number; lower: number },
  closed: boolean,
): SimQuoteLive {
  const row = tickRow(block, i);
  const px = (t: number): number => ticksToWirePrice(t, block.priceTick, block.priceDecs);
  return {
    instrument_id: block.symbol,
    trading_day: block.tradingDay,
    datetime: row.datetime,
    last_price: row.last_price,
    ask_price1: row.ask_price1,
    ask_volume1: row.ask_volume1,
    ask_price2: row.ask_price2,
    ask_volume2: row.ask_volume2,
    ask_price3: row.ask_price3,
    ask_volume3: row.ask_volume3,
    ask_price4: row.ask_price4,
    ask_volume4: row.ask_volume4,
    ask_price5: row.ask_price5,
    ask_volume5: row.ask_volume5,
    bid_price1: row.bid_price1,
    bid_volume1: row.bid_volume1,
    bid_price2: row.bid_price2,
    bid_volume2: row.bid_volume2,
    bid_price3: row.bid_price3,
    bid_volume3: row.bid_volume3,
    bid_price4: row.bid_price4,
    bid_volume4: row.bid_volume4,
    bid_price5: row.bid_price5,
    bid_volume5: row.bid_volume5,
    highest: row.highest,
    lowest: row.lowest,
    open: px(day.open),
    close: closed ? px(day.close) : '-',
    average: averagePrice(row.amount, row.volume, block.volumeMultiple),
    volume: row.volume,
    amount: row.amount,
    open_interest: row.open_interest,
    settlement: closed ? px(day.settlement) : '-',
    upper_limit: px(limits.upper),
    lower_limit: px(limits.lower),
    pre_open_interest: pre.openInterest,
    pre_settlement: px(pre.settlement),
    pre_close: px(pre.close),
  };
}

/** First index whose instant is ≥ `ns` (binary search over a sorted column). */
export function lowerBound(col: BigInt64Array, ns: bigint): number {
  let lo = 0;
  let hi = col.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((col[mid] as bigint) < ns) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
