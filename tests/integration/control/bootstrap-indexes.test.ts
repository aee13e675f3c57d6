/**
 * `ensureTables` and a table from an older version that lacks an index its definition now declares (the Locks table's
 * `shard-key`, added for `GET /api/locks`), on the real emulator: refused by default with table and index named;
 * rebuilt with every item kept (fence counters included, so fencing tokens keep growing) when the caller owns the
 * endpoint; and a rebuild cut short is finished from its backup file on the next start.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AppConfig, loadConfig } from '#shared/config.ts';
import { ensureTables } from '#shared/infra/aws/bootstrap.ts';
import { type AwsClients, createAwsClients } from '#shared/infra/aws/clients.ts';
import { DynamoLockStore } from '#shared/infra/aws/lock-store.ts';

const owner = { ownerId: 'job-old', host: 'h', pid: 1 };
let dir: string;
const opened: AwsClients[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-rebuild-'));
});

afterAll(async () => {
  for (const c of opened) c.destroy();
  await rm(dir, { recursive: true, force: true });
});

/** A fresh resource prefix with the Locks table as an older version created it: key schema only, no index. */
async function withOldLocksTable(): Promise<{ config: AppConfig; clients: AwsClients }> {
  const base = inject('awsEnv');
  const config = loadConfig({
    ...base,
    GHTRADER_RESOURCE_PREFIX: `${base.GHTRADER_RESOURCE_PREFIX}rb${randomBytes(3).toString('hex')}-`,
  });
  const clients = createAwsClients(config);
  opened.push(clients);
  await clients.dynamo.send(
    new CreateTableCommand({
      TableName: config.tables.locks,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
    }),
  );
  for (let i = 0; i < 50; i++) {
    const d = await clients.dynamo.send(new DescribeTableCommand({ TableName: config.tables.locks }));
    if (d.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // An old lease (no `shard`) and its fence counter at 7; 30 more counters so the restore takes several batches.
  const put = (Item: Record<string, unknown>) =>
    clients.doc.send(new PutCommand({ TableName: config.tables.locks, Item }));
  await put({
    key: 'main_l5:symbol=X',
    owner_job_id: owner.ownerId,
    owner_host: 'h',
    owner_pid: 1,
    fence: 7,
    acquired_at: '2026-01-01T00:00:00.000Z',
    renewed_at: '2026-01-01T00:00:00.000Z',
    expiresAt: Date.now() + 60_000,
  });
  await put({ key: 'fence#main_l5:symbol=X', fence: 7 });
  for (let i = 0; i < 30; i++) await put({ key: `fence#k${i}`, fence: i + 1 });
  return { config, clients };
}

async function indexNames(clients: AwsClients, table: string): Promise<string[]> {
  const d = await clients.dynamo.send(new DescribeTableCommand({ TableName: table }));
  return (d.Table?.GlobalSecondaryIndexes ?? []).map((ix) => ix.IndexName ?? '');
}

describe('ensureTables on a table missing a declared index', () => {
  it('refuses by default, naming the table and the index', async () => {
    const { config, clients } = await withOldLocksTable();
    await expect(ensureTables(clients.dynamo, config.tables)).rejects.toThrow(
      new RegExp(`table ${config.tables.locks} lacks the index shard-key`),
    );
  });

  it('rebuilds it when asked, keeping every item: the fence keeps growing and the old lease is listed once renewed', async () => {
    // Prepare
    const { config, clients } = await withOldLocksTable();
    const backupDir = path.join(dir, 'a');

    // Act
    await ensureTables(clients.dynamo, config.tables, { missingIndexes: { mode: 'rebuild', backupDir } });

    // Assess: the index exists, the items are back, the backup is gone
    expect(await indexNames(clients, config.tables.locks)).toEqual(['shard-key']);
    const counter = await clients.doc.send(
      new GetCommand({ TableName: config.tables.locks, Key: { key: 'fence#k29' } }),
    );
    expect(counter.Item?.fence).toBe(30);
    expect(await readdir(backupDir)).toEqual([]);
    const locks = new DynamoLockStore(clients.doc, config.tables.locks);
    expect((await locks.holder('main_l5:symbol=X'))?.owner).toBe('job-old');
    await locks.renew({ key: 'main_l5:symbol=X', ownerId: owner.ownerId, fence: 7, expiresAtMs: 0 }, 1);
    expect((await locks.list({ limit: 10 })).items.map((l) => l.key)).toEqual(['main_l5:symbol=X']);
    await new Promise((r) => setTimeout(r, 10));
    const next = await locks.acquire('main_l5:symbol=X', { ownerId: 'job-new', host: 'h', pid: 2 }, 1_000);
    expect(next.ok && next.leases[0]?.fence).toBe(8);
  });

  it('finishes a rebuild cut short from its backup file on the next start', async () => {
    // Prepare: the backup was written and the table dropped, then the process died
    const { config, clients } = await withOldLocksTable();
    const backupDir = path.join(dir, 'b');
    await ensureTables(clients.dynamo, config.tables, { missingIndexes: { mode: 'rebuild', backupDir } });
    const saved = [{ key: { S: 'fence#survivor' }, fence: { N: '41' } }];
    await writeFile(path.join(backupDir, `${config.tables.locks}.json`), JSON.stringify(saved));
    await clients.dynamo.send(new DeleteTableCommand({ TableName: config.tables.locks }));

    // Act
    await ensureTables(clients.dynamo, config.tables, { missingIndexes: { mode: 'rebuild', backupDir } });

    // Assess
    const item = await clients.doc.send(
      new GetCommand({ TableName: config.tables.locks, Key: { key: 'fence#survivor' } }),
    );
    expect(item.Item?.fence).toBe(41);
    expect(await indexNames(clients, config.tables.locks)).toEqual(['shard-key']);
    expect(await readdir(backupDir)).toEqual([]);
  });
});
