/**
 * `AuthService.recheckCredential` against dynalite (the production AuthService and DynamoDB Users table of a per-file
 * web stack): what the AWS broadcaster's 60 s session re-check sees of a stored credential reference. The rules are
 * those of `authenticateSession` / `authenticateBearer` (idle and absolute session expiry, revoked or expired tokens,
 * missing or disabled users, a token's role capped by its owner's current one), read without the secret and without
 * touching the credential (a socket is not user activity); a store failure throws instead of answering null.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenKey } from '#shared/domain/control/auth.ts';
import { sha256HexOf } from '#shared/domain/control/auth-secrets.ts';
import type { Role } from '#shared/domain/control/roles.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { isoUtc, systemClock } from '#shared/domain/time.ts';
import { DynamoUserStore } from '#shared/infra/aws/user-store.ts';
import { AuthService, systemCaller } from '#shared/services/auth-service.ts';
import { storeSession } from '../support/sessions.ts';
import { type TestUser, WebTestStack } from '../web/support.ts';

const MINUTE = 60_000;

describe('AuthService.recheckCredential', () => {
  let web: WebTestStack;

  beforeAll(async () => {
    web = await WebTestStack.create();
  }, 60_000);

  afterAll(async () => {
    await web?.close();
  });

  const admin = () => systemCaller('system', 'test', ulidGen.next());
  const meta = () => ({ requestId: ulidGen.next(), ip: `10.${randomBytes(3).join('.')}`, userAgent: null });

  async function login(user: TestUser): Promise<{ sessionId: string; ref: string }> {
    const grant = await web.auth.login({ username: user.username, password: user.password }, meta());
    return { sessionId: grant.sessionId, ref: `session:${sha256HexOf(grant.sessionId)}` };
  }

  /** A session stored as if created and last seen at the given times; returns its id hash. */
  async function storedSession(user: TestUser, createdMs: number, seenMs: number): Promise<string> {
    return (await storeSession(web.users, user.id, createdMs, seenMs)).idSha256;
  }

  /** A token stored directly (any expiry, never used); returns its id. */
  async function storedToken(owner: TestUser, role: Role, expiresMs: number): Promise<string> {
    const id = Array.from(randomBytes(10), (b) => 'abcdefghijklmnopqrstuvwxyz234567'[b & 31]).join('');
    const ok = await web.users.putToken({
      pk: tokenKey(id),
      item_type: 'token',
      token_id: id,
      owner_id: owner.id,
      owner_username: owner.username,
      name: 'stored',
      role,
      secret_sha256: sha256HexOf(randomBytes(32).toString('base64url')),
      created_at: isoUtc(Date.now() - MINUTE),
      expires_at: isoUtc(expiresMs),
      last_used_at: null,
      revoked_at: null,
      revoked_by: null,
      expires_at_s: Math.ceil(expiresMs / 1000) + 86_400,
    });
    if (!ok) throw new Error(`token id ${id} taken`);
    return id;
  }

  it("answers a live session's current role, and null once the user logged out", async () => {
    // Prepare
    const user = await web.createUser('operator');
    const s = await login(user);

    // Act
    const live = await web.auth.recheckCredential(s.ref);
    await web.auth.updateUser(admin(), user.id, { role: 'viewer' });
    const demoted = await web.auth.recheckCredential(s.ref);
    const principal = await web.auth.authenticateSession(s.sessionId);
    if (!principal) throw new Error('the session is live');
    await web.auth.logout(principal, meta());
    const afterLogout = await web.auth.recheckCredential(s.ref);

    // Assess
    expect(live).toEqual({ userId: user.id, username: user.username, role: 'operator' });
    expect(demoted).toMatchObject({ role: 'viewer' });
    expect(afterLogout).toBeNull();
  });

  it('never touches the session, even when a request would (authenticateSession does)', async () => {
    // Prepare: last seen 2 minutes ago, past the 60 s touch interval
    const user = await web.createUser('viewer');
    const seen = Date.now() - 2 * MINUTE;
    const idSha256 = await storedSession(user, seen, seen);

    // Act
    const rechecked = await web.auth.recheckCredential(`session:${idSha256}`);
    const afterRecheck = await web.users.getSession(idSha256);

    // Assess
    expect(rechecked).toMatchObject({ userId: user.id, role: 'viewer' });
    expect(afterRecheck?.last_seen_at).toBe(isoUtc(seen));
  });

  it('answers null for a session past its idle or absolute limit, and leaves the item to the next request or TTL', async () => {
    // Prepare
    const user = await web.createUser('viewer');
    const { sessionIdleS, sessionMaxS } = web.stack.config.auth;
    const idle = await storedSession(
      user,
      Date.now() - (sessionIdleS + 60) * 1000,
      Date.now() - (sessionIdleS + 60) * 1000,
    );
    const old = await storedSession(user, Date.now() - (sessionMaxS + 60) * 1000, Date.now() - MINUTE);

    // Act
    const idleVerdict = await web.auth.recheckCredential(`session:${idle}`);
    const oldVerdict = await web.auth.recheckCredential(`session:${old}`);

    // Assess
    expect(idleVerdict).toBeNull();
    expect(oldVerdict).toBeNull();
    expect(await web.users.getSession(idle)).not.toBeNull();
    expect(await web.users.getSession(old)).not.toBeNull();
  });

  it("answers a token's role capped by its owner's current one, and null once it is revoked", async () => {
    // Prepare
    const owner = await web.createUser('admin');
    const created = await web.auth.createToken(admin(), { name: 'ws', role: 'operator' }, { owner: owner.username });
    const ref = `token:${created.id}`;

    // Act
    const live = await web.auth.recheckCredential(ref);
    await web.auth.updateUser(admin(), owner.id, { role: 'viewer' });
    const capped = await web.auth.recheckCredential(ref);
    await web.auth.revokeToken(admin(), created.id);
    const revoked = await web.auth.recheckCredential(ref);

    // Assess
    expect(live).toEqual({ userId: owner.id, username: owner.username, role: 'operator' });
    expect(capped).toMatchObject({ role: 'viewer' });
    expect(revoked).toBeNull();
  });

  it('answers null for an expired token, never marks a token used, and checks no secret', async () => {
    // Prepare
    const owner = await web.createUser('operator');
    const expired = await storedToken(owner, 'viewer', Date.now() - 1_000);
    const live = await storedToken(owner, 'viewer', Date.now() + 60 * MINUTE);

    // Act
    const expiredVerdict = await web.auth.recheckCredential(`token:${expired}`);
    const liveVerdict = await web.auth.recheckCredential(`token:${live}`);

    // Assess
    expect(expiredVerdict).toBeNull();
    expect(liveVerdict).toMatchObject({ userId: owner.id, role: 'viewer' });
    expect((await web.users.getToken(live))?.last_used_at).toBeNull();
  });

  it('answers null for the session and tokens of a disabled user', async () => {
    // Prepare
    const user = await web.createUser('operator');
    const s = await login(user);
    const t = await web.auth.createToken(admin(), { name: 'ws', role: 'viewer' }, { owner: user.username });

    // Act
    await web.auth.updateUser(admin(), user.id, { disabled: true });

    // Assess
    expect(await web.auth.recheckCredential(s.ref)).toBeNull();
    expect(await web.auth.recheckCredential(`token:${t.id}`)).toBeNull();
  });

  it('answers null for an unknown or malformed reference', async () => {
    // Act
    const verdicts = await Promise.all(
      [
        `session:${'a'.repeat(64)}`,
        'token:aaaaaaaaaa',
        'session:not-a-hash',
        'token:UPPERCASE1',
        `cookie:${'a'.repeat(64)}`,
        '',
      ].map((ref) => web.auth.recheckCredential(ref)),
    );

    // Assess
    expect(verdicts).toEqual([null, null, null, null, null, null]);
  });

  it('throws when the Users table cannot be read (a store outage is not a revocation)', async () => {
    // Prepare
    const user = await web.createUser('viewer');
    const s = await login(user);
    const outage = new AuthService({
      users: new DynamoUserStore(web.stack.rt.clients.doc, `${web.stack.config.tables.users}-missing`),
      audit: web.stack.rt.audit,
      clock: systemClock,
      ids: ulidGen,
      log: web.stack.log,
      limits: web.stack.config.auth,
      cursorSecret: randomBytes(16).toString('hex'),
    });

    // Act
    const attempt = outage.recheckCredential(s.ref);

    // Assess
    await expect(attempt).rejects.toThrow();
  });
});
