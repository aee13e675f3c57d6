/**
 * The WsConnections table (control-chain §7, AWS sink): one item per open API Gateway WebSocket connection
 * `{connection_id, user_id, role, via, credential_ref, topics[], connected_at, expires_at}` plus `shard` (`all`, the
 * broadcaster's index partition), `topics_rev` (optimistic concurrency of subscribe/unsubscribe and of the
 * broadcaster's role changes), a per-second frame counter, and `expires_at_s` (epoch seconds, DynamoDB TTL housekeeping
 * only). `expires_at` is checked in code: an expired item is never delivered to, whether or not TTL has removed it yet.
 *
 * `credential_ref` names the credential the connection was authorized with, without its secret
 * (`session:<sha256 hex of the session id>` or `token:<token id>`), so the broadcaster can re-check it every 60 s.
 * Items written before it existed have none: they parse, and the broadcaster closes them at its first re-check.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { type Role, RoleSchema } from '../../domain/control/roles.ts';
import { isoUtc } from '../../domain/time.ts';
import { isConditionFailed } from './dynamo-errors.ts';

/** Partition of the broadcaster's index: every connection item carries it. */
export const WS_SHARD = 'all';
const SHARD_INDEX = 'shard-connection_id';
const USER_INDEX = 'user-connected_at';

export const WsConnectionSchema = z.object({
  connection_id: z.string().min(1).max(128),
  user_id: z.string().min(1),
  role: RoleSchema,
  via: z.enum(['session', 'token']),
  /** Absent on items written before it existed (closed at the broadcaster's first re-check). */
  credential_ref: z.string().min(1).optional(),
  topics: z.array(z.string()),
  topics_rev: z.number().int().min(0),
  connected_at: z.string(),
  expires_at: z.string(),
});
export type WsConnection = z.infer<typeof WsConnectionSchema>;

export interface NewWsConnection {
  connectionId: string;
  userId: string;
  role: WsConnection['role'];
  via: WsConnection['via'];
  /** `session:<sha256 hex>` or `token:<id>` (the authorizer's `credential_ref`). */
  credentialRef: string;
  connectedAtMs: number;
  expiresAtMs: number;
}

export class WsConnectionConflictError extends Error {
  constructor(connectionId: string, attempts: number) {
    super(`connection ${connectionId}: topics or role changed concurrently ${attempts} times in a row`);
    this.name = 'WsConnectionConflictError';
  }
}

function parseItem(item: Record<string, unknown>): WsConnection {
  const r = WsConnectionSchema.safeParse(item);
  if (!r.success) {
    const text = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`WsConnections item ${JSON.stringify(item.connection_id)} does not match its schema: ${text}`);
  }
  return r.data;
}

/** Adapter of the WsConnections table; every write is conditional on the item's existence as the call expects. */
export class DynamoWsConnections {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** `$connect`: a new item with no topics; API Gateway never reuses a connection id, so an existing one is a bug. */
  async put(c: NewWsConnection): Promise<WsConnection> {
    const item: WsConnection & Record<string, unknown> = {
      connection_id: c.connectionId,
      shard: WS_SHARD,
      user_id: c.userId,
      role: c.role,
      via: c.via,
      credential_ref: c.credentialRef,
      topics: [],
      topics_rev: 0,
      connected_at: isoUtc(c.connectedAtMs),
      expires_at: isoUtc(c.expiresAtMs),
      expires_at_s: Math.ceil(c.expiresAtMs / 1000),
    };
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: item,
        ConditionExpression: 'attribute_not_exists(connection_id)',
      }),
    );
    return parseItem(item);
  }

  async get(connectionId: string): Promise<WsConnection | null> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { connection_id: connectionId }, ConsistentRead: true }),
    );
    return r.Item ? parseItem(r.Item) : null;
  }

  /** Delete one item; false when it was already gone (`$disconnect` after a prune, or the reverse). */
  async delete(connectionId: string): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { connection_id: connectionId },
          ConditionExpression: 'attribute_exists(connection_id)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /**
   * Read-modify-write of the topic set, guarded by `topics_rev` so two frames of one connection never lose an update
   * (retried up to `attempts` times). `change` gets the current item and returns the new topics and a result; null
   * when the connection item is gone.
   */
  updateTopics<T>(
    connectionId: string,
    change: (current: WsConnection) => { topics: string[]; result: T },
    attempts = 3,
  ): Promise<{ connection: WsConnection; result: T } | null> {
    return this.rewrite(connectionId, change, attempts);
  }

  /**
   * The broadcaster's session re-check found another role: set it and keep only the topics `keepTopic` admits for it,
   * under the same `topics_rev` guard as `updateTopics` (so a concurrent subscribe is re-admitted under the new role).
   * Null when the connection item is gone.
   */
  async setRole(
    connectionId: string,
    role: Role,
    keepTopic: (topic: string) => boolean,
    attempts = 3,
  ): Promise<WsConnection | null> {
    const done = await this.rewrite(
      connectionId,
      (current) => ({ role, topics: current.topics.filter(keepTopic), result: null }),
      attempts,
    );
    return done?.connection ?? null;
  }

  /**
   * The optimistic-concurrency loop of `updateTopics` and `setRole`: read, change, write if `topics_rev` is unchanged.
   * `change` returns the new topics, and a new role when the role changes too.
   */
  private async rewrite<T>(
    connectionId: string,
    change: (current: WsConnection) => { topics: string[]; role?: Role; result: T },
    attempts: number,
  ): Promise<{ connection: WsConnection; result: T } | null> {
    for (let i = 0; i < attempts; i++) {
      const current = await this.get(connectionId);
      if (!current) return null;
      const { role, topics, result } = change(current);
      const next = current.topics_rev + 1;
      const values = { ':t': topics, ':rev': current.topics_rev, ':next': next };
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { connection_id: connectionId },
            ConditionExpression: 'topics_rev = :rev',
            ...(role === undefined
              ? { UpdateExpression: 'SET topics = :t, topics_rev = :next', ExpressionAttributeValues: values }
              : {
                  // `role` is a DynamoDB reserved word.
                  UpdateExpression: 'SET topics = :t, #role = :role, topics_rev = :next',
                  ExpressionAttributeNames: { '#role': 'role' },
                  ExpressionAttributeValues: { ...values, ':role': role },
                }),
          }),
        );
        return { connection: { ...current, role: role ?? current.role, topics, topics_rev: next }, result };
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
    }
    throw new WsConnectionConflictError(connectionId, attempts);
  }

  /**
   * Count one client frame in the current one-second window and return the window's count (the `$default` rate limit).
   * Null when the connection item is gone.
   */
  async countFrame(connectionId: string, nowMs: number): Promise<number | null> {
    const window = Math.floor(nowMs / 1000);
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connection_id: connectionId },
          UpdateExpression: 'ADD frame_count :one',
          ConditionExpression: 'frame_window = :w',
          ExpressionAttributeValues: { ':one': 1, ':w': window },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(r.Attributes?.frame_count);
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    // A new window (or the first frame): start it at 1, unless the item is gone.
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connection_id: connectionId },
          UpdateExpression: 'SET frame_window = :w, frame_count = :one',
          ConditionExpression: 'attribute_exists(connection_id)',
          ExpressionAttributeValues: { ':one': 1, ':w': window },
        }),
      );
      return 1;
    } catch (err) {
      if (isConditionFailed(err)) return null;
      throw err;
    }
  }

  /** Open (unexpired) connections of one user, counted exactly through the user index. */
  async countForUser(userId: string, nowMs: number): Promise<number> {
    return this.count({
      IndexName: USER_INDEX,
      KeyConditionExpression: 'user_id = :u',
      FilterExpression: 'expires_at_s > :now',
      ExpressionAttributeValues: { ':u': userId, ':now': Math.floor(nowMs / 1000) },
    });
  }

  /** Every open (unexpired) connection, counted through the shard index. */
  async countAll(nowMs: number): Promise<number> {
    return this.count({
      IndexName: SHARD_INDEX,
      // `shard` is a DynamoDB reserved word.
      KeyConditionExpression: '#shard = :s',
      FilterExpression: 'expires_at_s > :now',
      ExpressionAttributeNames: { '#shard': 'shard' },
      ExpressionAttributeValues: { ':s': WS_SHARD, ':now': Math.floor(nowMs / 1000) },
    });
  }

  /** Every connection item (expired ones included: the caller decides), through the shard index, all pages. */
  async listAll(): Promise<WsConnection[]> {
    const out: WsConnection[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: SHARD_INDEX,
          KeyConditionExpression: '#shard = :s',
          ExpressionAttributeNames: { '#shard': 'shard' },
          ExpressionAttributeValues: { ':s': WS_SHARD },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of r.Items ?? []) out.push(parseItem(item));
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }

  private async count(q: {
    IndexName: string;
    KeyConditionExpression: string;
    FilterExpression: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues: Record<string, unknown>;
  }): Promise<number> {
    let total = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          ...q,
          Select: 'COUNT',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      total += r.Count ?? 0;
      start = r.LastEvaluatedKey;
    } while (start);
    return total;
  }
}
