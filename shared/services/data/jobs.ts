/**
 * Handlers of the data-chain job kinds (`shared/domain/control/job-kinds/data.ts`). Each one parses its params with
 * the kind's schema, checks the tick store's schema contract first (§1.5: at the start of every data job) and then
 * runs its service.
 */
import {
  dataCalendar,
  dataFieldQuality,
  dataL5Start,
  dataMainL5,
  dataMainL5DayBatch,
  dataMainL5Finalize,
  dataMigrate,
  dataSchedule,
  dataValidate,
  dataVerify,
} from '../../domain/control/job-kinds/data.ts';
import { writeReport } from '../../domain/data/artifacts.ts';
import type { JobContext, JobHandlers } from '../job-handlers.ts';
import { DEFAULT_HOLIDAY_URL, runCalendarJob } from './calendar-refresh.ts';
import { type DataContext, loadDataCalendar, validateDeps } from './context.ts';
import { fieldQualitySummary, runFieldQuality } from './field-quality.ts';
import { runL5Start } from './l5-start.ts';
import { finalizeMainL5, planMainL5, runDayBatch } from './main-l5.ts';
import { applyMigrations, assertTickStoreReady, planMigrations } from './migrate.ts';
import { runSchedule } from './schedule.ts';
import { runValidation, type ValidationReport } from './validate.ts';
import { runVerify, verifySummary } from './verify.ts';

/** The §10.2 `validate --json` object: what a job result and the CLI show; the full report is at report_uri. */
export function validationSummary(v: ValidationReport) {
  return {
    ok: v.ok,
    state: v.state,
    engineering_state: v.engineering_state,
    source_state: v.source_state,
    policy_state: v.policy_state,
    overall_state: v.overall_state,
    reason_code: v.reason_code,
    action_hint: v.action_hint,
    checked_days: v.checked_days,
    missing_days: v.missing_days,
    open_days_excluded: v.open_days_excluded,
    report_uri: v.report_uri,
  };
}

/**
 * The data job handlers; each attempt runs with the config revision its worker pinned at the claim (`ctx.config`,
 * the record's `config_revision`), or, run without one, the revision current at its start (`DataContext.configHead`).
 */
export function dataJobHandlers(ctx: DataContext): JobHandlers {
  const kinds = Object.keys(handlersFor(ctx));
  const pinned = async (job: JobContext): Promise<DataContext> => {
    const head = job.config ?? (ctx.configHead ? await ctx.configHead() : null);
    if (!head) return ctx;
    return { ...ctx, settings: { env: ctx.settings.env, config: head.snapshot, configRevision: head.revision } };
  };
  return Object.fromEntries(
    kinds.map((kind) => [
      kind,
      async (raw: Record<string, unknown>, job: JobContext) => {
        const handler = handlersFor(await pinned(job))[kind];
        if (!handler) throw new Error(`no data handler for ${kind}`);
        return handler(raw, job);
      },
    ]),
  );
}

function handlersFor(ctx: DataContext): JobHandlers {
  const ready = () => assertTickStoreReady(ctx.store, ctx.ledger);
  return {
    [dataCalendar.kind]: async (raw) => {
      const p = dataCalendar.params.parse(raw);
      return runCalendarJob(
        {
          artifacts: ctx.artifacts,
          holidayUrl: ctx.settings.env.TQ_CHINESE_HOLIDAY_URL || DEFAULT_HOLIDAY_URL,
          fetch: globalThis.fetch,
          now: () => new Date(ctx.clock.nowMs()),
        },
        p,
      );
    },
    [dataSchedule.kind]: async (raw, job) => {
      const p = dataSchedule.params.parse(raw);
      await ready();
      const r = await runSchedule(
        {
          store: ctx.store,
          market: await ctx.market.get(),
          locks: ctx.locks,
          calendar: await loadDataCalendar(ctx.artifacts),
          settings: ctx.settings,
          artifacts: ctx.artifacts,
          clock: ctx.clock,
        },
        { variety: p.var, jobId: job.jobId },
      );
      // Job results stay small (≤ 8 KiB); the full report is at report_uri.
      const { segments, warnings, distinct_main_contracts, ...rest } = r;
      return {
        ...rest,
        segments_total: segments.length,
        warnings_total: warnings.length,
        contracts: distinct_main_contracts.length,
      };
    },
    [dataMainL5.kind]: async (raw, job) => {
      const p = dataMainL5.params.parse(raw);
      await ready();
      return planMainL5(ctx, p, job);
    },
    [dataMainL5DayBatch.kind]: async (raw, job) => {
      const p = dataMainL5DayBatch.params.parse(raw);
      await ready();
      return runDayBatch(ctx, p, job);
    },
    [dataMainL5Finalize.kind]: async (raw, job) => {
      const p = dataMainL5Finalize.params.parse(raw);
      await ready();
      return finalizeMainL5(ctx, p, job);
    },
    [dataValidate.kind]: async (raw, job) => {
      const p = dataValidate.params.parse(raw);
      await ready();
      const market = await ctx.market.get();
      const v = await runValidation(
        {
          ...(await validateDeps(ctx, job.log, p.provider_check ? market : undefined)),
          // The provider's clock decides which days are still trading (a simulator may run in the past).
          marketNow: async () => (market.marketNow ? market.marketNow() : BigInt(ctx.clock.nowMs()) * 1_000_000n),
        },
        {
          variety: p.var,
          jobId: job.jobId,
          incremental: p.incremental,
          providerCheck: p.provider_check,
          ...(p.start ? { start: p.start } : {}),
          ...(p.end ? { end: p.end } : {}),
          ...(p.gap_threshold_s !== undefined ? { gapThresholdS: p.gap_threshold_s } : {}),
          ...(p.strict_ratio !== undefined ? { strictRatio: p.strict_ratio } : {}),
          ...(p.max_segments_per_day !== undefined ? { maxSegmentsPerDay: p.max_segments_per_day } : {}),
        },
      );
      return validationSummary(v);
    },
    [dataVerify.kind]: async (raw, job) => {
      const p = dataVerify.params.parse(raw);
      await ready();
      const market = await ctx.market.get();
      const r = await runVerify(
        {
          ...(await validateDeps(ctx, job.log, market)),
          marketNow: async () => (market.marketNow ? market.marketNow() : BigInt(ctx.clock.nowMs()) * 1_000_000n),
        },
        {
          variety: p.var,
          jobId: job.jobId,
          promote: p.promote,
          ...(p.sample_days !== undefined ? { sampleDays: p.sample_days } : {}),
        },
      );
      return verifySummary(r);
    },
    [dataFieldQuality.kind]: async (raw, job) => {
      const p = dataFieldQuality.params.parse(raw);
      await ready();
      const r = await runFieldQuality(
        {
          store: ctx.store,
          locks: ctx.locks,
          settings: ctx.settings,
          artifacts: ctx.artifacts,
          clock: ctx.clock,
          log: job.log,
        },
        {
          variety: p.var,
          jobId: job.jobId,
          ...(p.start ? { start: p.start } : {}),
          ...(p.end ? { end: p.end } : {}),
        },
      );
      // Job results stay small (≤ 8 KiB); every day's entry is in the report at report_uri.
      return fieldQualitySummary(r);
    },
    [dataL5Start.kind]: async (raw, job) => {
      const p = dataL5Start.params.parse(raw);
      return runL5Start(
        {
          market: ctx.market,
          calendar: await loadDataCalendar(ctx.artifacts),
          artifacts: ctx.artifacts,
          settings: ctx.settings,
          clock: ctx.clock,
          log: job.log,
        },
        { variety: p.var, refresh: p.refresh },
      );
    },
    [dataMigrate.kind]: async (raw, job) => {
      const p = dataMigrate.params.parse(raw);
      const opts = { ...(p.table ? { table: p.table } : {}) };
      const r = p.apply
        ? await applyMigrations(ctx.store, ctx.ledger, { ...opts, retryFailed: p.retry_failed, appliedBy: job.jobId })
        : await planMigrations(ctx.store, ctx.ledger, opts);
      const uri = await writeReport(ctx.artifacts, 'data_migrate', 'migrate', ctx.clock.nowMs(), job.jobId, r);
      const counts: Record<string, number> = {};
      for (const m of r.migrations) counts[m.status] = (counts[m.status] ?? 0) + 1;
      return {
        ok: r.ok,
        mode: r.mode,
        store_id: r.store_id,
        counts,
        migrations: r.migrations
          .filter((m) => m.status !== 'not_needed' && m.status !== 'already_applied')
          .map((m) => ({ id: m.id, table: m.table, status: m.status })),
        report_uri: uri,
      };
    },
  };
}
