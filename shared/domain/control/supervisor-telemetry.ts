/**
 * Supervisor telemetry as persisted in TradingState (control-chain §6.2): per host `{ticks_total, tick_failures_total,
 * last_tick_at, last_tick_error, lease_owner, fencing_token}` and per (component, profile) the counters and the
 * backoff/budget memory. Counters only grow through atomic `ADD`s, so two writers never lose an increment; the memory
 * is written with the writer's fencing token and refused from a lower one (a deposed supervisor cannot overwrite it).
 */
import * as z from 'zod';
import { COMPONENT_KINDS, type ComponentKind } from './desired.ts';
import { COMPONENT_STATUSES, type ComponentMemory, initialMemory } from './supervisor.ts';

const Iso = z.string();

/** The state-file heartbeat the supervisor last saw. */
export const HeartbeatViewSchema = z.object({
  state_revision: z.number().int(),
  updated_at: Iso,
  /** Seconds since it last advanced, at the time of the write. */
  age_s: z.number().nullable(),
});
export type HeartbeatView = z.infer<typeof HeartbeatViewSchema>;

/** One (component, profile) as stored and as `/api/{gateway,strategy}/status` and the observability view read it. */
export const ComponentTelemetrySchema = z.object({
  component: z.enum(COMPONENT_KINDS),
  account_profile: z.string(),
  host_id: z.string(),
  fencing_token: z.number().int(),
  state: z.enum(COMPONENT_STATUSES),
  started_total: z.number().int(),
  stopped_total: z.number().int(),
  restart_reasons_total: z.record(z.string(), z.number().int()),
  stop_reasons_total: z.record(z.string(), z.number().int()),
  consecutive_crashes: z.number().int(),
  backoff_until: Iso.nullable(),
  budget_window: z.array(Iso),
  crash_loop_revision: z.number().int().nullable(),
  pending_start_reason: z.string().nullable(),
  resume_after_shutdown: z.boolean(),
  last_exit: z.object({ code: z.number().int().nullable(), signal: z.string().nullable(), at: Iso }).nullable(),
  stop_timeout_raised: z.boolean(),
  last_action: z.string(),
  last_reason: z.string(),
  desired_revision: z.number().int().nullable(),
  child_pid: z.number().int().nullable(),
  heartbeat: HeartbeatViewSchema.nullable(),
  updated_at: Iso,
});
export type ComponentTelemetry = z.infer<typeof ComponentTelemetrySchema>;

export const HostTelemetrySchema = z.object({
  host_id: z.string(),
  ticks_total: z.number().int(),
  tick_failures_total: z.number().int(),
  last_tick_at: Iso.nullable(),
  last_tick_error: z.string(),
  lease_owner: z.string(),
  fencing_token: z.number().int(),
  lease_expires_at: Iso,
  poll_s: z.number(),
  /** `<component>:<profile>` this host runs or is asked to run (empty = an idle host). */
  active: z.array(z.string()),
  updated_at: Iso,
});
export type HostTelemetry = z.infer<typeof HostTelemetrySchema>;

/** Restarts of a component over its record's life (the sum of `restart_reasons_total`); 0 without a record. */
export function restartsTotal(t: Pick<ComponentTelemetry, 'restart_reasons_total'> | null): number {
  return Object.values(t?.restart_reasons_total ?? {}).reduce((a, b) => a + b, 0);
}

/** The memory part of a component record (what a restarted supervisor resumes from). */
export function memoryOf(t: ComponentTelemetry | null): ComponentMemory {
  if (!t) return initialMemory();
  return {
    state: t.state,
    consecutive_crashes: t.consecutive_crashes,
    backoff_until_ms: t.backoff_until === null ? null : Date.parse(t.backoff_until),
    budget_window_ms: t.budget_window.map((x) => Date.parse(x)),
    crash_loop_revision: t.crash_loop_revision,
    pending_start_reason: t.pending_start_reason,
    resume_after_shutdown: t.resume_after_shutdown,
    last_exit: t.last_exit
      ? { code: t.last_exit.code, signal: t.last_exit.signal, at_ms: Date.parse(t.last_exit.at) }
      : null,
    stop_timeout_raised: t.stop_timeout_raised,
  };
}

/** A write of one component record: the memory and descriptive fields are set, the counters added to. */
export interface ComponentWrite {
  component: ComponentKind;
  account_profile: string;
  host_id: string;
  fencing_token: number;
  memory: ComponentMemory;
  last_action: string;
  last_reason: string;
  desired_revision: number | null;
  child_pid: number | null;
  heartbeat: HeartbeatView | null;
  now_ms: number;
  add: { started?: number; stopped?: number; restart_reason?: string; stop_reason?: string };
}

export interface HostWrite {
  host_id: string;
  lease_owner: string;
  fencing_token: number;
  lease_expires_at_ms: number;
  poll_s: number;
  active: string[];
  now_ms: number;
  /** A failed tick adds to `tick_failures_total` and sets `last_tick_error`; a good one clears the error. */
  failure: string | null;
}

/** Port: supervisor telemetry (adapter `shared/infra/aws/supervisor-telemetry.ts`, TradingState). */
export interface SupervisorTelemetryStore {
  getComponent(component: ComponentKind, profile: string): Promise<ComponentTelemetry | null>;
  /** False when a higher fencing token wrote the record since (this writer is deposed). */
  writeComponent(w: ComponentWrite): Promise<boolean>;
  listComponents(): Promise<ComponentTelemetry[]>;
  writeHost(w: HostWrite): Promise<void>;
  listHosts(): Promise<HostTelemetry[]>;
  /** Remember that a desired document exists for (component, profile), so supervisors find it without a scan. */
  indexProfile(component: ComponentKind, profile: string): Promise<void>;
  indexedProfiles(): Promise<{ component: ComponentKind; profile: string }[]>;
}
