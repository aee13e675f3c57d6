/**
 * The supervisor's reconcile decision (control-chain §6.2), pure: desired document, the observed child, its heartbeat,
 * the persisted backoff/budget memory and the time -> one action with its reason, the next memory and the component
 * status (§6.3). The process side (`colo/supervisor/`) observes, applies the action and persists the memory; nothing
 * here does I/O, reads a clock or draws randomness (jitter comes in as a number in [-1, 1]).
 *
 * Contract:
 * - An unexpected exit while desired is active is a crash: consecutive crash `n` grows, the restart waits
 *   `min(base × 2^(n−1), max)` × (1 ± 20 %); the `crash_budget`-th crash within `crash_window_s` is `crash_loop`: no more
 *   starts until the desired revision changes (an operator start names itself `operator_start`).
 * - `n` resets after `stable_after_s` of uptime without a stale heartbeat; the budget window only ages out.
 * - A child is replaced (`restart`: SIGTERM now, start after its exit) when its launch arguments differ from desired
 *   (`desired_changed`) or, with `hung_restart_s > 0`, its heartbeat is that old (`heartbeat_lost`).
 * - Stop is SIGTERM only; past `stop_grace_s` the decision raises `stop_timeout` once (never a kill).
 */
import * as z from 'zod';
import {
  type ComponentKind,
  type DesiredDoc,
  type DesiredRecord,
  isActive,
  launchArgs,
  parseDesired,
} from './desired.ts';

export const COMPONENT_STATUSES = [
  'not_initialized',
  'desired_idle',
  'starting',
  'running',
  'degraded',
  'backoff',
  'crash_loop',
  'stopping',
  'externally_managed',
] as const;
export type ComponentStatus = (typeof COMPONENT_STATUSES)[number];

export type SupervisorAction = 'start' | 'stop' | 'restart' | 'wait_backoff' | 'hold_crash_loop' | 'none';

/** Tunables, resolved from the `GHTRADER_SUPERVISOR_*` keys (seconds unless named otherwise). */
export const SupervisorSettingsSchema = z.object({
  poll_s: z.number().positive(),
  stop_grace_s: z.number().positive(),
  backoff_base_s: z.number().positive(),
  backoff_max_s: z.number().positive(),
  stable_after_s: z.number().positive(),
  crash_budget: z.number().int().min(1),
  crash_window_s: z.number().positive(),
  heartbeat_stale_s: z.number().positive(),
  /** 0 = never restart a hung process. */
  hung_restart_s: z.number().min(0),
  /** The `supervisor:host=<h>` lease (spec: 10 s, renewed every third of it). */
  lease_s: z.number().positive(),
});
export type SupervisorSettings = z.infer<typeof SupervisorSettingsSchema>;

/** The supervisor lease length (control-chain §6.2). */
export const SUPERVISOR_LEASE_S = 10;
/** Jitter amplitude of the crash backoff. */
export const BACKOFF_JITTER = 0.2;
/** At most this many starts per tick (a host coming up does not fork everything at once). */
export const MAX_STARTS_PER_TICK = 2;

/** An exit as observed on the child handle. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  at_ms: number;
}

/** The persisted per-(component, profile) memory that must survive a supervisor restart. */
export interface ComponentMemory {
  state: ComponentStatus;
  consecutive_crashes: number;
  /** No start before this instant (epoch ms); null = no backoff pending. */
  backoff_until_ms: number | null;
  /** Crash instants (epoch ms) inside the budget window, oldest first. */
  budget_window_ms: number[];
  /** The desired revision that entered `crash_loop` (a different revision clears it). */
  crash_loop_revision: number | null;
  /** The reason the next start will carry (a crash, a replaced child, an operator start). */
  pending_start_reason: string | null;
  /** Set when a supervisor shutdown stopped the child: the next supervisor starts it as `supervisor_restart`. */
  resume_after_shutdown: boolean;
  last_exit: ExitInfo | null;
  /** `stop_timeout` was raised for the current stop (raised once per stop). */
  stop_timeout_raised: boolean;
}

export function initialMemory(): ComponentMemory {
  return {
    state: 'not_initialized',
    consecutive_crashes: 0,
    backoff_until_ms: null,
    budget_window_ms: [],
    crash_loop_revision: null,
    pending_start_reason: null,
    resume_after_shutdown: false,
    last_exit: null,
    stop_timeout_raised: false,
  };
}

/** What the supervisor knows about its own child of this (component, profile). */
export type ChildView =
  | { kind: 'none' }
  | {
      kind: 'alive';
      started_at_ms: number;
      /** Launch arguments joined, to compare with desired. */
      launch_key: string;
      stop_requested: { reason: string; at_ms: number } | null;
    }
  | { kind: 'exited'; exit: ExitInfo; stop_requested: { reason: string; at_ms: number } | null };

/** The desired document as the decision needs it. */
export interface DesiredView {
  revision: number;
  active: boolean;
  launch_key: string;
  /** Which write produced this revision (`start` is an operator start). */
  action: 'desired' | 'start' | 'stop';
}

/**
 * A profile's desired head as this host's supervisor sees it: the parsed document, whether it names this host, and
 * the `DesiredView` the decision takes (null when there is no document or it names another host).
 */
export function desiredViewOf(
  component: ComponentKind,
  profile: string,
  rec: DesiredRecord | null,
  hostId: string,
): { doc: DesiredDoc | null; mine: boolean; view: DesiredView | null } {
  const doc = rec ? parseDesired(component, rec.desired) : null;
  const mine = rec !== null && doc !== null && doc.host_id === hostId;
  const view =
    mine && rec && doc
      ? {
          revision: rec.revision,
          active: isActive(component, doc),
          launch_key: launchArgs(component, profile, doc).join(' '),
          action: rec.action,
        }
      : null;
  return { doc, mine, view };
}

export interface DecisionInput {
  component: ComponentKind;
  /** Null: no document, or a document for another host (then nothing runs here). */
  desired: DesiredView | null;
  child: ChildView;
  /** Seconds since the state file's `state_revision`/`updated_at` last advanced; null = no state since start. */
  heartbeat_age_s: number | null;
  memory: ComponentMemory;
  /** Owner of the component's trading lease when a process this supervisor did not start holds it. */
  external_holder: string | null;
  now_ms: number;
  settings: SupervisorSettings;
  /** Uniform in [-1, 1]: the backoff jitter. */
  jitter: number;
}

export type DecisionEvent = 'crash' | 'crash_loop' | 'stop_timeout' | 'crash_loop_cleared' | 'stable_reset';

export interface Decision {
  action: SupervisorAction;
  /** Why (a §6.2 reason for start/stop/restart; the pending reason while waiting; '' when nothing happens). */
  reason: string;
  memory: ComponentMemory;
  status: ComponentStatus;
  events: DecisionEvent[];
  /** The backoff chosen after a crash (seconds, jitter applied). */
  backoff_s?: number;
}

/** `crashed:exit_<code>` or `crashed:signal_<SIG>`. */
export function crashReason(exit: Pick<ExitInfo, 'code' | 'signal'>): string {
  return exit.signal ? `crashed:signal_${exit.signal}` : `crashed:exit_${exit.code ?? 'unknown'}`;
}

/** Backoff before restart number `n` (1-based): `min(base × 2^(n−1), max)` scaled by `1 + 0.2 × jitter`. */
export function backoffSeconds(n: number, settings: SupervisorSettings, jitter: number): number {
  if (n < 1) throw new RangeError(`consecutive crashes must be ≥ 1, got ${n}`);
  if (jitter < -1 || jitter > 1) throw new RangeError(`jitter must be in [-1, 1], got ${jitter}`);
  const raw = Math.min(settings.backoff_base_s * 2 ** (n - 1), settings.backoff_max_s);
  return raw * (1 + BACKOFF_JITTER * jitter);
}

/** The start reason for a component nobody asked to restart. */
function freshStartReason(component: ComponentKind): string {
  return component === 'gateway' ? 'desired_non_idle_no_process' : 'desired_run_no_process';
}

/** One reconcile step for one (component, profile). */
export function decide(input: DecisionInput): Decision {
  const { desired, settings: s, now_ms: now } = input;
  let memory: ComponentMemory = { ...input.memory, budget_window_ms: [...input.memory.budget_window_ms] };
  const events: DecisionEvent[] = [];
  const active = desired?.active === true;
  const out = (action: SupervisorAction, reason: string, status: ComponentStatus, extra: Partial<Decision> = {}) => {
    memory.state = status;
    return { action, reason, memory, status, events, ...extra };
  };

  // A crash loop holds until the desired revision changes; an operator start names itself.
  if (memory.crash_loop_revision !== null && desired && desired.revision !== memory.crash_loop_revision) {
    memory = {
      ...memory,
      consecutive_crashes: 0,
      budget_window_ms: [],
      backoff_until_ms: null,
      crash_loop_revision: null,
      pending_start_reason: active ? (desired.action === 'start' ? 'operator_start' : 'desired_changed') : null,
    };
    events.push('crash_loop_cleared');
  }

  let child = input.child;
  if (child.kind === 'exited') {
    const { exit, stop_requested } = child;
    memory.last_exit = exit;
    memory.stop_timeout_raised = false;
    if (!stop_requested && active && desired) {
      const reason = crashReason(exit);
      const n = memory.consecutive_crashes + 1;
      const window = memory.budget_window_ms.filter((t) => now - t < s.crash_window_s * 1000);
      window.push(exit.at_ms);
      memory.consecutive_crashes = n;
      memory.budget_window_ms = window;
      events.push('crash');
      if (window.length >= s.crash_budget) {
        memory.crash_loop_revision = desired.revision;
        memory.backoff_until_ms = null;
        memory.pending_start_reason = null;
        events.push('crash_loop');
        return out('hold_crash_loop', reason, 'crash_loop');
      }
      const backoff = backoffSeconds(n, s, input.jitter);
      memory.backoff_until_ms = exit.at_ms + backoff * 1000;
      memory.pending_start_reason = reason;
      return out('wait_backoff', reason, 'backoff', { backoff_s: backoff });
    }
    // An exit we asked for (or one after desired went idle): nothing to count; a pending restart follows below.
    child = { kind: 'none' };
  }

  if (child.kind === 'alive') {
    if (child.stop_requested) {
      const waited = now - child.stop_requested.at_ms;
      if (!memory.stop_timeout_raised && waited >= s.stop_grace_s * 1000) {
        memory.stop_timeout_raised = true;
        events.push('stop_timeout');
        return out('none', 'stop_timeout', 'stopping');
      }
      return out('none', child.stop_requested.reason, 'stopping');
    }
    if (!active || !desired) {
      memory.pending_start_reason = null;
      return out('stop', 'desired_idle', 'stopping');
    }
    if (desired.launch_key !== child.launch_key) {
      memory.pending_start_reason = 'desired_changed';
      return out('restart', 'desired_changed', 'stopping');
    }
    const uptime_s = (now - child.started_at_ms) / 1000;
    const age = input.heartbeat_age_s ?? uptime_s;
    if (s.hung_restart_s > 0 && age >= s.hung_restart_s) {
      memory.pending_start_reason = 'heartbeat_lost';
      return out('restart', 'heartbeat_lost', 'stopping');
    }
    const stale = input.heartbeat_age_s !== null && input.heartbeat_age_s >= s.heartbeat_stale_s;
    if (memory.consecutive_crashes > 0 && uptime_s >= s.stable_after_s && !stale) {
      memory.consecutive_crashes = 0;
      events.push('stable_reset');
    }
    const status: ComponentStatus = input.heartbeat_age_s === null ? 'starting' : stale ? 'degraded' : 'running';
    return out('none', '', status);
  }

  // No child of ours.
  if (!active || !desired) {
    memory.pending_start_reason = null;
    memory.backoff_until_ms = null;
    memory.resume_after_shutdown = false;
    return out('none', '', desired ? 'desired_idle' : 'not_initialized');
  }
  if (memory.crash_loop_revision !== null) return out('hold_crash_loop', 'crash_loop', 'crash_loop');
  if (input.external_holder !== null) return out('none', 'externally_managed', 'externally_managed');
  if (memory.backoff_until_ms !== null && now < memory.backoff_until_ms) {
    return out('wait_backoff', memory.pending_start_reason ?? 'backoff', 'backoff');
  }
  const reason =
    memory.pending_start_reason ??
    (memory.resume_after_shutdown ? 'supervisor_restart' : freshStartReason(input.component));
  memory.pending_start_reason = null;
  memory.resume_after_shutdown = false;
  memory.backoff_until_ms = null;
  return out('start', reason, 'starting');
}
