import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, ORIGIN, type TestUser, WebTestStack } from './support.ts';

let web: WebTestStack;
let operator: TestUser;
let token: string;

beforeAll(async () => {
  web = await WebTestStack.create();
  operator = await web.createUser('operator');
  token = await web.token(operator);
});

afterAll(async () => {
  await web?.close();
});

describe('request hygiene', () => {
  it('refuses a token in the query string with 400 token_in_query and never logs it', async () => {
    // Act
    const res = await web.request(`/api/jobs?token=${encodeURIComponent(token)}`);
    const access = await web.request('/api/status?access_token=sekrit-value-123');
    const page = await web.request('/v/cu/jobs?session=sekrit-session-456');

    // Assess
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('token_in_query');
    expect(access.status).toBe(400);
    expect(page.status).toBe(400);
    const logs = web.logLines.join('\n');
    expect(logs).toContain('token_in_query');
    expect(logs).not.toContain(token.slice(15));
    expect(logs).not.toContain('sekrit');
  });

  it('accepts writes only as application/json (415 otherwise)', async () => {
    // Act
    const res = await web.request('/api/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...web.bearer(token) },
      body: 'kind=system.selftest',
    });

    // Assess
    expect(res.status).toBe(415);
    expect((await errorOf(res)).code).toBe('unsupported_media_type');
  });

  it('refuses bodies over 256 KiB with 413 payload_too_large', async () => {
    // Act
    const res = await web.send(
      'POST',
      '/api/jobs',
      { kind: 'system.selftest', note: 'x'.repeat(300 * 1024) },
      web.bearer(token),
    );

    // Assess
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('payload_too_large');
  });

  it('sends CSP, nosniff, same-origin referrer policy, no-store and no CORS headers', async () => {
    // Act
    const res = await web.request('/api/jobs', { headers: { ...web.bearer(token), origin: 'http://evil.example' } });

    // Assess
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const d of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) {
      expect(csp).toContain(d);
    }
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('echoes a valid x-request-id, replaces an invalid one, and logs one access line per request', async () => {
    // Act
    const kept = await web.request('/health', { headers: { 'x-request-id': 'my-request-0001' } });
    const replaced = await web.request('/health', { headers: { 'x-request-id': 'bad id!' } });

    // Assess
    expect(kept.headers.get('x-request-id')).toBe('my-request-0001');
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const line = web.logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.request_id === 'my-request-0001');
    expect(line).toMatchObject({ msg: 'http.request', route: '/health', status: 200, method: 'GET' });
    expect(typeof line?.duration_ms).toBe('number');
  });

  it('logs the route template, not the concrete path, as the route', async () => {
    // Act
    await web.request('/api/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV', {
      headers: { ...web.bearer(token), 'x-request-id': 'route-check-0001' },
    });

    // Assess
    const line = web.logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.request_id === 'route-check-0001' && l.msg === 'http.request');
    expect(line).toMatchObject({ route: '/api/jobs/:id', path: '/api/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV', status: 404 });
  });

  it('answers unknown API routes with a 404 not_found JSON and unknown pages with an HTML 404', async () => {
    // Act
    const api = await web.request('/api/nope', { headers: web.bearer(token) });
    const page = await web.request('/nope');

    // Assess
    expect(api.status).toBe(404);
    expect((await errorOf(api)).code).toBe('not_found');
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toContain('text/html');
  });
});

describe('the origin secret (hosted console behind CloudFront)', () => {
  const secret = 'cloudfront-origin-secret-0123456789abcdef';
  let gated: WebTestStack;

  beforeAll(async () => {
    gated = await WebTestStack.create({ env: { GHTRADER_ORIGIN_SECRET: secret } });
  });

  afterAll(async () => {
    await gated?.close();
  });

  it('refuses every request without it or with a wrong one (403 origin_not_allowed), and serves it with it', async () => {
    const attempts: Record<string, string>[] = [{}, { 'x-ghtrader-origin': `${secret}-not` }];
    for (const headers of attempts) {
      const res = await gated.request('/health', { headers });
      expect(res.status).toBe(403);
      expect((await errorOf(res)).code).toBe('origin_not_allowed');
    }
    expect((await gated.request('/health', { headers: { 'x-ghtrader-origin': secret } })).status).toBe(200);
    // Even a good login is refused around the distribution.
    const user = await gated.createUser('viewer');
    const direct = await gated.send(
      'POST',
      '/api/auth/login',
      { username: user.username, password: user.password },
      {
        origin: ORIGIN,
      },
    );
    expect(direct.status).toBe(403);
  });
});
