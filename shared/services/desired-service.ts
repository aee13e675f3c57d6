/**
 * Desired state (control-chain §6.1): writes of the gateway and strategy documents of a profile (desired, start,
 * stop), each an append-only revision on the Config table with optimistic concurrency, validated against the schemas
 * and the effective risk caps, audited (`{gateway,strategy}.{desired,start,stop}`) and then mirrored to the warm path
 * (`SET <prefix>{kind}:desired:<p>` and `PUBLISH <prefix>{kind}:desired-updated:<p>`). A Redis failure never fails a
 * write: it is logged and the supervisors still read DynamoDB on their poll. The API, the CLI and the console all call
 * this service, so validation and audit are identical.
 */
import type { AuditLog } from '../domain/control/audit.ts';
import { canonicalJson } from '../domain/control/canonical-json.ts';
import { resolveConfig } from '../domain/control/config.ts';
import {
  type ComponentKind,
  checkGatewayDesired,
  checkStrategyDesired,
  type DesiredAction,
  type DesiredDoc,
  type DesiredRecord,
  DesiredStartRequestSchema,
  DesiredStatusQuerySchema,
  DesiredStopRequestSchema,
  type DesiredStore,
  DesiredWriteRequestSchema,
  desiredPartition,
  type GatewayDesired,
  isActive,
  parseDesired,
  parseDesiredInput,
  type RiskCaps,
  type StrategyDesired,
} from '../domain/control/desired.ts';
import type { ComponentStatus } from '../domain/control/supervisor.ts';
import type { ComponentTelemetry, SupervisorTelemetryStore } from '../domain/control/supervisor-telemetry.ts';
import { parseOrThrow } from '../domain/control/validation.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import { describeError } from '../errors/base.ts';
import {
  AlreadyRunningError,
  DesiredRevisionConflictError,
  NoDesiredError,
  ValidationFailedError,
} from '../errors/control.ts';
import type { WarmPath } from '../infra/redis/warm-path.ts';
import type { Logger } from '../log.ts';
import { appendAudit, auditWho } from './audit-append.ts';
import { type Caller, requireCallerRole } from './auth-service.ts';
import type { ConfigService } from './config-service.ts';

const MAX_WRITE_TRIES = 3;
/** Supervisor states in which a child process exists (what `stop` reports as `was_running`). */
const PROCESS_STATES: readonly ComponentStatus[] = ['starting', 'running', 'degraded', 'stopping'];

export interface DesiredServiceDeps {
  store: DesiredStore;
  telemetry: SupervisorTelemetryStore;
  /** The effective config (risk caps, console stale age). */
  configService: Pick<ConfigService, 'current'>;
  env: Readonly<Record<string, string | undefined>>;
  audit: AuditLog;
  warm: Pick<WarmPath, 'set' | 'publish'>;
  clock: Clock;
  log: Logger;
  /** Host id written into a document that names none (`GHTRADER_HOST_ID`, default the hostname). */
  hostId: string;
}

export interface DesiredWriteResult {
  account_profile: string;
  desired_revision: number;
  desired: DesiredDoc;
}

export interface DesiredStopResult extends DesiredWriteResult {
  was_running: boolean;
}

/** `GET /api/{gateway,strategy}/status`: desired, its revision and the supervisor's view; no invented state. */
export interface ComponentStatusView {
  component: ComponentKind;
  account_profile: string;
  desired: DesiredDoc | null;
  desired_revision: number | null;
  desired_updated_at: string | null;
  desired_updated_by: string | null;
  desired_reason: string | null;
  component_status: ComponentStatus;
  /** One line saying what the status rests on. */
  text: string;
  /** True when desired is active and the supervisor's record is older than `GHTRADER_CONSOLE_STALE_S`. */
  stale: boolean;
  /** The component's own state document; none exists until the trading chain's processes write one. */
  state: null;
  state_source: 'none';
  state_note: string;
  supervisor: ComponentTelemetry | null;
  generated_at: string;
}

const NO_STATE_NOTE =
  'no component state is read here: the gateway and strategy processes (`ghtrader gateway run` / `strategy run`) ' +
  'arrive with the trading chain; until then the supervisor record is the only view of the component';

export class DesiredService {
  constructor(private readonly deps: DesiredServiceDeps) {}

  /** `POST /api/<kind>/desired`: a new revision of the whole document (absent fields take their defaults). */
  async write(caller: Caller, kind: ComponentKind, input: unknown): Promise<DesiredWriteResult> {
    requireCallerRole(caller, 'operator');
    const req = parseOrThrow(DesiredWriteRequestSchema, input, `desired ${kind} request`);
    const profile = req.account_profile;
    const head = await this.deps.store.head(kind, profile);
    const doc = parseDesiredInput(kind, req.desired, head ? hostOf(head) : this.deps.hostId);
    await this.check(kind, doc, profile);
    const rec = await this.commit(
      caller,
      kind,
      profile,
      doc,
      'desired',
      req.reason ?? 'api_desired',
      req.expected_desired_revision,
      head,
    );
    return { account_profile: profile, desired_revision: rec.revision, desired: doc };
  }

  /**
   * `POST /api/<kind>/start`: make desired active — the document sent, else the stored one (gateway: its mode, or
   * `sim` when idle or absent; strategy: `run`, 400 `no_desired` without a document, `no_symbols` without symbols).
   * Already active in that mode -> 409 `already_running`, unless the supervisor holds it in `crash_loop` (a start is
   * then the operator's way to clear it: a new revision).
   */
  async start(caller: Caller, kind: ComponentKind, input: unknown): Promise<DesiredWriteResult> {
    requireCallerRole(caller, 'operator');
    const req = parseOrThrow(DesiredStartRequestSchema, input, `${kind} start request`);
    const profile = req.account_profile;
    const head = await this.deps.store.head(kind, profile);
    const hostId = head ? hostOf(head) : this.deps.hostId;
    let doc: DesiredDoc;
    if (req.desired) {
      doc = parseDesiredInput(kind, req.desired, hostId);
      if (!isActive(kind, doc)) {
        throw new ValidationFailedError(`start needs an active desired mode, got ${doc.mode}`, [
          {
            path: ['desired', 'mode'],
            code: 'invalid_value',
            message: kind === 'gateway' ? 'use a mode other than idle (or POST /stop)' : 'use mode run (or POST /stop)',
          },
        ]);
      }
    } else if (kind === 'gateway') {
      const base = head ? (parseDesired('gateway', head.desired) as GatewayDesired) : null;
      doc = parseDesiredInput(
        'gateway',
        { ...(base ?? {}), mode: base && base.mode !== 'idle' ? base.mode : 'sim' },
        hostId,
      );
    } else {
      if (!head) throw new NoDesiredError(kind, profile);
      doc = parseDesiredInput(
        'strategy',
        { ...(parseDesired('strategy', head.desired) as StrategyDesired), mode: 'run' },
        hostId,
      );
    }
    await this.check(kind, doc, profile);
    if (head) {
      const current = parseDesired(kind, head.desired);
      if (isActive(kind, current) && current.mode === doc.mode) {
        const sup = await this.deps.telemetry.getComponent(kind, profile);
        if (sup?.state !== 'crash_loop') {
          throw new AlreadyRunningError(kind, profile, doc.mode, sup?.state ?? 'not_reported');
        }
      }
    }
    const rec = await this.commit(
      caller,
      kind,
      profile,
      doc,
      'start',
      req.reason ?? 'api_start',
      req.expected_desired_revision,
      head,
    );
    return { account_profile: profile, desired_revision: rec.revision, desired: doc };
  }

  /**
   * `POST /api/<kind>/stop`: desired `idle` (idempotent: an idle document is not rewritten); `was_running` = the
   * supervisor reported a process for it (starting, running, degraded or stopping).
   */
  async stop(caller: Caller, kind: ComponentKind, input: unknown): Promise<DesiredStopResult> {
    requireCallerRole(caller, 'operator');
    const req = parseOrThrow(DesiredStopRequestSchema, input, `${kind} stop request`);
    const profile = req.account_profile;
    const [head, sup] = await Promise.all([
      this.deps.store.head(kind, profile),
      this.deps.telemetry.getComponent(kind, profile),
    ]);
    const was_running = sup !== null && PROCESS_STATES.includes(sup.state);
    const current = head ? parseDesired(kind, head.desired) : null;
    if (head && current && current.mode === 'idle') {
      if (req.expected_desired_revision !== undefined && req.expected_desired_revision !== head.revision) {
        throw new DesiredRevisionConflictError(
          desiredPartition(kind, profile),
          req.expected_desired_revision,
          head.revision,
        );
      }
      return { account_profile: profile, desired_revision: head.revision, desired: current, was_running };
    }
    const doc = parseDesiredInput(kind, { ...(current ?? {}), mode: 'idle' }, head ? hostOf(head) : this.deps.hostId);
    const rec = await this.commit(
      caller,
      kind,
      profile,
      doc,
      'stop',
      req.reason ?? 'api_stop',
      req.expected_desired_revision,
      head,
    );
    return { account_profile: profile, desired_revision: rec.revision, desired: doc, was_running };
  }

  /** The desired document, its revision and the supervisor's record of the component. */
  async status(kind: ComponentKind, query: unknown): Promise<ComponentStatusView> {
    const q = parseOrThrow(DesiredStatusQuerySchema, query, `${kind} status query`);
    const profile = q.account_profile;
    const [head, sup, cfg] = await Promise.all([
      this.deps.store.head(kind, profile),
      this.deps.telemetry.getComponent(kind, profile),
      this.deps.configService.current(),
    ]);
    const now = this.deps.clock.nowMs();
    const doc = head ? parseDesired(kind, head.desired) : null;
    const active = doc !== null && isActive(kind, doc);
    const staleS = Number(
      resolveConfig('GHTRADER_CONSOLE_STALE_S', { revision: cfg.revision, snapshot: cfg.snapshot, env: this.deps.env })
        .value,
    );
    let status: ComponentStatus;
    let text: string;
    if (sup && sup.state !== 'not_initialized') {
      status = sup.state;
      text = `supervisor ${sup.host_id}: ${sup.state}${sup.last_reason ? ` (${sup.last_reason})` : ''}`;
    } else if (!doc) {
      status = 'not_initialized';
      text = `no desired ${kind} document for ${profile}`;
    } else if (!active) {
      status = 'desired_idle';
      text = 'desired idle';
    } else {
      status = 'not_initialized';
      text = `desired ${doc.mode} on host ${doc.host_id}, but no supervisor has reported this ${kind} yet`;
    }
    const stale = active && sup !== null && now - Date.parse(sup.updated_at) > staleS * 1000;
    return {
      component: kind,
      account_profile: profile,
      desired: doc,
      desired_revision: head?.revision ?? null,
      desired_updated_at: head?.created_at ?? null,
      desired_updated_by: head ? `${head.updated_by.type}:${head.updated_by.id}` : null,
      desired_reason: head?.reason ?? null,
      component_status: status,
      text,
      stale,
      state: null,
      state_source: 'none',
      state_note: NO_STATE_NOTE,
      supervisor: sup,
      generated_at: isoUtc(now),
    };
  }

  private async check(kind: ComponentKind, doc: DesiredDoc, profile: string): Promise<void> {
    if (kind === 'strategy') {
      checkStrategyDesired(doc as StrategyDesired, profile);
      return;
    }
    checkGatewayDesired(doc as GatewayDesired, await this.caps(), profile);
  }

  /** `GHTRADER_RISK_*` from the current revision + env (§5.4). */
  private async caps(): Promise<RiskCaps> {
    const head = await this.deps.configService.current();
    const layers = { revision: head.revision, snapshot: head.snapshot, env: this.deps.env };
    const num = (key: string) => Number(resolveConfig(key, layers).value);
    return {
      max_abs_position: num('GHTRADER_RISK_MAX_ABS_POSITION_CAP'),
      max_order_size: num('GHTRADER_RISK_MAX_ORDER_SIZE_CAP'),
      max_ops_per_sec: num('GHTRADER_RISK_MAX_OPS_PER_SEC_CAP'),
      require_daily_loss_for_live: resolveConfig('GHTRADER_RISK_REQUIRE_DAILY_LOSS_FOR_LIVE', layers).value === true,
    };
  }

  /**
   * Put head+1 with `attribute_not_exists`. With `expected` a moved head is 409 `desired_revision_conflict`; without
   * it a lost race re-reads the head and retries (≤ 3 tries), as config writes do.
   */
  private async commit(
    caller: Caller,
    kind: ComponentKind,
    profile: string,
    doc: DesiredDoc,
    action: DesiredAction,
    reason: string,
    expected: number | undefined,
    firstHead: DesiredRecord | null,
  ): Promise<DesiredRecord> {
    const docName = desiredPartition(kind, profile);
    // The index item first: a document can then never exist without supervisors finding it.
    await this.deps.telemetry.indexProfile(kind, profile);
    let head = firstHead;
    for (let attempt = 1; ; attempt++) {
      const headRev = head?.revision ?? 0;
      if (expected !== undefined && headRev !== expected) {
        throw new DesiredRevisionConflictError(docName, expected, head?.revision ?? null);
      }
      const rec: DesiredRecord = {
        component: kind,
        account_profile: profile,
        revision: headRev + 1,
        created_at: isoUtc(this.deps.clock.nowMs()),
        updated_by: caller.actor,
        role: caller.role,
        reason,
        action,
        desired: doc as unknown as Record<string, unknown>,
      };
      if (await this.deps.store.put(rec)) {
        await this.afterWrite(caller, rec, head);
        return rec;
      }
      if (expected !== undefined) throw new DesiredRevisionConflictError(docName, expected, headRev + 1);
      if (attempt >= MAX_WRITE_TRIES) throw new DesiredRevisionConflictError(docName, headRev, headRev + 1);
      this.deps.log.info({ document: docName, revision: rec.revision, attempt }, 'desired.write_retry');
      head = await this.deps.store.head(kind, profile);
    }
  }

  private async afterWrite(caller: Caller, rec: DesiredRecord, before: DesiredRecord | null): Promise<void> {
    const { component: kind, account_profile: profile } = rec;
    await appendAudit(this.deps.audit, this.deps.log, {
      ...auditWho(caller),
      action: `${kind}.${rec.action}`,
      target: `${kind}:${profile}`,
      outcome: 'ok',
      reason: rec.reason,
      before: before ? { desired_revision: before.revision, desired: before.desired } : null,
      after: { desired_revision: rec.revision, desired: rec.desired },
    });
    const payload = {
      type: `${kind}.desired`,
      account_profile: profile,
      desired_revision: rec.revision,
      desired: rec.desired,
      updated_at: rec.created_at,
    };
    try {
      await this.deps.warm.set(`${kind}:desired:${profile}`, canonicalJson(payload));
    } catch (err) {
      // The write is committed in DynamoDB; readers poll it there. Redis is the warm path only.
      this.deps.log.warn(
        { component: kind, account_profile: profile, desired_revision: rec.revision, err: describeError(err) },
        'desired.redis_set_failed',
      );
    }
    this.deps.warm.publish(`${kind}:desired-updated:${profile}`, payload);
  }
}

function hostOf(rec: DesiredRecord): string {
  const h = rec.desired.host_id;
  if (typeof h !== 'string') throw new Error(`stored desired ${rec.component}/${rec.account_profile} has no host_id`);
  return h;
}

/** Desired writes need the operator role (control-chain §2), whichever door the caller came through. */
