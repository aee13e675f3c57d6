/**
 * Integration global setup: the real local cloud (dynalite + fauxqs on random ports) and the real Redis at
 * 127.0.0.1:6379, with a per-run resource prefix and Redis key prefix so runs never collide or clobber.
 *
 * Set `AWS_ENDPOINT_URL` (e.g. moto_server or localstack) to run the same suite against another DynamoDB/SQS
 * implementation: the emulators are then not started and tables/queues are created there under the run prefix.
 */
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../shared/config.ts';
import { ensureQueues, ensureTables } from '../../shared/infra/aws/bootstrap.ts';
import { createAwsClients } from '../../shared/infra/aws/clients.ts';
import { type LocalEmulators, startEmulators } from '../../shared/infra/local/emulators.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Environment variables that point `loadConfig` at this run's stores. */
    awsEnv: Record<string, string>;
  }
}

let emulators: LocalEmulators | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = randomBytes(4).toString('hex');
  const external = process.env.AWS_ENDPOINT_URL;
  const env: Record<string, string> = {
    GHTRADER_RESOURCE_PREFIX: `it-${runId}-`,
    GHTRADER_REDIS_PREFIX: `ghtrader-it-${runId}:`,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    GHTRADER_LOG_LEVEL: 'silent',
  };
  if (external) {
    env.AWS_ENDPOINT_URL = external;
  } else {
    emulators = await startEmulators();
    env.AWS_ENDPOINT_URL_DYNAMODB = emulators.dynamoEndpoint;
    env.AWS_ENDPOINT_URL_SQS = emulators.sqsEndpoint;
  }
  const config = loadConfig(env);
  const clients = createAwsClients(config);
  await ensureTables(clients.dynamo, config.tables);
  await ensureQueues(clients.sqs, config.resourcePrefix);
  clients.destroy();
  project.provide('awsEnv', env);
  return async () => {
    await emulators?.stop();
  };
}
