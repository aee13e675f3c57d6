/**
 * Port: the identity store (users, username claims, API tokens, sessions, one-time tokens, rate-limit counters).
 * Implemented on the Users table by `shared/infra/aws/user-store.ts`. Every write is conditional; lists are index
 * queries, never scans.
 */

import type { OneTimeRecord, SessionRecord, TokenRecord, UserRecord } from './auth.ts';
import type { Role } from './roles.ts';

export type StoreKey = Record<string, unknown>;

export interface Page<T> {
  items: T[];
  nextKey: StoreKey | null;
}

export type ClaimResult = { ok: true } | { ok: false; userId: string; at: string };

export interface UserStore {
  /** Put `username#<name>` if absent; otherwise report who holds it. */
  claimUsername(username: string, userId: string, nowIso: string): Promise<ClaimResult>;
  /** Move a claim from `oldUserId` (whose user item never appeared) to `newUserId`; false if it changed meanwhile. */
  takeOverUsername(username: string, oldUserId: string, newUserId: string, nowIso: string): Promise<boolean>;
  /** Delete the claim if `userId` still holds it. */
  releaseUsername(username: string, userId: string): Promise<void>;
  /** Put a new user item (`attribute_not_exists`). */
  putUser(user: UserRecord): Promise<void>;
  getUser(userId: string): Promise<UserRecord | null>;
  /** User id from the username claim, or null. */
  userIdForUsername(username: string): Promise<string | null>;
  /** True when at least one user item exists (GSI query, Limit 1). */
  anyUser(): Promise<boolean>;
  listUsers(limit: number, startKey?: StoreKey): Promise<Page<UserRecord>>;
  /** Apply role/disabled changes to an existing user; null when it does not exist. */
  updateUser(
    userId: string,
    changes: { role?: Role; disabled?: boolean },
    nowIso: string,
  ): Promise<{ before: UserRecord; after: UserRecord } | null>;
  recordLogin(userId: string, nowIso: string): Promise<void>;

  /** Put a new token (`attribute_not_exists`); false when the id is taken. */
  putToken(token: TokenRecord): Promise<boolean>;
  getToken(tokenId: string): Promise<TokenRecord | null>;
  /** Tokens of one owner (newest first), or all tokens when `ownerId` is null. */
  listTokens(ownerId: string | null, limit: number, startKey?: StoreKey): Promise<Page<TokenRecord>>;
  /** Set `revoked_at` once (idempotent: an already revoked token keeps its first revocation); null if absent. */
  revokeToken(tokenId: string, by: string, nowIso: string): Promise<TokenRecord | null>;
  /** Set `last_used_at` unless it is newer than `notAfterIso` (at most one write per interval). */
  touchToken(tokenId: string, nowIso: string, notAfterIso: string): Promise<void>;

  putSession(session: SessionRecord): Promise<void>;
  getSession(idSha256: string): Promise<SessionRecord | null>;
  /** Advance `last_seen_at` from `prevIso` to `nowIso` (conditional: concurrent touches write once). */
  touchSession(idSha256: string, prevIso: string, nowIso: string): Promise<void>;
  deleteSession(idSha256: string): Promise<void>;

  putOneTime(record: OneTimeRecord): Promise<void>;
  /** Delete the record if it exists and has not expired at `nowIso`, returning it; null otherwise. Single use. */
  consumeOneTime(tokenSha256: string, nowIso: string): Promise<OneTimeRecord | null>;

  /**
   * Conditionally `ADD 1` to a fixed-window counter: succeeds while the count is below `max`. `expiresAtS` is
   * stored for TTL housekeeping only.
   */
  incrementBelow(key: string, max: number, expiresAtS: number): Promise<{ ok: boolean; count: number }>;
  /** Unconditional `ADD delta` (used to refund a pre-charged failure after a successful login). */
  addToCounter(key: string, delta: number, expiresAtS: number): Promise<void>;
}
