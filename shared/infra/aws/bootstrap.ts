/**
 * Idempotent creation of every table and queue from `definitions.ts`, for the local stack and for tests against
 * any DynamoDB/SQS endpoint. In AWS the CDK stacks create the same resources (and add a new index to an existing
 * table); this is never run there.
 *
 * A table that exists without an index its definition declares (a `$GHTRADER_HOME` from an older version) is refused
 * with the table and index named, unless the caller owns the endpoint alone (the embedded emulator, whose LevelDB no
 * other process can open) and asks for `rebuild`: dynalite cannot add an index to a table, so the items are saved to
 * a backup file, the table is created again from its definition and the items are put back. A rebuild cut short is
 * finished from the backup file on the next start; nothing is lost (fence counters included).
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
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

export interface EnsureTablesOptions {
  timeoutMs?: number;
  /**
   * An existing table without a declared index: `fail` (the default) throws naming both; `rebuild` recreates the table
   * with its items, keeping the backup in `backupDir` until they are back. Only for an endpoint no one else uses.
   */
  missingIndexes?: { mode: 'fail' } | { mode: 'rebuild'; backupDir: string };
}

/** Create every table that does not exist yet and wait until all are ACTIVE (see the file header for old tables). */
export async function ensureTables(
  dynamo: DynamoDBClient,
  names: TableNames,
  opts: EnsureTablesOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const missing = opts.missingIndexes ?? { mode: 'fail' };
  await Promise.all(
    TABLE_IDS.map(async (id) => {
      const name = names[id];
      const def = TABLES[id];
      await createIfAbsent(dynamo, name, def, timeoutMs);
      const backup = missing.mode === 'rebuild' ? path.join(missing.backupDir, `${name}.json`) : null;
      // A rebuild cut short: the table may be empty or partly restored; putting every saved item back is idempotent.
      if (backup && (await readBackup(backup))) await restoreBackup(dynamo, name, backup);
      const absent = await missingIndexes(dynamo, name, def);
      if (absent.length === 0) return;
      if (!backup) {
        throw new Error(
          `DynamoDB table ${name} lacks the index${absent.length > 1 ? 'es' : ''} ${absent.join(', ')} its definition declares (a table from an older ghtrader): add ${absent.length > 1 ? 'them' : 'it'} (the CDK stack does in AWS) or recreate the table`,
        );
      }
      await rebuild(dynamo, name, def, backup, timeoutMs);
    }),
  );
}

async function createIfAbsent(dynamo: DynamoDBClient, name: string, def: TableDef, timeoutMs: number): Promise<void> {
  try {
    await dynamo.send(new CreateTableCommand(createTableInput(name, def)));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  await waitActive(dynamo, name, timeoutMs);
}

async function missingIndexes(dynamo: DynamoDBClient, name: string, def: TableDef): Promise<string[]> {
  const d = await dynamo.send(new DescribeTableCommand({ TableName: name }));
  const have = new Set((d.Table?.GlobalSecondaryIndexes ?? []).map((ix) => ix.IndexName));
  return def.indexes.map((ix) => ix.name).filter((n) => !have.has(n));
}

type Item = Record<string, AttributeValue>;

/** Save every item (atomically: a half-written backup never replaces a good one), recreate the table, put them back. */
async function rebuild(dynamo: DynamoDBClient, name: string, def: TableDef, backup: string, timeoutMs: number) {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({ TableName: name, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  for (const item of items) {
    for (const [attr, v] of Object.entries(item)) {
      if (v.B !== undefined || v.BS !== undefined) {
        throw new Error(`cannot rebuild ${name}: attribute ${attr} is binary, which the JSON backup cannot keep`);
      }
    }
  }
  await mkdir(path.dirname(backup), { recursive: true });
  await writeFile(`${backup}.tmp`, JSON.stringify(items));
  await rename(`${backup}.tmp`, backup);
  await dynamo.send(new DeleteTableCommand({ TableName: name }));
  await waitGone(dynamo, name, timeoutMs);
  await createIfAbsent(dynamo, name, def, timeoutMs);
  await restoreBackup(dynamo, name, backup);
}

async function readBackup(file: string): Promise<Item[] | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Item[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(
      `table backup ${file} is unreadable (${(err as Error).message}); it holds the items of an unfinished rebuild: keep it and fix or remove it by hand`,
    );
  }
}

async function restoreBackup(dynamo: DynamoDBClient, name: string, file: string): Promise<void> {
  const items = (await readBackup(file)) ?? [];
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let round = 0; requests.length > 0; round++) {
      if (round === 10) throw new Error(`restoring ${name} from ${file}: items still unprocessed after 10 rounds`);
      const r = await dynamo.send(new BatchWriteItemCommand({ RequestItems: { [name]: requests } }));
      requests = (r.UnprocessedItems?.[name] ?? []).flatMap((w) =>
        w.PutRequest?.Item ? [{ PutRequest: { Item: w.PutRequest.Item } }] : [],
      );
      if (requests.length > 0) await new Promise((res) => setTimeout(res, 50 * 2 ** round));
    }
  }
  await rm(file, { force: true });
}

async function waitGone(dynamo: DynamoDBClient, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await dynamo.send(new DescribeTableCommand({ TableName: name }));
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return;
      throw err;
    }
    if (Date.now() > deadline) throw new Error(`table ${name} still exists ${timeoutMs} ms after DeleteTable`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * SQS's "exists with other attributes" error: `QueueNameExists` from AWS (JSON protocol, namespace stripped by the SDK);
 * emulators answering with the query-protocol code send `AWS.SimpleQueueService.QueueNameExists`.
 */
function isQueueNameExists(err: unknown): boolean {
  const name = (err as { name?: unknown }).name;
  return name === 'QueueNameExists' || name === 'AWS.SimpleQueueService.QueueNameExists';
}

/**
 * Create the queues (dead-letter queues first) and return their URLs. An existing queue is reused and given this
 * call's attributes (visibility, retention, redrive policy).
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
        // A queue that exists with other attributes (an earlier start with another receive count or visibility)
        // takes this start's: the DLQ handler names the receive count it was started with, so the queue must use it.
        if (!isQueueNameExists(err)) throw err;
        const existing = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
        if (existing.QueueUrl) {
          await sqs.send(new SetQueueAttributesCommand({ QueueUrl: existing.QueueUrl, Attributes: attributes }));
        }
        return existing;
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
