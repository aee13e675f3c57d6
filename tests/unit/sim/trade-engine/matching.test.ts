import { describe, expect, it } from 'vitest';
import { emptyLevelUse, type MatchPolicy, matchOrder } from '#colo/sim/trade-engine/matching.ts';
import { book } from './fixtures.ts';

const opposite: MatchPolicy = { fillPrice: 'opposite', partialFills: false };
const limit: MatchPolicy = { fillPrice: 'limit', partialFills: false };
const partial: MatchPolicy = { fillPrice: 'opposite', partialFills: true };

function buy(limit_price: number, volume_left = 1, volume_condition = 'ANY') {
  return { direction: 'BUY', limit_price, volume_left, volume_condition };
}

describe('matchOrder', () => {
  it('fills a marketable BUY at ask_price1 under the opposite policy', () => {
    // Act
    const fills = matchOrder(buy(75_030), book(75_000, 75_010), opposite, emptyLevelUse());

    // Assess
    expect(fills).toEqual([{ price: 75_010, volume: 1 }]);
  });

  it('fills a marketable BUY at its limit under the limit policy', () => {
    // Act
    const fills = matchOrder(buy(75_030), book(75_000, 75_010), limit, emptyLevelUse());

    // Assess
    expect(fills).toEqual([{ price: 75_030, volume: 1 }]);
  });

  it('does not fill a BUY below ask_price1 nor a SELL above bid_price1', () => {
    // Act
    const b = matchOrder(buy(75_000), book(75_000, 75_010), opposite, emptyLevelUse());
    const s = matchOrder(
      { direction: 'SELL', limit_price: 75_010, volume_left: 1, volume_condition: 'ANY' },
      book(75_000, 75_010),
      opposite,
      emptyLevelUse(),
    );

    // Assess
    expect([b, s]).toEqual([[], []]);
  });

  it('never matches against a NaN opposite side', () => {
    // Prepare
    const locked = book(75_000, 75_010);
    locked.asks = locked.asks.map(() => ({ price: Number.NaN, volume: 0 }));

    // Act
    const fills = matchOrder(buy(80_000), locked, opposite, emptyLevelUse());

    // Assess
    expect(fills).toEqual([]);
  });

  it('fills the whole remainder regardless of depth by default (all-or-nothing, like TqSim)', () => {
    // Act
    const fills = matchOrder(buy(75_010, 50), book(75_000, 75_010, 3), opposite, emptyLevelUse());

    // Assess
    expect(fills).toEqual([{ price: 75_010, volume: 50 }]);
  });

  it('walks the levels within the limit with partial fills', () => {
    // Act
    const fills = matchOrder(buy(75_020, 25), book(75_000, 75_010, 10), partial, emptyLevelUse());

    // Assess
    expect(fills).toEqual([
      { price: 75_010, volume: 10 },
      { price: 75_020, volume: 10 },
    ]);
  });

  it('leaves depth taken by an earlier order in the same tick to nobody else', () => {
    // Prepare
    const use = emptyLevelUse();
    const b = book(75_000, 75_010, 10);
    matchOrder(buy(75_010, 8), b, partial, use);

    // Act
    const second = matchOrder(buy(75_010, 5), b, partial, use);

    // Assess
    expect(second).toEqual([{ price: 75_010, volume: 2 }]);
  });

  it('fills an ALL order completely or not at all with partial fills', () => {
    // Prepare
    const use = emptyLevelUse();

    // Act
    const none = matchOrder(buy(75_010, 11, 'ALL'), book(75_000, 75_010, 10), partial, use);
    const all = matchOrder(buy(75_020, 11, 'ALL'), book(75_000, 75_010, 10), partial, use);

    // Assess
    expect(none).toEqual([]);
    expect(all).toEqual([
      { price: 75_010, volume: 10 },
      { price: 75_020, volume: 1 },
    ]);
  });
});
