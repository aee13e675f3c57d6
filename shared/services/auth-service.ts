/**
 * Identity service (control-chain §2): logins with rate limits, console sessions, API tokens, one-time login links,
 * the bootstrap admin and minimal user management. Used identically by the HTTP API and the CLI, so checks and audit
 * cannot differ between them. Roles are re-read from the user item per request (cached ≤ `USER_CACHE_TTL_MS`).
 * `recheckCredential` re-checks a stored credential reference (`credentialRefOf`, kept with a WebSocket connection)
 * under the same session and token rules, without the secret and without touching the credential.
 */
import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../config.ts';
import type { AuditEntry, AuditLog } from '../domain/control/audit.ts';
import {
  CreateTokenRequestSchema,
  CreateUserRequestSchema,
  IdentityListQuerySchema,
  LoginRequestSchema,
  minRole,
  ONE_TIME_TOKEN_TTL_S,
  OneTimeLoginRequestSchema,
  oneTimeKey,
  type PublicToken,
  type PublicUser,
  publicToken,
  publicUser,
  rateLimitKey,
  rateWindow,
  type SessionRecord,
  type SessionVerdict,
  sessionKey,
  sessionVerdict,
  TOUCH_INTERVAL_S,
  type TokenRecord,
  tokenKey,
  UpdateUserRequestSchema,
  type UserRecord,
  userKey,
} from '../domain/control/auth.ts';
import { hashPassword, SALT_BYTES, verifyPassword } from '../domain/control/auth-password.ts';
import {
  constantTimeEqual,
  formatApiToken,
  isSecretShaped,
  newSecret,
  newTokenId,
  parseApiToken,
  type RandomBytes,
  sha256HexOf,
} from '../domain/control/auth-secrets.ts';
import type { StoreKey, UserStore } from '../domain/control/auth-store.ts';
import { decodeCursor, encodeCursor } from '../domain/control/cursor.ts';
import { HotCache } from '../domain/control/hot-cache.ts';
import { type Role, roleAtLeast } from '../domain/control/roles.ts';
import { parseOrThrow } from '../domain/control/validation.ts';
import type { IdGen } from '../domain/ids.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import {
  DependencyUnavailableError,
  ForbiddenError,
  InvalidCredentialsError,
  NotFoundError,
  RateLimitedError,
  ValidationFailedError,
} from '../errors/control.ts';
import type { Logger } from '../log.ts';
import { appendAudit, auditWho } from './audit-append.ts';

/** A demotion or disable reaches every process within this long (spec bound: 30 s). */
const USER_CACHE_TTL_MS = 10_000;
/** Bound of the in-process user cache; when full, the oldest entry is dropped. */
const USER_CACHE_MAX = 1000;
/** A username claim whose user item never appeared is taken over after this long (crashed creator). */
const CLAIM_ORPHAN_MS = 30_000;
/** Attempts per ip per window (spec: 20 per 15 min); failures per username come from config. */
const IP_MAX_ATTEMPTS = 20;

export interface AuthServiceDeps {
  users: UserStore;
  audit: AuditLog;
  clock: Clock;
  ids: IdGen;
  log: Logger;
  limits: AppConfig['auth'];
  cursorSecret: string;
  /** CSPRNG; defaults to `crypto.randomBytes`. */
  random?: RandomBytes;
  /**
   * Lifetime of the in-process session and token cache (≤ 1000 ms; 0 = every request reads the store). Logout,
   * revocation and expiry in this process take effect at once; in another process within this long.
   */
  credentialCacheMs?: number;
}

/** Who is asking, as the transport saw it. */
export interface AuthMeta {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}

/** An authenticated request's identity. */
export interface Principal {
  userId: string;
  username: string;
  /** Effective role: the user's, or for a token the lower of the token's and its owner's current role. */
  role: Role;
  via: 'session' | 'token';
  tokenId: string | null;
  tokenExpiresAt: string | null;
  /**
   * `expiresAt`: when the session ends unless used again (idle, capped by the absolute limit); `absoluteExpiresAt`:
   * when it ends however much it is used (`GHTRADER_SESSION_MAX_S` after its creation).
   */
  session: { idSha256: string; csrfToken: string; expiresAt: string; absoluteExpiresAt: string } | null;
}

/** Whoever performs an identity action, for authorisation and audit (HTTP principal, CLI or system). */
export interface Caller {
  actor: AuditEntry['actor'];
  role: Role;
  /** The user behind the caller; null for CLI and system callers. */
  userId: string | null;
  /** A token caller cannot mint tokens that outlive itself. */
  tokenExpiresAt: string | null;
  meta: AuthMeta;
}

/** A service's minimum role for `caller`: 403 `forbidden` naming the role needed (the routes check it first too). */
export function requireCallerRole(caller: Pick<Caller, 'role'>, need: Role): void {
  if (!roleAtLeast(caller.role, need)) throw new ForbiddenError(need, caller.role);
}

export function callerOf(p: Principal, meta: AuthMeta): Caller {
  return {
    actor: {
      type: p.via === 'token' ? 'token' : 'user',
      id: p.via === 'token' ? (p.tokenId ?? p.userId) : p.userId,
      name: p.username,
    },
    role: p.role,
    userId: p.userId,
    tokenExpiresAt: p.tokenExpiresAt,
    meta,
  };
}

/** An admin caller for the CLI (`cli:<os-user>@<host>`) or the system itself (bootstrap). */
export function systemCaller(type: 'cli' | 'system', name: string, requestId: string): Caller {
  return {
    actor: { type, id: name, name },
    role: 'admin',
    userId: null,
    tokenExpiresAt: null,
    meta: { requestId, ip: null, userAgent: null },
  };
}

export interface SessionGrant {
  /** The cookie value (plaintext session id); only its SHA-256 is stored. */
  sessionId: string;
  user: { id: string; username: string; role: Role };
  csrf_token: string;
  expires_at: string;
}

export interface MeView {
  user: { id: string; username: string; role: Role };
  /** Null for bearer callers (they need no CSRF token). */
  csrf_token: string | null;
  expires_at: string | null;
}

export interface CreatedToken {
  id: string;
  token: string;
  name: string;
  role: Role;
  expires_at: string;
}

/** A credential's current identity, as `recheckCredential` finds it. */
export interface RecheckedIdentity {
  userId: string;
  username: string;
  role: Role;
}

/** A reference to a credential that names it without its secret: `session:<sha256 hex of the id>` or `token:<id>`. */
export const CREDENTIAL_REF_RE = /^(?:session:([0-9a-f]{64})|token:([a-z2-7]{10}))$/;

/** The reference of the credential a principal authenticated with (stored with a WebSocket connection). */
export function credentialRefOf(p: Principal): string {
  if (p.via === 'session') {
    if (!p.session) throw new Error(`session principal ${p.userId} without a session`);
    return `session:${p.session.idSha256}`;
  }
  if (!p.tokenId) throw new Error(`token principal ${p.userId} without a token id`);
  return `token:${p.tokenId}`;
}

type SessionCheck =
  | { status: 'unknown' | 'expired' | 'user_unavailable' }
  | {
      status: 'live';
      session: SessionRecord;
      user: UserRecord;
      verdict: Extract<SessionVerdict, { valid: true }>;
      nowMs: number;
    };

export interface ListResult<T> {
  items: T[];
  next_cursor: string | null;
  limit: number;
}

export class AuthService {
  private readonly random: RandomBytes;
  private readonly userCache = new Map<string, { user: UserRecord | null; atMs: number }>();
  /** Sessions by id hash and tokens by id (control-chain §12 hot reads); tagged with their own key. */
  private readonly credentials: HotCache;
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly deps: AuthServiceDeps) {
    this.random = deps.random ?? randomBytes;
    this.credentials = new HotCache({ ttlMs: deps.credentialCacheMs ?? 0, clock: deps.clock, maxEntries: 5_000 });
  }

  /** Username/password login. Costs one scrypt whether or not the user exists; rate-limited before checking. */
  async login(body: unknown, meta: AuthMeta): Promise<SessionGrant> {
    const { username, password } = parseOrThrow(LoginRequestSchema, body, 'login request');
    const now = this.deps.clock.nowMs();
    const win = rateWindow(now, this.deps.limits.loginWindowS);
    const ipKey = rateLimitKey.ipAttempts(meta.ip ?? 'unknown', win.index);
    const userRateKey = rateLimitKey.userFailures(username, win.index);
    const expS = win.endS + 60;
    const loginAudit = (outcome: 'ok' | 'failed', reason: string | null, userId: string | null, role: string) =>
      this.audit({
        actor: { type: 'user', id: userId ?? username, name: username },
        role,
        meta,
        action: 'auth.login',
        target: `user:${username}`,
        outcome,
        reason,
      });

    const ip = await this.deps.users.incrementBelow(ipKey, IP_MAX_ATTEMPTS, expS);
    if (!ip.ok) {
      await loginAudit('failed', 'rate_limited:ip', null, 'none');
      throw new RateLimitedError('login attempts from this address', win.retryAfterS);
    }
    // Pre-charge one failure, so parallel guesses cannot exceed the limit; a success refunds it.
    const charge = await this.deps.users.incrementBelow(userRateKey, this.deps.limits.loginMaxFailures, expS);
    if (!charge.ok) {
      await loginAudit('failed', 'rate_limited:username', null, 'none');
      throw new RateLimitedError('failed logins for this username', win.retryAfterS);
    }

    const userId = await this.deps.users.userIdForUsername(username);
    const user = userId ? await this.deps.users.getUser(userId) : null;
    const matches = await verifyPassword(password, user?.password_hash ?? (await this.dummy()));
    if (!user || !matches || user.disabled) {
      const reason = !user ? 'unknown_user' : !matches ? 'wrong_password' : 'disabled';
      await loginAudit('failed', reason, user?.user_id ?? null, user?.role ?? 'none');
      throw new InvalidCredentialsError();
    }
    await this.deps.users.addToCounter(userRateKey, -1, expS);
    const grant = await this.startSession(user, now);
    await loginAudit('ok', 'password', user.user_id, user.role);
    return grant;
  }

  /** Login with a one-time token (bootstrap link); consumed by a conditional delete, so it works once. */
  async loginOneTime(body: unknown, meta: AuthMeta): Promise<SessionGrant> {
    const { token } = parseOrThrow(OneTimeLoginRequestSchema, body, 'one-time login request');
    const now = this.deps.clock.nowMs();
    const win = rateWindow(now, this.deps.limits.loginWindowS);
    const ip = await this.deps.users.incrementBelow(
      rateLimitKey.ipAttempts(meta.ip ?? 'unknown', win.index),
      IP_MAX_ATTEMPTS,
      win.endS + 60,
    );
    const failed = (reason: string) =>
      this.audit({
        actor: { type: 'user', id: 'one-time', name: 'one-time' },
        role: 'none',
        meta,
        action: 'auth.login',
        target: 'user:?',
        outcome: 'failed',
        reason,
      });
    if (!ip.ok) {
      await failed('rate_limited:ip');
      throw new RateLimitedError('login attempts from this address', win.retryAfterS);
    }
    const record = isSecretShaped(token) ? await this.deps.users.consumeOneTime(sha256HexOf(token), isoUtc(now)) : null;
    const user = record ? await this.deps.users.getUser(record.user_id) : null;
    if (!user || user.disabled) {
      await failed(record ? 'user_unavailable' : 'one_time_invalid');
      throw new InvalidCredentialsError();
    }
    const grant = await this.startSession(user, now);
    await this.audit({
      actor: { type: 'user', id: user.user_id, name: user.username },
      role: user.role,
      meta,
      action: 'auth.login',
      target: `user:${user.username}`,
      outcome: 'ok',
      reason: 'one_time',
    });
    return grant;
  }

  /** End a session (no-op for bearer callers); audited. */
  async logout(principal: Principal, meta: AuthMeta): Promise<void> {
    if (principal.session) {
      this.credentials.invalidate(`session:${principal.session.idSha256}`);
      await this.deps.users.deleteSession(principal.session.idSha256);
    }
    await this.audit({
      ...this.auditActor(callerOf(principal, meta)),
      action: 'auth.logout',
      target: `user:${principal.username}`,
      outcome: 'ok',
      reason: principal.via,
    });
  }

  /** Resolve a session cookie; null when unknown, expired (idle or absolute), or its user is gone or disabled. */
  async authenticateSession(sessionId: string): Promise<Principal | null> {
    if (!isSecretShaped(sessionId)) return null;
    const idSha256 = sha256HexOf(sessionId);
    const check = await this.checkSession(idSha256);
    if (check.status === 'expired') {
      this.credentials.invalidate(`session:${idSha256}`);
      await this.deps.users.deleteSession(idSha256);
      return null;
    }
    if (check.status !== 'live') return null;
    const { session, user, verdict, nowMs } = check;
    if (verdict.touchDue) {
      this.credentials.invalidate(`session:${idSha256}`);
      await this.deps.users.touchSession(idSha256, session.last_seen_at, isoUtc(nowMs));
    }
    return {
      userId: user.user_id,
      username: user.username,
      role: user.role,
      via: 'session',
      tokenId: null,
      tokenExpiresAt: null,
      session: {
        idSha256,
        csrfToken: session.csrf_token,
        expiresAt: isoUtc(verdict.expiresAtMs),
        absoluteExpiresAt: isoUtc(verdict.absoluteMs),
      },
    };
  }

  /** Resolve `Bearer ght_<id>_<secret>`; null when malformed, unknown, wrong secret, revoked, expired or orphaned. */
  async authenticateBearer(tokenText: string): Promise<Principal | null> {
    const parsed = parseApiToken(tokenText);
    if (!parsed) return null;
    const token = await this.loadToken(parsed.id);
    if (!token || !constantTimeEqual(sha256HexOf(parsed.secret), token.secret_sha256)) return null;
    const live = await this.checkToken(token);
    if (!live) return null;
    const { owner, nowMs } = live;
    if (!token.last_used_at || nowMs - Date.parse(token.last_used_at) >= TOUCH_INTERVAL_S * 1000) {
      this.credentials.invalidate(`token:${token.token_id}`);
      await this.deps.users.touchToken(token.token_id, isoUtc(nowMs), isoUtc(nowMs - TOUCH_INTERVAL_S * 1000));
    }
    return {
      userId: owner.user_id,
      username: owner.username,
      role: live.role,
      via: 'token',
      tokenId: token.token_id,
      tokenExpiresAt: token.expires_at,
      session: null,
    };
  }

  /**
   * Re-check a credential by its reference (`credentialRefOf`), without its secret: the rules of
   * `authenticateSession` / `authenticateBearer`, and the CURRENT role (a token's the lower of its own and its
   * owner's). Null when the credential is gone, expired, revoked, or its user is gone or disabled. Read-only: it
   * never touches (extends) a session or token, since an open socket is not user activity, and leaves an expired
   * session to the next request or TTL. Store failures throw (a caller must not take them for a revocation).
   */
  async recheckCredential(ref: string): Promise<RecheckedIdentity | null> {
    const m = CREDENTIAL_REF_RE.exec(ref);
    if (!m) {
      // Only our own authorizer writes references: a malformed one names no credential that could still be live.
      this.deps.log.warn({ credential_ref: ref.slice(0, 80) }, 'auth.credential_ref_malformed');
      return null;
    }
    if (m[1] !== undefined) {
      const check = await this.checkSession(m[1]);
      if (check.status !== 'live') return null;
      return { userId: check.user.user_id, username: check.user.username, role: check.user.role };
    }
    const token = await this.loadToken(m[2] as string);
    const live = token ? await this.checkToken(token) : null;
    if (!live) return null;
    return { userId: live.owner.user_id, username: live.owner.username, role: live.role };
  }

  /** The session rules, shared by `authenticateSession` and `recheckCredential` (reads only). */
  private async checkSession(idSha256: string): Promise<SessionCheck> {
    const tag = `session:${idSha256}`;
    const session = await this.credentials.get(tag, [tag], () => this.deps.users.getSession(idSha256));
    if (!session) return { status: 'unknown' };
    const nowMs = this.deps.clock.nowMs();
    const verdict = sessionVerdict(session, nowMs, {
      idleS: this.deps.limits.sessionIdleS,
      maxS: this.deps.limits.sessionMaxS,
    });
    if (!verdict.valid) return { status: 'expired' };
    const user = await this.cachedUser(session.user_id);
    if (!user || user.disabled) return { status: 'user_unavailable' };
    return { status: 'live', session, user, verdict, nowMs };
  }

  /** A token by id, through the credential cache. */
  private loadToken(tokenId: string): Promise<TokenRecord | null> {
    const tag = `token:${tokenId}`;
    return this.credentials.get(tag, [tag], () => this.deps.users.getToken(tokenId));
  }

  /**
   * The token rules after its secret was checked (or, for `recheckCredential`, was checked when the socket opened):
   * not revoked, not expired, owner present and enabled; the effective role is the lower of the token's and the owner's.
   */
  private async checkToken(token: TokenRecord): Promise<{ owner: UserRecord; role: Role; nowMs: number } | null> {
    const nowMs = this.deps.clock.nowMs();
    if (token.revoked_at || Date.parse(token.expires_at) <= nowMs) return null;
    const owner = await this.cachedUser(token.owner_id);
    if (!owner || owner.disabled) return null;
    return { owner, role: minRole(token.role, owner.role), nowMs };
  }

  me(principal: Principal): MeView {
    return {
      user: { id: principal.userId, username: principal.username, role: principal.role },
      csrf_token: principal.session?.csrfToken ?? null,
      expires_at: principal.session?.expiresAt ?? principal.tokenExpiresAt,
    };
  }

  /**
   * Create an API token for the caller (or, for admins and the CLI, for another user: `owner` in the body, or
   * `opts.owner`). Its role is at most the caller's; a token caller cannot mint a token that outlives itself. The
   * plaintext is returned once.
   */
  async createToken(caller: Caller, body: unknown, opts: { owner?: string } = {}): Promise<CreatedToken> {
    const req = parseOrThrow(CreateTokenRequestSchema, body, 'token request');
    if (!roleAtLeast(caller.role, req.role)) {
      await this.denied(caller, 'auth.token_create', `role:${req.role}`, req.role);
      throw new ForbiddenError(req.role, caller.role);
    }
    const owner = await this.resolveOwner(caller, opts.owner ?? req.owner);
    const now = this.deps.clock.nowMs();
    let expiresMs = now + req.expires_in_days * 86_400_000;
    if (caller.tokenExpiresAt) expiresMs = Math.min(expiresMs, Date.parse(caller.tokenExpiresAt));
    const secret = newSecret(this.random);
    for (let round = 0; round < 3; round++) {
      const id = newTokenId(this.random);
      const ok = await this.deps.users.putToken({
        pk: tokenKey(id),
        item_type: 'token',
        token_id: id,
        owner_id: owner.user_id,
        owner_username: owner.username,
        name: req.name,
        role: req.role,
        secret_sha256: sha256HexOf(secret),
        created_at: isoUtc(now),
        expires_at: isoUtc(expiresMs),
        last_used_at: null,
        revoked_at: null,
        revoked_by: null,
        expires_at_s: Math.ceil(expiresMs / 1000) + 30 * 86_400,
      });
      if (!ok) continue;
      await this.audit({
        ...this.auditActor(caller),
        action: 'auth.token_create',
        target: `token:${id}`,
        outcome: 'ok',
        reason: null,
        after: { id, name: req.name, role: req.role, owner: owner.username, expires_at: isoUtc(expiresMs) },
      });
      return { id, token: formatApiToken(id, secret), name: req.name, role: req.role, expires_at: isoUtc(expiresMs) };
    }
    throw new DependencyUnavailableError('users table (token id collisions; retry)');
  }

  /** The caller's own tokens; admins see every token. */
  async listTokens(caller: Caller, rawQuery: unknown): Promise<ListResult<PublicToken>> {
    const q = parseOrThrow(IdentityListQuerySchema, rawQuery ?? {}, 'token list query');
    const all = caller.role === 'admin';
    const ownerId = all ? null : caller.userId;
    if (!all && !ownerId) return { items: [], next_cursor: null, limit: q.limit };
    const filters = { list: 'tokens', owner: ownerId };
    const startKey = q.cursor ? decodeCursor(this.deps.cursorSecret, q.cursor, filters) : undefined;
    const page = await this.deps.users.listTokens(ownerId, q.limit, startKey as StoreKey | undefined);
    const now = this.deps.clock.nowMs();
    return {
      items: page.items.map((t) => publicToken(t, now)),
      next_cursor: page.nextKey ? encodeCursor(this.deps.cursorSecret, page.nextKey, filters) : null,
      limit: q.limit,
    };
  }

  /** Revoke a token: its owner or an admin. Idempotent; the first revocation time is kept. */
  async revokeToken(caller: Caller, tokenId: string): Promise<PublicToken> {
    const token = /^[a-z2-7]{10}$/.test(tokenId) ? await this.deps.users.getToken(tokenId) : null;
    if (!token) throw new NotFoundError('token', tokenId);
    if (token.owner_id !== caller.userId && caller.role !== 'admin') {
      await this.denied(caller, 'auth.token_revoke', `token:${tokenId}`, 'admin');
      throw new ForbiddenError('admin', caller.role);
    }
    const revoked = await this.deps.users.revokeToken(tokenId, caller.actor.name, isoUtc(this.deps.clock.nowMs()));
    this.credentials.invalidate(`token:${tokenId}`);
    if (!revoked) throw new NotFoundError('token', tokenId);
    await this.audit({
      ...this.auditActor(caller),
      action: 'auth.token_revoke',
      target: `token:${tokenId}`,
      outcome: 'ok',
      reason: null,
      before: { revoked_at: token.revoked_at },
      after: { revoked_at: revoked.revoked_at, owner: revoked.owner_username },
    });
    return publicToken(revoked, this.deps.clock.nowMs());
  }

  /** Create a user [admin]. A taken username is 400 `validation_failed` on `username`. */
  async createUser(caller: Caller, body: unknown): Promise<PublicUser> {
    this.assertAdmin(caller);
    const req = parseOrThrow(CreateUserRequestSchema, body, 'user');
    const passwordHash = await hashPassword(req.password, this.random(SALT_BYTES));
    const user = await this.insertUser(req.username, req.role, passwordHash, caller.actor.name);
    await this.audit({
      ...this.auditActor(caller),
      action: 'user.create',
      target: `user:${user.username}`,
      outcome: 'ok',
      reason: null,
      after: { id: user.user_id, username: user.username, role: user.role },
    });
    return publicUser(user);
  }

  /** List users [admin] through the `type-created_at` index, newest first. */
  async listUsers(caller: Caller, rawQuery: unknown): Promise<ListResult<PublicUser>> {
    this.assertAdmin(caller);
    const q = parseOrThrow(IdentityListQuerySchema, rawQuery ?? {}, 'user list query');
    const filters = { list: 'users' };
    const startKey = q.cursor ? decodeCursor(this.deps.cursorSecret, q.cursor, filters) : undefined;
    const page = await this.deps.users.listUsers(q.limit, startKey as StoreKey | undefined);
    return {
      items: page.items.map(publicUser),
      next_cursor: page.nextKey ? encodeCursor(this.deps.cursorSecret, page.nextKey, filters) : null,
      limit: q.limit,
    };
  }

  /**
   * Set role and/or disabled [admin]. Admins cannot demote or disable themselves (so the last admin cannot lock
   * everyone out by accident). Takes effect in this process at once, elsewhere within the user cache TTL.
   */
  async updateUser(caller: Caller, userId: string, body: unknown): Promise<PublicUser> {
    this.assertAdmin(caller);
    const req = parseOrThrow(UpdateUserRequestSchema, body, 'user update');
    if (caller.userId === userId && (req.disabled === true || (req.role !== undefined && req.role !== 'admin'))) {
      throw new ValidationFailedError('an admin cannot demote or disable their own account', [
        {
          path: [req.disabled === true ? 'disabled' : 'role'],
          code: 'custom',
          message: 'not allowed on your own account',
        },
      ]);
    }
    const r = await this.deps.users.updateUser(userId, req, isoUtc(this.deps.clock.nowMs()));
    if (!r) throw new NotFoundError('user', userId);
    this.userCache.delete(userId);
    await this.audit({
      ...this.auditActor(caller),
      action: 'user.update',
      target: `user:${r.after.username}`,
      outcome: 'ok',
      reason: null,
      before: { role: r.before.role, disabled: r.before.disabled },
      after: { role: r.after.role, disabled: r.after.disabled },
    });
    return publicUser(r.after);
  }

  /**
   * First start: when the Users table holds no user, create `admin` with a random password nobody ever sees and
   * return a one-time login token for it. Returns `{created: false}` when any user exists (or another process won
   * the race for `admin`).
   */
  async ensureBootstrapAdmin(): Promise<
    { created: false } | { created: true; username: string; oneTimeToken: string; expires_at: string }
  > {
    if (await this.deps.users.anyUser()) return { created: false };
    const caller = systemCaller('system', 'bootstrap', this.deps.ids.next());
    const password = newSecret(this.random);
    const passwordHash = await hashPassword(password, this.random(SALT_BYTES));
    let user: UserRecord;
    try {
      user = await this.insertUser('admin', 'admin', passwordHash, caller.actor.name);
    } catch (err) {
      if (err instanceof ValidationFailedError) return { created: false };
      throw err;
    }
    await this.audit({
      ...this.auditActor(caller),
      action: 'user.create',
      target: 'user:admin',
      outcome: 'ok',
      reason: 'bootstrap',
      after: { id: user.user_id, username: 'admin', role: 'admin' },
    });
    const otp = await this.mintOneTimeToken('admin');
    return { created: true, username: 'admin', oneTimeToken: otp.token, expires_at: otp.expires_at };
  }

  /** A single-use login token for `username`, valid 15 minutes (`ghtrader admin login-link`). */
  async mintOneTimeToken(username: string): Promise<{ token: string; expires_at: string }> {
    const name = username.trim().toLowerCase();
    const userId = await this.deps.users.userIdForUsername(name);
    const user = userId ? await this.deps.users.getUser(userId) : null;
    if (!user) throw new NotFoundError('user', name);
    const now = this.deps.clock.nowMs();
    const token = newSecret(this.random);
    const expiresMs = now + ONE_TIME_TOKEN_TTL_S * 1000;
    await this.deps.users.putOneTime({
      pk: oneTimeKey(sha256HexOf(token)),
      item_type: 'one_time',
      user_id: user.user_id,
      created_at: isoUtc(now),
      expires_at: isoUtc(expiresMs),
      expires_at_s: Math.ceil(expiresMs / 1000) + 86_400,
    });
    return { token, expires_at: isoUtc(expiresMs) };
  }

  private async startSession(user: UserRecord, now: number): Promise<SessionGrant> {
    const sessionId = newSecret(this.random);
    const csrf = newSecret(this.random);
    const nowIso = isoUtc(now);
    const expiresMs = now + Math.min(this.deps.limits.sessionIdleS, this.deps.limits.sessionMaxS) * 1000;
    await this.deps.users.putSession({
      pk: sessionKey(sha256HexOf(sessionId)),
      item_type: 'session',
      user_id: user.user_id,
      csrf_token: csrf,
      created_at: nowIso,
      last_seen_at: nowIso,
      expires_at_s: Math.ceil(now / 1000 + this.deps.limits.sessionMaxS) + 86_400,
    });
    await this.deps.users.recordLogin(user.user_id, nowIso);
    return {
      sessionId,
      user: { id: user.user_id, username: user.username, role: user.role },
      csrf_token: csrf,
      expires_at: isoUtc(expiresMs),
    };
  }

  /** Claim the username, then put the user item; a claim left by a crashed creator is taken over after 30 s. */
  private async insertUser(username: string, role: Role, passwordHash: string, createdBy: string): Promise<UserRecord> {
    const userId = this.deps.ids.next();
    const now = this.deps.clock.nowMs();
    const taken = () =>
      new ValidationFailedError(`username ${JSON.stringify(username)} is taken`, [
        { path: ['username'], code: 'custom', message: 'username is taken' },
      ]);
    const claim = await this.deps.users.claimUsername(username, userId, isoUtc(now));
    if (!claim.ok) {
      const holder = await this.deps.users.getUser(claim.userId);
      if (holder || now - Date.parse(claim.at) < CLAIM_ORPHAN_MS) throw taken();
      if (!(await this.deps.users.takeOverUsername(username, claim.userId, userId, isoUtc(now)))) throw taken();
    }
    const user: UserRecord = {
      pk: userKey(userId),
      item_type: 'user',
      user_id: userId,
      username,
      role,
      password_hash: passwordHash,
      disabled: false,
      created_at: isoUtc(now),
      created_by: createdBy,
      updated_at: isoUtc(now),
      last_login_at: null,
    };
    try {
      await this.deps.users.putUser(user);
    } catch (err) {
      await this.deps.users.releaseUsername(username, userId);
      throw err;
    }
    return user;
  }

  private async resolveOwner(caller: Caller, owner: string | undefined): Promise<UserRecord> {
    if (owner !== undefined) {
      const name = owner.trim().toLowerCase();
      const id = await this.deps.users.userIdForUsername(name);
      const user = id ? await this.deps.users.getUser(id) : null;
      if (!user) throw new NotFoundError('user', name);
      if (user.user_id !== caller.userId) this.assertAdmin(caller);
      return user;
    }
    const user = caller.userId ? await this.deps.users.getUser(caller.userId) : null;
    if (!user) {
      throw new ValidationFailedError('a token needs an owner: pass the owning username', [
        { path: ['owner'], code: 'custom', message: 'required for callers without a user' },
      ]);
    }
    return user;
  }

  private assertAdmin(caller: Caller): void {
    requireCallerRole(caller, 'admin');
  }

  private async cachedUser(userId: string): Promise<UserRecord | null> {
    const now = this.deps.clock.nowMs();
    const hit = this.userCache.get(userId);
    if (hit && now - hit.atMs < USER_CACHE_TTL_MS) return hit.user;
    const user = await this.deps.users.getUser(userId);
    this.userCache.delete(userId);
    if (this.userCache.size >= USER_CACHE_MAX) {
      const oldest = this.userCache.keys().next();
      if (!oldest.done) this.userCache.delete(oldest.value);
    }
    this.userCache.set(userId, { user, atMs: now });
    return user;
  }

  /** A fixed hash verified for unknown usernames, so they cost the same scrypt as a wrong password. */
  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(newSecret(this.random), this.random(SALT_BYTES));
    return this.dummyHash;
  }

  private auditActor(caller: Caller) {
    return { actor: caller.actor, role: caller.role, meta: caller.meta };
  }

  private denied(caller: Caller, action: string, target: string, requiredRole: Role): Promise<void> {
    return this.audit({
      ...this.auditActor(caller),
      action,
      target,
      outcome: 'denied',
      reason: `requires ${requiredRole}`,
    });
  }

  /** Audit follows the committed action with 3 tries; a final failure is logged and never undoes the action. */
  private async audit(e: {
    actor: AuditEntry['actor'];
    role: string;
    meta: AuthMeta;
    action: string;
    target: string;
    outcome: 'ok' | 'denied' | 'failed';
    reason: string | null;
    before?: unknown;
    after?: unknown;
  }): Promise<void> {
    await appendAudit(this.deps.audit, this.deps.log, {
      ...auditWho(e),
      action: e.action,
      target: e.target,
      outcome: e.outcome,
      reason: e.reason,
      before: e.before ?? null,
      after: e.after ?? null,
    });
  }
}
