/**
 * One zod-validated configuration object built from the environment. Every process builds it once in its
 * composition root (`loadConfig(process.env)`) and passes it down; nothing else reads `process.env`.
 *
 * Precedence for managed tuning keys will grow a config-revision layer (control-chain §5.4); until then env and
 * defaults apply. Bad values stop startup with a message naming key, value and expected type (exit 2 in the CLI).
 */
import path from 'node:path';
import * as z from 'zod';
import { knownAccountProfiles } from './domain/control/accounts.ts';
import { checkEnvironment } from './domain/control/config.ts';
import { zodIssues } from './domain/control/validation.ts';
import { ValidationFailedError } from './errors/control.ts';
import { TABLE_IDS, type TableId, tableEnvVar, tableName } from './infra/aws/definitions.ts';

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')
  .describe('true or false');

const num = (min: number, max = Number.POSITIVE_INFINITY) =>
  z.coerce.number().refine((n) => Number.isFinite(n) && n >= min && n <= max, {
    message: `expected a number in [${min}, ${max}]`,
  });

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

const url = z.url();

/** The raw environment contract. Keys are the environment variable names. */
export const EnvSchema = z.object({
  GHTRADER_HOME: z.string().min(1).default('./var'),
  GHTRADER_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  GHTRADER_HOST_ID: z.string().min(1).optional(),
  /** Prefix of every DynamoDB table and SQS queue name (tests use a per-run prefix). */
  GHTRADER_RESOURCE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{0,40}$/, 'letters, digits, - and _ only, at most 40')
    .default('ghtrader-'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  AWS_ENDPOINT_URL: url.optional(),
  AWS_ENDPOINT_URL_DYNAMODB: url.optional(),
  AWS_ENDPOINT_URL_SQS: url.optional(),
  AWS_ENDPOINT_URL_SECRETS_MANAGER: url.optional(),
  /** Set by the CDK stack in AWS; locally the queue URL is looked up by name. */
  GHTRADER_JOBS_QUEUE_URL: url.optional(),
  GHTRADER_JOBS_DLQ_URL: url.optional(),
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  /** Key prefix for every Redis key and channel; tests use a per-run prefix. */
  GHTRADER_REDIS_PREFIX: z.string().min(1).default('ghtrader:'),
  /** `false` disables the warm path on purpose (reported as degraded with reason `redis_disabled`). */
  GHTRADER_REDIS_ENABLED: bool.default(true),
  GHTRADER_JOBS_HEARTBEAT_S: num(0.05, 60).default(5),
  GHTRADER_JOBS_LEASE_S: num(0.15).default(30),
  GHTRADER_JOBS_CANCEL_GRACE_S: num(0.05, 60).default(8),
  GHTRADER_JOBS_PROGRESS_STALE_S: num(0.1).default(45),
  /** Retryable failures come back after `GHTRADER_JOBS_RETRY_DELAY_S × attempt` seconds (spec default 10). */
  GHTRADER_JOBS_RETRY_DELAY_S: num(0, 300).default(10),
  GHTRADER_JOBS_MAX_RECEIVE_COUNT: int(1, 1000).default(3),
  GHTRADER_LOCK_WAIT_TIMEOUT_S: num(0, 86400).default(120),
  GHTRADER_LOCK_POLL_INTERVAL_S: num(0.1).default(1),
  GHTRADER_RUNNER_CONCURRENCY: int(1, 64).default(4),
  GHTRADER_RECONCILE_INTERVAL_S: num(0.5, 3600).default(60),
  GHTRADER_SESSION_IDLE_S: num(60).default(7200),
  GHTRADER_SESSION_MAX_S: num(300).default(43200),
  GHTRADER_LOGIN_MAX_FAILURES: int(1).default(5),
  GHTRADER_LOGIN_WINDOW_S: num(1).default(900),
  GHTRADER_TRUSTED_PROXY_HOPS: int(0, 10).default(0),
  /** Console hot-read caches (sessions, job lists, config, audit pages); ≤ 1 s, 0 = off (control-chain §12). */
  GHTRADER_CONSOLE_CACHE_MS: int(0, 1000).default(1000),
  /** HMAC key for list cursors; derived per stack when absent (see `ghtrader up`). */
  GHTRADER_CURSOR_SECRET: z.string().min(16).optional(),
  /**
   * Set behind CloudFront (the console stack): every request must carry it in `x-ghtrader-origin`, which only the
   * distribution adds, so the API Gateway endpoints cannot be called around CloudFront (and its `X-Forwarded-For`).
   */
  GHTRADER_ORIGIN_SECRET: z.string().min(32).optional(),
  /**
   * Account profiles always known besides `default` (CSV, canonicalised, deduplicated; trading-chain §1), read where
   * used (`knownAccountProfiles`); checked here so an entry that is no valid profile stops startup instead of a request.
   */
  GHTRADER_TQ_ACCOUNT_PROFILES: z
    .string()
    .superRefine((v, ctx) => {
      try {
        knownAccountProfiles({ GHTRADER_TQ_ACCOUNT_PROFILES: v });
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .optional(),
  /**
   * Set by CDK (`ghtrader/<stage>/accounts/`): broker-account secrets live in AWS Secrets Manager under this name
   * prefix. Absent: in files under `$GHTRADER_HOME/secrets/accounts/` (the local stack).
   */
  GHTRADER_ACCOUNT_SECRET_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9/_+=.@-]{1,256}\/$/, 'a Secrets Manager name prefix ending in "/", e.g. ghtrader/prod/accounts/')
    .optional(),
});
export type Env = z.infer<typeof EnvSchema>;

/** Physical table names: `GHTRADER_TABLE_<ID>` (set by CDK) or `<resource prefix><logical name>`. */
export type TableNames = Record<TableId, string>;

/** The configuration every composition root receives. Times in seconds unless the name says otherwise. */
export interface AppConfig {
  /** `GHTRADER_*` env keys that are neither managed, env-only nor read by this process: warned about once at startup. */
  unknownEnvKeys: readonly string[];
  /** The environment this config was built from (blank values dropped): the env layer of the config resolver. */
  env: Readonly<Record<string, string>>;
  home: string;
  logLevel: Env['GHTRADER_LOG_LEVEL'];
  hostId: string | undefined;
  resourcePrefix: string;
  tables: TableNames;
  aws: {
    region: string;
    dynamoEndpoint: string | undefined;
    sqsEndpoint: string | undefined;
    secretsManagerEndpoint: string | undefined;
    jobsQueueUrl: string | undefined;
    jobsDlqUrl: string | undefined;
  };
  redis: { url: string; prefix: string; enabled: boolean };
  jobs: {
    heartbeatS: number;
    leaseS: number;
    cancelGraceS: number;
    progressStaleS: number;
    retryDelayS: number;
    maxReceiveCount: number;
    lockWaitTimeoutS: number;
    lockPollIntervalS: number;
    runnerConcurrency: number;
    reconcileIntervalS: number;
  };
  auth: {
    sessionIdleS: number;
    sessionMaxS: number;
    loginMaxFailures: number;
    loginWindowS: number;
    trustedProxyHops: number;
    cursorSecret: string | undefined;
    /** The shared secret CloudFront sends in `x-ghtrader-origin`; absent -> no such check (local stack, tests). */
    originSecret: string | undefined;
  };
  /** Console hot-read cache lifetime in milliseconds (≤ 1000; 0 = off). */
  consoleCacheMs: number;
  /** Secrets Manager name prefix of broker-account secrets; undefined -> files under `$GHTRADER_HOME`. */
  accountSecretPrefix: string | undefined;
}

/** Parse the environment; throws `ValidationFailedError` naming every bad key, its value and the expectation. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // Empty or blank strings mean "unset" for every key, as in most shells' `FOO= cmd` (never a silent 0).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    const text = issues
      .map((i) => {
        const key = String(i.path[0] ?? '');
        return `${key}=${JSON.stringify(cleaned[key] ?? '')}: ${i.message}`;
      })
      .join('; ');
    throw new ValidationFailedError(`invalid environment: ${text}`, issues);
  }
  const e = parsed.data;
  // Managed keys outside this schema must parse (else exit 2 naming key, value and type); unknown ones only warn.
  const { unknown } = checkEnvironment(cleaned, (key) => key in EnvSchema.shape);
  if (e.GHTRADER_JOBS_LEASE_S < 3 * e.GHTRADER_JOBS_HEARTBEAT_S) {
    throw new ValidationFailedError(
      `invalid environment: GHTRADER_JOBS_LEASE_S=${e.GHTRADER_JOBS_LEASE_S} must be at least 3 × GHTRADER_JOBS_HEARTBEAT_S (${e.GHTRADER_JOBS_HEARTBEAT_S})`,
      [{ path: ['GHTRADER_JOBS_LEASE_S'], code: 'too_small', message: 'must be ≥ 3 × heartbeat' }],
    );
  }
  return {
    unknownEnvKeys: unknown,
    env: Object.freeze(cleaned as Record<string, string>),
    home: path.resolve(e.GHTRADER_HOME),
    logLevel: e.GHTRADER_LOG_LEVEL,
    hostId: e.GHTRADER_HOST_ID,
    resourcePrefix: e.GHTRADER_RESOURCE_PREFIX,
    tables: Object.fromEntries(
      TABLE_IDS.map((id) => [id, cleaned[tableEnvVar(id)] ?? tableName(e.GHTRADER_RESOURCE_PREFIX, id)]),
    ) as TableNames,
    aws: {
      region: e.AWS_REGION,
      dynamoEndpoint: e.AWS_ENDPOINT_URL_DYNAMODB ?? e.AWS_ENDPOINT_URL,
      sqsEndpoint: e.AWS_ENDPOINT_URL_SQS ?? e.AWS_ENDPOINT_URL,
      secretsManagerEndpoint: e.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? e.AWS_ENDPOINT_URL,
      jobsQueueUrl: e.GHTRADER_JOBS_QUEUE_URL,
      jobsDlqUrl: e.GHTRADER_JOBS_DLQ_URL,
    },
    redis: { url: e.REDIS_URL, prefix: e.GHTRADER_REDIS_PREFIX, enabled: e.GHTRADER_REDIS_ENABLED },
    jobs: {
      heartbeatS: e.GHTRADER_JOBS_HEARTBEAT_S,
      leaseS: e.GHTRADER_JOBS_LEASE_S,
      cancelGraceS: e.GHTRADER_JOBS_CANCEL_GRACE_S,
      progressStaleS: e.GHTRADER_JOBS_PROGRESS_STALE_S,
      retryDelayS: e.GHTRADER_JOBS_RETRY_DELAY_S,
      maxReceiveCount: e.GHTRADER_JOBS_MAX_RECEIVE_COUNT,
      lockWaitTimeoutS: e.GHTRADER_LOCK_WAIT_TIMEOUT_S,
      lockPollIntervalS: e.GHTRADER_LOCK_POLL_INTERVAL_S,
      runnerConcurrency: e.GHTRADER_RUNNER_CONCURRENCY,
      reconcileIntervalS: e.GHTRADER_RECONCILE_INTERVAL_S,
    },
    auth: {
      sessionIdleS: e.GHTRADER_SESSION_IDLE_S,
      sessionMaxS: e.GHTRADER_SESSION_MAX_S,
      loginMaxFailures: e.GHTRADER_LOGIN_MAX_FAILURES,
      loginWindowS: e.GHTRADER_LOGIN_WINDOW_S,
      trustedProxyHops: e.GHTRADER_TRUSTED_PROXY_HOPS,
      cursorSecret: e.GHTRADER_CURSOR_SECRET,
      originSecret: e.GHTRADER_ORIGIN_SECRET,
    },
    consoleCacheMs: e.GHTRADER_CONSOLE_CACHE_MS,
    accountSecretPrefix: e.GHTRADER_ACCOUNT_SECRET_PREFIX,
  };
}
