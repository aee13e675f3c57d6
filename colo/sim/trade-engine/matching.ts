/**
 * Order matching against the simulated book (market-protocol §2.6). Our fills never move the market; the book only
 * decides whether and how much an order fills.
 *
 * - BUY is marketable iff `limit_price >= ask_price1`, SELL iff `limit_price <= bid_price1`; a NaN opposite side
 *   never matches.
 * - `fillPrice: 'opposite'` fills at the opposite price (level by level with partial fills), `'limit'` at the limit.
 * - Default: all-or-nothing for the whole remainder at the best level, regardless of depth (FOK ≡ FAK, like TqSim).
 * - `partialFills`: walk the opposite levels within the limit, each capped by its depth minus what earlier orders took
 *   in the same tick (`LevelUse`); `volume_condition: 'ALL'` fills completely or not at all.
 */

export type FillPricePolicy = 'opposite' | 'limit';

export interface MatchPolicy {
  fillPrice: FillPricePolicy;
  partialFills: boolean;
}

export interface BookLevel {
  price: number;
  volume: number;
}

/** Levels 1..5 of each side, best first (missing or NaN levels allowed). */
export interface Book {
  asks: BookLevel[];
  bids: BookLevel[];
}

/** Volume already taken per level in the current tick, by side; reset when the next tick arrives. */
export interface LevelUse {
  asks: number[];
  bids: number[];
}

export function emptyLevelUse(): LevelUse {
  return { asks: [0, 0, 0, 0, 0], bids: [0, 0, 0, 0, 0] };
}

export interface MatchableOrder {
  direction: string;
  limit_price: number;
  volume_left: number;
  volume_condition: string;
}

export interface Fill {
  price: number;
  volume: number;
}

function within(direction: string, limit: number, price: number): boolean {
  if (!Number.isFinite(price)) return false;
  return direction === 'BUY' ? limit >= price - 1e-9 : limit <= price + 1e-9;
}

/** The fills an order gets against `book` now; empty when it does not match. Updates `use` for partial fills. */
export function matchOrder(order: MatchableOrder, book: Book, policy: MatchPolicy, use: LevelUse): Fill[] {
  if (order.volume_left <= 0) return [];
  const buy = order.direction === 'BUY';
  const levels = buy ? book.asks : book.bids;
  const best = levels[0];
  if (best === undefined || !within(order.direction, order.limit_price, best.price)) return [];

  if (!policy.partialFills) {
    const price = policy.fillPrice === 'opposite' ? best.price : order.limit_price;
    return [{ price, volume: order.volume_left }];
  }

  const taken = buy ? use.asks : use.bids;
  const plan: { level: number; fill: Fill }[] = [];
  let left = order.volume_left;
  for (let i = 0; i < levels.length && left > 0; i++) {
    const level = levels[i];
    if (level === undefined || !within(order.direction, order.limit_price, level.price)) break;
    const free = Math.max(0, level.volume - (taken[i] ?? 0));
    if (free === 0) continue;
    const volume = Math.min(free, left);
    plan.push({ level: i, fill: { price: policy.fillPrice === 'opposite' ? level.price : order.limit_price, volume } });
    left -= volume;
  }
  if (order.volume_condition === 'ALL' && left > 0) return [];
  for (const p of plan) taken[p.level] = (taken[p.level] ?? 0) + p.fill.volume;
  return plan.map((p) => p.fill);
}
