/**
 * `ghtrader supervisor --once` (control-chain §6.2, §11): one reconcile pass for a host that only reads and reports.
 *
 * A supervisor owns its children (liveness from the child handle, never a pid on disk), so a process that reconciled
 * once and exited would have to stop whatever it had just started. `--once` is therefore the pass's plan, changing
 * nothing: no lease is taken, no process started or stopped, no telemetry or audit written.
 *
 * - When another supervisor holds the host's lease `supervisor:host=<h>`, its children are invisible from here, so
 *   the plan reports that supervisor (owner, fencing token) and each component's state as it last persisted it, with
 *   action `none` and reason `managed_by_active_supervisor`.
 * - Otherwise each (component, profile) is decided exactly as the supervisor's first tick would decide it (the same
 *   pure `decide`, from the persisted memory, no child, the component's trading lease holder, jitter 0): e.g. `start`
 *   with `desired_non_idle_no_process`, `hold_crash_loop`, `wait_backoff` until a deadline, or `none`.
 */

import type { DesiredStore } from '#shared/domain/control/desired.ts';
import { COMPONENT_KINDS, type ComponentKind } from '#shared/domain/control/desired.ts';
import { componentLeaseKey, type LockStore } from '#shared/domain/control/locks.ts';
import {
  type ComponentStatus,
  decide,
  desiredViewOf,
  type SupervisorAction,
  type SupervisorSettings,
} from '#shared/domain/control/supervisor.ts';
import { memoryOf, type SupervisorTelemetryStore } from '#shared/domain/control/supervisor-telemetry.ts';
import { type Clock, isoUtc } from '#shared/domain/time.ts';

export interface PlanItem {
  component: ComponentKind;
  account_profile: string;
  /** The desired document's mode on this host; null without one (or when it names another host). */
  desired_mode: string | null;
  desired_revision: number | null;
  desired_host_id: string | null;
  /** The state the supervisors last persisted for it (`not_initialized` without a record). */
  recorded_state: ComponentStatus;
  action: SupervisorAction;
  reason: string;
  /** The state after the action, as a supervisor would record it. */
  status: ComponentStatus;
  /** Owner of the component's trading lease, when a process holds it. */
  lease_holder: string | null;
}

export interface SupervisorPlan {
  host_id: string;
  lease_key: string;
  /** The host's active supervisor, or null when none holds the lease. */
  active_supervisor: { owner: string; fencing_token: number; expires_at: string } | null;
  generated_at: string;
  items: PlanItem[];
  /** One line: what this plan is and is not. */
  note: string;
}

export interface PlanDeps {
  hostId: string;
  locks: Pick<LockStore, 'holder'>;
  desired: Pick<DesiredStore, 'head'>;
  telemetry: Pick<SupervisorTelemetryStore, 'getComponent' | 'indexedProfiles'>;
  settings: () => Promise<SupervisorSettings>;
  /** `default` and `GHTRADER_TQ_ACCOUNT_PROFILES`, as the supervisor reconciles them. */
  knownProfiles: readonly string[];
  clock: Clock;
}

/** The plan of one reconcile pass for `deps.hostId` (read only). */
export async function planOnce(deps: PlanDeps): Promise<SupervisorPlan> {
  const leaseKey = `supervisor:host=${deps.hostId}`;
  const [hostLease, indexed, settings] = await Promise.all([
    deps.locks.holder(leaseKey),
    deps.telemetry.indexedProfiles(),
    deps.settings(),
  ]);
  const keys = new Map<string, { component: ComponentKind; profile: string }>();
  for (const p of deps.knownProfiles) {
    for (const component of COMPONENT_KINDS) keys.set(`${component}:${p}`, { component, profile: p });
  }
  for (const e of indexed) keys.set(`${e.component}:${e.profile}`, e);
  const now = deps.clock.nowMs();
  const items = await Promise.all(
    [...keys]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(async ([, { component, profile }]): Promise<PlanItem> => {
        const [rec, stored, holder] = await Promise.all([
          deps.desired.head(component, profile),
          deps.telemetry.getComponent(component, profile),
          deps.locks.holder(componentLeaseKey(component, profile)),
        ]);
        const { doc, view: desired } = desiredViewOf(component, profile, rec, deps.hostId);
        const memory = memoryOf(stored);
        const base = {
          component,
          account_profile: profile,
          desired_mode: doc?.mode ?? null,
          desired_revision: rec?.revision ?? null,
          desired_host_id: doc?.host_id ?? null,
          recorded_state: memory.state,
          lease_holder: holder?.owner ?? null,
        };
        if (hostLease) {
          return { ...base, action: 'none', reason: 'managed_by_active_supervisor', status: memory.state };
        }
        const d = decide({
          component,
          desired,
          child: { kind: 'none' },
          heartbeat_age_s: null,
          memory,
          external_holder: desired?.active ? (holder?.owner ?? null) : null,
          now_ms: now,
          settings,
          jitter: 0,
        });
        return { ...base, action: d.action, reason: d.reason, status: d.status };
      }),
  );
  return {
    host_id: deps.hostId,
    lease_key: leaseKey,
    active_supervisor: hostLease
      ? { owner: hostLease.owner, fencing_token: hostLease.fence, expires_at: hostLease.expires_at }
      : null,
    generated_at: isoUtc(now),
    items,
    note: hostLease
      ? `the supervisor ${hostLease.owner} manages this host; its components are shown as it last recorded them`
      : 'no supervisor holds this host: what a supervisor would do on its first tick (nothing was started or stopped)',
  };
}
