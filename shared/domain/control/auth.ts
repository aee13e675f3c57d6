/**
 * Identity (control-chain §2): boundary schemas for users, logins and API tokens, the stored record shapes of the
 * Users table, and the pure rules for session expiry and login rate-limit windows. No I/O; time comes in as numbers.
 *
 * Users table items (pk only):
 * - `user#<ulid>`             the user (`item_type: user`, GSI `type-created_at` lists them)
 * - `username#<name>`         uniqueness claim, put with `attribute_not_exists(pk)`, holds `user_id`
 * - `token#<id>`              an API token (`item_type: token`, `owner_id` = user id for GSI `owner-created_at`)
 * - `session#<sha256(id)>`    a console session; the cookie holds the id, the table only its hash
 * - `otp#<sha256(token)>`     a one-time login token, consumed by a conditional delete
 * - `ratelimit#<scope>#<key>#<window>` fixed-window counters (conditional `ADD`)
 */
import * as z from 'zod';
import { clampedLimit } from './job-requests.ts';
import { type Role, RoleSchema, roleAtLeast } from './roles.ts';

export const USERNAME_RE = /^[a-z0-9_.-]{3,32}$/;
export const PASSWORD_MIN_CHARS = 12;
/** Bounds the scrypt input; longer passwords add nothing but cost. */
export const PASSWORD_MAX_CHARS = 1024;
export const TOKEN_DEFAULT_DAYS = 90;
export const TOKEN_MAX_DAYS = 365;
/** One-time login links live 15 minutes. */
export const ONE_TIME_TOKEN_TTL_S = 15 * 60;
/** `last_seen_at` / `last_used_at` are written at most once per this many seconds. */
export const TOUCH_INTERVAL_S = 60;

/** Usernames are lowercased and trimmed before they are checked, stored or used in a key. */
export const UsernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(USERNAME_RE, 'expected 3 to 32 characters of a-z, 0-9, _, . or -');

export const PasswordSchema = z
  .string()
  .min(PASSWORD_MIN_CHARS, `expected at least ${PASSWORD_MIN_CHARS} characters`)
  .max(PASSWORD_MAX_CHARS, `expected at most ${PASSWORD_MAX_CHARS} characters`);

/** `POST /api/auth/login`. The username is not pattern-checked here: an unknown name is 401, never 400. */
export const LoginRequestSchema = z
  .object({
    username: z.string().trim().toLowerCase().min(1).max(64),
    password: z.string().min(1).max(PASSWORD_MAX_CHARS),
  })
  .strict();
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

/** `POST /api/auth/one-time`. */
export const OneTimeLoginRequestSchema = z.object({ token: z.string().min(1).max(200) }).strict();

/** `POST /api/users` [admin]. */
export const CreateUserRequestSchema = z
  .object({ username: UsernameSchema, password: PasswordSchema, role: RoleSchema })
  .strict();
export type CreateUserRequest = z.infer<typeof CreateUserRequestSchema>;

/** `PATCH /api/users/:id` [admin]: set role and/or disable (or re-enable). */
export const UpdateUserRequestSchema = z
  .object({ role: RoleSchema.optional(), disabled: z.boolean().optional() })
  .strict()
  .refine((b) => b.role !== undefined || b.disabled !== undefined, { message: 'expected role and/or disabled' });
export type UpdateUserRequest = z.infer<typeof UpdateUserRequestSchema>;

/** `POST /api/auth/tokens`. */
export const CreateTokenRequestSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    role: RoleSchema,
    expires_in_days: z.number().int().min(1).max(TOKEN_MAX_DAYS).default(TOKEN_DEFAULT_DAYS),
    /** The username the token acts for; another user's needs an admin caller. Absent: the caller's own user. */
    owner: UsernameSchema.optional(),
  })
  .strict();
export type CreateTokenRequest = z.infer<typeof CreateTokenRequestSchema>;

export const IDENTITY_LIST_LIMIT = { default: 100, min: 1, max: 500 } as const;

/** Query of `GET /api/users` and `GET /api/auth/tokens`. */
export const IdentityListQuerySchema = z
  .object({ limit: clampedLimit(IDENTITY_LIST_LIMIT), cursor: z.string().min(1).max(2000).optional() })
  .strict();

const iso = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'expected UTC ISO-8601 with ms and Z');

export const UserRecordSchema = z.object({
  pk: z.string(),
  item_type: z.literal('user'),
  user_id: z.string(),
  username: z.string().regex(USERNAME_RE),
  role: RoleSchema,
  password_hash: z.string(),
  disabled: z.boolean(),
  created_at: iso,
  created_by: z.string(),
  updated_at: iso,
  last_login_at: iso.nullable(),
});
export type UserRecord = z.infer<typeof UserRecordSchema>;

export const TokenRecordSchema = z.object({
  pk: z.string(),
  item_type: z.literal('token'),
  token_id: z.string(),
  owner_id: z.string(),
  owner_username: z.string(),
  name: z.string(),
  role: RoleSchema,
  /** Hex SHA-256 of the secret part; the plaintext is never stored. */
  secret_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  created_at: iso,
  expires_at: iso,
  last_used_at: iso.nullable(),
  revoked_at: iso.nullable(),
  revoked_by: z.string().nullable(),
  expires_at_s: z.number(),
});
export type TokenRecord = z.infer<typeof TokenRecordSchema>;

export const SessionRecordSchema = z.object({
  pk: z.string(),
  item_type: z.literal('session'),
  user_id: z.string(),
  csrf_token: z.string(),
  created_at: iso,
  last_seen_at: iso,
  expires_at_s: z.number(),
});
export type SessionRecord = z.infer<typeof SessionRecordSchema>;

export const OneTimeRecordSchema = z.object({
  pk: z.string(),
  item_type: z.literal('one_time'),
  user_id: z.string(),
  created_at: iso,
  expires_at: iso,
  expires_at_s: z.number(),
});
export type OneTimeRecord = z.infer<typeof OneTimeRecordSchema>;

/** What the API shows of a user (never the hash). */
export interface PublicUser {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
  created_at: string;
  last_login_at: string | null;
}

export function publicUser(u: UserRecord): PublicUser {
  return {
    id: u.user_id,
    username: u.username,
    role: u.role,
    disabled: u.disabled,
    created_at: u.created_at,
    last_login_at: u.last_login_at,
  };
}

/** What the API shows of a token (never the secret or its hash). */
export interface PublicToken {
  id: string;
  name: string;
  role: Role;
  owner_id: string;
  owner_username: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  state: 'active' | 'expired' | 'revoked';
}

export function publicToken(t: TokenRecord, nowMs: number): PublicToken {
  const state = t.revoked_at ? 'revoked' : Date.parse(t.expires_at) <= nowMs ? 'expired' : 'active';
  return {
    id: t.token_id,
    name: t.name,
    role: t.role,
    owner_id: t.owner_id,
    owner_username: t.owner_username,
    created_at: t.created_at,
    expires_at: t.expires_at,
    last_used_at: t.last_used_at,
    revoked_at: t.revoked_at,
    state,
  };
}

/** The lower of two roles: a token never acts above its owner's current role. */
export function minRole(a: Role, b: Role): Role {
  return roleAtLeast(a, b) ? b : a;
}

export interface SessionLimits {
  idleS: number;
  maxS: number;
}

export type SessionVerdict =
  | { valid: true; expiresAtMs: number; absoluteMs: number; touchDue: boolean }
  | { valid: false; reason: 'idle' | 'absolute' };

/**
 * Session validity, checked in code on every request (TTL deletion is housekeeping only). The idle deadline runs
 * from the last *written* `last_seen_at`, which lags by at most `TOUCH_INTERVAL_S`; the absolute deadline from
 * creation. `expiresAtMs` is the deadline after this request's touch.
 */
export function sessionVerdict(
  s: Pick<SessionRecord, 'created_at' | 'last_seen_at'>,
  nowMs: number,
  limits: SessionLimits,
): SessionVerdict {
  const createdMs = Date.parse(s.created_at);
  const seenMs = Date.parse(s.last_seen_at);
  const absoluteMs = createdMs + limits.maxS * 1000;
  if (!Number.isFinite(createdMs) || nowMs >= absoluteMs) return { valid: false, reason: 'absolute' };
  if (!Number.isFinite(seenMs) || nowMs >= seenMs + limits.idleS * 1000) return { valid: false, reason: 'idle' };
  const touchDue = nowMs - seenMs >= TOUCH_INTERVAL_S * 1000;
  return { valid: true, expiresAtMs: Math.min(nowMs + limits.idleS * 1000, absoluteMs), absoluteMs, touchDue };
}

/** Fixed login rate-limit windows: index of the window holding `nowMs` and seconds until it ends (≥ 1). */
export function rateWindow(nowMs: number, windowS: number): { index: number; retryAfterS: number; endS: number } {
  const nowS = nowMs / 1000;
  const index = Math.floor(nowS / windowS);
  const endS = (index + 1) * windowS;
  return { index, retryAfterS: Math.max(1, Math.ceil(endS - nowS)), endS: Math.ceil(endS) };
}

/** Counter keys; usernames are lowercased by the schema, ips are the resolved client address. */
export const rateLimitKey = {
  userFailures: (username: string, window: number) => `ratelimit#user#${username}#${window}`,
  ipAttempts: (ip: string, window: number) => `ratelimit#ip#${ip}#${window}`,
};

export const userKey = (userId: string) => `user#${userId}`;
export const usernameKey = (username: string) => `username#${username}`;
export const tokenKey = (tokenId: string) => `token#${tokenId}`;
export const sessionKey = (idSha256: string) => `session#${idSha256}`;
export const oneTimeKey = (tokenSha256: string) => `otp#${tokenSha256}`;
