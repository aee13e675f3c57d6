import { describe, expect, it } from 'vitest';
import { formatCst } from '#shared/domain/market/cst.ts';
import { tradingDayOf } from '#shared/domain/market/sessions.ts';
import type { Variety } from '#shared/domain/market/varieties.ts';
import { cal, freshMarket, gridSlots } from './support.ts';

const market = freshMarket(7);

describe('sessions', () => {
  it.each([
    ['cu', '2025-01-13'],
    ['au', '2025-02-05'],
    ['ag', '2024-10-08'],
    ['ag', '2025-06-17'],
  ] as const)('puts every %s tick of %s inside one of its session windows', (variety, day) => {
    // Prepare
    const block = market.dayTicks(market.mainContract(variety, day), day);

    // Act
    const outside: string[] = [];
    for (let i = 0; i < block.count && outside.length < 5; i++) {
      const ns = block.datetimeNs[i] as bigint;
      const at = tradingDayOf(cal, ns, 'SHFE', variety);
      if (at.trading_day !== day || !at.in_session) outside.push(formatCst(ns));
    }

    // Assess
    expect(block.count).toBeGreaterThan(0);
    expect(outside).toEqual([]);
  });

  it.each([
    ['cu', '2025-01-11'],
    ['cu', '2025-01-12'],
    ['au', '2025-01-29'],
    ['ag', '2024-10-03'],
  ] as const)('produces no %s ticks on the closed day %s', (variety, day) => {
    // Prepare
    const symbol = market.listed(variety, day)[0] as string;

    // Act
    const block = market.dayTicks(symbol, day);

    // Assess
    expect(block.count).toBe(0);
  });

  it.each([
    ['au', '2025-02-05'],
    ['cu', '2024-10-08'],
    ['ag', '2024-02-19'],
  ] as const)('opens %s at 09:00 without a night session on %s, the first day after a holiday', (variety, day) => {
    // Prepare
    const block = market.dayTicks(market.mainContract(variety, day), day);

    // Act
    const first = formatCst(block.datetimeNs[0] as bigint);

    // Assess
    expect(first).toBe(`${day} 09:00:00.000000`);
    expect(block.volume[0]).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['cu', '00:59:00', '01:00:00'],
    ['au', '02:29:00', '02:30:00'],
    ['ag', '02:29:00', '02:30:00'],
  ] as const)('runs the %s Friday night of Monday 2025-01-13 from 21:00 to between %s and %s', (variety, from, to) => {
    // Prepare
    const day = '2025-01-13';
    const block = market.dayTicks(market.mainContract(variety, day), day);
    const times: string[] = [];
    for (let i = 0; i < block.count; i++) times.push(formatCst(block.datetimeNs[i] as bigint));

    // Act
    const saturday = times.filter((t) => t.startsWith('2025-01-11')).map((t) => t.slice(11, 19));
    const lastNight = saturday.at(-1) ?? '';

    // Assess
    expect(times[0]).toBe('2025-01-10 21:00:00.000000');
    expect(lastNight >= from && lastNight <= to).toBe(true);
    expect(saturday.filter((t) => t > to)).toEqual([]);
  });
});

describe('cadence', () => {
  it.each([
    ['cu', '2025-01-10', 55_000, 55_804],
    ['au', '2025-01-10', 65_700, 66_604],
    ['ag', '2025-01-10', 65_700, 66_604],
  ] as const)(
    'puts %s main ticks on the 500 ms grid, strictly increasing, ≤ 2 % missing (%s)',
    (variety, day, min, max) => {
      // Prepare
      const block = market.dayTicks(market.mainContract(variety, day), day);
      let offGrid = 0;
      let notIncreasing = 0;

      // Act
      for (let i = 0; i < block.count; i++) {
        const ns = block.datetimeNs[i] as bigint;
        if (ns % 500_000_000n !== 0n) offGrid++;
        if (i > 0 && ns <= (block.datetimeNs[i - 1] as bigint)) notIncreasing++;
      }
      const missing = 1 - block.count / gridSlots(day, variety);

      // Assess
      expect({ offGrid, notIncreasing }).toEqual({ offGrid: 0, notIncreasing: 0 });
      expect(block.count).toBeGreaterThanOrEqual(min);
      expect(block.count).toBeLessThanOrEqual(max);
      expect(missing).toBeLessThanOrEqual(0.02);
    },
  );

  it('misses at most 2 % of any main contract-day over a month of cu, au and ag', () => {
    // Prepare
    const days = cal.tradingDays('2025-06-02', '2025-06-30');

    // Act
    const worst = (['cu', 'au', 'ag'] as Variety[]).map((v) =>
      Math.max(
        ...days.map((d) => {
          const sym = market.mainContract(v, d);
          const count = market.tickIdBase(sym, cal.nextTradingDay(d)) - market.tickIdBase(sym, d);
          return 1 - count / gridSlots(d, v);
        }),
      ),
    );

    // Assess
    expect(worst.every((w) => w <= 0.02)).toBe(true);
  });
});

describe('tick ids', () => {
  it('are contiguous across trading days, weekends and holidays', () => {
    // Prepare
    const symbol = 'SHFE.ag2506';
    const days = ['2025-01-24', '2025-01-27', '2025-02-05'];

    // Act
    const blocks = days.map((d) => market.dayTicks(symbol, d));

    // Assess
    expect(blocks[0]?.idBase).toBe(market.tickIdBase(symbol, days[0] as string));
    expect(blocks[1]?.idBase).toBe((blocks[0]?.idBase ?? 0) + (blocks[0]?.count ?? 0));
    expect(blocks[2]?.idBase).toBe((blocks[1]?.idBase ?? 0) + (blocks[1]?.count ?? 0));
    expect(market.tickRow(blocks[2] as never, 0).id).toBe(blocks[2]?.idBase);
  });

  it("give an empty closed-day block the id of the contract's next tick", () => {
    // Prepare
    const symbol = 'SHFE.ag2506';

    // Act
    const saturday = market.dayTicks(symbol, '2025-01-25');

    // Assess
    expect(saturday.count).toBe(0);
    expect(saturday.idBase).toBe(market.tickIdBase(symbol, '2025-01-27'));
    expect(saturday.idBase).toBeGreaterThan(0);
  });

  it('start from 0 on the first listed day', () => {
    // Prepare (cu2501 expires 2025-01-15, so cu2601 lists on 2025-01-16)
    const symbol = 'SHFE.cu2601';

    // Act
    const listedBefore = market.isListed(symbol, '2025-01-15');
    const base = market.tickIdBase(symbol, '2025-01-16');
    const next = market.tickIdBase(symbol, '2025-01-17');

    // Assess
    expect(listedBefore).toBe(false);
    expect(base).toBe(0);
    expect(next).toBe(market.dayTicks(symbol, '2025-01-16').count);
  });
});
