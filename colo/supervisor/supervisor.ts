/**
 * The supervisor process (control-chain §6.2): one per host, holding the lease `supervisor:host=<h>` (fencing token on
 * every persisted action) and the OS lock `$GHTRADER_HOME/run/supervisor.lock`. Every poll (and at once on a desired
 * hint or a child exit) it reads each profile's desired documents from DynamoDB, observes its own children and their
 * state-file heartbeat, asks the pure `decide()` for one action, applies it, and persists counters and the
 * backoff/budget memory in TradingState, audits starts, stops, crashes and crash loops (actor
 * `system:supervisor@<host>`) and publishes `supervisor:updates`.
 *
 * Invariants: children are stopped with SIGTERM only (never SIGKILL; a child still alive after the grace raises
 * `stop_timeout`); a lost lease makes the supervisor passive (no starts, no stops) until it holds the lease again, and if
 * another owner holds it then, its children are stopped (`lease_lost`); shutdown stops children as
 * `supervisor_shutdown` and marks them so the next supervisor restarts them as `supervisor_restart`.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AuditLog } from '#shared/domain/control/audit.ts';
import { COMPONENT_KINDS, type ComponentKind, type DesiredStore, launchArgs } from '#shared/domain/control/desired.ts';
import { componentLeaseKey, type Lease, type LockStore } from '#shared/domain/control/locks.ts';
import {
  type ChildView,
  type ComponentMemory,
  type Decision,
  decide,
  desiredViewOf,
  type ExitInfo,
  MAX_STARTS_PER_TICK,
  type SupervisorSettings,
} from '#shared/domain/control/supervisor.ts';
import {
  type HeartbeatView,
  memoryOf,
  type SupervisorTelemetryStore,
} from '#shared/domain/control/supervisor-telemetry.ts';
import type { IdGen } from '#shared/domain/ids.ts';
import { type Clock, isoUtc } from '#shared/domain/time.ts';
import { describeError } from '#shared/errors/base.ts';
import { LockLostError, SupervisorLeaseHeldError } from '#shared/errors/control.ts';
import type { Logger } from '#shared/log.ts';
import { appendAudit } from '#shared/services/audit-append.ts';
import type { ChildHandle, ChildLauncher } from './child-launcher.ts';
import { HeartbeatWatch } from './heartbeat.ts';
import type { HostLock } from './host-lock.ts';

/** The realtime channel (under the warm-path prefix) of `supervisor.component` messages. */
export const SUPERVISOR_UPDATES_CHANNEL = 'supervisor:updates';
/** A component record is rewritten at least this often even when nothing changed (the console's coarse view). */
const COMPONENT_REFRESH_MS = 10_000;
/** How often a standby supervisor retries the lease. */
const STANDBY_RETRY_MS = 500;

export interface SupervisorDeps {
  hostId: string;
  home: string;
  locks: LockStore;
  desired: DesiredStore;
  telemetry: SupervisorTelemetryStore;
  audit: AuditLog;
  /** Best-effort publisher (the warm path); never throws. */
  publish: (channel: string, message: unknown) => void;
  launcher: ChildLauncher;
  hostLock: HostLock;
  clock: Clock;
  ids: IdGen;
  log: Logger;
  /** Resolved at every tick (config revisions apply live). */
  settings: () => Promise<SupervisorSettings>;
  /** Uniform in [0, 1) (the backoff jitter). */
  random: () => number;
  /** Profiles managed even without an index entry (`default` plus `GHTRADER_TQ_ACCOUNT_PROFILES`). */
  knownProfiles: readonly string[];
}

interface Child {
  handle: ChildHandle;
  startedAtMs: number;
  launchKey: string;
  stopRequested: { reason: string; at_ms: number } | null;
  exit: ExitInfo | null;
  heartbeat: HeartbeatWatch;
}

interface Slot {
  component: ComponentKind;
  profile: string;
  memory: ComponentMemory | null;
  child: Child | null;
  /** What was last persisted (to skip writes that change nothing). */
  persisted: { memory: ComponentMemory; action: string; reason: string } | null;
  lastWriteMs: number;
  desiredRevision: number | null;
}

/** Counters to add with one component write. */
interface Adds {
  started?: number;
  stopped?: number;
  restart_reason?: string;
  stop_reason?: string;
}

export class Supervisor {
  readonly leaseKey: string;
  private readonly ownerId: string;
  private readonly actor: { type: 'system'; id: string; name: string };
  private lease: Lease | null = null;
  private lastFence = 0;
  private passive = false;
  private stopped = false;
  private running = false;
  private slots = new Map<string, Slot>();
  private timer: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private settings: SupervisorSettings | null = null;
  private startsThisTick = 0;

  constructor(private readonly deps: SupervisorDeps) {
    this.leaseKey = `supervisor:host=${deps.hostId}`;
    this.ownerId = `supervisor:${deps.hostId}:${process.pid}:${deps.ids.next()}`;
    this.actor = { type: 'system', id: `supervisor@${deps.hostId}`, name: `system:supervisor@${deps.hostId}` };
  }

  /** The lease this supervisor holds (null while passive or before start). */
  currentLease(): Lease | null {
    return this.lease;
  }

  get owner(): string {
    return this.ownerId;
  }

  /**
   * Take the lease (a holder -> `lease_held:<owner>`, or with `standby` wait for it), then the OS lock, then run the
   * loop. Resolves once running (or when `stop()` ends a standby wait).
   */
  async start(opts: { standby: boolean }): Promise<void> {
    const settings = await this.deps.settings();
    this.settings = settings;
    for (;;) {
      if (this.stopped) return;
      const r = await this.deps.locks.acquire(
        this.leaseKey,
        { ownerId: this.ownerId, host: this.deps.hostId, pid: process.pid },
        settings.lease_s * 1000,
      );
      if (r.ok) {
        this.lease = r.leases[0] ?? null;
        break;
      }
      const holder = r.conflicts[0];
      if (!opts.standby) {
        throw new SupervisorLeaseHeldError(
          this.leaseKey,
          holder?.owner ?? 'unknown',
          holder?.expires_at ?? '',
          holder?.fence ?? 0,
        );
      }
      await sleep(STANDBY_RETRY_MS);
    }
    const lease = this.lease;
    if (!lease) throw new Error(`lease ${this.leaseKey} acquired without a lease record`);
    try {
      await this.deps.hostLock.acquire();
    } catch (err) {
      await this.deps.locks.release(lease);
      this.lease = null;
      throw err;
    }
    this.lastFence = lease.fence;
    this.running = true;
    this.deps.log.info({ lease: this.leaseKey, fence: lease.fence, owner: this.ownerId }, 'supervisor.lease_acquired');
    await this.audit('supervisor.lease', this.leaseKey, 'ok', 'acquired', null, {
      owner: this.ownerId,
      fencing_token: lease.fence,
    });
    this.scheduleRenew(settings);
    this.wake();
  }

  /** Reconcile now (a desired hint or a child exit). */
  wake(): void {
    if (!this.running || this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /**
   * Stop the loop, SIGTERM every child (`supervisor_shutdown`), wait for them up to the stop grace (a child still alive
   * then is reported `stop_timeout` and left running: never killed), release the lease and the OS lock.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    await this.ticking;
    if (!this.running) return;
    this.running = false;
    const graceMs = (this.settings?.stop_grace_s ?? 30) * 1000;
    const waits: Promise<void>[] = [];
    for (const slot of this.slots.values()) {
      const child = slot.child;
      if (!child || child.exit) continue;
      if (!child.stopRequested && this.lease) await this.requestStop(slot, 'supervisor_shutdown', true);
      waits.push(this.awaitExit(slot, graceMs));
    }
    await Promise.all(waits);
    if (this.lease) {
      await this.deps.locks.release(this.lease);
      this.lease = null;
    }
    await this.deps.hostLock.release();
    this.deps.log.info({ lease: this.leaseKey }, 'supervisor.stopped');
  }

  private scheduleRenew(settings: SupervisorSettings): void {
    const everyMs = (settings.lease_s * 1000) / 3;
    this.renewTimer = setInterval(() => void this.renew(), everyMs);
  }

  private async renew(): Promise<void> {
    const lease = this.lease;
    if (!lease || this.stopped) return;
    try {
      this.lease = await this.deps.locks.renew(lease, (this.settings?.lease_s ?? 10) * 1000);
    } catch (err) {
      if (err instanceof LockLostError || this.deps.clock.nowMs() >= lease.expiresAtMs) {
        await this.loseLease(err);
      } else {
        this.deps.log.warn({ lease: this.leaseKey, err: describeError(err) }, 'supervisor.lease_renew_failed');
      }
    }
  }

  private async loseLease(cause: unknown): Promise<void> {
    if (!this.lease) return;
    const fence = this.lease.fence;
    this.lease = null;
    this.passive = true;
    this.deps.log.error({ lease: this.leaseKey, fence, err: describeError(cause) }, 'supervisor.lease_lost');
    await this.audit('supervisor.lease', this.leaseKey, 'failed', 'lost', { fencing_token: fence }, null);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.ticking = this.runTick().finally(() => {
        this.ticking = null;
        if (this.stopped || !this.running) return;
        const again = this.again;
        this.again = false;
        this.schedule(again ? 0 : this.nextDelayMs());
      });
    }, delayMs);
  }

  /** The poll, or sooner when a backoff deadline falls inside it. */
  private nextDelayMs(): number {
    const poll = (this.settings?.poll_s ?? 2) * 1000;
    const now = this.deps.clock.nowMs();
    let delay = poll;
    for (const slot of this.slots.values()) {
      const until = slot.memory?.backoff_until_ms;
      if (until !== null && until !== undefined && until > now) delay = Math.min(delay, until - now);
    }
    return Math.max(0, delay);
  }

  private async runTick(): Promise<void> {
    let failure: string | null = null;
    let active: string[] = [];
    try {
      this.settings = await this.deps.settings();
      if (this.passive || !this.lease) await this.regainLease();
      active = await this.tick();
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
      this.deps.log.error({ err: describeError(err) }, 'supervisor.tick_failed');
    }
    const lease = this.lease;
    if (!lease) return;
    try {
      await this.deps.telemetry.writeHost({
        host_id: this.deps.hostId,
        lease_owner: this.ownerId,
        fencing_token: lease.fence,
        lease_expires_at_ms: lease.expiresAtMs,
        poll_s: this.settings?.poll_s ?? 2,
        active,
        now_ms: this.deps.clock.nowMs(),
        failure,
      });
    } catch (err) {
      this.deps.log.error({ err: describeError(err) }, 'supervisor.host_telemetry_failed');
    }
  }

  /** While passive: take the lease back if it is free; if another owner holds it, our children are duplicates. */
  private async regainLease(): Promise<void> {
    const settings = this.settings;
    if (!settings) return;
    const r = await this.deps.locks.acquire(
      this.leaseKey,
      { ownerId: this.ownerId, host: this.deps.hostId, pid: process.pid },
      settings.lease_s * 1000,
    );
    if (r.ok) {
      const lease = r.leases[0] ?? null;
      this.lease = lease;
      this.passive = false;
      if (lease) this.lastFence = lease.fence;
      // Memory may have moved on under another owner: re-read it.
      for (const slot of this.slots.values()) slot.memory = null;
      await this.audit('supervisor.lease', this.leaseKey, 'ok', 'reacquired', null, { fencing_token: lease?.fence });
      return;
    }
    for (const slot of this.slots.values()) {
      if (slot.child && !slot.child.exit && !slot.child.stopRequested)
        await this.requestStop(slot, 'lease_lost', false);
    }
  }

  /** One reconcile pass over every known (component, profile); returns the active `<component>:<profile>` keys. */
  private async tick(): Promise<string[]> {
    if (this.passive || !this.lease) return [];
    this.startsThisTick = 0;
    const keys = new Map<string, { component: ComponentKind; profile: string }>();
    for (const p of this.deps.knownProfiles) {
      for (const component of COMPONENT_KINDS) keys.set(`${component}:${p}`, { component, profile: p });
    }
    for (const e of await this.deps.telemetry.indexedProfiles()) keys.set(`${e.component}:${e.profile}`, e);
    for (const s of this.slots.values()) keys.set(`${s.component}:${s.profile}`, s);
    const active: string[] = [];
    const errors: string[] = [];
    for (const [key, { component, profile }] of [...keys].sort(([a], [b]) => (a < b ? -1 : 1))) {
      try {
        if (await this.reconcile(component, profile)) active.push(key);
      } catch (err) {
        errors.push(`${key}: ${err instanceof Error ? err.message : String(err)}`);
        this.deps.log.error(
          { component, account_profile: profile, err: describeError(err) },
          'supervisor.reconcile_failed',
        );
      }
      if (this.passive) break;
    }
    if (errors.length > 0) throw new Error(errors.join('; '));
    return active;
  }

  /** Reconcile one component; true when it is desired active on this host. */
  private async reconcile(component: ComponentKind, profile: string): Promise<boolean> {
    const key = `${component}:${profile}`;
    const rec = await this.deps.desired.head(component, profile);
    const { doc, mine, view: desired } = desiredViewOf(component, profile, rec, this.deps.hostId);
    let slot = this.slots.get(key);
    if (!mine && !slot?.child) {
      // Another host's document (or none): nothing of ours to manage, and not ours to report.
      if (!slot?.memory || slot.memory.state === 'not_initialized') return false;
    }
    if (!slot) {
      slot = {
        component,
        profile,
        memory: null,
        child: null,
        persisted: null,
        lastWriteMs: 0,
        desiredRevision: null,
      };
      this.slots.set(key, slot);
    }
    if (!slot.memory) {
      const stored = await this.deps.telemetry.getComponent(component, profile);
      slot.memory = memoryOf(stored);
      slot.persisted = stored ? { memory: slot.memory, action: stored.last_action, reason: stored.last_reason } : null;
    }
    const settings = this.settings;
    if (!settings) throw new Error('supervisor settings not resolved');
    const now = this.deps.clock.nowMs();
    slot.desiredRevision = rec?.revision ?? null;
    const child = slot.child;
    let childView: ChildView = { kind: 'none' };
    let heartbeat: HeartbeatView | null = null;
    if (child?.exit) {
      childView = { kind: 'exited', exit: child.exit, stop_requested: child.stopRequested };
    } else if (child) {
      childView = {
        kind: 'alive',
        started_at_ms: child.startedAtMs,
        launch_key: child.launchKey,
        stop_requested: child.stopRequested,
      };
      heartbeat = await child.heartbeat.observe(this.deps.home, component, profile, now);
    }
    const external = desired?.active && !child ? await this.externalHolder(component, profile) : null;
    const decision = decide({
      component,
      desired,
      child: childView,
      heartbeat_age_s: heartbeat?.age_s ?? null,
      memory: slot.memory,
      external_holder: external,
      now_ms: now,
      settings,
      jitter: this.deps.random() * 2 - 1,
    });
    if (decision.action === 'start' && this.startsThisTick >= MAX_STARTS_PER_TICK) {
      // Over this tick's start budget: decided again next tick, nothing recorded.
      this.again = true;
      return desired?.active === true;
    }
    if (childView.kind === 'exited') slot.child = null;
    const launch = rec && doc ? { revision: rec.revision, args: launchArgs(component, profile, doc) } : null;
    await this.apply(slot, decision, launch, heartbeat);
    return desired?.active === true;
  }

  private async apply(
    slot: Slot,
    d: Decision,
    launch: { revision: number; args: string[] } | null,
    heartbeat: HeartbeatView | null,
  ): Promise<void> {
    const { component, profile } = slot;
    const desiredRevision = launch?.revision ?? null;
    const previousState = slot.persisted?.memory.state ?? null;
    const target = `${component}:${profile}`;
    const adds: Adds = {};
    const exit = d.memory.last_exit;
    if (d.events.includes('crash') && exit) {
      await this.audit('supervisor.crash', target, 'failed', d.reason, null, {
        code: exit.code,
        signal: exit.signal,
        consecutive_crashes: d.memory.consecutive_crashes,
        backoff_s: d.backoff_s ?? null,
      });
    }
    if (d.events.includes('crash_loop')) {
      this.deps.log.error({ component, account_profile: profile, reason: d.reason }, 'supervisor.crash_loop');
      await this.audit('supervisor.crash_loop', target, 'failed', d.reason, null, {
        crashes_in_window: d.memory.budget_window_ms.length,
        desired_revision: d.memory.crash_loop_revision,
      });
    }
    if (d.events.includes('stop_timeout')) {
      this.deps.log.error(
        { component, account_profile: profile, pid: slot.child?.handle.pid },
        'supervisor.stop_timeout',
      );
      await this.audit(
        'supervisor.stop',
        target,
        'failed',
        'stop_timeout',
        { pid: slot.child?.handle.pid ?? null },
        null,
      );
    }
    slot.memory = d.memory;
    if (d.action === 'start') {
      if (!launch) throw new Error(`start of ${target} decided without a desired document`);
      await this.launch(slot, d.reason, launch, adds);
    } else if (d.action === 'stop' || d.action === 'restart') {
      const child = slot.child;
      if (child) {
        child.stopRequested = { reason: d.reason, at_ms: this.deps.clock.nowMs() };
        child.handle.terminate();
        adds.stopped = 1;
        adds.stop_reason = d.reason;
        await this.audit('supervisor.stop', target, 'ok', d.reason, { pid: child.handle.pid }, null);
      }
    }
    // The record keeps the last action taken (a quiet tick does not erase why the child runs or waits).
    const quiet = d.action === 'none' && d.events.length === 0;
    await this.persist(
      slot,
      quiet ? (slot.persisted?.action ?? 'none') : d.action,
      quiet ? (slot.persisted?.reason ?? '') : d.reason,
      desiredRevision,
      heartbeat,
      adds,
    );
    if (d.action !== 'none' || d.events.length > 0 || previousState !== d.status) {
      this.deps.publish(SUPERVISOR_UPDATES_CHANNEL, {
        type: 'supervisor.component',
        component,
        profile,
        host_id: this.deps.hostId,
        state: d.status,
        action: d.action,
        reason: d.reason,
        desired_revision: desiredRevision,
        ts: isoUtc(this.deps.clock.nowMs()),
      });
    }
  }

  private async launch(
    slot: Slot,
    reason: string,
    launch: { revision: number; args: string[] },
    adds: Adds,
  ): Promise<void> {
    const { component, profile } = slot;
    const { args } = launch;
    const heartbeat = await HeartbeatWatch.begin(this.deps.home, component, profile);
    const handle = this.deps.launcher.launch({ component, profile, args });
    const child: Child = {
      handle,
      startedAtMs: this.deps.clock.nowMs(),
      launchKey: args.join(' '),
      stopRequested: null,
      exit: null,
      heartbeat,
    };
    slot.child = child;
    this.startsThisTick++;
    void handle.exited.then((e) => {
      child.exit = { code: e.code, signal: e.signal, at_ms: this.deps.clock.nowMs() };
      this.deps.log.info({ component, account_profile: profile, pid: handle.pid, ...e }, 'supervisor.child_exited');
      this.wake();
    });
    adds.started = 1;
    adds.restart_reason = reason;
    this.deps.log.info({ component, account_profile: profile, pid: handle.pid, reason, args }, 'supervisor.started');
    await this.audit('supervisor.start', `${component}:${profile}`, 'ok', reason, null, {
      pid: handle.pid,
      desired_revision: launch.revision,
      args,
    });
  }

  /** SIGTERM outside a decision (shutdown, lease lost), recorded like a decided stop. */
  private async requestStop(slot: Slot, reason: string, resume: boolean): Promise<void> {
    const child = slot.child;
    if (!child || !slot.memory) return;
    child.stopRequested = { reason, at_ms: this.deps.clock.nowMs() };
    child.handle.terminate();
    slot.memory = {
      ...slot.memory,
      state: 'stopping',
      resume_after_shutdown: resume,
      pending_start_reason: null,
    };
    await this.audit(
      'supervisor.stop',
      `${slot.component}:${slot.profile}`,
      'ok',
      reason,
      { pid: child.handle.pid },
      null,
    );
    if (this.lease) {
      await this.persist(slot, 'stop', reason, slot.desiredRevision, null, { stopped: 1, stop_reason: reason });
    }
  }

  private async awaitExit(slot: Slot, graceMs: number): Promise<void> {
    const child = slot.child;
    if (!child) return;
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      child.handle.exited.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (!exited) {
      this.deps.log.error(
        { component: slot.component, account_profile: slot.profile, pid: child.handle.pid },
        'supervisor.stop_timeout',
      );
      await this.audit(
        'supervisor.stop',
        `${slot.component}:${slot.profile}`,
        'failed',
        'stop_timeout',
        {
          pid: child.handle.pid,
        },
        null,
      );
    }
  }

  /** The component's trading lease when a process this supervisor did not start holds it. */
  private async externalHolder(component: ComponentKind, profile: string): Promise<string | null> {
    const holder = await this.deps.locks.holder(componentLeaseKey(component, profile));
    return holder ? holder.owner : null;
  }

  private async persist(
    slot: Slot,
    action: string,
    reason: string,
    desiredRevision: number | null,
    heartbeat: HeartbeatView | null,
    adds: Adds,
  ): Promise<void> {
    const lease = this.lease;
    const memory = slot.memory;
    if (!lease || !memory) return;
    const now = this.deps.clock.nowMs();
    const changed =
      Object.keys(adds).length > 0 ||
      !slot.persisted ||
      !isDeepStrictEqual(slot.persisted.memory, memory) ||
      (action !== 'none' && (slot.persisted.action !== action || slot.persisted.reason !== reason));
    if (!changed && now - slot.lastWriteMs < COMPONENT_REFRESH_MS) return;
    const ok = await this.deps.telemetry.writeComponent({
      component: slot.component,
      account_profile: slot.profile,
      host_id: this.deps.hostId,
      fencing_token: lease.fence,
      memory,
      last_action: action,
      last_reason: reason,
      desired_revision: desiredRevision,
      child_pid: slot.child && !slot.child.exit ? slot.child.handle.pid : null,
      heartbeat,
      now_ms: now,
      add: adds,
    });
    if (!ok) {
      // A higher fencing token wrote this record: another supervisor owns the host now.
      await this.loseLease(new Error(`component record ${slot.component}/${slot.profile} has a higher fencing token`));
      return;
    }
    slot.persisted = { memory, action, reason };
    slot.lastWriteMs = now;
  }

  private async audit(
    action: string,
    target: string,
    outcome: 'ok' | 'failed',
    reason: string,
    before: unknown,
    after: Record<string, unknown> | null,
  ): Promise<void> {
    await appendAudit(this.deps.audit, this.deps.log, {
      actor: this.actor,
      role: 'system',
      ip: null,
      user_agent: null,
      request_id: null,
      action,
      target,
      outcome,
      reason,
      before: before ?? null,
      // Every action is stamped with the fencing token it was taken under.
      after: { ...(after ?? {}), fencing_token: this.lease?.fence ?? this.lastFence },
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
