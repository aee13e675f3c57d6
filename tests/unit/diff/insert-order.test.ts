import { describe, expect, it } from 'vitest';
import type { OrderRequest } from '#shared/domain/trading/ports.ts';
import { OrderRefusedError } from '#shared/errors/diff.ts';
import { stringifyDiffJson } from '#shared/infra/diff/json.ts';
import { insertOrderFrame } from '#shared/infra/diff/order-frame.ts';
import { BoundedSet } from '#shared/infra/diff/queue.ts';

const BASE: OrderRequest = {
  order_id: 'GW_0001',
  symbol: 'SHFE.cu2502',
  direction: 'BUY',
  offset: 'OPEN',
  volume: 2,
  limit_price: 75230,
};
const LIMITS = { price_tick: 10, max_limit_order_volume: 500, upper_limit: 80000, lower_limit: 70000 };

function refusal(req: OrderRequest, limits: typeof LIMITS | undefined = LIMITS): OrderRefusedError {
  try {
    insertOrderFrame('u1', req, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(OrderRefusedError);
    return err as OrderRefusedError;
  }
  throw new Error('expected a local refusal');
}

describe('insert_order wire format', () => {
  it('sends a plain limit order as LIMIT + GFD + ANY with exact types', () => {
    // Act
    const frame = insertOrderFrame('u1', BASE, LIMITS);

    // Assess
    expect(stringifyDiffJson(frame)).toBe(
      '{"aid":"insert_order","user_id":"u1","order_id":"GW_0001","exchange_id":"SHFE","instrument_id":"cu2502",' +
        '"direction":"BUY","offset":"OPEN","volume":2,"price_type":"LIMIT","limit_price":75230,' +
        '"time_condition":"GFD","volume_condition":"ANY"}',
    );
  });

  it.each([
    ['FAK', 'IOC', 'ANY'],
    ['FOK', 'IOC', 'ALL'],
  ] as const)('maps %s to %s + %s', (kind, time, vol) => {
    // Act
    const frame = insertOrderFrame('u1', { ...BASE, kind }, LIMITS);

    // Assess
    expect(frame.time_condition).toBe(time);
    expect(frame.volume_condition).toBe(vol);
    expect(frame.price_type).toBe('LIMIT');
  });

  it('uses the contract spec tick when no quote is known (au: 0.02)', () => {
    // Act
    const frame = insertOrderFrame('u1', { ...BASE, symbol: 'SHFE.au2506', limit_price: 612.34 }, undefined);

    // Assess
    expect(frame.limit_price).toBe(612.34);
    expect(frame.instrument_id).toBe('au2506');
  });
});

describe('insert_order local refusals', () => {
  it.each([
    ['a zero volume', { volume: 0 }, 'bad_volume'],
    ['a fractional volume', { volume: 1.5 }, 'bad_volume'],
    ['a volume above max_limit_order_volume', { volume: 501 }, 'volume_above_max'],
    ['a NaN price', { limit_price: Number.NaN }, 'bad_price'],
    ['an off-grid price', { limit_price: 75235 }, 'off_grid'],
    ['a price above upper_limit', { limit_price: 80010 }, 'above_upper_limit'],
    ['a price below lower_limit', { limit_price: 69990 }, 'below_lower_limit'],
    ['an unknown direction', { direction: 'HOLD' as 'BUY' }, 'bad_direction'],
    ['an unknown offset', { offset: 'CLOSEYESTERDAY' as 'CLOSE' }, 'bad_offset'],
    ['a KQ alias', { symbol: 'KQ.m@SHFE.cu' }, 'not_tradable'],
    ['a market order', { price_type: 'ANY' as const }, 'market_order'],
    ['a BEST order', { price_type: 'BEST' as const }, 'market_order'],
    ['a FIVELEVEL order', { price_type: 'FIVELEVEL' as const }, 'market_order'],
    ['an order id with a space', { order_id: 'bad id' }, 'bad_order_id'],
    ['an order id over 64 characters', { order_id: 'x'.repeat(65) }, 'bad_order_id'],
  ])('refuses %s before sending', (_what, patch, reason) => {
    // Act
    const err = refusal({ ...BASE, ...patch });

    // Assess
    expect(err.reason).toBe(reason);
    expect(err.code).toBe('diff_order_refused');
  });
});

describe('BoundedSet', () => {
  it('forgets the oldest key beyond its bound', () => {
    // Prepare
    const set = new BoundedSet(2);

    // Act
    set.add('a');
    set.add('b');
    set.add('c');

    // Assess
    expect(set.has('a')).toBe(false);
    expect(set.has('b')).toBe(true);
    expect(set.has('c')).toBe(true);
    expect(set.size).toBe(2);
  });
});
