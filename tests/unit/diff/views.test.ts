import { describe, expect, it } from 'vitest';
import { orderView, positionView, quoteView, tickRowView, tradeView } from '#shared/infra/diff/views.ts';

describe('typed views', () => {
  it('derives datetime_ns from the CST quote datetime and expire_rest_days in CST calendar days', () => {
    // Prepare
    const node = {
      datetime: '2025-01-09 21:00:00.500000',
      last_price: 75230,
      close: Number.NaN,
      expire_datetime: 1739602800000000000n, // 2025-02-15 15:00 CST
      price_tick: 10,
    };

    // Act
    const q = quoteView('SHFE.cu2502', node);

    // Assess
    expect(q.datetime_ns).toBe(1736427600500000000n);
    expect(q.expire_rest_days).toBe(37);
    expect(q.close).toBeNaN();
    expect(q.ask_price).toHaveLength(5);
    expect(Object.isFrozen(q)).toBe(true);
  });

  it('fills missing static quote fields from the contract answer', () => {
    // Act
    const q = quoteView(
      'SHFE.cu2502',
      { datetime: '2025-01-09 09:00:00.000000' },
      {
        symbol: 'SHFE.cu2502',
        instrument_id: 'SHFE.cu2502',
        exchange_id: 'SHFE',
        product_id: 'cu',
        instrument_name: 'cu',
        ins_class: 'FUTURE',
        price_tick: 10,
        price_decs: 0,
        volume_multiple: 5,
        max_limit_order_volume: 500,
        min_limit_order_volume: 1,
        expired: false,
        expire_datetime: null,
        delivery_year: 2025,
        delivery_month: 2,
        trading_time: null,
        underlying_symbol: '',
      },
    );

    // Assess
    expect(q.price_tick).toBe(10);
    expect(q.volume_multiple).toBe(5);
    expect(q.ins_class).toBe('FUTURE');
  });

  it('derives pos_long, pos_short and pos from his and today', () => {
    // Act
    const p = positionView('SHFE.cu2502', {
      pos_long_his: 2,
      pos_long_today: 1,
      pos_short_his: 0,
      pos_short_today: 4,
    });

    // Assess
    expect([p.pos_long, p.pos_short, p.pos]).toEqual([3, 4, -1]);
  });

  it.each([
    ['an accepted live order', 'ALIVE', '000000000001', { is_dead: false, is_online: true, is_error: false }],
    ['a filled order', 'FINISHED', '000000000001', { is_dead: true, is_online: false, is_error: false }],
    ['a rejected order', 'FINISHED', '', { is_dead: true, is_online: false, is_error: true }],
  ])('derives the is_* flags of %s', (_what, status, exchangeOrderId, flags) => {
    // Act
    const o = orderView('o1', { status, exchange_order_id: exchangeOrderId });

    // Assess
    expect({ is_dead: o.is_dead, is_online: o.is_online, is_error: o.is_error }).toEqual(flags);
  });

  it('computes trade_price as the volume-weighted average of the order trades only', () => {
    // Prepare
    const trades = [
      tradeView('o1|1', { order_id: 'o1', price: 100, volume: 1 }),
      tradeView('o1|2', { order_id: 'o1', price: 110, volume: 3 }),
      tradeView('o2|1', { order_id: 'o2', price: 999, volume: 9 }),
    ];

    // Act
    const o = orderView('o1', { status: 'FINISHED' }, trades);

    // Assess
    expect(o.trade_price).toBe(107.5);
  });

  it('makes a tick row with id, symbol and trading day, and refuses a row without ns datetime', () => {
    // Act
    const row = tickRowView('SHFE.cu2502', 7, { datetime: 5n, last_price: 1 }, '20250110');
    const none = tickRowView('SHFE.cu2502', 8, { last_price: 1 }, '20250110');

    // Assess
    expect(row?.id).toBe(7);
    expect(row?.trading_day).toBe('20250110');
    expect(row?.ask_price5).toBeNaN();
    expect(none).toBeNull();
  });
});
