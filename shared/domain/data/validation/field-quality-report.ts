/**
 * Field quality over a range of stored days (data-chain §6.4; `ghtrader data field-quality`, job `data.field_quality`):
 * the pure parts. The service (`shared/services/data/field-quality.ts`) reads one day at a time, runs
 * `computeFieldQuality` on it and hands the results here.
 *
 * Decisions where the spec is silent:
 * - Days: the stored tick days of the variety's continuous alias (main_l5, rows > 0) in `[start, end]` (inclusive, ISO
 *   strings compared as strings; either bound optional; default every stored day). `start > end` and dates that are
 *   not real calendar days are bad input. No stored day at all, or none in the range, is an error (a score of 100 over
 *   nothing would read as a clean dataset).
 * - Totals: `fieldQualityTotals` (the helper validation's report uses) folds the days — counts summed, every rate
 *   recomputed from the summed counts, never averaged — plus the summed L1 null and book null-cell counts.
 * - Status: judged on the totals, exactly as `fieldQualityTotals` judges them (the same function gives validation's
 *   report its `field_quality.status`), worded as §6.4 and that report word it, `ok | warning | error`: `error` when
 *   the bid_price1 or ask_price1 null rate of the totals is > 1 % (1 % exactly passes); else `warning` when the
 *   validation summaries of those days count critical gaps (`gap_count_gt_30` > 0) or any informational outlier or
 *   invariant violation was found; else `ok`. `ok` (boolean) = status ≠ `error`. Every day also gets its own status and
 *   score (the same rule on that day alone), so a bad day diluted in a long range still shows in `days_by_status` and
 *   `worst_days`.
 * - Critical gaps of a day without a persisted validation summary are unknown (`critical_gaps: null`), count as 0 in
 *   the status, and the day is listed in `days_without_validation` with an info reason.
 * - Score = 100·(1 − mean of the five L1 null rates), of the totals (per day: of that day).
 * - `reasons` names every condition behind the status (`bid_price1_null_rate 3.2% > 1% (…)`), then the info ones.
 * - `worst_days`: error before warning before ok, then lower score, more critical gaps, more anomalies, earlier day.
 */
import * as z from 'zod';
import { VarietySchema } from '../../control/varieties.ts';
import { isIsoDay } from '../../market/calendar/days.ts';
import {
  type FieldQuality,
  type FieldQualityTotals,
  fieldQualityTotals,
  INVARIANT_CHECKS,
  invariantViolations,
  L1_NULL_COLUMNS,
  type L1NullColumn,
} from './field-quality.ts';

/** Report step of a field-quality run: never the validation step, so validation's `_latest` report stays its own. */
export const FIELD_QUALITY_REPORT_STEP = 'main_l5_field_quality';

/** The bid_price1 / ask_price1 null rate above which the status is `error` (§6.4). */
export const L1_PRICE_NULL_RATE_LIMIT = 0.01;

/** Per-day entries the job result carries (the report has all of them). */
export const WORST_DAYS_IN_RESULT = 5;
/** Days without a validation summary the job result names (the report names all of them). */
export const DAYS_SAMPLE = 20;

const IsoDay = z.string().refine(isIsoDay, 'expected a real calendar day YYYY-MM-DD');

/** What the service is asked to do (the job's params, camel-cased). */
export const FieldQualityRequestSchema = z
  .object({
    variety: VarietySchema,
    jobId: z.string().min(1),
    start: IsoDay.optional(),
    end: IsoDay.optional(),
  })
  .strict()
  .refine((r) => r.start === undefined || r.end === undefined || r.start <= r.end, {
    message: 'start must not be after end',
    path: ['start'],
  });
export type FieldQualityRequest = z.input<typeof FieldQualityRequestSchema>;

/** The §6.4 console status, worded as the spec and validation's field-quality report word it. */
export type FieldQualityStatus = FieldQualityTotals['status'];
const RANK: Readonly<Record<FieldQualityStatus, number>> = { ok: 0, warning: 1, error: 2 };

/** The stored days (with rows) in `[start, end]`, ascending and distinct. */
export function selectFieldQualityDays(
  stored: readonly { trading_day: string; rows: number }[],
  start?: string,
  end?: string,
): string[] {
  const days = stored
    .filter(
      (d) =>
        d.rows > 0 && (start === undefined || d.trading_day >= start) && (end === undefined || d.trading_day <= end),
    )
    .map((d) => d.trading_day);
  return [...new Set(days)].sort();
}

/** One day of the report: the day's `computeFieldQuality` result as is, with its critical gaps, status and score. */
export interface FieldQualityDay extends FieldQuality {
  trading_day: string;
  /** `gap_count_gt_30` of the day's validation summary; null when the day has none. */
  critical_gaps: number | null;
  /** Outliers + invariant violations of the day. */
  anomalies: number;
  status: FieldQualityStatus;
  score: number;
}

/** The per-day entry: the day judged alone (§6.4 rule, critical gaps unknown → 0). */
export function fieldQualityDay(
  tradingDay: string,
  quality: FieldQuality,
  criticalGaps: number | null,
): FieldQualityDay {
  const t = fieldQualityTotals([quality], criticalGaps ?? 0);
  return {
    trading_day: tradingDay,
    ...quality,
    critical_gaps: criticalGaps,
    anomalies: anomaliesOf(quality),
    status: t.status,
    score: t.score,
  };
}

function anomaliesOf(q: FieldQuality): number {
  return q.price_jump_outliers + q.volume_spike_outliers + q.spread_anomaly_outliers + invariantViolations(q);
}

/** Totals over the days (status and score are reported beside them, not inside). */
export interface FieldQualityRangeTotals extends Omit<FieldQualityTotals, 'status' | 'score'> {
  /** Σ null cells of each L1 column (the rates above are these over `rows_total`). */
  l1_nulls: Record<L1NullColumn, number>;
  /** Σ null cells of the 20 book columns (`l5_fields_null_rate` = this / (rows_total·20)). */
  book_null_cells: number;
  /** Σ outliers + invariant violations. */
  anomalies: number;
  /** Days whose critical gaps are known (a validation summary exists). */
  days_with_validation: number;
}

export type FieldQualityReasonCode =
  | 'bid_price1_null_rate_exceeded'
  | 'ask_price1_null_rate_exceeded'
  | 'critical_gaps'
  | 'price_jump_outliers'
  | 'volume_spike_outliers'
  | 'spread_anomaly_outliers'
  | 'invariant_violations'
  | 'days_without_validation';

export interface FieldQualityReason {
  code: FieldQualityReasonCode;
  /** The status this reason leads to (`info`: reported only). */
  level: 'error' | 'warn' | 'info';
  message: string;
}

/** A compact per-day line (job result `worst_days`). */
export interface FieldQualityDayBrief {
  trading_day: string;
  status: FieldQualityStatus;
  score: number;
  rows_total: number;
  bid_price1_null_rate: number;
  ask_price1_null_rate: number;
  l5_fields_null_rate: number;
  critical_gaps: number | null;
  anomalies: number;
}

export interface FieldQualityFold {
  ok: boolean;
  status: FieldQualityStatus;
  score: number;
  days: number;
  first_day: string | null;
  last_day: string | null;
  totals: FieldQualityRangeTotals;
  reasons: FieldQualityReason[];
  days_by_status: Record<FieldQualityStatus, number>;
  days_without_validation: string[];
  worst_days: FieldQualityDayBrief[];
}

const pct = (r: number): string => `${Number((r * 100).toPrecision(4))}%`;

/** Fold the per-day entries (ascending by day) into totals, status, score and reasons. */
export function foldFieldQuality(days: readonly FieldQualityDay[], worst = WORST_DAYS_IN_RESULT): FieldQualityFold {
  let criticalGaps = 0;
  let withValidation = 0;
  let book = 0;
  const l1 = Object.fromEntries(L1_NULL_COLUMNS.map((c) => [c, 0])) as Record<L1NullColumn, number>;
  const without: string[] = [];
  const byStatus: Record<FieldQualityStatus, number> = { ok: 0, warning: 0, error: 0 };
  for (const d of days) {
    if (d.critical_gaps === null) without.push(d.trading_day);
    else {
      withValidation++;
      criticalGaps += d.critical_gaps;
    }
    book += d.book_null_cells;
    for (const c of L1_NULL_COLUMNS) l1[c] += d.l1_nulls[c];
    byStatus[d.status]++;
  }
  const { status, score, ...t } = fieldQualityTotals(days, criticalGaps);
  const anomalies =
    t.price_jump_outliers + t.volume_spike_outliers + t.spread_anomaly_outliers + t.invariant_violations;
  const totals: FieldQualityRangeTotals = {
    ...t,
    l1_nulls: l1,
    book_null_cells: book,
    anomalies,
    days_with_validation: withValidation,
  };
  return {
    ok: status !== 'error',
    status,
    score,
    days: days.length,
    first_day: days[0]?.trading_day ?? null,
    last_day: days.at(-1)?.trading_day ?? null,
    totals,
    reasons: reasonsOf(totals, without),
    days_by_status: byStatus,
    days_without_validation: without,
    worst_days: worstDays(days, worst),
  };
}

function reasonsOf(t: FieldQualityRangeTotals, without: readonly string[]): FieldQualityReason[] {
  const out: FieldQualityReason[] = [];
  const rates: Record<'bid_price1' | 'ask_price1', number> = {
    bid_price1: t.bid_price1_null_rate,
    ask_price1: t.ask_price1_null_rate,
  };
  for (const c of ['bid_price1', 'ask_price1'] as const) {
    if (rates[c] > L1_PRICE_NULL_RATE_LIMIT) {
      out.push({
        code: `${c}_null_rate_exceeded`,
        level: 'error',
        message: `${c}_null_rate ${pct(rates[c])} > ${pct(L1_PRICE_NULL_RATE_LIMIT)} (${t.l1_nulls[c]} null of ${t.rows_total} rows)`,
      });
    }
  }
  if (t.critical_gaps > 0) {
    out.push({
      code: 'critical_gaps',
      level: 'warn',
      message: `${t.critical_gaps} critical gap(s) > 30 s in the validation summaries of these days`,
    });
  }
  const counts = [
    ['price_jump_outliers', t.price_jump_outliers, 'price jump outlier(s) (|Δlast_price| > 5σ)'],
    ['volume_spike_outliers', t.volume_spike_outliers, 'volume spike outlier(s) (> 10× the mean increment)'],
    ['spread_anomaly_outliers', t.spread_anomaly_outliers, 'spread anomaly outlier(s) (> 3× the median spread)'],
    [
      'invariant_violations',
      t.invariant_violations,
      `order-book invariant violation(s) (${INVARIANT_CHECKS.filter((k) => t.invariants[k].violations > 0)
        .map((k) => `${k} ${t.invariants[k].violations}`)
        .join(', ')})`,
    ],
  ] as const;
  for (const [code, n, what] of counts) if (n > 0) out.push({ code, level: 'warn', message: `${n} ${what}` });
  if (without.length > 0) {
    out.push({
      code: 'days_without_validation',
      level: 'info',
      message: `${without.length} day(s) have no validation summary, so their critical gaps are unknown (${without
        .slice(0, DAYS_SAMPLE)
        .join(', ')}${without.length > DAYS_SAMPLE ? ', …' : ''}); run ghtrader data validate for them`,
    });
  }
  return out;
}

/** The `n` worst days (error > warning > ok, then lower score, more critical gaps, more anomalies, earlier day). */
export function worstDays(days: readonly FieldQualityDay[], n: number): FieldQualityDayBrief[] {
  return [...days]
    .sort(
      (a, b) =>
        RANK[b.status] - RANK[a.status] ||
        a.score - b.score ||
        (b.critical_gaps ?? 0) - (a.critical_gaps ?? 0) ||
        b.anomalies - a.anomalies ||
        (a.trading_day < b.trading_day ? -1 : a.trading_day > b.trading_day ? 1 : 0),
    )
    .slice(0, n)
    .map((d) => ({
      trading_day: d.trading_day,
      status: d.status,
      score: d.score,
      rows_total: d.rows_total,
      bid_price1_null_rate: d.bid_price1_null_rate,
      ask_price1_null_rate: d.ask_price1_null_rate,
      l5_fields_null_rate: d.l5_fields_null_rate,
      critical_gaps: d.critical_gaps,
      anomalies: d.anomalies,
    }));
}
