import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserSession, errorOf, ORIGIN, type TestUser, WebTestStack } from './support.ts';

let web: WebTestStack;
let operator: TestUser;
let session: BrowserSession;

beforeAll(async () => {
  web = await WebTestStack.create();
  operator = await web.createUser('operator');
  session = await web.login(operator);
});

afterAll(async () => {
  await web?.close();
});

/** A distinct job each time, so dedupe never hides whether a write happened. */
let seconds = 100;
const sleepJob = () => ({ kind: 'system.sleep', params: { seconds: seconds++ } });
const queuedCount = async () => (await web.stack.rt.jobs.counts()).queued;

describe('CSRF defence for cookie-authenticated writes', () => {
  it.each([
    ['without x-csrf-token', () => ({ cookie: session.cookie, origin: ORIGIN })],
    [
      'with a wrong x-csrf-token',
      () => ({ cookie: session.cookie, origin: ORIGIN, 'x-csrf-token': `${session.csrf.slice(0, -1)}x` }),
    ],
    [
      'from a foreign Origin',
      () => ({ cookie: session.cookie, origin: 'http://evil.example', 'x-csrf-token': session.csrf }),
    ],
    ['with neither Origin nor Sec-Fetch-Site', () => ({ cookie: session.cookie, 'x-csrf-token': session.csrf })],
    [
      'from a same-site but cross-origin page',
      () => ({ cookie: session.cookie, 'x-csrf-token': session.csrf, 'sec-fetch-site': 'same-site' }),
    ],
  ])('answers 403 csrf_failed %s and changes nothing', async (_what, headers) => {
    // Prepare
    const before = await queuedCount();

    // Act
    const res = await web.send('POST', '/api/jobs', sleepJob(), headers());

    // Assess
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('csrf_failed');
    expect(await queuedCount()).toBe(before);
  });

  it('accepts the same write with the session token from the console origin', async () => {
    // Act
    const res = await web.send('POST', '/api/jobs', sleepJob(), web.browserHeaders(session));

    // Assess
    expect(res.status).toBe(201);
  });

  it('accepts Sec-Fetch-Site: same-origin when the browser sends no Origin', async () => {
    // Act
    const res = await web.send('POST', '/api/jobs', sleepJob(), {
      cookie: session.cookie,
      'x-csrf-token': session.csrf,
      'sec-fetch-site': 'same-origin',
    });

    // Assess
    expect(res.status).toBe(201);
  });

  it('exempts bearer requests: the same POST with a token and no cookie succeeds', async () => {
    // Prepare
    const token = await web.token(operator);

    // Act
    const res = await web.send('POST', '/api/jobs', sleepJob(), web.bearer(token));

    // Assess
    expect(res.status).toBe(201);
  });

  it('derives the console origin from the trusted proxy only when hops are configured', async () => {
    // Act: the proxy claims another host, but no proxy is trusted in this stack.
    const res = await web.send('POST', '/api/jobs', sleepJob(), {
      ...web.browserHeaders(session),
      origin: 'https://console.example',
      'x-forwarded-host': 'console.example',
      'x-forwarded-proto': 'https',
    });

    // Assess
    expect(res.status).toBe(403);
  });
});
