import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, ORIGIN, WebTestStack } from '../web/support.ts';

/** Its own stack: the Users table must start empty. */
let web: WebTestStack;

beforeAll(async () => {
  web = await WebTestStack.create();
});

afterAll(async () => {
  await web?.close();
});

describe('bootstrap admin and one-time login', () => {
  it('creates admin once on an empty Users table and logs in with the one-time token exactly once', async () => {
    // Act
    const first = await web.auth.ensureBootstrapAdmin();
    const second = await web.auth.ensureBootstrapAdmin();
    if (!first.created) throw new Error('expected the bootstrap admin to be created');
    const login = await web.send('POST', '/api/auth/one-time', { token: first.oneTimeToken }, { origin: ORIGIN });
    const replay = await web.send('POST', '/api/auth/one-time', { token: first.oneTimeToken }, { origin: ORIGIN });

    // Assess
    expect(Object.keys(first).sort()).toEqual(['created', 'expires_at', 'oneTimeToken', 'username']);
    expect(first.username).toBe('admin');
    expect(Date.parse(first.expires_at) - Date.now()).toBeLessThanOrEqual(15 * 60 * 1000);
    expect(second).toEqual({ created: false });
    expect(login.status).toBe(200);
    expect(((await login.json()) as { user: { role: string } }).user.role).toBe('admin');
    expect(login.headers.get('set-cookie')).toContain('HttpOnly');
    expect(replay.status).toBe(401);
    expect((await errorOf(replay)).code).toBe('invalid_credentials');
  });

  it('mints further one-time tokens for an existing user, and refuses garbage tokens', async () => {
    // Prepare
    const minted = await web.auth.mintOneTimeToken('admin');

    // Act
    const ok = await web.send('POST', '/api/auth/one-time', { token: minted.token }, { origin: ORIGIN });
    const garbage = await web.send('POST', '/api/auth/one-time', { token: 'nope' }, { origin: ORIGIN });

    // Assess
    expect(ok.status).toBe(200);
    expect(garbage.status).toBe(401);
  });

  it('never lets anyone log in as the bootstrap admin with a password', async () => {
    // Act
    const res = await web.send(
      'POST',
      '/api/auth/login',
      { username: 'admin', password: 'admin-admin-admin' },
      { origin: ORIGIN },
    );

    // Assess
    expect(res.status).toBe(401);
  });
});
