/**
 * `GET /api/locks` [viewer] on the real stack: the leases the lock store holds, in key order, with expired ones flagged,
 * a prefix filter, signed cursors, and the usual bad-input answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LockListResult } from '#shared/services/locks-service.ts';
import { type BrowserSession, errorOf, WebTestStack } from './support.ts';

let web: WebTestStack;
let viewer: BrowserSession;
const P = `api${Date.now()}:`;

beforeAll(async () => {
  web = await WebTestStack.create();
  viewer = await web.login(await web.createUser('viewer'));
  const locks = web.stack.rt.locks;
  await locks.acquire(`${P}trade:account=alt`, { ownerId: 'gw-1', host: 'colo-1', pid: 42 }, 60_000);
  await locks.acquire(`${P}main_l5:symbol=KQ.m@SHFE.cu`, { ownerId: 'job-1', host: 'worker', pid: 7 }, 1);
  await locks.acquire(`${P}source:slot=0`, { ownerId: 'job-2', host: 'worker', pid: 8 }, 60_000);
  await new Promise((r) => setTimeout(r, 20));
});

afterAll(async () => {
  await web?.close();
});

const get = (q: string) => web.request(`/api/locks${q}`, { headers: { cookie: viewer.cookie } });

describe('GET /api/locks', () => {
  it('lists a viewer the leases in key order with owner, host, pid, fencing token and whether each expired', async () => {
    // Act
    const res = await get(`?prefix=${encodeURIComponent(P)}`);

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as LockListResult;
    expect(body.items.map((l) => [l.key.slice(P.length), l.owner, l.host, l.pid, l.expired])).toEqual([
      ['main_l5:symbol=KQ.m@SHFE.cu', 'job-1', 'worker', 7, true],
      ['source:slot=0', 'job-2', 'worker', 8, false],
      ['trade:account=alt', 'gw-1', 'colo-1', 42, false],
    ]);
    expect(body).toMatchObject({ limit: 100, next_cursor: null, expired_count: 1 });
    expect(body.items[0]?.fencing_token).toBeGreaterThan(0);
    expect(body.items[0]?.expires_at).toMatch(/Z$/);
  });

  it('pages with a signed cursor that is bound to its prefix', async () => {
    // Act
    const first = (await (await get(`?prefix=${encodeURIComponent(P)}&limit=2`)).json()) as LockListResult;
    const second = (await (
      await get(`?prefix=${encodeURIComponent(P)}&limit=2&cursor=${first.next_cursor}`)
    ).json()) as LockListResult;
    const elsewhere = await get(`?prefix=other&limit=2&cursor=${first.next_cursor}`);

    // Assess
    expect(first.items).toHaveLength(2);
    expect(second.items.map((l) => l.key)).toEqual([`${P}trade:account=alt`]);
    expect(elsewhere.status).toBe(400);
    expect((await errorOf(elsewhere)).code).toBe('invalid_cursor');
  });

  it('answers bad input with 400 and no identity with 401', async () => {
    // Act
    const notNumber = await get('?limit=abc');
    const unknown = await get('?owner=job-1');
    const tampered = await get('?cursor=abc.def');
    const anonymous = await web.request('/api/locks');
    const clamped = (await (await get('?limit=999999')).json()) as LockListResult;

    // Assess
    expect(notNumber.status).toBe(400);
    expect((await errorOf(notNumber)).code).toBe('validation_failed');
    expect(unknown.status).toBe(400);
    expect(tampered.status).toBe(400);
    expect((await errorOf(tampered)).code).toBe('invalid_cursor');
    expect(anonymous.status).toBe(401);
    expect(clamped.limit).toBe(500);
  });
});
