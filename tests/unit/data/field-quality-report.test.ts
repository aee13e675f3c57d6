import { describe, expect, it } from 'vitest';
import { dataFieldQuality } from '#shared/domain/control/job-kinds/data.ts';
import { TICK_NUMERIC_COLUMNS, type TickNumericColumn } from '#shared/domain/data/tick-columns.ts';
import { computeFieldQuality, type FieldQuality } from '#shared/domain/data/validation/field-quality.ts';
import {
  FieldQualityRequestSchema,
  fieldQualityDay,
  foldFieldQuality,
  selectFieldQualityDays,
  worstDays,
} from '#shared/domain/data/validation/field-quality-report.ts';
import { syntheticContractFrame } from '#shared/domain/data/validation/index.ts';

/** The synthetic fixture's numeric columns (clean: no nulls, no outliers, no violations), copied so cells can change. */
function columns(rows: number): Float64Array[] {
  const f = syntheticContractFrame(rows);
  return TICK_NUMERIC_COLUMNS.map((c) => Float64Array.from(f.columns[c] as Float64Array));
}
const at = (cols: Float64Array[], c: TickNumericColumn): Float64Array =>
  cols[TICK_NUMERIC_COLUMNS.indexOf(c)] as Float64Array;

/** A day of `rows` clean ticks with `nulls[c]` leading cells of column c set to NaN. */
function day(rows: number, nulls: Partial<Record<TickNumericColumn, number>> = {}): FieldQuality {
  const cols = columns(rows);
  for (const [c, n] of Object.entries(nulls) as [TickNumericColumn, number][]) {
    for (let i = 0; i < n; i++) at(cols, c)[i] = Number.NaN;
  }
  return computeFieldQuality(cols, rows);
}

describe('field-quality status and score (§6.4)', () => {
  it('a clean day with a validation summary and no gaps is ok, score 100', () => {
    // Act
    const d = fieldQualityDay('2025-01-02', day(200), 0);
    const f = foldFieldQuality([d]);

    // Assess
    expect(d).toMatchObject({ status: 'ok', score: 100, anomalies: 0, critical_gaps: 0 });
    expect(f).toMatchObject({ ok: true, status: 'ok', score: 100, days: 1, reasons: [] });
  });

  it('bid_price1 null rate exactly 1 % passes; just above is an error naming the rate', () => {
    // Prepare: 1 of 100 rows = 1 %; 2 of 199 rows ≈ 1.005 %
    const exact = fieldQualityDay('2025-01-02', day(100, { bid_price1: 1 }), 0);
    const above = fieldQualityDay('2025-01-03', day(199, { bid_price1: 2 }), 0);

    // Act
    const fExact = foldFieldQuality([exact]);
    const fAbove = foldFieldQuality([above]);

    // Assess
    expect(fExact.status).toBe('ok');
    expect(fAbove).toMatchObject({ ok: false, status: 'error' });
    expect(fAbove.reasons).toEqual([
      {
        code: 'bid_price1_null_rate_exceeded',
        level: 'error',
        message: 'bid_price1_null_rate 1.005% > 1% (2 null of 199 rows)',
      },
    ]);
  });

  it('ask_price1 above 1 % is an error too; last_price, volume, open_interest nulls only lower the score', () => {
    // Prepare
    const ask = fieldQualityDay('2025-01-02', day(50, { ask_price1: 1 }), 0);
    const others = fieldQualityDay('2025-01-02', day(10, { last_price: 5, volume: 5, open_interest: 5 }), 0);

    // Act
    const fAsk = foldFieldQuality([ask]);
    const fOthers = foldFieldQuality([others]);

    // Assess
    expect(fAsk.status).toBe('error');
    expect(fAsk.reasons.map((r) => r.code)).toEqual(['ask_price1_null_rate_exceeded']);
    // Three rates of 0.5 among five: score = 100·(1 − 1.5/5) = 70; nulls in last_price/volume are not anomalies.
    expect(fOthers.status).toBe('ok');
    expect(fOthers.score).toBeCloseTo(70, 10);
  });

  it('critical gaps from the validation summary make it a warning', () => {
    // Act
    const f = foldFieldQuality([fieldQualityDay('2025-01-02', day(100), 3)]);

    // Assess
    expect(f).toMatchObject({ ok: true, status: 'warning', score: 100 });
    expect(f.totals.critical_gaps).toBe(3);
    expect(f.reasons.map((r) => [r.code, r.level])).toEqual([['critical_gaps', 'warn']]);
  });

  it('any outlier or invariant violation makes it warn, the reason naming the check', () => {
    // Prepare: one crossed book (bid1 ≥ ask1) and, on another day, one spread 10× the median (the ask side lifted
    // as a whole, so its levels stay in order)
    const crossed = columns(100);
    at(crossed, 'bid_price1')[7] = (at(crossed, 'ask_price1')[7] as number) + 1;
    const wide = columns(100);
    for (let level = 1; level <= 5; level++) {
      const ask = at(wide, `ask_price${level}` as TickNumericColumn);
      ask[9] = (ask[9] as number) + 18;
    }

    // Act
    const fCross = foldFieldQuality([fieldQualityDay('2025-01-02', computeFieldQuality(crossed, 100), 0)]);
    const fWide = foldFieldQuality([fieldQualityDay('2025-01-02', computeFieldQuality(wide, 100), 0)]);

    // Assess
    expect(fCross.status).toBe('warning');
    expect(fCross.totals.invariants.bid_ask_cross.violations).toBe(1);
    expect(fCross.reasons.map((r) => r.message)).toContain('1 order-book invariant violation(s) (bid_ask_cross 1)');
    expect(fWide.status).toBe('warning');
    expect(fWide.totals.spread_anomaly_outliers).toBe(1);
    expect(fWide.reasons.map((r) => r.code)).toEqual(['spread_anomaly_outliers']);
  });

  it('a day without a validation summary has unknown critical gaps: counted as 0, listed, an info reason', () => {
    // Act
    const f = foldFieldQuality([
      fieldQualityDay('2025-01-02', day(100), null),
      fieldQualityDay('2025-01-03', day(100), 0),
    ]);

    // Assess
    expect(f).toMatchObject({ status: 'ok', days_without_validation: ['2025-01-02'] });
    expect(f.totals).toMatchObject({ critical_gaps: 0, days_with_validation: 1 });
    expect(f.reasons).toEqual([expect.objectContaining({ code: 'days_without_validation', level: 'info' })]);
    expect(f.reasons[0]?.message).toContain('2025-01-02');
  });
});

describe('folding days into totals', () => {
  it('sums the counts and recomputes every rate from the sums, never averaging the days’ rates', () => {
    // Prepare: 2 of 100 null (2 %) and 0 of 300 null: the total rate is 2/400 = 0.5 %, not the mean 1 %
    const a = fieldQualityDay('2025-01-02', day(100, { bid_price1: 2, bid_volume3: 4 }), 1);
    const b = fieldQualityDay('2025-01-03', day(300, { ask_volume5: 6 }), 2);

    // Act
    const f = foldFieldQuality([a, b]);

    // Assess
    expect(a.status).toBe('error');
    expect(f.status).toBe('warning'); // judged on the totals: 0.5 % ≤ 1 %, but 3 critical gaps
    expect(f.totals).toMatchObject({
      days: 2,
      rows_total: 400,
      bid_price1_null_rate: 2 / 400,
      l1_nulls: { bid_price1: 2, ask_price1: 0, last_price: 0, volume: 0, open_interest: 0 },
      book_null_cells: 12,
      l5_fields_null_rate: 12 / (400 * 20),
      critical_gaps: 3,
      days_with_validation: 2,
    });
    expect(f.score).toBeCloseTo(100 * (1 - 2 / 400 / 5), 12);
    expect(f.days_by_status).toEqual({ ok: 0, warning: 1, error: 1 });
    expect(f).toMatchObject({ first_day: '2025-01-02', last_day: '2025-01-03' });
  });

  it('invariant checks sum violations and checked rows/cells; the rate is recomputed', () => {
    // Prepare: day A has 1 bid_order violation of 10 rows, day B 2 of 30
    const ca = columns(10);
    at(ca, 'bid_price3')[0] = at(ca, 'bid_price2')[0] as number;
    const cb = columns(30);
    at(cb, 'bid_price3')[1] = at(cb, 'bid_price2')[1] as number;
    at(cb, 'bid_price5')[2] = at(cb, 'bid_price4')[2] as number;

    // Act
    const f = foldFieldQuality([
      fieldQualityDay('2025-01-02', computeFieldQuality(ca, 10), 0),
      fieldQualityDay('2025-01-03', computeFieldQuality(cb, 30), 0),
    ]);

    // Assess
    expect(f.totals.invariants.bid_order).toEqual({ violations: 3, checked: 40, rate: 3 / 40 });
    expect(f.totals.invariant_violations).toBe(3);
    expect(f.totals.anomalies).toBe(3);
  });

  it('worst days: error first, then lower score, more critical gaps, more anomalies, earlier day', () => {
    // Prepare
    const days = [
      fieldQualityDay('2025-01-02', day(100), 0),
      fieldQualityDay('2025-01-03', day(100, { last_price: 10 }), 0),
      fieldQualityDay('2025-01-06', day(100), 5),
      fieldQualityDay('2025-01-07', day(100, { ask_price1: 2 }), 0),
      fieldQualityDay('2025-01-08', day(100), 0),
    ];

    // Act
    const worst = worstDays(days, 4);
    const fold = foldFieldQuality(days, 2);

    // Assess
    expect(worst.map((d) => [d.trading_day, d.status])).toEqual([
      ['2025-01-07', 'error'],
      ['2025-01-06', 'warning'],
      ['2025-01-03', 'ok'],
      ['2025-01-02', 'ok'],
    ]);
    expect(fold.worst_days.map((d) => d.trading_day)).toEqual(['2025-01-07', '2025-01-06']);
    expect(Object.keys(worst[0] ?? {})).not.toContain('invariants');
  });
});

describe('day selection and request checks', () => {
  const stored = [
    { trading_day: '2025-01-06', rows: 10 },
    { trading_day: '2025-01-02', rows: 5 },
    { trading_day: '2025-01-03', rows: 0 },
    { trading_day: '2025-01-07', rows: 3 },
  ];

  it('keeps stored days with rows in [start, end], both ends inclusive, ascending', () => {
    // Act / Assess
    expect(selectFieldQualityDays(stored)).toEqual(['2025-01-02', '2025-01-06', '2025-01-07']);
    expect(selectFieldQualityDays(stored, '2025-01-03')).toEqual(['2025-01-06', '2025-01-07']);
    expect(selectFieldQualityDays(stored, undefined, '2025-01-06')).toEqual(['2025-01-02', '2025-01-06']);
    expect(selectFieldQualityDays(stored, '2025-01-06', '2025-01-06')).toEqual(['2025-01-06']);
    expect(selectFieldQualityDays(stored, '2025-01-08')).toEqual([]);
  });

  it('accepts only real calendar days', () => {
    // Act
    const parse = (d: string) => FieldQualityRequestSchema.safeParse({ variety: 'cu', jobId: 'j', start: d }).success;

    // Assess
    expect(['2025-01-31', '2024-02-29'].map(parse)).toEqual([true, true]);
    expect(['2025-02-29', '2025-13-01', '2025-1-02', '20250102', ''].map(parse)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it.each([
    ['start after end', { var: 'cu', start: '2025-01-07', end: '2025-01-06' }, ['start']],
    ['an unknown variety', { var: 'zn' }, ['var']],
    ['a day that does not exist', { var: 'cu', end: '2025-02-30' }, ['end']],
    ['a day that is not YYYY-MM-DD', { var: 'cu', start: '2025-1-02' }, ['start']],
    ['a day that is not a date at all', { var: 'cu', end: 'yesterday' }, ['end']],
    ['an unknown field', { var: 'cu', days: 3 }, []],
  ])('the job params and the service request reject %s', (_what, params, path) => {
    // Prepare
    const { var: variety, ...rest } = params as Record<string, unknown>;

    // Act
    const job = dataFieldQuality.params.safeParse(params);
    const service = FieldQualityRequestSchema.safeParse({ variety, jobId: 'j1', ...rest });

    // Assess
    expect(job.success).toBe(false);
    expect(job.error?.issues.map((i) => i.path)).toEqual([path]);
    expect(service.success).toBe(false);
  });

  it('job params accept a single-day range and no range', () => {
    // Act / Assess
    expect(dataFieldQuality.params.parse({ var: 'au', start: '2025-01-06', end: '2025-01-06' })).toEqual({
      var: 'au',
      start: '2025-01-06',
      end: '2025-01-06',
    });
    expect(dataFieldQuality.params.parse({ var: 'cu' })).toEqual({ var: 'cu' });
    expect(dataFieldQuality.locks(dataFieldQuality.params.parse({ var: 'cu' }))).toEqual([]);
  });
});
