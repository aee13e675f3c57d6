import { describe, expect, it } from 'vitest';
import { newLedger } from '#colo/sim/trade-engine/ledger.ts';
import { emptyLevelUse } from '#colo/sim/trade-engine/matching.ts';
import { GFD_EXPIRED_MSG } from '#colo/sim/trade-engine/settlement.ts';
import { type InsertContext, UserBook } from '#colo/sim/trade-engine/user-book.ts';
import { book, CU, CU2, order, termsOf } from './fixtures.ts';

const NOW = 1_736_470_000_000_000_000n;

function ctx(over: Partial<InsertContext> = {}): InsertContext {
  return {
    instrument: { kind: 'tradable', terms: CU },
    upperLimit: 80_000,
    lowerLimit: 70_000,
    inTradingTime: true,
    maintenance: false,
    now: NOW,
    book: book(75_000, 75_010),
    lastPrice: 75_000,
    policy: { fillPrice: 'opposite', partialFills: false },
    use: emptyLevelUse(),
    ...over,
  };
}

function fresh(): UserBook {
  return new UserBook(newLedger('u1', '2025-01-10', 10_000_000), termsOf);
}

function identitiesHold(b: UserBook): void {
  const a = b.ledger.account;
  expect(a.static_balance).toBeCloseTo(a.pre_balance + a.deposit - a.withdraw, 6);
  expect(a.balance).toBeCloseTo(a.static_balance + a.close_profit - a.commission - a.premium + a.position_profit, 6);
  expect(a.available).toBeCloseTo(a.balance - a.margin - a.frozen_margin - a.frozen_commission - a.frozen_premium, 6);
  expect(a.risk_ratio).toBeCloseTo(a.margin / a.balance, 12);
}

describe('UserBook', () => {
  it('fills a marketable buy at once: 417 then 406, one trade, today long 1, commission 20, margin 40,000', () => {
    // Prepare
    const b = fresh();

    // Act
    b.insertOrder(order({ limit_price: 75_010 }), ctx());
    const { patch, notifies } = b.drain();

    // Assess
    expect(notifies.map((n) => n.code)).toEqual([417, 406]);
    const o = b.ledger.orders.o1;
    expect(o).toMatchObject({ status: 'FINISHED', volume_left: 0, exchange_order_id: '000000000001' });
    expect(Object.keys(b.ledger.trades)).toEqual(['o1|1']);
    expect(b.ledger.positions[CU.symbol]).toMatchObject({ volume_long_today: 1, pos_long_today: 1, volume_long: 1 });
    expect(b.ledger.account).toMatchObject({ commission: 20, margin: 40_000 });
    expect(patch).toHaveProperty(['trade', 'u1', 'trades', 'o1|1', 'price'], 75_010);
    identitiesHold(b);
  });

  it('writes a FINISHED node for a reject: empty exchange_order_id, the message, nothing frozen or traded', () => {
    // Prepare
    const b = fresh();

    // Act
    const r = b.insertOrder(order({ limit_price: 75_005, volume: 2 }), ctx());
    const { notifies } = b.drain();

    // Assess
    expect(r).toMatchObject({ ok: false, code: 412 });
    expect(notifies).toEqual([expect.objectContaining({ code: 412, level: 'ERROR' })]);
    expect(b.ledger.orders.o1).toMatchObject({
      status: 'FINISHED',
      exchange_order_id: '',
      volume_orign: 2,
      volume_left: 2,
      frozen_margin: 0,
    });
    expect(b.ledger.orders.o1?.last_msg).toMatch(/最小变动价位/);
    expect(b.ledger.account.frozen_margin).toBe(0);
  });

  it('freezes open margin on a resting order and releases it on cancel', () => {
    // Prepare
    const b = fresh();
    b.insertOrder(order({ limit_price: 74_000 }), ctx());
    const frozen = b.ledger.account.frozen_margin;

    // Act
    b.cancelOrder('o1');

    // Assess
    expect(frozen).toBe(40_000);
    expect(b.ledger.orders.o1).toMatchObject({ status: 'FINISHED', last_msg: '已撤单', frozen_margin: 0 });
    expect(b.ledger.account.frozen_margin).toBe(0);
    expect(b.ledger.account.available).toBe(10_000_000);
    identitiesHold(b);
  });

  it('answers 421 to a cancel of an unknown or finished order and changes nothing', () => {
    // Prepare
    const b = fresh();
    b.insertOrder(order({ limit_price: 75_010 }), ctx());
    b.drain();

    // Act
    b.cancelOrder('o1');
    b.cancelOrder('nope');
    const { patch, notifies } = b.drain();

    // Assess
    expect(notifies.map((n) => n.code)).toEqual([421, 421]);
    expect(patch).toBeNull();
  });

  it('finishes an unfilled IOC remainder as 已撤单报单已提交', () => {
    // Prepare
    const b = fresh();

    // Act
    b.insertOrder(order({ limit_price: 74_000, time_condition: 'IOC' }), ctx());

    // Assess
    expect(b.ledger.orders.o1).toMatchObject({ status: 'FINISHED', last_msg: '已撤单报单已提交', volume_left: 1 });
    expect(b.ledger.account.frozen_margin).toBe(0);
  });

  it('matches a resting order on a later tick and numbers fills <order_id>|<n>', () => {
    // Prepare
    const b = fresh();
    const policy = { fillPrice: 'opposite' as const, partialFills: true };
    b.insertOrder(order({ limit_price: 74_990, volume: 3 }), ctx({ policy }));

    // Act
    b.onBook(CU.symbol, book(74_980, 74_990, 2), 74_990, policy, emptyLevelUse(), NOW + 1n);
    b.onBook(CU.symbol, book(74_970, 74_980, 2), 74_980, policy, emptyLevelUse(), NOW + 2n);

    // Assess
    expect(Object.keys(b.ledger.trades)).toEqual(['o1|1', 'o1|2']);
    expect(b.ledger.trades['o1|2']).toMatchObject({ price: 74_980, volume: 1 });
    expect(b.ledger.orders.o1).toMatchObject({ status: 'FINISHED', volume_left: 0 });
    identitiesHold(b);
  });

  it('books close profit against the position price and keeps the identities through marks', () => {
    // Prepare
    const b = fresh();
    b.insertOrder(order({ order_id: 'a', volume: 2, limit_price: 75_010 }), ctx());
    b.onBook(CU.symbol, book(75_100, 75_110), 75_100, ctx().policy, emptyLevelUse(), NOW);

    // Act
    b.insertOrder(
      order({ order_id: 'b', direction: 'SELL', offset: 'CLOSETODAY', volume: 1, limit_price: 75_100 }),
      ctx({ book: book(75_100, 75_110) }),
    );

    // Assess
    const a = b.ledger.account;
    expect(a.close_profit).toBe((75_100 - 75_010) * 5);
    expect(a.commission).toBe(60);
    expect(b.ledger.positions[CU.symbol]).toMatchObject({
      volume_long_today: 1,
      position_profit: (75_100 - 75_010) * 5,
    });
    identitiesHold(b);
  });

  it('takes account margin per product on its bigger side', () => {
    // Prepare
    const b = fresh();

    // Act
    b.insertOrder(order({ order_id: 'a', volume: 2, limit_price: 75_010 }), ctx());
    b.insertOrder(
      order({ order_id: 'b', instrument_id: 'cu2503', direction: 'SELL', volume: 1, limit_price: 75_000 }),
      ctx({ instrument: { kind: 'tradable', terms: CU2 } }),
    );

    // Assess
    expect(b.ledger.account.margin).toBe(80_000);
    identitiesHold(b);
  });

  it('settles: GFD cancel message, today → his, marked to settlement, pre_balance = balance, next trading day', () => {
    // Prepare
    const b = fresh();
    b.insertOrder(order({ order_id: 'a', limit_price: 75_010 }), ctx());
    b.insertOrder(order({ order_id: 'rest', limit_price: 74_000 }), ctx());
    b.drain();

    // Act
    b.settle({
      tradingDay: '2025-01-10',
      nextTradingDay: '2025-01-13',
      settlementPrice: () => 75_200,
      expiresToday: () => false,
      termsOf,
    });
    const { patch } = b.drain();

    // Assess
    const l = b.ledger;
    expect(l.orders.rest).toMatchObject({ status: 'FINISHED', last_msg: GFD_EXPIRED_MSG });
    expect(l.positions[CU.symbol]).toMatchObject({
      volume_long_today: 0,
      volume_long_his: 1,
      volume_long_yd: 1,
      position_price_long: 75_200,
      position_profit: 0,
    });
    expect(l.account.pre_balance).toBe(10_000_000 + (75_200 - 75_010) * 5 - 20);
    expect(l.account).toMatchObject({ close_profit: 0, commission: 0, frozen_margin: 0 });
    expect(l.trading_day).toBe('2025-01-13');
    expect(patch).toHaveProperty(['trade', 'u1', 'trading_day'], '20250113');
    expect(patch).toHaveProperty(['trade', 'u1', 'session', 'trading_day'], '20250113');
    expect(l.statements.at(-1)?.trading_day).toBe('2025-01-10');
    identitiesHold(b);
  });

  it('closes positions of a contract expiring that day at the settlement price and deletes them', () => {
    // Prepare
    const b = fresh();
    b.insertOrder(order({ order_id: 'a', limit_price: 75_010 }), ctx());
    b.drain();

    // Act
    b.settle({
      tradingDay: '2025-01-10',
      nextTradingDay: '2025-01-13',
      settlementPrice: () => 75_110,
      expiresToday: () => true,
      termsOf,
    });
    const { patch, notifies } = b.drain();

    // Assess
    expect(b.ledger.positions[CU.symbol]).toBeUndefined();
    expect(patch).toHaveProperty(['trade', 'u1', 'positions', CU.symbol], null);
    expect(notifies.some((n) => n.level === 'WARNING')).toBe(true);
    expect(b.ledger.account.pre_balance).toBe(10_000_000 + 100 * 5 - 20);
    expect(b.ledger.account.margin).toBe(0);
  });

  it('drops orders and trades of days before the settled one at the next settlement', () => {
    // Prepare
    const b = fresh();
    b.insertOrder(order({ order_id: 'a', limit_price: 75_010 }), ctx());
    const settle = (day: string, next: string) =>
      b.settle({
        tradingDay: day,
        nextTradingDay: next,
        settlementPrice: () => 75_000,
        expiresToday: () => false,
        termsOf,
      });
    settle('2025-01-10', '2025-01-13');
    const keptAfterFirst = Object.keys(b.ledger.orders);
    b.drain();

    // Act
    settle('2025-01-13', '2025-01-14');
    const { patch } = b.drain();

    // Assess
    expect(keptAfterFirst).toEqual(['a']);
    expect(b.ledger.orders).toEqual({});
    expect(patch).toHaveProperty(['trade', 'u1', 'orders', 'a'], null);
    expect(patch).toHaveProperty(['trade', 'u1', 'trades', 'a|1'], null);
  });

  it('refuses a reused order id with 407 even after the order left the tree', () => {
    // Prepare
    const b = fresh();
    b.insertOrder(order({ order_id: 'a', limit_price: 75_010 }), ctx());
    for (const [d, n] of [
      ['2025-01-10', '2025-01-13'],
      ['2025-01-13', '2025-01-14'],
    ] as const) {
      b.settle({ tradingDay: d, nextTradingDay: n, settlementPrice: () => 75_000, expiresToday: () => false, termsOf });
    }
    b.drain();

    // Act
    const r = b.insertOrder(order({ order_id: 'a', limit_price: 75_010 }), ctx());

    // Assess
    expect(r).toMatchObject({ ok: false, code: 407 });
  });
});
