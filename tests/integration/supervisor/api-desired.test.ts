/**
 * `POST /api/{gateway,strategy}/{desired,start,stop}` and `GET /api/{gateway,strategy}/status` over the real stores
 * (acceptance 26, control-chain §6.1): start/stop semantics, 409 `already_running`, 400 `no_symbols`,
 * `confirm_live_required` and the risk caps, 409 `desired_revision_conflict`, viewer 403 (audited), and the Redis
 * mirror of each write. No gateway exists yet (trading chain), so the status says `state_source: "none"`.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, ORIGIN, WebTestStack } from '../web/support.ts';

let web: WebTestStack;
let app: ReturnType<WebTestStack['supervisedApp']>;
let operatorToken: string;
let viewerToken: string;
let redis: Redis;

beforeAll(async () => {
  web = await WebTestStack.create();
  const { rt, config } = web.stack;
  // The same app with the desired-state service and supervisor telemetry, as `ghtrader up` wires it.
  app = web.supervisedApp();
  operatorToken = await web.token(await web.createUser('operator'));
  viewerToken = await web.token(await web.createUser('viewer'));
  await rt.warm.settle(2_000);
  redis = new Redis(config.redis.url);
});

afterAll(async () => {
  redis.disconnect();
  await web.close();
});

const post = (path: string, body: unknown, token = operatorToken) =>
  app.request(`${ORIGIN}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
const get = (path: string, token = viewerToken) =>
  app.request(`${ORIGIN}${path}`, { headers: { authorization: `Bearer ${token}` } });
const profile = () => `p${randomBytes(3).toString('hex')}`;

describe('acceptance 26', () => {
  it('stop with nothing running is 200 was_running:false and makes desired idle', async () => {
    const p = profile();
    const res = await post('/api/gateway/stop', { account_profile: p });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ account_profile: p, was_running: false, desired_revision: 1 });
    const again = await post('/api/gateway/stop', { account_profile: p });
    expect(await again.json()).toMatchObject({ was_running: false, desired_revision: 1 });
    const status = await (await get(`/api/gateway/status?account_profile=${p}`)).json();
    expect(status).toMatchObject({
      desired: { mode: 'idle' },
      desired_revision: 1,
      component_status: 'desired_idle',
      state: null,
      state_source: 'none',
      supervisor: null,
    });
    expect(status.state_note).toContain('trading chain');
  });

  it('start twice is 202 then 409 already_running; the default gateway mode is sim', async () => {
    const p = profile();
    const first = await post('/api/gateway/start', { account_profile: p });
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({
      desired_revision: 1,
      desired: { mode: 'sim', host_id: web.stack.rt.hostId },
    });
    const second = await post('/api/gateway/start', { account_profile: p });
    expect(second.status).toBe(409);
    expect(await errorOf(second)).toMatchObject({ code: 'already_running', details: { mode: 'sim' } });
    const status = await (await get(`/api/gateway/status?account_profile=${p}`)).json();
    expect(status).toMatchObject({ desired_revision: 1, component_status: 'not_initialized', state_source: 'none' });
    expect(status.text).toContain('no supervisor has reported');
  });

  it('strategy start without symbols is 400 no_symbols, and without any document 400 no_desired', async () => {
    const p = profile();
    const none = await post('/api/strategy/start', { account_profile: p });
    expect(none.status).toBe(400);
    expect((await errorOf(none)).code).toBe('no_desired');
    const res = await post('/api/strategy/start', { account_profile: p, desired: { mode: 'run', model_name: 'm' } });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('no_symbols');
    const ok = await post('/api/strategy/start', {
      account_profile: p,
      desired: { mode: 'run', model_name: 'm', symbols: ['SHFE.cu2502'] },
    });
    expect(ok.status).toBe(202);
  });

  it('a stale expected_desired_revision is 409 desired_revision_conflict and writes nothing', async () => {
    const p = profile();
    const a = await post('/api/gateway/desired', {
      account_profile: p,
      desired: { mode: 'paper' },
      expected_desired_revision: 0,
    });
    expect(await a.json()).toMatchObject({ desired_revision: 1 });
    const b = await post('/api/gateway/desired', {
      account_profile: p,
      desired: { mode: 'sim' },
      expected_desired_revision: 1,
    });
    expect(await b.json()).toMatchObject({ desired_revision: 2 });
    const stale = await post('/api/gateway/desired', {
      account_profile: p,
      desired: { mode: 'idle' },
      expected_desired_revision: 1,
    });
    expect(stale.status).toBe(409);
    expect(await errorOf(stale)).toMatchObject({
      code: 'desired_revision_conflict',
      details: { expected_desired_revision: 1, desired_revision: 2 },
    });
    const status = await (await get(`/api/gateway/status?account_profile=${p}`)).json();
    expect(status).toMatchObject({ desired_revision: 2, desired: { mode: 'sim' } });
  });

  it('a viewer gets 403 forbidden on every write, audited as denied', async () => {
    const p = profile();
    for (const path of ['/api/gateway/start', '/api/gateway/stop', '/api/strategy/desired']) {
      const res = await post(path, { account_profile: p, desired: { mode: 'sim' } }, viewerToken);
      expect(res.status, path).toBe(403);
      expect(await errorOf(res)).toMatchObject({ code: 'forbidden', details: { required_role: 'operator' } });
    }
    const day = new Date().toISOString().slice(0, 10);
    const denied = (await web.stack.rt.audit.listDay(day, 500)).filter(
      (e) => e.outcome === 'denied' && e.target.endsWith('/api/gateway/start'),
    );
    expect(denied.length).toBeGreaterThanOrEqual(1);
    expect((await get(`/api/gateway/status?account_profile=${p}`)).status).toBe(200);
  });
});

describe('desired documents through the API', () => {
  it('refuses an unknown mode, limits above the caps, and live_trade without confirm_live', async () => {
    const p = profile();
    const bad = await post('/api/gateway/desired', { account_profile: p, desired: { mode: 'turbo' } });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe('validation_failed');
    const cap = await post('/api/gateway/desired', {
      account_profile: p,
      desired: { mode: 'sim', limits: { max_order_size: 11 } },
    });
    expect(cap.status).toBe(400);
    expect((await errorOf(cap)).message).toContain('GHTRADER_RISK_MAX_ORDER_SIZE_CAP=10');
    const live = await post('/api/gateway/desired', {
      account_profile: p,
      desired: { mode: 'live_trade', limits: { max_daily_loss: 1000 } },
    });
    expect(live.status).toBe(400);
    expect((await errorOf(live)).code).toBe('confirm_live_required');
    expect((await (await get(`/api/gateway/status?account_profile=${p}`)).json()).desired_revision).toBeNull();
  });

  it('canonicalises the profile, mirrors the write to Redis and publishes the hint', async () => {
    const p = profile();
    const prefix = web.stack.config.redis.prefix;
    const sub = new Redis(web.stack.config.redis.url);
    const hints: string[] = [];
    sub.on('message', (_c: string, m: string) => hints.push(m));
    await sub.subscribe(`${prefix}gateway:desired-updated:${p}`);
    const res = await post('/api/gateway/desired', {
      account_profile: ` ${p.toUpperCase()} `,
      desired: { mode: 'sim', limits: { max_abs_position: 0 } },
      reason: 'test',
    });
    expect(await res.json()).toMatchObject({ account_profile: p, desired: { limits: { max_abs_position: 0 } } });
    const stored = JSON.parse((await redis.get(`${prefix}gateway:desired:${p}`)) ?? 'null');
    expect(stored).toMatchObject({ account_profile: p, desired_revision: 1, desired: { mode: 'sim' } });
    const deadline = Date.now() + 2_000;
    while (hints.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sub.disconnect();
    expect(JSON.parse(hints[0] ?? 'null')).toMatchObject({ type: 'gateway.desired', desired_revision: 1 });
  });
});

describe('GET /api/gateway/list', () => {
  it('lists the gateway status of default and of every profile with a desired document', async () => {
    // Prepare
    const p = profile();
    expect((await post('/api/gateway/desired', { account_profile: p, desired: { mode: 'paper' } })).status).toBe(200);

    // Act
    const res = await get('/api/gateway/list');

    // Assess
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { account_profile: string; desired: { mode: string } | null }[] };
    const profiles = body.items.map((i) => i.account_profile);
    expect(profiles[0]).toBe('default');
    expect(body.items.find((i) => i.account_profile === p)).toMatchObject({ desired: { mode: 'paper' } });
    expect((await app.request(`${ORIGIN}/api/gateway/list`)).status).toBe(401);
  });

  it('clamps limit to 1..500 (default 200) and refuses a non-integer', async () => {
    // Act
    const dflt = (await (await get('/api/gateway/list')).json()) as { limit: number };
    const one = await get('/api/gateway/list?limit=0');
    const huge = (await (await get('/api/gateway/list?limit=999999')).json()) as { limit: number };
    const bad = await get('/api/gateway/list?limit=abc');

    // Assess
    expect(dflt.limit).toBe(200);
    const oneBody = (await one.json()) as { items: unknown[]; limit: number; truncated: boolean };
    expect(oneBody).toMatchObject({ limit: 1, truncated: true });
    expect(oneBody.items).toHaveLength(1);
    expect(huge.limit).toBe(500);
    expect(bad.status).toBe(400);
  });

  it('pages every profile once with a signed cursor, and refuses a tampered one', async () => {
    // Prepare: two more profiles, so there are at least three pages of one.
    for (const p of [profile(), profile()])
      await post('/api/gateway/desired', { account_profile: p, desired: { mode: 'paper' } });
    const all = ((await (await get('/api/gateway/list')).json()) as { items: { account_profile: string }[] }).items;
    type Page = { items: { account_profile: string }[]; next_cursor: string | null };

    // Act
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = (await (
        await get(`/api/gateway/list?limit=1${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()) as Page;
      seen.push(...page.items.map((i) => i.account_profile));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 1000);
    const first = (await (await get('/api/gateway/list?limit=1')).json()) as Page;
    const tampered = await get(`/api/gateway/list?limit=1&cursor=${first.next_cursor}x`);

    // Assess
    expect(seen).toEqual(all.map((i) => i.account_profile));
    expect(pages).toBe(all.length);
    expect(tampered.status).toBe(400);
    expect((await errorOf(tampered)).code).toBe('invalid_cursor');
  });
});
