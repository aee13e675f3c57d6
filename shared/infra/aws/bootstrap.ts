/**
 * Idempotent creation of every table and queue from `definitions.ts`, for the local stack and for tests against
 * any DynamoDB/SQS endpoint. In AWS the CDK stacks create the same resources; this is never run there.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { TableNames } from '../../config.ts';
import { QUEUE_IDS, QUEUES, type QueueId, queueName, TABLE_IDS, TABLES, type TableDef } from './definitions.ts';

export type QueueUrls = Record<QueueId, string>;

function createTableInput(name: string, def: TableDef): CreateTableCommandInput {
  const attrs = new Map<string, 'S' | 'N'>();
  const add = (k: { name: string; type: 'S' | 'N' } | undefined) => {
    if (k) attrs.set(k.name, k.type);
  };
  add(def.partitionKey);
  add(def.sortKey);
  for (const ix of def.indexes) {
    add(ix.partitionKey);
    add(ix.sortKey);
  }
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: [
      { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
      ...(def.sortKey ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' as const }] : []),
    ],
    ...(def.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: def.indexes.map((ix) => ({
            IndexName: ix.name,
            KeySchema: [
              { AttributeName: ix.partitionKey.name, KeyType: 'HASH' as const },
              ...(ix.sortKey ? [{ AttributeName: ix.sortKey.name, KeyType: 'RANGE' as const }] : []),
            ],
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
  };
}

async function waitActive(dynamo: DynamoDBClient, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await dynamo.send(new DescribeTableCommand({ TableName: name }));
    const indexesReady = (d.Table?.GlobalSecondaryIndexes ?? []).every((ix) => ix.IndexStatus === 'ACTIVE');
    if (d.Table?.TableStatus === 'ACTIVE' && indexesReady) return;
    if (Date.now() > deadline) {
      throw new Error(`table ${name} not ACTIVE after ${timeoutMs} ms (status ${d.Table?.TableStatus})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Create every table that does not exist yet and wait until all are ACTIVE. */
export async function ensureTables(dynamo: DynamoDBClient, names: TableNames, timeoutMs = 30_000): Promise<void> {
  await Promise.all(
    TABLE_IDS.map(async (id) => {
      const name = names[id];
      try {
        await dynamo.send(new CreateTableCommand(createTableInput(name, TABLES[id])));
      } catch (err) {
        if (!(err instanceof ResourceInUseException)) throw err;
      }
      await waitActive(dynamo, name, timeoutMs);
    }),
  );
}

/**
 * Create the queues (dead-letter queues first) and return their URLs. Existing queues are reused as they are.
 * The local stack passes a short `visibilityTimeoutS`: workers extend visibility themselves right after the claim,
 * so the queue default only matters when a runner dies between receive and claim (Lambda needs ≥ its timeout).
 */
export async function ensureQueues(
  sqs: SQSClient,
  prefix: string,
  overrides: { maxReceiveCount?: number; visibilityTimeoutS?: number } = {},
): Promise<QueueUrls> {
  const urls: Partial<QueueUrls> = {};
  for (const id of QUEUE_IDS) {
    const def = QUEUES[id];
    const attributes: Record<string, string> = {
      VisibilityTimeout: String(overrides.visibilityTimeoutS ?? def.visibilityTimeoutS),
      MessageRetentionPeriod: String(def.retentionS),
    };
    if ('deadLetter' in def) {
      const dlqUrl = urls[def.deadLetter.queue];
      if (!dlqUrl) throw new Error(`queue ${id}: dead-letter queue ${def.deadLetter.queue} must be created first`);
      const arn = await queueArn(sqs, dlqUrl);
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: arn,
        maxReceiveCount: overrides.maxReceiveCount ?? def.deadLetter.maxReceiveCount,
      });
    }
    const name = queueName(prefix, id);
    const created = await sqs
      .send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))
      .catch(async (err) => {
        // A queue that exists with other attributes is reused; anything else is a real failure.
        if ((err as { name?: string }).name !== 'QueueNameExists') throw err;
        return sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      });
    if (!created.QueueUrl) throw new Error(`queue ${name}: CreateQueue returned no QueueUrl`);
    urls[id] = created.QueueUrl;
  }
  return urls as QueueUrls;
}

/** Look up the URLs of existing queues by name (local stack started by another process). */
export async function lookupQueueUrls(sqs: SQSClient, prefix: string): Promise<QueueUrls> {
  const urls: Partial<QueueUrls> = {};
  for (const id of QUEUE_IDS) {
    const r = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName(prefix, id) }));
    if (!r.QueueUrl) throw new Error(`queue ${queueName(prefix, id)} not found`);
    urls[id] = r.QueueUrl;
  }
  return urls as QueueUrls;
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = r.Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${url}: no QueueArn attribute`);
  return arn;
}
