/**
 * Allocation-free `fnv1a64_v1` (data-chain §2.2) for the main_l5 shaping hot path. It is the 32-bit-limb algorithm
 * of `row-hash.ts` (same offset basis and prime, imported from there) with one difference: the result stays in two
 * uint32 limbs and is written straight into a `BigInt64Array`'s memory, so no BigInt is created per row (the
 * `rowHashFnv1a64V1` return value costs several). §2.2 allows a limb variant only if it passes both spec vectors;
 * the unit tests hold this one to those vectors and to `rowHashFnv1a64V1Reference` on random and special rows.
 */
import { DataIntegrityError, RowHashInputError } from '../../../errors/data.ts';
import { FNV1A64_V1_OFFSET, FNV1A64_V1_PRIME } from '../row-hash.ts';
import { TICK_NUMERIC_COLUMN_COUNT } from '../tick-columns.ts';

// The mix below multiplies by 2^40 + 0x1b3 on limbs; it is only valid for that prime.
if (FNV1A64_V1_PRIME !== (1n << 40n) + 0x1b3n) {
  throw new DataIntegrityError('row_hash_prime', 'fnv1a64_v1 prime is not 2^40 + 0x1b3; RowHasher cannot be used');
}

const OFFSET_HI = Number(FNV1A64_V1_OFFSET >> 32n);
const OFFSET_LO = Number(FNV1A64_V1_OFFSET & 0xffff_ffffn);
const TWO_32 = 4_294_967_296;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Index of the low / high uint32 limb of a 64-bit element in a `Uint32Array` view (platform endianness). */
export const LIMB_LO = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
export const LIMB_HI = 1 - LIMB_LO;

/** Hashes one row into `hi` / `lo` (uint32 limbs of the uint64 state); one instance per shaping run. */
export class RowHasher {
  /** High uint32 limb of the last hash. */
  hi = 0;
  /** Low uint32 limb of the last hash. */
  lo = 0;
  private readonly f64 = new Float64Array(1);
  private readonly f64Limbs = new Uint32Array(this.f64.buffer);
  private readonly i64 = new BigInt64Array(1);
  private readonly i64Limbs = new Uint32Array(this.i64.buffer);

  /**
   * `fnv1a64_v1` of `datetimeNs` and the 27 values (§2.1 order; NaN hashes as 0.0, ±Infinity and -0.0 keep their
   * bits). Throws `RowHashInputError` for a `datetime_ns` outside int64 (the day fails).
   */
  hash(datetimeNs: bigint, values: Float64Array): void {
    if (datetimeNs < INT64_MIN || datetimeNs > INT64_MAX) {
      throw new RowHashInputError(`datetime_ns ${datetimeNs} is outside int64`);
    }
    const f64 = this.f64;
    const fl = this.f64Limbs;
    this.i64[0] = datetimeNs;
    let xHi = (OFFSET_HI ^ (this.i64Limbs[LIMB_HI] as number)) >>> 0;
    let xLo = (OFFSET_LO ^ (this.i64Limbs[LIMB_LO] as number)) >>> 0;
    let pLo = xLo * 0x1b3; // < 2^41: exact in a double
    let lo = pLo >>> 0;
    let hi = (Math.imul(xHi, 0x1b3) + Math.floor(pLo / TWO_32) + (xLo << 8)) >>> 0;
    for (let c = 0; c < TICK_NUMERIC_COLUMN_COUNT; c++) {
      const v = values[c] as number;
      f64[0] = Number.isNaN(v) ? 0 : v;
      xHi = (hi ^ (fl[LIMB_HI] as number)) >>> 0;
      xLo = (lo ^ (fl[LIMB_LO] as number)) >>> 0;
      pLo = xLo * 0x1b3;
      lo = pLo >>> 0;
      hi = (Math.imul(xHi, 0x1b3) + Math.floor(pLo / TWO_32) + (xLo << 8)) >>> 0;
    }
    this.hi = hi;
    this.lo = lo;
  }

  /** The last hash as a signed int64 (allocates; for tests and cold paths). */
  value(): bigint {
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }
}
