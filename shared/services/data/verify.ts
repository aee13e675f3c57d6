/**
 * Verification of legacy main_l5 datasets (data-chain §6.8; `ghtrader data verify`, job `data.verify`). Read-only
 * against the store unless `promote`:
 *
 * 1. schema: the required columns of the tick and schedule tables (and the builds table when promoting), failing fast
 *    with the §1.5 `SchemaContractError`;
 * 2. under `main_l5:symbol=<alias>`, taken like validation takes it (a live holder → `main-l5 build in progress`, a
 *    bounded wait, never preempting) and renewed while the run lasts: the stored schedule's hash (`match`, a prefix
 *    rebuilt from the provider's continuous mapping → `match_after_prefix_reconstruction` | `unverifiable`, else
 *    `mismatch`); no stored schedule is an error naming `ghtrader data schedule --var <v>`;
 * 3. every stored tick day (or `sampleDays` of them), one day in memory at a time (the next one read meanwhile):
 *    `fnv1a64_v1` recomputed per row, provenance against the day's schedule row, `l5_any_depth_v1` (errors) and
 *    `l5_levels_2_5_v2` (warnings);
 * 4. validation (§6) with the legacy rule, nothing persisted (`persist: false`), provider check off;
 *
 * then the overall state (worst part), the report (`reports/main_l5_verify/…`) and, with `promote` and a result that
 * is not `error`, one `ghtrader_main_l5_builds_v2` row `mode=legacy_verified`, `status=promoted`.
 */
import { randomUUID } from 'node:crypto';
import type { LockStore } from '../../domain/control/locks.ts';
import { reportKey, writeReport } from '../../domain/data/artifacts.ts';
import { newBuildId } from '../../domain/data/main-l5/build-id.ts';
import { LEGACY_L5_RULE } from '../../domain/data/main-l5/l5-rule.ts';
import { RowHasher } from '../../domain/data/main-l5/row-hasher.ts';
import { ROW_HASH_ALGO } from '../../domain/data/row-hash.ts';
import { buildMainSchedule, type ScheduleRow } from '../../domain/data/schedule.ts';
import { resolveNumber } from '../../domain/data/settings.ts';
import { TABLES, TICK_NUMERIC_COLUMN_COUNT } from '../../domain/data/tick-columns.ts';
import { msToMicros, type TickDayRows, type TickStore } from '../../domain/data/tick-store.ts';
import {
  addDayCheck,
  checkSchedule,
  checkTickDay,
  emptyTotals,
  foldVerifyState,
  LEGACY_VERIFIED_MODE,
  needsConfiguredStart,
  needsPrefixReconstruction,
  type PrefixSource,
  ProvenanceExpectations,
  type ScheduleCheck,
  type StoredScheduleDay,
  sampleDays,
  VERIFY_REPORT_STEP,
  type VerifyIssue,
  type VerifyParams,
  type VerifyRequest,
  VerifyRequestSchema,
  type VerifyState,
  type VerifyTotals,
} from '../../domain/data/verify.ts';
import { tradingDayOf } from '../../domain/market/sessions.ts';
import { continuousSymbol } from '../../domain/market/symbols.ts';
import type { Variety } from '../../domain/market/varieties.ts';
import { describeError } from '../../errors/base.ts';
import { DataChainError } from '../../errors/data.ts';
import type { Logger } from '../../log.ts';
import { readStoredSchedule, resolveScheduleStart } from './schedule.ts';
import {
  LOCK_WAIT_SETTING,
  type LockHandle,
  runValidation,
  underBuildReadLock,
  type ValidateDeps,
  type ValidationReport,
} from './validate.ts';

const EXCHANGE = 'SHFE';
const TICKS = TABLES.ticksMainL5;
const BUILDS = TABLES.mainL5Builds;
/** The lock lease; a timer renews it every third of it while the run lasts (validation included). */
const LEASE_MS = 120_000;

/**
 * Validation's dependencies; `market` is the provider whose continuous mapping rebuilds a deleted schedule prefix
 * (§6.8 step 2; validation itself runs without the provider check), `marketNow` goes to validation.
 */
export interface VerifyDeps extends ValidateDeps {
  /** Build ids of promoted rows (tests pass a fixed one). */
  randomUUID?: () => string;
}

/** §6.8 step 4 as the verify result shows it (the full validation report is at `report_uri`). */
export interface VerifyValidation {
  state: VerifyState;
  overall_state: VerifyState;
  engineering_state: VerifyState | null;
  policy_state: VerifyState | null;
  source_state: VerifyState | null;
  reason_code: string;
  action_hint: string;
  l5_rule: typeof LEGACY_L5_RULE;
  checked_days: number;
  missing_days: number;
  report_uri: string | null;
  /** Set when validation could not run (reason_code `validation_runtime_error`). */
  error: string | null;
}

export interface VerifyReport {
  ok: boolean;
  state: VerifyState;
  schedule_hash_check: ScheduleCheck['check'];
  rows_checked: number;
  row_hash_mismatches: number;
  provenance_errors: number;
  l5_any_depth_violations: number;
  l5_strict_violations: number;
  validation: VerifyValidation;
  issues: VerifyIssue[];
  created_at: string;
  job_id: string;
  exchange: string;
  variety: Variety;
  symbol: string;
  row_hash_algo: typeof ROW_HASH_ALGO;
  l5_rule: typeof LEGACY_L5_RULE;
  schedule: ScheduleCheck;
  /** Stored tick days and rows, and the days checked (all, or the `sample_days` sample). */
  ticks: {
    days_total: number;
    rows_total: number;
    first_day: string;
    last_day: string;
    aligned_start: string;
    sample_days: number | null;
    days_checked: string[];
  };
  totals: VerifyTotals;
  promotion: {
    requested: boolean;
    promoted: boolean;
    build_id: string | null;
    /** Why nothing was promoted (`not_requested`, `state_error`). */
    reason: string | null;
  };
  report_uri: string;
}

/** Renew the lease every third of it until stopped; a lost lease fails the run at the next `check()`. */
function keepLease(locks: LockStore, handle: LockHandle, log: Logger) {
  let lost: unknown = null;
  let renewing: Promise<void> = Promise.resolve();
  const timer =
    handle.lease === null
      ? null
      : setInterval(() => {
          renewing = (async () => {
            if (handle.lease === null || lost !== null) return;
            try {
              handle.lease = await locks.renew(handle.lease, LEASE_MS);
            } catch (err) {
              lost = err;
              log.error({ err: describeError(err) }, 'main_l5_verify.lock_lost');
            }
          })();
        }, LEASE_MS / 3);
  timer?.unref();
  return {
    check(): void {
      if (lost !== null) {
        throw new DataChainError('main_l5_verify_lock_lost', `main_l5_verify lost its lock: ${String(lost)}`, {
          cause: lost,
        });
      }
    },
    async stop(): Promise<void> {
      if (timer !== null) clearInterval(timer);
      await renewing;
    },
  };
}

const compact = (d: string) => d.replaceAll('-', '');
const iso = (d: string) => (d.includes('-') ? d : `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`);

/**
 * The schedule before `firstStoredDay` rebuilt from the provider (§4.2 over [start, the trading day before it]);
 * provider or expansion failures become `{ok: false}` (the check is then `unverifiable`), never a thrown error.
 */
async function rebuildPrefix(
  deps: VerifyDeps,
  variety: Variety,
  start: string,
  firstStoredDay: string,
): Promise<PrefixSource> {
  if (deps.market === undefined) return { ok: false, error: 'no market data source configured' };
  try {
    const end = deps.calendar.prevTradingDay(firstStoredDay);
    if (end < start) return { ok: true, days: [] };
    const observed = await deps.market.continuousMapping(variety, compact(start), compact(end));
    const built = buildMainSchedule({
      calendar: deps.calendar,
      mapping: {
        exchange: EXCHANGE,
        variety,
        observations: observed.map((o) => ({ trading_day: iso(o.trading_day), underlying: o.underlying })),
        // The stored rows after `end` show the source vouched for the prefix when it was built.
        as_of: end,
      },
      start,
      today: end,
    });
    return {
      ok: true,
      days: built.schedule.rows.map((r) => ({ trading_day: r.trading_day, main_contract: r.main_contract })),
    };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The stored schedule rows with the hash on each (per row only matters when the rows carry several). */
async function storedScheduleDays(
  store: TickStore,
  variety: Variety,
  rows: readonly ScheduleRow[],
  hashes: readonly string[],
): Promise<StoredScheduleDay[]> {
  const sole = hashes.length === 1 ? (hashes[0] as string) : null;
  if (sole !== null && sole !== 'null') return rows.map((r) => ({ ...r, schedule_hash: sole }));
  const raw = await store.readRows(TABLES.mainSchedule.name, { exchange: EXCHANGE, variety });
  const byDay = new Map(
    raw.map((r) => [String(r.trading_day), r.schedule_hash === null ? '' : String(r.schedule_hash)]),
  );
  return rows.map((r) => ({ ...r, schedule_hash: byDay.get(r.trading_day) ?? '' }));
}

function validationPart(v: ValidationReport): VerifyValidation {
  const state: VerifyState = v.overall_state;
  return {
    state,
    overall_state: v.overall_state,
    engineering_state: v.engineering_state,
    policy_state: v.policy_state,
    source_state: v.source_state,
    reason_code: v.reason_code,
    action_hint: v.action_hint,
    l5_rule: LEGACY_L5_RULE,
    checked_days: v.checked_days,
    missing_days: v.missing_days,
    report_uri: v.report_uri,
    error: null,
  };
}

function validationFailed(err: unknown): VerifyValidation {
  const message = err instanceof Error ? err.message : String(err);
  return {
    state: 'error',
    overall_state: 'error',
    engineering_state: null,
    policy_state: null,
    source_state: null,
    reason_code: 'validation_runtime_error',
    action_hint: `validation could not run: ${message}`,
    l5_rule: LEGACY_L5_RULE,
    checked_days: 0,
    missing_days: 0,
    report_uri: null,
    error: message,
  };
}

/**
 * Verify the stored main_l5 dataset of a variety (§6.8). Throws `SchemaContractError` (missing columns),
 * `MainL5BuildInProgressError` (the build lock is held), `DataChainError` `main_l5_verify_no_schedule` /
 * `main_l5_verify_no_ticks` (nothing to verify), `l5_start_date_unset` (the schedule hash differs and the configured
 * start is needed to tell a trimmed prefix from a mismatch). Otherwise returns the written report; `ok` is false
 * exactly when `state` is `error`.
 */
export async function runVerify(deps: VerifyDeps, request: VerifyRequest): Promise<VerifyReport> {
  const req = VerifyRequestSchema.parse(request);
  const { store, log } = deps;
  const variety = req.variety;
  const symbol = continuousSymbol(variety);

  // ---- (1) schema, fail fast
  await store.assertRequiredColumns(TICKS);
  await store.assertRequiredColumns(TABLES.mainSchedule);
  if (req.promote) await store.assertRequiredColumns(BUILDS);

  // ---- the build lock, as validation takes it (§6.1): refuse a live holder, wait briefly, never preempt
  const validateDeps: ValidateDeps = {
    store,
    locks: deps.locks,
    calendar: deps.calendar,
    settings: deps.settings,
    artifacts: deps.artifacts,
    clock: deps.clock,
    log,
    ...(deps.marketNow ? { marketNow: deps.marketNow } : {}),
  };
  const waitS = resolveNumber(deps.settings, LOCK_WAIT_SETTING).value;
  return underBuildReadLock(
    { locks: deps.locks, log },
    { symbol, jobId: req.jobId, waitS, step: 'main_l5_verify' },
    async (handle) => {
      const lease = keepLease(deps.locks, handle, log);
      try {
        return await verifyLocked(deps, validateDeps, req, symbol, lease.check);
      } finally {
        await lease.stop();
      }
    },
  );
}

async function verifyLocked(
  deps: VerifyDeps,
  validateDeps: ValidateDeps,
  req: VerifyParams,
  symbol: string,
  checkLease: () => void,
): Promise<VerifyReport> {
  const { store, log, calendar } = deps;
  const variety = req.variety;

  // ---- (2) schedule
  const stored = await readStoredSchedule(store, variety);
  if (stored.rows.length === 0) {
    throw new DataChainError(
      'main_l5_verify_no_schedule',
      `main_l5_verify: no stored schedule rows for ${EXCHANGE}.${variety} (${TABLES.mainSchedule.name}); the ticks cannot be checked against a schedule; run ghtrader data schedule --var ${variety} first (it writes the current provider schedule; verify then reports any difference)`,
      { details: { variety } },
    );
  }
  const configuredStart = needsConfiguredStart(stored.rows, stored.hashes)
    ? resolveScheduleStart(deps.settings, variety).value
    : null;
  const first = stored.rows[0] as ScheduleRow;
  const prefix =
    configuredStart !== null && needsPrefixReconstruction(stored.rows, stored.hashes, configuredStart)
      ? await rebuildPrefix(deps, variety, configuredStart, first.trading_day)
      : null;
  const { check: schedule, rows: lineageRows } = checkSchedule({
    stored: stored.rows,
    storedHashes: stored.hashes,
    configuredStart,
    prefix,
  });
  const expectations = new ProvenanceExpectations(
    await storedScheduleDays(store, variety, stored.rows, stored.hashes),
    lineageRows,
  );
  log.info(
    { symbol, check: schedule.check, reason: schedule.reason, stored_hash: schedule.stored_hash },
    'main_l5_verify.schedule',
  );

  // ---- (3) ticks, one day at a time
  const provenance = await store.dayProvenance(TICKS.name, symbol);
  const withRows = provenance.filter((p) => p.rows > 0);
  const firstDay = withRows[0];
  const lastDay = withRows[withRows.length - 1];
  if (firstDay === undefined || lastDay === undefined) {
    throw new DataChainError(
      'main_l5_verify_no_ticks',
      `main_l5_verify: no ${TICKS.name} rows for ${symbol}; nothing to verify (build them with ghtrader data main-l5 --var ${variety})`,
      { details: { symbol } },
    );
  }
  let firstNs = firstDay.first_datetime_ns;
  for (const p of withRows) if (p.first_datetime_ns < firstNs) firstNs = p.first_datetime_ns;
  const alignedStart = tradingDayOf(calendar, firstNs, EXCHANGE, variety).trading_day;
  const days = sampleDays(
    withRows.map((p) => p.trading_day),
    req.sampleDays,
  );
  const totals = emptyTotals();
  const hasher = new RowHasher();
  const scratch = new Float64Array(TICK_NUMERIC_COLUMN_COUNT);
  const read = (i: number): Promise<TickDayRows> | null => {
    const day = days[i];
    if (day === undefined) return null;
    const p = store.readTickDay(TICKS.name, symbol, day);
    p.catch(() => undefined); // awaited on its iteration; no unhandled rejection meanwhile
    return p;
  };
  let next = read(0);
  for (let i = 0; i < days.length; i++) {
    const day = days[i] as string;
    const ticks = await (next as Promise<TickDayRows>);
    next = read(i + 1); // two days in memory at most
    checkLease();
    addDayCheck(totals, checkTickDay(day, ticks, expectations.of(day), expectations, hasher, scratch));
  }
  log.info(
    {
      symbol,
      days_checked: totals.days_checked,
      rows_checked: totals.rows_checked,
      row_hash_mismatches: totals.row_hash_mismatches,
      provenance_errors: totals.provenance_errors,
      l5_any_depth_violations: totals.l5_any_depth_violations,
      l5_strict_violations: totals.l5_strict_violations,
    },
    'main_l5_verify.ticks',
  );

  // ---- (4) validation with the legacy rule, read-only
  let validation: VerifyValidation;
  try {
    const v = await runValidation(validateDeps, {
      variety,
      jobId: req.jobId,
      heldBuildLockOwner: req.jobId,
      providerCheck: false,
      l5Rule: LEGACY_L5_RULE,
      persist: false,
      ...(req.sampleDays !== undefined ? { days } : {}),
    });
    validation = validationPart(v);
  } catch (err) {
    log.warn({ err: describeError(err) }, 'main_l5_verify.validation_failed');
    validation = validationFailed(err);
  }
  checkLease();

  // ---- state, report, promotion
  const folded = foldVerifyState({ schedule, totals, validation });
  const nowMs = deps.clock.nowMs();
  const promote = req.promote && folded.state !== 'error';
  const buildId = promote ? newBuildId(deps.randomUUID ?? randomUUID) : null;
  const report: VerifyReport = {
    ok: folded.ok,
    state: folded.state,
    schedule_hash_check: schedule.check,
    rows_checked: totals.rows_checked,
    row_hash_mismatches: totals.row_hash_mismatches,
    provenance_errors: totals.provenance_errors,
    l5_any_depth_violations: totals.l5_any_depth_violations,
    l5_strict_violations: totals.l5_strict_violations,
    validation,
    issues: folded.issues,
    created_at: new Date(nowMs).toISOString(),
    job_id: req.jobId,
    exchange: EXCHANGE,
    variety,
    symbol,
    row_hash_algo: ROW_HASH_ALGO,
    l5_rule: LEGACY_L5_RULE,
    schedule,
    ticks: {
      days_total: withRows.length,
      rows_total: withRows.reduce((n, p) => n + p.rows, 0),
      first_day: firstDay.trading_day,
      last_day: lastDay.trading_day,
      aligned_start: alignedStart,
      sample_days: req.sampleDays ?? null,
      days_checked: days,
    },
    totals,
    promotion: {
      requested: req.promote,
      promoted: promote,
      build_id: buildId,
      reason: promote ? null : req.promote ? 'state_error' : 'not_requested',
    },
    report_uri: deps.artifacts.uri(reportKey(VERIFY_REPORT_STEP, symbol, nowMs, req.jobId)),
  };
  report.report_uri = await writeReport(deps.artifacts, VERIFY_REPORT_STEP, symbol, nowMs, req.jobId, report);

  if (promote && buildId !== null) {
    // Mirrors the builds row of main_l5 finalize (§5.6 step 6) for a dataset this run vouches for.
    await store.writeRows(BUILDS.name, [
      {
        symbol,
        build_id: buildId,
        schedule_hash: schedule.stored_hash ?? '',
        mode: LEGACY_VERIFIED_MODE,
        status: 'promoted',
        l5_rule: LEGACY_L5_RULE,
        aligned_start: alignedStart,
        covered_first_day: firstDay.trading_day,
        covered_last_day: lastDay.trading_day,
        rows_total: BigInt(report.ticks.rows_total),
        days_written: BigInt(report.ticks.days_total),
        report_uri: report.report_uri,
        ts: msToMicros(nowMs),
      },
    ]);
  }
  log.info(
    {
      symbol,
      state: report.state,
      schedule_hash_check: report.schedule_hash_check,
      validation_state: validation.state,
      promoted: promote,
      build_id: buildId,
      report_uri: report.report_uri,
    },
    'main_l5_verify.done',
  );
  return report;
}

/** The §10.2 `verify --json` object (small enough for a job result; the full report is at `report_uri`). */
export function verifySummary(r: VerifyReport) {
  return {
    ok: r.ok,
    state: r.state,
    schedule_hash_check: r.schedule_hash_check,
    rows_checked: r.rows_checked,
    row_hash_mismatches: r.row_hash_mismatches,
    provenance_errors: r.provenance_errors,
    l5_any_depth_violations: r.l5_any_depth_violations,
    l5_strict_violations: r.l5_strict_violations,
    validation: {
      state: r.validation.state,
      reason_code: r.validation.reason_code,
      action_hint: r.validation.action_hint,
      checked_days: r.validation.checked_days,
      missing_days: r.validation.missing_days,
      report_uri: r.validation.report_uri,
    },
    issues: r.issues.map((i) => i.code),
    days_total: r.ticks.days_total,
    days_checked: r.ticks.days_checked.length,
    schedule: {
      reason: r.schedule.reason,
      stored_hash: r.schedule.stored_hash,
      recomputed_hash: r.schedule.recomputed_hash,
      reconstructed_hash: r.schedule.reconstructed_hash,
      prefix_days: r.schedule.prefix_days,
    },
    promoted_build_id: r.promotion.build_id,
    report_uri: r.report_uri,
  };
}
