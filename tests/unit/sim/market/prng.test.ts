import { describe, expect, it } from 'vitest';
import { CounterRng, streamRng, valueNoise } from '#colo/sim/market/prng.ts';

describe('counter-based PRNG', () => {
  it('gives draw n as a pure function of the stream key and n, whatever was drawn before', () => {
    // Prepare
    const a = streamRng(42, 'SHFE.cu2502', '2025-01-10', 'book');
    const b = streamRng(42, 'SHFE.cu2502', '2025-01-10', 'book');
    for (let i = 0; i < 1000; i++) a.nextU32();

    // Act
    const fromA = a.u32(7);
    const fromB = b.u32(7);

    // Assess
    expect(fromA).toBe(fromB);
    expect(a.counter).toBe(1000);
  });

  it.each([
    [42, 'SHFE.cu2502', '2025-01-10', 'book'],
    [43, 'SHFE.cu2502', '2025-01-10', 'book'],
    [42, 'SHFE.cu2503', '2025-01-10', 'book'],
    [42, 'SHFE.cu2502', '2025-01-13', 'book'],
  ])('gives a different stream when any key part differs (%s %s %s %s)', (seed, key, day, stream) => {
    // Prepare
    const base = streamRng(42, 'SHFE.cu2502', '2025-01-10', 'trades');
    const other = streamRng(seed, key, day, stream);

    // Act
    const same = Array.from({ length: 8 }, (_, i) => base.u32(i) === other.u32(i)).filter(Boolean).length;

    // Assess
    expect(same).toBe(0);
  });

  it('draws uniforms with mean 1/2 and no lag-1 correlation', () => {
    // Prepare
    const rng = new CounterRng(0x1234_5678, 0x9abc_def0);
    const n = 200_000;
    let sum = 0;
    let lag = 0;
    let prev = rng.float(0);

    // Act
    for (let i = 1; i <= n; i++) {
      const x = rng.float(i);
      sum += x;
      lag += (x - 0.5) * (prev - 0.5);
      prev = x;
    }

    // Assess
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(Math.abs(lag / n / (1 / 12))).toBeLessThan(0.01);
  });

  it('draws bounded normals with unit variance', () => {
    // Prepare
    const rng = streamRng(1, 'cu', '2025-01-10', 'anchor');
    const n = 100_000;
    let sum = 0;
    let sq = 0;
    let max = 0;

    // Act
    for (let i = 0; i < n; i++) {
      const z = rng.nextNormal();
      sum += z;
      sq += z * z;
      max = Math.max(max, Math.abs(z));
    }

    // Assess
    expect(sum / n).toBeCloseTo(0, 1);
    expect(sq / n).toBeCloseTo(1, 1);
    expect(max).toBeLessThanOrEqual(2 * Math.sqrt(3));
  });

  it('gives smooth value noise in [-1, 1] that changes little from one day to the next', () => {
    // Prepare
    const xs = Array.from({ length: 400 }, (_, i) => valueNoise(7, 'cu', 'spread', i, 30));

    // Act
    const maxStep = Math.max(...xs.slice(1).map((x, i) => Math.abs(x - (xs[i] as number))));

    // Assess
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...xs)).toBeLessThanOrEqual(1);
    expect(maxStep).toBeLessThan(0.11);
  });
});
