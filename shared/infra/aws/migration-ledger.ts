/**
 * `MigrationLedger` on the DynamoDB MigrationLedger table (data-chain §1.5): `pk = "<store_id>#<table>"`,
 * `sk = migration_id`. Claim = conditional put; finish = conditional update on owner and `pending`.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type ClaimOptions,
  type ClaimResult,
  type MigrationLedger,
  type MigrationLedgerStatus,
  type MigrationRecord,
  MigrationRecordSchema,
  migrationLedgerPk,
  summarizeMigrations,
} from '../../domain/data/migration-ledger.ts';
import { type Clock, isoUtc, systemClock } from '../../domain/time.ts';
import { conditionFailedItem, isConditionFailed } from './dynamo-errors.ts';

export class DynamoMigrationLedger implements MigrationLedger {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock = systemClock,
  ) {}

  async claim(storeId: string, table: string, migrationId: string, opts: ClaimOptions): Promise<ClaimResult> {
    if (!(opts.leaseMs > 0)) throw new RangeError(`leaseMs must be positive, got ${opts.leaseMs}`);
    const now = this.clock.nowMs();
    const record: MigrationRecord = {
      store_id: storeId,
      table,
      migration_id: migrationId,
      status: 'pending',
      action: opts.action,
      detail: '',
      sql_sha256: opts.sqlSha256,
      applied_by: opts.owner,
      started_at: isoUtc(now),
      finished_at: null,
      lease_until: isoUtc(now + opts.leaseMs),
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: migrationLedgerPk(storeId, table), sk: migrationId, ...record },
          // Free, failed with an explicit retry, or pending with an expired lease. Never applied.
          ConditionExpression:
            'attribute_not_exists(pk) OR (#st = :failed AND :retry = :yes) OR (#st = :pending AND lease_until < :now)',
          ExpressionAttributeNames: { '#st': 'status' },
          ExpressionAttributeValues: {
            ':failed': 'failed',
            ':pending': 'pending',
            ':retry': opts.retryFailed,
            ':yes': true,
            ':now': isoUtc(now),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (err) {
      const old = conditionFailedItem(err);
      if (old === undefined) throw err;
      // An endpoint that does not return ALL_OLD: read the current record instead.
      const current = old ? toRecord(old) : await this.get(storeId, table, migrationId);
      return { claimed: false, current };
    }
    return { claimed: true, record };
  }

  markApplied(storeId: string, table: string, migrationId: string, owner: string, detail: string): Promise<boolean> {
    return this.finish(storeId, table, migrationId, owner, 'applied', detail);
  }

  markFailed(storeId: string, table: string, migrationId: string, owner: string, error: string): Promise<boolean> {
    return this.finish(storeId, table, migrationId, owner, 'failed', error);
  }

  async list(storeId: string, table: string): Promise<MigrationRecord[]> {
    const out: MigrationRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': migrationLedgerPk(storeId, table) },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of r.Items ?? []) out.push(toRecord(item));
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async status(storeId: string, table: string): Promise<MigrationLedgerStatus> {
    return summarizeMigrations(storeId, table, await this.list(storeId, table));
  }

  private async get(storeId: string, table: string, migrationId: string): Promise<MigrationRecord | null> {
    const r = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: migrationLedgerPk(storeId, table), sk: migrationId },
        ConsistentRead: true,
      }),
    );
    return r.Item ? toRecord(r.Item) : null;
  }

  private async finish(
    storeId: string,
    table: string,
    migrationId: string,
    owner: string,
    status: 'applied' | 'failed',
    detail: string,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: migrationLedgerPk(storeId, table), sk: migrationId },
          UpdateExpression: 'SET #st = :st, detail = :detail, finished_at = :fin',
          ConditionExpression: 'attribute_exists(pk) AND #st = :pending AND applied_by = :owner',
          ExpressionAttributeNames: { '#st': 'status' },
          ExpressionAttributeValues: {
            ':st': status,
            ':detail': detail,
            ':fin': isoUtc(this.clock.nowMs()),
            ':pending': 'pending',
            ':owner': owner,
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }
}

function toRecord(item: Record<string, unknown>): MigrationRecord {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return MigrationRecordSchema.parse(rest);
}
