/**
 * `LockStore` on the DynamoDB Locks table (trading-chain §2). One item per key
 * `{key, owner_job_id, owner_host, owner_pid, fence, acquired_at, renewed_at, expiresAt, shard}` (`expiresAt` epoch
 * ms), and a counter item `fence#<key>` that is never deleted, so fencing tokens only grow (failed attempts burn
 * tokens). `shard` (`all`) puts a lease, and never a counter, in the `shard-key` index that `list` queries; a renewal
 * sets it too, so a lease taken before the index existed is listed from its next renewal.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  AcquireResult,
  Lease,
  LockHolder,
  LockLister,
  LockListPage,
  LockOwner,
  LockStore,
} from '../../domain/control/locks.ts';
import { type Clock, isoUtc, systemClock } from '../../domain/time.ts';
import { LockLostError } from '../../errors/control.ts';
import { conditionFailedItem, isConditionFailed } from './dynamo-errors.ts';

const FENCE_PREFIX = 'fence#';
const LOCK_SHARD = 'all';
const SHARD_INDEX = 'shard-key';

export class DynamoLockStore implements LockStore, LockLister {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock = systemClock,
  ) {}

  async acquire(key: string, owner: LockOwner, leaseMs: number): Promise<AcquireResult> {
    if (key.startsWith(FENCE_PREFIX)) throw new RangeError(`lock key must not start with ${FENCE_PREFIX}: ${key}`);
    const fence = await this.nextFence(key);
    const now = this.clock.nowMs();
    const item = {
      key,
      owner_job_id: owner.ownerId,
      owner_host: owner.host,
      owner_pid: owner.pid,
      fence,
      acquired_at: isoUtc(now),
      renewed_at: isoUtc(now),
      expiresAt: now + leaseMs,
      shard: LOCK_SHARD,
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          // Free, expired, or already ours (a re-claimed attempt of the same job).
          ConditionExpression: 'attribute_not_exists(#k) OR expiresAt < :now OR owner_job_id = :me',
          ExpressionAttributeNames: { '#k': 'key' },
          ExpressionAttributeValues: { ':now': now, ':me': owner.ownerId },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (err) {
      const old = conditionFailedItem(err);
      if (old === undefined) throw err;
      // An endpoint that does not return ALL_OLD: read the holder instead. Released in between -> still a
      // conflict for this attempt (the caller retries), reported with the key only.
      const holder = old ? toHolder(old) : await this.holder(key);
      return { ok: false, conflicts: [holder ?? unknownHolder(key, now)] };
    }
    return { ok: true, leases: [{ key, ownerId: owner.ownerId, fence, expiresAtMs: item.expiresAt }] };
  }

  async acquireAll(keys: string[], owner: LockOwner, leaseMs: number): Promise<AcquireResult> {
    const sorted = [...new Set(keys)].sort();
    const taken: Lease[] = [];
    for (const key of sorted) {
      const r = await this.acquire(key, owner, leaseMs);
      if (!r.ok) {
        for (const lease of taken.reverse()) await this.release(lease);
        return r;
      }
      taken.push(...r.leases);
    }
    return { ok: true, leases: taken };
  }

  async renew(lease: Lease, leaseMs: number): Promise<Lease> {
    const now = this.clock.nowMs();
    const expiresAtMs = now + leaseMs;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { key: lease.key },
          UpdateExpression: 'SET expiresAt = :e, renewed_at = :r, #shard = :shard',
          ConditionExpression: 'owner_job_id = :me AND fence = :fence',
          // `shard` is a DynamoDB reserved word.
          ExpressionAttributeNames: { '#shard': 'shard' },
          ExpressionAttributeValues: {
            ':e': expiresAtMs,
            ':r': isoUtc(now),
            ':shard': LOCK_SHARD,
            ':me': lease.ownerId,
            ':fence': lease.fence,
          },
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw new LockLostError(lease.key, lease.fence);
      throw err;
    }
    return { ...lease, expiresAtMs };
  }

  async release(lease: Lease): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { key: lease.key },
          ConditionExpression: 'owner_job_id = :me AND fence = :fence',
          ExpressionAttributeValues: { ':me': lease.ownerId, ':fence': lease.fence },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async holder(key: string): Promise<LockHolder | null> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { key }, ConsistentRead: true }));
    if (!r.Item) return null;
    const h = toHolder(r.Item);
    return Date.parse(h.expires_at) < this.clock.nowMs() ? null : h;
  }

  async list(q: { prefix?: string; limit: number; start?: Record<string, unknown> }): Promise<LockListPage> {
    const now = this.clock.nowMs();
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: SHARD_INDEX,
        KeyConditionExpression: q.prefix ? '#shard = :s AND begins_with(#k, :p)' : '#shard = :s',
        ExpressionAttributeNames: { '#shard': 'shard', ...(q.prefix ? { '#k': 'key' } : {}) },
        ExpressionAttributeValues: { ':s': LOCK_SHARD, ...(q.prefix ? { ':p': q.prefix } : {}) },
        Limit: q.limit,
        ...(q.start ? { ExclusiveStartKey: q.start } : {}),
      }),
    );
    const items = (r.Items ?? []).map((item) => {
      const h = toHolder(item);
      return {
        key: h.key,
        owner: h.owner,
        host: h.host,
        pid: h.pid,
        fencing_token: h.fence,
        acquired_at: String(item.acquired_at ?? ''),
        renewed_at: String(item.renewed_at ?? ''),
        expires_at: h.expires_at,
        expired: Number(item.expiresAt) < now,
      };
    });
    return { items, next: r.LastEvaluatedKey ?? null };
  }

  private async nextFence(key: string): Promise<number> {
    const r = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { key: `${FENCE_PREFIX}${key}` },
        UpdateExpression: 'ADD fence :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const fence = r.Attributes?.fence;
    if (typeof fence !== 'number') throw new Error(`fence counter for ${key} returned ${JSON.stringify(fence)}`);
    return fence;
  }
}

function toHolder(item: Record<string, unknown>): LockHolder {
  return {
    key: String(item.key),
    owner: String(item.owner_job_id),
    host: String(item.owner_host ?? ''),
    pid: Number(item.owner_pid ?? 0),
    fence: Number(item.fence),
    expires_at: isoUtc(Number(item.expiresAt)),
  };
}

function unknownHolder(key: string, now: number): LockHolder {
  return { key, owner: 'unknown', host: '', pid: 0, fence: 0, expires_at: isoUtc(now) };
}
