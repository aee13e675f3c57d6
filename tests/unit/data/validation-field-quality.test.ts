import { describe, expect, it } from 'vitest';
import { TICK_NUMERIC_COLUMNS, type TickNumericColumn } from '#shared/domain/data/tick-columns.ts';
import {
  computeFieldQuality,
  fieldQualityTotals,
  l5RowMask,
  syntheticContractFrame,
} from '#shared/domain/data/validation/index.ts';

/** The synthetic fixture's numeric columns, copied so a test can edit cells. */
function columns(rows: number): Float64Array[] {
  const f = syntheticContractFrame(rows);
  return TICK_NUMERIC_COLUMNS.map((c) => Float64Array.from(f.columns[c] as Float64Array));
}
const at = (cols: Float64Array[], c: TickNumericColumn): Float64Array =>
  cols[TICK_NUMERIC_COLUMNS.indexOf(c)] as Float64Array;

describe('computeFieldQuality (§6.4)', () => {
  it('computes L1 and L5 null rates (20 book columns)', () => {
    // Prepare
    const cols = columns(10);
    at(cols, 'bid_price1')[0] = Number.NaN;
    at(cols, 'ask_volume5')[1] = Number.NaN;
    at(cols, 'volume')[2] = Number.NaN;

    // Act
    const fq = computeFieldQuality(cols, 10);

    // Assess
    expect(fq.bid_price1_null_rate).toBe(0.1);
    expect(fq.volume_null_rate).toBe(0.1);
    expect(fq.last_price_null_rate).toBe(0);
    expect(fq.l5_fields_null_rate).toBe(2 / 200);
  });

  it('compares only cells that are both > 0: an empty ask side is no cross, equal bids break the order', () => {
    // Prepare
    const cols = columns(4);
    at(cols, 'ask_price1')[0] = Number.NaN; // limit-up: no ask → not checked
    at(cols, 'bid_price4')[1] = 0; // level 4 absent: 3 vs 5 is not compared
    at(cols, 'bid_price3')[2] = at(cols, 'bid_price2')[2] as number; // bid2 ≤ bid3

    // Act
    const fq = computeFieldQuality(cols, 4);

    // Assess
    expect(fq.invariants.bid_ask_cross).toEqual({ violations: 0, checked: 3, rate: 0 });
    expect(fq.invariants.bid_order.violations).toBe(1);
    expect(fq.invariants.bid_order.checked).toBe(4);
  });

  it('flags a price jump, a volume spike and a spread anomaly', () => {
    // Prepare: 200 calm ticks, then one of each anomaly.
    const cols = columns(200);
    at(cols, 'last_price')[100] = 80_000;
    at(cols, 'volume')[150] = (at(cols, 'volume')[149] as number) + 500;
    for (let i = 151; i < 200; i++) at(cols, 'volume')[i] = (at(cols, 'volume')[i] as number) + 499;
    at(cols, 'ask_price1')[50] = (at(cols, 'bid_price1')[50] as number) + 20;

    // Act
    const fq = computeFieldQuality(cols, 200);

    // Assess
    expect(fq.price_jump_outliers).toBe(2);
    expect(fq.volume_spike_outliers).toBe(1);
    expect(fq.spread_anomaly_outliers).toBe(1);
  });

  it('totals: status error when bid1 nulls exceed 1 %, warning on critical gaps, score from L1 null rates', () => {
    // Prepare
    const clean = computeFieldQuality(columns(100), 100);
    const cols = columns(100);
    at(cols, 'bid_price1')[0] = Number.NaN;
    at(cols, 'bid_price1')[1] = Number.NaN;
    const dirty = computeFieldQuality(cols, 100);

    // Act
    const ok = fieldQualityTotals([clean]);
    const warning = fieldQualityTotals([clean], 1);
    const error = fieldQualityTotals([clean, dirty]);

    // Assess
    expect(ok).toMatchObject({ status: 'ok', score: 100, rows_total: 100, days: 1 });
    expect(warning.status).toBe('warning');
    expect(error.bid_price1_null_rate).toBe(0.01);
    expect(error.status).toBe('ok');
    expect(fieldQualityTotals([dirty]).status).toBe('error');
    expect(fieldQualityTotals([dirty]).score).toBeCloseTo(100 * (1 - 0.02 / 5), 10);
  });
});

describe('l5RowMask', () => {
  it('strict rule needs one complete side at every level 2..5; the legacy rule any cell (item 13)', () => {
    // Prepare: rows: all zero but bid_price2 = [0, 1, 0]; a full book; a limit-up row with no ask side.
    const rows = 5;
    const cols = TICK_NUMERIC_COLUMNS.map(() => new Float64Array(rows));
    at(cols, 'bid_price2')[1] = 1;
    for (const c of TICK_NUMERIC_COLUMNS) if (/^(bid|ask)_/.test(c)) at(cols, c)[3] = 1;
    for (const c of TICK_NUMERIC_COLUMNS) if (/^bid_/.test(c)) at(cols, c)[4] = 1;

    // Act
    const strict = l5RowMask(cols, rows, 'l5_levels_2_5_v2');
    const legacy = l5RowMask(cols, rows, 'l5_any_depth_v1');

    // Assess
    expect([...strict]).toEqual([0, 0, 0, 1, 1]);
    expect([...legacy]).toEqual([0, 1, 0, 1, 1]);
  });
});
