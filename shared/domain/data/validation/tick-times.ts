/**
 * Exact per-tick second arithmetic on a `BigInt64Array` of epoch nanoseconds without one BigInt operation per tick
 * (data-chain §6.3 counts per second over ~60k ticks a day, ~250 days a year). Each int64 is read as two 32-bit words
 * and taken relative to a whole-second base, which is exact in a double while |Δ| < 2^53 ns (≈ 104 days); ticks
 * further away take the BigInt path, so every result is exact.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO_32 = 4_294_967_296;
const NS_PER_S = 1e9;
/** |Δ| below this keeps `hi·2^32 + lo` and the quotient correction exact in a double. */
const SAFE_DELTA = 2 ** 53 - 4e9;

/** `floor(ns / 1e9)` per tick (exact) and `ns − base` per tick (exact while |Δ| < 2^53), plus the base. */
export interface TickTimes {
  /** Whole epoch seconds of each tick, `floor(datetime_ns / 1e9)`. */
  readonly secs: Float64Array;
  /** `datetime_ns − baseNs` of each tick, in ns (for intervals between nearby ticks). */
  readonly relNs: Float64Array;
  readonly baseNs: bigint;
}

function floorSecondsBig(ns: bigint): number {
  const q = ns / 1_000_000_000n;
  return Number(ns < 0n && q * 1_000_000_000n !== ns ? q - 1n : q);
}

/** Seconds and relative nanoseconds of every tick (see the module comment); order is kept. */
export function tickTimes(datetimeNs: BigInt64Array): TickTimes {
  const n = datetimeNs.length;
  const secs = new Float64Array(n);
  const relNs = new Float64Array(n);
  if (n === 0) return { secs, relNs, baseNs: 0n };
  const first = datetimeNs[0] as bigint;
  const baseSec = floorSecondsBig(first);
  const baseNs = BigInt(baseSec) * 1_000_000_000n;
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) {
      const ns = datetimeNs[i] as bigint;
      secs[i] = floorSecondsBig(ns);
      relNs[i] = Number(ns - baseNs);
    }
    return { secs, relNs, baseNs };
  }
  const words = new Uint32Array(datetimeNs.buffer, datetimeNs.byteOffset, n * 2);
  const baseHi = Number(BigInt.asIntN(32, baseNs >> 32n));
  const baseLo = Number(BigInt.asUintN(32, baseNs));
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i] as number;
    const hi = (words[2 * i + 1] as number) | 0;
    const delta = (hi - baseHi) * TWO_32 + (lo - baseLo);
    if (delta > SAFE_DELTA || delta < -SAFE_DELTA) {
      const ns = datetimeNs[i] as bigint;
      secs[i] = floorSecondsBig(ns);
      relNs[i] = Number(ns - baseNs);
      continue;
    }
    let q = Math.floor(delta / NS_PER_S);
    const r = delta - q * NS_PER_S;
    if (r < 0) q -= 1;
    else if (r >= NS_PER_S) q += 1;
    secs[i] = baseSec + q;
    relNs[i] = delta;
  }
  return { secs, relNs, baseNs };
}

/** Distinct seconds with ticks, ascending, and how many ticks each second holds (§6.3 per-second counts). */
export interface SecondCounts {
  readonly secs: Float64Array;
  readonly counts: Uint32Array;
}

/**
 * Per-second tick counts of the ticks selected by `mask` (all ticks when null): `floor(datetime_ns/1e9)` grouped.
 * Input order does not matter; the result is ascending by second.
 */
export function secondCounts(secsPerTick: Float64Array, mask: Uint8Array | null = null): SecondCounts {
  const n = secsPerTick.length;
  let selected: Float64Array;
  if (mask === null) selected = secsPerTick;
  else {
    selected = new Float64Array(n);
    let k = 0;
    for (let i = 0; i < n; i++) if (mask[i] === 1) selected[k++] = secsPerTick[i] as number;
    selected = selected.subarray(0, k);
  }
  let sorted = true;
  for (let i = 1; i < selected.length; i++) {
    if ((selected[i] as number) < (selected[i - 1] as number)) {
      sorted = false;
      break;
    }
  }
  if (!sorted) selected = Float64Array.from(selected).sort();
  const m = selected.length;
  const secs = new Float64Array(m);
  const counts = new Uint32Array(m);
  let u = -1;
  for (let i = 0; i < m; i++) {
    const s = selected[i] as number;
    if (u >= 0 && secs[u] === s) counts[u] = (counts[u] as number) + 1;
    else {
      u++;
      secs[u] = s;
      counts[u] = 1;
    }
  }
  return { secs: secs.slice(0, u + 1), counts: counts.slice(0, u + 1) };
}

/** Per-second counts built directly from (second, count) pairs, for tests and callers that already grouped. */
export function secondCountsFrom(pairs: Iterable<readonly [number, number]>): SecondCounts {
  const sorted = [...pairs].filter(([, c]) => c > 0).sort((a, b) => a[0] - b[0]);
  const secs = new Float64Array(sorted.length);
  const counts = new Uint32Array(sorted.length);
  sorted.forEach(([s, c], i) => {
    if (i > 0 && secs[i - 1] === s) throw new RangeError(`second ${s} given twice`);
    secs[i] = s;
    counts[i] = c;
  });
  return { secs, counts };
}
