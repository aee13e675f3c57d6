/**
 * The main_l5 build (data-chain §5) as three job handlers:
 * - `data.main_l5` plans: pins the schedule, takes the build lock `main_l5:symbol=<alias>` (owner = this job; it
 *   outlives this job: children renew it, finalize releases it), decides update vs full rebuild, groups the missing
 *   days into batches and hands out the first `max_concurrency` of them as `data.main_l5.day_batch` children.
 * - a day batch downloads, filters (true L5), trims (sessions) and writes its days one atomic write per day, records
 *   one outcome per day, takes the next unstarted batch (so at most `max_concurrency` run), counts itself done once,
 *   and the child that brings the pending count to 0 enqueues finalize. A maintenance error never sleeps in the
 *   handler: the batch continues in a new child enqueued with a delay (§5.5 step 3).
 * - `data.main_l5.finalize`: coverage, health, the validation gate, daily aggregates, the builds row, the report.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { type Lease, mainL5LockKey } from '../../domain/control/locks.ts';
import { writeReport } from '../../domain/data/artifacts.ts';
import { newBuildId } from '../../domain/data/main-l5/build-id.ts';
import { computeBuildHealth, healthFailureMessage, validationGateError } from '../../domain/data/main-l5/finalize.ts';
import { L5_RULE } from '../../domain/data/main-l5/l5-rule.ts';
import {
  circuitOpen,
  classifyProviderError,
  type DayOutcome,
  type DayOutcomeReason,
  DayOutcomeSchema,
  makeDayOutcome,
  onProviderError,
} from '../../domain/data/main-l5/outcomes.ts';
import { decideMode, planBatches } from '../../domain/data/main-l5/plan.ts';
import { type MainL5Settings, resolveMainL5Settings } from '../../domain/data/main-l5/settings.ts';
import { type ShapeCounts, shapeDayAsync } from '../../domain/data/main-l5/shape.ts';
import { schedulePrefixHashes } from '../../domain/data/schedule.ts';
import { SettingsSnapshot } from '../../domain/data/settings.ts';
import { TABLES } from '../../domain/data/tick-columns.ts';
import { dayTsMicros, msToMicros, type Row, TickStoreVerifyError } from '../../domain/data/tick-store.ts';
import { cstMidnightNs } from '../../domain/market/cst.ts';
import { tradingTimeAt } from '../../domain/market/sessions.ts';
import type { Variety } from '../../domain/market/varieties.ts';
import { describeError } from '../../errors/base.ts';
import { DataChainError, DataIntegrityError } from '../../errors/data.ts';
import { abortableSleep, type JobContext } from '../job-handlers.ts';
import type { RequestContext } from '../job-service.ts';
import type { BuildItem } from './build-items.ts';
import { type DataContext, loadDataCalendar, type SessionLease, validateDeps } from './context.ts';
import { loadMainSchedule } from './schedule.ts';
import { loadSessionHistory } from './sessions.ts';
import { runValidation } from './validate.ts';

const TICKS = TABLES.ticksMainL5;
const DAILY_AGG = TABLES.dailyAgg;
const BUILDS = TABLES.mainL5Builds;
/** A trading day's span ends at 18:00 CST of the day (§5.2). */
const SPAN_END_NS = 18n * 3_600_000_000_000n;
const EXCHANGE = 'SHFE';
/**
 * Lease of the build lock; children renew it at start and after every day. It outlasts SQS's longest delay (900 s),
 * so a batch waiting out a maintenance window (re-delayed in ≤ 900 s steps, renewing on each wake-up) keeps it; a
 * build that died holds it at most this long.
 */
export const BUILD_LOCK_LEASE_MS = 30 * 60_000;

export const aliasOf = (variety: Variety) => `KQ.m@${EXCHANGE}.${variety}`;
export const buildLockKey = (variety: Variety) => mainL5LockKey(aliasOf(variety));

export class MainL5BuildError extends DataChainError {}

const systemCtx = (jobId: string): RequestContext => ({
  actor: { actor: `job:${jobId}`, role: 'admin' },
  requestId: `job-${jobId}`,
  actorType: 'system',
});

function owner(jobId: string) {
  return { ownerId: jobId, host: os.hostname(), pid: process.pid };
}

const outcomeKey = (buildId: string, day: string) => `builds/main_l5/${buildId}/outcomes/${day}.json`;

// ---------------------------------------------------------------------------------------------------------------
// Plan (job data.main_l5)

export interface PlanParams {
  var: Variety;
  full_rebuild: boolean;
  days_per_job?: number | undefined;
  max_concurrency?: number | undefined;
}

export interface PlanResult {
  build_id: string;
  derived_symbol: string;
  schedule_hash: string;
  mode: 'update' | 'full_rebuild';
  warnings: string[];
  jobs_total: number;
  days_total: number;
  rows_deleted: number;
  status: 'building' | 'finalizing';
}

export async function planMainL5(ctx: DataContext, p: PlanParams, job: JobContext): Promise<PlanResult> {
  const variety = p.var;
  const alias = aliasOf(variety);
  const nowMs = ctx.clock.nowMs();
  const schedule = await loadMainSchedule(ctx.store, variety);
  if (!schedule) {
    throw new MainL5BuildError(
      'main_schedule_not_found',
      `no schedule for ${variety}: run ghtrader data schedule --var ${variety} first`,
    );
  }
  const snapshot = new SettingsSnapshot();
  const s = resolveMainL5Settings(ctx.settings, variety, snapshot);
  const daysPerJob = p.days_per_job ?? s.daysPerJob;
  const maxConcurrency = p.max_concurrency ?? s.maxConcurrency;
  const prefix = schedulePrefixHashes(schedule.rows);

  const got = await ctx.locks.acquire(buildLockKey(variety), owner(job.jobId), BUILD_LOCK_LEASE_MS);
  if (!got.ok) {
    const h = got.conflicts[0];
    throw new MainL5BuildError(
      'main_l5_build_in_progress',
      `main-l5 build in progress for ${alias} (job_id=${h?.owner ?? '?'}, host ${h?.host ?? '?'}, pid ${h?.pid ?? '?'}). Please retry after it finishes.`,
    );
  }
  const lease = got.leases[0] as Lease;
  let created = false;
  try {
    const stored = await ctx.store.dayProvenance(TICKS.name, alias);
    const decision = decideMode({ fullRebuild: p.full_rebuild, stored, prefixHashes: prefix });
    let deleted = 0;
    if (decision.mode === 'full_rebuild' && stored.length > 0) {
      // §5.1 step 2 / §1.4: that symbol only, ticks and its daily aggregates.
      deleted = await ctx.store.deleteRows(TICKS.name, { symbol: alias, lockOwner: lease.ownerId });
      await ctx.store.deleteRows(DAILY_AGG.name, { symbol: alias, lockOwner: lease.ownerId });
    }
    // A day is built once its span has closed (18:00 CST of D, §5.2) on both the wall and the provider's clock: a
    // day still trading would be stored partially and never revisited by update mode. Later days wait for the
    // next update; they are not expected by this build.
    const market = await ctx.market.get();
    const nowNs = BigInt(nowMs) * 1_000_000n;
    const providerNs = (await market.marketNow?.()) ?? nowNs;
    const horizonNs = providerNs < nowNs ? providerNs : nowNs;
    const buildable = schedule.rows.filter((r) => cstMidnightNs(r.trading_day) + SPAN_END_NS <= horizonNs);
    const lastBuildable = buildable[buildable.length - 1]?.trading_day ?? '';
    const batches = planBatches(buildable, decision.storedDays, daysPerJob);
    const buildId = newBuildId(randomUUID);
    const item: Omit<BuildItem, 'job_id'> = {
      build_id: buildId,
      symbol: alias,
      variety,
      parent_job_id: job.jobId,
      mode: decision.mode,
      schedule_hash: schedule.schedule_hash,
      prefix_hashes: prefix,
      warnings: decision.warning ? [decision.warning] : [],
      batches,
      batches_total: batches.length,
      next_batch: 0,
      children_total: batches.length,
      children_pending: batches.length,
      children_failed: 0,
      circuit_failures: 0,
      circuit_open_until: 0,
      lock: lease,
      settings: settingsValues(s),
      config_snapshot: snapshot.toJSON(),
      config_hash: snapshot.hash(),
      created_at_ms: nowMs,
      deadline_ms: nowMs + s.buildDeadlineS * 1000,
      status: 'building',
      last_buildable_day: lastBuildable,
    };
    await ctx.builds.create(item);
    created = true;
    job.log.info({ build_id: buildId, mode: decision.mode, batches: batches.length }, 'main_l5.planned');
    if (batches.length === 0) {
      await enqueueFinalize(ctx, variety, buildId, job.jobId);
    } else {
      for (let i = 0; i < Math.min(maxConcurrency, batches.length); i++) {
        const index = await ctx.builds.claimNextBatch(buildId);
        if (index === null) break;
        await submitChild(ctx, variety, buildId, index, job.jobId);
      }
    }
    return {
      build_id: buildId,
      derived_symbol: alias,
      schedule_hash: schedule.schedule_hash,
      mode: decision.mode,
      warnings: item.warnings,
      jobs_total: batches.length,
      days_total: batches.reduce((n, b) => n + b.days.length, 0),
      rows_deleted: deleted,
      status: batches.length === 0 ? 'finalizing' : 'building',
    };
  } catch (err) {
    // Nothing was handed out: do not leave the lock held until its lease lapses.
    if (!created) await ctx.locks.release(lease);
    throw err;
  }
}

function settingsValues(s: MainL5Settings): Record<string, unknown> {
  const { sources: _s, keys: _k, config_snapshot: _c, config_hash: _h, ...values } = s;
  return values;
}

async function submitChild(
  ctx: DataContext,
  variety: Variety,
  buildId: string,
  batchIndex: number,
  byJob: string,
  cont: {
    cursor: number;
    maintenance_attempts: number;
    waited_s: number;
    not_before_ms: number;
    continuation: number;
  } = {
    cursor: 0,
    maintenance_attempts: 0,
    waited_s: 0,
    not_before_ms: 0,
    continuation: 0,
  },
  delayS = 0,
): Promise<string> {
  const r = await ctx.jobs.submit(
    { kind: 'data.main_l5.day_batch', params: { var: variety, build_id: buildId, batch_index: batchIndex, ...cont } },
    systemCtx(byJob),
    { internal: true, delayS },
  );
  return r.job.job_id;
}

/** What enqueueing a build's finalize needs: the coordination item and the job service. */
type FinalizeEnqueuer = Pick<DataContext, 'builds' | 'jobs'>;

async function enqueueFinalize(ctx: FinalizeEnqueuer, variety: Variety, buildId: string, byJob: string): Promise<void> {
  if (!(await ctx.builds.claimFinalize(buildId, `by:${byJob}`))) return;
  const r = await ctx.jobs.submit(
    { kind: 'data.main_l5.finalize', params: { var: variety, build_id: buildId } },
    systemCtx(byJob),
    { internal: true },
  );
  await ctx.builds.setFinalizeJob(buildId, r.job.job_id);
}

// ---------------------------------------------------------------------------------------------------------------
// Day batch (job data.main_l5.day_batch)

export interface DayBatchParams {
  var: Variety;
  build_id: string;
  batch_index: number;
  cursor: number;
  maintenance_attempts: number;
  waited_s: number;
  not_before_ms: number;
  continuation: number;
}

export interface DayBatchResult {
  build_id: string;
  batch_index: number;
  days: { day: string; class: string; reason: string | null; rows_written: number }[];
  continued_as?: string;
  pending_after?: number | null;
  skipped?: string;
}

export async function runDayBatch(ctx: DataContext, p: DayBatchParams, job: JobContext): Promise<DayBatchResult> {
  const item = await ctx.builds.require(p.build_id);
  const result: DayBatchResult = { build_id: p.build_id, batch_index: p.batch_index, days: [] };
  if (item.status !== 'building') {
    result.skipped = `build is ${item.status}`;
    return result;
  }
  const batch = item.batches[p.batch_index];
  if (!batch) throw new MainL5BuildError('main_l5_batch_unknown', `build ${p.build_id} has no batch ${p.batch_index}`);
  const s = item.settings as unknown as MainL5Settings;
  const childKey = `${p.batch_index}#${p.continuation}`;
  const variety = p.var;
  const calendar = await loadDataCalendar(ctx.artifacts);
  // §3.2: the session trim uses the shipped history plus the versions the schedule job observed from the provider.
  const sessionHistory = await loadSessionHistory(ctx.artifacts, variety);
  await renewBuildLock(ctx, item);

  // An early message (maintenance wait longer than SQS's 900 s delay) re-delays itself without calling the provider.
  const waitMs = p.not_before_ms - ctx.clock.nowMs();
  if (waitMs > 0) {
    result.continued_as = await continueLater(
      ctx,
      p,
      p.cursor,
      p.maintenance_attempts,
      p.waited_s,
      p.not_before_ms,
      job,
    );
    result.pending_after = await ctx.builds.childDone(p.build_id, childKey, false);
    return result;
  }

  try {
    for (let i = p.cursor; i < batch.days.length; i++) {
      const day = batch.days[i] as string;
      let attempts = 0;
      let state = {
        attempts: 0,
        maintenanceAttempts: i === p.cursor ? p.maintenance_attempts : 0,
        waitedS: i === p.cursor ? p.waited_s : 0,
      };
      let outcome: DayOutcome | null = null;
      const base = {
        day,
        underlying_contract: batch.underlying_contract,
        segment_id: batch.segment_id,
        schedule_hash: item.schedule_hash,
      };
      const finish = (
        reason: DayOutcomeReason | null,
        counts: Partial<ShapeCounts>,
        extra: {
          rows_written?: number;
          error?: unknown;
          circuit_open_until_ms?: number;
          circuit_failures?: number;
        } = {},
      ): DayOutcome =>
        makeDayOutcome({
          ...base,
          reason,
          counts,
          attempts,
          wait_total_s: state.waitedS,
          now_ms: ctx.clock.nowMs(),
          ...extra,
        });

      while (outcome === null) {
        job.signal.throwIfAborted();
        const fresh = await ctx.builds.require(p.build_id);
        if (circuitOpen(fresh.circuit_open_until, ctx.clock.nowMs())) {
          outcome = finish(
            'maintenance_circuit_open',
            {},
            {
              circuit_open_until_ms: fresh.circuit_open_until,
              circuit_failures: fresh.circuit_failures,
            },
          );
          break;
        }
        attempts++;
        let shaped: Awaited<ReturnType<typeof shapeDayAsync>>;
        let lease: SessionLease | null = null;
        try {
          lease = await ctx.market.lease();
          shaped = await shapeDayAsync(lease.source.downloadTicks(batch.underlying_contract, day.replaceAll('-', '')), {
            tradingDay: day,
            variety,
            calendar,
            tradingTime: tradingTimeAt(sessionHistory, day),
          });
          await lease.release();
        } catch (err) {
          if (err instanceof DataIntegrityError) {
            await lease?.release();
            // Bad rows (no integer datetime, unhashable): deterministic, so no retry; the day fails (§2.2).
            job.log.error({ day, err: describeError(err) }, 'main_l5.shape_failed');
            outcome = finish('download_failed', {}, { error: err });
            break;
          }
          const kind = classifyProviderError(err);
          const decision = onProviderError(state, kind, s);
          // §5.5: reconnect (a fresh session) unless a timeout-like error is retried before timeout_reset_after.
          await lease?.release({ discard: decision.action !== 'retry' || decision.reconnect });
          job.log.warn({ day, kind, action: decision.action, err: describeError(err) }, 'main_l5.provider_error');
          if (decision.action === 'requeue') {
            await persistOutcomes(ctx, p.build_id, result, []);
            const next = decision.next;
            result.continued_as = await continueLater(
              ctx,
              p,
              i,
              next.maintenanceAttempts,
              next.waitedS,
              ctx.clock.nowMs() + decision.delayS * 1000,
              job,
            );
            result.pending_after = await ctx.builds.childDone(p.build_id, childKey, false);
            return result;
          }
          if (decision.action === 'retry') {
            state = decision.next;
            await abortableSleep(decision.backoffS * 1000, job.signal);
            continue;
          }
          let breaker: { failures: number; openUntilMs: number } | null = null;
          if (decision.countsAsCircuitFailure) {
            breaker = await ctx.builds.recordFailure(p.build_id, ctx.clock.nowMs(), {
              enabled: s.circuitEnabled,
              threshold: s.circuitThreshold,
              cooldownS: s.circuitCooldownS,
            });
          }
          outcome = finish(
            decision.reason,
            {},
            {
              error: err,
              ...(breaker
                ? {
                    circuit_failures: breaker.failures,
                    ...(breaker.openUntilMs > 0 ? { circuit_open_until_ms: breaker.openUntilMs } : {}),
                  }
                : {}),
            },
          );
          break;
        }
        await ctx.builds.recordSuccess(p.build_id, ctx.clock.nowMs());
        const c = shaped.counts;
        if (c.rows_fetched === 0) outcome = finish('provider_empty', c);
        else if (c.rows_l5 === 0) outcome = finish('no_l5_rows', c);
        else if (c.rows_in_session === 0) outcome = finish('no_rows_in_session', c);
        else {
          try {
            const w = await ctx.store.writeDay(TICKS.name, item.symbol, day, {
              ticksKind: 'main_l5',
              datasetVersion: 'v2',
              underlyingContract: batch.underlying_contract,
              segmentId: BigInt(batch.segment_id),
              scheduleHash: item.schedule_hash,
              datetimeNs: shaped.batch.datetimeNs,
              rowHash: shaped.batch.rowHash,
              values: shaped.batch.values,
            });
            outcome = finish(null, c, { rows_written: w.inserted });
          } catch (err) {
            const reason = err instanceof TickStoreVerifyError ? 'readback_mismatch' : 'write_failed';
            job.log.error({ day, err: describeError(err) }, 'main_l5.write_failed');
            outcome = finish(reason, c, { error: err });
          }
        }
      }
      await persistOutcomes(ctx, p.build_id, result, [outcome]);
      await renewBuildLock(ctx, item);
      await job.progress({
        phase: 'days',
        step_idx: i + 1,
        total_steps: batch.days.length,
        message: `${day}: ${outcome.class}`,
      });
    }
  } catch (err) {
    // The last delivery gives up: its days are `not_attempted` at finalize, and the build is not left hanging.
    if (job.attempt >= 3) {
      result.pending_after = await ctx.builds.childDone(p.build_id, childKey, true);
      if (result.pending_after === 0) await enqueueFinalize(ctx, variety, p.build_id, job.jobId);
    }
    throw err;
  }
  // Hand out the next batch before leaving the pending count, so it never reaches 0 while batches remain.
  const next = await ctx.builds.claimNextBatch(p.build_id);
  if (next !== null) await submitChild(ctx, variety, p.build_id, next, job.jobId);
  result.pending_after = await ctx.builds.childDone(p.build_id, childKey, false);
  if (result.pending_after === 0) await enqueueFinalize(ctx, variety, p.build_id, job.jobId);
  return result;
}

async function continueLater(
  ctx: DataContext,
  p: DayBatchParams,
  cursor: number,
  maintenanceAttempts: number,
  waitedS: number,
  notBeforeMs: number,
  job: JobContext,
): Promise<string> {
  await ctx.builds.addPending(p.build_id);
  const delayS = Math.max(0, Math.min(900, Math.ceil((notBeforeMs - ctx.clock.nowMs()) / 1000)));
  return submitChild(
    ctx,
    p.var,
    p.build_id,
    p.batch_index,
    job.jobId,
    {
      cursor,
      maintenance_attempts: maintenanceAttempts,
      waited_s: waitedS,
      not_before_ms: notBeforeMs,
      continuation: p.continuation + 1,
    },
    delayS,
  );
}

async function persistOutcomes(ctx: DataContext, buildId: string, result: DayBatchResult, outcomes: DayOutcome[]) {
  for (const o of outcomes) {
    await ctx.artifacts.put(outcomeKey(buildId, o.day), `${JSON.stringify(o)}\n`);
    result.days.push({ day: o.day, class: o.class, reason: o.reason ?? null, rows_written: o.rows_written });
  }
}

async function renewBuildLock(ctx: DataContext, item: BuildItem): Promise<void> {
  const renewed = await ctx.locks.renew(item.lock, BUILD_LOCK_LEASE_MS);
  await ctx.builds.setLock(item.build_id, renewed);
}

// ---------------------------------------------------------------------------------------------------------------
// Finalize (job data.main_l5.finalize)

export interface FinalizeResult {
  ok: boolean;
  build_id: string;
  derived_symbol: string;
  schedule_hash: string;
  mode: string;
  status: 'promoted' | 'rejected';
  jobs_total: number;
  days_total: number;
  rows_total: number;
  aligned_start: string | null;
  health: { ok: boolean; errors: string[] };
  validation_gate: { state: string; reason_code: string | null };
  report_uri: string;
}

export async function finalizeMainL5(
  ctx: DataContext,
  p: { var: Variety; build_id: string },
  job: JobContext,
): Promise<FinalizeResult> {
  const item = await ctx.builds.require(p.build_id);
  const variety = p.var;
  const alias = item.symbol;
  const s = item.settings as unknown as MainL5Settings;
  const nowMs = ctx.clock.nowMs();
  const lease = await ctx.locks.renew(item.lock, BUILD_LOCK_LEASE_MS);
  try {
    const schedule = await loadMainSchedule(ctx.store, variety);
    const currentPrefix = schedule ? schedulePrefixHashes(schedule.rows) : [];
    const scheduleRows = (schedule?.rows ?? []).filter((r) => r.trading_day <= item.last_buildable_day);
    const outcomes: DayOutcome[] = [];
    for (const key of await ctx.artifacts.list(`builds/main_l5/${p.build_id}/outcomes`)) {
      const body = await ctx.artifacts.get(key);
      if (body) outcomes.push(DayOutcomeSchema.parse(JSON.parse(Buffer.from(body).toString('utf8'))) as DayOutcome);
    }
    const stored = await ctx.store.dayProvenance(TICKS.name, alias);
    const compatible = new Set(item.prefix_hashes);
    const covered = new Set(
      stored.filter((d) => d.rows > 0 && d.schedule_hashes.every((h) => compatible.has(h))).map((d) => d.trading_day),
    );
    const storedHashes = [...new Set(stored.flatMap((d) => d.schedule_hashes))].sort();
    const health = computeBuildHealth({
      scheduleDays: scheduleRows,
      coveredDays: covered,
      firstStoredDay: stored[0]?.trading_day ?? null,
      outcomes,
      tolerance: s.missingDaysTolerance,
      storedHashes,
      prefixHashes: item.prefix_hashes,
      pinnedHash: item.schedule_hash,
      currentPrefixHashes: currentPrefix,
      failedChildren: item.children_failed,
    });
    const errors = [...health.errors];
    const written = outcomes
      .filter((o) => o.class === 'written')
      .map((o) => o.day)
      .sort();

    // §5.6 step 4: the validation gate, under this build's own lock.
    const gate: Record<string, unknown> = {
      enabled: s.enforceHealth,
      checked: false,
      state: null,
      reason_code: null,
      action_hint: null,
      report_uri: null,
      error: null,
    };
    if (s.enforceHealth) {
      if (errors.length > 0) {
        gate.state = 'skipped';
        gate.reason_code = 'preexisting_health_errors';
      } else if (written.length === 0 && item.mode === 'update') {
        gate.state = 'skipped';
        gate.reason_code = 'no_days_written';
      } else {
        try {
          const v = await runValidation(await validateDeps(ctx, job.log), {
            variety,
            jobId: job.jobId,
            heldBuildLockOwner: item.parent_job_id,
            providerCheck: false,
            ...(item.mode === 'update' ? { days: written } : {}),
          });
          Object.assign(gate, {
            checked: true,
            state: v.state,
            reason_code: v.reason_code,
            action_hint: v.action_hint,
            report_uri: v.report_uri,
          });
          if (v.overall_state === 'error') errors.push(validationGateError(v));
        } catch (err) {
          gate.state = 'error';
          gate.error = (err as Error).message;
          errors.push(`validation_runtime_error: ${(err as Error).message}`);
        }
      }
    }

    // §5.6 step 5: daily aggregates of the written days (dashboards only, never health).
    const dailyAgg = { enabled: s.dailyAggAutoRefresh, attempted: false, ok: false, state: 'disabled_by_config' };
    if (s.dailyAggAutoRefresh) {
      if (errors.length > 0) dailyAgg.state = 'skipped/blocked_by_health_errors';
      else if (written.length === 0) dailyAgg.state = 'skipped/no_days_written';
      else {
        dailyAgg.attempted = true;
        const byDay = new Map(stored.map((d) => [d.trading_day, d]));
        const rows: Row[] = written.flatMap((day) => {
          const d = byDay.get(day);
          if (!d) return [];
          return [
            {
              symbol: alias,
              trading_day: day,
              ticks_kind: 'main_l5',
              dataset_version: 'v2',
              rows_total: BigInt(d.rows),
              first_datetime_ns: d.first_datetime_ns,
              last_datetime_ns: d.last_datetime_ns,
              updated_at: msToMicros(nowMs),
              ts: dayTsMicros(day),
            },
          ];
        });
        await ctx.store.writeRows(DAILY_AGG.name, rows);
        dailyAgg.ok = true;
        dailyAgg.state = 'ok';
      }
    }

    const status: 'promoted' | 'rejected' = errors.length === 0 ? 'promoted' : 'rejected';
    const coveredDays = [...covered].sort();
    const rowsTotal = outcomes.reduce((n, o) => n + (o.rows_written ?? 0), 0);
    const report = {
      created_at: new Date(nowMs).toISOString(),
      exchange: EXCHANGE,
      variety,
      derived_symbol: alias,
      build_id: p.build_id,
      schedule_hash: item.schedule_hash,
      schedule_lineage: { current: item.schedule_hash, compatible_hashes_in_use: storedHashes },
      update_mode: item.mode === 'update',
      full_rebuild: item.mode === 'full_rebuild',
      warnings: item.warnings,
      l5_rule: L5_RULE,
      ...health,
      covered_first_day: coveredDays[0] ?? null,
      covered_last_day: coveredDays[coveredDays.length - 1] ?? null,
      covered_last_ts: stored.length > 0 ? String(stored[stored.length - 1]?.last_datetime_ns) : null,
      missing_days_tolerance: s.missingDaysTolerance,
      missing_days_tolerance_source: (
        item.config_snapshot.GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE as { source?: string }
      )?.source,
      config_snapshot: { ...item.config_snapshot, config_hash: item.config_hash },
      jobs: {
        total: item.children_total,
        succeeded: item.children_total - item.children_failed,
        failed: item.children_failed,
      },
      rows_total: rowsTotal,
      days_total: item.batches.reduce((n, b) => n + b.days.length, 0),
      validation_gate: gate,
      daily_agg_refresh: dailyAgg,
      health: { ok: errors.length === 0, errors },
      status,
    };
    const uri = await writeReport(ctx.artifacts, 'main_l5', alias, nowMs, job.jobId, report);
    await ctx.store.writeRows(BUILDS.name, [
      {
        symbol: alias,
        build_id: p.build_id,
        schedule_hash: item.schedule_hash,
        mode: item.mode,
        status,
        l5_rule: L5_RULE,
        aligned_start: health.aligned_start ?? '',
        covered_first_day: report.covered_first_day ?? '',
        covered_last_day: report.covered_last_day ?? '',
        rows_total: BigInt(rowsTotal),
        days_written: BigInt(written.length),
        report_uri: uri,
        ts: msToMicros(nowMs),
      },
    ]);
    const summary: FinalizeResult = {
      ok: errors.length === 0,
      build_id: p.build_id,
      derived_symbol: alias,
      schedule_hash: item.schedule_hash,
      mode: item.mode,
      status,
      jobs_total: item.children_total,
      days_total: report.days_total,
      rows_total: rowsTotal,
      aligned_start: health.aligned_start ?? null,
      health: { ok: errors.length === 0, errors },
      validation_gate: { state: String(gate.state ?? 'disabled'), reason_code: (gate.reason_code as string) ?? null },
      report_uri: uri,
    };
    await ctx.builds.finish(p.build_id, status, summary as unknown as Record<string, unknown>);
    if (s.enforceHealth && errors.length > 0) {
      throw new MainL5BuildError('main_l5_health_failed', healthFailureMessage(errors), {
        details: { build_id: p.build_id, report_uri: uri },
      });
    }
    return summary;
  } catch (err) {
    const cur = await ctx.builds.get(p.build_id);
    if (cur && cur.status !== 'promoted' && cur.status !== 'rejected') {
      await ctx.builds.finish(p.build_id, 'failed', { ok: false, error: (err as Error).message });
    }
    throw err;
  } finally {
    await ctx.locks.release(lease);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Deadline sweeper (§5.1 step 5)

/**
 * Enqueue finalize for every build still `building` past its deadline (`GHTRADER_MAIN_L5_BUILD_DEADLINE_S` from
 * planning): its unfinished days become `not_attempted` and the build is rejected, instead of holding the symbol's
 * lock until someone notices. Children that wake up afterwards see the build is no longer `building` and stop.
 * Returns the build ids it finalized.
 */
export async function sweepExpiredBuilds(
  ctx: FinalizeEnqueuer & Pick<DataContext, 'clock' | 'log'>,
  bySweeper: string,
): Promise<string[]> {
  const now = ctx.clock.nowMs();
  const swept: string[] = [];
  for (const id of await ctx.builds.openBuildIds()) {
    const item = await ctx.builds.get(id);
    if (item?.status !== 'building' || item.deadline_ms > now) continue;
    ctx.log.warn({ build_id: id, deadline: new Date(item.deadline_ms).toISOString() }, 'main_l5.build_deadline_passed');
    await enqueueFinalize(ctx, item.variety as Variety, id, bySweeper);
    swept.push(id);
  }
  return swept;
}
