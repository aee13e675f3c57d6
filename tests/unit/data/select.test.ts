import { describe, expect, it } from 'vitest';
import { median, select, selectRanks } from '#shared/domain/data/validation/select.ts';

/** A deterministic pseudo-random generator (LCG), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

function sortedMedian(xs: Float64Array): number {
  const s = xs.slice().sort();
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const shapes: [string, (n: number, r: () => number) => Float64Array][] = [
  ['random', (n, r) => Float64Array.from({ length: n }, () => r() * 1000 - 500)],
  ['few distinct values', (n, r) => Float64Array.from({ length: n }, () => Math.floor(r() * 4) * 10)],
  ['ascending', (n) => Float64Array.from({ length: n }, (_, i) => i)],
  ['descending', (n) => Float64Array.from({ length: n }, (_, i) => n - i)],
  ['constant', (n) => new Float64Array(n).fill(7)],
  ['with infinities', (n, r) => Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? Infinity : r()))],
];

describe('select / median / selectRanks (validation order statistics)', () => {
  for (const [name, make] of shapes) {
    it(`median equals the sorted copy's median: ${name}`, () => {
      const r = rng(name.length);
      for (const n of [1, 2, 3, 4, 5, 10, 11, 100, 1001, 4096]) {
        // Prepare
        const xs = make(n, r);
        const before = xs.slice();
        // Act
        const got = median(xs);
        // Assess
        expect(got, `${name} n=${n}`).toBe(sortedMedian(xs));
        expect(xs, 'median must not rearrange its input').toEqual(before);
      }
    });

    it(`selectRanks equals the sorted copy at each rank: ${name}`, () => {
      const r = rng(name.length * 31);
      for (const n of [1, 2, 9, 100, 5000]) {
        // Prepare
        const xs = make(n, r);
        const sorted = xs.slice().sort();
        const ranks = [0.5, 0.95, 0.99].map((q) => Math.floor(q * (n - 1)));
        // Act
        const got = selectRanks(xs, ranks);
        // Assess
        expect(got, `${name} n=${n}`).toEqual(ranks.map((k) => sorted[k]));
        expect(xs.slice().sort(), 'selection only rearranges').toEqual(sorted);
      }
    });
  }

  it('select leaves smaller-or-equal values left of k and greater-or-equal right of it', () => {
    // Prepare
    const r = rng(5);
    const xs = Float64Array.from({ length: 999 }, () => Math.floor(r() * 50));
    // Act
    select(xs, 400);
    // Assess
    const pivot = xs[400] as number;
    expect([...xs.subarray(0, 400)].every((x) => x <= pivot)).toBe(true);
    expect([...xs.subarray(401)].every((x) => x >= pivot)).toBe(true);
  });

  it('median of nothing is NaN; ranks out of order are refused', () => {
    expect(median(new Float64Array(0))).toBeNaN();
    expect(() => selectRanks(Float64Array.of(3, 1, 2), [2, 0])).toThrow(/rank 0 out of order/);
    expect(() => selectRanks(Float64Array.of(3, 1, 2), [3])).toThrow(/out of \[0, 3\)/);
    expect(selectRanks(Float64Array.of(3, 1, 2), [1, 1])).toEqual([2, 2]);
  });
});
