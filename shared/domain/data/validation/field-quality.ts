/**
 * Field quality of one day of ticks (data-chain §6.4): L1 null rates, the L5 null rate over the 20 book columns,
 * order-book invariants on cells that are both > 0, negative cells, and informational outliers. Column-wise over the
 * 27 numeric columns of §2.1 (NaN = null); no per-tick allocation.
 */
import { TICK_NUMERIC_COLUMNS, type TickNumericColumn } from '../tick-columns.ts';
import { median } from './select.ts';

export const INVARIANT_CHECKS = [
  'bid_ask_cross',
  'bid_order',
  'ask_order',
  'negative_volume',
  'negative_price',
] as const;
export type InvariantCheck = (typeof INVARIANT_CHECKS)[number];

export const L1_NULL_COLUMNS = ['bid_price1', 'ask_price1', 'last_price', 'volume', 'open_interest'] as const;
export type L1NullColumn = (typeof L1_NULL_COLUMNS)[number];

/** The 20 book columns of levels 1–5 (`l5_fields_null_rate` despite the name). */
export const BOOK_COLUMNS: readonly TickNumericColumn[] = TICK_NUMERIC_COLUMNS.filter((c) =>
  /^(bid|ask)_(price|volume)[1-5]$/.test(c),
);

const idx = (c: TickNumericColumn): number => TICK_NUMERIC_COLUMNS.indexOf(c);
const BID_PRICE = [1, 2, 3, 4, 5].map((i) => idx(`bid_price${i}` as TickNumericColumn));
const ASK_PRICE = [1, 2, 3, 4, 5].map((i) => idx(`ask_price${i}` as TickNumericColumn));
/** 10 book volume cells + `volume`. */
const VOLUME_CELLS = [
  ...[1, 2, 3, 4, 5].flatMap((i) => [
    idx(`bid_volume${i}` as TickNumericColumn),
    idx(`ask_volume${i}` as TickNumericColumn),
  ]),
  idx('volume'),
];
/** 10 book price cells + `last_price`. */
const PRICE_CELLS = [...BID_PRICE, ...ASK_PRICE, idx('last_price')];
const BOOK_IDX = BOOK_COLUMNS.map(idx);
/** Columns whose null or negative cells are counted. */
const SCANNED = [...new Set([...L1_NULL_COLUMNS.map(idx), ...BOOK_IDX, ...VOLUME_CELLS, ...PRICE_CELLS])].sort(
  (a, b) => a - b,
);

export interface InvariantCounts {
  violations: number;
  /** Rows (order checks) or cells (negative checks) the check applied to. */
  checked: number;
  rate: number;
}

export interface FieldQuality {
  rows_total: number;
  /** Null counts of the five L1 columns (for totals across days). */
  l1_nulls: Record<L1NullColumn, number>;
  bid_price1_null_rate: number;
  ask_price1_null_rate: number;
  last_price_null_rate: number;
  volume_null_rate: number;
  open_interest_null_rate: number;
  book_null_cells: number;
  l5_fields_null_rate: number;
  price_jump_outliers: number;
  volume_spike_outliers: number;
  spread_anomaly_outliers: number;
  invariants: Record<InvariantCheck, InvariantCounts>;
}

const rate = (num: number, den: number): number => (den > 0 ? num / den : 0);

/** §6.4 for one day of ticks. `values` are the 27 numeric columns in §2.1 order, each with `rows` entries. */
export function computeFieldQuality(values: readonly Float64Array[], rows: number): FieldQuality {
  const v = (i: number): Float64Array => values[i] as Float64Array;
  // One pass per column for its null and negative cells.
  const nulls = new Float64Array(TICK_NUMERIC_COLUMNS.length);
  const negatives = new Float64Array(TICK_NUMERIC_COLUMNS.length);
  for (const i of SCANNED) {
    const c = values[i];
    if (c === undefined) {
      nulls[i] = rows;
      continue;
    }
    let nan = 0;
    let neg = 0;
    for (let r = 0; r < rows; r++) {
      const x = c[r] as number;
      if (x < 0) neg++;
      else if (Number.isNaN(x)) nan++;
    }
    nulls[i] = nan;
    negatives[i] = neg;
  }
  const l1 = {} as Record<L1NullColumn, number>;
  for (const c of L1_NULL_COLUMNS) l1[c] = nulls[idx(c)] as number;
  let bookNulls = 0;
  for (const i of BOOK_IDX) bookNulls += nulls[i] as number;

  const bid = BID_PRICE.map(v);
  const ask = ASK_PRICE.map(v);
  const bid1 = bid[0] as Float64Array;
  const ask1 = ask[0] as Float64Array;
  let cross = 0;
  let crossChecked = 0;
  for (let r = 0; r < rows; r++) {
    const b1 = bid1[r] as number;
    const a1 = ask1[r] as number;
    if (b1 > 0 && a1 > 0) {
      crossChecked++;
      if (b1 >= a1) cross++;
    }
  }
  // Per row: bit 1 = some adjacent pair was comparable, bit 2 = some comparable pair was out of order.
  const bidFlags = new Uint8Array(rows);
  const askFlags = new Uint8Array(rows);
  for (let l = 0; l < 4; l++) {
    const x = bid[l] as Float64Array;
    const y = bid[l + 1] as Float64Array;
    const p = ask[l] as Float64Array;
    const q = ask[l + 1] as Float64Array;
    for (let r = 0; r < rows; r++) {
      const xr = x[r] as number;
      const yr = y[r] as number;
      if (xr > 0 && yr > 0) bidFlags[r] = (bidFlags[r] as number) | (xr <= yr ? 3 : 1);
      const pr = p[r] as number;
      const qr = q[r] as number;
      if (pr > 0 && qr > 0) askFlags[r] = (askFlags[r] as number) | (pr >= qr ? 3 : 1);
    }
  }
  let bidOrder = 0;
  let bidChecked = 0;
  let askOrder = 0;
  let askChecked = 0;
  for (let r = 0; r < rows; r++) {
    const bf = bidFlags[r] as number;
    const af = askFlags[r] as number;
    if (bf & 1) bidChecked++;
    if (bf & 2) bidOrder++;
    if (af & 1) askChecked++;
    if (af & 2) askOrder++;
  }

  let negVol = 0;
  for (const i of VOLUME_CELLS) negVol += negatives[i] as number;
  let negPrice = 0;
  for (const i of PRICE_CELLS) negPrice += negatives[i] as number;

  const outliers = outlierCounts(v(idx('last_price')), v(idx('volume')), bid1, ask1, rows);
  const inv = (violations: number, checked: number): InvariantCounts => ({
    violations,
    checked,
    rate: rate(violations, checked),
  });
  return {
    rows_total: rows,
    l1_nulls: l1,
    bid_price1_null_rate: rate(l1.bid_price1, rows),
    ask_price1_null_rate: rate(l1.ask_price1, rows),
    last_price_null_rate: rate(l1.last_price, rows),
    volume_null_rate: rate(l1.volume, rows),
    open_interest_null_rate: rate(l1.open_interest, rows),
    book_null_cells: bookNulls,
    l5_fields_null_rate: rate(bookNulls, rows * BOOK_IDX.length),
    ...outliers,
    invariants: {
      bid_ask_cross: inv(cross, crossChecked),
      bid_order: inv(bidOrder, bidChecked),
      ask_order: inv(askOrder, askChecked),
      negative_volume: inv(negVol, rows * VOLUME_CELLS.length),
      negative_price: inv(negPrice, rows * PRICE_CELLS.length),
    },
  };
}

/**
 * Informational outliers (§6.4): price jump |Δlast_price − mean Δ| > 5·σ(Δlast_price) (population σ over
 * consecutive non-null pairs); volume spike = per-tick increment of the day-cumulative `volume` > 10 × the day's mean increment;
 * spread anomaly = ask1 − bid1 (both > 0) > 3 × the day's median spread.
 */
function outlierCounts(
  last: Float64Array,
  volume: Float64Array,
  bid1: Float64Array,
  ask1: Float64Array,
  rows: number,
): Pick<FieldQuality, 'price_jump_outliers' | 'volume_spike_outliers' | 'spread_anomaly_outliers'> {
  // Price jumps: two passes over consecutive non-null pairs.
  let nD = 0;
  let sum = 0;
  let sumSq = 0;
  for (let r = 1; r < rows; r++) {
    const d = (last[r] as number) - (last[r - 1] as number);
    if (Number.isNaN(d)) continue;
    nD++;
    sum += d;
    sumSq += d * d;
  }
  let priceJumps = 0;
  if (nD > 1) {
    const mean = sum / nD;
    const sigma = Math.sqrt(Math.max(0, sumSq / nD - mean * mean));
    // Deviation from the mean step (≈ |Δ| on real data, where the mean step is ~0); a σ of float noise (a constant
    // step such as the synthetic fixture's +0.1) flags nothing.
    if (sigma > 1e-9) {
      for (let r = 1; r < rows; r++) {
        const d = (last[r] as number) - (last[r - 1] as number);
        if (Math.abs(d - mean) > 5 * sigma) priceJumps++;
      }
    }
  }

  let nV = 0;
  let sumV = 0;
  for (let r = 1; r < rows; r++) {
    const d = (volume[r] as number) - (volume[r - 1] as number);
    if (Number.isNaN(d)) continue;
    nV++;
    sumV += d;
  }
  let spikes = 0;
  const meanInc = nV > 0 ? sumV / nV : 0;
  if (meanInc > 0) {
    for (let r = 1; r < rows; r++) if ((volume[r] as number) - (volume[r - 1] as number) > 10 * meanInc) spikes++;
  }

  const spreads = new Float64Array(rows);
  let nS = 0;
  for (let r = 0; r < rows; r++) {
    const b = bid1[r] as number;
    const a = ask1[r] as number;
    if (b > 0 && a > 0) spreads[nS++] = a - b;
  }
  const med = median(spreads.subarray(0, nS));
  let spreadAnomalies = 0;
  if (med > 0) for (let i = 0; i < nS; i++) if ((spreads[i] as number) > 3 * med) spreadAnomalies++;

  return { price_jump_outliers: priceJumps, volume_spike_outliers: spikes, spread_anomaly_outliers: spreadAnomalies };
}

/** Sum of the order and negative-cell violations (the §6.5 invariant numerator). */
export function invariantViolations(fq: Pick<FieldQuality, 'invariants'>): number {
  let k = 0;
  for (const c of INVARIANT_CHECKS) k += fq.invariants[c].violations;
  return k;
}

/** Field-quality totals over days, with the console status and score of §6.4. */
export interface FieldQualityTotals {
  days: number;
  rows_total: number;
  bid_price1_null_rate: number;
  ask_price1_null_rate: number;
  last_price_null_rate: number;
  volume_null_rate: number;
  open_interest_null_rate: number;
  l5_fields_null_rate: number;
  price_jump_outliers: number;
  volume_spike_outliers: number;
  spread_anomaly_outliers: number;
  invariants: Record<InvariantCheck, InvariantCounts>;
  invariant_violations: number;
  /** Σ invariant violations / Σ rows (§6.5). */
  invariant_rate: number;
  critical_gaps: number;
  /** `error` if bid1 or ask1 null rate > 1 %; `warning` if critical gaps or any anomaly; else `ok`. */
  status: 'ok' | 'warning' | 'error';
  /** 100·(1 − mean of the five L1 null rates). */
  score: number;
}

/** Totals of per-day field quality; `criticalGaps` = Σ gt_30 gaps of the same days (§6.4 console status). */
export function fieldQualityTotals(days: readonly FieldQuality[], criticalGaps = 0): FieldQualityTotals {
  let rows = 0;
  let book = 0;
  let pj = 0;
  let vs = 0;
  let sa = 0;
  const l1 = { bid_price1: 0, ask_price1: 0, last_price: 0, volume: 0, open_interest: 0 };
  const inv = {} as Record<InvariantCheck, InvariantCounts>;
  for (const c of INVARIANT_CHECKS) inv[c] = { violations: 0, checked: 0, rate: 0 };
  for (const d of days) {
    rows += d.rows_total;
    book += d.book_null_cells;
    pj += d.price_jump_outliers;
    vs += d.volume_spike_outliers;
    sa += d.spread_anomaly_outliers;
    for (const c of L1_NULL_COLUMNS) l1[c] += d.l1_nulls[c];
    for (const c of INVARIANT_CHECKS) {
      inv[c].violations += d.invariants[c].violations;
      inv[c].checked += d.invariants[c].checked;
    }
  }
  for (const c of INVARIANT_CHECKS) inv[c].rate = rate(inv[c].violations, inv[c].checked);
  const nulls = {
    bid_price1_null_rate: rate(l1.bid_price1, rows),
    ask_price1_null_rate: rate(l1.ask_price1, rows),
    last_price_null_rate: rate(l1.last_price, rows),
    volume_null_rate: rate(l1.volume, rows),
    open_interest_null_rate: rate(l1.open_interest, rows),
  };
  const violations = INVARIANT_CHECKS.reduce((k, c) => k + inv[c].violations, 0);
  const anomalies = pj + vs + sa + violations;
  const status: FieldQualityTotals['status'] =
    nulls.bid_price1_null_rate > 0.01 || nulls.ask_price1_null_rate > 0.01
      ? 'error'
      : criticalGaps > 0 || anomalies > 0
        ? 'warning'
        : 'ok';
  const meanNull =
    (nulls.bid_price1_null_rate +
      nulls.ask_price1_null_rate +
      nulls.last_price_null_rate +
      nulls.volume_null_rate +
      nulls.open_interest_null_rate) /
    5;
  return {
    days: days.length,
    rows_total: rows,
    ...nulls,
    l5_fields_null_rate: rate(book, rows * BOOK_IDX.length),
    price_jump_outliers: pj,
    volume_spike_outliers: vs,
    spread_anomaly_outliers: sa,
    invariants: inv,
    invariant_violations: violations,
    invariant_rate: rate(violations, rows),
    critical_gaps: criticalGaps,
    status,
    score: 100 * (1 - meanNull),
  };
}
