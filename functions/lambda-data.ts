/**
 * The data chain inside the jobs Lambda (the cloud twin of `colo/data-runtime.ts`): QuestDB as the tick store, the
 * DynamoDB migration ledger, S3 for reports and artifacts, the provider session with the DIFF credentials from
 * Secrets Manager, and the data job handlers registered on the runtime, so `data.*` jobs run the same handler code as
 * under `ghtrader up`.
 *
 * Enabled only when the deployment names QuestDB and the artifacts bucket (`GHTRADER_QUESTDB_HTTP`,
 * `GHTRADER_ARTIFACTS_BUCKET`; the CDK stage setting `questdbHttp`). Otherwise every data kind is still registered,
 * and fails at once (not retried) with `data_chain_not_configured` naming what is missing, instead of the worker's
 * generic "no handler". The context is opened on the first data job of a container, not at cold start.
 *
 * QuestDB partition rewrites (a full rebuild's scoped delete, schedule days leaving the window) run under
 * `lockRewriteGuard`: the other writers' locks are taken for the rewrite (§1.4, §10.3), never preempted.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { DATA_JOB_KINDS } from '#shared/domain/control/job-kinds/data.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { systemClock } from '#shared/domain/time.ts';
import { DataChainError } from '#shared/errors/data.ts';
import { DynamoMigrationLedger } from '#shared/infra/aws/migration-ledger.ts';
import { loadDiffConfig } from '#shared/infra/diff/config.ts';
import { openQuestDbTickStore } from '#shared/infra/tickstore/questdb.ts';
import type { Logger } from '#shared/log.ts';
import { BuildItems } from '#shared/services/data/build-items.ts';
import type { DataContext } from '#shared/services/data/context.ts';
import { requireArtifacts } from '#shared/services/data/context.ts';
import { dataJobHandlers } from '#shared/services/data/jobs.ts';
import { sweepExpiredBuilds } from '#shared/services/data/main-l5.ts';
import { diffMarketProvider } from '#shared/services/data/market-provider.ts';
import { lockRewriteGuard } from '#shared/services/data/rewrite-guard.ts';
import type { JobHandler, JobHandlers } from '#shared/services/job-handlers.ts';
import type { Runtime } from '#shared/services/runtime.ts';

const blankIsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const LambdaDataEnvSchema = z.object({
  GHTRADER_QUESTDB_HTTP: z.preprocess(blankIsUnset, z.url({ protocol: /^https?$/ }).optional()),
  GHTRADER_ARTIFACTS_BUCKET: z.preprocess(
    blankIsUnset,
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name')
      .optional(),
  ),
  GHTRADER_DIFF_SECRET_ID: z.preprocess(blankIsUnset, z.string().min(1).optional()),
});

export type LambdaDataSettings =
  | { enabled: true; questdbHttp: string; artifactsBucket: string; diffSecretId: string | undefined }
  | { enabled: false; missing: string[] };

/** Read the data-chain settings of a deployment; a malformed value fails with the key named (never its value). */
export function lambdaDataSettings(env: Record<string, string | undefined>): LambdaDataSettings {
  const parsed = LambdaDataEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new DataChainError('data_chain_config_invalid', `invalid data-chain configuration: ${issues.join('; ')}`, {
      details: { issues },
    });
  }
  const e = parsed.data;
  if (e.GHTRADER_QUESTDB_HTTP === undefined || e.GHTRADER_ARTIFACTS_BUCKET === undefined) {
    const missing = [
      ...(e.GHTRADER_QUESTDB_HTTP === undefined ? ['GHTRADER_QUESTDB_HTTP'] : []),
      ...(e.GHTRADER_ARTIFACTS_BUCKET === undefined ? ['GHTRADER_ARTIFACTS_BUCKET'] : []),
    ];
    return { enabled: false, missing };
  }
  return {
    enabled: true,
    questdbHttp: e.GHTRADER_QUESTDB_HTTP,
    artifactsBucket: e.GHTRADER_ARTIFACTS_BUCKET,
    diffSecretId: e.GHTRADER_DIFF_SECRET_ID,
  };
}

const DiffSecretSchema = z
  .object({
    user: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    client_secret: z.string().min(1).optional(),
  })
  .strict();

/**
 * The DIFF credentials secret (JSON `{"user", "password", "client_secret"}`) as `GHTRADER_DIFF_*` keys for
 * `loadDiffConfig`. Errors name the secret and the offending keys, never a value.
 */
export function diffEnvFromSecret(secretId: string, secretString: string | undefined): Record<string, string> {
  if (secretString === undefined || secretString.trim() === '') {
    throw new DataChainError(
      'diff_secret_empty',
      `DIFF credentials secret ${secretId} holds no value; put {"user": …, "password": …} in it (Secrets Manager)`,
      { details: { secret_id: secretId } },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch {
    throw new DataChainError(
      'diff_secret_invalid',
      `DIFF credentials secret ${secretId} is not JSON; expected {"user": …, "password": …, "client_secret": …}`,
      { details: { secret_id: secretId } },
    );
  }
  const parsed = DiffSecretSchema.safeParse(json);
  if (!parsed.success) {
    const keys = parsed.error.issues.map((i) => (i.path.length > 0 ? i.path.join('.') : i.message));
    throw new DataChainError(
      'diff_secret_invalid',
      `DIFF credentials secret ${secretId} has bad or unknown keys [${keys.join(', ')}]; expected {"user": …, "password": …, "client_secret": …} with non-empty strings`,
      { details: { secret_id: secretId, keys } },
    );
  }
  const s = parsed.data;
  return {
    ...(s.user ? { GHTRADER_DIFF_USER: s.user } : {}),
    ...(s.password ? { GHTRADER_DIFF_PASSWORD: s.password } : {}),
    ...(s.client_secret ? { GHTRADER_DIFF_CLIENT_SECRET: s.client_secret } : {}),
  };
}

/** Handlers for every data kind that all fail at once with `err` (not retried). */
function failingDataHandlers(err: DataChainError): JobHandlers {
  const fail = async (): Promise<never> => {
    throw err;
  };
  return Object.fromEntries(DATA_JOB_KINDS.map((k) => [k.kind, fail]));
}

/** The error of a deployment without the data chain, naming what it lacks. */
export function dataChainNotConfigured(missing: readonly string[]): DataChainError {
  return new DataChainError(
    'data_chain_not_configured',
    `the data chain is not configured in this deployment: ${missing.join(' and ')} unset; deploy with the CDK stage setting questdbHttp (-c questdbHttp=http://host:9000)`,
    { details: { missing: [...missing] } },
  );
}

/**
 * The data job handlers of a Lambda container. Configured: each data kind opens the data context on its first job
 * (reading the DIFF secret once; a failed start is retried by the next data job, and other kinds never pay for it)
 * and runs the same handlers as `ghtrader up`. Not configured, or configured badly: every data kind fails at once
 * with the reason.
 */
export function lambdaDataHandlers(rt: Runtime, env: Record<string, string | undefined>, log: Logger): JobHandlers {
  let settings: LambdaDataSettings;
  try {
    settings = lambdaDataSettings(env);
  } catch (err) {
    if (err instanceof DataChainError) return failingDataHandlers(err);
    throw err;
  }
  if (!settings.enabled) return failingDataHandlers(dataChainNotConfigured(settings.missing));
  const enabled = settings;
  let ready: Promise<JobHandlers> | undefined;
  const load = (): Promise<JobHandlers> => {
    ready ??= openLambdaData(rt, enabled, env, log).then(
      (ctx) => dataJobHandlers(ctx),
      (err: unknown) => {
        ready = undefined;
        throw err;
      },
    );
    return ready;
  };
  return Object.fromEntries(
    DATA_JOB_KINDS.map(({ kind }) => {
      const handler: JobHandler = async (params, job) => {
        const real = (await load())[kind];
        if (real === undefined) throw new Error(`dataJobHandlers has no handler for ${kind}`);
        return real(params, job);
      };
      return [kind, handler];
    }),
  );
}

/** The data context of a configured deployment (QuestDB, S3, the DIFF session with the secret's credentials). */
async function openLambdaData(
  rt: Runtime,
  settings: Extract<LambdaDataSettings, { enabled: true }>,
  env: Record<string, string | undefined>,
  log: Logger,
): Promise<DataContext> {
  let diffEnv: Record<string, string | undefined> = env;
  if (settings.diffSecretId !== undefined) {
    const sm = new SecretsManagerClient({ region: rt.config.aws.region, maxAttempts: 3 });
    try {
      const out = await sm.send(new GetSecretValueCommand({ SecretId: settings.diffSecretId }));
      diffEnv = { ...env, ...diffEnvFromSecret(settings.diffSecretId, out.SecretString) };
    } finally {
      sm.destroy();
    }
  }
  const diffConfig = loadDiffConfig(diffEnv);
  const store = await openQuestDbTickStore({
    httpUrl: settings.questdbHttp,
    env,
    rewriteGuard: lockRewriteGuard(rt.locks),
  });
  return {
    store,
    ledger: new DynamoMigrationLedger(rt.clients.doc, rt.config.tables.migrationLedger, systemClock),
    locks: rt.locks,
    jobs: rt.jobs,
    market: diffMarketProvider(() => diffConfig, shippedCalendar(), log.child({ component: 'data-diff' })),
    // The runtime's store: the same bucket (`GHTRADER_ARTIFACTS_BUCKET`) the job logs use.
    artifacts: requireArtifacts(rt.artifacts),
    settings: { env },
    configHead: () => rt.configService.current(),
    clock: systemClock,
    log: log.child({ component: 'data' }),
    builds: new BuildItems(rt.clients.doc, rt.config.tables.jobs),
    hostId: rt.hostId,
  };
}

/**
 * The reconciler's share of the data chain (§5.1 step 5): builds still `building` past their deadline get their
 * finalize job. Needs only the jobs table and queue, so it runs whether or not this container holds a tick store;
 * it does nothing when the deployment has no data chain.
 */
export async function sweepOverdueBuilds(
  rt: Runtime,
  env: Record<string, string | undefined>,
  log: Logger,
): Promise<string[]> {
  if (!lambdaDataSettings(env).enabled) return [];
  return sweepExpiredBuilds(
    { builds: new BuildItems(rt.clients.doc, rt.config.tables.jobs), jobs: rt.jobs, clock: systemClock, log },
    'jobs-reconciler',
  );
}
