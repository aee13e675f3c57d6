/**
 * The SLO snapshot's rules (control-chain §10), pure: measured inputs + thresholds -> the `GET /api/observability/slo`
 * payload. A plane's state is its worst rule and `overall` is the worst plane, where an `empty` plane (nothing to
 * judge yet, e.g. no models) neither raises nor lowers the others; only when every plane is empty is `overall` empty.
 *
 * Rules:
 * - control plane: queue depth ≥ crit error, ≥ warn warn; oldest queued ≥ 3 × age-warn error, ≥ age-warn warn; DLQ not
 *   empty warn; supervisor tick failures ≥ crit error, any warn; a supervisor silent ≥ 5 ticks with a non-idle
 *   profile, or a crash loop, error; an input that could not be measured (its dependency failed) error.
 * - data plane: tick store down (or absent from this process) error when required else warn; Redis down error when
 *   required else warn (Redis turned off by config: error only when required).
 * - training plane: a newest model older than `model_max_age_h` warn; no model at all -> `empty`.
 */
import type { BroadcastCounters } from './broadcast.ts';
import { type StatusState, worstState } from './status.ts';

export interface SloThresholds {
  queue_warn: number;
  queue_crit: number;
  queue_age_warn_s: number;
  supervisor_tick_fail_crit: number;
  require_tickstore: boolean;
  require_redis: boolean;
  model_max_age_h: number;
}

/** A rule that fired: its name, the state it gives the plane and a one-line reason. */
export interface SloFinding {
  rule: string;
  state: StatusState;
  message: string;
}

/** A dependency that could not be read: the input it feeds and the error. */
export interface InputError {
  input: string;
  message: string;
}

/** A supervisor silent for this many ticks with a non-idle profile is an error. */
export const SUPERVISOR_SILENT_TICKS = 5;

export interface SupervisorHostInput {
  host_id: string;
  lease_ok: boolean;
  last_tick_at: string | null;
  tick_failures_total: number;
  /** Ticks missed since `last_tick_at` (poll intervals elapsed without a tick). */
  silent_ticks: number;
  /** The host's profile has nothing to supervise (an idle host may be silent). */
  idle: boolean;
}

export interface SupervisorsInput {
  hosts: SupervisorHostInput[];
  restarts_total: number;
  crash_loop: string[];
  /** Why the list is empty when it is (e.g. no supervisor runs yet). */
  message?: string;
}

export type WsInput = (BroadcastCounters & { as_of: string }) | { available: false; reason: string; as_of: string };

export interface ControlPlaneInput {
  running_jobs: number | null;
  queued_jobs: number | null;
  queue_depth: number | null;
  oldest_queued_age_s: number | null;
  dlq_depth: number | null;
  lease_expired_running: number | null;
  audit_write_failures_total: number;
  ws: WsInput;
  supervisors: SupervisorsInput;
  errors: InputError[];
}

export interface TickStoreInput {
  /** False when this process has no tick store (the data chain does not run here). */
  present: boolean;
  ok: boolean;
  latency_ms: number | null;
  error: string | null;
}

export interface RedisInput {
  enabled: boolean;
  ok: boolean;
  error: string | null;
}

export interface FreshnessEntry {
  last_complete_trading_day: string | null;
  lag_days: number | null;
  state: 'ok' | 'unknown';
  /** Why the entry is unknown. */
  reason?: string;
}

export interface DataPlaneInput {
  tickstore: TickStoreInput;
  redis: RedisInput;
  freshness: Record<string, FreshnessEntry>;
}

export interface TrainingPlaneInput {
  /** Per variety: age in hours of its newest model; a variety without any model is absent. */
  newest_model_age_h: Record<string, number>;
  train_failures_24h: number | null;
  /** Why the plane is empty when it is. */
  message?: string;
}

export interface SloInput {
  generated_at: string;
  thresholds: SloThresholds;
  control: ControlPlaneInput;
  data: DataPlaneInput;
  training: TrainingPlaneInput;
}

export interface SupervisorsView {
  state: StatusState;
  hosts: { host_id: string; lease_ok: boolean; last_tick_at: string | null; tick_failures_total: number }[];
  restarts_total: number;
  crash_loop: string[];
  message?: string;
}

export interface SloSnapshot {
  overall: StatusState;
  generated_at: string;
  thresholds: SloThresholds;
  data_plane: {
    state: StatusState;
    tickstore: { ok: boolean; latency_ms: number | null; error: string | null };
    redis: RedisInput;
    freshness: Record<string, FreshnessEntry>;
    findings: SloFinding[];
  };
  training_plane: {
    state: StatusState;
    newest_model_age_h: Record<string, number>;
    train_failures_24h: number | null;
    message?: string;
    findings: SloFinding[];
  };
  /** The measured inputs as given, with the supervisors' view, the plane's state and its findings. */
  control_plane: Omit<ControlPlaneInput, 'supervisors'> & {
    state: StatusState;
    supervisors: SupervisorsView;
    findings: SloFinding[];
  };
}

/** Worst state, where `empty` counts only when everything is empty (an empty plane judges nothing). */
export function sloWorst(states: readonly StatusState[]): StatusState {
  const judged = states.filter((s) => s !== 'empty');
  if (judged.length === 0) return states.length === 0 ? 'ok' : 'empty';
  return worstState(judged);
}

const stateOf = (findings: readonly SloFinding[]): StatusState => sloWorst(findings.map((f) => f.state));

/** Queue depth: ≥ crit error, ≥ warn warn. */
export function queueDepthRule(depth: number | null, t: SloThresholds): SloFinding | null {
  if (depth === null) return null;
  if (depth >= t.queue_crit)
    return { rule: 'queue_depth', state: 'error', message: `${depth} jobs queued (≥ ${t.queue_crit})` };
  if (depth >= t.queue_warn)
    return { rule: 'queue_depth', state: 'warn', message: `${depth} jobs queued (≥ ${t.queue_warn})` };
  return null;
}

/** Oldest queued job: ≥ 3 × age-warn error, ≥ age-warn warn. */
export function queueAgeRule(ageS: number | null, t: SloThresholds): SloFinding | null {
  if (ageS === null) return null;
  if (ageS >= 3 * t.queue_age_warn_s)
    return {
      rule: 'oldest_queued_age',
      state: 'error',
      message: `oldest queued job waits ${ageS} s (≥ 3 × ${t.queue_age_warn_s} s)`,
    };
  if (ageS >= t.queue_age_warn_s)
    return {
      rule: 'oldest_queued_age',
      state: 'warn',
      message: `oldest queued job waits ${ageS} s (≥ ${t.queue_age_warn_s} s)`,
    };
  return null;
}

/** DLQ not empty: warn. */
export function dlqRule(depth: number | null): SloFinding | null {
  if (depth === null || depth <= 0) return null;
  return { rule: 'dlq_depth', state: 'warn', message: `${depth} message(s) in the jobs DLQ` };
}

/** Supervisors: tick failures ≥ crit error, any warn; silent ≥ 5 ticks with a non-idle profile error; crash loop error. */
export function supervisorRules(s: SupervisorsInput, t: SloThresholds): SloFinding[] {
  const out: SloFinding[] = [];
  for (const h of s.hosts) {
    if (h.tick_failures_total >= t.supervisor_tick_fail_crit)
      out.push({
        rule: 'supervisor_tick_failures',
        state: 'error',
        message: `${h.host_id}: ${h.tick_failures_total} tick failures (≥ ${t.supervisor_tick_fail_crit})`,
      });
    else if (h.tick_failures_total > 0)
      out.push({
        rule: 'supervisor_tick_failures',
        state: 'warn',
        message: `${h.host_id}: ${h.tick_failures_total} tick failure(s)`,
      });
    if (!h.idle && h.silent_ticks >= SUPERVISOR_SILENT_TICKS)
      out.push({
        rule: 'supervisor_silent',
        state: 'error',
        message: `${h.host_id}: silent for ${h.silent_ticks} ticks with a non-idle profile`,
      });
  }
  if (s.crash_loop.length > 0)
    out.push({ rule: 'supervisor_crash_loop', state: 'error', message: `crash loop: ${s.crash_loop.join(', ')}` });
  return out;
}

/** A required dependency down is an error, an optional one a warning. */
function dependencyRule(rule: string, what: string, required: boolean, error: string | null): SloFinding {
  return {
    rule,
    state: required ? 'error' : 'warn',
    message: `${what} ${error ?? 'down'}${required ? '' : ' (not required)'}`,
  };
}

export function tickStoreRule(ts: TickStoreInput, t: SloThresholds): SloFinding | null {
  if (ts.present && ts.ok) return null;
  return dependencyRule(
    'tickstore',
    'tick store',
    t.require_tickstore,
    ts.present ? `down: ${ts.error ?? 'no answer'}` : `absent: ${ts.error ?? 'this process runs no tick store'}`,
  );
}

export function redisRule(r: RedisInput, t: SloThresholds): SloFinding | null {
  if (!r.enabled)
    return t.require_redis
      ? { rule: 'redis', state: 'error', message: 'Redis is required but turned off by config' }
      : null;
  if (r.ok) return null;
  return dependencyRule('redis', 'Redis', t.require_redis, `down: ${r.error ?? 'no answer'}`);
}

/** Any variety whose newest model is older than `model_max_age_h`: warn. */
export function modelAgeRules(ages: Record<string, number>, t: SloThresholds): SloFinding[] {
  return Object.entries(ages)
    .filter(([, h]) => h > t.model_max_age_h)
    .map(([v, h]) => ({
      rule: 'model_age',
      state: 'warn' as const,
      message: `${v}: newest model is ${h} h old (> ${t.model_max_age_h} h)`,
    }));
}

/** The supervisors object (`empty` with no host and no crash loop, else its worst rule) and its findings. */
export function evaluateSupervisors(
  s: SupervisorsInput,
  t: SloThresholds,
): { view: SupervisorsView; findings: SloFinding[] } {
  const findings = supervisorRules(s, t);
  const none = s.hosts.length === 0 && s.crash_loop.length === 0;
  return {
    view: {
      state: none ? 'empty' : stateOf(findings),
      hosts: s.hosts.map((h) => ({
        host_id: h.host_id,
        lease_ok: h.lease_ok,
        last_tick_at: h.last_tick_at,
        tick_failures_total: h.tick_failures_total,
      })),
      restarts_total: s.restarts_total,
      crash_loop: s.crash_loop,
      ...(s.message ? { message: s.message } : {}),
    },
    findings,
  };
}

export function evaluateSlo(input: SloInput): SloSnapshot {
  const t = input.thresholds;
  const c = input.control;

  const { view: supervisors, findings: supervisorFindings } = evaluateSupervisors(c.supervisors, t);

  const controlFindings = [
    queueDepthRule(c.queue_depth, t),
    queueAgeRule(c.oldest_queued_age_s, t),
    dlqRule(c.dlq_depth),
    ...supervisorFindings,
    ...c.errors.map((e) => ({
      rule: 'input_unavailable',
      state: 'error' as const,
      message: `${e.input}: ${e.message}`,
    })),
  ].filter((f): f is SloFinding => f !== null);

  const d = input.data;
  const dataFindings = [tickStoreRule(d.tickstore, t), redisRule(d.redis, t)].filter(
    (f): f is SloFinding => f !== null,
  );

  const trainingFindings = modelAgeRules(input.training.newest_model_age_h, t);
  const noModels = Object.keys(input.training.newest_model_age_h).length === 0;
  const trainingState = noModels ? 'empty' : stateOf(trainingFindings);

  const control_plane = {
    state: stateOf(controlFindings),
    running_jobs: c.running_jobs,
    queued_jobs: c.queued_jobs,
    queue_depth: c.queue_depth,
    oldest_queued_age_s: c.oldest_queued_age_s,
    dlq_depth: c.dlq_depth,
    lease_expired_running: c.lease_expired_running,
    audit_write_failures_total: c.audit_write_failures_total,
    ws: c.ws,
    supervisors,
    findings: controlFindings,
    errors: c.errors,
  };
  const data_plane = {
    state: stateOf(dataFindings),
    tickstore: {
      ok: d.tickstore.present && d.tickstore.ok,
      latency_ms: d.tickstore.latency_ms,
      error: d.tickstore.error,
    },
    redis: d.redis,
    freshness: d.freshness,
    findings: dataFindings,
  };
  const training_plane = {
    state: trainingState,
    newest_model_age_h: input.training.newest_model_age_h,
    train_failures_24h: input.training.train_failures_24h,
    ...(input.training.message ? { message: input.training.message } : {}),
    findings: trainingFindings,
  };
  return {
    overall: sloWorst([control_plane.state, data_plane.state, training_plane.state]),
    generated_at: input.generated_at,
    thresholds: t,
    data_plane,
    training_plane,
    control_plane,
  };
}
