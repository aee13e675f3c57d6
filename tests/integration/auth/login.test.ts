import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256HexOf } from '#shared/domain/control/auth-secrets.ts';
import { errorOf, ORIGIN, WebTestStack } from '../web/support.ts';

let web: WebTestStack;

beforeAll(async () => {
  web = await WebTestStack.create();
});

afterAll(async () => {
  await web?.close();
});

describe('authentication is required', () => {
  const ULID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
  const routes: [string, string][] = [
    ['GET', '/api/status'],
    ['POST', '/api/auth/logout'],
    ['GET', '/api/auth/me'],
    ['POST', '/api/auth/tokens'],
    ['GET', '/api/auth/tokens'],
    ['POST', '/api/auth/tokens/abcdefghij/revoke'],
    ['POST', '/api/users'],
    ['GET', '/api/users'],
    ['PATCH', `/api/users/${ULID}`],
    ['POST', '/api/jobs'],
    ['GET', '/api/jobs'],
    ['GET', '/api/jobs/kinds'],
    ['GET', `/api/jobs/${ULID}`],
    ['GET', `/api/jobs/${ULID}/progress`],
    ['POST', `/api/jobs/${ULID}/cancel`],
  ];

  it.each(routes)('answers 401 unauthenticated to %s %s without credentials', async (method, path) => {
    // Act
    const res = method === 'GET' ? await web.request(path) : await web.send(method, path, {}, { origin: ORIGIN });

    // Assess
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe('unauthenticated');
  });

  it('answers 401 to an unknown or malformed bearer token, never falling back to a valid cookie', async () => {
    // Prepare
    const user = await web.createUser('viewer');
    const session = await web.login(user);

    // Act
    const bad = await web.request('/api/jobs', {
      headers: {
        cookie: session.cookie,
        authorization: 'Bearer ght_abcdefghij_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      },
    });
    const malformed = await web.request('/api/jobs', {
      headers: { cookie: session.cookie, authorization: 'Basic eDp5' },
    });

    // Assess
    expect(bad.status).toBe(401);
    expect(malformed.status).toBe(401);
  });

  it('serves /health without credentials', async () => {
    // Act
    const res = await web.request('/health');

    // Assess
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});

describe('password login', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie and returns the user, CSRF token and expiry', async () => {
    // Prepare
    const user = await web.createUser('operator');

    // Act
    const res = await web.send(
      'POST',
      '/api/auth/login',
      { username: user.username, password: user.password },
      { origin: ORIGIN },
    );

    // Assess
    expect(res.status).toBe(200);
    const body = (await res.json()) as { user: { id: string; role: string }; csrf_token: string; expires_at: string };
    expect(body.user).toEqual({ id: user.id, username: user.username, role: 'operator' });
    expect(body.csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.expires_at).toMatch(/Z$/);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^ghtrader_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
    expect(cookie).not.toContain('Secure');
  });

  it('uses __Host-ghtrader_session with Secure when the request came over TLS', async () => {
    // Prepare
    const user = await web.createUser('viewer');

    // Act
    const res = await web.send(
      'POST',
      'https://localhost/api/auth/login',
      { username: user.username, password: user.password },
      { origin: 'https://localhost' },
    );
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const me = await web.request('https://localhost/api/auth/me', { headers: { cookie } });
    const plainHttp = await web.request('/api/auth/me', { headers: { cookie: cookie.replace('__Host-', '') } });

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/^__Host-ghtrader_session=.*; Secure/);
    expect(me.status).toBe(200);
    expect(plainHttp.status).toBe(200);
  });

  it('answers 401 invalid_credentials for a wrong password and for an unknown user alike', async () => {
    // Prepare
    const user = await web.createUser('viewer');

    // Act
    const wrong = await web.send(
      'POST',
      '/api/auth/login',
      { username: user.username, password: 'not-the-password' },
      { origin: ORIGIN },
    );
    const unknown = await web.send(
      'POST',
      '/api/auth/login',
      { username: 'nobody-here', password: 'whatever-pass' },
      { origin: ORIGIN },
    );

    // Assess
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await errorOf(wrong)).toEqual(await errorOf(unknown));
  });

  it('refuses the 6th login after 5 failures with 429 and Retry-After, even with the right password', async () => {
    // Prepare
    const user = await web.createUser('viewer');
    for (let i = 0; i < 5; i++) {
      const r = await web.send(
        'POST',
        '/api/auth/login',
        { username: user.username, password: `wrong-${i}` },
        { origin: ORIGIN },
      );
      expect(r.status).toBe(401);
    }

    // Act
    const res = await web.send(
      'POST',
      '/api/auth/login',
      { username: user.username, password: user.password },
      { origin: ORIGIN },
    );

    // Assess
    expect(res.status).toBe(429);
    expect((await errorOf(res)).code).toBe('rate_limited');
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a 21st attempt from one ip within the window', async () => {
    // Prepare
    const ip = '192.0.2.77';
    for (let i = 0; i < 20; i++) {
      await web.send('POST', '/api/auth/login', { username: `nobody-${i}`, password: 'x' }, { origin: ORIGIN }, ip);
    }

    // Act
    const res = await web.send(
      'POST',
      '/api/auth/login',
      { username: 'nobody-21', password: 'x' },
      { origin: ORIGIN },
      ip,
    );

    // Assess
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).not.toBeNull();
  });

  it('requires the console origin on login', async () => {
    // Prepare
    const user = await web.createUser('viewer');

    // Act
    const foreign = await web.send(
      'POST',
      '/api/auth/login',
      { username: user.username, password: user.password },
      { origin: 'http://evil.example' },
    );
    const none = await web.send('POST', '/api/auth/login', { username: user.username, password: user.password });

    // Assess
    expect(foreign.status).toBe(403);
    expect((await errorOf(foreign)).code).toBe('csrf_failed');
    expect(none.status).toBe(403);
  });

  it('ends the session on logout', async () => {
    // Prepare
    const user = await web.createUser('viewer');
    const s = await web.login(user);

    // Act
    const out = await web.send('POST', '/api/auth/logout', {}, web.browserHeaders(s));
    const after = await web.request('/api/auth/me', { headers: { cookie: s.cookie } });

    // Assess
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect(after.status).toBe(401);
  });

  it('answers me with the user, the session CSRF token and its expiry', async () => {
    // Prepare
    const user = await web.createUser('admin');
    const s = await web.login(user);

    // Act
    const res = await web.request('/api/auth/me', { headers: { cookie: s.cookie } });

    // Assess
    expect(res.status).toBe(200);
    const body = (await res.json()) as { user: unknown; csrf_token: string; expires_at: string };
    expect(body.user).toEqual({ id: user.id, username: user.username, role: 'admin' });
    expect(body.csrf_token).toBe(s.csrf);
    expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.now());
  });
});

describe('API tokens', () => {
  it('works until revoked, then 401; only the SHA-256 of its secret is stored', async () => {
    // Prepare
    const user = await web.createUser('operator');
    const s = await web.login(user);

    // Act
    const created = await web.send(
      'POST',
      '/api/auth/tokens',
      { name: 'ci', role: 'viewer', expires_in_days: 30 },
      web.browserHeaders(s),
    );
    const body = (await created.json()) as { id: string; token: string; expires_at: string };
    const before = await web.request('/api/jobs', { headers: web.bearer(body.token) });
    const item = await web.stack.rt.clients.doc.send(
      new GetCommand({ TableName: web.stack.config.tables.users, Key: { pk: `token#${body.id}` } }),
    );
    const revoked = await web.send('POST', `/api/auth/tokens/${body.id}/revoke`, {}, web.browserHeaders(s));
    const after = await web.request('/api/jobs', { headers: web.bearer(body.token) });

    // Assess
    expect(created.status).toBe(201);
    expect(body.token).toMatch(new RegExp(`^ght_${body.id}_[A-Za-z0-9_-]{43}$`));
    expect(before.status).toBe(200);
    const secret = body.token.slice(`ght_${body.id}_`.length);
    expect(item.Item?.secret_sha256).toBe(sha256HexOf(secret));
    expect(JSON.stringify(item.Item)).not.toContain(secret);
    expect(revoked.status).toBe(200);
    expect(after.status).toBe(401);
  });

  it('never grants a token a role above its creator', async () => {
    // Prepare
    const user = await web.createUser('operator');
    const s = await web.login(user);

    // Act
    const res = await web.send('POST', '/api/auth/tokens', { name: 'too-high', role: 'admin' }, web.browserHeaders(s));

    // Assess
    expect(res.status).toBe(403);
    expect((await errorOf(res)).details.required_role).toBe('admin');
  });

  it('acts with the lower of its role and its owner current role', async () => {
    // Prepare
    const user = await web.createUser('operator');
    const token = await web.token(user, 'operator');
    const admin = await web.createUser('admin');
    const adminSession = await web.login(admin);

    // Act
    await web.send('PATCH', `/api/users/${user.id}`, { role: 'viewer' }, web.browserHeaders(adminSession));
    const me = await web.request('/api/auth/me', { headers: web.bearer(token) });

    // Assess
    expect(((await me.json()) as { user: { role: string } }).user.role).toBe('viewer');
  });

  it('creates a token for another user only for an admin (owner in the body); anyone may name themselves', async () => {
    // Prepare
    const quant = await web.createUser('operator');
    const other = await web.createUser('operator');
    const admin = await web.createUser('admin');
    const adminToken = await web.token(admin);
    const otherToken = await web.token(other, 'operator');

    const create = (as: string, owner: string) =>
      web.send('POST', '/api/auth/tokens', { name: 'ci', role: 'viewer', owner }, web.bearer(as));

    // Act
    const forQuant = await create(adminToken, quant.username);
    const notYours = await create(otherToken, quant.username);
    const self = await create(otherToken, other.username);
    const nobody = await create(adminToken, 'no-such-user');

    // Assess: the new token acts as the quant
    expect(forQuant.status).toBe(201);
    const made = ((await forQuant.json()) as { token: string }).token;
    const me = await web.request('/api/auth/me', { headers: web.bearer(made) });
    expect(((await me.json()) as { user: { username: string; role: string } }).user).toMatchObject({
      username: quant.username,
      role: 'viewer',
    });
    expect(notYours.status).toBe(403);
    expect(self.status).toBe(201);
    expect(nobody.status).toBe(404);
  });

  it('lists only the caller own tokens, and all tokens for an admin', async () => {
    // Prepare
    const a = await web.createUser('viewer');
    const b = await web.createUser('viewer');
    await web.token(a);
    await web.token(b);
    const admin = await web.createUser('admin');

    // Act
    const own = await web.request('/api/auth/tokens', { headers: web.bearer(await web.token(a)) });
    const all = await web.request('/api/auth/tokens?limit=500', { headers: web.bearer(await web.token(admin)) });

    // Assess
    const ownItems = ((await own.json()) as { items: { owner_username: string }[] }).items;
    const allItems = ((await all.json()) as { items: { owner_username: string }[] }).items;
    expect(ownItems.length).toBe(2);
    expect(ownItems.every((t) => t.owner_username === a.username)).toBe(true);
    expect(allItems.some((t) => t.owner_username === b.username)).toBe(true);
    expect(JSON.stringify(allItems)).not.toContain('secret');
  });

  it('lets only the owner or an admin revoke a token (403 otherwise)', async () => {
    // Prepare
    const owner = await web.createUser('viewer');
    const other = await web.createUser('operator');
    const token = await web.token(owner);
    const id = token.slice(4, 14);

    // Act
    const res = await web.send('POST', `/api/auth/tokens/${id}/revoke`, {}, web.bearer(await web.token(other)));

    // Assess
    expect(res.status).toBe(403);
    expect((await web.request('/api/auth/me', { headers: web.bearer(token) })).status).toBe(200);
  });
});
