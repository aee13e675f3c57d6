import { describe, expect, it } from 'vitest';
import { rowHash, tickRow, ticksToWirePrice } from '#colo/sim/market/rows.ts';
import type { SimTickRow, TickBlock } from '#colo/sim/market/types.ts';

function row(fields: Partial<SimTickRow>): SimTickRow {
  const zero: SimTickRow = {
    id: 0,
    datetime: 0n,
    last_price: 0,
    average: 0,
    highest: 0,
    lowest: 0,
    ask_price1: 0,
    ask_volume1: 0,
    ask_price2: 0,
    ask_volume2: 0,
    ask_price3: 0,
    ask_volume3: 0,
    ask_price4: 0,
    ask_volume4: 0,
    ask_price5: 0,
    ask_volume5: 0,
    bid_price1: 0,
    bid_volume1: 0,
    bid_price2: 0,
    bid_volume2: 0,
    bid_price3: 0,
    bid_volume3: 0,
    bid_price4: 0,
    bid_volume4: 0,
    bid_price5: 0,
    bid_volume5: 0,
    volume: 0,
    amount: 0,
    open_interest: 0,
  };
  return { ...zero, ...fields };
}

function oneRowBlock(): TickBlock {
  const col = (v: number) => Int32Array.of(v);
  return {
    symbol: 'SHFE.au2506',
    variety: 'au',
    tradingDay: '2025-03-12',
    idBase: 100,
    count: 1,
    priceTick: 0.02,
    priceDecs: 2,
    volumeMultiple: 1000,
    datetimeNs: BigInt64Array.of(1_741_698_000_000_000_000n),
    lastTicks: col(30_001),
    bidTicks: [col(30_001), col(30_000), col(29_999), col(29_998), col(29_996)],
    askTicks: [col(30_002), col(30_003), col(30_004), col(30_006), col(30_007)],
    bidVol: [col(3), col(4), col(5), col(6), col(7)],
    askVol: [col(8), col(9), col(10), col(11), col(12)],
    volume: Float64Array.of(3),
    amount: Float64Array.of(3 * 30_001 * 20),
    openInterest: Float64Array.of(200_000),
    highestTicks: col(30_001),
    lowestTicks: col(30_001),
  };
}

describe('rowHash (fnv1a64_v1)', () => {
  it('matches the all-zero reference vector', () => {
    // Act
    const h = rowHash(row({}));

    // Assess
    expect(h).toBe('-514687452735585709');
  });

  it('matches the populated reference vector', () => {
    // Prepare
    const r = row({
      datetime: 1_735_689_600_000_000_000n,
      last_price: 70_000,
      bid_price1: 69_990,
      ask_price1: 70_010,
      bid_volume1: 5,
      ask_volume1: 7,
      volume: 100,
      open_interest: 200_000,
    });

    // Act
    const h = rowHash(r);

    // Assess
    expect(h).toBe('-9023450307992665517');
  });

  it('hashes NaN like 0.0 and ignores the tick id', () => {
    // Act
    const withNaN = rowHash(row({ average: Number.NaN, id: 5 }));

    // Assess
    expect(withNaN).toBe('-514687452735585709');
  });
});

describe('wire prices', () => {
  it('prints au prices on the 0.02 grid as exact decimals', () => {
    // Act
    const prices = [30_001, 30_003, 27_501, 32_499].map((t) => ticksToWirePrice(t, 0.02, 2));

    // Assess
    expect(prices.map(String)).toEqual(['600.02', '600.06', '550.02', '649.98']);
  });

  it('builds a wire-shaped row with id, exact prices and the day average', () => {
    // Prepare
    const block = oneRowBlock();

    // Act
    const r = tickRow(block, 0);

    // Assess
    expect(r.id).toBe(100);
    expect(r.last_price).toBe(600.02);
    expect(r.bid_price5).toBe(599.92);
    expect(r.ask_price4).toBe(600.12);
    expect(r.average).toBe(600.02);
    expect(r.amount).toBe(1_800_060);
    expect(r.ask_volume5).toBe(12);
  });

  it('refuses a row index outside the block', () => {
    // Prepare
    const block = oneRowBlock();

    // Act
    const act = () => tickRow(block, 1);

    // Assess
    expect(act).toThrow(RangeError);
  });
});
