/**
 * The dashboard's read model (control-chain §8 `/v/{var}/dashboard`), loaded from the same services as the API: the
 * newest jobs, the last job of each data kind for the variety, the data chain's overview (schedule, coverage, build,
 * validation), and the config head for the guardrails. Hot reads go through the app's ≤ 1 s cache, invalidated by job
 * events of this variety.
 */
import type { Context } from 'hono';
import { resolveConfig } from '#shared/domain/control/config.ts';
import { SOURCE_SLOT_PREFIX } from '#shared/domain/control/locks.ts';
import {
  type PipelineStage,
  pipelineStages,
  type Reported,
  STAGE_JOB_KIND,
  type StageJobKind,
} from '#shared/domain/control/pipeline.ts';
import type { SloSnapshot } from '#shared/domain/control/slo.ts';
import type { Variety } from '#shared/domain/control/varieties.ts';
import { cstDayOf } from '#shared/domain/market/cst.ts';
import { describeError } from '#shared/errors/base.ts';
import { ControlError } from '#shared/errors/control.ts';
import type { Logger } from '#shared/log.ts';
import type { DataOverview, Section } from '#shared/services/data/data-view.ts';
import type { JobListResult } from '#shared/services/job-service.ts';
import type { WebEnv } from '../env.ts';
import { type HotDeps, hotConsoleStatus, hotJobs } from '../hot-reads.ts';
import { dataViewDeps, loadOverview } from './api-data.ts';
import { locksService } from './api-locks.ts';
import { sloCollectorOf } from './api-observability.ts';

export interface Guardrail {
  label: string;
  value: string;
  /** Where the value comes from (`config:KEY@rev`, `env:KEY`, `default`), or what reported it. */
  source: string;
  state: 'ok' | 'warn' | 'error' | 'unknown';
}

export interface DashboardKpis {
  running: number;
  queued: number;
  lastCompleteDay: string | null;
  /** Complete days over scheduled days, 0–100, or null without a schedule or data chain. */
  coveragePct: number | null;
  coverageText: string;
}

export interface DashboardModel {
  newest: JobListResult;
  pipeline: PipelineStage[];
  kpis: DashboardKpis;
  guardrails: Guardrail[];
  config: { revision: number; config_hash: string } | null;
  /** The SLO snapshot (§10), or why it could not be built. */
  slo: { snapshot: SloSnapshot | null; error: string | null };
  /** Why the data chain's figures are absent (no data chain in this process), or null. */
  dataOff: string | null;
  /** The `default` profile's trading KPI from the console status (desired mode, risk kill), or why it is absent. */
  trading: DashboardTrading;
}

export type DashboardTrading =
  | {
      ok: true;
      profile: string;
      desiredMode: string | null;
      componentStatus: string;
      riskKillActive: boolean;
      riskKillReason: string;
    }
  | { ok: false; why: string };

/** The trading KPI: `default`'s console status through the hot cache; a failed read is shown, never a mode. */
async function loadTradingKpi(deps: HotDeps, variety: Variety, log: Logger): Promise<DashboardTrading> {
  if (!deps.consoleStatus) return { ok: false, why: 'the console status service is not wired in this process' };
  try {
    const st = await hotConsoleStatus(deps).status({ account_profile: 'default', var: variety });
    return {
      ok: true,
      profile: st.account_profile,
      desiredMode: st.gateway.desired_mode,
      componentStatus: st.gateway.component_status,
      riskKillActive: st.risk_kill_active,
      riskKillReason: st.risk_kill_reason,
    };
  } catch (err) {
    log.warn({ err: describeError(err) }, 'dashboard.trading_read_failed');
    return { ok: false, why: `unreadable: ${err instanceof Error ? err.message : String(err)}` };
  }
}

const SOURCE_SLOTS_LABEL = 'Source slots (provider connections)';

/** Managed keys shown as guardrails, with their labels (resolved for this variety). */
const GUARDRAIL_KEYS: readonly [string, string][] = [
  ['GHTRADER_LOCK_WAIT_TIMEOUT_S', 'Lock wait timeout (s)'],
  ['GHTRADER_MAIN_L5_VALIDATE_LOCK_WAIT_TIMEOUT_S', 'Validate lock wait timeout (s)'],
  ['GHTRADER_MAX_PARALLEL_TQSDK_JOBS', SOURCE_SLOTS_LABEL],
  ['GHTRADER_MAIN_L5_MAX_CONCURRENCY', 'main_l5 download jobs at once'],
  ['GHTRADER_RISK_MAX_ABS_POSITION_CAP', 'Risk cap: max |position|'],
  ['GHTRADER_RISK_MAX_ORDER_SIZE_CAP', 'Risk cap: max order size'],
  ['GHTRADER_RISK_MAX_OPS_PER_SEC_CAP', 'Risk cap: max operations/s'],
];

/**
 * The source slots with their live use: the unexpired `source:slot=<n>` leases (`GET /api/locks`, ≤ 1 s cache). All of
 * them taken is a warning (the next source-bound job waits); an unreadable lock store says so without failing the page.
 */
function sourceSlotsGuardrail(
  label: string,
  value: string,
  source: string,
  inUse: number | { error: string } | null,
): Guardrail {
  if (inUse === null) return { label, value, source, state: 'ok' };
  if (typeof inUse !== 'number')
    return { label, value: `${value} (use unknown)`, source: inUse.error, state: 'unknown' };
  const full = Number.isFinite(Number(value)) && inUse >= Number(value);
  return {
    label,
    value: `${value} (${inUse} in use${full ? ': the next source-bound job waits' : ''})`,
    source,
    state: full ? 'warn' : 'ok',
  };
}

async function loadSlotsInUse(deps: HotDeps, log: Logger): Promise<number | { error: string } | null> {
  const svc = locksService(deps);
  if (!svc) return null;
  try {
    const page = await deps.hot.get('locks:source-slots', [], () =>
      svc.list({ prefix: SOURCE_SLOT_PREFIX, limit: '500' }),
    );
    return page.items.filter((l) => !l.expired).length;
  } catch (err) {
    if (!(err instanceof ControlError)) throw err;
    log.warn({ err: describeError(err) }, 'dashboard.source_slots_unreadable');
    return { error: `lock store: ${err.message}` };
  }
}

function reported<T, U>(s: Section<T> | null, pick: (data: T) => U): Reported<U> {
  if (!s) return { status: 'none' };
  if (s.status === 'ok') return { status: 'ok', data: pick(s.data) };
  if (s.status === 'none') return { status: 'none' };
  return { status: 'error', message: s.error.message };
}

function kpisOf(newest: JobListResult, overview: DataOverview | null): DashboardKpis {
  const base = { running: newest.counts.running, queued: newest.counts.queued };
  if (!overview) return { ...base, lastCompleteDay: null, coveragePct: null, coverageText: 'no data chain' };
  const cov = overview.coverage;
  if (cov.status !== 'ok') {
    const text = cov.status === 'none' ? cov.message : `coverage unreadable: ${cov.error.message}`;
    return { ...base, lastCompleteDay: null, coveragePct: null, coverageText: text };
  }
  const complete = cov.data.days.filter((d) => d.state === 'complete');
  const pct = cov.data.scheduled_days > 0 ? (100 * complete.length) / cov.data.scheduled_days : null;
  return {
    ...base,
    lastCompleteDay: complete.at(-1)?.trading_day ?? null,
    coveragePct: pct,
    coverageText:
      pct === null ? 'no scheduled days' : `${complete.length} of ${cov.data.scheduled_days} scheduled days complete`,
  };
}

/** The app's SLO snapshot (its inputs have deadlines; a failure to build it is shown, not thrown). */
export async function loadSlo(deps: HotDeps): Promise<DashboardModel['slo']> {
  try {
    return { snapshot: await sloCollectorOf(deps).snapshot(), error: null };
  } catch (err) {
    return { snapshot: null, error: err instanceof Error ? err.message : String(err) };
  }
}

export async function loadDashboard(c: Context<WebEnv>, deps: HotDeps, variety: Variety): Promise<DashboardModel> {
  const jobs = hotJobs(deps);
  const kinds = Object.values(STAGE_JOB_KIND);
  const data = dataViewDeps(deps);
  const [newest, lastJobs, overview, head, slo, trading, slotsInUse] = await Promise.all([
    jobs.list({ limit: '20' }),
    // The calendar serves every variety: its jobs are `var: none`.
    Promise.all(
      kinds.map((kind) => jobs.list({ kind, var: kind === STAGE_JOB_KIND.calendar ? 'none' : variety, limit: '1' })),
    ),
    data
      ? deps.hot.get(`data:overview:${variety}`, [`jobs:${variety}`, 'jobs:all'], () => loadOverview(c, data, variety))
      : Promise.resolve(null),
    deps.hot.get('config:head', ['config'], () => deps.configService.head()),
    loadSlo(deps),
    loadTradingKpi(deps, variety, c.get('log')),
    loadSlotsInUse(deps, c.get('log')),
  ]);
  const last = Object.fromEntries(kinds.map((k, i) => [k, lastJobs[i]?.items[0] ?? null])) as Record<
    StageJobKind,
    JobListResult['items'][number] | null
  >;
  const pipeline = pipelineStages({
    today: cstDayOf(BigInt(deps.clock.nowMs()) * 1_000_000n),
    calendarCoversTo: deps.data?.calendar.covers.to ?? null,
    lastJobs: last,
    schedule: reported(overview?.schedule ?? null, (s) => ({
      healthOk: overview?.schedule_run.status === 'ok' ? overview.schedule_run.data.health_ok : null,
      days: s.days,
      end: s.end,
    })),
    build: reported(overview?.build ?? null, (b) => ({
      status: b.status,
      daysWritten: b.days_written,
      gate: b.validation_gate?.state ?? null,
    })),
    validation: reported(overview?.validation ?? null, (v) => ({ state: v.state, reasonCode: v.reason_code })),
  });

  const layers = { revision: head.revision, snapshot: head.snapshot, env: deps.config.env };
  const guardrails: Guardrail[] = GUARDRAIL_KEYS.map(([key, label]) => {
    try {
      const r = resolveConfig(key, layers, { var: variety });
      const value = r.value === null ? 'unset' : String(r.value);
      if (label === SOURCE_SLOTS_LABEL) return sourceSlotsGuardrail(label, value, r.source, slotsInUse);
      return { label, value, source: r.source, state: 'ok' };
    } catch (err) {
      return { label, value: 'invalid', source: err instanceof Error ? err.message : String(err), state: 'error' };
    }
  });
  const build = overview?.build;
  guardrails.unshift(
    build?.status === 'ok'
      ? {
          label: 'Validation gate of the last build',
          value: build.data.validation_gate?.state ?? 'not recorded',
          source: `build ${build.data.build_id}${build.data.validation_gate?.reason_code ? ` (${build.data.validation_gate.reason_code})` : ''}`,
          state:
            build.data.validation_gate?.state === 'error'
              ? 'error'
              : build.data.validation_gate?.state === 'warn'
                ? 'warn'
                : build.data.validation_gate
                  ? 'ok'
                  : 'unknown',
        }
      : {
          label: 'Validation gate of the last build',
          value: 'no build yet',
          source: 'main_l5 builds',
          state: 'unknown',
        },
  );
  guardrails.push({
    label: 'Live trading enabled (as the gateway reports it)',
    value: 'unknown',
    source: 'no gateway has reported: the trading chain is not built yet',
    state: 'unknown',
  });
  return {
    newest,
    pipeline,
    kpis: kpisOf(newest, overview),
    guardrails,
    config: { revision: head.revision, config_hash: head.config_hash },
    slo,
    dataOff: deps.data ? null : 'the data chain is not running in this process',
    trading,
  };
}
