/**
 * The whole local platform in one process tree (`ghtrader up`): embedded emulators (unless an AWS endpoint is
 * configured), idempotent bootstrap, the local Lambda runner, the reconciler, the web console. Everything it holds
 * is durable under `$GHTRADER_HOME`; `stop()` shuts it down in order within a few seconds.
 */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { createLocalRunner } from '#functions/local-runner.ts';
import { type AppConfig, loadConfig } from '#shared/config.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemClock } from '#shared/domain/time.ts';
import { ensureQueues, ensureTables } from '#shared/infra/aws/bootstrap.ts';
import { createAwsClients } from '#shared/infra/aws/clients.ts';
import { DynamoUserStore } from '#shared/infra/aws/user-store.ts';
import { type LocalEmulators, startEmulators } from '#shared/infra/local/emulators.ts';
import type { Logger } from '#shared/log.ts';
import { AuthService } from '#shared/services/auth-service.ts';
import { createRuntime, type Runtime } from '#shared/services/runtime.ts';
import { StatusService } from '#shared/services/status-service.ts';
import { createApp } from '#web/app.ts';
import { persistentSecret } from './secrets.ts';
import { removeStackFile, writeStackFile } from './stack-file.ts';

export interface LocalStackOptions {
  env: Record<string, string | undefined>;
  host: string;
  port: number;
  log: Logger;
  /** Directory of the built browser client (`dist/web/static`). */
  staticDir: string;
}

export interface LocalStack {
  url: string;
  config: AppConfig;
  rt: Runtime;
  auth: AuthService;
  stop(): Promise<void>;
}

/** In-flight jobs get this long to return on shutdown; after it their leases lapse and they are re-claimed later. */
const RUNNER_STOP_WAIT_MS = 2_500;
/** Locally workers extend visibility themselves right after the claim; the queue default only covers a crash before it. */
const LOCAL_VISIBILITY_S = 60;

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const { log } = opts;
  const base = loadConfig(opts.env);
  for (const dir of ['dynamo', 'run', 'logs', 'secrets', 'state', 'artifacts']) {
    await mkdir(path.join(base.home, dir), { recursive: true });
  }
  const external = Boolean(base.aws.dynamoEndpoint || base.aws.sqsEndpoint);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) {
      await fn().catch((err) => log.error({ err }, 'up.cleanup_failed'));
    }
  };
  try {
    let emulators: LocalEmulators | null = null;
    if (!external) {
      emulators = await startEmulators({ dynamoPath: path.join(base.home, 'dynamo') });
      const emu = emulators;
      cleanups.push(() => emu.stop());
      log.info({ dynamo: emu.dynamoEndpoint, sqs: emu.sqsEndpoint }, 'up.emulators_started');
    }
    const cursorSecret = base.auth.cursorSecret ?? (await persistentSecret(base.home, 'cursor.key'));
    const config = loadConfig({
      ...opts.env,
      ...(emulators
        ? { AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint, AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint }
        : {}),
      GHTRADER_CURSOR_SECRET: cursorSecret,
    });
    const rt = await (async () => {
      const boot = createAwsClients(config);
      try {
        await ensureTables(boot.dynamo, config.tables);
        const queueUrls = await ensureQueues(boot.sqs, config.resourcePrefix, {
          maxReceiveCount: config.jobs.maxReceiveCount,
          visibilityTimeoutS: LOCAL_VISIBILITY_S,
        });
        return await createRuntime(config, log, { queueUrls, cursorSecret });
      } finally {
        boot.destroy();
      }
    })();
    cleanups.push(() => rt.close());
    // Report Redis as it is from the first request on (a down Redis costs at most this wait, then degraded mode).
    await rt.warm.settle(1_000);

    const runner = createLocalRunner(rt, { log });
    // SQS messages do not survive a restart locally; every job still queued gets a fresh message now.
    const recovered = await rt.recovery.reconcile(0);
    if (recovered.requeued > 0) log.info(recovered, 'up.requeued_jobs_after_restart');
    runner.start();
    cleanups.push(async () => {
      await Promise.race([runner.stop(), new Promise((r) => setTimeout(r, RUNNER_STOP_WAIT_MS))]);
    });

    const auth = new AuthService({
      users: new DynamoUserStore(rt.clients.doc, config.tables.users),
      audit: rt.audit,
      clock: systemClock,
      ids: ulidGen,
      log: log.child({ component: 'auth' }),
      limits: config.auth,
      cursorSecret,
    });
    const status = new StatusService({
      dynamo: rt.clients.dynamo,
      jobsTable: config.tables.jobs,
      store: rt.store,
      queue: rt.queue,
      warm: rt.warm,
      runner,
      clock: systemClock,
    });
    const app = createApp({
      config,
      jobs: rt.jobs,
      status,
      auth,
      audit: rt.audit,
      log: log.child({ component: 'web' }),
      clock: systemClock,
      ids: ulidGen,
      staticDir: opts.staticDir,
    });
    const server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port }, () => resolve(s as Server));
      (s as Server).once('error', reject);
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : opts.port;
    const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
    await writeStackFile(config.home, {
      v: 1,
      pid: process.pid,
      started_at: new Date().toISOString(),
      web_url: url,
      dynamo_endpoint: config.aws.dynamoEndpoint ?? null,
      sqs_endpoint: config.aws.sqsEndpoint ?? null,
      redis_url: config.redis.url,
      resource_prefix: config.resourcePrefix,
      redis_prefix: config.redis.prefix,
      region: config.aws.region,
    });
    cleanups.push(() => removeStackFile(config.home, process.pid));
    return { url, config, rt, auth, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
