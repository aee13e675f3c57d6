import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, WebTestStack } from '../web/support.ts';

let web: WebTestStack;

beforeAll(async () => {
  web = await WebTestStack.create();
});

afterAll(async () => {
  await web?.close();
});

describe('user management [admin]', () => {
  it('creates a user, refuses a duplicate username, and lists users from the index', async () => {
    // Prepare
    const admin = await web.createUser('admin');
    const s = await web.login(admin);
    const body = { username: 'Quant.One', password: 'long-enough-password', role: 'operator' };

    // Act
    const created = await web.send('POST', '/api/users', body, web.browserHeaders(s));
    const duplicate = await web.send('POST', '/api/users', { ...body, username: 'quant.one' }, web.browserHeaders(s));
    const list = await web.request('/api/users', { headers: { cookie: s.cookie } });

    // Assess
    expect(created.status).toBe(201);
    const user = ((await created.json()) as { user: Record<string, unknown> }).user;
    expect(user).toMatchObject({ username: 'quant.one', role: 'operator', disabled: false });
    expect(user).not.toHaveProperty('password_hash');
    expect(duplicate.status).toBe(400);
    expect((await errorOf(duplicate)).code).toBe('validation_failed');
    const items = ((await list.json()) as { items: { username: string }[] }).items;
    expect(items.map((u) => u.username)).toContain('quant.one');
    expect(JSON.stringify(items)).not.toContain('scrypt');
  });

  it('rejects a password shorter than 12 characters with the zod issue', async () => {
    // Prepare
    const admin = await web.createUser('admin');

    // Act
    const res = await web.send(
      'POST',
      '/api/users',
      { username: 'shorty', password: 'x'.repeat(11), role: 'viewer' },
      web.bearer(await web.token(admin)),
    );

    // Assess
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.details.issues).toEqual([expect.objectContaining({ path: ['password'] })]);
  });

  it('refuses an operator with 403 forbidden (admin required)', async () => {
    // Prepare
    const op = await web.createUser('operator');

    // Act
    const res = await web.request('/api/users', { headers: web.bearer(await web.token(op)) });

    // Assess
    expect(res.status).toBe(403);
    expect((await errorOf(res)).details.required_role).toBe('admin');
  });

  it('makes a demotion bite on the next request and a disable end the sessions', async () => {
    // Prepare
    const admin = await web.createUser('admin');
    const adminToken = await web.token(admin);
    const op = await web.createUser('operator');
    const opSession = await web.login(op);

    // Act
    await web.send('PATCH', `/api/users/${op.id}`, { role: 'viewer' }, web.bearer(adminToken));
    const demoted = await web.send(
      'POST',
      '/api/jobs',
      { kind: 'system.selftest', params: {} },
      web.browserHeaders(opSession),
    );
    const disable = await web.send('PATCH', `/api/users/${op.id}`, { disabled: true }, web.bearer(adminToken));
    const disabled = await web.request('/api/auth/me', { headers: { cookie: opSession.cookie } });
    const relogin = await web.send(
      'POST',
      '/api/auth/login',
      { username: op.username, password: op.password },
      { origin: 'http://localhost' },
    );

    // Assess
    expect(demoted.status).toBe(403);
    expect(disable.status).toBe(200);
    expect(((await disable.json()) as { user: { disabled: boolean } }).user.disabled).toBe(true);
    expect(disabled.status).toBe(401);
    expect(relogin.status).toBe(401);
  });

  it('does not let an admin demote or disable themselves', async () => {
    // Prepare
    const admin = await web.createUser('admin');
    const s = await web.login(admin);

    // Act
    const res = await web.send('PATCH', `/api/users/${admin.id}`, { role: 'viewer' }, web.browserHeaders(s));

    // Assess
    expect(res.status).toBe(400);
  });

  it('answers 404 for an unknown user id', async () => {
    // Prepare
    const admin = await web.createUser('admin');

    // Act
    const res = await web.send(
      'PATCH',
      '/api/users/01ARZ3NDEKTSV4RRFFQ69G5FAV',
      { disabled: true },
      web.bearer(await web.token(admin)),
    );

    // Assess
    expect(res.status).toBe(404);
  });
});
