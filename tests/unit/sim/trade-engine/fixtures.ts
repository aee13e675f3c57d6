/** Small builders shared by the trade-engine unit tests. */
import type { Book } from '#colo/sim/trade-engine/matching.ts';
import type { ContractTerms } from '#colo/sim/trade-engine/terms.ts';

export const CU: ContractTerms = {
  symbol: 'SHFE.cu2502',
  exchange_id: 'SHFE',
  instrument_id: 'cu2502',
  product: 'cu',
  priceTick: 10,
  volumeMultiple: 5,
  marginPerLot: 40_000,
  commissionPerLot: 20,
};

export const CU2: ContractTerms = { ...CU, symbol: 'SHFE.cu2503', instrument_id: 'cu2503' };

export const termsOf = (symbol: string): ContractTerms | null =>
  symbol === CU.symbol ? CU : symbol === CU2.symbol ? CU2 : null;

/** A five-level book around bid/ask with the given depth on every level. */
export function book(bid: number, ask: number, depth = 10, tick = 10): Book {
  return {
    bids: [0, 1, 2, 3, 4].map((i) => ({ price: bid - i * tick, volume: depth })),
    asks: [0, 1, 2, 3, 4].map((i) => ({ price: ask + i * tick, volume: depth })),
  };
}

export function order(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aid: 'insert_order',
    user_id: 'u1',
    order_id: 'o1',
    exchange_id: 'SHFE',
    instrument_id: 'cu2502',
    direction: 'BUY',
    offset: 'OPEN',
    volume: 1,
    price_type: 'LIMIT',
    limit_price: 75_000,
    time_condition: 'GFD',
    volume_condition: 'ANY',
    ...over,
  };
}
