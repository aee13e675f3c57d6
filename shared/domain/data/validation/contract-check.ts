/**
 * The data contract check (data-chain §6.7): schema columns present, row hash deterministic and complete, L1 and L5
 * null rates within thresholds, plus the §6.4 order-book invariants for information. Runs on a deterministic synthetic
 * fixture (CI: `--rows 96`) or on a stored day; input is column-wise (`TickFrame`).
 */
import { RowHashInputError } from '../../../errors/data.ts';
import { ROW_HASH_ALGO, type RowHashAggregates, rowHashAggregates, rowHashFnv1a64V1 } from '../row-hash.ts';
import { TICK_NUMERIC_COLUMN_COUNT, TICK_NUMERIC_COLUMNS, TICKS_SCHEMA_HASH } from '../tick-columns.ts';
import { BOOK_COLUMNS, computeFieldQuality, INVARIANT_CHECKS, type InvariantCheck } from './field-quality.ts';

/** The canonical columns of §2.1: `symbol, datetime`, then the 27 numeric ones. */
export const CONTRACT_COLUMNS: readonly string[] = ['symbol', 'datetime', ...TICK_NUMERIC_COLUMNS];
export const CORE_NULL_RATE_COLUMNS = ['last_price', 'volume', 'open_interest', 'bid_price1', 'ask_price1'] as const;

/** Ticks by column name; every column has `rows` entries. `datetime` holds epoch-ns bigints, numeric cells numbers. */
export interface TickFrame {
  readonly rows: number;
  readonly columns: Readonly<Record<string, ArrayLike<unknown>>>;
}

export interface ContractThresholds {
  minRows: number;
  maxCoreNullRate: number;
  maxL5NullRate: number;
}

export const DEFAULT_CONTRACT_THRESHOLDS: Readonly<ContractThresholds> = Object.freeze({
  minRows: 32,
  maxCoreNullRate: 0.01,
  maxL5NullRate: 0.05,
});

export type ContractViolation =
  | { type: 'rows_below_minimum'; metric: 'rows_total'; value: number; threshold: number }
  | { type: 'missing_columns'; metric: 'schema_columns'; value: string[]; threshold: string[] }
  | { type: 'core_null_rate_exceeded'; metric: `${string}_null_rate`; value: number; threshold: number }
  | { type: 'l5_null_rate_exceeded'; metric: 'l5_null_rate_avg'; value: number; threshold: number };

export const CONTRACT_CHECK_NAMES = [
  'rows_minimum',
  'schema_columns_present',
  'row_hash_deterministic',
  'row_hash_integrity',
  'null_rates_within_threshold',
] as const;

export interface ContractReport {
  ok: boolean;
  source: string;
  rows_total: number;
  checks: { name: (typeof CONTRACT_CHECK_NAMES)[number]; ok: boolean }[];
  violations: ContractViolation[];
  missing_columns: string[];
  /** Reported, allowed. */
  extra_columns: string[];
  schema: { expected_columns: number; expected_schema_hash: string };
  row_hash: { algorithm: string; deterministic: boolean; non_null_rows: number; aggregates: RowHashAggregates };
  null_rates: { core: Record<(typeof CORE_NULL_RATE_COLUMNS)[number], number>; l5_avg: number };
  thresholds: ContractThresholds;
  /** §6.4 order-book invariants (informational: they do not change `ok`). */
  invariants: Record<InvariantCheck, { violations: number; checked: number; rate: number }>;
}

function clampThresholds(t: Partial<ContractThresholds>): ContractThresholds {
  const unit = (v: number | undefined, d: number): number =>
    v === undefined || !Number.isFinite(v) ? d : Math.min(1, Math.max(0, v));
  const minRows = t.minRows === undefined || !Number.isFinite(t.minRows) ? 32 : Math.max(1, Math.trunc(t.minRows));
  return {
    minRows,
    maxCoreNullRate: unit(t.maxCoreNullRate, DEFAULT_CONTRACT_THRESHOLDS.maxCoreNullRate),
    maxL5NullRate: unit(t.maxL5NullRate, DEFAULT_CONTRACT_THRESHOLDS.maxL5NullRate),
  };
}

/** A numeric column as Float64Array: numbers as they are, anything else (null, strings, absent column) NaN. */
function numericColumn(frame: TickFrame, name: string): Float64Array {
  const out = new Float64Array(frame.rows).fill(Number.NaN);
  const src = frame.columns[name];
  if (src === undefined) return out;
  if (src instanceof Float64Array) return src.length === frame.rows ? src : Float64Array.from(src);
  for (let r = 0; r < frame.rows; r++) {
    const v = src[r];
    if (typeof v === 'number') out[r] = v;
  }
  return out;
}

function nullRate(col: Float64Array): number {
  if (col.length === 0) return 0;
  let k = 0;
  for (let r = 0; r < col.length; r++) if (Number.isNaN(col[r] as number)) k++;
  return k / col.length;
}

/** Row hashes of the frame; a row whose hash cannot be computed is null (counted by `row_hash_integrity`). */
function hashRows(frame: TickFrame, values: readonly Float64Array[]): (bigint | null)[] {
  const dt = frame.columns.datetime;
  const row = new Float64Array(TICK_NUMERIC_COLUMN_COUNT);
  const out: (bigint | null)[] = new Array(frame.rows);
  for (let r = 0; r < frame.rows; r++) {
    for (let c = 0; c < TICK_NUMERIC_COLUMN_COUNT; c++) row[c] = (values[c] as Float64Array)[r] as number;
    const d = dt === undefined ? null : dt[r];
    try {
      out[r] = rowHashFnv1a64V1(d as bigint | null | undefined, row);
    } catch (err) {
      if (!(err instanceof RowHashInputError)) throw err;
      out[r] = null;
    }
  }
  return out;
}

/** §6.7 over one frame. */
export function evaluateDataContract(
  frame: TickFrame,
  thresholds: Partial<ContractThresholds> = {},
  source = 'frame',
): ContractReport {
  const t = clampThresholds(thresholds);
  const present = Object.keys(frame.columns);
  const missing = CONTRACT_COLUMNS.filter((c) => !present.includes(c));
  const extra = present.filter((c) => !CONTRACT_COLUMNS.includes(c));
  const values = TICK_NUMERIC_COLUMNS.map((c) => numericColumn(frame, c));
  const byName = (c: string): Float64Array => values[TICK_NUMERIC_COLUMNS.indexOf(c as never)] as Float64Array;

  const first = hashRows(frame, values);
  const second = hashRows(frame, values);
  const deterministic = first.length === second.length && first.every((h, i) => h === second[i]);
  const hashes = first.filter((h): h is bigint => h !== null);
  const integrity = deterministic && hashes.length === frame.rows;

  const core = {} as Record<(typeof CORE_NULL_RATE_COLUMNS)[number], number>;
  for (const c of CORE_NULL_RATE_COLUMNS) core[c] = nullRate(byName(c));
  const l5Avg = BOOK_COLUMNS.reduce((s, c) => s + nullRate(byName(c)), 0) / BOOK_COLUMNS.length;

  const violations: ContractViolation[] = [];
  if (frame.rows < t.minRows) {
    violations.push({ type: 'rows_below_minimum', metric: 'rows_total', value: frame.rows, threshold: t.minRows });
  }
  if (missing.length > 0) {
    violations.push({ type: 'missing_columns', metric: 'schema_columns', value: missing, threshold: [] });
  }
  for (const c of CORE_NULL_RATE_COLUMNS) {
    if (core[c] > t.maxCoreNullRate) {
      violations.push({
        type: 'core_null_rate_exceeded',
        metric: `${c}_null_rate`,
        value: core[c],
        threshold: t.maxCoreNullRate,
      });
    }
  }
  if (l5Avg > t.maxL5NullRate) {
    violations.push({
      type: 'l5_null_rate_exceeded',
      metric: 'l5_null_rate_avg',
      value: l5Avg,
      threshold: t.maxL5NullRate,
    });
  }

  const checks: ContractReport['checks'] = [
    { name: 'rows_minimum', ok: frame.rows >= t.minRows },
    { name: 'schema_columns_present', ok: missing.length === 0 },
    { name: 'row_hash_deterministic', ok: deterministic },
    { name: 'row_hash_integrity', ok: integrity },
    {
      name: 'null_rates_within_threshold',
      ok: CORE_NULL_RATE_COLUMNS.every((c) => core[c] <= t.maxCoreNullRate) && l5Avg <= t.maxL5NullRate,
    },
  ];
  const fq = computeFieldQuality(values, frame.rows);
  const invariants = {} as ContractReport['invariants'];
  for (const k of INVARIANT_CHECKS) invariants[k] = { ...fq.invariants[k] };

  return {
    ok: checks.every((c) => c.ok),
    source,
    rows_total: frame.rows,
    checks,
    violations,
    missing_columns: missing,
    extra_columns: extra,
    schema: { expected_columns: CONTRACT_COLUMNS.length, expected_schema_hash: TICKS_SCHEMA_HASH },
    row_hash: {
      algorithm: ROW_HASH_ALGO,
      deterministic,
      non_null_rows: hashes.length,
      aggregates: rowHashAggregates(hashes),
    },
    null_rates: { core, l5_avg: l5Avg },
    thresholds: t,
    invariants,
  };
}

/** 2025-01-01 00:00:00 UTC in epoch ns: the synthetic fixture's first tick. */
export const SYNTHETIC_BASE_NS = 1_735_689_600_000_000_000n;

/**
 * Deterministic synthetic ticks (§6.7): 0.5 s apart from 2025-01-01 00:00 UTC, price 70,000 + 0.1·i, book levels at
 * ∓level around it, volumes 10·level + i (bid) / 12·level + i (ask), cumulative volume i + 1.
 */
export function syntheticContractFrame(rows = 64): TickFrame {
  const n = Math.max(1, Math.trunc(rows));
  const columns: Record<string, ArrayLike<unknown>> = {};
  columns.symbol = new Array<string>(n).fill('SHFE.cu2505');
  const dt = new BigInt64Array(n);
  for (let i = 0; i < n; i++) dt[i] = SYNTHETIC_BASE_NS + BigInt(i) * 500_000_000n;
  columns.datetime = dt;
  const make = (f: (i: number) => number): Float64Array => Float64Array.from({ length: n }, (_, i) => f(i));
  const price = (i: number): number => 70_000 + i * 0.1;
  columns.last_price = make(price);
  columns.average = make(price);
  columns.highest = make((i) => price(i) + 1);
  columns.lowest = make((i) => price(i) - 1);
  columns.volume = make((i) => i + 1);
  columns.amount = make((i) => 1_000_000 + i * 10);
  columns.open_interest = make((i) => 100_000 + i);
  for (let level = 1; level <= 5; level++) {
    columns[`bid_price${level}`] = make((i) => price(i) - level);
    columns[`bid_volume${level}`] = make((i) => 10 * level + i);
    columns[`ask_price${level}`] = make((i) => price(i) + level);
    columns[`ask_volume${level}`] = make((i) => 12 * level + i);
  }
  return { rows: n, columns };
}

/** The frame without `column` (e.g. `bid_price3` → `missing_columns`). */
export function dropColumn(frame: TickFrame, column: string): TickFrame {
  const { [column]: _dropped, ...rest } = frame.columns;
  return { rows: frame.rows, columns: rest };
}

/** The frame with one numeric column replaced by `f(i)` (e.g. all-NaN `last_price`). */
export function withColumn(frame: TickFrame, column: string, f: (i: number) => number): TickFrame {
  return {
    rows: frame.rows,
    columns: { ...frame.columns, [column]: Float64Array.from({ length: frame.rows }, (_, i) => f(i)) },
  };
}

/**
 * The invariant fixture: the synthetic frame with exactly one crossed book (row 1: bid1 = ask1), one bid-order break
 * (row 2: bid2 = bid1), one ask-order break (row 3: ask2 = ask1), one negative volume cell (row 4: bid_volume3 = −1)
 * and one negative price cell (row 5: last_price = −1).
 */
export function invariantFixtureFrame(rows = 96): TickFrame {
  const base = syntheticContractFrame(Math.max(rows, 6));
  const copy = (c: string): Float64Array => Float64Array.from(base.columns[c] as Float64Array);
  const bid1 = copy('bid_price1');
  const bid2 = copy('bid_price2');
  const ask2 = copy('ask_price2');
  const bidVol3 = copy('bid_volume3');
  const last = copy('last_price');
  const ask1 = base.columns.ask_price1 as Float64Array;
  bid1[1] = ask1[1] as number;
  bid2[2] = bid1[2] as number;
  ask2[3] = ask1[3] as number;
  bidVol3[4] = -1;
  last[5] = -1;
  return {
    rows: base.rows,
    columns: {
      ...base.columns,
      bid_price1: bid1,
      bid_price2: bid2,
      ask_price2: ask2,
      bid_volume3: bidVol3,
      last_price: last,
    },
  };
}
