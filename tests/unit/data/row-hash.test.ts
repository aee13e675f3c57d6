import { describe, expect, it } from 'vitest';
import {
  ROW_HASH_ALGO,
  RowHashAggregator,
  rowHashAggregates,
  rowHashFnv1a64V1,
  rowHashFnv1a64V1Reference,
  rowHashOfRecord,
} from '#shared/domain/data/row-hash.ts';
import { TICK_NUMERIC_COLUMNS, type TickNumericColumn } from '#shared/domain/data/tick-columns.ts';
import { RowHashInputError } from '#shared/errors/data.ts';

const ZERO_ROW_HASH = -514687452735585709n;
const VECTOR_B_HASH = -9023450307992665517n;

function values(fields: Partial<Record<TickNumericColumn, number>>): number[] {
  return TICK_NUMERIC_COLUMNS.map((c) => fields[c] ?? 0);
}

const VECTOR_B = {
  datetime: 1_735_689_600_000_000_000n,
  fields: {
    last_price: 70_000,
    bid_price1: 69_990,
    ask_price1: 70_010,
    bid_volume1: 5,
    ask_volume1: 7,
    volume: 100,
    open_interest: 200_000,
  },
};

/** Deterministic pseudo-random doubles (xorshift32) so the fast/reference cross-check is reproducible. */
function pseudoRandomRows(n: number): { dt: bigint; v: Float64Array }[] {
  let s = 0x9e3779b9;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4_294_967_296;
  };
  return Array.from({ length: n }, () => ({
    dt: BigInt(Math.floor(next() * 2 ** 53)) * (next() < 0.5 ? -1n : 1n) * 1000n,
    v: Float64Array.from({ length: 27 }, () => (next() - 0.5) * 10 ** Math.floor(next() * 12)),
  }));
}

describe('rowHashFnv1a64V1', () => {
  it('names the algorithm fnv1a64_v1', () => {
    // Assess
    expect(ROW_HASH_ALGO).toBe('fnv1a64_v1');
  });

  it('hashes the all-zero row at datetime 0 to vector (a) on both paths', () => {
    // Prepare
    const zeros = new Float64Array(27);

    // Act
    const fast = rowHashFnv1a64V1(0n, zeros);
    const reference = rowHashFnv1a64V1Reference(0n, zeros);

    // Assess
    expect(fast).toBe(ZERO_ROW_HASH);
    expect(reference).toBe(ZERO_ROW_HASH);
  });

  it('hashes the populated row to vector (b) on both paths and by column name', () => {
    // Prepare
    const v = values(VECTOR_B.fields);

    // Act
    const fast = rowHashFnv1a64V1(VECTOR_B.datetime, v);
    const reference = rowHashFnv1a64V1Reference(VECTOR_B.datetime, v);
    const byName = rowHashOfRecord(VECTOR_B.datetime, { ...VECTOR_B.fields, symbol: 'KQ.m@SHFE.cu' } as never);

    // Assess
    expect(fast).toBe(VECTOR_B_HASH);
    expect(reference).toBe(VECTOR_B_HASH);
    expect(byName).toBe(VECTOR_B_HASH);
  });

  it('hashes -0.0 differently from 0.0 because the sign bit is part of the word', () => {
    // Prepare
    const negZero = values({ last_price: -0 });

    // Act
    const fast = rowHashFnv1a64V1(0n, negZero);
    const reference = rowHashFnv1a64V1Reference(0n, negZero);

    // Assess
    expect(fast).not.toBe(ZERO_ROW_HASH);
    expect(reference).toBe(fast);
  });

  it('hashes NaN, null, undefined and non-numeric cells as 0.0', () => {
    // Prepare
    const cells: (number | null | undefined)[] = new Array(27).fill(0);
    cells[1] = Number.NaN;
    cells[2] = null;
    cells[3] = undefined;

    // Act
    const positional = rowHashFnv1a64V1(0n, cells);
    const reference = rowHashFnv1a64V1Reference(0n, cells);
    const byName = rowHashOfRecord(0n, { average: Number.NaN, highest: '7' as unknown as number });

    // Assess
    expect(positional).toBe(ZERO_ROW_HASH);
    expect(reference).toBe(ZERO_ROW_HASH);
    expect(byName).toBe(ZERO_ROW_HASH);
  });

  it('hashes a missing datetime as 0 and keeps the bits of ±Infinity', () => {
    // Prepare
    const inf = values({ volume: Number.POSITIVE_INFINITY });
    const negInf = values({ volume: Number.NEGATIVE_INFINITY });

    // Act
    const missing = rowHashFnv1a64V1(null, new Float64Array(27));
    const a = rowHashFnv1a64V1(0n, inf);
    const b = rowHashFnv1a64V1(0n, negInf);

    // Assess
    expect(missing).toBe(ZERO_ROW_HASH);
    expect(a).not.toBe(ZERO_ROW_HASH);
    expect(b).not.toBe(a);
    expect(rowHashFnv1a64V1Reference(0n, inf)).toBe(a);
  });

  it('agrees with the BigInt reference on 500 pseudo-random rows including negative datetimes', () => {
    // Prepare
    const rows = pseudoRandomRows(500);

    // Act
    const mismatches = rows.filter((r) => rowHashFnv1a64V1(r.dt, r.v) !== rowHashFnv1a64V1Reference(r.dt, r.v));

    // Assess
    expect(mismatches).toEqual([]);
  });

  it('depends on column order: swapping two values changes the hash', () => {
    // Prepare
    const v = values(VECTOR_B.fields);
    [v[7], v[9]] = [v[9] as number, v[7] as number];

    // Act
    const h = rowHashFnv1a64V1(VECTOR_B.datetime, v);

    // Assess
    expect(h).not.toBe(VECTOR_B_HASH);
  });

  it('refuses a row without exactly 27 values and a datetime outside int64', () => {
    // Act
    const short = () => rowHashFnv1a64V1(0n, new Float64Array(26));
    const huge = () => rowHashFnv1a64V1(1n << 63n, new Float64Array(27));

    // Assess
    expect(short).toThrow(RowHashInputError);
    expect(huge).toThrow(RowHashInputError);
  });
});

describe('rowHashAggregates', () => {
  it('is all null for an empty day', () => {
    // Act
    const agg = rowHashAggregates([]);

    // Assess
    expect(agg).toEqual({ rows: 0, min: null, max: null, sum: null, abs_sum: null });
  });

  it('gives min, max, sum and sum of absolute values', () => {
    // Act
    const agg = rowHashAggregates([ZERO_ROW_HASH, VECTOR_B_HASH, 5n]);

    // Assess
    expect(agg.rows).toBe(3);
    expect(agg.min).toBe(VECTOR_B_HASH);
    expect(agg.max).toBe(5n);
    expect(agg.sum).toBe(BigInt.asIntN(64, ZERO_ROW_HASH + VECTOR_B_HASH + 5n));
    expect(agg.abs_sum).toBe(BigInt.asIntN(64, -ZERO_ROW_HASH - VECTOR_B_HASH + 5n));
  });

  it('wraps sums around int64 instead of growing past it', () => {
    // Prepare
    const max = (1n << 63n) - 1n;
    const agg = new RowHashAggregator();

    // Act
    agg.add(max);
    agg.add(1n);
    const r = agg.result();

    // Assess
    expect(r.sum).toBe(-(1n << 63n));
    expect(r.abs_sum).toBe(-(1n << 63n));
  });

  it('refuses a value that is not a signed int64', () => {
    // Act
    const act = () => rowHashAggregates([1n << 63n]);

    // Assess
    expect(act).toThrow(RowHashInputError);
  });
});
