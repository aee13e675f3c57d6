import { decodeTime, isValid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { pooledCryptoPrng, ulidGen } from '#shared/domain/ids.ts';

describe('ulidGen', () => {
  it('gives valid, unique ULIDs in increasing order, dated now', () => {
    const before = Date.now();
    const ids = Array.from({ length: 20_000 }, () => ulidGen.next());
    const after = Date.now();
    expect(ids.every((id) => isValid(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect((ids[i] as string) > (ids[i - 1] as string)).toBe(true);
    const t = decodeTime(ids[0] as string);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(after);
  });
});

describe('pooledCryptoPrng', () => {
  it('draws values in [0, 1) on a 1/256 grid, across pool refills', () => {
    const prng = pooledCryptoPrng(64);
    const xs = Array.from({ length: 1_000 }, () => prng());
    for (const x of xs) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      expect(Number.isInteger(x * 256)).toBe(true);
    }
  });

  it('refills with fresh bytes (two pools differ) and covers every base32 character evenly', () => {
    const prng = pooledCryptoPrng(256);
    const first = Array.from({ length: 256 }, () => prng());
    const second = Array.from({ length: 256 }, () => prng());
    expect(second).not.toEqual(first);
    const counts = new Array(32).fill(0);
    const n = 64_000;
    for (let i = 0; i < n; i++) counts[Math.floor(prng() * 32)]++;
    // Each character's expected count is 2,000 (sd ≈ 44); a stuck or biased source lands far outside ±400.
    for (const c of counts) expect(Math.abs(c - n / 32)).toBeLessThan(400);
  });
});
