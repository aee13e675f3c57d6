/**
 * The main_l5 validation gate (data-chain §6; `ghtrader data validate`, job `data.validate`, and the build's
 * finalize gate): lock `main_l5:symbol=<alias>` without preemption, pick the days (schedule ∩ [start, end], after the
 * last validated day when incremental, from the aligned start), compute per-day statistics from per-second counts
 * of the dataset's L5 rows and D's session windows (§3.3), field quality, an optional provider check, persist
 * fail-fast (clear gap rows first, then batches of 100 days), evaluate the layered states and write the report.
 */
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Lease, type LockStore, mainL5LockKey } from '../../domain/control/locks.ts';
import { type ArtifactStore, reportKey, writeReport } from '../../domain/data/artifacts.ts';
import { L5_RULE } from '../../domain/data/main-l5/l5-rule.ts';
import { type ScheduleRow, schedulePrefixHashes } from '../../domain/data/schedule.ts';
import { resolveNumber, type SettingLayers, SettingsSnapshot } from '../../domain/data/settings.ts';
import { TABLES } from '../../domain/data/tick-columns.ts';
import {
  msToMicros,
  type Row,
  type TickDayValues,
  TickReadBuffers,
  type TickStore,
} from '../../domain/data/tick-store.ts';
import {
  ACTION_HINTS,
  computeDayStats,
  computeFieldQuality,
  emptyProviderCheck,
  fieldQualityRow,
  gapRows,
  inSessionIntervals,
  isL5Record,
  type L5RuleId,
  l5RowMask,
  markSegments,
  type PolicySources,
  type ProviderCheckSummary,
  providerInference,
  type ReasonCode,
  resolveValidationPolicy,
  secondCounts,
  summaryRow,
  tickGapRow,
  tickTimes,
  type ValidationPolicy,
  type ValidationSummary,
  ValidationTotals,
} from '../../domain/data/validation/index.ts';
import type { TradingCalendar } from '../../domain/market/calendar/calendar.ts';
import type { MarketDataSource } from '../../domain/market/ports.ts';
import {
  DEFAULT_SESSION_VERSIONS,
  type SessionVersion,
  sessionPlan,
  tradingDayEndNs,
  tradingDayOf,
  tradingTimeAt,
} from '../../domain/market/sessions.ts';
import { continuousSymbol } from '../../domain/market/symbols.ts';
import type { Variety } from '../../domain/market/varieties.ts';
import { describeError } from '../../errors/base.ts';
import { DataChainError } from '../../errors/data.ts';
import type { Logger } from '../../log.ts';
import { loadSessionHistory } from './sessions.ts';

export const VALIDATE_REPORT_STEP = 'main_l5_validate';
/**
 * Where a read-only validation (`persist: false`, run by legacy verification) writes its report: never over the
 * validation reports the Data page shows as the last validation.
 */
export const READ_ONLY_VALIDATE_REPORT_STEP = 'main_l5_validate_read_only';

const reportStepOf = (req: ValidateRequest) =>
  req.persist === false ? READ_ONLY_VALIDATE_REPORT_STEP : VALIDATE_REPORT_STEP;
const EXCHANGE = 'SHFE';
const PERSIST_BATCH_DAYS = 100;
const LEASE_MS = 120_000;
const LOCK_POLL_MS = 200;
const SAMPLE_ERRORS = 5;

/** §6.1: the build (or another validation) holds `main_l5:symbol=<alias>`; exit 1, retry later. */
export class MainL5BuildInProgressError extends DataChainError {
  constructor(symbol: string, jobId: string) {
    super(
      'main_l5_build_in_progress',
      `main-l5 build in progress for ${symbol} (job_id=${jobId}). Please retry after it finishes.`,
      { details: { symbol, job_id: jobId } },
    );
  }
}

export interface ValidateDeps {
  store: TickStore;
  locks: LockStore;
  calendar: TradingCalendar;
  settings: SettingLayers;
  artifacts: ArtifactStore;
  clock: { nowMs(): number };
  log: Logger;
  /** Needed only for the provider check (§6.3). */
  market?: MarketDataSource;
  /**
   * The provider's clock (epoch ns); with it, days still trading by either clock are left out. Without it, the wall
   * clock alone decides (right against a live provider; a simulator running in the past needs it).
   */
  marketNow?: () => Promise<bigint>;
}

export interface ValidateRequest {
  variety: Variety;
  start?: string;
  end?: string;
  incremental?: boolean;
  /** Default: `GHTRADER_L5_VALIDATE_TQ_CHECK` (true); the build gate passes false. */
  providerCheck?: boolean;
  gapThresholdS?: number;
  strictRatio?: number;
  maxSegmentsPerDay?: number;
  jobId: string;
  /** Set by the main_l5 build's finalize, which already holds `main_l5:symbol=<alias>`: skip the lock check/acquire. */
  heldBuildLockOwner?: string;
  /** Restrict to these days (the build gate validates the days it wrote); still intersected with the schedule. */
  days?: readonly string[];
  /** The rule the dataset was built with (default `l5_levels_2_5_v2`; legacy verification passes `l5_any_depth_v1`). */
  l5Rule?: L5RuleId;
  /** main_l5 build outcome class per day (`written`, `provider_missing`, …) for `provider_inference` (§6.3). */
  dayOutcomes?: Readonly<Record<string, string>>;
  /**
   * Default true. False computes and reports only: no gap clear and no summary/gap/tick-gap/field-quality writes
   * (legacy verification, §6.8, is read-only against the store); the `persist` counters stay 0, and the report goes
   * to `READ_ONLY_VALIDATE_REPORT_STEP`, not over the last validation report.
   */
  persist?: boolean;
}

export type ValidationState = 'ok' | 'warn' | 'error' | 'noop';

export interface ValidationReport extends ValidationSummary {
  state: ValidationState;
  report_uri: string;
  /** Why nothing was validated (`up_to_date`, `up_to_date_after_alignment`); null otherwise. */
  reason: string | null;
  created_at: string;
  job_id: string;
  exchange: string;
  variety: Variety;
  symbol: string;
  derived_symbol: string;
  schedule_hash: string;
  /** First and last validated day (null when nothing was validated). */
  schedule_start: string | null;
  schedule_end: string | null;
  aligned_start: string | null;
  last_validated_day: string | null;
  requested: { start: string | null; end: string | null; incremental: boolean; days: number | null };
  /** Scheduled days in range whose span has not closed yet (18:00 CST): not validated. */
  open_days_excluded: string[];
  l5_rule: L5RuleId;
  gap_threshold_s: number;
  gap_threshold_s_by_session: { day?: number; night?: number };
  strict_ratio: number;
  missing_half_seconds_info_ratio: number;
  missing_half_seconds_block_ratio: number;
  gap_block_gt30: number;
  segments_warn_avg_per_day: number;
  outside_sessions_block_s: number;
  source_blocking: boolean;
  source_missing_days_tolerance: number;
  invariant_block_rate: number;
  policy: ValidationPolicy;
  policy_sources: PolicySources;
  /** `shipped+provider` once the schedule job appended versions observed from the provider (§3.2). */
  sessions: { source: 'shipped' | 'shipped+provider'; versions: SessionVersion[] };
  config_snapshot: { values: ReturnType<SettingsSnapshot['toJSON']>; config_hash: string };
  persist: {
    gap_rows_cleared: number;
    summary_rows_upserted: number;
    gap_rows_inserted: number;
    tick_gap_rows_upserted: number;
    field_quality_rows_upserted: number;
    batches: number;
  };
}

/** `main_l5_validate <step> persist failed: <cause>` (§6.6); the run stops there. */
function persistError(step: string, table: string, err: unknown): DataChainError {
  const cause = err instanceof Error ? err.message : String(err);
  return new DataChainError('main_l5_validate_persist_failed', `main_l5_validate ${step} persist failed: ${cause}`, {
    cause: err,
    details: { step, table },
  });
}

type GapSupersedingStore = TickStore & {
  supersedeGapRows?: (symbol: string, days: readonly string[]) => Promise<number>;
};

export interface LockHandle {
  lease: Lease | null;
  renewedAt: number;
}

/** §6.1: refuse when a live owner other than this job holds the key, else acquire (waiting, never preempting). */
async function acquireLock(
  deps: Pick<ValidateDeps, 'locks'>,
  key: string,
  symbol: string,
  jobId: string,
  waitS: number,
): Promise<LockHandle> {
  const holder = await deps.locks.holder(key);
  if (holder !== null && holder.owner !== jobId) throw new MainL5BuildInProgressError(symbol, holder.owner);
  if (holder !== null) return { lease: null, renewedAt: performance.now() } satisfies LockHandle;
  const owner = { ownerId: jobId, host: hostname(), pid: process.pid };
  const deadline = performance.now() + waitS * 1000;
  for (;;) {
    const r = await deps.locks.acquire(key, owner, LEASE_MS);
    if (r.ok) return { lease: r.leases[0] ?? null, renewedAt: performance.now() } satisfies LockHandle;
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw new MainL5BuildInProgressError(symbol, r.conflicts[0]?.owner ?? 'unknown');
    await sleep(Math.min(LOCK_POLL_MS, remaining));
  }
}

async function renewIfDue(deps: ValidateDeps, h: LockHandle): Promise<void> {
  if (h.lease === null || performance.now() - h.renewedAt < LEASE_MS / 2) return;
  h.lease = await deps.locks.renew(h.lease, LEASE_MS);
  h.renewedAt = performance.now();
}

interface StoredScheduleDay extends ScheduleRow {
  schedule_hash: string;
}

function scheduleRowsOf(rows: readonly Row[]): StoredScheduleDay[] {
  return rows
    .map((r) => ({
      trading_day: String(r.trading_day),
      main_contract: String(r.main_contract),
      segment_id: Number(r.segment_id),
      schedule_hash: r.schedule_hash === null ? '' : String(r.schedule_hash),
    }))
    .sort((a, b) => (a.trading_day < b.trading_day ? -1 : a.trading_day > b.trading_day ? 1 : 0));
}

/** The versions of `history` (ascending) in effect on some day of `[first, last]`. */
function sessionVersionsFor(
  history: readonly SessionVersion[],
  first: string | null,
  last: string | null,
): SessionVersion[] {
  const versions = history;
  if (first === null || last === null) return [];
  return versions
    .filter((v, i) => {
      const next = versions[i + 1];
      return v.effective_from <= last && (next === undefined || next.effective_from > first);
    })
    .map((v) => structuredClone(v));
}

const EMPTY_DAY: TickDayValues = {
  datetimeNs: new BigInt64Array(0),
  rowHash: new BigInt64Array(0),
  values: Array.from({ length: 27 }, () => new Float64Array(0)),
};

/**
 * Run validation (§6). Throws `MainL5BuildInProgressError` when the build holds the symbol's lock, `DataChainError`
 * for schedule problems (`mixed schedule_hash`, none), preflight failures (`main_l5_validate preflight failed`) and
 * persistence failures (`main_l5_validate <step> persist failed`). Returns the written report.
 */
export async function runValidation(deps: ValidateDeps, req: ValidateRequest): Promise<ValidationReport> {
  const { log } = deps;
  const symbol = continuousSymbol(req.variety);
  const snapshot = new SettingsSnapshot();
  const waitS = snapshot.record(LOCK_WAIT_SETTING.key, resolveNumber(deps.settings, LOCK_WAIT_SETTING));
  return underBuildReadLock(
    { locks: deps.locks, log },
    { symbol, jobId: req.jobId, waitS, step: 'main_l5_validate', held: req.heldBuildLockOwner !== undefined },
    (handle) => validateLocked(deps, req, symbol, snapshot, handle),
  );
}

/** How long validation (and verification, field quality) waits for the build lock. */
export const LOCK_WAIT_SETTING = {
  key: 'GHTRADER_MAIN_L5_VALIDATE_LOCK_WAIT_TIMEOUT_S',
  default: 3,
  min: 0.1,
} as const;

/**
 * Run `fn` holding `main_l5:symbol=<symbol>` taken as validation takes it (§6.1): a live holder other than this job
 * refuses (`MainL5BuildInProgressError`), a free or expiring lock is waited for up to `waitS`, never preempted; released
 * afterwards. `held`: the caller already holds it (the build's own validation gate). Used by validation, legacy
 * verification (§6.8) and field quality (§6.4).
 */
export async function underBuildReadLock<T>(
  deps: { locks: LockStore; log: Logger },
  o: { symbol: string; jobId: string; waitS: number; step: string; held?: boolean },
  fn: (handle: LockHandle) => Promise<T>,
): Promise<T> {
  const lockKey = mainL5LockKey(o.symbol);
  const handle: LockHandle = o.held
    ? { lease: null, renewedAt: performance.now() }
    : await acquireLock(deps, lockKey, o.symbol, o.jobId, o.waitS);
  try {
    return await fn(handle);
  } finally {
    if (handle.lease !== null) {
      const released = await deps.locks.release(handle.lease);
      if (!released) deps.log.warn({ key: lockKey, job_id: o.jobId }, `${o.step}.lock_already_lost`);
    }
  }
}

async function validateLocked(
  deps: ValidateDeps,
  req: ValidateRequest,
  symbol: string,
  snapshot: SettingsSnapshot,
  handle: LockHandle,
): Promise<ValidationReport> {
  const { store, calendar, log } = deps;
  const variety = req.variety;
  const startedMs = deps.clock.nowMs();
  const updatedAt = msToMicros(startedMs);
  const rule: L5RuleId = req.l5Rule ?? L5_RULE;
  const { policy, policy_sources } = resolveValidationPolicy(
    deps.settings,
    variety,
    {
      ...(req.gapThresholdS === undefined ? {} : { gapThresholdS: req.gapThresholdS }),
      ...(req.strictRatio === undefined ? {} : { strictRatio: req.strictRatio }),
      ...(req.maxSegmentsPerDay === undefined ? {} : { maxSegmentsPerDay: req.maxSegmentsPerDay }),
    },
    snapshot,
  );
  const providerEnabled = req.providerCheck ?? policy.tq_check;
  const provider = emptyProviderCheck(providerEnabled, policy.tq_check_max_days, policy.tq_check_max_segments);
  if (providerEnabled && deps.market === undefined) {
    provider.enabled = false;
    provider.error = 'no market data source configured';
  }

  // ---- §6.1 day set
  const allSchedule = scheduleRowsOf(await store.readRows(TABLES.mainSchedule.name, { exchange: EXCHANGE, variety }));
  const inRange = allSchedule.filter(
    (r) =>
      (req.start === undefined || r.trading_day >= req.start) && (req.end === undefined || r.trading_day <= req.end),
  );
  if (inRange.length === 0) {
    throw new DataChainError(
      'main_l5_validate_no_schedule',
      `main_l5_validate: no schedule rows for ${EXCHANGE}.${variety} in [${req.start ?? '…'}, ${req.end ?? '…'}]; run ghtrader data schedule --var ${variety} first`,
      { details: { variety, start: req.start ?? null, end: req.end ?? null } },
    );
  }
  const hashes = [...new Set(inRange.map((r) => r.schedule_hash))].sort();
  if (hashes.length > 1) {
    throw new DataChainError(
      'mixed_schedule_hash',
      `main_l5_validate mixed schedule_hash in schedule rows of ${EXCHANGE}.${variety}: [${hashes.join(', ')}]`,
      { details: { variety, hashes } },
    );
  }
  const scheduleHash = hashes[0] ?? '';
  const compatible = new Set([scheduleHash, ...schedulePrefixHashes(allSchedule)]);
  const contractOf = new Map(inRange.map((r) => [r.trading_day, r.main_contract]));
  // A day is validated once its span has closed (18:00 CST of D) on the wall clock and the provider's, as it is built
  // (main-l5.ts): a day still trading has no complete data yet and would read as missing or gapped.
  const wallNs = BigInt(deps.clock.nowMs()) * 1_000_000n;
  const providerNs = deps.marketNow ? await deps.marketNow() : wallNs;
  const horizonNs = providerNs < wallNs ? providerNs : wallNs;
  const openDays = inRange.map((r) => r.trading_day).filter((d) => tradingDayEndNs(calendar, d) > horizonNs);
  let days = inRange.map((r) => r.trading_day).filter((d) => tradingDayEndNs(calendar, d) <= horizonNs);
  const incremental = req.incremental === true && req.start === undefined && req.days === undefined;

  // §3.2: the shipped session history plus the versions the schedule job appended from the provider.
  const sessionHistory = await loadSessionHistory(deps.artifacts, variety);
  const base = {
    symbol,
    variety,
    scheduleHash,
    policy,
    policy_sources,
    snapshot,
    provider,
    rule,
    req,
    startedMs,
    sessionHistory,
    openDays,
  };

  let lastValidated: string | null = null;
  if (incremental) {
    const summaries = await store.readRows(TABLES.validateSummary.name, { symbol });
    for (const r of summaries) {
      const day = String(r.trading_day);
      const h = r.schedule_hash === null ? '' : String(r.schedule_hash);
      if (compatible.has(h) && (lastValidated === null || day > lastValidated)) lastValidated = day;
    }
    if (lastValidated !== null) {
      const after = lastValidated;
      days = days.filter((d) => d > after);
      if (days.length === 0) {
        return finishNoop(deps, base, 'up_to_date', { aligned: null, lastValidated, first: null, last: after });
      }
    }
  }

  const provenance = await store.dayProvenance(TABLES.ticksMainL5.name, symbol);
  let firstNs: bigint | null = null;
  for (const p of provenance) if (firstNs === null || p.first_datetime_ns < firstNs) firstNs = p.first_datetime_ns;
  const alignedStart = firstNs === null ? null : tradingDayOf(calendar, firstNs, EXCHANGE, variety).trading_day;
  const start = [alignedStart, req.start]
    .filter((d): d is string => d !== undefined && d !== null)
    .sort()
    .at(-1);
  if (start !== undefined) days = days.filter((d) => d >= start);
  if (req.days !== undefined) {
    const wanted = new Set(req.days);
    days = days.filter((d) => wanted.has(d));
  }
  if (days.length === 0) {
    if (req.incremental === true) {
      return finishNoop(deps, base, 'up_to_date_after_alignment', {
        aligned: alignedStart,
        lastValidated,
        first: null,
        last: null,
      });
    }
    throw new DataChainError(
      'main_l5_validate_no_days',
      `main_l5_validate: no schedule days of ${symbol} left to validate after alignment (aligned_start=${alignedStart ?? 'none'}, start=${req.start ?? 'none'}, still trading: [${openDays.join(', ')}])`,
      { details: { symbol, aligned_start: alignedStart, start: req.start ?? null, open_days: openDays } },
    );
  }

  // ---- §6.1 step 4 preflight
  try {
    for (const t of [TABLES.validateSummary, TABLES.validateGaps, TABLES.tickGaps, TABLES.fieldQuality]) {
      await store.assertRequiredColumns(t);
      await store.countByDay(t.name, symbol, days);
    }
    await store.assertRequiredColumns(TABLES.ticksMainL5);
  } catch (err) {
    throw new DataChainError(
      'main_l5_validate_preflight_failed',
      `main_l5_validate preflight failed: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }

  log.info(
    {
      symbol,
      days: days.length,
      first: days[0],
      last: days.at(-1),
      incremental,
      provider_check: provider.enabled,
      schedule_hash: scheduleHash,
    },
    'main_l5_validate.start',
  );

  // ---- §6.6 step 1: clear this range's gap rows before any write
  const persist = {
    gap_rows_cleared: 0,
    summary_rows_upserted: 0,
    gap_rows_inserted: 0,
    tick_gap_rows_upserted: 0,
    field_quality_rows_upserted: 0,
    batches: 0,
  };
  const superseding = store as GapSupersedingStore;
  const persisting = req.persist !== false;
  try {
    if (persisting) {
      persist.gap_rows_cleared =
        store.kind === 'questdb' && typeof superseding.supersedeGapRows === 'function'
          ? await superseding.supersedeGapRows(symbol, days)
          : await store.deleteRows(TABLES.validateGaps.name, { symbol, tradingDays: days });
    }
  } catch (err) {
    throw new DataChainError(
      'main_l5_validate_persist_failed',
      `main_l5_validate gaps clear failed: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err, details: { step: 'gaps_clear', table: TABLES.validateGaps.name } },
    );
  }

  // ---- §6.3/§6.4 per day, §6.6 step 2 batches of 100 days
  const withRows = new Set(provenance.filter((p) => p.rows > 0).map((p) => p.trading_day));
  // Two sets of read buffers, alternating: one day is computed while the next is read into the other set.
  const buffers = [new TickReadBuffers(), new TickReadBuffers()] as const;
  const readDay = (i: number): Promise<TickDayValues> => {
    const day = days[i] as string;
    return withRows.has(day)
      ? store.readTickValues(TABLES.ticksMainL5.name, symbol, day, buffers[i % 2])
      : Promise.resolve(EMPTY_DAY);
  };
  const totals = new ValidationTotals();
  const batch = { days: 0, summary: [] as Row[], gaps: [] as Row[], tickGaps: [] as Row[], quality: [] as Row[] };
  const write = async (step: string, table: string, rows: Row[]): Promise<number> => {
    if (rows.length === 0 || !persisting) return 0;
    try {
      return await store.writeRows(table, rows);
    } catch (err) {
      throw persistError(step, table, err);
    }
  };
  const flush = async (): Promise<void> => {
    if (batch.days === 0) return;
    persist.summary_rows_upserted += await write('summary', TABLES.validateSummary.name, batch.summary);
    persist.gap_rows_inserted += await write('gaps', TABLES.validateGaps.name, batch.gaps);
    persist.tick_gap_rows_upserted += await write('tick_gaps', TABLES.tickGaps.name, batch.tickGaps);
    persist.field_quality_rows_upserted += await write('field_quality', TABLES.fieldQuality.name, batch.quality);
    if (persisting) persist.batches++;
    batch.days = 0;
    batch.summary = [];
    batch.gaps = [];
    batch.tickGaps = [];
    batch.quality = [];
  };
  const dayOpts = {
    strictRatio: policy.strict_ratio,
    gapThresholdS: policy.gap_threshold_s,
    gapThresholdBySession: policy.gap_threshold_s_by_session,
    maxSegmentsPerDay: policy.max_segments_per_day,
  };

  let next: Promise<TickDayValues> | null = readDay(0);
  for (let i = 0; i < days.length; i++) {
    const day = days[i] as string;
    const ticks = await (next as Promise<TickDayValues>);
    // Read the next day while this one is computed.
    next = i + 1 < days.length ? readDay(i + 1) : null;
    next?.catch(() => undefined); // awaited on the next iteration; avoid an unhandled rejection meanwhile
    await renewIfDue(deps, handle);

    const plan = sessionPlan(calendar, day, variety, tradingTimeAt(sessionHistory, day));
    if (plan.windows.length === 0) continue;
    const n = ticks.datetimeNs.length;
    const mask = l5RowMask(ticks.values, n, rule);
    const times = tickTimes(ticks.datetimeNs);
    const stats = computeDayStats(plan.windows, secondCounts(times.secs, mask), dayOpts);
    const intervals = inSessionIntervals(times.secs, times.relNs, mask, plan.windows);
    const quality = computeFieldQuality(ticks.values, n);
    const underlying = contractOf.get(day) ?? '';

    if (
      provider.enabled &&
      deps.market !== undefined &&
      stats.segments.length > 0 &&
      provider.checked_days < provider.max_days
    ) {
      await checkWithProvider(deps.market, provider, underlying, day, stats.segments, rule, log);
    }

    totals.add({
      trading_day: day,
      underlying_contract: underlying,
      stats,
      field_quality: quality,
      applied_events: plan.applied_events,
      holiday_night_skipped: plan.night_dropped === 'holiday_gap',
      provider_inference: providerInference(req.dayOutcomes?.[day]),
    });
    const ctx = { symbol, trading_day: day, schedule_hash: scheduleHash, updated_at: updatedAt };
    batch.summary.push(summaryRow(ctx, stats));
    batch.gaps.push(...gapRows(ctx, stats.segments));
    batch.tickGaps.push(tickGapRow(ctx, stats, intervals));
    batch.quality.push(fieldQualityRow(ctx, quality));
    batch.days++;
    if (batch.days >= PERSIST_BATCH_DAYS) await flush();
  }
  await flush();

  const summary = totals.report(policy, provider);
  const validated = days;
  const report = await finishReport(deps, base, summary, {
    state: summary.overall_state,
    reason: null,
    aligned: alignedStart,
    lastValidated,
    first: validated[0] ?? null,
    last: validated.at(-1) ?? null,
    persist,
  });
  log.info(
    {
      symbol,
      checked_days: report.checked_days,
      missing_days: report.missing_days,
      overall_state: report.overall_state,
      reason_code: report.reason_code,
      report_uri: report.report_uri,
      persist,
    },
    'main_l5_validate.done',
  );
  return report;
}

/** §6.3 provider check of one day's segments: errors are counted and sampled, never raised. */
async function checkWithProvider(
  market: MarketDataSource,
  provider: ProviderCheckSummary,
  underlying: string,
  day: string,
  segments: Parameters<typeof markSegments>[0],
  rule: L5RuleId,
  log: Logger,
): Promise<void> {
  try {
    if (underlying === '') throw new DataChainError('main_l5_validate_no_underlying', `no main contract for ${day}`);
    const ns: bigint[] = [];
    for await (const page of market.downloadTicks(underlying, day.replaceAll('-', ''))) {
      for (const row of page) if (isL5Record(row, rule)) ns.push(row.datetime);
    }
    const r = markSegments(segments, ns, provider.max_segments);
    provider.checked_days++;
    provider.checked_segments += r.checked;
    provider.provider_missing_segments += r.provider_missing;
    provider.provider_has_data_segments += r.provider_has_data;
  } catch (err) {
    provider.errors++;
    const message = err instanceof Error ? err.message : String(err);
    if (provider.error_samples.length < SAMPLE_ERRORS)
      provider.error_samples.push({ trading_day: day, error: message });
    log.warn({ trading_day: day, underlying, err: describeError(err) }, 'main_l5_validate.provider_check_failed');
  }
}

interface ReportBase {
  symbol: string;
  variety: Variety;
  scheduleHash: string;
  policy: ValidationPolicy;
  policy_sources: PolicySources;
  snapshot: SettingsSnapshot;
  provider: ProviderCheckSummary;
  rule: L5RuleId;
  req: ValidateRequest;
  startedMs: number;
  sessionHistory: SessionVersion[];
  openDays: string[];
}

async function finishReport(
  deps: ValidateDeps,
  b: ReportBase,
  summary: ValidationSummary,
  extra: {
    state: ValidationState;
    reason: string | null;
    aligned: string | null;
    lastValidated: string | null;
    first: string | null;
    last: string | null;
    persist: ValidationReport['persist'];
  },
): Promise<ValidationReport> {
  const atMs = deps.clock.nowMs();
  const p = b.policy;
  const report: ValidationReport = {
    ...summary,
    state: extra.state,
    report_uri: deps.artifacts.uri(reportKey(reportStepOf(b.req), b.symbol, atMs, b.req.jobId)),
    reason: extra.reason,
    created_at: new Date(atMs).toISOString(),
    job_id: b.req.jobId,
    exchange: EXCHANGE,
    variety: b.variety,
    symbol: b.symbol,
    derived_symbol: b.symbol,
    schedule_hash: b.scheduleHash,
    schedule_start: extra.first,
    schedule_end: extra.last,
    aligned_start: extra.aligned,
    last_validated_day: extra.lastValidated,
    open_days_excluded: b.openDays,
    requested: {
      start: b.req.start ?? null,
      end: b.req.end ?? null,
      incremental: b.req.incremental === true,
      days: b.req.days === undefined ? null : b.req.days.length,
    },
    l5_rule: b.rule,
    gap_threshold_s: p.gap_threshold_s,
    gap_threshold_s_by_session: { ...p.gap_threshold_s_by_session },
    strict_ratio: p.strict_ratio,
    missing_half_seconds_info_ratio: p.missing_half_info_ratio,
    missing_half_seconds_block_ratio: p.missing_half_block_ratio,
    gap_block_gt30: p.gap_block_gt30,
    segments_warn_avg_per_day: p.segments_warn_avg_per_day,
    outside_sessions_block_s: p.outside_sessions_block_s,
    source_blocking: p.source_blocking,
    source_missing_days_tolerance: p.source_missing_days_tolerance,
    invariant_block_rate: p.invariant_block_rate,
    policy: p,
    policy_sources: b.policy_sources,
    sessions: {
      source: b.sessionHistory.length > DEFAULT_SESSION_VERSIONS[b.variety].length ? 'shipped+provider' : 'shipped',
      versions: sessionVersionsFor(b.sessionHistory, extra.first, extra.last),
    },
    config_snapshot: { values: b.snapshot.toJSON(), config_hash: b.snapshot.hash() },
    persist: extra.persist,
  };
  const uri = await writeReport(deps.artifacts, reportStepOf(b.req), b.symbol, atMs, b.req.jobId, report);
  report.report_uri = uri;
  return report;
}

/** §6.1: the no-op report (`ok=true`, `state="noop"`, every layer `ok`, `noop_up_to_date`, zero counters). */
async function finishNoop(
  deps: ValidateDeps,
  b: ReportBase,
  reason: 'up_to_date' | 'up_to_date_after_alignment',
  at: { aligned: string | null; lastValidated: string | null; first: string | null; last: string | null },
): Promise<ValidationReport> {
  const zero = new ValidationTotals().report(b.policy, b.provider);
  const code: ReasonCode = 'noop_up_to_date';
  deps.log.info({ symbol: b.symbol, reason, last_validated_day: at.lastValidated }, 'main_l5_validate.noop');
  return finishReport(
    deps,
    b,
    {
      ...zero,
      ok: true,
      engineering_state: 'ok',
      policy_state: 'ok',
      source_state: 'ok',
      overall_state: 'ok',
      reason_code: code,
      action_hint: ACTION_HINTS[code],
    },
    {
      state: 'noop',
      reason,
      aligned: at.aligned,
      lastValidated: at.lastValidated,
      first: at.first,
      last: at.last,
      persist: {
        gap_rows_cleared: 0,
        summary_rows_upserted: 0,
        gap_rows_inserted: 0,
        tick_gap_rows_upserted: 0,
        field_quality_rows_upserted: 0,
        batches: 0,
      },
    },
  );
}
