/**
 * Field quality of a variety's stored main_l5 ticks over a range of days (data-chain §6.4; `ghtrader data
 * field-quality`, job `data.field_quality`). Read-only against the tick store:
 *
 * 1. schema: the required columns of the tick table and the validation summary table (§1.5), failing fast;
 * 2. under `main_l5:symbol=<alias>`, taken exactly as validation and verification take it (`underBuildReadLock` of
 *    validate.ts: a live holder → `main-l5 build in progress …`, a bounded wait of
 *    `GHTRADER_MAIN_L5_VALIDATE_LOCK_WAIT_TIMEOUT_S`, never preempting) and renewed between days: reading a day a
 *    build is still writing would give misleading numbers. While it runs, a build of the same alias is refused the
 *    way it is refused during validation;
 * 3. the stored tick days (rows > 0) in `[start, end]` (default: all), and the `gap_count_gt_30` of their persisted
 *    validation summary rows (`ghtrader_main_l5_validate_summary_v2`; a day without one has unknown critical gaps);
 * 4. per day, one day in memory at a time (one reusable `TickReadBuffers`), `computeFieldQuality` over all the day's
 *    rows — the very function and input validation persists into `ghtrader_field_quality_v2`;
 * 5. the fold (`foldFieldQuality`: totals from summed counts, status, score, reasons, worst days), the report
 *    (`reports/main_l5_field_quality/<alias>_…json` + `_latest`, with every day's entry) — its own step, never over
 *    validation's `_latest` report.
 *
 * Nothing is written to the tick store. No stored day at all (`field_quality_no_ticks`) or none in the range
 * (`field_quality_no_days`) is an error naming what to run; status `error` is a result (`ok: false`), not a failure.
 */
import { performance } from 'node:perf_hooks';
import type { LockStore } from '../../domain/control/locks.ts';
import { reportKey, writeReport } from '../../domain/data/artifacts.ts';
import { resolveNumber } from '../../domain/data/settings.ts';
import { DATASET_VERSION, TABLES } from '../../domain/data/tick-columns.ts';
import { TickReadBuffers } from '../../domain/data/tick-store.ts';
import { computeFieldQuality } from '../../domain/data/validation/field-quality.ts';
import {
  DAYS_SAMPLE,
  FIELD_QUALITY_REPORT_STEP,
  type FieldQualityDay,
  type FieldQualityFold,
  type FieldQualityRequest,
  FieldQualityRequestSchema,
  fieldQualityDay,
  foldFieldQuality,
  selectFieldQualityDays,
} from '../../domain/data/validation/field-quality-report.ts';
import { continuousSymbol } from '../../domain/market/symbols.ts';
import type { Variety } from '../../domain/market/varieties.ts';
import { DataChainError } from '../../errors/data.ts';
import { LOCK_WAIT_SETTING, type LockHandle, underBuildReadLock, type ValidateDeps } from './validate.ts';

const EXCHANGE = 'SHFE';
const TICKS = TABLES.ticksMainL5;
const SUMMARY = TABLES.validateSummary;
/** The lease the build lock is taken with; renewed once a third of it has passed (checked between days). */
const LEASE_MS = 120_000;

export type FieldQualityDeps = Pick<ValidateDeps, 'store' | 'locks' | 'settings' | 'artifacts' | 'clock' | 'log'>;

export interface FieldQualityReport extends FieldQualityFold {
  report_uri: string;
  created_at: string;
  job_id: string;
  exchange: string;
  variety: Variety;
  symbol: string;
  ticks_kind: 'main_l5';
  dataset_version: typeof DATASET_VERSION;
  requested: { start: string | null; end: string | null };
  /** Stored tick days of the symbol (any range), for context. */
  stored_days_total: number;
  /** Where the critical gaps come from. */
  critical_gaps_source: string;
  /** Every day's entry, ascending by day. */
  per_day: FieldQualityDay[];
}

/**
 * Compute field quality over the stored days (see the module comment). Throws `MainL5BuildInProgressError` (the build
 * lock is held), `SchemaContractError` (missing columns), `DataChainError` `field_quality_no_ticks` /
 * `field_quality_no_days`, and a zod error for a bad request. Returns the written report.
 */
export async function runFieldQuality(
  deps: FieldQualityDeps,
  request: FieldQualityRequest,
): Promise<FieldQualityReport> {
  const req = FieldQualityRequestSchema.parse(request);
  const { store, log } = deps;
  const symbol = continuousSymbol(req.variety);

  await store.assertRequiredColumns(TICKS);
  await store.assertRequiredColumns(SUMMARY);

  const waitS = resolveNumber(deps.settings, LOCK_WAIT_SETTING).value;
  return underBuildReadLock(
    { locks: deps.locks, log },
    { symbol, jobId: req.jobId, waitS, step: 'main_l5_field_quality' },
    (handle) => fieldQualityLocked(deps, { ...req, symbol }, handle),
  );
}

async function renewIfDue(locks: LockStore, h: LockHandle): Promise<void> {
  if (h.lease === null || performance.now() - h.renewedAt < LEASE_MS / 3) return;
  h.lease = await locks.renew(h.lease, LEASE_MS);
  h.renewedAt = performance.now();
}

async function fieldQualityLocked(
  deps: FieldQualityDeps,
  req: { variety: Variety; jobId: string; start?: string | undefined; end?: string | undefined; symbol: string },
  handle: LockHandle,
): Promise<FieldQualityReport> {
  const { store, log, locks } = deps;
  const { symbol, variety } = req;
  const range = `[${req.start ?? '…'}, ${req.end ?? '…'}]`;

  const stored = (await store.countByDay(TICKS.name, symbol)).filter((c) => c.rows > 0);
  if (stored.length === 0) {
    throw new DataChainError(
      'field_quality_no_ticks',
      `main_l5_field_quality: no ${TICKS.name} rows for ${symbol}; nothing to check (build them with ghtrader data main-l5 --var ${variety})`,
      { details: { symbol } },
    );
  }
  const days = selectFieldQualityDays(stored, req.start, req.end);
  const first = days[0];
  const last = days.at(-1);
  if (first === undefined || last === undefined) {
    const storedDays = stored.map((c) => c.trading_day).sort();
    throw new DataChainError(
      'field_quality_no_days',
      `main_l5_field_quality: no stored tick days of ${symbol} in ${range}; stored days run ${storedDays[0]} … ${storedDays.at(-1)} (${storedDays.length} days)`,
      {
        details: {
          symbol,
          start: req.start ?? null,
          end: req.end ?? null,
          stored_first_day: storedDays[0],
          stored_last_day: storedDays.at(-1),
        },
      },
    );
  }

  // Critical gaps: the persisted validation summary of each day (the latest one should a store hold several).
  const gaps = new Map<string, { gaps: number; at: bigint }>();
  for (const r of await store.readRows(SUMMARY.name, { symbol, tradingDayFrom: first, tradingDayTo: last })) {
    const day = String(r.trading_day);
    const at = typeof r.updated_at === 'bigint' ? r.updated_at : 0n;
    const prev = gaps.get(day);
    if (prev === undefined || at >= prev.at) gaps.set(day, { gaps: Number(r.gap_count_gt_30 ?? 0), at });
  }

  log.info({ symbol, days: days.length, first, last }, 'main_l5_field_quality.start');
  const buffers = new TickReadBuffers();
  const perDay: FieldQualityDay[] = [];
  for (const day of days) {
    await renewIfDue(locks, handle);
    const ticks = await store.readTickValues(TICKS.name, symbol, day, buffers);
    const quality = computeFieldQuality(ticks.values, ticks.datetimeNs.length);
    perDay.push(fieldQualityDay(day, quality, gaps.get(day)?.gaps ?? null));
  }

  const fold = foldFieldQuality(perDay);
  const nowMs = deps.clock.nowMs();
  const report: FieldQualityReport = {
    ...fold,
    report_uri: deps.artifacts.uri(reportKey(FIELD_QUALITY_REPORT_STEP, symbol, nowMs, req.jobId)),
    created_at: new Date(nowMs).toISOString(),
    job_id: req.jobId,
    exchange: EXCHANGE,
    variety,
    symbol,
    ticks_kind: 'main_l5',
    dataset_version: DATASET_VERSION,
    requested: { start: req.start ?? null, end: req.end ?? null },
    stored_days_total: stored.length,
    critical_gaps_source: `${SUMMARY.name}.gap_count_gt_30`,
    per_day: perDay,
  };
  report.report_uri = await writeReport(deps.artifacts, FIELD_QUALITY_REPORT_STEP, symbol, nowMs, req.jobId, report);
  log.info(
    {
      symbol,
      days: report.days,
      status: report.status,
      score: report.score,
      days_without_validation: report.days_without_validation.length,
      report_uri: report.report_uri,
    },
    'main_l5_field_quality.done',
  );
  return report;
}

/**
 * The §10.2 `field-quality --json` object and job result: `{ok, days, totals, status, score}` plus the first and last
 * day, the reasons, per-status day counts, the worst few days, a sample of the days without a validation summary and
 * the report URI. Bounded (a few KiB) whatever the number of days; the per-day entries are in the report.
 */
export function fieldQualitySummary(r: FieldQualityReport) {
  return {
    ok: r.ok,
    status: r.status,
    score: r.score,
    days: r.days,
    first_day: r.first_day,
    last_day: r.last_day,
    totals: r.totals,
    reasons: r.reasons,
    days_by_status: r.days_by_status,
    days_without_validation: r.days_without_validation.length,
    days_without_validation_sample: r.days_without_validation.slice(0, DAYS_SAMPLE),
    worst_days: r.worst_days,
    symbol: r.symbol,
    report_uri: r.report_uri,
  };
}
