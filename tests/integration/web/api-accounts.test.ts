/**
 * `/api/accounts`, `/api/brokers` and `POST /api/accounts/{upsert, delete, {profile}/verify}` (control-chain §2, §3.2)
 * over a real per-file stack with the account service wired as `ghtrader up` wires it: roles (403 with
 * `details.required_role`, audited as denied), CSRF, JSON-only writes, 400 `validation_failed`, 409 `lock_held` while
 * the gateway's lease `trade:account=<p>` is held (taken through the real LockStore), verify answering like
 * `POST /api/jobs`, and the never-leaks check: after an upsert, list, verify (run against the real SHFE simulator) and
 * the System page, the password and the raw account id appear in no response, log line, audit entry, job param, job
 * result, job log or Redis (WS) message.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#colo/sim/server.ts';
import { isTerminal, type JobRecord } from '#shared/domain/control/jobs.ts';
import { simDiffConfig } from '#shared/infra/diff/config.ts';
import { accountSecretsDir } from '#shared/infra/local/secret-store.ts';
import { runtimeAccountJobHandlers } from '#shared/services/account-verify.ts';
import { CAL, startSim } from '../diff/support.ts';
import { waitFor } from '../support/stack.ts';
import { type BrowserSession, errorOf, ORIGIN, type TestUser, WebTestStack } from './support.ts';

/** The leak test's credentials: distinctive, so a grep for them cannot match anything else. */
const LEAK_ACCOUNT = `lk${randomBytes(5).toString('hex')}`;
const LEAK_PASSWORD = `Pw-${randomBytes(9).toString('hex')}-x`;
const LEAK_MASKED = `lk***${LEAK_ACCOUNT.slice(-2)}`;

let web: WebTestStack;
let sim: SimulatorHandle;
let admin: TestUser;
let adminSession: BrowserSession;
let operatorToken: string;
let viewerToken: string;
let adminToken: string;
let redis: Redis;
const redisMessages: string[] = [];
/** Every response body this file received, for the leak check. */
const responses: string[] = [];

async function call(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
  const res = method === 'GET' ? await web.request(path, { headers }) : await web.send(method, path, body, headers);
  responses.push(await res.clone().text());
  return res;
}

const asToken = (token: string) => web.bearer(token);
const profile = () => `p${randomBytes(3).toString('hex')}`;
const body = (p: string, over: Record<string, unknown> = {}) => ({
  profile: p,
  broker_id: 'ghsim',
  account_id: 'acct-00112233',
  password: 'pw-of-the-broker',
  ...over,
});
const today = () => new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  sim = await startSim({
    config: { accounts: [{ user_name: LEAK_ACCOUNT, password: LEAK_PASSWORD, initial_balance: 10_000_000 }] },
  });
  web = await WebTestStack.create({
    accounts: { simulatorBrokerId: sim.brokerId },
    captureRuntimeLog: true,
    env: {
      GHTRADER_TQ_ACCOUNT_PROFILES: 'Listed-One',
      TQ_BROKER_ID_ENVP: 'envbroker',
      TQ_ACCOUNT_ID_ENVP: 'envacct123456',
      TQ_ACCOUNT_PASSWORD_ENVP: 'env-pass-1',
      TQ_ACCOUNT_ID_PARTIAL: 'x1234567',
    },
  });
  const { rt, config } = web.stack;
  admin = await web.createUser('admin');
  adminSession = await web.login(admin);
  adminToken = await web.token(admin);
  operatorToken = await web.token(await web.createUser('operator'));
  viewerToken = await web.token(await web.createUser('viewer'));
  await rt.warm.settle(2_000);
  redis = new Redis(config.redis.url);
  redis.on('pmessage', (_pattern: string, channel: string, message: string) =>
    redisMessages.push(`${channel} ${message}`),
  );
  await redis.psubscribe(`${config.redis.prefix}*`);
  rt.addHandlers(
    runtimeAccountJobHandlers(rt, {
      diffConfig: () => simDiffConfig(sim, { GHTRADER_DIFF_BACKOFF_BASE_MS: '50' }),
      calendar: CAL,
      diffClientOptions: { httpRetryDelayMs: () => 20 },
    }),
  );
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await web?.close();
  await sim?.stop();
});

interface AccountItem {
  profile: string;
  configured: boolean;
  source: string;
  broker_id: string | null;
  account_id_masked: string | null;
  missing: string[];
  last_verify: unknown;
  gateway: { component_status: string };
  strategy: { component_status: string };
}

async function accounts(token = viewerToken): Promise<AccountItem[]> {
  const res = await call('GET', '/api/accounts', undefined, asToken(token));
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: AccountItem[] }).items;
}

describe('GET /api/accounts and /api/brokers [viewer]', () => {
  it('lists default first, then the listed, environment and stored profiles with where credentials come from', async () => {
    // Prepare
    const stored = profile();
    expect((await call('POST', '/api/accounts/upsert', body(stored), asToken(adminToken))).status).toBe(200);

    // Act
    const items = await accounts();

    // Assess
    expect(items[0]).toMatchObject({
      profile: 'default',
      configured: false,
      source: 'none',
      broker_id: null,
      account_id_masked: null,
      missing: ['TQ_BROKER_ID', 'TQ_ACCOUNT_ID', 'TQ_ACCOUNT_PASSWORD'],
      last_verify: null,
      gateway: { component_status: 'not_initialized' },
      strategy: { component_status: 'not_initialized' },
    });
    const by = new Map(items.map((i) => [i.profile, i]));
    expect(by.get('listed_one')).toMatchObject({ configured: false, source: 'none' });
    expect(by.get(stored)).toMatchObject({
      configured: true,
      source: 'secret_store',
      broker_id: 'ghsim',
      account_id_masked: 'ac***33',
    });
    // Profiles known only from the environment are not listed unless GHTRADER_TQ_ACCOUNT_PROFILES names them.
    expect(by.has('envp')).toBe(false);
  });

  it('names the brokers of configured accounts and the simulator’s default broker', async () => {
    // Prepare
    await call('POST', '/api/accounts/upsert', body(profile(), { broker_id: 'simnow' }), asToken(adminToken));

    // Act
    const res = await call('GET', '/api/brokers', undefined, asToken(viewerToken));

    // Assess
    expect(res.status).toBe(200);
    const items = ((await res.json()) as { items: { broker_id: string; source: string }[] }).items;
    expect(items).toEqual(
      expect.arrayContaining([
        { broker_id: 'ghsim', source: 'secret_store' },
        { broker_id: 'simnow', source: 'secret_store' },
      ]),
    );
    expect(items.filter((i) => i.broker_id === 'ghsim')).toHaveLength(1);
  });
});

describe('POST /api/accounts/upsert [admin]', () => {
  it('stores the secret and audits broker id, masked id and password_changed, never the password', async () => {
    // Prepare
    const p = profile();

    // Act
    const first = await call('POST', '/api/accounts/upsert', body(p), web.browserHeaders(adminSession));
    const same = await call('POST', '/api/accounts/upsert', body(p), web.browserHeaders(adminSession));
    const changed = await call(
      'POST',
      '/api/accounts/upsert',
      body(p, { password: 'a-new-password', account_id: 'acct-99887766' }),
      web.browserHeaders(adminSession),
    );

    // Assess
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      created: true,
      password_changed: true,
      account: {
        profile: p,
        configured: true,
        source: 'secret_store',
        broker_id: 'ghsim',
        account_id_masked: 'ac***33',
      },
    });
    expect(await same.json()).toMatchObject({ created: false, password_changed: false });
    expect(await changed.json()).toMatchObject({
      created: false,
      password_changed: true,
      account: { account_id_masked: 'ac***66' },
    });
    const entries = (await web.stack.rt.audit.listDay(today(), 500)).filter(
      (e) => e.action === 'account.upsert' && e.target === `account:${p}`,
    );
    expect(entries.map((e) => [e.outcome, e.before, e.after]).reverse()).toEqual([
      [
        'ok',
        null,
        { broker_id: 'ghsim', account_id_masked: 'ac***33', updated_at: expect.any(String), password_changed: true },
      ],
      [
        'ok',
        { broker_id: 'ghsim', account_id_masked: 'ac***33', updated_at: expect.any(String) },
        { broker_id: 'ghsim', account_id_masked: 'ac***33', updated_at: expect.any(String), password_changed: false },
      ],
      [
        'ok',
        { broker_id: 'ghsim', account_id_masked: 'ac***33', updated_at: expect.any(String) },
        { broker_id: 'ghsim', account_id_masked: 'ac***66', updated_at: expect.any(String), password_changed: true },
      ],
    ]);
    expect(entries[0]?.actor).toMatchObject({ type: 'user', id: admin.id, name: admin.username });
    expect(JSON.stringify(entries)).not.toContain('pw-of-the-broker');
  });

  it.each([
    ['a viewer', () => viewerToken],
    ['an operator', () => operatorToken],
  ])(
    'answers %s 403 forbidden with required_role admin on upsert and delete, audited as denied',
    async (_who, token) => {
      // Prepare
      const p = profile();

      // Act
      const upsert = await call('POST', '/api/accounts/upsert', body(p), asToken(token()));
      const del = await call('POST', '/api/accounts/delete', { profile: p }, asToken(token()));

      // Assess
      for (const res of [upsert, del]) {
        expect(res.status).toBe(403);
        expect(await errorOf(res)).toMatchObject({ code: 'forbidden', details: { required_role: 'admin' } });
      }
      const denied = (await web.stack.rt.audit.listDay(today(), 500)).filter(
        (e) => e.outcome === 'denied' && (e.action === 'account.upsert' || e.action === 'account.delete'),
      );
      expect(denied.map((e) => e.target)).toEqual(
        expect.arrayContaining(['POST /api/accounts/upsert', 'POST /api/accounts/delete']),
      );
      expect(await web.stack.rt.secrets?.describe(p)).toBeNull();
    },
  );

  it('answers a cookie write without the CSRF token 403 csrf_failed and stores nothing', async () => {
    // Prepare
    const p = profile();

    // Act
    const res = await call('POST', '/api/accounts/upsert', body(p), { cookie: adminSession.cookie, origin: ORIGIN });

    // Assess
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('csrf_failed');
    expect(await web.stack.rt.secrets?.describe(p)).toBeNull();
  });

  it('accepts JSON only: a form-encoded body is 415', async () => {
    // Act
    const res = await web.request('/api/accounts/upsert', {
      method: 'POST',
      headers: { ...asToken(adminToken), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'profile=x&broker_id=ghsim&account_id=a&password=secret-in-a-form',
    });

    // Assess
    expect(res.status).toBe(415);
    expect((await errorOf(res)).code).toBe('unsupported_media_type');
  });

  it.each([
    ['no password', { password: undefined }, 'password'],
    ['an empty password', { password: '' }, 'password'],
    ['a broker id with spaces', { broker_id: 'gh sim' }, 'broker_id'],
    ['an account id with a slash', { account_id: 'ab/cd' }, 'account_id'],
    ['a profile too long once canonical', { profile: 'x'.repeat(40) }, 'profile'],
    ['an unknown field', { secret_question: 'x' }, null],
  ])('answers %s 400 validation_failed naming the field, never echoing the password', async (_what, over, field) => {
    // Prepare
    const request = { ...body(profile(), { password: 'Echo-Me-Not-123' }), ...over };

    // Act
    const res = await call('POST', '/api/accounts/upsert', request, asToken(adminToken));

    // Assess
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('validation_failed');
    const paths = (err.details.issues as { path: unknown[] }[]).map((i) => i.path[0] ?? null);
    expect(paths).toContain(field);
    expect(JSON.stringify(err)).not.toContain('Echo-Me-Not-123');
  });

  it('answers malformed JSON 400 validation_failed', async () => {
    // Act
    const res = await web.request('/api/accounts/upsert', {
      method: 'POST',
      headers: { ...asToken(adminToken), 'content-type': 'application/json' },
      body: '{"profile": "x", "password": "half',
    });

    // Assess
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('validation_failed');
  });
});

describe('POST /api/accounts/delete [admin]', () => {
  it('answers 409 lock_held while the gateway holds trade:account=<p>, then deletes once the lease is gone', async () => {
    // Prepare
    const p = profile();
    await call('POST', '/api/accounts/upsert', body(p), asToken(adminToken));
    const locks = web.stack.rt.locks;
    const held = await locks.acquire(
      `trade:account=${p}`,
      { ownerId: 'gateway-of-test', host: 'colo-1', pid: 42 },
      30_000,
    );
    if (!held.ok) throw new Error('could not take the gateway lease');

    // Act
    const refused = await call('POST', '/api/accounts/delete', { profile: p }, web.browserHeaders(adminSession));
    const stillThere = await web.stack.rt.secrets?.describe(p);
    for (const lease of held.leases) await locks.release(lease);
    const deleted = await call('POST', '/api/accounts/delete', { profile: p }, web.browserHeaders(adminSession));
    const again = await call('POST', '/api/accounts/delete', { profile: p }, web.browserHeaders(adminSession));

    // Assess
    expect(refused.status).toBe(409);
    const err = await errorOf(refused);
    expect(err.code).toBe('lock_held');
    expect(err.details.conflicts).toEqual([
      { key: `trade:account=${p}`, owner: 'gateway-of-test', expires_at: expect.stringMatching(/Z$/) },
    ]);
    expect(stillThere).not.toBeNull();
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ profile: p, deleted: true });
    expect(again.status).toBe(404);
    expect((await errorOf(again)).code).toBe('not_found');
    const audit = (await web.stack.rt.audit.listDay(today(), 500)).filter((e) => e.target === `account:${p}`);
    expect(audit.filter((e) => e.action === 'account.delete').map((e) => [e.outcome, e.reason])).toEqual([
      ['ok', null],
      ['failed', 'lock_held'],
    ]);
  });

  it('answers 404 for a profile whose credentials come from the environment, saying where they are', async () => {
    // Act
    const res = await call('POST', '/api/accounts/delete', { profile: 'envp' }, asToken(adminToken));

    // Assess
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: 'not_found', details: { source: 'env' } });
  });
});

describe('POST /api/accounts/{profile}/verify [operator]', () => {
  it('submits account.verify like POST /api/jobs: 201 then 200 deduped, with only the profile in the params', async () => {
    // Prepare
    const p = profile();

    // Act
    const first = await call('POST', `/api/accounts/${p.toUpperCase()}/verify`, {}, asToken(operatorToken));
    const second = await call('POST', `/api/accounts/${p}/verify`, { timeout_s: 30 }, asToken(operatorToken));

    // Assess
    expect(first.status).toBe(201);
    const a = (await first.json()) as { job: JobRecord; deduped: boolean };
    expect(a.deduped).toBe(false);
    expect(a.job).toMatchObject({ kind: 'account.verify', params: { account_profile: p, timeout_s: 20 }, var: 'none' });
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ deduped: true, job: { job_id: a.job.job_id } });
    const actions = (await web.stack.rt.audit.listDay(today(), 500))
      .filter((e) => e.target === `account:${p}` || e.target === `job:${a.job.job_id}`)
      .map((e) => e.action);
    expect(actions.filter((x) => x === 'account.verify')).toHaveLength(2);
    expect(actions).toContain('job.submit');
  });

  it('answers a viewer 403 with required_role operator', async () => {
    // Act
    const res = await call('POST', '/api/accounts/default/verify', {}, asToken(viewerToken));

    // Assess
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: 'forbidden', details: { required_role: 'operator' } });
  });

  it('answers 409 lock_held while the gateway holds trade:account=<p>, and submits no job', async () => {
    // Prepare
    const p = profile();
    const locks = web.stack.rt.locks;
    const held = await locks.acquire(`trade:account=${p}`, { ownerId: 'gw', host: 'h', pid: 1 }, 30_000);
    if (!held.ok) throw new Error('could not take the gateway lease');
    const queued = (await web.stack.rt.jobs.counts()).queued;

    // Act
    const res = await call('POST', `/api/accounts/${p}/verify`, {}, asToken(operatorToken));
    for (const lease of held.leases) await locks.release(lease);

    // Assess
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({
      code: 'lock_held',
      details: { conflicts: [{ key: `trade:account=${p}`, owner: 'gw', expires_at: expect.any(String) }] },
    });
    expect((await web.stack.rt.jobs.counts()).queued).toBe(queued);
  });

  it('answers an unknown body field or a timeout above 60 s with 400', async () => {
    // Act
    const res = await call('POST', '/api/accounts/default/verify', { timeout_s: 61 }, asToken(operatorToken));

    // Assess
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('validation_failed');
  });
});

describe('the System page’s Broker accounts panel', () => {
  async function panelAs(role: 'viewer' | 'operator' | 'admin'): Promise<string> {
    const user = role === 'admin' ? admin : await web.createUser(role);
    const session = role === 'admin' ? adminSession : await web.login(user);
    const res = await web.request('/v/cu/system', { headers: { cookie: session.cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    const start = html.indexOf('id="accounts-panel"');
    expect(start).toBeGreaterThan(0);
    return html.slice(start, html.indexOf('</section>', start));
  }

  it('shows every role the table with icon and text, and renders only the actions the role may take', async () => {
    // Prepare
    const p = profile();
    await call('POST', '/api/accounts/upsert', body(p), asToken(adminToken));

    // Act
    const [viewer, operator, adminHtml] = [await panelAs('viewer'), await panelAs('operator'), await panelAs('admin')];

    // Assess
    for (const html of [viewer, operator, adminHtml]) {
      expect(html).toContain(`<code>${p}</code>`);
      expect(html).toContain('<span aria-hidden="true">✓</span> Configured (secret store)');
      expect(html).toContain('<code>ac***33</code>');
      expect(html).not.toContain('acct-00112233');
    }
    expect(viewer).not.toContain('verify-account');
    expect(viewer).not.toContain('delete-account');
    expect(viewer).not.toContain('id="account-form"');
    expect(operator).toContain(`class="verify-account" data-profile="${p}"`);
    expect(operator).not.toContain('delete-account');
    expect(operator).not.toContain('id="account-form"');
    expect(adminHtml).toContain(`data-profile="${p}"`);
    expect(adminHtml).toContain('delete-account');
    expect(adminHtml).toContain('id="account-form"');
  });

  it('labels every control of the admin form and asks the browser not to fill the password from memory', async () => {
    // Act
    const html = await panelAs('admin');

    // Assess
    const form = html.slice(html.indexOf('<form id="account-form"'), html.indexOf('</form>'));
    const ids = [...form.matchAll(/<input id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(['account-profile', 'account-broker', 'account-id', 'account-password']);
    for (const id of ids) expect(form).toContain(`<label for="${id}">`);
    expect(form).toMatch(
      /<input id="account-password" name="password" type="password"[^>]*autocomplete="new-password"/,
    );
    expect(form).toContain('<option value="ghsim"');
  });
});

describe('broker credentials never leak', () => {
  it('keeps the password and the raw account id out of every response, log, audit entry, job and WS message', async () => {
    // Prepare: an account on the simulator, and a runner for the verify job
    const p = profile();
    web.stack.startRunner();

    // Act
    const upsert = await call(
      'POST',
      '/api/accounts/upsert',
      { profile: p, broker_id: sim.brokerId, account_id: LEAK_ACCOUNT, password: LEAK_PASSWORD },
      web.browserHeaders(adminSession),
    );
    const submitted = await call('POST', `/api/accounts/${p}/verify`, {}, web.browserHeaders(adminSession));
    const { job } = (await submitted.json()) as { job: JobRecord };
    const done = await waitFor(
      async () => {
        const j = await web.stack.rt.jobs.get(job.job_id);
        return isTerminal(j.status) ? j : null;
      },
      45_000,
      'the verify job to end',
    );
    const listed = await accounts(adminToken);
    await call('GET', '/api/brokers', undefined, asToken(adminToken));
    const page = await call('GET', '/v/cu/system', undefined, { cookie: adminSession.cookie });
    await call('GET', `/api/jobs/${job.job_id}`, undefined, asToken(adminToken));
    const logTail = await web.stack.rt.jobs.logTail(job.job_id, {});
    // The WS feed is Redis pub/sub: give the last publishes a moment to arrive.
    await new Promise((r) => setTimeout(r, 500));
    const audit = await web.stack.rt.audit.listDay(today(), 500);

    // Assess: the flow really happened, with the account visible only masked …
    expect(upsert.status).toBe(200);
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ ok: true, account_id_masked: LEAK_MASKED, snapshot: { balance: 10_000_000 } });
    expect(listed.find((a) => a.profile === p)).toMatchObject({
      account_id_masked: LEAK_MASKED,
      last_verify: { ok: true, job_id: job.job_id },
    });
    expect(page.status).toBe(200);
    expect(responses.join('\n')).toContain(LEAK_MASKED);
    expect(redisMessages.length).toBeGreaterThan(0);
    // … and nowhere in clear
    const places: Record<string, string> = {
      responses: responses.join('\n'),
      logs: web.logLines.join('\n'),
      audit: JSON.stringify(audit),
      job: JSON.stringify(done),
      job_log: JSON.stringify(logTail),
      ws: redisMessages.join('\n'),
    };
    const secretsDir = accountSecretsDir(web.stack.config.home);
    for (const [where, text] of Object.entries(places)) {
      expect(text.includes(LEAK_PASSWORD), `password in ${where}`).toBe(false);
      expect(text.includes(LEAK_ACCOUNT), `account id in ${where}`).toBe(false);
      if (where !== 'logs') expect(text.includes(secretsDir), `secret file path in ${where}`).toBe(false);
    }
    expect(web.logLines.length).toBeGreaterThan(0);
  });
});
