/**
 * The read order of a stored tick day (data-chain §1.3): ascending by `(datetime_ns, row_hash)` as signed int64, exact
 * ties in storage order. A store that can hand back a day in storage order without sorting it (DuckDB keeps insertion
 * order, and a day is written in download order) checks that order here and sorts only the days that need it.
 */
import type { TickDayValues } from './tick-store.ts';

/** Little-endian int64 words as (lo, hi) int32 pairs: `hi` signed, `lo` compared unsigned. No BigInt allocations. */
function words(a: BigInt64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** -1, 0 or 1: int64 `x[i]` against `x[j]`, both given as word views. */
function cmp64(w: Int32Array, i: number, j: number): number {
  const hi = (w[2 * i + 1] as number) - (w[2 * j + 1] as number);
  if (hi !== 0) return hi < 0 ? -1 : 1;
  const a = (w[2 * i] as number) >>> 0;
  const b = (w[2 * j] as number) >>> 0;
  return a === b ? 0 : a < b ? -1 : 1;
}

/** True when the rows are ascending by `(datetime_ns, row_hash)` (equal pairs allowed). */
export function isTickOrdered(datetimeNs: BigInt64Array, rowHash: BigInt64Array): boolean {
  const n = datetimeNs.length;
  if (rowHash.length !== n) throw new RangeError(`datetimeNs has ${n} rows, rowHash ${rowHash.length}`);
  const t = words(datetimeNs);
  const h = words(rowHash);
  for (let i = 1; i < n; i++) {
    const c = cmp64(t, i - 1, i);
    if (c > 0 || (c === 0 && cmp64(h, i - 1, i) > 0)) return false;
  }
  return true;
}

/** The day in `(datetime_ns, row_hash)` order; a stable sort, so exact ties keep their storage order. */
export function orderTickValues(day: TickDayValues): TickDayValues {
  if (isTickOrdered(day.datetimeNs, day.rowHash)) return day;
  const n = day.datetimeNs.length;
  const t = words(day.datetimeNs);
  const h = words(day.rowHash);
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((i, j) => cmp64(t, i, j) || cmp64(h, i, j)); // Array.prototype.sort is stable
  const permute = <A extends BigInt64Array | Float64Array>(src: A, out: A): A => {
    for (let k = 0; k < n; k++) out[k] = src[idx[k] as number] as never;
    return out;
  };
  return {
    datetimeNs: permute(day.datetimeNs, new BigInt64Array(n)),
    rowHash: permute(day.rowHash, new BigInt64Array(n)),
    values: day.values.map((v) => permute(v, new Float64Array(n))),
  };
}

/**
 * True when `tsMicros` is ascending (equal values allowed) and no `(tsMicros, rowHash)` pair repeats: the batch's
 * dedup keys (§1.3) are distinct, so it can be appended to an empty day as it is.
 */
export function keysDistinctInOrder(tsMicros: BigInt64Array, rowHash: BigInt64Array): boolean {
  const n = tsMicros.length;
  if (rowHash.length !== n) throw new RangeError(`tsMicros has ${n} rows, rowHash ${rowHash.length}`);
  const t = words(tsMicros);
  let groupStart = 0;
  for (let i = 1; i <= n; i++) {
    const c = i < n ? cmp64(t, i - 1, i) : -1;
    if (c > 0) return false;
    if (c === 0) continue;
    // [groupStart, i) share one instant: their hashes must differ (rare: ticks 1 µs apart or closer).
    if (i - groupStart > 1) {
      const seen = new Set<bigint>();
      for (let k = groupStart; k < i; k++) {
        const v = rowHash[k] as bigint;
        if (seen.has(v)) return false;
        seen.add(v);
      }
    }
    groupStart = i;
  }
  return true;
}

/**
 * Epoch microseconds (`datetime_ns` floored to µs, the tick table's `ts`) of non-negative nanoseconds, without BigInt
 * arithmetic: a long division by 1000 on the two 32-bit words, exact in float64 at every step. `null` when some value
 * is negative (a caller falls back to SQL).
 */
export function microsOfNanos(datetimeNs: BigInt64Array): BigInt64Array | null {
  const n = datetimeNs.length;
  const src = words(datetimeNs);
  const out = new BigInt64Array(n);
  const dst = words(out);
  for (let i = 0; i < n; i++) {
    const hi = src[2 * i + 1] as number;
    if (hi < 0) return null;
    const lo = (src[2 * i] as number) >>> 0;
    const r = hi % 1000;
    const rest = r * 4_294_967_296 + lo; // < 1000 · 2^32: exact
    const low = Math.floor(rest / 1000); // < 2^32
    dst[2 * i + 1] = (hi - r) / 1000;
    dst[2 * i] = low | 0;
  }
  return out;
}
