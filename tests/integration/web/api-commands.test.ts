/**
 * `POST /api/gateway/command`, `POST /api/trading/risk-kill`, `GET /api/gateway/commands` and
 * `GET /api/trading/risk-kill` (control-chain §3.2, §6.1, §9; trading-chain §7.3, §8; acceptance 16, 17, 22) over a
 * real per-file stack (dynalite, real Redis) with the command service wired as `ghtrader up` wires it: an accepted
 * command lands in the DynamoDB commands table, on the Redis stream `commands:<p>` and in the audit log; a viewer's
 * reset is 403 and audited as denied with nothing written; CSRF and bearer tokens behave as on every write; bad params
 * are 400 `validation_failed` naming the field with nothing written; the history is newest first with clamped limits;
 * profiles are canonicalised; with Redis unreachable the command still lands in DynamoDB (`durable_only`); the
 * risk-kill status follows the durable record; a process without the service answers 503.
 */

import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '#shared/domain/control/audit.ts';
import { isoUtc } from '#shared/domain/time.ts';
import { applyKill } from '#shared/domain/trading/risk-kill.ts';
import type { CommandHistory, CommandIssued, RiskKillStatus } from '#shared/services/command-service.ts';
import { tradingControl } from '#shared/services/trading-control.ts';
import type { WebEnv } from '#web/env.ts';
import { freePort } from '../redis/redis-server.ts';
import { type BrowserSession, errorOf, ORIGIN, type TestUser, WebTestStack } from './support.ts';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

let web: WebTestStack;
let app: Hono<WebEnv>;
let operator: TestUser;
let operatorToken: string;
let viewerToken: string;
let operatorSession: BrowserSession;
let viewerSession: BrowserSession;

beforeAll(async () => {
  web = await WebTestStack.create();
  const { rt } = web.stack;
  // The shared test app plus the command service, as `ghtrader up` wires it.
  app = web.appWith({ commands: tradingControl(rt).commands });
  operator = await web.createUser('operator');
  operatorToken = await web.token(operator);
  operatorSession = await web.login(operator);
  const viewer = await web.createUser('viewer');
  viewerToken = await web.token(viewer);
  viewerSession = await web.login(viewer);
  await rt.warm.settle(2_000);
});

afterAll(async () => {
  await web?.close();
});

const profile = () => `c${randomBytes(3).toString('hex')}`;

const send = (a: Hono<WebEnv>, path: string, body: unknown, headers: Record<string, string>) =>
  Promise.resolve(
    a.request(`${ORIGIN}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );
const post = (path: string, body: unknown, token = operatorToken) => send(app, path, body, web.bearer(token));
const get = (path: string, token = viewerToken, a: Hono<WebEnv> = app) =>
  Promise.resolve(a.request(`${ORIGIN}${path}`, { headers: web.bearer(token) }));

const auditOf = async (pred: (e: AuditEntry) => boolean): Promise<AuditEntry[]> =>
  (await web.stack.rt.audit.listDay(isoUtc(Date.now()).slice(0, 10), 500)).filter(pred);

/** Every command of a profile in the durable table (newest first). */
const stored = (p: string) => tradingControl(web.stack.rt).commandStore.recent(p, 100);

/** A KILLED record written as the gateway writes it (only the gateway writes risk-kill records). */
async function seedKilled(p: string, reason = 'seeded loss'): Promise<void> {
  const rec = applyKill(p, null, {
    trigger: 'max_daily_loss',
    reason,
    details: { baseline_balance: 1_000_000, balance: 990_000, max_daily_loss: 5_000 },
    at_ns: BigInt(Date.now() - 60_000) * 1_000_000n,
    by: 'gateway',
    fence: 3,
  });
  if (!rec) throw new Error('test setup: applyKill answered null for a fresh profile');
  expect(await tradingControl(web.stack.rt).riskKillStore.put(rec)).toBe(true);
}

describe('POST /api/gateway/command [operator]', () => {
  it('answers 202 and puts the command in DynamoDB, on the Redis stream and in the audit log', async () => {
    // Prepare
    const p = profile();

    // Act
    const res = await post('/api/gateway/command', {
      account_profile: p,
      type: 'flatten',
      params: { symbols: ['SHFE.cu2502', 'SHFE.au2506'] },
    });

    // Assess: the answer
    expect(res.status).toBe(202);
    const issued = (await res.json()) as CommandIssued;
    expect(issued).toEqual({
      command_id: expect.stringMatching(ULID),
      account_profile: p,
      type: 'flatten',
      issued_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      delivery: 'durable_and_stream',
      delivery_note: '',
    });
    // The durable sink: the envelope as the gateway reads it
    const item = await tradingControl(web.stack.rt).commandStore.get(p, issued.command_id);
    expect(item).toMatchObject({
      command_id: issued.command_id,
      type: 'flatten',
      account_profile: p,
      params: { symbols: ['SHFE.cu2502', 'SHFE.au2506'] },
      issued_by: operator.username,
      source: 'api',
    });
    // The fast sink: one stream entry whose `command` field is the same envelope
    const entries = await web.stack.rt.warm.xrange(`commands:${p}`);
    expect(entries).toHaveLength(1);
    const wire = JSON.parse(entries[0]?.fields.command ?? '{}') as Record<string, unknown>;
    expect(wire).toMatchObject({ command_id: issued.command_id, type: 'flatten', account_profile: p, source: 'api' });
    expect(wire.issued_at_ns).toBe(item?.issued_at_ns.toString());
    // The audit entry
    const audit = await auditOf((e) => e.action === 'gateway.command' && e.target === `gateway:${p}`);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      outcome: 'ok',
      actor: { type: 'token', name: operator.username },
      role: 'operator',
      after: { command_id: issued.command_id, type: 'flatten', source: 'api', delivery: 'durable_and_stream' },
    });
  });

  it('accepts a cookie session with the CSRF header, and refuses one without it (403 csrf_failed, nothing written)', async () => {
    // Prepare
    const p = profile();
    const body = { account_profile: p, type: 'cancel_all', params: {} };

    // Act
    const noCsrf = await send(app, '/api/gateway/command', body, { cookie: operatorSession.cookie, origin: ORIGIN });
    const written = await stored(p);
    const ok = await send(app, '/api/gateway/command', body, web.browserHeaders(operatorSession));

    // Assess
    expect(noCsrf.status).toBe(403);
    expect((await errorOf(noCsrf)).code).toBe('csrf_failed');
    expect(written).toEqual([]);
    expect(ok.status).toBe(202);
    expect(await ok.json()).toMatchObject({ account_profile: p, type: 'cancel_all' });
    expect((await stored(p)).map((c) => c.issued_by)).toEqual([operator.username]);
  });

  it.each([
    [
      'set_target with a fractional target',
      { type: 'set_target', params: { symbol: 'SHFE.cu2502', target: 1.5 } },
      'target',
    ],
    ['set_target without its symbol', { type: 'set_target', params: { target: 2 } }, 'symbol'],
    ['an unknown type', { type: 'launch_rockets', params: {} }, 'type'],
    ['an unknown param', { type: 'cancel_all', params: { force: true } }, 'force'],
    ['an unknown top-level field', { type: 'cancel_all', params: {}, argv: ['rm'] }, 'argv'],
    ['a bad execution symbol', { type: 'flatten', params: { symbols: ['KQ.m@SHFE.cu'] } }, 'symbols'],
    ['a non-hex diff_hash', { type: 'ack_reconciliation', params: { diff_hash: 'nothex!', note: 'n' } }, 'diff_hash'],
  ])('answers 400 validation_failed for %s, naming the field, and writes nothing', async (_what, over, field) => {
    // Prepare
    const p = profile();

    // Act
    const res = await post('/api/gateway/command', { account_profile: p, ...over });

    // Assess
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('validation_failed');
    expect(`${err.message} ${JSON.stringify(err.details.issues)}`).toContain(field);
    expect(await stored(p)).toEqual([]);
    expect(await web.stack.rt.warm.xrange(`commands:${p}`)).toEqual([]);
  });

  it('canonicalises the profile ("Main Acct" -> main_acct) in the answer, the table and the history query', async () => {
    // Act
    const res = await post('/api/gateway/command', { account_profile: 'Main Acct', type: 'disarm_live' });
    const issued = (await res.json()) as CommandIssued;
    const history = await get('/api/gateway/commands?account_profile=Main%20Acct');

    // Assess
    expect(res.status).toBe(202);
    expect(issued.account_profile).toBe('main_acct');
    expect(await tradingControl(web.stack.rt).commandStore.get('main_acct', issued.command_id)).toMatchObject({
      account_profile: 'main_acct',
      params: {},
    });
    expect((await web.stack.rt.warm.xrange('commands:main_acct')).length).toBeGreaterThanOrEqual(1);
    const body = (await history.json()) as CommandHistory;
    expect(body.account_profile).toBe('main_acct');
    expect(body.items.map((i) => i.command_id)).toContain(issued.command_id);
  });
});

describe('POST /api/trading/risk-kill [operator]', () => {
  it('refuses a viewer (acceptance 16): 403 forbidden, audited as denied, nothing written, the kill stays', async () => {
    // Prepare
    const p = profile();
    await seedKilled(p);

    // Act
    const res = await post(
      '/api/trading/risk-kill',
      { account_profile: p, action: 'reset', reason: 'let me' },
      viewerToken,
    );
    const cookie = await send(
      app,
      '/api/trading/risk-kill',
      { account_profile: p, action: 'reset', reason: 'let me' },
      web.browserHeaders(viewerSession),
    );
    const status = (await (await get(`/api/trading/risk-kill?account_profile=${p}`)).json()) as RiskKillStatus;

    // Assess
    for (const r of [res, cookie]) {
      expect(r.status).toBe(403);
      expect(await errorOf(r)).toMatchObject({ code: 'forbidden', details: { required_role: 'operator' } });
    }
    // Audited under the action the reset would have had (control-chain §9), next to the operators' resets.
    const denied = await auditOf(
      (e) => e.action === 'risk_kill.reset' && e.outcome === 'denied' && e.target === 'POST /api/trading/risk-kill',
    );
    expect(denied.filter((e) => e.role === 'viewer').length).toBeGreaterThanOrEqual(2);
    expect(denied[0]).toMatchObject({ reason: 'requires operator' });
    expect(await stored(p)).toEqual([]);
    expect(status).toMatchObject({ risk_kill_active: true, state: 'KILLED' });
  });

  it('sends kill and reset_risk_kill commands with the durable state as the audit before', async () => {
    // Prepare
    const p = profile();
    await seedKilled(p, 'daily loss breached');

    // Act
    const reset = await post('/api/trading/risk-kill', {
      account_profile: p,
      action: 'reset',
      reason: 'checked, flat',
    });
    const kill = await send(
      app,
      '/api/trading/risk-kill',
      { account_profile: p, action: 'kill', reason: 'panic button' },
      web.browserHeaders(operatorSession),
    );

    // Assess
    expect(reset.status).toBe(202);
    expect(kill.status).toBe(202);
    const r = (await reset.json()) as CommandIssued;
    const k = (await kill.json()) as CommandIssued;
    expect(r).toMatchObject({ type: 'reset_risk_kill', account_profile: p, delivery: 'durable_and_stream' });
    expect(k).toMatchObject({ type: 'kill', account_profile: p, delivery: 'durable_and_stream' });
    expect(await tradingControl(web.stack.rt).commandStore.get(p, r.command_id)).toMatchObject({
      params: { note: 'checked, flat' },
    });
    expect(await tradingControl(web.stack.rt).commandStore.get(p, k.command_id)).toMatchObject({
      params: { reason: 'panic button' },
    });
    const streamIds = (await web.stack.rt.warm.xrange(`commands:${p}`)).map(
      (e) => (JSON.parse(e.fields.command ?? '{}') as { command_id: string }).command_id,
    );
    expect(streamIds).toEqual([r.command_id, k.command_id]);
    const audit = await auditOf((e) => e.action.startsWith('risk_kill.') && e.target === `gateway:${p}`);
    const resetEntry = audit.find((e) => (e.after as { command_id?: string } | null)?.command_id === r.command_id);
    const killEntry = audit.find((e) => (e.after as { command_id?: string } | null)?.command_id === k.command_id);
    expect(killEntry).toMatchObject({ action: 'risk_kill.activate', after: { type: 'kill' } });
    expect(audit.filter((e) => e.action === 'gateway.command' && e.target === `gateway:${p}`)).toEqual([]);
    expect(resetEntry).toMatchObject({
      action: 'risk_kill.reset',
      outcome: 'ok',
      reason: 'checked, flat',
      before: { state: 'KILLED', revision: 1, trigger: 'max_daily_loss', reason: 'daily loss breached' },
      after: { type: 'reset_risk_kill', params: { note: 'checked, flat' } },
    });
    // Only the gateway writes the record: the API's commands leave it as it was.
    const status = (await (await get(`/api/trading/risk-kill?account_profile=${p}`)).json()) as RiskKillStatus;
    expect(status).toMatchObject({ state: 'KILLED', revision: 1 });
  });

  it.each([
    ['kill without a reason', { action: 'kill' }, 'reason'],
    ['kill with a blank reason', { action: 'kill', reason: '   ' }, 'reason'],
    ['an unknown action', { action: 'explode', reason: 'x' }, 'action'],
    ['an unknown field', { action: 'kill', reason: 'x', force: true }, 'force'],
  ])('answers 400 validation_failed for %s and writes nothing', async (_what, over, field) => {
    // Prepare
    const p = profile();

    // Act
    const res = await post('/api/trading/risk-kill', { account_profile: p, ...over });

    // Assess
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('validation_failed');
    expect(`${err.message} ${JSON.stringify(err.details.issues)}`).toContain(field);
    expect(await stored(p)).toEqual([]);
  });
});

describe('GET /api/gateway/commands [viewer]', () => {
  it('lists the newest first with no result reported, and clamps or refuses the limit', async () => {
    // Prepare
    const p = profile();
    const sent: CommandIssued[] = [];
    for (const body of [
      { type: 'cancel_all' },
      { type: 'set_target', params: { symbol: 'SHFE.cu2502', target: -3 } },
      { type: 'clear_target', params: { symbol: 'SHFE.cu2502' } },
    ]) {
      const res = await post('/api/gateway/command', { account_profile: p, ...body });
      expect(res.status).toBe(202);
      sent.push((await res.json()) as CommandIssued);
    }

    // Act
    const all = await get(`/api/gateway/commands?account_profile=${p}`);
    const huge = await get(`/api/gateway/commands?account_profile=${p}&limit=999999`);
    const zero = await get(`/api/gateway/commands?account_profile=${p}&limit=0`);
    const abc = await get(`/api/gateway/commands?account_profile=${p}&limit=abc`);
    const none = await get(`/api/gateway/commands?account_profile=${profile()}`);

    // Assess
    expect(all.status).toBe(200);
    const body = (await all.json()) as CommandHistory;
    expect(body).toMatchObject({ account_profile: p, limit: 50, results_source: 'none', state: 'ok', error: '' });
    expect(body.items.map((i) => i.command_id)).toEqual(sent.map((s) => s.command_id).reverse());
    expect(body.items[1]).toMatchObject({
      type: 'set_target',
      params: { symbol: 'SHFE.cu2502', target: -3 },
      issued_by: operator.username,
      source: 'api',
      result: null,
    });
    expect(body.items.every((i) => i.issued_at.endsWith('Z'))).toBe(true);
    expect(((await huge.json()) as CommandHistory).limit).toBe(200);
    const one = (await zero.json()) as CommandHistory;
    expect(one.limit).toBe(1);
    expect(one.items.map((i) => i.command_id)).toEqual([sent[2]?.command_id]);
    expect(abc.status).toBe(400);
    expect((await errorOf(abc)).code).toBe('validation_failed');
    expect(await none.json()).toMatchObject({ items: [], state: 'empty', next_cursor: null });
    expect(body.next_cursor).toBeNull();
  });

  it('pages older commands with a signed cursor bound to the profile, and refuses a tampered one', async () => {
    // Prepare
    const p = profile();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await post('/api/gateway/command', { account_profile: p, type: 'cancel_all' });
      ids.push(((await res.json()) as CommandIssued).command_id);
    }
    const page = async (q: string) => (await (await get(`/api/gateway/commands?${q}`)).json()) as CommandHistory;

    // Act
    const first = await page(`account_profile=${p}&limit=2`);
    const second = await page(`account_profile=${p}&limit=2&cursor=${first.next_cursor}`);
    const third = await page(`account_profile=${p}&limit=2&cursor=${second.next_cursor}`);
    const tampered = await get(`/api/gateway/commands?account_profile=${p}&cursor=${first.next_cursor}x`);
    const otherProfile = await get(`/api/gateway/commands?account_profile=${profile()}&cursor=${first.next_cursor}`);

    // Assess
    const newestFirst = [...ids].reverse();
    expect(first.items.map((i) => i.command_id)).toEqual(newestFirst.slice(0, 2));
    expect(second.items.map((i) => i.command_id)).toEqual(newestFirst.slice(2, 4));
    expect(third.items.map((i) => i.command_id)).toEqual(newestFirst.slice(4));
    expect(third.next_cursor).toBeNull();
    for (const r of [tampered, otherProfile]) {
      expect(r.status).toBe(400);
      expect((await errorOf(r)).code).toBe('invalid_cursor');
    }
  });
});

describe('GET /api/trading/risk-kill [viewer]', () => {
  it('answers ACTIVE without a record, and KILLED with trigger and reason once the gateway wrote one', async () => {
    // Prepare
    const p = profile();

    // Act
    const before = (await (await get(`/api/trading/risk-kill?account_profile=${p}`)).json()) as RiskKillStatus;
    await seedKilled(p, 'loss of 10000');
    const after = (await (
      await get(`/api/trading/risk-kill?account_profile=${p.toUpperCase()}`)
    ).json()) as RiskKillStatus;
    const bad = await get(`/api/trading/risk-kill?account_profile=${'x'.repeat(40)}`);

    // Assess
    expect(before).toMatchObject({
      account_profile: p,
      risk_kill_active: false,
      state: 'ACTIVE',
      revision: 0,
      trigger: null,
      source: 'dynamodb',
    });
    expect(after).toMatchObject({
      account_profile: p,
      risk_kill_active: true,
      state: 'KILLED',
      revision: 1,
      trigger: 'max_daily_loss',
      reason: 'loss of 10000',
      killed_by: 'gateway',
      killed_at: expect.stringMatching(/Z$/),
    });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe('validation_failed');
  });
});

describe('without the command service', () => {
  it('answers 503 dependency_unavailable on every route', async () => {
    // Act: the shared test app wires no command service
    const answers = await Promise.all([
      send(web.app, '/api/gateway/command', { account_profile: 'x', type: 'cancel_all' }, web.bearer(operatorToken)),
      send(
        web.app,
        '/api/trading/risk-kill',
        { account_profile: 'x', action: 'kill', reason: 'r' },
        web.bearer(operatorToken),
      ),
      get('/api/gateway/commands', viewerToken, web.app),
      get('/api/trading/risk-kill', viewerToken, web.app),
    ]);

    // Assess
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect((await errorOf(res)).code).toBe('dependency_unavailable');
    }
  });
});

describe('with Redis unreachable (acceptance 22)', () => {
  let down: WebTestStack;
  let downApp: Hono<WebEnv>;
  let token: string;

  beforeAll(async () => {
    // Nothing listens on this port: the warm path is degraded, DynamoDB is fine.
    down = await WebTestStack.create({ env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}` } });
    downApp = down.appWith({ commands: tradingControl(down.stack.rt).commands });
    token = await down.token(await down.createUser('operator'));
    await down.stack.rt.warm.probe();
  });

  afterAll(async () => {
    await down?.close();
  });

  it('still commands through DynamoDB, answering delivery durable_only', async () => {
    // Prepare
    const p = profile();
    expect(down.stack.rt.warm.status().degraded).toBe(true);

    // Act
    const kill = await send(
      downApp,
      '/api/trading/risk-kill',
      { account_profile: p, action: 'kill', reason: 'redis is down' },
      down.bearer(token),
    );
    const cmd = await send(
      downApp,
      '/api/gateway/command',
      { account_profile: p, type: 'cancel_all' },
      down.bearer(token),
    );

    // Assess
    for (const res of [kill, cmd]) {
      expect(res.status).toBe(202);
      const issued = (await res.json()) as CommandIssued;
      expect(issued.delivery).toBe('durable_only');
      expect(issued.delivery_note).toContain('the gateway polls DynamoDB');
      expect(await tradingControl(down.stack.rt).commandStore.get(p, issued.command_id)).toMatchObject({
        command_id: issued.command_id,
      });
    }
    const audit = (await down.stack.rt.audit.listDay(isoUtc(Date.now()).slice(0, 10), 100)).filter(
      (e) => e.target === `gateway:${p}`,
    );
    expect(audit.map((e) => [e.action, (e.after as { delivery: string }).delivery]).sort()).toEqual([
      ['gateway.command', 'durable_only'],
      ['risk_kill.activate', 'durable_only'],
    ]);
  });
});
