/**
 * Trim and shape one main_l5 day (data-chain §5.3–§5.4): from the provider's pages of wire rows for trading day D,
 * keep the rows that are true-L5 (`l5_levels_2_5_v2`) and lie inside D's session windows, hash them (`fnv1a64_v1`)
 * and return them columnar, ordered by `(datetime_ns, row_hash)`.
 *
 * "Inside D's windows" ⇔ `tradingDayOf(datetime_ns).trading_day == D ∧ in_session` (§3.4): every window of D lies
 * inside D's 18:00-to-18:00 span, so the test reduces to `floor(ns / 1e9) ∈ [start_s, end_s]` of one of D's windows,
 * i.e. `start_ns ≤ ns ≤ end_ns` on the windows `sessionWindows` returns. The windows are taken once per day from the
 * shared session function (never recomputed here) and checked to lie inside the span, exactly as `tradingDayOf`
 * refuses a `trading_time` that leaves it. The per-row path allocates nothing (hashes stay in uint32 limbs).
 */

import { InvalidTradingTimeError } from '../../../errors/market.ts';
import type { TradingCalendar } from '../../market/calendar/calendar.ts';
import type { TickRow } from '../../market/ports.ts';
import {
  formatCst,
  sessionWindows,
  type TradingTime,
  tradingDayEndNs,
  tradingDayStartNs,
} from '../../market/sessions.ts';
import type { Variety } from '../../market/varieties.ts';
import { TICK_NUMERIC_COLUMN_COUNT } from '../tick-columns.ts';
import { MainL5ShapeError } from './errors.ts';
import { isTrueL5Row } from './l5-rule.ts';
import { LIMB_HI, LIMB_LO, RowHasher } from './row-hasher.ts';

export interface ShapeDayContext {
  /** Trading day D (`YYYY-MM-DD`); must be a trading day of `calendar`. */
  readonly tradingDay: string;
  readonly variety: Variety;
  readonly calendar: TradingCalendar;
  /** The session version in effect on D (shipped history + versions observed from the provider); default: shipped. */
  readonly tradingTime?: TradingTime;
}

/** The kept rows of one day, columnar; every array has `datetimeNs.length` entries. */
export interface ShapedBatch {
  readonly datetimeNs: BigInt64Array;
  /** `fnv1a64_v1` of each row (§2.2). */
  readonly rowHash: BigInt64Array;
  /** The 27 numeric columns in `TICK_NUMERIC_COLUMNS` order; a missing value is NaN. */
  readonly values: Float64Array[];
}

/**
 * `rows_fetched`: every wire row of the pages; `rows_l5`: those passing the true-L5 rule; `rows_in_session`: true-L5
 * rows inside D's windows (= rows kept). They decide the empty-day reasons of §5.5 (`emptyDayReason`).
 */
export interface ShapeCounts {
  rows_fetched: number;
  rows_l5: number;
  rows_in_session: number;
}

export interface ShapedDay {
  readonly batch: ShapedBatch;
  readonly counts: ShapeCounts;
}

const N = TICK_NUMERIC_COLUMN_COUNT;

/** Signed 64-bit compare of (hi, lo) limb pairs: hi as int32, lo as uint32. */
function cmpLimbs(aHi: number, aLo: number, bHi: number, bLo: number): number {
  const ah = aHi | 0;
  const bh = bHi | 0;
  if (ah !== bh) return ah < bh ? -1 : 1;
  return aLo < bLo ? -1 : aLo > bLo ? 1 : 0;
}

/** Rows per storage chunk: kept rows fill fixed chunks, copied once into exact-length arrays at the end. */
const CHUNK_ROWS = 8192;

interface Chunk {
  readonly dt: BigInt64Array;
  readonly hash32: Uint32Array;
  readonly cols: Float64Array[];
}

function newChunk(): Chunk {
  return {
    dt: new BigInt64Array(CHUNK_ROWS),
    hash32: new Uint32Array(2 * CHUNK_ROWS),
    cols: Array.from({ length: N }, () => new Float64Array(CHUNK_ROWS)),
  };
}

/**
 * Columnar storage of the kept rows in fixed chunks (no regrowth copies). Hashes arrive as uint32 limbs and are
 * written as raw 64-bit words; nothing is read back as a BigInt on the per-row path.
 */
class Columns {
  n = 0;
  private readonly chunks: Chunk[] = [];
  private cur: Chunk | null = null;
  private at = CHUNK_ROWS;
  /** Whether rows arrived in `(datetime_ns, row_hash)` order (then no sort is needed). */
  private ordered = true;
  private lastDt = 0n;
  private lastHi = 0;
  private lastLo = 0;

  push(dt: bigint, hashHi: number, hashLo: number, values: Float64Array): void {
    if (this.at === CHUNK_ROWS) {
      this.cur = newChunk();
      this.chunks.push(this.cur);
      this.at = 0;
    }
    const chunk = this.cur as Chunk;
    const i = this.at;
    if (
      this.n > 0 &&
      this.ordered &&
      (dt < this.lastDt || (dt === this.lastDt && cmpLimbs(hashHi, hashLo, this.lastHi, this.lastLo) < 0))
    ) {
      this.ordered = false;
    }
    this.lastDt = dt;
    this.lastHi = hashHi;
    this.lastLo = hashLo;
    chunk.dt[i] = dt;
    chunk.hash32[2 * i + LIMB_HI] = hashHi;
    chunk.hash32[2 * i + LIMB_LO] = hashLo;
    const cols = chunk.cols;
    for (let c = 0; c < N; c++) (cols[c] as Float64Array)[i] = values[c] as number;
    this.at = i + 1;
    this.n++;
  }

  /** Exact-length arrays ordered by `(datetime_ns, row_hash)`. */
  finish(): ShapedBatch {
    const n = this.n;
    const dt = new BigInt64Array(n);
    const hash = new BigInt64Array(n);
    const h32 = new Uint32Array(hash.buffer);
    const cols = Array.from({ length: N }, () => new Float64Array(n));
    let off = 0;
    for (const chunk of this.chunks) {
      const len = Math.min(CHUNK_ROWS, n - off);
      dt.set(chunk.dt.subarray(0, len), off);
      h32.set(chunk.hash32.subarray(0, 2 * len), 2 * off);
      for (let c = 0; c < N; c++) (cols[c] as Float64Array).set((chunk.cols[c] as Float64Array).subarray(0, len), off);
      off += len;
    }
    this.chunks.length = 0;
    this.cur = null;
    const batch = { datetimeNs: dt, rowHash: hash, values: cols };
    return this.ordered ? batch : sortBatch(batch);
  }
}

/** The batch reordered by `(datetime_ns, row_hash)` (stable), comparing raw limbs (no BigInt per comparison). */
function sortBatch(batch: ShapedBatch): ShapedBatch {
  const n = batch.datetimeNs.length;
  const d32 = new Uint32Array(batch.datetimeNs.buffer);
  const h32 = new Uint32Array(batch.rowHash.buffer);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const key = (w: Uint32Array, i: number, j: number): number =>
    cmpLimbs(
      w[2 * i + LIMB_HI] as number,
      w[2 * i + LIMB_LO] as number,
      w[2 * j + LIMB_HI] as number,
      w[2 * j + LIMB_LO] as number,
    );
  order.sort((a, b) => key(d32, a, b) || key(h32, a, b) || a - b);
  const outDt = new BigInt64Array(n);
  const outHash = new BigInt64Array(n);
  const od32 = new Uint32Array(outDt.buffer);
  const oh32 = new Uint32Array(outHash.buffer);
  for (let i = 0; i < n; i++) {
    const j = order[i] as number;
    od32[2 * i] = d32[2 * j] as number;
    od32[2 * i + 1] = d32[2 * j + 1] as number;
    oh32[2 * i] = h32[2 * j] as number;
    oh32[2 * i + 1] = h32[2 * j + 1] as number;
  }
  const values = batch.values.map((col) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = col[order[i] as number] as number;
    return out;
  });
  return { datetimeNs: outDt, rowHash: outHash, values };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

/** The 27 wire values of a row into `out`, in `TICK_NUMERIC_COLUMNS` order; anything not a number becomes NaN. */
function fillValues(r: TickRow, out: Float64Array): void {
  out[0] = num(r.last_price);
  out[1] = num(r.average);
  out[2] = num(r.highest);
  out[3] = num(r.lowest);
  out[4] = num(r.volume);
  out[5] = num(r.amount);
  out[6] = num(r.open_interest);
  out[7] = num(r.bid_price1);
  out[8] = num(r.bid_volume1);
  out[9] = num(r.ask_price1);
  out[10] = num(r.ask_volume1);
  out[11] = num(r.bid_price2);
  out[12] = num(r.bid_volume2);
  out[13] = num(r.ask_price2);
  out[14] = num(r.ask_volume2);
  out[15] = num(r.bid_price3);
  out[16] = num(r.bid_volume3);
  out[17] = num(r.ask_price3);
  out[18] = num(r.ask_volume3);
  out[19] = num(r.bid_price4);
  out[20] = num(r.bid_volume4);
  out[21] = num(r.ask_price4);
  out[22] = num(r.ask_volume4);
  out[23] = num(r.bid_price5);
  out[24] = num(r.bid_volume5);
  out[25] = num(r.ask_price5);
  out[26] = num(r.ask_volume5);
}

/** D's windows as inclusive ns bounds, refused if any leaves D's span (as `tradingDayOf` refuses it). */
function dayWindows(ctx: ShapeDayContext): { starts: bigint[]; ends: bigint[] } {
  const spanStart = tradingDayStartNs(ctx.calendar, ctx.tradingDay); // throws NotATradingDayError
  const spanEnd = tradingDayEndNs(ctx.calendar, ctx.tradingDay);
  const windows = sessionWindows(ctx.calendar, ctx.tradingDay, ctx.variety, ctx.tradingTime);
  for (const w of windows) {
    if (w.start_ns < spanStart || w.end_ns >= spanEnd) {
      throw new InvalidTradingTimeError(
        `${ctx.variety} ${w.session} window ${formatCst(w.start_ns)}..${formatCst(w.end_ns)} of ${ctx.tradingDay} leaves its 18:00-to-18:00 span`,
      );
    }
  }
  return { starts: windows.map((w) => w.start_ns), ends: windows.map((w) => w.end_ns) };
}

/**
 * Incremental form of `shapeDay` for pages that arrive one at a time (the provider's async page stream): feed each
 * page to `addPage`, then call `finish` once. Same checks and errors as `shapeDay`.
 */
export class DayShaper {
  private readonly starts: bigint[];
  private readonly ends: bigint[];
  private readonly out = new Columns();
  private readonly scratch = new Float64Array(N);
  private readonly hasher = new RowHasher();
  private fetched = 0;
  private l5 = 0;
  private inSession = 0;
  private finished = false;

  constructor(private readonly ctx: ShapeDayContext) {
    const w = dayWindows(ctx);
    this.starts = w.starts;
    this.ends = w.ends;
  }

  addPage(page: readonly TickRow[]): void {
    if (this.finished) throw new MainL5ShapeError(this.ctx.tradingDay, 'addPage after finish');
    const { starts, ends, scratch, out, hasher } = this;
    const nw = starts.length;
    for (let i = 0; i < page.length; i++) {
      const r = page[i] as TickRow;
      this.fetched++;
      const dt = r.datetime;
      if (typeof dt !== 'bigint') {
        throw new MainL5ShapeError(this.ctx.tradingDay, `row id ${String(r.id)} has no integer datetime`);
      }
      fillValues(r, scratch);
      if (!isTrueL5Row(scratch)) continue;
      this.l5++;
      let inside = false;
      for (let w = 0; w < nw; w++) {
        if (dt >= (starts[w] as bigint) && dt <= (ends[w] as bigint)) {
          inside = true;
          break;
        }
      }
      if (!inside) continue;
      this.inSession++;
      hasher.hash(dt, scratch);
      out.push(dt, hasher.hi, hasher.lo, scratch);
    }
  }

  finish(): ShapedDay {
    if (this.finished) throw new MainL5ShapeError(this.ctx.tradingDay, 'finish called twice');
    this.finished = true;
    return {
      batch: this.out.finish(),
      counts: { rows_fetched: this.fetched, rows_l5: this.l5, rows_in_session: this.inSession },
    };
  }
}

/**
 * Keep the true-L5 rows of trading day D's session windows (§5.3–§5.4), hashed and sorted by
 * `(datetime_ns, row_hash)`. Throws `MainL5ShapeError` for a row without a bigint `datetime`, `RowHashInputError`
 * for a row that cannot be hashed (both fail the day; nothing is dropped silently), `NotATradingDayError` when D is
 * not a trading day and `InvalidTradingTimeError` for windows leaving D's span.
 */
export function shapeDay(pages: Iterable<readonly TickRow[]>, ctx: ShapeDayContext): ShapedDay {
  const shaper = new DayShaper(ctx);
  for (const page of pages) shaper.addPage(page);
  return shaper.finish();
}

/** `shapeDay` over an async page stream (`MarketDataSource.downloadTicks`); provider errors propagate unchanged. */
export async function shapeDayAsync(
  pages: AsyncIterable<readonly TickRow[]>,
  ctx: ShapeDayContext,
): Promise<ShapedDay> {
  const shaper = new DayShaper(ctx);
  for await (const page of pages) shaper.addPage(page);
  return shaper.finish();
}
