/**
 * Verification of a broker account (control-chain §4 `account.verify`, trading-chain §2 `ghtrader account verify`):
 * resolve the profile's credentials (secret store, then environment), open a monitor-only DIFF broker session, log
 * in, wait for the account snapshot, close the session, and persist the outcome as the profile's `last_verify`
 * (TradingState `account#<profile>`). The `account.verify` job handler and the CLI run this same function.
 *
 * Monitor-only: the session is used for `login()` and `snapshot()` only; no order or cancel is ever sent. It never
 * runs beside the gateway of the profile: a held `trade:account=<p>` refuses the run (`lock_held`), since a second
 * login could end the gateway's session. Credentials never leave this function: the result, the persisted state,
 * errors and log lines carry the broker id and the masked account id; messages of the DIFF layer are redacted.
 */

import {
  type AccountCredentials,
  type AccountSnapshotSummary,
  type AccountStateStore,
  type AccountVerifyResult,
  accountEnvNames,
  maskAccountId,
  type ResolvedAccount,
  redactCredentials,
  resolveAccountCredentials,
} from '../domain/control/accounts.ts';
import { accountVerify } from '../domain/control/job-kinds/account.ts';
import { gatewayLeaseKey, type LockStore } from '../domain/control/locks.ts';
import type { SecretStore } from '../domain/control/secret-store.ts';
import type { TradingCalendar } from '../domain/market/calendar/calendar.ts';
import { type Clock, isoUtc, systemClock } from '../domain/time.ts';
import type { BrokerSnapshot } from '../domain/trading/ports.ts';
import { GhtraderError } from '../errors/base.ts';
import { JobFailedError } from '../errors/control.ts';
import { AuthError, DiffConfigError, DiffTimeoutError, LoginError } from '../errors/diff.ts';
import { DiffClient, type DiffClientOptions } from '../infra/diff/client.ts';
import type { DiffConfig } from '../infra/diff/config.ts';
import type { Logger } from '../log.ts';
import { abortableSleep, type JobHandlers } from './job-handlers.ts';
import type { Runtime } from './runtime.ts';

/** How often the account node is looked for after the login resolved. */
const SNAPSHOT_POLL_MS = 50;

export interface AccountVerifyDeps {
  /** The process's secret store; null -> only the environment is looked at. */
  secrets: Pick<SecretStore, 'get'> | null;
  /** The environment holding `TQ_BROKER_ID[_<P>]`, `TQ_ACCOUNT_ID[_<P>]`, `TQ_ACCOUNT_PASSWORD[_<P>]`. */
  env: Readonly<Record<string, string | undefined>>;
  states: AccountStateStore;
  locks: Pick<LockStore, 'holder'>;
  /**
   * The DIFF endpoints (market-protocol §1.2): the simulator under `ghtrader up`, Shinny's from the environment (and,
   * in Lambda, the DIFF credentials secret) otherwise. Read per run; a bad configuration fails `diff_not_configured`.
   */
  diffConfig: () => DiffConfig | Promise<DiffConfig>;
  calendar: TradingCalendar;
  clock: Clock;
  /** DiffClient hooks for tests (HTTP retry delay). */
  diffClientOptions?: Pick<DiffClientOptions, 'httpRetryDelayMs'>;
}

export interface VerifyRun {
  profile: string;
  /** The whole check (discovery, login, account snapshot) must finish within this many seconds. */
  timeoutS: number;
  /** The `account.verify` job, or null for the CLI's inline run. */
  jobId: string | null;
  signal: AbortSignal;
  log: Logger;
}

/** Outcome of the broker conversation: an answer (yes with a snapshot, or no with the broker's reason). */
type Answer = { ok: true; snapshot: AccountSnapshotSummary } | { ok: false; error: string };

class DeadlineError extends Error {}

/**
 * Verify `run.profile`'s broker account and record the outcome.
 *
 * The check ran and the broker said no (wrong password, unknown account, a broker that is not a TQ broker): the
 * result is `ok: false` with `error: "<code>: <message>"` and this resolves. The check could not run (no credentials:
 * `account_not_configured`; the DIFF connection is not configured: `diff_not_configured`; the broker or Shinny did not
 * answer: `broker_unreachable`, `diff_auth_failed`; no answer within `timeoutS`: `broker_timeout`; the gateway holds
 * the account: `lock_held`): this throws a non-retryable `JobFailedError` with that code. Every outcome but
 * `lock_held` and a cancel is stored as the profile's `last_verify`.
 */
export async function verifyAccount(run: VerifyRun, deps: AccountVerifyDeps): Promise<AccountVerifyResult> {
  const { profile } = run;
  const holder = await deps.locks.holder(gatewayLeaseKey(profile));
  if (holder) {
    throw new JobFailedError(
      'lock_held',
      `the gateway of ${profile} holds ${holder.key} (owner ${holder.owner}, until ${holder.expires_at}); a verification never opens a second broker session beside it`,
      false,
      { details: { conflicts: [{ key: holder.key, owner: holder.owner, expires_at: holder.expires_at }] } },
    );
  }
  const resolved = await resolveAccountCredentials(profile, { secrets: deps.secrets, env: deps.env });
  if (!resolved.configured) {
    const message = notConfiguredMessage(profile, resolved, deps.secrets !== null);
    return fail(deps, run, 'account_not_configured', message, {
      profile,
      source: resolved.source,
      missing: resolved.missing,
    });
  }
  const creds = resolved.credentials;
  const masked = maskAccountId(creds.account_id);
  const redact = (text: string) => redactCredentials(text, creds);
  let cfg: DiffConfig;
  try {
    cfg = await deps.diffConfig();
  } catch (err) {
    const why = err instanceof Error ? redact(err.message) : String(err);
    return fail(deps, run, 'diff_not_configured', `the DIFF connection is not configured: ${why}`, { profile });
  }

  const answer = await talkToBroker(run, deps, cfg, creds).catch(async (err: unknown): Promise<Answer> => {
    if (run.signal.aborted) throw run.signal.reason;
    if (err instanceof LoginError) return { ok: false, error: `${err.code}: ${redact(err.message)}` };
    // The files service does not know the broker id, or the broker is not a TQ broker: the account is wrong.
    if (err instanceof DiffConfigError && typeof err.details.broker_id === 'string') {
      return { ok: false, error: `${err.code}: ${redact(err.message)}` };
    }
    if (err instanceof DeadlineError || err instanceof DiffTimeoutError) {
      return fail(
        deps,
        run,
        'broker_timeout',
        `no account snapshot from broker ${creds.broker_id} for ${masked} within ${run.timeoutS} s${err instanceof DiffTimeoutError ? ` (${redact(err.message)})` : ''}`,
        { profile, broker_id: creds.broker_id, timeout_s: run.timeoutS },
      );
    }
    const code = err instanceof AuthError ? 'diff_auth_failed' : 'broker_unreachable';
    return fail(deps, run, code, `broker ${creds.broker_id} for ${masked}: ${redact(errorText(err))}`, {
      profile,
      broker_id: creds.broker_id,
    });
  });

  const verifiedAt = isoUtc(deps.clock.nowMs());
  const result: AccountVerifyResult = {
    profile,
    ok: answer.ok,
    configured: true,
    source: resolved.source,
    verified_at: verifiedAt,
    error: answer.ok ? null : answer.error,
    broker_id: creds.broker_id,
    account_id_masked: masked,
    snapshot: answer.ok ? answer.snapshot : null,
  };
  await deps.states.recordVerify(profile, {
    ok: result.ok,
    verified_at: verifiedAt,
    error: result.error,
    job_id: run.jobId,
  });
  run.log.info(
    {
      account_profile: profile,
      ok: result.ok,
      broker_id: creds.broker_id,
      account_id_masked: masked,
      error: result.error,
    },
    'account.verified',
  );
  return result;
}

/** Record the failure as `last_verify` and throw it as a non-retryable job failure. */
async function fail(
  deps: AccountVerifyDeps,
  run: VerifyRun,
  code: string,
  message: string,
  details: Record<string, unknown>,
): Promise<never> {
  await deps.states.recordVerify(run.profile, {
    ok: false,
    verified_at: isoUtc(deps.clock.nowMs()),
    error: `${code}: ${message}`,
    job_id: run.jobId,
  });
  throw new JobFailedError(code, message, false, { details });
}

function notConfiguredMessage(profile: string, r: ResolvedAccount, hasStore: boolean): string {
  const names = accountEnvNames(profile);
  const store = hasStore
    ? `no secret is stored for ${profile} (ghtrader accounts upsert --account ${profile} …, or the console's Broker accounts panel)`
    : 'this process has no secret store';
  const env =
    r.source === 'env'
      ? `the environment sets only some of its variables: missing ${r.missing.join(', ')}`
      : `the environment sets none of ${names.broker_id}, ${names.account_id}, ${names.password}`;
  return `account profile ${profile} has no credentials: ${store}, and ${env}`;
}

/**
 * Discovery, login and the first account snapshot, all within `timeoutS` (and `run.signal`); the session and the
 * client are closed whatever happens. Rejects with `DeadlineError` when the deadline passes first.
 */
async function talkToBroker(
  run: VerifyRun,
  deps: AccountVerifyDeps,
  cfg: DiffConfig,
  creds: AccountCredentials,
): Promise<Answer> {
  const timeoutMs = run.timeoutS * 1000;
  const client = new DiffClient({
    // No frame log: it would hold the login frame (user name) of an account that is only being checked.
    config: {
      ...cfg,
      frameLogPath: undefined,
      readyTimeoutMs: Math.min(cfg.readyTimeoutMs, timeoutMs),
      httpTimeoutMs: Math.min(cfg.httpTimeoutMs, timeoutMs),
    },
    calendar: deps.calendar,
    logger: run.log.child({ component: 'diff' }),
    ...deps.diffClientOptions,
  });
  const stop = new AbortController();
  const onAbort = () => stop.abort(run.signal.reason);
  run.signal.addEventListener('abort', onAbort, { once: true });
  const deadline = setTimeout(() => stop.abort(new DeadlineError('deadline')), timeoutMs);
  try {
    const work = (async (): Promise<Answer> => {
      const session = await client.brokerSession({
        brokerId: creds.broker_id,
        account: creds.account_id,
        password: creds.password,
      });
      await session.login();
      for (;;) {
        const snap = session.snapshot();
        if (Number.isFinite(snap.account.balance)) return { ok: true, snapshot: summarize(snap) };
        await abortableSleep(SNAPSHOT_POLL_MS, stop.signal);
      }
    })();
    // The work is abandoned at the deadline; its late rejection (the client is closed below) is not an error here.
    work.catch(() => undefined);
    const stopped = new Promise<never>((_, reject) => {
      if (stop.signal.aborted) reject(stop.signal.reason);
      stop.signal.addEventListener('abort', () => reject(stop.signal.reason), { once: true });
    });
    stopped.catch(() => undefined);
    return await Promise.race([work, stopped]);
  } finally {
    clearTimeout(deadline);
    run.signal.removeEventListener('abort', onAbort);
    if (!stop.signal.aborted) stop.abort(new DeadlineError('done'));
    await client.close().catch((err: unknown) => {
      run.log.warn({ err: redactCredentials(errorText(err), creds) }, 'account.verify_close_failed');
    });
  }
}

/** `<code>: <message>` of our errors, the message of others (unredacted: callers redact). */
function errorText(err: unknown): string {
  if (err instanceof GhtraderError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Finite numbers as they are, NaN (no value from the broker) as null. */
function n(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** The account numbers and counts of a snapshot (no position, order, trade or the account's user id). */
export function summarize(s: BrokerSnapshot): AccountSnapshotSummary {
  const a = s.account;
  return {
    trading_day: s.trading_day,
    currency: a.currency || null,
    balance: n(a.balance),
    available: n(a.available),
    margin: n(a.margin),
    frozen_margin: n(a.frozen_margin),
    float_profit: n(a.float_profit),
    position_profit: n(a.position_profit),
    close_profit: n(a.close_profit),
    commission: n(a.commission),
    pre_balance: n(a.pre_balance),
    static_balance: n(a.static_balance),
    risk_ratio: n(a.risk_ratio),
    positions: s.positions.filter((p) => p.pos_long !== 0 || p.pos_short !== 0).length,
    orders: s.orders.length,
    orders_alive: s.orders.filter((o) => o.status === 'ALIVE').length,
    trades: s.trades.length,
  };
}

/**
 * The `account.verify` handler: `verifyAccount` for the job's profile and `timeout_s`.
 *
 * Outcome rule (chosen for this kind): a wrong password, an unknown account or broker is an answer, not a failure —
 * the job **succeeds** with `ok: false` and `error: "<code>: <message>"` (the check ran; the answer is "no"). Only a
 * check that could not run fails the job, at once and without retries (the operator presses Verify again), with a
 * clear code: `account_not_configured` (naming the missing variables), `diff_not_configured`, `broker_unreachable`,
 * `diff_auth_failed`, `broker_timeout`, or `lock_held` when the gateway holds `trade:account=<p>`.
 */
export function accountJobHandlers(deps: AccountVerifyDeps): JobHandlers {
  return {
    [accountVerify.kind]: async (raw, ctx) => {
      const p = accountVerify.params.parse(raw);
      await ctx.progress({
        phase: 'verify',
        phase_idx: 0,
        total_phases: 1,
        message: `logging in to ${p.account_profile}`,
      });
      return verifyAccount(
        { profile: p.account_profile, timeoutS: p.timeout_s, jobId: ctx.jobId, signal: ctx.signal, log: ctx.log },
        deps,
      );
    },
  };
}

/**
 * `accountJobHandlers` over a composition root's runtime (its secret store, environment, account states and locks,
 * the system clock): the local stack, the Lambda worker and the tests differ only in the DIFF connection.
 */
export function runtimeAccountJobHandlers(
  rt: Pick<Runtime, 'secrets' | 'config' | 'accountStates' | 'locks'>,
  o: Pick<AccountVerifyDeps, 'diffConfig' | 'calendar' | 'diffClientOptions'>,
): JobHandlers {
  return accountJobHandlers({
    secrets: rt.secrets,
    env: rt.config.env,
    states: rt.accountStates,
    locks: rt.locks,
    clock: systemClock,
    ...o,
  });
}
