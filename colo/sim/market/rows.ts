/**
 * From integer-tick blocks to wire-shaped rows, and the row hash used to prove determinism.
 *
 * Prices leave as exact decimals on the tick grid: `ticks × (priceTick·10^decs) / 10^decs` is an integer divided
 * by a power of ten, i.e. the double nearest to the decimal, so au's 0.02 grid prints `600.02`, never
 * `600.0200000001`. `average` is rounded to 3 decimals (the wire carries up to 3).
 */
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

/** The 27 numeric columns in canonical order (data-chain §2.1). */
export const HASHED_COLUMNS = [
  'last_price',
  'average',
  'highest',
  'lowest',
  'volume',
  'amount',
  'open_interest',
  'bid_price1',
  'bid_volume1',
  'ask_price1',
  'ask_volume1',
  'bid_price2',
  'bid_volume2',
  'ask_price2',
  'ask_volume2',
  'bid_price3',
  'bid_volume3',
  'ask_price3',
  'ask_volume3',
  'bid_price4',
  'bid_volume4',
  'ask_price4',
  'ask_volume4',
  'bid_price5',
  'bid_volume5',
  'ask_price5',
  'ask_volume5',
] as const satisfies readonly (keyof SimTickRow)[];

const FNV_OFFSET = 1469598103934665603n;
const OFFSET_HI = Number(FNV_OFFSET >> 32n);
const OFFSET_LO = Number(FNV_OFFSET & 0xffff_ffffn);
const scratch = new DataView(new ArrayBuffer(8));

/**
 * `fnv1a64_v1` of a row (data-chain §2.2): the data chain's row identity over `datetime` and the 27 numeric columns
 * (the tick id is not part of it), as a signed int64 decimal string. 32-bit-limb arithmetic, checked against both
 * reference vectors in the tests. NaN and absent values hash as 0.0.
 */
export function rowHash(row: SimTickRow): string {
  let hi = OFFSET_HI;
  let lo = OFFSET_LO;
  const mix = (wHi: number, wLo: number): void => {
    // (h XOR w) × 1099511628211 mod 2^64, with 1099511628211 = 2^40 + 0x1b3.
    const xHi = (hi ^ wHi) >>> 0;
    const xLo = (lo ^ wLo) >>> 0;
    const pLo = xLo * 0x1b3;
    const carry = Math.floor(pLo / 4_294_967_296);
    lo = pLo >>> 0;
    hi = (Math.imul(xHi, 0x1b3) + carry + (xLo << 8)) >>> 0;
  };
  scratch.setBigInt64(0, typeof row.datetime === 'bigint' ? row.datetime : 0n, true);
  mix(scratch.getUint32(4, true), scratch.getUint32(0, true));
  for (const col of HASHED_COLUMNS) {
    const v = row[col];
    scratch.setFloat64(0, typeof v === 'number' && !Number.isNaN(v) ? v : 0, true);
    mix(scratch.getUint32(4, true), scratch.getUint32(0, true));
  }
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}
