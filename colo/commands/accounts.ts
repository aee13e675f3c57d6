/**
 * `ghtrader accounts list|upsert|delete` and `ghtrader account verify` (control-chain §2, §11; trading-chain §2).
 *
 * `accounts` calls the API's `AccountService` directly with the running stack's store credentials as
 * `cli:<os-user>@<host>` (role admin, audit actor type `cli`), so rules, messages and audit entries are those of
 * `/api/accounts/*`. The password is never a command-line argument (shell history, `ps`): `upsert` reads it from stdin
 * only, like `users add --password-stdin`. Output never holds a password or an unmasked account id.
 *
 * `account verify` runs the `account.verify` handler inline (no job record, no stack needed): it holds
 * `verify:account=<p>` for the run (never a trading lease; a held `trade:account=<p>` refuses it), resolves the
 * credentials from the home's secret files, then the environment, talks to the DIFF endpoints of the environment (the
 * running stack's simulator when one runs under the home), stores `last_verify` and prints the result. Its stores are
 * those of the running stack, else those the environment names (`AWS_ENDPOINT_URL*`, a deployed stage), else the
 * home's own embedded DynamoDB, started for the run. Exit 0 when the account logged in, 1 when it did not (`ok: false`)
 * or the check could not run, 2 on bad input.
 *
 * With `--api URL` (as the owner of `GHTRADER_API_TOKEN`): `accounts list|upsert|delete` ask `/api/accounts*` (the
 * password still comes from stdin only and goes in the POST body, as the console sends it), and `account verify`
 * submits the `account.verify` job (`POST /api/accounts/{p}/verify`), follows it every 1 s and prints its result as
 * the inline run does; a job that fails exits 1 with the job's error code and message (`account_not_configured`,
 * `broker_unreachable`, …), and one that has not ended within the timeout plus {@link VERIFY_QUEUE_MARGIN_S} s exits 1
 * naming the job, which keeps running.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, Option } from 'commander';
import { ulid } from 'ulid';
import * as z from 'zod';
import { type AppConfig, loadConfig } from '#shared/config.ts';
import {
  AccountIdSchema,
  AccountPasswordSchema,
  type AccountVerifyResult,
  BrokerIdSchema,
} from '#shared/domain/control/accounts.ts';
import { ProfileSchema } from '#shared/domain/control/desired.ts';
import { accountVerifyLockKey, VERIFY_TIMEOUT_S } from '#shared/domain/control/job-kinds/account.ts';
import { isTerminal, type JobRecord } from '#shared/domain/control/jobs.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { systemClock } from '#shared/domain/time.ts';
import { GhtraderError } from '#shared/errors/base.ts';
import { LockHeldError } from '#shared/errors/control.ts';
import { DynamoAccountStateStore } from '#shared/infra/aws/account-state.ts';
import { DynamoAuditLog } from '#shared/infra/aws/audit-log.ts';
import type { AwsClients } from '#shared/infra/aws/clients.ts';
import { DynamoLockStore } from '#shared/infra/aws/lock-store.ts';
import { loadDiffConfig } from '#shared/infra/diff/config.ts';
import type { Logger } from '#shared/log.ts';
import type {
  AccountDeleteResult,
  AccountListResult,
  AccountService,
  AccountSummary,
  AccountUpsertResult,
} from '#shared/services/account-service.ts';
import { verifyAccount } from '#shared/services/account-verify.ts';
import { appendAudit, auditWho } from '#shared/services/audit-append.ts';
import { type Caller, systemCaller } from '#shared/services/auth-service.ts';
import type { SubmitResult } from '#shared/services/job-service.ts';
import { createAccountService, createRuntime, secretStoreFor } from '#shared/services/runtime.ts';
import { type ApiClient, allowApi, apiClient, seg } from '../api-client.ts';
import {
  attachCli,
  CliUsageError,
  cliActor,
  cliStderrLogger,
  homeEnv,
  reportError,
  withCliStores,
  withEmbeddedDynamo,
} from '../cli-support.ts';
import { readLiveStack } from '../stack-file.ts';
import { parseFlags, print, readPasswordFromStdin } from './users.ts';

interface Global {
  home?: string;
  json?: boolean;
  api?: string;
}

const profileFlag = z.string({ error: 'required (the account profile, e.g. default or alt_01)' }).pipe(ProfileSchema);

const STDIN_HINT =
  'the broker password is read from stdin only, e.g. `printf \'%s\' "$PW" | ghtrader accounts upsert --account P --broker B --account-id A`';

type Body = Record<string, unknown>;

/**
 * Where `accounts list|upsert|delete` get their answers: the AccountService with the store credentials (as the CLI
 * caller), or the HTTP API (`--api`) as the token's owner.
 */
export interface AccountsSource {
  list(): Promise<AccountListResult>;
  upsert(body: Body): Promise<AccountUpsertResult>;
  delete(body: Body): Promise<AccountDeleteResult>;
}

function storeAccounts(accounts: AccountService, caller: Caller): AccountsSource {
  return {
    list: () => accounts.list(),
    upsert: (body) => accounts.upsert(caller, body),
    delete: (body) => accounts.delete(caller, body),
  };
}

function apiAccounts(api: ApiClient): AccountsSource {
  return {
    list: () => api.get<AccountListResult>('/api/accounts'),
    upsert: (body) => api.post<AccountUpsertResult>('/api/accounts/upsert', body),
    delete: (body) => api.post<AccountDeleteResult>('/api/accounts/delete', body),
  };
}

/**
 * Run `fn` with the accounts of the stack under `--home` (its runtime wired as the API wires it, as the CLI caller),
 * or of the API at `--api`.
 */
async function withAccounts<T>(g: Global, fn: (src: AccountsSource) => Promise<T>): Promise<T> {
  if (g.api !== undefined) return fn(apiAccounts(apiClient(g.api)));
  const { config, log, cursorSecret } = await attachCli(g.home);
  const rt = await createRuntime(config, log, { cursorSecret });
  try {
    return await fn(
      storeAccounts(
        createAccountService(rt, { simulatorBrokerId: null }),
        systemCaller('cli', cliActor(), ulidGen.next()),
      ),
    );
  } finally {
    await rt.close();
  }
}

function accountLine(a: AccountSummary): string {
  const creds = a.configured
    ? `configured (${a.source === 'secret_store' ? 'secret store' : 'environment'})`
    : a.source === 'env'
      ? `incomplete (missing ${a.missing.join(', ')})`
      : 'not configured';
  const verify = a.last_verify
    ? `${a.last_verify.ok ? 'ok' : `failed: ${a.last_verify.error ?? '?'}`} at ${a.last_verify.verified_at}`
    : 'never';
  return [
    a.profile.padEnd(20),
    creds.padEnd(32),
    `broker ${a.broker_id ?? '—'}`.padEnd(20),
    `account ${a.account_id_masked ?? '—'}`.padEnd(18),
    `last verify ${verify}`,
    `  gateway ${a.gateway.component_status}`,
  ].join(' ');
}

export function registerAccounts(program: Command): void {
  const g = (): Global => program.opts<Global>();
  const fail = (e: unknown) => reportError(e, Boolean(g().json));

  const accounts = program
    .command('accounts')
    .description('broker accounts of the account profiles: list, upsert, delete (admin, audited as cli:<user>@<host>)');

  const list = accounts
    .command('list')
    .description('every known profile: where its credentials come from, broker, masked account id, last verify')
    .action(async () => {
      try {
        await withAccounts(g(), async (src) => {
          const r = await src.list();
          print(g().json, r, () =>
            [...r.items.map(accountLine), ...(r.truncated ? ['(more profiles than shown)'] : [])].join('\n'),
          );
        });
      } catch (e) {
        fail(e);
      }
    });

  const upsert = accounts
    .command('upsert')
    .description('store the broker credentials of a profile; the password is read from stdin')
    .option('--account <profile>', 'the account profile (canonicalised: "Alt-01" -> alt_01)')
    .option('--broker <broker_id>', 'the broker id (e.g. ghsim for the local simulator)')
    .option('--account-id <id>', 'the broker account id (shown masked from now on)')
    // Only to answer a habitual `--password X` with the reason and the alternative (commander would say "unknown").
    .addOption(new Option('--password <password>').hideHelp())
    .action(async (o: { account?: string; broker?: string; accountId?: string; password?: string }) => {
      try {
        if (o.password !== undefined) {
          throw new CliUsageError(
            `--password is not accepted: a password on the command line lands in shell history and \`ps\`; ${STDIN_HINT}`,
          );
        }
        const flags = parseFlags(
          z.object({ '--account': profileFlag, '--broker': BrokerIdSchema, '--account-id': AccountIdSchema }),
          { '--account': o.account, '--broker': o.broker, '--account-id': o.accountId },
        );
        const password = parseFlags(z.object({ stdin: AccountPasswordSchema }), {
          stdin: await readPasswordFromStdin(STDIN_HINT),
        }).stdin;
        await withAccounts(g(), async (src) => {
          const r = await src.upsert({
            profile: flags['--account'],
            broker_id: flags['--broker'],
            account_id: flags['--account-id'],
            password,
          });
          print(
            g().json,
            r,
            () =>
              `${r.created ? 'created' : 'updated'} account ${r.account.profile}: broker ${r.account.broker_id}, account ${r.account.account_id_masked}${r.password_changed ? '' : ' (password unchanged)'}`,
          );
        });
      } catch (e) {
        fail(e);
      }
    });

  const del = accounts
    .command('delete')
    .description("delete a profile's stored credentials (refused while its gateway holds trade:account=<p>)")
    .option('--account <profile>', 'the account profile')
    .action(async (o: { account?: string }) => {
      try {
        const { '--account': profile } = parseFlags(z.object({ '--account': profileFlag }), { '--account': o.account });
        await withAccounts(g(), async (src) => {
          const r = await src.delete({ profile });
          print(g().json, r, () => `deleted the stored credentials of ${r.profile}`);
        });
      } catch (e) {
        fail(e);
      }
    });

  const account = program.command('account').description('one broker account: verify');
  const verify = account
    .command('verify')
    .description(
      "log in to a profile's broker account with a monitor-only session and print its balance (works without ghtrader up)",
    )
    .option('--account <profile>', 'the account profile')
    .option('--timeout-s <n>', `${VERIFY_TIMEOUT_S.min}..${VERIFY_TIMEOUT_S.max} (default ${VERIFY_TIMEOUT_S.default})`)
    .action(async (o: { account?: string; timeoutS?: string }) => {
      try {
        const flags = parseFlags(
          z.object({
            '--account': profileFlag,
            '--timeout-s': z
              .string()
              .regex(/^\d+$/, `expected whole seconds, ${VERIFY_TIMEOUT_S.min}..${VERIFY_TIMEOUT_S.max}`)
              .transform(Number)
              .pipe(
                z
                  .number()
                  .int()
                  .min(VERIFY_TIMEOUT_S.min, `expected ${VERIFY_TIMEOUT_S.min}..${VERIFY_TIMEOUT_S.max} seconds`)
                  .max(VERIFY_TIMEOUT_S.max, `expected ${VERIFY_TIMEOUT_S.min}..${VERIFY_TIMEOUT_S.max} seconds`),
              )
              .default(VERIFY_TIMEOUT_S.default),
          }),
          { '--account': o.account, '--timeout-s': o.timeoutS },
        );
        const api = g().api;
        const r =
          api === undefined
            ? await verifyInline(g().home, flags['--account'], flags['--timeout-s'])
            : await verifyViaApi(apiClient(api), flags['--account'], flags['--timeout-s']);
        print(g().json, r, () => verifyText(r));
        if (!r.ok) process.exitCode = 1;
      } catch (e) {
        fail(e);
      }
    });

  allowApi(list, upsert, del, verify);
}

function verifyText(r: AccountVerifyResult): string {
  const who = `${r.profile} (broker ${r.broker_id ?? '—'}, account ${r.account_id_masked ?? '—'}, ${r.source})`;
  if (!r.ok) return `account ${who}: login refused at ${r.verified_at}: ${r.error ?? '?'}`;
  const s = r.snapshot;
  return [
    `account ${who}: ok at ${r.verified_at}`,
    ...(s
      ? [
          `  trading day ${s.trading_day}: balance ${s.balance ?? '—'} ${s.currency ?? ''}, available ${s.available ?? '—'}, margin ${s.margin ?? '—'}, float profit ${s.float_profit ?? '—'}`,
          `  ${s.positions} open positions, ${s.orders} orders (${s.orders_alive} alive), ${s.trades} trades`,
        ]
      : []),
  ].join('\n');
}

/** How long `account verify --api` waits for the job beyond its own timeout (queueing, the lease, the state write). */
const VERIFY_QUEUE_MARGIN_S = 120;

/** The `account.verify` job did not succeed, or did not end in time: a failure (exit 1) with the job's own code. */
export class VerifyJobError extends GhtraderError {
  readonly area = 'cli';
}

/**
 * `account verify --api`: submit the `account.verify` job through the API and follow it every 1 s; its result is the
 * inline run's (`AccountVerifyResult`).
 */
async function verifyViaApi(api: ApiClient, profile: string, timeoutS: number): Promise<AccountVerifyResult> {
  const submitted = await api.post<SubmitResult>(`/api/accounts/${seg(profile)}/verify`, { timeout_s: timeoutS });
  let job: JobRecord = submitted.job;
  const waitS = timeoutS + VERIFY_QUEUE_MARGIN_S;
  const deadline = Date.now() + waitS * 1000;
  while (!isTerminal(job.status)) {
    if (Date.now() > deadline) {
      throw new VerifyJobError(
        'verify_wait_timeout',
        `the account.verify job ${job.job_id} has not ended after ${waitS} s (status ${job.status}); it keeps running: ` +
          `\`ghtrader --api ${api.base} jobs show ${job.job_id}\``,
        { details: { job_id: job.job_id, status: job.status } },
      );
    }
    await sleep(1_000);
    job = await api.get<JobRecord>(`/api/jobs/${seg(job.job_id)}`);
  }
  if (job.status === 'succeeded' && job.result) return job.result as unknown as AccountVerifyResult;
  throw new VerifyJobError(
    job.error?.code ?? `job_${job.status}`,
    `the account.verify job ${job.job_id} ${job.status}: ${job.error?.message ?? 'no error recorded'}`,
    { details: { job_id: job.job_id, status: job.status } },
  );
}

interface VerifyStores {
  config: AppConfig;
  clients: AwsClients;
  log: Logger;
  caller: Caller;
  publish(channel: string, message: unknown): void;
}

/**
 * The stores `account verify` works on: the running stack's (or those the environment names) through
 * `withCliStores`, else the home's embedded DynamoDB started for the run (nobody watches the audit feed then, so
 * nothing is published).
 */
async function withVerifyStores<T>(home: string | undefined, fn: (s: VerifyStores) => Promise<T>): Promise<T> {
  const env = homeEnv(home);
  const base = loadConfig(env);
  const explicit = Boolean(
    env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL_SQS || env.GHTRADER_JOBS_QUEUE_URL,
  );
  if (explicit || (await readLiveStack(base.home))) return withCliStores(home, fn);
  const log = cliStderrLogger(base);
  return withEmbeddedDynamo(env, (config, clients) =>
    fn({ config, clients, log, caller: systemCaller('cli', cliActor(), ulidGen.next()), publish: () => undefined }),
  );
}

/** `account verify`: the handler's `verifyAccount` under the `verify:account=<p>` lease, audited `account.verify`. */
async function verifyInline(home: string | undefined, profile: string, timeoutS: number): Promise<AccountVerifyResult> {
  return withVerifyStores(home, async ({ config, clients, log, caller, publish }) => {
    const locks = new DynamoLockStore(clients.doc, config.tables.locks, systemClock);
    const audit = new DynamoAuditLog(clients.doc, config.tables.audit, systemClock, ulidGen, (entry) =>
      publish('audit:updates', entry),
    );
    const secrets = secretStoreFor(config);
    const key = accountVerifyLockKey(profile);
    // One lease for the whole run: the check is bounded by timeoutS; the margin covers closing and the state write.
    const taken = await locks.acquire(
      key,
      { ownerId: `cli-${ulid()}`, host: os.hostname(), pid: process.pid },
      (timeoutS + 60) * 1000,
    );
    if (!taken.ok) {
      throw new LockHeldError(taken.conflicts.map((c) => ({ key: c.key, owner: c.owner, expires_at: c.expires_at })));
    }
    const ac = new AbortController();
    const onSigint = () => ac.abort(new CliUsageError('interrupted'));
    process.once('SIGINT', onSigint);
    const who = { ...auditWho(caller), action: 'account.verify', target: `account:${profile}` };
    try {
      const r = await verifyAccount(
        { profile, timeoutS, jobId: null, signal: ac.signal, log: log.child({ component: 'account-verify' }) },
        {
          secrets,
          env: config.env,
          states: new DynamoAccountStateStore(clients.doc, config.tables.tradingState),
          locks,
          diffConfig: () => loadDiffConfig(config.env),
          calendar: shippedCalendar(),
          clock: systemClock,
        },
      );
      await appendAudit(audit, log, {
        ...who,
        outcome: 'ok',
        reason: 'inline',
        before: null,
        after: { ok: r.ok, error: r.error, broker_id: r.broker_id, account_id_masked: r.account_id_masked },
      });
      return r;
    } catch (err) {
      await appendAudit(audit, log, {
        ...who,
        outcome: 'failed',
        reason: err instanceof Error && 'code' in err ? String(err.code) : 'error',
        before: null,
        after: null,
      });
      throw err;
    } finally {
      process.removeListener('SIGINT', onSigint);
      secrets.close();
      for (const lease of taken.leases) await locks.release(lease);
    }
  });
}
