/**
 * Broker accounts (control-chain §2, §3.2 `/api/accounts`, `/api/brokers`): list the known profiles with where their
 * credentials come from, the last verification and the gateway/strategy status; upsert and delete a profile's secret
 * [admin]; submit an `account.verify` job [operator]. The API, the CLI and the console call this service, so checks,
 * messages and audit entries (`account.upsert`, `account.delete`, `account.verify`) are identical.
 *
 * Secrets: the password is write-only and the account id leaves only masked — in answers, audit `before`/`after`
 * (broker id, masked id, `password_changed`), log lines and job params (the verify job carries the profile only).
 */
import {
  type AccountConfiguration,
  AccountDeleteSchema,
  type AccountStateStore,
  AccountUpsertSchema,
  AccountVerifyRequestSchema,
  type CredentialSource,
  describeAccountConfiguration,
  knownAccountProfiles,
  type LastVerify,
  maskAccountId,
} from '../domain/control/accounts.ts';
import type { AuditLog } from '../domain/control/audit.ts';
import { type ComponentKind, ProfileSchema } from '../domain/control/desired.ts';
import { accountVerify } from '../domain/control/job-kinds/account.ts';
import { gatewayLeaseKey, type LockStore } from '../domain/control/locks.ts';
import { type Role, roleAtLeast } from '../domain/control/roles.ts';
import type { AccountSecretSummary, SecretStore } from '../domain/control/secret-store.ts';
import type { ComponentStatus } from '../domain/control/supervisor.ts';
import type { SupervisorTelemetryStore } from '../domain/control/supervisor-telemetry.ts';
import { parseOrThrow } from '../domain/control/validation.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import {
  ControlError,
  DependencyUnavailableError,
  ForbiddenError,
  LockHeldError,
  NotFoundError,
} from '../errors/control.ts';
import type { Logger } from '../log.ts';
import { appendAudit, auditWho } from './audit-append.ts';
import type { Caller } from './auth-service.ts';
import type { DesiredService } from './desired-service.ts';
import type { JobService, RequestContext, SubmitResult } from './job-service.ts';

/** Profiles `GET /api/accounts` answers at most (like `GET /api/gateway/list`, §3.1 list bound). */
export const ACCOUNT_LIST_MAX = 100;

/** A component of the profile as the gateway list and the Trading page show it (`DesiredService.status`). */
export interface ComponentBrief {
  component_status: ComponentStatus;
  /** One line: what the status rests on. */
  text: string;
  stale: boolean;
  /** The desired mode, or null without a desired document. */
  desired_mode: string | null;
}

/** One row of `GET /api/accounts`. */
export interface AccountSummary extends AccountConfiguration {
  profile: string;
  last_verify: LastVerify | null;
  gateway: ComponentBrief;
  strategy: ComponentBrief;
}

export interface AccountListResult {
  items: AccountSummary[];
  /** More profiles are known than one answer lists. */
  truncated: boolean;
}

/** Where a broker id of `GET /api/brokers` comes from. */
export type BrokerSource = Exclude<CredentialSource, 'none'> | 'simulator';

export interface BrokerListResult {
  items: { broker_id: string; source: BrokerSource }[];
}

/** `POST /api/accounts/delete` and `ghtrader accounts delete`. */
export interface AccountDeleteResult {
  profile: string;
  deleted: true;
}

export interface AccountUpsertResult {
  account: AccountSummary;
  created: boolean;
  password_changed: boolean;
}

export interface AccountServiceDeps {
  /** Null in a process without one (an AWS function deployed without `GHTRADER_ACCOUNT_SECRET_PREFIX`): writes 503. */
  secrets: SecretStore | null;
  states: AccountStateStore;
  /** The environment's credential variables (`TQ_*`) and `GHTRADER_TQ_ACCOUNT_PROFILES`. */
  env: Readonly<Record<string, string | undefined>>;
  locks: Pick<LockStore, 'holder'>;
  jobs: Pick<JobService, 'submit'>;
  desired: Pick<DesiredService, 'status'>;
  telemetry: Pick<SupervisorTelemetryStore, 'indexedProfiles'>;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  /**
   * The broker id of the local SHFE simulator when this process's DIFF connection points at it (`ghtrader up`: the
   * simulator's default broker `ghsim`); null when it talks to Shinny (AWS, `--no-sim`).
   */
  simulatorBrokerId: string | null;
}

const NO_STORE_MESSAGE =
  'the broker-account secret store (this process has none: set GHTRADER_ACCOUNT_SECRET_PREFIX in AWS)';

export class AccountService {
  constructor(private readonly deps: AccountServiceDeps) {}

  /**
   * Every known profile: `default`, `GHTRADER_TQ_ACCOUNT_PROFILES`, each profile with a stored secret and each with a
   * desired document; `default` first, then by name, at most `ACCOUNT_LIST_MAX`.
   */
  async list(): Promise<AccountListResult> {
    const { profiles, stored } = await this.profiles();
    const shown = profiles.slice(0, ACCOUNT_LIST_MAX);
    const items = await Promise.all(shown.map((p) => this.summary(p, stored.get(p) ?? null)));
    return { items, truncated: profiles.length > shown.length };
  }

  /**
   * Broker ids offered for new accounts: those of configured accounts (secret store, then environment) and, when the
   * DIFF connection points at the local simulator, the broker it serves. One item per broker id, first source wins.
   */
  async brokers(): Promise<BrokerListResult> {
    const { profiles, stored } = await this.profiles();
    const configs = profiles.map((p) => describeAccountConfiguration(p, stored.get(p) ?? null, this.deps.env));
    const seen = new Map<string, BrokerSource>();
    for (const source of ['secret_store', 'env'] as const) {
      for (const a of configs) {
        if (a.source === source && a.configured && a.broker_id && !seen.has(a.broker_id)) seen.set(a.broker_id, source);
      }
    }
    const sim = this.deps.simulatorBrokerId;
    if (sim && !seen.has(sim)) seen.set(sim, 'simulator');
    return { items: [...seen].map(([broker_id, source]) => ({ broker_id, source })) };
  }

  /** Create or replace a profile's secret [admin]; audited with broker id, masked id and `password_changed`. */
  async upsert(caller: Caller, body: unknown): Promise<AccountUpsertResult> {
    requireRole(caller.role, 'admin');
    const req = parseOrThrow(AccountUpsertSchema, body, 'account upsert');
    const secrets = this.store();
    const before = await secrets.describe(req.profile);
    const updatedAt = isoUtc(this.deps.clock.nowMs());
    let put: Awaited<ReturnType<SecretStore['put']>>;
    try {
      put = await secrets.put({
        v: 1,
        profile: req.profile,
        broker_id: req.broker_id,
        account_id: req.account_id,
        password: req.password,
        updated_at: updatedAt,
      });
    } catch (err) {
      await this.audit(caller, 'account.upsert', req.profile, 'failed', errorCode(err), summaryOf(before), null);
      throw err;
    }
    const after = { broker_id: req.broker_id, account_id_masked: maskAccountId(req.account_id), updated_at: updatedAt };
    await this.audit(caller, 'account.upsert', req.profile, 'ok', null, summaryOf(before), {
      ...after,
      password_changed: put.password_changed,
    });
    return {
      account: await this.summary(req.profile, { profile: req.profile, ...after }),
      created: put.created,
      password_changed: put.password_changed,
    };
  }

  /**
   * Remove a profile's stored secret [admin]. 409 `lock_held` while its gateway holds `trade:account=<p>` (read
   * only: nothing is preempted); 404 when no secret is stored (credentials from the environment are not ours to
   * delete).
   */
  async delete(caller: Caller, body: unknown): Promise<AccountDeleteResult> {
    requireRole(caller.role, 'admin');
    const { profile } = parseOrThrow(AccountDeleteSchema, body, 'account delete');
    const secrets = this.store();
    const holder = await this.deps.locks.holder(gatewayLeaseKey(profile));
    const before = await secrets.describe(profile);
    if (holder) {
      await this.audit(caller, 'account.delete', profile, 'failed', 'lock_held', summaryOf(before), null);
      throw new LockHeldError([{ key: holder.key, owner: holder.owner, expires_at: holder.expires_at }]);
    }
    if (!before) {
      const cfg = describeAccountConfiguration(profile, null, this.deps.env);
      throw cfg.source === 'env'
        ? new ControlError(
            'not_found',
            404,
            `account ${profile} has no stored secret: its credentials come from the environment; unset them there`,
            { details: { what: 'account', id: profile, source: 'env' } },
          )
        : new NotFoundError('account', profile);
    }
    await secrets.delete(profile);
    await this.audit(caller, 'account.delete', profile, 'ok', null, summaryOf(before), null);
    return { profile, deleted: true };
  }

  /**
   * Submit `account.verify` for `profile` [operator] through the JobService (dedupe, source slots and the
   * `job.submit` audit as for every job; 409 `lock_held` while the gateway holds the account), and audit
   * `account.verify`.
   */
  async verify(caller: Caller, rawProfile: string, body: unknown): Promise<SubmitResult> {
    requireRole(caller.role, 'operator');
    const profile = parseOrThrow(ProfileSchema, rawProfile, 'account profile');
    const req = parseOrThrow(AccountVerifyRequestSchema, body ?? {}, 'account verify request');
    const params = { account_profile: profile, ...(req.timeout_s === undefined ? {} : { timeout_s: req.timeout_s }) };
    let r: SubmitResult;
    try {
      r = await this.deps.jobs.submit({ kind: accountVerify.kind, params }, requestContextOf(caller));
    } catch (err) {
      await this.audit(caller, 'account.verify', profile, 'failed', errorCode(err), null, null);
      throw err;
    }
    await this.audit(caller, 'account.verify', profile, 'ok', null, null, {
      job_id: r.job.job_id,
      deduped: r.deduped,
    });
    return r;
  }

  private store(): SecretStore {
    if (!this.deps.secrets) throw new DependencyUnavailableError(NO_STORE_MESSAGE);
    return this.deps.secrets;
  }

  /** Known profiles (`default` first, then by name) and the stored secrets' summaries by profile. */
  private async profiles(): Promise<{ profiles: string[]; stored: Map<string, AccountSecretSummary> }> {
    const [list, indexed] = await Promise.all([
      this.deps.secrets ? this.deps.secrets.list() : Promise.resolve([]),
      this.deps.telemetry.indexedProfiles(),
    ]);
    const stored = new Map(list.map((s) => [s.profile, s]));
    const known = knownAccountProfiles(this.deps.env);
    const rest = [...new Set([...known, ...stored.keys(), ...indexed.map((i) => i.profile)])]
      .filter((p) => p !== 'default')
      .sort();
    return { profiles: ['default', ...rest], stored };
  }

  private async summary(profile: string, stored: AccountSecretSummary | null): Promise<AccountSummary> {
    const [lastVerify, gateway, strategy] = await Promise.all([
      this.deps.states.lastVerify(profile),
      this.component('gateway', profile),
      this.component('strategy', profile),
    ]);
    return {
      profile,
      ...describeAccountConfiguration(profile, stored, this.deps.env),
      last_verify: lastVerify,
      gateway,
      strategy,
    };
  }

  private async component(kind: ComponentKind, profile: string): Promise<ComponentBrief> {
    const v = await this.deps.desired.status(kind, { account_profile: profile });
    return {
      component_status: v.component_status,
      text: v.text,
      stale: v.stale,
      desired_mode: v.desired?.mode ?? null,
    };
  }

  private async audit(
    caller: Caller,
    action: 'account.upsert' | 'account.delete' | 'account.verify',
    profile: string,
    outcome: 'ok' | 'failed',
    reason: string | null,
    before: unknown,
    after: unknown,
  ): Promise<void> {
    await appendAudit(this.deps.audit, this.deps.log, {
      ...auditWho(caller),
      action,
      target: `account:${profile}`,
      outcome,
      reason,
      before,
      after,
    });
  }
}

/** What an audit entry shows of a stored secret: never the password or the raw id. */
function summaryOf(s: AccountSecretSummary | null): Record<string, string> | null {
  return s ? { broker_id: s.broker_id, account_id_masked: s.account_id_masked, updated_at: s.updated_at } : null;
}

function errorCode(err: unknown): string {
  return err instanceof ControlError ? err.code : 'internal';
}

function requireRole(have: Role, need: Role): void {
  if (!roleAtLeast(have, need)) throw new ForbiddenError(need, have);
}

/** The JobService's view of a caller (as `jobRequestContext` builds it for HTTP requests). */
export function requestContextOf(caller: Caller): RequestContext {
  return {
    actor: { actor: caller.actor.name, role: caller.role },
    actorId: caller.actor.id,
    requestId: caller.meta.requestId,
    ip: caller.meta.ip,
    userAgent: caller.meta.userAgent,
    actorType: caller.actor.type,
  };
}
