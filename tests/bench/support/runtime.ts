/**
 * The runtime every bench stands up: a config on the given emulators with a per-run resource and Redis prefix (never
 * touching anything else on the shared Redis), the tables and queues, and the production runtime wiring.
 */
import { randomBytes } from 'node:crypto';
import { type AppConfig, loadConfig } from '#shared/config.ts';
import { ensureQueues, ensureTables } from '#shared/infra/aws/bootstrap.ts';
import { createAwsClients } from '#shared/infra/aws/clients.ts';
import type { Logger } from '#shared/log.ts';
import { createRuntime, type Runtime } from '#shared/services/runtime.ts';

export interface BenchRuntime {
  config: AppConfig;
  /** The environment the config was built from (benches pass it on as data-chain settings). */
  env: Record<string, string | undefined>;
  rt: Runtime;
}

export async function startBenchRuntime(
  emu: { dynamoEndpoint: string; sqsEndpoint: string },
  log: Logger,
  extraEnv: Record<string, string> = {},
): Promise<BenchRuntime> {
  const id = randomBytes(4).toString('hex');
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL_DYNAMODB: emu.dynamoEndpoint,
    AWS_ENDPOINT_URL_SQS: emu.sqsEndpoint,
    GHTRADER_RESOURCE_PREFIX: `bench-${id}-`,
    GHTRADER_REDIS_PREFIX: `ghtrader-bench-${id}:`,
    GHTRADER_CURSOR_SECRET: randomBytes(16).toString('hex'),
    GHTRADER_LOG_LEVEL: 'silent',
    ...extraEnv,
  };
  const config = loadConfig(env);
  const boot = createAwsClients(config);
  await ensureTables(boot.dynamo, config.tables);
  const queueUrls = await ensureQueues(boot.sqs, config.resourcePrefix, { visibilityTimeoutS: 60 });
  boot.destroy();
  const rt = await createRuntime(config, log, { queueUrls });
  await rt.warm.settle(2_000);
  return { config, env, rt };
}
