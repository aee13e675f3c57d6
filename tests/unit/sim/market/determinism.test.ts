import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rowHash, type SimMarket } from '#colo/sim/market/index.ts';
import { freshMarket } from './support.ts';

const DAYS: [string, string][] = [
  ['SHFE.cu2503', '2025-01-10'],
  ['SHFE.au2506', '2025-02-05'],
  ['SHFE.ag2412', '2024-10-08'],
];

function hashes(market: SimMarket, symbol: string, day: string): string[] {
  const block = market.dayTicks(symbol, day);
  return Array.from({ length: block.count }, (_, i) => rowHash(market.tickRow(block, i)));
}

function digest(rows: string[]): string {
  return createHash('sha256').update(rows.join('\n')).digest('hex').slice(0, 16);
}

describe('determinism', () => {
  it('gives identical row hashes from two fresh markets asked in opposite orders with different caches', () => {
    // Prepare
    const a = freshMarket(42, 32);
    const b = freshMarket(42, 1);
    b.quoteAt('SHFE.ag2412', 1_728_349_200_000_000_000n);
    b.mainContract('cu', '2025-06-02');

    // Act
    const fromA = DAYS.map(([s, d]) => digest(hashes(a, s, d)));
    const fromB = [...DAYS]
      .reverse()
      .map(([s, d]) => digest(hashes(b, s, d)))
      .reverse();
    const again = DAYS.map(([s, d]) => digest(hashes(b, s, d)));

    // Assess
    expect(fromB).toEqual(fromA);
    expect(again).toEqual(fromA);
  });

  it('gives a different sequence for another seed', () => {
    // Prepare
    const [symbol, day] = DAYS[0] as [string, string];

    // Act
    const seed42 = hashes(freshMarket(42), symbol, day);
    const seed43 = hashes(freshMarket(43), symbol, day);
    const shared = new Set(seed42);

    // Assess
    expect(seed43.filter((h) => shared.has(h)).length).toBeLessThan(seed43.length / 100);
  });

  it('reproduces the recorded digest of a contract-day in this process', () => {
    // Prepare
    const [symbol, day] = DAYS[0] as [string, string];

    // Act
    const d = digest(hashes(freshMarket(42), symbol, day));

    // Assess: a change here means every stored simulator history changes; update only on purpose.
    expect(d).toBe(GOLDEN_CU2503_20250110);
  });
});

/** Recorded with seed 42 (tsx, an esbuild bundle and this test agree); 55,648 rows. */
const GOLDEN_CU2503_20250110 = 'e6c8f36862f71c25';
