/**
 * From integer-tick blocks to wire-shaped rows, and the row hash used to prove determinism.
 *
 * Prices leave as exact decimals on the tick grid: `ticks × (priceTick·10^decs) / 10^decs` is an integer divided
 * by a power of ten, i.e. the double nearest to the decimal, so au's 0.02 grid prints `600.02`, never
 * `600.0200000001`. `average` is rounded to 3 decimals (the wire carries up to 3).
 */
import { rowHashOfRecord } from '#shared/domain/data/row-hash.ts';
import { TICK_NUMERIC_COLUMNS } from '#shared/domain/data/tick-columns.ts';
import type { SimTickRow, TickBlock } from './types.ts';

/** Decimals of `average` on the wire. */
export const AVERAGE_DECS = 3;

/** Integer ticks → price on the grid, exact decimal. */
export function ticksToWirePrice(ticks: number, priceTick: number, priceDecs: number): number {
  const pow = 10 ** priceDecs;
  return (ticks * Math.round(priceTick * pow)) / pow;
}

/** Day-cumulative average price (CNY) from cumulative amount and volume, rounded to `AVERAGE_DECS`. */
export function averagePrice(amount: number, volume: number, volumeMultiple: number): number {
  if (volume <= 0) return Number.NaN;
  const pow = 10 ** AVERAGE_DECS;
  return Math.round((amount / volume / volumeMultiple) * pow) / pow;
}

/** Row `i` of `block` as the DIFF tick node carries it. */
export function tickRow(block: TickBlock, i: number): SimTickRow {
  if (!Number.isInteger(i) || i < 0 || i >= block.count) {
    throw new RangeError(`tick row ${i} is outside ${block.symbol} ${block.tradingDay} (0..${block.count - 1})`);
  }
  const pow = 10 ** block.priceDecs;
  const unit = Math.round(block.priceTick * pow);
  const px = (t: number): number => (t * unit) / pow;
  const b = block.bidTicks;
  const a = block.askTicks;
  const bv = block.bidVol;
  const av = block.askVol;
  const at = (cols: Int32Array[], l: number): number => (cols[l] as Int32Array)[i] as number;
  const volume = block.volume[i] as number;
  const amount = block.amount[i] as number;
  return {
    id: block.idBase + i,
    datetime: block.datetimeNs[i] as bigint,
    last_price: px(block.lastTicks[i] as number),
    average: averagePrice(amount, volume, block.volumeMultiple),
    highest: px(block.highestTicks[i] as number),
    lowest: px(block.lowestTicks[i] as number),
    ask_price1: px(at(a, 0)),
    ask_volume1: at(av, 0),
    ask_price2: px(at(a, 1)),
    ask_volume2: at(av, 1),
    ask_price3: px(at(a, 2)),
    ask_volume3: at(av, 2),
    ask_price4: px(at(a, 3)),
    ask_volume4: at(av, 3),
    ask_price5: px(at(a, 4)),
    ask_volume5: at(av, 4),
    bid_price1: px(at(b, 0)),
    bid_volume1: at(bv, 0),
    bid_price2: px(at(b, 1)),
    bid_volume2: at(bv, 1),
    bid_price3: px(at(b, 2)),
    bid_volume3: at(bv, 2),
    bid_price4: px(at(b, 3)),
    bid_volume4: at(bv, 3),
    bid_price5: px(at(b, 4)),
    bid_volume5: at(bv, 4),
    volume,
    amount,
    open_interest: block.openInterest[i] as number,
  };
}

/** The 27 numeric columns in canonical order (data-chain §2.1), as the shared tick schema declares them. */
export const HASHED_COLUMNS = TICK_NUMERIC_COLUMNS satisfies readonly (keyof SimTickRow)[];

/**
 * `fnv1a64_v1` of a row (data-chain §2.2): the data chain's row identity over `datetime` and the 27 numeric columns
 * (the tick id is not part of it), as a signed int64 decimal string. Delegates to the shared implementation; NaN and
 * absent values hash as 0.0.
 */
export function rowHash(row: SimTickRow): string {
  return rowHashOfRecord(typeof row.datetime === 'bigint' ? row.datetime : 0n, row).toString();
}
