/**
 * `/api/observability/*` (control-chain §10), viewer role:
 *
 * - `/ws`: the realtime broadcaster's counters (§7).
 * - `/runtime`: per route template `{count, error_count, error_rate, p50_ms, p95_ms, p99_ms, max_ms}` over the rolling
 *   5 × 1-min window with since-start counts, the jobs counters (`by_status` are exact status-index counts), and the
 *   config revision this process applies (`config{revision, read_at, refresh_failures_total}`, null without one).
 * - `/slo`: the SLO snapshot; its rules live in `#shared/domain/control/slo.ts`, this file measures the inputs.
 * - `/supervisors`: the supervisors object from the telemetry supervisors persist in TradingState, plus every
 *   (component, profile) record in full.
 *
 * A dependency outage never makes these answer 500: each input has a deadline, and one that fails or times out is
 * reported with its message (the plane it feeds becomes `error` or `warn` by the rules).
 */
import { Hono } from 'hono';
import { resolveConfig } from '#shared/domain/control/config.ts';
import { JOB_STATUSES, type JobStatus } from '#shared/domain/control/jobs.ts';
import {
  type ControlPlaneInput,
  type DataPlaneInput,
  evaluateSlo,
  evaluateSupervisors,
  type FreshnessEntry,
  type InputError,
  type RedisInput,
  type SloSnapshot,
  type SloThresholds,
  type SupervisorsInput,
  type TickStoreInput,
  type TrainingPlaneInput,
  type WsInput,
} from '#shared/domain/control/slo.ts';
import { VARIETIES, type Variety } from '#shared/domain/control/varieties.ts';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import { tradingDayOf } from '#shared/domain/market/sessions.ts';
import { isoUtc } from '#shared/domain/time.ts';
import { DependencyUnavailableError } from '#shared/errors/control.ts';
import type { BroadcasterStats } from '#shared/infra/aws/broadcaster-stats.ts';
import { auditWriteFailuresTotal } from '#shared/services/audit-append.ts';
import { aliasOfVariety } from '#shared/services/data/data-view.ts';
import { supervisorsOverview } from '#shared/services/supervisor-view.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { requireRole } from '../middleware/require-role.ts';
import { routeMetricsOf } from '../middleware/route-metrics.ts';

/** Deadline of one input's measurement. */
const PROBE_TIMEOUT_MS = 1_500;
/** The SLO snapshot is reused this long, so a burst of dashboards costs one round of probes. */
const SLO_CACHE_MS = 1_000;
/** Freshness reads the builds table of every variety; it changes at most once per build. */
const FRESHNESS_CACHE_MS = 60_000;

const NO_SUPERVISION =
  'this process wires no supervisor telemetry (desired state and supervisors of the trading chain), so there is no host to report';
const NO_MODELS = 'no models yet: training arrives with the model chain (issue 5)';

/** One SLO collector per app (keyed by its deps): `/api/observability/slo`, the dashboard and the System page. */
const collectors = new WeakMap<AppDeps, SloCollector>();

export function sloCollectorOf(deps: AppDeps): SloCollector {
  let c = collectors.get(deps);
  if (!c) {
    c = new SloCollector(deps);
    collectors.set(deps, c);
  }
  return c;
}

export function observabilityRoutes(deps: AppDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const metrics = routeMetricsOf(deps);
  const slo = sloCollectorOf(deps);

  app.get('/ws', requireRole(deps, 'viewer'), async (c) => {
    if (deps.realtime) {
      return c.json({ ...deps.realtime.hub.stats(), as_of: new Date(deps.clock.nowMs()).toISOString() });
    }
    if (!deps.broadcasterStats) {
      throw new DependencyUnavailableError('the realtime hub (this process serves no WebSocket)');
    }
    const stored = await deps.broadcasterStats();
    if (!stored) {
      throw new DependencyUnavailableError(
        'the broadcaster’s counters (none flushed to TradingState yet: is `ghtrader supervisor --broadcaster-endpoint` running?)',
      );
    }
    return c.json(wsViewOf(stored));
  });

  app.get('/runtime', requireRole(deps, 'viewer'), async (c) => {
    const snap = metrics.snapshot();
    const counts = await Promise.all(
      JOB_STATUSES.map((s) =>
        measure(`jobs.by_status.${s}`, () => deps.jobs.countByStatus(s)).then((r) => [s, r] as const),
      ),
    );
    const by_status = {} as Record<JobStatus, number | null>;
    const errors: InputError[] = [];
    for (const [s, r] of counts) {
      by_status[s] = r.ok ? r.value : null;
      if (!r.ok) errors.push(r.error);
    }
    return c.json({
      generated_at: isoUtc(deps.clock.nowMs()),
      started_at: isoUtc(snap.started_at_ms),
      window: { window_s: snap.window_s, bucket_s: snap.bucket_s, window_start: isoUtc(snap.window_start_ms) },
      requests: snap.since_start,
      routes: snap.routes,
      jobs: { ...deps.jobs.counters.snapshot(), by_status, errors },
      config: configInUse(deps),
    });
  });

  app.get('/slo', requireRole(deps, 'viewer'), async (c) => c.json(await slo.snapshot()));

  app.get('/supervisors', requireRole(deps, 'viewer'), async (c) => {
    const { value } = await slo.thresholds();
    const s = deps.supervision;
    if (!s) {
      const { view } = evaluateSupervisors(noSupervision(), value);
      return c.json({ ...view, components: [], as_of: isoUtc(deps.clock.nowMs()) });
    }
    const overview = await supervisorsOverview(s.telemetry, deps.clock.nowMs());
    const { view } = evaluateSupervisors(overview.input, value);
    return c.json({ ...view, components: overview.components, as_of: isoUtc(deps.clock.nowMs()) });
  });

  return app;
}

/** Nothing to report: this process has no supervisor telemetry store. */
function noSupervision(): SupervisorsInput {
  return { hosts: [], restarts_total: 0, crash_loop: [], message: NO_SUPERVISION };
}

type Measured<T> = { ok: true; value: T } | { ok: false; error: InputError };

/** Run one measurement with a deadline; a failure or timeout becomes `{input, message}`, never a throw. */
async function measure<T>(input: string, fn: () => Promise<T>): Promise<Measured<T>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: { input, message: err instanceof Error ? err.message : String(err) } };
  } finally {
    clearTimeout(timer);
  }
}

const valueOr = <T>(m: Measured<T>, errors: InputError[]): T | null => {
  if (m.ok) return m.value;
  errors.push(m.error);
  return null;
};

export class SloCollector {
  private cached: { at: number; snapshot: Promise<SloSnapshot> } | null = null;
  private freshness: { at: number; value: Promise<Record<string, FreshnessEntry>> } | null = null;

  constructor(private readonly deps: AppDeps) {}

  snapshot(): Promise<SloSnapshot> {
    const now = this.deps.clock.nowMs();
    if (this.cached && now - this.cached.at < SLO_CACHE_MS) return this.cached.snapshot;
    const snapshot = this.build();
    this.cached = { at: now, snapshot };
    snapshot.catch(() => {
      this.cached = null;
    });
    return snapshot;
  }

  private async build(): Promise<SloSnapshot> {
    const [thresholds, control, data] = await Promise.all([this.thresholds(), this.control(), this.data()]);
    const training: TrainingPlaneInput = { newest_model_age_h: {}, train_failures_24h: null, message: NO_MODELS };
    const snap = evaluateSlo({
      generated_at: isoUtc(this.deps.clock.nowMs()),
      thresholds: thresholds.value,
      control,
      data,
      training,
    });
    return { ...snap, thresholds: { ...snap.thresholds, ...thresholds.meta } };
  }

  /** `GHTRADER_SLO_*` from the current config revision + env (defaults when the revision cannot be read). */
  async thresholds(): Promise<{
    value: SloThresholds;
    meta: { config_revision: number | null; config_error?: string };
  }> {
    const env = this.deps.config.env;
    const head = await measure('config.current', () => this.deps.configService.current());
    const layers = head.ok
      ? { revision: head.value.revision, snapshot: head.value.snapshot, env }
      : { revision: 0, snapshot: {}, env };
    const num = (key: string) => Number(resolveConfig(key, layers).value);
    const bool = (key: string) => resolveConfig(key, layers).value === true;
    return {
      value: {
        queue_warn: num('GHTRADER_SLO_QUEUE_WARN'),
        queue_crit: num('GHTRADER_SLO_QUEUE_CRIT'),
        queue_age_warn_s: num('GHTRADER_SLO_QUEUE_AGE_WARN_S'),
        supervisor_tick_fail_crit: num('GHTRADER_SLO_SUPERVISOR_TICK_FAIL_CRIT'),
        require_tickstore: bool('GHTRADER_SLO_REQUIRE_TICKSTORE'),
        require_redis: bool('GHTRADER_SLO_REQUIRE_REDIS'),
        model_max_age_h: num('GHTRADER_SLO_MODEL_MAX_AGE_H'),
      },
      meta: head.ok
        ? { config_revision: head.value.revision }
        : {
            config_revision: null,
            config_error: `config revision unreadable (env/defaults used): ${head.error.message}`,
          },
    };
  }

  private async control(): Promise<ControlPlaneInput> {
    const jobs = this.deps.jobs;
    const supervision = this.deps.supervision;
    const supervisorsMeasured = measure('supervisors.telemetry', async () =>
      supervision ? (await supervisorsOverview(supervision.telemetry, this.deps.clock.nowMs())).input : noSupervision(),
    );
    const [running, queued, oldest, leaseExpired, depth] = await Promise.all([
      measure('jobs.count.running', () => jobs.countByStatus('running')),
      measure('jobs.count.queued', () => jobs.countByStatus('queued')),
      measure('jobs.oldest_queued', () => jobs.oldestQueued()),
      measure('jobs.lease_expired_running', () => jobs.leaseExpiredRunning()),
      measure('sqs.depth', () => jobs.queueDepth()),
    ]);
    const supervisors = await supervisorsMeasured;
    const errors: InputError[] = [];
    const queuedJobs = valueOr(queued, errors);
    const oldestJob = valueOr(oldest, errors);
    const now = this.deps.clock.nowMs();
    // Age since creation of the oldest queued job (the status index is ordered by `created_at`): `queued_at` moves on
    // every re-enqueue, which would hide a job stuck in the queue.
    const oldestAge =
      oldest.ok && oldestJob
        ? Math.max(0, Math.round((now - Date.parse(oldestJob.created_at)) / 100) / 10)
        : oldest.ok
          ? 0
          : null;
    const sqs = valueOr(depth, errors);
    return {
      running_jobs: valueOr(running, errors),
      queued_jobs: queuedJobs,
      queue_depth: queuedJobs,
      oldest_queued_age_s: oldestAge,
      dlq_depth: sqs ? sqs.dlqVisible : null,
      lease_expired_running: valueOr(leaseExpired, errors),
      audit_write_failures_total: auditWriteFailuresTotal(),
      ws: await this.ws(),
      supervisors: valueOr(supervisors, errors) ?? {
        hosts: [],
        restarts_total: 0,
        crash_loop: [],
        message: `supervisor telemetry unreadable (see errors): ${supervisors.ok ? '' : supervisors.error.message}`,
      },
      errors,
    };
  }

  private async ws(): Promise<WsInput> {
    const as_of = isoUtc(this.deps.clock.nowMs());
    if (this.deps.realtime) return { ...this.deps.realtime.hub.stats(), as_of };
    const read = this.deps.broadcasterStats;
    if (!read) return { available: false, reason: 'this process serves no WebSocket', as_of };
    const stored = await measure('broadcaster.stats', read);
    if (!stored.ok)
      return { available: false, reason: `broadcaster counters unreadable: ${stored.error.message}`, as_of };
    if (!stored.value) return { available: false, reason: 'no broadcaster has flushed its counters yet', as_of };
    return wsViewOf(stored.value);
  }

  private async data(): Promise<DataPlaneInput> {
    const [tickstore, redis, freshness] = await Promise.all([this.tickstore(), this.redis(), this.freshnessAll()]);
    return { tickstore, redis, freshness };
  }

  /** Ping: the tick store's real columns of the main table (a catalogue read through the store's own connection). */
  private async tickstore(): Promise<TickStoreInput> {
    const store = this.deps.data?.store;
    if (!store)
      return {
        present: false,
        ok: false,
        latency_ms: null,
        error: 'this process runs no tick store (the data chain is off here)',
      };
    const t0 = performance.now();
    const r = await measure('tickstore.ping', () => store.describeColumns(TABLES.ticksMainL5.name));
    const latency = Math.round((performance.now() - t0) * 100) / 100;
    return r.ok
      ? { present: true, ok: true, latency_ms: latency, error: null }
      : { present: true, ok: false, latency_ms: null, error: r.error.message };
  }

  /** Redis from the warm path's own status (as `/api/status` reports it). */
  private async redis(): Promise<RedisInput> {
    const enabled = this.deps.config.redis.enabled;
    const r = await measure('status.snapshot', () => this.deps.status.snapshot());
    if (!r.ok) return { enabled, ok: false, error: `status unavailable: ${r.error.message}` };
    const warm = r.value.components.redis;
    if (warm.error === 'redis_disabled') return { enabled: false, ok: false, error: warm.text };
    return warm.state === 'ok' ? { enabled, ok: true, error: null } : { enabled, ok: false, error: warm.text };
  }

  private freshnessAll(): Promise<Record<string, FreshnessEntry>> {
    const now = this.deps.clock.nowMs();
    if (this.freshness && now - this.freshness.at < FRESHNESS_CACHE_MS) return this.freshness.value;
    const value = Promise.all(VARIETIES.map(async (v) => [v, await this.freshnessOf(v, now)] as const)).then((e) =>
      Object.fromEntries(e),
    );
    this.freshness = { at: now, value };
    return value;
  }

  /**
   * `last_complete_trading_day`: the newest day covered by a promoted main_l5 build of the variety (its builds rows, a
   * small table); `lag_days`: trading days after it up to the last trading day before the one in progress.
   */
  private async freshnessOf(variety: Variety, nowMs: number): Promise<FreshnessEntry> {
    const unknown = (reason: string): FreshnessEntry => ({
      last_complete_trading_day: null,
      lag_days: null,
      state: 'unknown',
      reason,
    });
    const data = this.deps.data;
    if (!data) return unknown('this process runs no tick store (the data chain is off here)');
    const alias = aliasOfVariety(variety);
    const rows = await measure(`freshness.${variety}`, () =>
      data.store.readRows(TABLES.mainL5Builds.name, { symbol: alias }),
    );
    if (!rows.ok) return unknown(`builds table unreadable: ${rows.error.message}`);
    let last: string | null = null;
    for (const r of rows.value) {
      const day = r.covered_last_day;
      if (r.status === 'promoted' && typeof day === 'string' && day !== '' && (last === null || day > last)) last = day;
    }
    if (last === null) return unknown(`no promoted main_l5 build of ${alias} yet`);
    try {
      const cal = data.calendar;
      const current = tradingDayOf(cal, BigInt(nowMs) * 1_000_000n, 'SHFE', variety).trading_day;
      const expected = cal.prevTradingDay(current);
      const lag = last >= expected ? 0 : cal.tradingDays(cal.nextTradingDay(last), expected).length;
      return { last_complete_trading_day: last, lag_days: lag, state: 'ok' };
    } catch (err) {
      return {
        last_complete_trading_day: last,
        lag_days: null,
        state: 'unknown',
        reason: `calendar cannot place today: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  }
}

/** The config revision this process applies, and when it last read the head (SREs check a rollout took effect). */
function configInUse(
  deps: AppDeps,
): { revision: number | null; read_at: string | null; refresh_failures_total: number } | null {
  if (!deps.live) return null;
  const s = deps.live.stats();
  return {
    revision: s.revision,
    read_at: s.read_at_ms === null ? null : isoUtc(s.read_at_ms),
    refresh_failures_total: s.refresh_failures_total,
  };
}

/** A broadcaster's flushed counters as the WebSocket view (its own `as_of`, the flush time; plus who flushed them). */
function wsViewOf(s: BroadcasterStats) {
  return {
    connections: s.connections,
    broadcast_attempt_total: s.broadcast_attempt_total,
    broadcast_success_total: s.broadcast_success_total,
    broadcast_failures_total: s.broadcast_failures_total,
    dead_clients_pruned_total: s.dead_clients_pruned_total,
    dropped_total: s.dropped_total,
    last_broadcast_error: s.last_broadcast_error,
    last_broadcast_error_at: s.last_broadcast_error_at,
    fanout_latency: s.fanout_latency,
    as_of: s.as_of,
    broadcaster: { id: s.broadcaster_id, sink: s.sink, host_id: s.host_id, started_at: s.started_at },
    ...s.extra,
  };
}
