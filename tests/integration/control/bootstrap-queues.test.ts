/**
 * `ensureQueues` on the real SQS emulator: a second start with another receive count or visibility timeout brings the
 * existing queue to the new settings (the DLQ handler names the count its process was started with, so the queue's
 * redrive policy must say the same), and a start with the same settings changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '#shared/config.ts';
import { ensureQueues } from '#shared/infra/aws/bootstrap.ts';
import { createAwsClients } from '#shared/infra/aws/clients.ts';

const base = inject('awsEnv');
const config = loadConfig({
  ...base,
  GHTRADER_RESOURCE_PREFIX: `${base.GHTRADER_RESOURCE_PREFIX}q${randomBytes(3).toString('hex')}-`,
});
const clients = createAwsClients(config);

afterAll(() => clients.destroy());

async function jobsQueue(url: string): Promise<{ maxReceiveCount: number; visibilityS: number; dlqArn: string }> {
  const r = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['RedrivePolicy', 'VisibilityTimeout'] }),
  );
  const redrive = JSON.parse(r.Attributes?.RedrivePolicy ?? '{}') as {
    maxReceiveCount?: unknown;
    deadLetterTargetArn?: unknown;
  };
  return {
    maxReceiveCount: Number(redrive.maxReceiveCount),
    visibilityS: Number(r.Attributes?.VisibilityTimeout),
    dlqArn: String(redrive.deadLetterTargetArn),
  };
}

describe('ensureQueues on an existing queue', () => {
  it('applies this start’s receive count and visibility timeout, keeping the same queues', async () => {
    const first = await ensureQueues(clients.sqs, config.resourcePrefix, { maxReceiveCount: 3, visibilityTimeoutS: 5 });
    const before = await jobsQueue(first.jobs);
    expect(before).toMatchObject({ maxReceiveCount: 3, visibilityS: 5 });

    const again = await ensureQueues(clients.sqs, config.resourcePrefix, { maxReceiveCount: 3, visibilityTimeoutS: 5 });
    expect(again).toEqual(first);

    const changed = await ensureQueues(clients.sqs, config.resourcePrefix, {
      maxReceiveCount: 7,
      visibilityTimeoutS: 9,
    });
    expect(changed).toEqual(first);
    expect(await jobsQueue(changed.jobs)).toEqual({ maxReceiveCount: 7, visibilityS: 9, dlqArn: before.dlqArn });
  });
});
