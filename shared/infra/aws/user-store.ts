/**
 * `UserStore` on the DynamoDB Users table (single partition key `pk`; see `domain/control/auth.ts` for the item
 * kinds). Users and tokens carry `item_type` + `created_at` so the `type-created_at` index lists them; tokens carry
 * `owner_id` for `owner-created_at`. Sessions, claims, one-time tokens and counters are read by key only.
 * `expires_at_s` is set for TTL housekeeping; every expiry is also checked in code or in a condition.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type OneTimeRecord,
  OneTimeRecordSchema,
  oneTimeKey,
  type SessionRecord,
  SessionRecordSchema,
  sessionKey,
  type TokenRecord,
  TokenRecordSchema,
  tokenKey,
  type UserRecord,
  UserRecordSchema,
  userKey,
  usernameKey,
} from '../../domain/control/auth.ts';
import type { ClaimResult, Page, StoreKey, UserStore } from '../../domain/control/auth-store.ts';
import type { Role } from '../../domain/control/roles.ts';
import { parseOrThrow } from '../../domain/control/validation.ts';
import { conditionFailedItem, isConditionFailed } from './dynamo-errors.ts';

const TYPE_INDEX = 'type-created_at';
const OWNER_INDEX = 'owner-created_at';

export class DynamoUserStore implements UserStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async claimUsername(username: string, userId: string, nowIso: string): Promise<ClaimResult> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: usernameKey(username), user_id: userId, at: nowIso },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true };
    } catch (err) {
      const old = conditionFailedItem(err);
      if (old === undefined) throw err;
      const existing = old ?? (await this.getItem(usernameKey(username)));
      if (!existing) return this.claimUsername(username, userId, nowIso);
      return { ok: false, userId: String(existing.user_id), at: String(existing.at) };
    }
  }

  takeOverUsername(username: string, oldUserId: string, newUserId: string, nowIso: string): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: usernameKey(username) },
        UpdateExpression: 'SET user_id = :new, #at = :now',
        ConditionExpression: 'user_id = :old',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':new': newUserId, ':old': oldUserId, ':now': nowIso },
      }),
    );
  }

  async releaseUsername(username: string, userId: string): Promise<void> {
    await this.conditional(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: usernameKey(username) },
        ConditionExpression: 'user_id = :me',
        ExpressionAttributeValues: { ':me': userId },
      }),
    );
  }

  async putUser(user: UserRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: user, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
  }

  async getUser(userId: string): Promise<UserRecord | null> {
    const item = await this.getItem(userKey(userId));
    return item ? parseOrThrow(UserRecordSchema, item, 'user item') : null;
  }

  async userIdForUsername(username: string): Promise<string | null> {
    const item = await this.getItem(usernameKey(username));
    return item ? String(item.user_id) : null;
  }

  async anyUser(): Promise<boolean> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: TYPE_INDEX,
        KeyConditionExpression: 'item_type = :t',
        ExpressionAttributeValues: { ':t': 'user' },
        Limit: 1,
      }),
    );
    return (r.Items?.length ?? 0) > 0;
  }

  async listUsers(limit: number, startKey?: StoreKey): Promise<Page<UserRecord>> {
    const page = await this.query(TYPE_INDEX, 'item_type', 'user', limit, startKey);
    return { items: page.items.map((i) => parseOrThrow(UserRecordSchema, i, 'user item')), nextKey: page.nextKey };
  }

  async updateUser(
    userId: string,
    changes: { role?: Role; disabled?: boolean },
    nowIso: string,
  ): Promise<{ before: UserRecord; after: UserRecord } | null> {
    const sets = ['updated_at = :now'];
    const values: Record<string, unknown> = { ':now': nowIso };
    const names: Record<string, string> = {};
    if (changes.role !== undefined) {
      sets.push('#role = :role');
      names['#role'] = 'role';
      values[':role'] = changes.role;
    }
    if (changes.disabled !== undefined) {
      sets.push('disabled = :disabled');
      values[':disabled'] = changes.disabled;
    }
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: userKey(userId) },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_OLD',
        }),
      );
      const before = parseOrThrow(UserRecordSchema, r.Attributes, 'user item');
      const after: UserRecord = {
        ...before,
        ...(changes.role !== undefined ? { role: changes.role } : {}),
        ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}),
        updated_at: nowIso,
      };
      return { before, after };
    } catch (err) {
      if (isConditionFailed(err)) return null;
      throw err;
    }
  }

  async recordLogin(userId: string, nowIso: string): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: userKey(userId) },
        UpdateExpression: 'SET last_login_at = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':now': nowIso },
      }),
    );
  }

  async putToken(token: TokenRecord): Promise<boolean> {
    return this.conditional(
      new PutCommand({ TableName: this.table, Item: token, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
  }

  async getToken(tokenId: string): Promise<TokenRecord | null> {
    const item = await this.getItem(tokenKey(tokenId));
    return item ? parseOrThrow(TokenRecordSchema, item, 'token item') : null;
  }

  async listTokens(ownerId: string | null, limit: number, startKey?: StoreKey): Promise<Page<TokenRecord>> {
    const page =
      ownerId === null
        ? await this.query(TYPE_INDEX, 'item_type', 'token', limit, startKey)
        : await this.query(OWNER_INDEX, 'owner_id', ownerId, limit, startKey);
    return { items: page.items.map((i) => parseOrThrow(TokenRecordSchema, i, 'token item')), nextKey: page.nextKey };
  }

  async revokeToken(tokenId: string, by: string, nowIso: string): Promise<TokenRecord | null> {
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: tokenKey(tokenId) },
          UpdateExpression: 'SET revoked_at = :now, revoked_by = :by',
          // Only the first revocation is written (two admins revoking at once keep the earlier time).
          ConditionExpression: 'attribute_exists(pk) AND revoked_at = :null',
          ExpressionAttributeValues: { ':now': nowIso, ':by': by, ':null': null },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return parseOrThrow(TokenRecordSchema, r.Attributes, 'token item');
    } catch (err) {
      const old = conditionFailedItem(err);
      if (old === undefined) throw err;
      // Absent -> null; already revoked -> that record, unchanged.
      return old ? parseOrThrow(TokenRecordSchema, old, 'token item') : this.getToken(tokenId);
    }
  }

  async touchToken(tokenId: string, nowIso: string, notAfterIso: string): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: tokenKey(tokenId) },
        UpdateExpression: 'SET last_used_at = :now',
        ConditionExpression: 'attribute_exists(pk) AND (last_used_at = :null OR last_used_at <= :limit)',
        ExpressionAttributeValues: { ':now': nowIso, ':limit': notAfterIso, ':null': null },
      }),
    );
  }

  async putSession(session: SessionRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: session, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
  }

  async getSession(idSha256: string): Promise<SessionRecord | null> {
    const item = await this.getItem(sessionKey(idSha256));
    return item ? parseOrThrow(SessionRecordSchema, item, 'session item') : null;
  }

  async touchSession(idSha256: string, prevIso: string, nowIso: string): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: sessionKey(idSha256) },
        UpdateExpression: 'SET last_seen_at = :now',
        ConditionExpression: 'last_seen_at = :prev',
        ExpressionAttributeValues: { ':now': nowIso, ':prev': prevIso },
      }),
    );
  }

  async deleteSession(idSha256: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: sessionKey(idSha256) } }));
  }

  async putOneTime(record: OneTimeRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: record, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
  }

  async consumeOneTime(tokenSha256: string, nowIso: string): Promise<OneTimeRecord | null> {
    try {
      const r = await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: oneTimeKey(tokenSha256) },
          ConditionExpression: 'attribute_exists(pk) AND expires_at > :now',
          ExpressionAttributeValues: { ':now': nowIso },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return parseOrThrow(OneTimeRecordSchema, r.Attributes, 'one-time token item');
    } catch (err) {
      if (isConditionFailed(err)) return null;
      throw err;
    }
  }

  async incrementBelow(key: string, max: number, expiresAtS: number): Promise<{ ok: boolean; count: number }> {
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: key },
          UpdateExpression: 'ADD #c :one SET item_type = :t, expires_at_s = :exp',
          ConditionExpression: 'attribute_not_exists(#c) OR #c < :max',
          ExpressionAttributeNames: { '#c': 'count' },
          ExpressionAttributeValues: { ':one': 1, ':max': max, ':t': 'ratelimit', ':exp': expiresAtS },
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true, count: Number(r.Attributes?.count ?? 1) };
    } catch (err) {
      const old = conditionFailedItem(err);
      if (old === undefined) throw err;
      return { ok: false, count: Number(old?.count ?? max) };
    }
  }

  async addToCounter(key: string, delta: number, expiresAtS: number): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: key },
        UpdateExpression: 'ADD #c :d SET item_type = :t, expires_at_s = :exp',
        ExpressionAttributeNames: { '#c': 'count' },
        ExpressionAttributeValues: { ':d': delta, ':t': 'ratelimit', ':exp': expiresAtS },
      }),
    );
  }

  private async getItem(pk: string): Promise<Record<string, unknown> | null> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk }, ConsistentRead: true }));
    return r.Item ?? null;
  }

  /** Newest first on a `<attr>-created_at` index. */
  private async query(
    index: string,
    attr: string,
    value: string,
    limit: number,
    startKey?: StoreKey,
  ): Promise<{ items: Record<string, unknown>[]; nextKey: StoreKey | null }> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: index,
        KeyConditionExpression: '#a = :v',
        ExpressionAttributeNames: { '#a': attr },
        ExpressionAttributeValues: { ':v': value },
        ScanIndexForward: false,
        Limit: limit,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    return { items: r.Items ?? [], nextKey: r.LastEvaluatedKey ?? null };
  }

  /** Run a conditional write; false when its condition failed (anything else propagates). */
  private async conditional(cmd: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      // The document client's `send` is overloaded per command; all three resolve to an output we ignore.
      await this.doc.send(cmd as UpdateCommand);
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }
}
