import { describe, expect, it } from 'vitest';
import { checkIntake, type IntakeContext } from '#colo/sim/trade-engine/intake.ts';
import { emptyPosition, newLedger } from '#colo/sim/trade-engine/ledger.ts';
import { CU, order } from './fixtures.ts';

function ctx(over: Partial<IntakeContext> = {}): IntakeContext {
  return {
    userName: 'u1',
    ledger: newLedger('u1', '2025-01-10', 10_000_000),
    orderIdSeen: () => false,
    instrument: { kind: 'tradable', terms: CU },
    upperLimit: 80_000,
    lowerLimit: 70_000,
    inTradingTime: true,
    maintenance: false,
    ...over,
  };
}

function codeOf(c: IntakeContext, req: Record<string, unknown>): number {
  const r = checkIntake(c, req);
  return r.ok ? 417 : r.code;
}

describe('checkIntake', () => {
  it('accepts a well-formed limit order inside trading time', () => {
    // Act
    const r = checkIntake(ctx(), order());

    // Assess
    expect(r.ok).toBe(true);
  });

  it.each([
    ['another user', order({ user_id: 'u2' }), 408],
    ['a sub-unit of the login user', order({ user_id: 'u1.7' }), 417],
    ['a zero volume', order({ volume: 0 }), 411],
    ['a fractional volume', order({ volume: 1.5 }), 411],
    ['a market price type', order({ price_type: 'ANY' }), 419],
    ['a GTC time condition', order({ time_condition: 'GTC' }), 419],
    ['a MIN volume condition', order({ volume_condition: 'MIN' }), 419],
    ['an unknown direction', order({ direction: 'LONG' }), 419],
    ['an unknown offset', order({ offset: 'CLOSEYESTERDAY' }), 419],
    ['a NaN price', order({ limit_price: Number.NaN }), 419],
    ['an off-grid price', order({ limit_price: 75_005 }), 412],
    ['a price above the upper limit', order({ limit_price: 80_010 }), 404],
    ['a price below the lower limit', order({ limit_price: 69_990 }), 405],
    ['a CLOSETODAY without today position', order({ direction: 'SELL', offset: 'CLOSETODAY' }), 414],
    ['a CLOSE without his position', order({ direction: 'SELL', offset: 'CLOSE' }), 415],
    ['an open worth more margin than available', order({ volume: 251 }), 413],
  ])('rejects or accepts %s with %i', (_name, req, expected) => {
    // Act
    const code = codeOf(ctx(), req);

    // Assess
    expect(code).toBe(expected);
  });

  it('answers 407 for a duplicate order id without asking to write a node', () => {
    // Prepare
    const c = ctx({ orderIdSeen: (id) => id === 'o1' });

    // Act
    const r = checkIntake(c, order());

    // Assess
    expect(r).toMatchObject({ ok: false, code: 407, writeNode: false });
  });

  it('answers 409 for an unknown instrument and 410 for a continuous alias or an expired contract', () => {
    // Act
    const unknown = codeOf(ctx({ instrument: { kind: 'unknown', symbol: 'SHFE.cu9912' } }), order());
    const cont = codeOf(
      ctx({ instrument: { kind: 'not_tradable', symbol: 'KQ.m@SHFE.cu', reason: 'continuous' } }),
      order(),
    );
    const expired = codeOf(
      ctx({ instrument: { kind: 'not_tradable', symbol: 'SHFE.cu2401', reason: 'expired' } }),
      order(),
    );

    // Assess
    expect([unknown, cont, expired]).toEqual([409, 410, 410]);
  });

  it('answers 418 outside trading time with the spec message', () => {
    // Act
    const r = checkIntake(ctx({ inTradingTime: false }), order());

    // Assess
    expect(r).toMatchObject({ ok: false, code: 418, writeNode: true });
    expect(r.ok ? '' : r.message).toBe('下单失败, 不在可交易时间段内');
  });

  it('answers 420 during an on-demand maintenance window', () => {
    // Act
    const code = codeOf(ctx({ maintenance: true }), order());

    // Assess
    expect(code).toBe(420);
  });

  it('checks in the normative order: 408 before 407 before 409 before 411 before 419 before 418 before 412', () => {
    // Prepare
    const bad = order({ user_id: 'x', volume: 0, limit_price: 75_005, price_type: 'ANY' });
    const seen = (id: string) => id === 'o1';

    // Act
    const codes = [
      codeOf(ctx({ orderIdSeen: seen, instrument: { kind: 'unknown', symbol: 'X' } }), bad),
      codeOf(ctx({ orderIdSeen: seen, instrument: { kind: 'unknown', symbol: 'X' } }), { ...bad, user_id: 'u1' }),
      codeOf(ctx({ instrument: { kind: 'unknown', symbol: 'X' } }), { ...bad, user_id: 'u1' }),
      codeOf(ctx({ inTradingTime: false }), { ...bad, user_id: 'u1' }),
      codeOf(ctx({ inTradingTime: false }), { ...bad, user_id: 'u1', volume: 1 }),
      codeOf(ctx({ inTradingTime: false }), { ...bad, user_id: 'u1', volume: 1, price_type: 'LIMIT' }),
      codeOf(ctx(), { ...bad, user_id: 'u1', volume: 1, price_type: 'LIMIT' }),
    ];

    // Assess
    expect(codes).toEqual([408, 407, 409, 411, 419, 418, 412]);
  });

  it('counts frozen lots: a CLOSETODAY above today − frozen today is 414, within it accepted', () => {
    // Prepare
    const c = ctx();
    const p = emptyPosition('u1', 'SHFE', 'cu2502');
    p.volume_long_today = 2;
    p.volume_long_frozen_today = 1;
    p.volume_long_his = 3;
    c.ledger.positions[CU.symbol] = p;

    // Act
    const tooMany = codeOf(c, order({ direction: 'SELL', offset: 'CLOSETODAY', volume: 2 }));
    const fits = codeOf(c, order({ direction: 'SELL', offset: 'CLOSETODAY', volume: 1 }));
    const his = codeOf(c, order({ direction: 'SELL', offset: 'CLOSE', volume: 3 }));
    const hisTooMany = codeOf(c, order({ direction: 'SELL', offset: 'CLOSE', volume: 4 }));

    // Assess
    expect([tooMany, fits, his, hisTooMany]).toEqual([414, 417, 417, 415]);
  });
});
