/**
 * Counter-based pseudo-random numbers for the market generator (market-protocol §2.3 "Determinism").
 *
 * A stream is named by (seed, key, trading day, stream name); its 64-bit key is a hash of those four parts, and
 * draw `n` of the stream is a pure function of (key, n). Nothing depends on the order in which streams or
 * draws are requested, on wall time or on `Math.random`. Everything runs on 32-bit integer math (`Math.imul`),
 * never BigInt, so the tick loops stay fast. Quality target: statistically plain noise for a simulator, not
 * cryptography.
 */

const U32 = 4_294_967_296;

/** lowbias32 (C. Wellons' hash-prospector): a 32-bit finalizer with very low avalanche bias. */
function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

/** Two independent 32-bit hashes of a string (FNV-1a over UTF-16 code units, then finalized). */
function hashString(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 13);
  }
  return [lowbias32(a ^ text.length), lowbias32(b + Math.imul(text.length, 0x9e3779b9))];
}

/**
 * A counter-based generator: `u32(n)` is a pure function of the stream key and `n`. The sequential helpers
 * (`next*`) only advance `counter`; two instances with the same key and counter give the same draws.
 */
export class CounterRng {
  /** Index of the next sequential draw. */
  counter = 0;

  constructor(
    readonly k0: number,
    readonly k1: number,
  ) {}

  /** Draw `n` as an unsigned 32-bit integer. */
  u32(n: number): number {
    // Two keyed rounds: the counter is whitened with k0, then the result is keyed again with k1, so streams
    // whose keys differ in either half decorrelate.
    const x = lowbias32((Math.imul(n, 0x9e3779b9) ^ this.k0) >>> 0);
    return lowbias32((x + this.k1 + (n >>> 16)) >>> 0);
  }

  /** Draw `n` as a float in [0, 1) with 32 bits of resolution. */
  float(n: number): number {
    return this.u32(n) / U32;
  }

  /** The next draw as an unsigned 32-bit integer. */
  nextU32(): number {
    return this.u32(this.counter++);
  }

  /** The next draw as a float in [0, 1). */
  nextFloat(): number {
    return this.u32(this.counter++) / U32;
  }

  /** An integer uniform in [lo, hi] (inclusive), from the next draw. */
  nextInt(lo: number, hi: number): number {
    return lo + Math.floor(this.nextFloat() * (hi - lo + 1));
  }

  /**
   * An approximately standard normal draw from two 32-bit draws: the Irwin–Hall sum of four 16-bit uniforms,
   * rescaled to unit variance. Bounded in ±2√3 by construction (no transcendental functions, no rare tails);
   * good enough for price increments and keeps every move finite and on a known scale.
   */
  nextNormal(): number {
    const a = this.u32(this.counter++);
    const b = this.u32(this.counter++);
    const s = (a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16);
    // Four U[0,1) of 16 bits: mean 2, variance 4/12 → scale by √3.
    return (s / 65_536 - 2) * 1.7320508075688772;
  }
}

/**
 * The stream named by (seed, key, day, stream). `key` is a contract symbol or a variety; `day` is an ISO trading
 * day (or any fixed label such as `'static'` for per-contract constants).
 */
export function streamRng(seed: number, key: string, day: string, stream: string): CounterRng {
  const [a, b] = hashString(`${seed}\u0001${key}\u0001${day}\u0001${stream}`);
  return new CounterRng(a, b);
}

/** One float in [0, 1) for (seed, key, day, stream, n) without keeping a generator around. */
export function hashFloat(seed: number, key: string, day: string, stream: string, n = 0): number {
  return streamRng(seed, key, day, stream).float(n);
}

/**
 * Smooth value noise in [-1, 1] over an integer axis (trading-day index): random knots every `period` steps keyed
 * by (seed, key, stream, knot), joined by a cosine-free smoothstep. Analytic: any point costs two hashes, so
 * slowly varying day-level parameters (OI level, term-structure spread) need no walk from an epoch.
 */
export function valueNoise(seed: number, key: string, stream: string, x: number, period: number): number {
  const t = x / period;
  const k = Math.floor(t);
  const f = t - k;
  const rng = streamRng(seed, key, 'knots', stream);
  // Knot indices may be negative; shift into the unsigned counter range.
  const a = rng.float((k + 0x4000_0000) >>> 0) * 2 - 1;
  const b = rng.float((k + 1 + 0x4000_0000) >>> 0) * 2 - 1;
  const s = f * f * (3 - 2 * f);
  return a + (b - a) * s;
}
