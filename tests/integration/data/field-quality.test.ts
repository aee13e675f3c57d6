/**
 * `data.field_quality` (data-chain §6.4, §10.2) on the real stack: a small dataset built by `data.schedule` +
 * `data.main_l5` from the simulator into DuckDB (the build's validation gate persists field-quality and summary rows).
 * Totals are the sum of the days; every day equals the row validation persisted; nothing is written to the store;
 * `start`/`end` limit the days; critical gaps come from the validation summaries and a day without one is named; the
 * build lock refuses it; bad params are bad input; a day rewritten with NaN bid prices turns the status to error,
 * naming the rate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeOf } from '#colo/cli-support.ts';
import type { JobRecord } from '#shared/domain/control/jobs.ts';
import { TABLES, TICK_NUMERIC_COLUMNS } from '#shared/domain/data/tick-columns.ts';
import type { Row } from '#shared/domain/data/tick-store.ts';
import { INVARIANT_CHECKS, L1_NULL_COLUMNS } from '#shared/domain/data/validation/field-quality.ts';
import { ValidationFailedError } from '#shared/errors/control.ts';
import type { FieldQualityReport, fieldQualitySummary } from '#shared/services/data/field-quality.ts';
import {
  build,
  createDataTestStack,
  type DataTestStack,
  expectRefusedDuringBuild,
  rewriteStoredDay,
  runJob,
} from './support.ts';

const CU = 'KQ.m@SHFE.cu';
const T = TABLES.ticksMainL5.name;
const FQ = TABLES.fieldQuality.name;
const SUMMARY = TABLES.validateSummary.name;
const LOCK_KEY = `main_l5:symbol=${CU}`;
/** Simulator "now" is 2025-03-04 10:00 CST: 02-27, 02-28 and 03-03 are closed and get built. */
const ENV = {
  GHTRADER_L5_START_DATE: '2025-02-27',
  GHTRADER_MAIN_L5_DAYS_PER_JOB: '3',
  GHTRADER_MAIN_L5_MAX_CONCURRENCY: '2',
  GHTRADER_HEALTH_WAL_WAIT_S: '1',
  // The simulator injects provider outages on purpose (10–120 s); see main-l5-build.test.ts.
  GHTRADER_L5_VALIDATE_GAP_BLOCK_GT30: '50',
};

type Result = ReturnType<typeof fieldQualitySummary>;
/** The report as read back (JSON: the same shape, bigint-free). */
type Report = FieldQualityReport;

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe('data.field_quality on a simulator-built dataset', () => {
  let d: DataTestStack;
  let days: string[];

  const fieldQuality = async (params: Record<string, unknown> = {}): Promise<{ job: JobRecord; r: Result }> => {
    const job = await runJob(d, 'data.field_quality', { var: 'cu', ...params });
    return { job, r: job.result as Result };
  };
  const succeeded = async (params: Record<string, unknown> = {}): Promise<{ r: Result; report: Report }> => {
    const { job, r } = await fieldQuality(params);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const report = JSON.parse(await text(`reports/main_l5_field_quality/${CU}_latest.json`)) as Report;
    expect(report.job_id).toBe(job.job_id);
    return { r, report };
  };
  const text = async (key: string): Promise<string> => {
    const bytes = await d.ctx.artifacts.get(key);
    if (bytes === null) throw new Error(`no artifact ${key}`);
    return new TextDecoder().decode(bytes);
  };
  const rowsOf = async (ds: readonly string[]) => sum((await d.store.countByDay(T, CU, ds)).map((c) => c.rows));

  beforeAll(async () => {
    d = await createDataTestStack({ env: ENV });
    const sched = await runJob(d, 'data.schedule', { var: 'cu' });
    expect(sched.status, JSON.stringify(sched.error)).toBe('succeeded');
    const built = await build(d, { var: 'cu' });
    expect(built.item.status, JSON.stringify(built.item.summary)).toBe('promoted');
    days = (await d.store.countByDay(T, CU)).map((c) => c.trading_day).sort();
  }, 60_000);
  afterAll(async () => {
    await d?.close();
  });

  it('every stored day: totals sum the days, each day equals validation’s persisted row, nothing is written', async () => {
    // Prepare
    const persistedBefore = await d.store.readRows(FQ, { symbol: CU });
    const summaries = await d.store.readRows(SUMMARY, { symbol: CU });
    const lastValidation = await text(`reports/main_l5_validate/${CU}_latest.json`);

    // Act
    const { r, report } = await succeeded();

    // Assess: the range
    expect(days).toEqual(['2025-02-27', '2025-02-28', '2025-03-03']);
    expect(r).toMatchObject({ days: 3, first_day: days[0], last_day: days[2], days_without_validation: 0 });
    expect(report.per_day.map((p) => p.trading_day)).toEqual(days);
    expect(r.report_uri).toBe(report.report_uri);
    // Totals are the sums of the per-day counts; rates come from the summed counts.
    const per = report.per_day;
    const t = r.totals;
    expect(t.rows_total).toBe(await rowsOf(days));
    expect(t.rows_total).toBe(sum(per.map((p) => p.rows_total)));
    expect(t.rows_total).toBeGreaterThan(3000);
    for (const c of L1_NULL_COLUMNS) {
      expect(t.l1_nulls[c], c).toBe(sum(per.map((p) => p.l1_nulls[c])));
      expect(t[`${c}_null_rate`], c).toBe(t.l1_nulls[c] / t.rows_total);
    }
    expect(t.book_null_cells).toBe(sum(per.map((p) => p.book_null_cells)));
    expect(t.l5_fields_null_rate).toBe(t.book_null_cells / (t.rows_total * 20));
    for (const k of ['price_jump_outliers', 'volume_spike_outliers', 'spread_anomaly_outliers'] as const) {
      expect(t[k], k).toBe(sum(per.map((p) => p[k])));
    }
    for (const k of INVARIANT_CHECKS) {
      const violations = sum(per.map((p) => p.invariants[k].violations));
      const checked = sum(per.map((p) => p.invariants[k].checked));
      expect(t.invariants[k], k).toEqual({ violations, checked, rate: checked > 0 ? violations / checked : 0 });
    }
    // Each day equals the row the build's validation gate persisted (same function, same ticks).
    const persisted = new Map(persistedBefore.map((row) => [String(row.trading_day), row]));
    expect([...persisted.keys()].sort()).toEqual(days);
    for (const p of per) {
      const row = persisted.get(p.trading_day) as Row;
      expect(Number(row.rows_total), p.trading_day).toBe(p.rows_total);
      for (const c of [...L1_NULL_COLUMNS.map((l) => `${l}_null_rate` as const), 'l5_fields_null_rate'] as const) {
        expect(row[c], `${p.trading_day} ${c}`).toBe(p[c]);
      }
      for (const k of ['price_jump_outliers', 'volume_spike_outliers', 'spread_anomaly_outliers'] as const) {
        expect(Number(row[k]), `${p.trading_day} ${k}`).toBe(p[k]);
      }
      for (const k of INVARIANT_CHECKS) {
        expect(Number(row[`${k}_violations`]), `${p.trading_day} ${k}`).toBe(p.invariants[k].violations);
        expect(row[`${k}_rate`], `${p.trading_day} ${k}`).toBe(p.invariants[k].rate);
      }
    }
    // Critical gaps from the validation summaries; status and score per §6.4.
    const gaps = new Map(summaries.map((s) => [String(s.trading_day), Number(s.gap_count_gt_30)]));
    expect(per.map((p) => p.critical_gaps)).toEqual(days.map((x) => gaps.get(x)));
    expect(t.critical_gaps).toBe(sum(days.map((x) => gaps.get(x) ?? 0)));
    expect(t.bid_price1_null_rate).toBeLessThanOrEqual(0.01);
    expect(t.ask_price1_null_rate).toBeLessThanOrEqual(0.01);
    expect(r.status).toBe(t.critical_gaps > 0 || t.anomalies > 0 ? 'warning' : 'ok');
    expect(r.ok).toBe(true);
    const meanNull = sum(L1_NULL_COLUMNS.map((c) => t[`${c}_null_rate`])) / 5;
    expect(r.score).toBeCloseTo(100 * (1 - meanNull), 10);
    expect(r.worst_days).toHaveLength(3);
    // The job result stays small; the store and validation's last report are untouched; the lock is released.
    expect(JSON.stringify(r).length).toBeLessThanOrEqual(8192);
    expect(await d.store.readRows(FQ, { symbol: CU })).toEqual(persistedBefore);
    expect(await d.store.readRows(SUMMARY, { symbol: CU })).toEqual(summaries);
    expect(await text(`reports/main_l5_validate/${CU}_latest.json`)).toBe(lastValidation);
    expect(await d.stack.rt.locks.holder(LOCK_KEY)).toBeNull();
  });

  it('start/end limit the days, both ends inclusive', async () => {
    // Prepare
    const [first, middle, last] = days as [string, string, string];

    // Act
    const one = await succeeded({ start: middle, end: middle });
    const fromMiddle = await succeeded({ start: middle });
    const toFirst = await succeeded({ end: first });

    // Assess
    expect(one.report.per_day.map((p) => p.trading_day)).toEqual([middle]);
    expect(one.r).toMatchObject({ days: 1, first_day: middle, last_day: middle });
    expect(one.r.totals.rows_total).toBe(await rowsOf([middle]));
    expect(one.report.requested).toEqual({ start: middle, end: middle });
    expect(fromMiddle.report.per_day.map((p) => p.trading_day)).toEqual([middle, last]);
    expect(fromMiddle.r.totals.rows_total).toBe(await rowsOf([middle, last]));
    expect(toFirst.report.per_day.map((p) => p.trading_day)).toEqual([first]);
  });

  it('takes critical gaps from the validation summaries and names a day without one', async () => {
    // Prepare: the last day loses its summary row; the middle day's summary counts 4 gaps > 30 s
    const [, middle, last] = days as [string, string, string];
    const saved = await d.store.readRows(SUMMARY, { symbol: CU, tradingDays: [middle, last] });
    expect(saved).toHaveLength(2);
    const middleRow = saved.find((row) => row.trading_day === middle) as Row;
    await d.store.deleteRows(SUMMARY, { symbol: CU, tradingDays: [last] });
    await d.store.writeRows(SUMMARY, [{ ...middleRow, gap_count_gt_30: 4n }]);
    try {
      // Act
      const { r, report } = await succeeded();

      // Assess
      expect(r).toMatchObject({ days: 3, days_without_validation: 1, days_without_validation_sample: [last] });
      expect(r.totals).toMatchObject({ days_with_validation: 2, critical_gaps: 4 });
      expect(r.status).toBe('warning');
      expect(report.days_without_validation).toEqual([last]);
      expect(report.per_day.find((p) => p.trading_day === last)?.critical_gaps).toBeNull();
      expect(report.per_day.find((p) => p.trading_day === middle)?.critical_gaps).toBe(4);
      expect(r.reasons).toContainEqual({
        code: 'critical_gaps',
        level: 'warn',
        message: '4 critical gap(s) > 30 s in the validation summaries of these days',
      });
      expect(r.reasons).toContainEqual(
        expect.objectContaining({
          code: 'days_without_validation',
          level: 'info',
          message: expect.stringContaining(last),
        }),
      );
    } finally {
      await d.store.writeRows(SUMMARY, saved);
    }
  });

  it('refuses while a build holds main_l5:symbol=<alias>, naming the holder, and leaves the lock alone', async () => {
    // Act / Assess
    await expectRefusedDuringBuild(d, CU, () => fieldQuality(), 'build-job-7');
  });

  it('bad params are bad input (exit 2); no ticks or no day in range fail the job naming what to do', async () => {
    // Act
    const reversed = await fieldQuality({ start: '2025-03-03', end: '2025-02-27' }).catch((e: unknown) => e);
    const unknownVar = await runJob(d, 'data.field_quality', { var: 'zz' }).catch((e: unknown) => e);
    const noSuchDay = await fieldQuality({ end: '2025-02-30' }).catch((e: unknown) => e);
    const noTicks = await runJob(d, 'data.field_quality', { var: 'au' });
    const noDays = await fieldQuality({ start: '2025-03-04' });

    // Assess
    for (const err of [reversed, unknownVar, noSuchDay]) {
      expect(err).toBeInstanceOf(ValidationFailedError);
      expect(exitCodeOf(err)).toBe(2);
    }
    expect((reversed as Error).message).toBe('invalid params for data.field_quality: start must not be after end');
    expect((unknownVar as ValidationFailedError).issues[0]?.path).toEqual(['params', 'var']);
    expect((noSuchDay as ValidationFailedError).issues[0]?.path).toEqual(['params', 'end']);
    expect(noTicks.status).toBe('failed');
    expect(noTicks.error).toMatchObject({ code: 'field_quality_no_ticks' });
    expect(noTicks.error?.message).toContain('ghtrader data main-l5 --var au');
    expect(noDays.job.status).toBe('failed');
    expect(noDays.job.error).toMatchObject({ code: 'field_quality_no_days' });
    expect(noDays.job.error?.message).toContain('stored days run 2025-02-27 … 2025-03-03');
  });

  it('a day rewritten with NaN bid_price1 cells turns the status to error, naming the rate', async () => {
    // Prepare: every 5th row of the first day loses its bid_price1 (≈ 20 % of that day, > 1 % of the total)
    const day = days[0] as string;
    let blanked = 0;
    const stored = await rewriteStoredDay(d, CU, day, (values) => {
      const bid1 = values[TICK_NUMERIC_COLUMNS.indexOf('bid_price1')] as Float64Array;
      for (let i = 0; i < bid1.length; i += 5) {
        bid1[i] = Number.NaN;
        blanked++;
      }
    });
    const total = await rowsOf(days);

    // Act
    const { r, report } = await succeeded();

    // Assess
    expect(r).toMatchObject({ ok: false, status: 'error', days: 3 });
    expect(r.totals.l1_nulls.bid_price1).toBe(blanked);
    expect(r.totals.bid_price1_null_rate).toBe(blanked / total);
    expect(r.reasons[0]).toMatchObject({ code: 'bid_price1_null_rate_exceeded', level: 'error' });
    expect(r.reasons[0]?.message).toMatch(
      new RegExp(`^bid_price1_null_rate [0-9.]+% > 1% \\(${blanked} null of ${total} rows\\)$`),
    );
    expect(r.worst_days[0]).toMatchObject({ trading_day: day, status: 'error' });
    expect(r.days_by_status.error).toBe(1);
    const tampered = report.per_day.find((p) => p.trading_day === day);
    expect(tampered?.bid_price1_null_rate).toBe(blanked / stored.datetimeNs.length);
    const meanNull = sum(L1_NULL_COLUMNS.map((c) => r.totals[`${c}_null_rate`])) / 5;
    expect(r.score).toBeCloseTo(100 * (1 - meanNull), 10);
    expect(r.score).toBeLessThanOrEqual(100 * (1 - blanked / total / 5));
  });
});
