import { describe, expect, it } from 'vitest';
import { isTickOrdered, keysDistinctInOrder, microsOfNanos, orderTickValues } from '#shared/domain/data/tick-order.ts';
import type { TickDayValues } from '#shared/domain/data/tick-store.ts';

function day(times: readonly bigint[], hashes: readonly bigint[]): TickDayValues {
  return {
    datetimeNs: BigInt64Array.from(times),
    rowHash: BigInt64Array.from(hashes),
    values: [Float64Array.from(times, (_, i) => i), Float64Array.from(times, (_, i) => 100 + i)],
  };
}

describe('tick read order (datetime_ns, row_hash) as signed int64', () => {
  it('compares full 64-bit values: high word signed, low word unsigned', () => {
    // Prepare: pairs that a 32-bit or float comparison would misorder.
    const cases: [bigint, bigint, boolean][] = [
      [0xffff_ffffn, 0x1_0000_0000n, true], // low word 0xffffffff (negative as int32) < next high word
      [-1n, 0n, true],
      [0n, -1n, false],
      [-(2n ** 63n), 2n ** 63n - 1n, true],
      [1_767_571_200_000_000_001n, 1_767_571_200_000_000_000n, false], // 1 ns apart: beyond float64 precision
      [0x8000_0000n, 0x7fff_ffffn, false],
    ];
    for (const [a, b, ordered] of cases) {
      // Act / Assess
      expect(isTickOrdered(BigInt64Array.of(a, b), BigInt64Array.of(0n, 0n)), `${a} then ${b}`).toBe(ordered);
      expect(isTickOrdered(BigInt64Array.of(5n, 5n), BigInt64Array.of(a, b)), `hash ${a} then ${b}`).toBe(ordered);
    }
    expect(isTickOrdered(new BigInt64Array(0), new BigInt64Array(0))).toBe(true);
    expect(() => isTickOrdered(new BigInt64Array(2), new BigInt64Array(1))).toThrow(/rowHash 1/);
  });

  it('returns an ordered day as is, and sorts an unordered one stably on every column', () => {
    // Prepare: rows 1 and 3 are exact (time, hash) ties; storage order must survive between them.
    const t = [30n, 10n, -5n, 10n, 10n];
    const h = [0n, 7n, 1n, 7n, -3n];
    const unordered = day(t, h);
    const ordered = day([-5n, 10n, 10n], [1n, -3n, 7n]);
    // Act
    const got = orderTickValues(unordered);
    // Assess
    expect(orderTickValues(ordered)).toBe(ordered);
    const want = [2, 4, 1, 3, 0];
    expect([...got.datetimeNs]).toEqual(want.map((i) => t[i]));
    expect([...got.rowHash]).toEqual(want.map((i) => h[i]));
    expect([...(got.values[0] as Float64Array)]).toEqual(want);
    expect([...(got.values[1] as Float64Array)]).toEqual(want.map((i) => 100 + i));
  });

  it('sorts views of a larger buffer (a streamed read hands back subarrays)', () => {
    // Prepare
    const buf = BigInt64Array.of(99n, 3n, 1n, 2n, 99n);
    const hashes = BigInt64Array.of(0n, 0n, 0n, 0n, 0n);
    const view: TickDayValues = {
      datetimeNs: buf.subarray(1, 4),
      rowHash: hashes.subarray(1, 4),
      values: [Float64Array.of(9, 0, 1, 2, 9).subarray(1, 4)],
    };
    // Act
    const got = orderTickValues(view);
    // Assess
    expect([...got.datetimeNs]).toEqual([1n, 2n, 3n]);
    expect([...(got.values[0] as Float64Array)]).toEqual([1, 2, 0]);
  });
});

describe('write-path key helpers', () => {
  it('microsOfNanos floors non-negative nanoseconds to microseconds exactly, and refuses negatives', () => {
    // Prepare: values around word boundaries and beyond float64's exact integers.
    const ns = [
      0n,
      999n,
      1000n,
      0xffff_ffffn,
      0x1_0000_0000n,
      1_767_571_200_123_456_789n,
      2n ** 63n - 1n,
      (2n ** 32n - 1n) * 1000n + 999n,
    ];
    // Act
    const got = microsOfNanos(BigInt64Array.from(ns));
    // Assess
    expect(got === null ? null : [...got]).toEqual(ns.map((x) => x / 1000n));
    expect(microsOfNanos(BigInt64Array.of(5n, -1n))).toBeNull();
  });

  it('microsOfNanos agrees with BigInt division on 10,000 random nanosecond times', () => {
    // Prepare
    let s = 12_345n;
    const ns = BigInt64Array.from({ length: 10_000 }, () => {
      s = (s * 6_364_136_223_846_793_005n + 1_442_695_040_888_963_407n) % 2n ** 64n;
      return s >> 1n; // non-negative int64
    });
    // Act / Assess
    expect([...(microsOfNanos(ns) ?? [])]).toEqual([...ns].map((x) => x / 1000n));
  });

  it('keysDistinctInOrder accepts ascending times with distinct hashes per instant only', () => {
    const k = (t: bigint[], h: bigint[]) => keysDistinctInOrder(BigInt64Array.from(t), BigInt64Array.from(h));
    expect(k([], [])).toBe(true);
    expect(k([1n, 2n, 2n, 3n], [5n, 6n, 7n, 6n])).toBe(true);
    expect(k([1n, 2n, 2n, 2n], [5n, 6n, 7n, 6n])).toBe(false); // (2, 6) twice
    expect(k([1n, 2n, 2n], [5n, 6n, 6n])).toBe(false); // a trailing duplicate
    expect(k([2n, 1n], [5n, 6n])).toBe(false); // out of order
    expect(k([-1n, 0n], [0n, 0n])).toBe(true);
    expect(() => k([1n], [])).toThrow(/rowHash 0/);
  });
});
