/**
 * Which stack a CLI command talks to (control-chain §11): the one `ghtrader up` runs under the home, else the one the
 * environment names (emulators, or a deployed stack by its jobs queue URL); neither is an actionable usage error.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attachToStack, CliUsageError } from '#colo/cli-support.ts';

const NAMED = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_SQS', 'GHTRADER_JOBS_QUEUE_URL'];

describe('attachToStack', () => {
  let home: string;
  const saved: Record<string, string | undefined> = {};

  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ghtrader-attach-'));
    for (const k of [...NAMED, 'GHTRADER_JOBS_DLQ_URL']) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
  });

  afterEach(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(home, { recursive: true, force: true });
  });

  it('refuses with both ways named when no stack runs under the home and none is named', async () => {
    const err = await attachToStack(home).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliUsageError);
    expect((err as Error).message).toContain(`ghtrader up --home ${home}`);
    expect((err as Error).message).toContain('GHTRADER_JOBS_QUEUE_URL');
  });

  it('talks to a deployed stack named by its jobs queue URL, with no endpoint override', async () => {
    process.env.GHTRADER_JOBS_QUEUE_URL = 'https://sqs.ap-east-1.amazonaws.com/123456789012/ghtrader-prod-jobs';
    const { config, stack } = await attachToStack(home);
    expect(stack).toBeNull();
    expect(config.aws.jobsQueueUrl).toBe(process.env.GHTRADER_JOBS_QUEUE_URL);
    expect(config.aws.dynamoEndpoint).toBeUndefined();
  });
});
