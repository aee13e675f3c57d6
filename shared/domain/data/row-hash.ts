/**
 * Row identity `fnv1a64_v1` (data-chain §2.2), bit-exact with the predecessor's datasets, and the per-day aggregates
 * two stores are compared with.
 *
 * h = 1469598103934665603 (NOT the FNV-64 offset: one digit shorter, copied exactly), then for `datetime_ns` (as the
 * two's complement uint64 of the int64) and each of the 27 numeric columns in §2.1 order (as the IEEE-754 float64 bit
 * pattern): h = (h XOR word) × 1099511628211 mod 2^64. The result is read as a signed int64 (QuestDB LONG).
 * null / NaN / non-numeric / absent → 0.0; ±Infinity and -0.0 keep their own bits (-0.0 ≠ 0.0).
 *
 * `rowHashFnv1a64V1` runs on 32-bit limbs (it sits on every ingest and verification path); the BigInt
 * `rowHashFnv1a64V1Reference` is the spec's literal algorithm and the tests hold both to the spec vectors and to
 * each other.
 */
import { RowHashInputError } from '../../errors/data.ts';
import { TICK_NUMERIC_COLUMN_COUNT, TICK_NUMERIC_COLUMNS, type TickNumericColumn } from './tick-columns.ts';

/** Algorithm id recorded on build rows and manifests; a missing value in legacy records reads as this. */
export const ROW_HASH_ALGO = 'fnv1a64_v1';

/** The predecessor's offset basis (deliberately not 14695981039346656037). */
export const FNV1A64_V1_OFFSET = 1469598103934665603n;
/** FNV-64 prime 2^40 + 0x1b3. */
export const FNV1A64_V1_PRIME = 1099511628211n;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const OFFSET_HI = Number(FNV1A64_V1_OFFSET >> 32n);
const OFFSET_LO = Number(FNV1A64_V1_OFFSET & 0xffff_ffffn);
const TWO_32 = 4_294_967_296;

/** The numeric values of one row, positionally in §2.1 order (exactly 27 entries). */
export type RowValues = Float64Array | readonly (number | null | undefined)[];
/** The numeric values of one row by column name; absent, null and non-numeric members hash as 0.0. */
export type RowRecord = Readonly<Partial<Record<TickNumericColumn, unknown>>>;

/** The float64 a cell hashes as: numbers (±Infinity and -0.0 included) as they are, anything else or NaN as 0.0. */
function cellValue(v: unknown): number {
  return typeof v === 'number' && !Number.isNaN(v) ? v : 0;
}

function datetimeWord(datetimeNs: bigint | null | undefined): bigint {
  if (datetimeNs === null || datetimeNs === undefined) return 0n;
  if (typeof datetimeNs !== 'bigint') {
    throw new RowHashInputError(`datetime_ns must be a bigint, found ${typeof datetimeNs}`);
  }
  if (datetimeNs < INT64_MIN || datetimeNs > INT64_MAX) {
    throw new RowHashInputError(`datetime_ns ${datetimeNs} is outside int64`);
  }
  return datetimeNs;
}

function checkLength(values: RowValues): void {
  if (values.length !== TICK_NUMERIC_COLUMN_COUNT) {
    throw new RowHashInputError(`expected ${TICK_NUMERIC_COLUMN_COUNT} numeric values, found ${values.length}`);
  }
}

/** 64-bit FNV state on two unsigned 32-bit limbs; one instance per call site, never shared across calls. */
class Limbs {
  hi = OFFSET_HI;
  lo = OFFSET_LO;
  private readonly view = new DataView(new ArrayBuffer(8));

  reset(): void {
    this.hi = OFFSET_HI;
    this.lo = OFFSET_LO;
  }

  /** (h XOR w) × (2^40 + 0x1b3) mod 2^64. */
  private mix(wHi: number, wLo: number): void {
    const xHi = (this.hi ^ wHi) >>> 0;
    const xLo = (this.lo ^ wLo) >>> 0;
    const pLo = xLo * 0x1b3; // < 2^41: exact in a double
    const carry = Math.floor(pLo / TWO_32);
    this.lo = pLo >>> 0;
    // High limb: xHi·0x1b3 (mod 2^32) + carry + the low limb shifted by 40 (i.e. xLo << 8 into the high limb).
    this.hi = (Math.imul(xHi, 0x1b3) + carry + (xLo << 8)) >>> 0;
  }

  mixInt64(v: bigint): void {
    this.view.setBigInt64(0, v, true);
    this.mix(this.view.getUint32(4, true), this.view.getUint32(0, true));
  }

  mixFloat64(v: number): void {
    this.view.setFloat64(0, v, true);
    this.mix(this.view.getUint32(4, true), this.view.getUint32(0, true));
  }

  signed(): bigint {
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }
}

const limbs = new Limbs();

/**
 * `fnv1a64_v1` of one row as a signed int64: `datetimeNs` (null/undefined → 0) and the 27 numeric values in §2.1
 * order. Throws `RowHashInputError` for a wrong value count or a `datetime_ns` outside int64 (the day fails; never
 * fall back to hashing less).
 */
export function rowHashFnv1a64V1(datetimeNs: bigint | null | undefined, values: RowValues): bigint {
  checkLength(values);
  const dt = datetimeWord(datetimeNs);
  limbs.reset();
  limbs.mixInt64(dt);
  for (let i = 0; i < TICK_NUMERIC_COLUMN_COUNT; i++) limbs.mixFloat64(cellValue(values[i]));
  return limbs.signed();
}

/** `fnv1a64_v1` of a row given by column name (extra members such as `symbol` or a tick id are ignored). */
export function rowHashOfRecord(datetimeNs: bigint | null | undefined, row: RowRecord): bigint {
  const dt = datetimeWord(datetimeNs);
  limbs.reset();
  limbs.mixInt64(dt);
  for (const c of TICK_NUMERIC_COLUMNS) limbs.mixFloat64(cellValue(row[c]));
  return limbs.signed();
}

/** The spec's literal BigInt algorithm; same contract as `rowHashFnv1a64V1`, kept as the oracle for the fast path. */
export function rowHashFnv1a64V1Reference(datetimeNs: bigint | null | undefined, values: RowValues): bigint {
  checkLength(values);
  const view = new DataView(new ArrayBuffer(8));
  let h = FNV1A64_V1_OFFSET;
  h = BigInt.asUintN(64, (h ^ BigInt.asUintN(64, datetimeWord(datetimeNs))) * FNV1A64_V1_PRIME);
  for (let i = 0; i < TICK_NUMERIC_COLUMN_COUNT; i++) {
    view.setFloat64(0, cellValue(values[i]), true);
    h = BigInt.asUintN(64, (h ^ view.getBigUint64(0, true)) * FNV1A64_V1_PRIME);
  }
  return BigInt.asIntN(64, h);
}

/**
 * Per-day row-hash aggregates for cross-store comparison (§2.2): min, max, wrap-around int64 sum and wrap-around
 * int64 sum of absolute values; all null (and `rows` 0) for an empty day. |−2^63| wraps to −2^63 like any int64 sum.
 */
export interface RowHashAggregates {
  rows: number;
  min: bigint | null;
  max: bigint | null;
  sum: bigint | null;
  abs_sum: bigint | null;
}

/** Incremental form of `rowHashAggregates`, for streaming a day's rows. */
export class RowHashAggregator {
  private rows = 0;
  private min = 0n;
  private max = 0n;
  private sum = 0n;
  private absSum = 0n;

  add(hash: bigint): void {
    if (typeof hash !== 'bigint' || hash < INT64_MIN || hash > INT64_MAX) {
      throw new RowHashInputError(`row_hash ${String(hash)} is not a signed int64`);
    }
    if (this.rows === 0 || hash < this.min) this.min = hash;
    if (this.rows === 0 || hash > this.max) this.max = hash;
    this.sum = BigInt.asIntN(64, this.sum + hash);
    this.absSum = BigInt.asIntN(64, this.absSum + (hash < 0n ? -hash : hash));
    this.rows++;
  }

  result(): RowHashAggregates {
    if (this.rows === 0) return { rows: 0, min: null, max: null, sum: null, abs_sum: null };
    return { rows: this.rows, min: this.min, max: this.max, sum: this.sum, abs_sum: this.absSum };
  }
}

/** Aggregates of one day's row hashes (see `RowHashAggregates`). */
export function rowHashAggregates(hashes: Iterable<bigint>): RowHashAggregates {
  const agg = new RowHashAggregator();
  for (const h of hashes) agg.add(h);
  return agg.result();
}
