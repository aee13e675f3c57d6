import { describe, expect, it } from 'vitest';
import { listedContracts } from '#shared/domain/market/contracts.ts';
import { parseCst } from '#shared/domain/market/cst.ts';
import { VARIETIES } from '#shared/domain/market/varieties.ts';
import { cal, freshMarket } from './support.ts';

const market = freshMarket(42);

describe('expiry and listing', () => {
  it.each([
    ['SHFE.cu2503', '2025-03-17', '2025-03-18', 'SHFE.cu2603'],
    ['SHFE.au2412', '2024-12-16', '2024-12-17', 'SHFE.au2512'],
    ['SHFE.ag2410', '2024-10-15', '2024-10-16', 'SHFE.ag2510'],
  ])('trades %s through its last trading day %s, then drops it and lists the next', (symbol, last, next, newcomer) => {
    // Act
    const onLast = market.dayTicks(symbol, last);
    const after = market.dayTicks(symbol, next);

    // Assess
    expect(onLast.count).toBeGreaterThan(0);
    expect(market.isExpired(symbol, last)).toBe(false);
    expect(market.isExpired(symbol, next)).toBe(true);
    expect(market.isListed(symbol, next)).toBe(false);
    expect(after.count).toBe(0);
    expect(market.listed(symbol.slice(5, 7) as 'cu', next)).not.toContain(symbol);
    expect(market.listed(symbol.slice(5, 7) as 'cu', next).at(-1)).toBe(newcomer);
    expect(market.listed(symbol.slice(5, 7) as 'cu', last)).not.toContain(newcomer);
  });

  it('has no quote and no ticks for an expired contract after its last day', () => {
    // Prepare
    const ns = parseCst('2025-03-18 10:00:00');

    // Act
    const quote = market.quoteAt('SHFE.cu2503', ns);
    const ranges = market.ticksBetween('SHFE.cu2503', parseCst('2025-03-18 00:00:00'), parseCst('2025-03-20 16:00:00'));

    // Assess
    expect(quote).toBeNull();
    expect(ranges).toEqual([]);
  });

  it("lists exactly the shared domain's listed contracts, sorted by expiry", () => {
    // Prepare
    const days = cal.tradingDays('2024-01-01', '2025-12-31').filter((_, i) => i % 5 === 0);

    // Act
    const mismatches = days.flatMap((d) =>
      VARIETIES.filter(
        (v) =>
          market.listed(v, d).join() !==
          listedContracts(cal, v, d)
            .map((c) => c.symbol)
            .join(),
      ).map((v) => `${v} ${d}`),
    );

    // Assess
    expect(mismatches).toEqual([]);
  });
});
