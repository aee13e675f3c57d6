import { describe, expect, it } from 'vitest';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import {
  CONTRACT_SPECS,
  expireDatetimeNs,
  lastTradingDay,
  listedContracts,
  priceToTicks,
  ticksToPrice,
} from '#shared/domain/market/contracts.ts';
import { parseCst } from '#shared/domain/market/sessions.ts';
import { parseContractSymbol } from '#shared/domain/market/symbols.ts';
import { UnknownVarietyError } from '#shared/errors/market.ts';

const cal = shippedCalendar();
const symbols = (day: string, v: 'cu' | 'au' | 'ag') => listedContracts(cal, v, day).map((c) => c.instrument_id);

describe('CONTRACT_SPECS', () => {
  it('matches the contract universe table', () => {
    // Assess
    expect(CONTRACT_SPECS.cu).toMatchObject({ price_tick: 10, price_decs: 0, volume_multiple: 5, listed_count: 12 });
    expect(CONTRACT_SPECS.au).toMatchObject({
      price_tick: 0.02,
      price_decs: 2,
      volume_multiple: 1000,
      listed_count: 6,
    });
    expect(CONTRACT_SPECS.ag).toMatchObject({ price_tick: 1, price_decs: 0, volume_multiple: 15, listed_count: 12 });
    expect(CONTRACT_SPECS.au.listed_months).toEqual([2, 4, 6, 8, 10, 12]);
  });
});

describe('lastTradingDay and expiry', () => {
  it('is the 15th of the delivery month when that is a trading day', () => {
    // Act
    const day = lastTradingDay(cal, parseContractSymbol('SHFE.cu2501'));

    // Assess
    expect(day).toBe('2025-01-15');
  });

  it('moves to the next trading day when the 15th is a weekend', () => {
    // Act
    const day = lastTradingDay(cal, parseContractSymbol('SHFE.cu2503'));

    // Assess
    expect(day).toBe('2025-03-17');
  });

  it('moves past a holiday too (2026-02-15 falls in Spring Festival)', () => {
    // Act
    const day = lastTradingDay(cal, parseContractSymbol('SHFE.au2602'));

    // Assess
    expect(day).toBe('2026-02-24');
  });

  it('expires at 15:00 CST of the last trading day', () => {
    // Act
    const ns = expireDatetimeNs(cal, parseContractSymbol('SHFE.cu2501'));

    // Assess
    expect(ns).toBe(parseCst('2025-01-15 15:00:00'));
  });
});

describe('listedContracts', () => {
  it('still lists cu2501 on its last trading day, with the next eleven months', () => {
    // Act
    const listed = symbols('2025-01-15', 'cu');

    // Assess
    expect(listed).toEqual([
      'cu2501',
      'cu2502',
      'cu2503',
      'cu2504',
      'cu2505',
      'cu2506',
      'cu2507',
      'cu2508',
      'cu2509',
      'cu2510',
      'cu2511',
      'cu2512',
    ]);
  });

  it('drops cu2501 and lists cu2601 on the next trading day', () => {
    // Act
    const listed = symbols('2025-01-16', 'cu');

    // Assess
    expect(listed[0]).toBe('cu2502');
    expect(listed.at(-1)).toBe('cu2601');
    expect(listed).toHaveLength(12);
  });

  it('lists six even-month au contracts', () => {
    // Act
    const listed = symbols('2025-02-17', 'au');

    // Assess
    expect(listed).toEqual(['au2502', 'au2504', 'au2506', 'au2508', 'au2510', 'au2512']);
  });

  it('rolls au only after its last trading day', () => {
    // Act
    const listed = symbols('2025-02-18', 'au');

    // Assess
    expect(listed).toEqual(['au2504', 'au2506', 'au2508', 'au2510', 'au2512', 'au2602']);
  });

  it('lists twelve ag contracts sorted by expiry', () => {
    // Act
    const listed = listedContracts(cal, 'ag', '2025-06-02');

    // Assess
    expect(listed).toHaveLength(12);
    expect(listed.map((c) => c.year * 100 + c.month)).toEqual([...listed.map((c) => c.year * 100 + c.month)].sort());
    expect(listed[0]?.instrument_id).toBe('ag2506');
  });

  it('works up to the end of coverage without needing far-future calendar days', () => {
    // Act
    const listed = symbols('2026-12-31', 'cu');

    // Assess
    expect(listed[0]).toBe('cu2701');
    expect(listed.at(-1)).toBe('cu2712');
  });

  it('refuses an unknown variety', () => {
    // Act
    const act = () => listedContracts(cal, 'zn' as never, '2025-01-15');

    // Assess
    expect(act).toThrow(UnknownVarietyError);
  });
});

describe('priceToTicks', () => {
  it.each([
    [70010, 10, 7001],
    [500.02, 0.02, 25001],
    [540.36, 0.02, 27018],
    [0.06, 0.02, 3],
    [7123, 1, 7123],
    [-20, 10, -2],
    [0, 0.02, 0],
  ])('puts %d on the %d grid as %d ticks', (price, tick, ticks) => {
    // Act
    const n = priceToTicks(price, tick);

    // Assess
    expect(n).toBe(ticks);
  });

  it.each([
    [70015, 10],
    [500.01, 0.02],
    [7123.5, 1],
    [Number.NaN, 1],
    [Number.POSITIVE_INFINITY, 1],
    [100, 0],
    [100, -1],
  ])('refuses %d on the %d grid instead of rounding', (price, tick) => {
    // Act
    const n = priceToTicks(price, tick);

    // Assess
    expect(n).toBeNull();
  });

  it('round-trips ticks to a price printed with the variety’s decimals', () => {
    // Act
    const price = ticksToPrice(27018, CONTRACT_SPECS.au);

    // Assess
    expect(price).toBe(540.36);
  });
});
