/**
 * `$GHTRADER_HOME/run/stack.json`: written by `ghtrader up`, read by every other command run against the same home
 * so they use the running stack's endpoints. Explicit environment settings always win over it.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { parseOrThrow } from '#shared/domain/control/validation.ts';
import { readTextIfExists } from '#shared/infra/local/files.ts';

export const StackFileSchema = z.object({
  v: z.literal(1),
  pid: z.number().int().positive(),
  started_at: z.string(),
  web_url: z.string().url(),
  dynamo_endpoint: z.string().url().nullable(),
  sqs_endpoint: z.string().url().nullable(),
  redis_url: z.string(),
  resource_prefix: z.string(),
  redis_prefix: z.string(),
  region: z.string(),
  /** The simulator's base URL (AUTH, NS at `/ns`, FILES); absent when `ghtrader up --no-sim`. */
  sim_url: z.string().url().optional(),
  /** The simulator's dev token (not a secret: a fixed unsigned string, §2.1); absent with `--no-sim`. */
  sim_token: z.string().min(1).optional(),
});
export type StackFile = z.infer<typeof StackFileSchema>;

export function stackFilePath(home: string): string {
  return path.join(home, 'run', 'stack.json');
}

export async function writeStackFile(home: string, stack: StackFile): Promise<void> {
  await mkdir(path.join(home, 'run'), { recursive: true });
  await writeFile(stackFilePath(home), `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
}

/** The stack running under `home`, or null when there is none (no file, or its process is gone). */
export async function readLiveStack(home: string): Promise<StackFile | null> {
  const text = await readTextIfExists(stackFilePath(home));
  if (text === null) return null;
  const stack = parseOrThrow(StackFileSchema, JSON.parse(text), `stack file ${stackFilePath(home)}`);
  return isAlive(stack.pid) ? stack : null;
}

export async function removeStackFile(home: string, pid: number): Promise<void> {
  const current = await readLiveStack(home).catch(() => null);
  if (current && current.pid !== pid) return;
  await rm(stackFilePath(home), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** DIFF settings that name a market-data target; any of them set explicitly means "not the stack's simulator". */
const DIFF_TARGET_KEYS = [
  'GHTRADER_DIFF_AUTH_URL',
  'GHTRADER_DIFF_NS_URL',
  'GHTRADER_DIFF_FILES_URL',
  'GHTRADER_DIFF_MD_URL',
  'GHTRADER_DIFF_TD_URL',
  'GHTRADER_DIFF_TOKEN',
  'GHTRADER_DIFF_USER',
] as const;

/**
 * Environment pointing `loadConfig` (and `loadDiffConfig`) at a running stack; explicit settings in `env` win. The
 * stack's simulator is used for market data only when no DIFF target is set explicitly.
 */
export function stackEnv(
  stack: StackFile,
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const explicitAws = Boolean(env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL_SQS);
  return {
    ...env,
    ...(explicitAws
      ? {}
      : {
          ...(stack.dynamo_endpoint ? { AWS_ENDPOINT_URL_DYNAMODB: stack.dynamo_endpoint } : {}),
          ...(stack.sqs_endpoint ? { AWS_ENDPOINT_URL_SQS: stack.sqs_endpoint } : {}),
        }),
    REDIS_URL: env.REDIS_URL ?? stack.redis_url,
    GHTRADER_RESOURCE_PREFIX: env.GHTRADER_RESOURCE_PREFIX ?? stack.resource_prefix,
    GHTRADER_REDIS_PREFIX: env.GHTRADER_REDIS_PREFIX ?? stack.redis_prefix,
    AWS_REGION: env.AWS_REGION ?? stack.region,
    ...(stack.sim_url && stack.sim_token && !DIFF_TARGET_KEYS.some((k) => env[k])
      ? {
          GHTRADER_DIFF_AUTH_URL: stack.sim_url,
          GHTRADER_DIFF_NS_URL: `${stack.sim_url}/ns`,
          GHTRADER_DIFF_FILES_URL: stack.sim_url,
          GHTRADER_DIFF_TOKEN: stack.sim_token,
        }
      : {}),
  };
}
