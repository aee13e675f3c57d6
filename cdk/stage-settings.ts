/**
 * Per-stage settings read from CDK context (`-c stage=prod`, or `context` in cdk.json). Every key has a default, so
 * `npx cdk synth` with no arguments builds the `dev` stage. Bad values stop synthesis with one message naming the key,
 * the value and what was expected.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import * as z from 'zod';

/** The retention periods CloudWatch Logs accepts, in days (INFINITE excluded: logs are always bounded). */
const RETENTION_DAYS = Object.values(RetentionDays).filter(
  (d): d is RetentionDays => typeof d === 'number' && d !== RetentionDays.INFINITE,
);

const SettingsSchema = z.object({
  /** Stage name; part of every stack and resource name. */
  stage: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,15}$/, 'lower-case letters, digits and -, starting with a letter, at most 16')
    .default('dev'),
  /**
   * Prefix of every physical table and queue name (`<prefix><logicalName>`, see `definitions.ts`), the same value the
   * functions and the CLI receive as `GHTRADER_RESOURCE_PREFIX`. Defaults to `ghtrader-<stage>-`.
   */
  resourcePrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, - and _ only, 1 to 40')
    .optional(),
  /** Upper bound of concurrent jobs-worker invocations fed by the jobs queue (SQS event source `maxConcurrency`). */
  jobsMaxConcurrency: z.coerce.number().int().min(2).max(1000).default(10),
  /** Memory of the jobs worker in MB; 1769 MB is one full vCPU. */
  workerMemoryMb: z.coerce.number().int().min(128).max(10240).default(1769),
  /** Days Lambda logs and the artifacts bucket's server access logs are kept. */
  logRetentionDays: z.coerce
    .number()
    .refine((d) => (RETENTION_DAYS as number[]).includes(d), { message: `one of ${RETENTION_DAYS.join(', ')}` })
    .default(30),
  /** E-mail address subscribed to the alarm topic; none when absent. */
  alarmEmail: z.email().optional(),
  /**
   * Redis URL reachable from the functions. Absent: the functions run with the warm path disabled on purpose
   * (`GHTRADER_REDIS_ENABLED=false`), because these stacks provision no Redis and no VPC.
   */
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
    .optional(),
  /**
   * QuestDB HTTP endpoint (`http://host:9000`), the tick store of the data chain, passed to the jobs worker and the
   * reconciler as `GHTRADER_QUESTDB_HTTP`. These stacks do not provision QuestDB: it runs on a host of the operators'
   * choosing that the functions can reach. Absent: the data chain is disabled in this deployment on purpose, and the
   * worker fails every `data.*` job at once with `data_chain_not_configured`. Checked as the worker checks it (`z.url`
   * with an http or https protocol), so a value that synthesizes is one the worker accepts.
   */
  questdbHttp: z
    .url({ protocol: /^https?$/, error: 'an http:// or https:// URL, e.g. http://questdb.internal:9000' })
    .optional(),
});

export interface StageSettings {
  stage: string;
  resourcePrefix: string;
  isProduction: boolean;
  jobsMaxConcurrency: number;
  workerMemoryMb: number;
  logRetention: RetentionDays;
  alarmEmail: string | undefined;
  redisUrl: string | undefined;
  /** QuestDB HTTP endpoint; undefined when the data chain is disabled in this stage. */
  questdbHttp: string | undefined;
}

const KEYS = Object.keys(SettingsSchema.shape) as (keyof typeof SettingsSchema.shape)[];

/** Read and validate the stage settings from the context of `node` (normally the App's). */
export function readStageSettings(node: Node): StageSettings {
  const raw = Object.fromEntries(KEYS.map((k) => [k, node.tryGetContext(k) as unknown]).filter(([, v]) => v !== ''));
  const parsed = SettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const text = parsed.error.issues
      .map((i) => `${String(i.path[0])}=${JSON.stringify(raw[String(i.path[0])])}: ${i.message}`)
      .join('; ');
    throw new Error(`invalid CDK context: ${text}`);
  }
  const s = parsed.data;
  return {
    stage: s.stage,
    resourcePrefix: s.resourcePrefix ?? `ghtrader-${s.stage}-`,
    isProduction: s.stage === 'prod',
    jobsMaxConcurrency: s.jobsMaxConcurrency,
    workerMemoryMb: s.workerMemoryMb,
    logRetention: s.logRetentionDays as RetentionDays,
    alarmEmail: s.alarmEmail,
    redisUrl: s.redisUrl,
    questdbHttp: s.questdbHttp,
  };
}
