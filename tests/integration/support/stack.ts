/**
 * A per-test-file stack on the real emulators (or `AWS_ENDPOINT_URL`) and the real Redis: its own resource
 * prefix (tables + queues), its own Redis key prefix, the production runtime wiring, and optionally the local
 * Lambda runner. Nothing here is a mock.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { createLocalRunner, type LocalLambdaRunner } from '#functions/local-runner.ts';
import { type AppConfig, loadConfig } from '#shared/config.ts';
import { ensureQueues, ensureTables } from '#shared/infra/aws/bootstrap.ts';
import { createAwsClients } from '#shared/infra/aws/clients.ts';
import { createLogger, type Logger } from '#shared/log.ts';
import { createRuntime, type Runtime } from '#shared/services/runtime.ts';

export interface TestStack {
  config: AppConfig;
  rt: Runtime;
  log: Logger;
  runner: LocalLambdaRunner | null;
  startRunner(): LocalLambdaRunner;
  close(): Promise<void>;
}

export interface TestStackOptions {
  env?: Record<string, string>;
  maxReceiveCount?: number;
  runner?: boolean;
  /** The runtime's (and the runner's) logger; default silent unless `GHTRADER_TEST_LOG_LEVEL` says otherwise. */
  log?: Logger;
}

/** Fast job timings for tests (lease ≥ 3 × heartbeat, as the config requires). */
export const FAST_JOB_ENV: Record<string, string> = {
  GHTRADER_JOBS_HEARTBEAT_S: '0.2',
  GHTRADER_JOBS_LEASE_S: '1',
  GHTRADER_JOBS_CANCEL_GRACE_S: '1',
  GHTRADER_JOBS_RETRY_DELAY_S: '0',
  GHTRADER_LOCK_POLL_INTERVAL_S: '1',
  GHTRADER_RECONCILE_INTERVAL_S: '1',
};

export async function createTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  const base = inject('awsEnv');
  const id = randomBytes(3).toString('hex');
  // Each stack's own home (job logs, artifacts), removed on close; never the repository's ./var.
  const home = await mkdtemp(path.join(tmpdir(), 'ghtrader-stack-'));
  const env = {
    ...base,
    ...FAST_JOB_ENV,
    GHTRADER_HOME: home,
    GHTRADER_RESOURCE_PREFIX: `${base.GHTRADER_RESOURCE_PREFIX}${id}-`,
    GHTRADER_REDIS_PREFIX: `${base.GHTRADER_REDIS_PREFIX}${id}:`,
    GHTRADER_CURSOR_SECRET: randomBytes(16).toString('hex'),
    ...(opts.maxReceiveCount ? { GHTRADER_JOBS_MAX_RECEIVE_COUNT: String(opts.maxReceiveCount) } : {}),
    ...opts.env,
  };
  const config = loadConfig(env);
  const boot = createAwsClients(config);
  await ensureTables(boot.dynamo, config.tables);
  const queueUrls = await ensureQueues(boot.sqs, config.resourcePrefix, {
    maxReceiveCount: config.jobs.maxReceiveCount,
    visibilityTimeoutS: 5,
  });
  boot.destroy();
  const log = opts.log ?? createLogger({ service: 'test', level: process.env.GHTRADER_TEST_LOG_LEVEL ?? 'silent' });
  const rt = await createRuntime(config, log, { queueUrls });
  const stack: TestStack = {
    config,
    rt,
    log,
    runner: null,
    startRunner() {
      const runner = createLocalRunner(rt, { concurrency: 2, waitTimeS: 1, log });
      runner.start();
      stack.runner = runner;
      return runner;
    },
    async close() {
      await stack.runner?.stop();
      await rt.close();
      await rm(home, { recursive: true, force: true });
    },
  };
  if (opts.runner) stack.startRunner();
  return stack;
}

/** Poll `fn` until it returns a truthy value or `timeoutMs` passes (then throw with the last value). */
export async function waitFor<T>(
  fn: () => Promise<T>,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
