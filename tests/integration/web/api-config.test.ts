import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '#shared/domain/control/audit.ts';
import type { ConfigRevision, EffectiveItem } from '#shared/domain/control/config.ts';
import { isoUtc } from '#shared/domain/time.ts';
import type { HistoryItem, WriteResult } from '#shared/services/config-service.ts';
import { type BrowserSession, errorOf, ORIGIN, type TestUser, WebTestStack } from './support.ts';

let web: WebTestStack;
let admin: TestUser;
let adminToken: string;
let operatorToken: string;
let viewerToken: string;
let adminSession: BrowserSession;
let viewerSession: BrowserSession;

beforeAll(async () => {
  // Acceptance 5: an env value for a managed key, later shadowed by a stored revision.
  // The shared test env holds two values the registry refuses (FAST_JOB_ENV's heartbeat 0.2 s is below [1..60]; the
  // global setup's log level `silent` is not one of debug, info, warn, error), and an env value the resolver refuses
  // makes every effective view covering it fail. This stack runs no jobs, so it uses in-bounds values.
  web = await WebTestStack.create({
    env: {
      GHTRADER_MAIN_L5_TOTAL_WORKERS: '7',
      GHTRADER_JOBS_HEARTBEAT_S: '1',
      GHTRADER_JOBS_LEASE_S: '3',
      GHTRADER_LOG_LEVEL: 'error',
    },
  });
  admin = await web.createUser('admin');
  adminToken = await web.token(admin);
  adminSession = await web.login(admin);
  operatorToken = await web.token(await web.createUser('operator'));
  const viewer = await web.createUser('viewer');
  viewerToken = await web.token(viewer);
  viewerSession = await web.login(viewer);
});

afterAll(async () => {
  await web?.close();
});

/** The head revision as the store holds it (the Config table is shared by every test in this file). */
const headRevision = async () => (await web.stack.rt.configService.head()).revision;

const setAsAdmin = (body: unknown) => web.send('POST', '/api/config/set', body, web.bearer(adminToken));

async function getJson<T>(path: string, token = viewerToken): Promise<T> {
  const res = await web.request(path, { headers: web.bearer(token) });
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function effectiveItem(key: string, query = ''): Promise<EffectiveItem | undefined> {
  const view = await getJson<{ items: EffectiveItem[] }>(`/api/config/effective?prefix=${key}${query}`);
  return view.items.find((i) => i.key === key);
}

async function auditFor(target: string): Promise<AuditEntry | undefined> {
  const entries = await web.stack.rt.audit.listDay(isoUtc(Date.now()).slice(0, 10), 500);
  return entries.find((e) => e.target === target);
}

describe('POST /api/config/set key rules (acceptance 2)', () => {
  it.each([
    ['GHTRADER_QUESTDB_PG_PASSWORD', 'x', 'env_only'],
    ['GHTRADER_NOT_A_KEY', '1', 'unmanaged'],
    ['GHTRADER_LOCK_FORCE_CANCEL_ON_TIMEOUT', 'true', 'unmanaged'],
  ])('refuses %s with 400 config_key_not_writable (%s -> %s) and writes nothing', async (key, value, why) => {
    // Prepare
    const before = await headRevision();

    // Act
    const res = await setAsAdmin({ values: { [key]: value } });

    // Assess
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('config_key_not_writable');
    expect(err.message).toBe(`config_key_not_writable:${key}:${why}`);
    expect(err.details).toMatchObject({ key, why });
    expect(await headRevision()).toBe(before);
  });

  it('answers 400 validation_failed naming the key for an out-of-bounds value', async () => {
    // Prepare
    const before = await headRevision();

    // Act
    const res = await setAsAdmin({ values: { GHTRADER_L5_VALIDATE_STRICT_RATIO: 1.3 } });

    // Assess
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('validation_failed');
    expect(err.message).toContain('GHTRADER_L5_VALIDATE_STRICT_RATIO');
    expect((err.details.issues as { path: unknown[] }[])[0]?.path).toEqual([
      'values',
      'GHTRADER_L5_VALIDATE_STRICT_RATIO',
    ]);
    expect(await headRevision()).toBe(before);
  });

  it.each([
    ['an out-of-bounds value', { GHTRADER_LOCK_WAIT_TIMEOUT_S: 60, GHTRADER_L5_VALIDATE_STRICT_RATIO: '1.3' }],
    ['an unmanaged key', { GHTRADER_LOCK_WAIT_TIMEOUT_S: 60, GHTRADER_NOT_A_KEY: '1' }],
    ['an env-only key', { GHTRADER_LOCK_WAIT_TIMEOUT_S: 60, GHTRADER_QUESTDB_PG_PASSWORD: 'x' }],
  ])('writes nothing for a batch with one good key and %s', async (_what, values) => {
    // Prepare
    const before = await headRevision();

    // Act
    const res = await setAsAdmin({ values });

    // Assess
    expect(res.status).toBe(400);
    expect(await headRevision()).toBe(before);
    expect((await effectiveItem('GHTRADER_LOCK_WAIT_TIMEOUT_S'))?.source).toBe('default');
  });

  it.each([
    ['malformed JSON', '{"values":'],
    ['an empty values object', JSON.stringify({ values: {} })],
    ['an unknown field', JSON.stringify({ values: { GHTRADER_LOCK_WAIT_TIMEOUT_S: 60 }, force: true })],
  ])('answers 400 validation_failed for %s', async (_what, body) => {
    // Act
    const res = await web.request('/api/config/set', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...web.bearer(adminToken) },
      body,
    });

    // Assess
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('validation_failed');
  });
});

describe('set, rollback and history (acceptance 3)', () => {
  it('rolls 3 -> 5 back to 3 as a new revision with rollback_to, the same hash, and an audited before/after', async () => {
    // Prepare
    const key = 'GHTRADER_MAX_PARALLEL_TQSDK_JOBS';
    const first = await setAsAdmin({ values: { [key]: 3 }, reason: 'test three' });
    const a = (await first.json()) as WriteResult;
    const b = (await (await setAsAdmin({ values: { [key]: '5' } })).json()) as WriteResult;

    // Act
    const res = await web.send('POST', '/api/config/rollback', { revision: a.revision }, web.bearer(adminToken));

    // Assess
    expect(first.status).toBe(200);
    expect(a).toMatchObject({ changed: true, changed_keys: [key] });
    expect(b).toMatchObject({ changed: true, revision: a.revision + 1 });
    expect(res.status).toBe(200);
    const c = (await res.json()) as WriteResult;
    expect(c).toMatchObject({ revision: b.revision + 1, rollback_to: a.revision, changed: true, changed_keys: [key] });
    expect(c.config_hash).toBe(a.config_hash);

    const rev = await getJson<ConfigRevision>(`/api/config/revisions/${c.revision}`);
    expect(rev).toMatchObject({
      revision: c.revision,
      action: 'rollback',
      rollback_to: a.revision,
      reason: `rollback_to:${a.revision}`,
      config_hash: a.config_hash,
      changes: [{ key, before: '5', after: '3' }],
    });
    expect(rev.snapshot[key]).toBe('3');
    expect(rev.actor.name).toBe(admin.username);

    const history = await getJson<{ items: HistoryItem[] }>('/api/config/history?limit=10');
    const revs = history.items.map((i) => i.revision);
    expect(revs.slice(0, 3)).toEqual([c.revision, b.revision, a.revision]);
    expect(history.items[0]).toMatchObject({ action: 'rollback', rollback_to: a.revision });
    expect(history.items[1]).toMatchObject({ action: 'set', reason: 'api_set', changed_keys: [key] });
    expect(history.items[2]).toMatchObject({ action: 'set', reason: 'test three' });

    const audit = await auditFor(`config:${c.revision}`);
    expect(audit).toMatchObject({
      action: 'config.rollback',
      outcome: 'ok',
      before: { [key]: '5' },
      after: { [key]: '3' },
    });
    expect((await auditFor(`config:${a.revision}`))?.action).toBe('config.set');
  });

  it('returns the head with changed:false for an unchanged value and writes no revision', async () => {
    // Prepare
    await setAsAdmin({ values: { GHTRADER_PROGRESS_EVERY_N: 30 } });
    const before = await web.stack.rt.configService.head();

    // Act
    const res = await setAsAdmin({ values: { GHTRADER_PROGRESS_EVERY_N: '30' } });

    // Assess
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      revision: before.revision,
      config_hash: before.config_hash,
      changed_keys: [],
      changed: false,
    });
    expect(await headRevision()).toBe(before.revision);
  });

  it('removes a stored key with null, and answers 404 for a rollback to an unknown revision', async () => {
    // Prepare
    await setAsAdmin({ values: { GHTRADER_PROGRESS_EVERY_S: 20 } });
    const before = await headRevision();

    // Act
    const removed = await setAsAdmin({ values: { GHTRADER_PROGRESS_EVERY_S: null } });
    const unknown = await web.send('POST', '/api/config/rollback', { revision: 999_999 }, web.bearer(adminToken));

    // Assess
    expect(removed.status).toBe(200);
    expect(((await removed.json()) as WriteResult).revision).toBe(before + 1);
    expect((await effectiveItem('GHTRADER_PROGRESS_EVERY_S'))?.source).toBe('default');
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe('not_found');
    expect(await headRevision()).toBe(before + 1);
  });
});

describe('optimistic concurrency (acceptance 4)', () => {
  it('lets one of two writers with the same expected_revision win and answers the other 409', async () => {
    // Prepare
    const head = await headRevision();

    // Act
    const results = await Promise.all([
      setAsAdmin({ values: { GHTRADER_LOCK_POLL_INTERVAL_S: 2 }, expected_revision: head }),
      setAsAdmin({ values: { GHTRADER_SUPERVISOR_POLL_S: 3 }, expected_revision: head }),
    ]);

    // Assess
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const loser = results.find((r) => r.status === 409) as Response;
    const err = await errorOf(loser);
    expect(err.code).toBe('config_revision_conflict');
    expect(err.details.expected_revision).toBe(head);
    expect(await headRevision()).toBe(head + 1);
  });

  it('lands both writers without expected_revision, each on its own revision', async () => {
    // Prepare
    const head = await headRevision();

    // Act
    const results = await Promise.all([
      setAsAdmin({ values: { GHTRADER_SLO_QUEUE_WARN: 60 } }),
      setAsAdmin({ values: { GHTRADER_SLO_QUEUE_AGE_WARN_S: 120 } }),
    ]);

    // Assess
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    const revs = (await Promise.all(results.map(async (r) => ((await r.json()) as WriteResult).revision))).sort(
      (x, y) => x - y,
    );
    expect(revs).toEqual([head + 1, head + 2]);
    const newest = await web.stack.rt.configService.head();
    expect(newest.snapshot).toMatchObject({ GHTRADER_SLO_QUEUE_WARN: '60', GHTRADER_SLO_QUEUE_AGE_WARN_S: '120' });
  });
});

describe('effective view and sources (acceptance 5)', () => {
  it('reports env, then config with env_shadowed after a set, and default for an untouched key', async () => {
    // Prepare
    const key = 'GHTRADER_MAIN_L5_TOTAL_WORKERS';
    const fromEnv = await effectiveItem(key);

    // Act
    const res = await setAsAdmin({ values: { [key]: 13 } });
    const written = (await res.json()) as WriteResult;
    const rev = written.revision;
    const fromConfig = await effectiveItem(key);

    // Assess
    expect(fromEnv).toMatchObject({ value: 7, source: `env:${key}`, env_shadowed: false, type: 'int', default: 0 });
    expect(fromConfig).toMatchObject({ value: 13, source: `config:${key}@${rev}`, env_shadowed: true });
    expect(await effectiveItem('GHTRADER_MAIN_L5_SEGMENT_WORKERS')).toMatchObject({ value: 0, source: 'default' });
    // The spec registers this key, but main_l5's fan-out is bounded by another: the write and the view both say so.
    expect(fromConfig?.unused).toContain('GHTRADER_MAIN_L5_MAX_CONCURRENCY');
    expect(written.unused_keys).toEqual([{ key, reason: fromConfig?.unused }]);
  });

  it('resolves a variety override for that variety only', async () => {
    // Prepare
    const key = 'GHTRADER_L5_VALIDATE_STRICT_RATIO';
    await setAsAdmin({ values: { [`${key}_AU`]: 0.25 } });

    // Act
    const au = await effectiveItem(key, '&var=au');
    const cu = await effectiveItem(key, '&var=cu');

    // Assess
    expect(au).toMatchObject({ value: 0.25, source: expect.stringMatching(new RegExp(`^config:${key}_AU@\\d+$`)) });
    expect(cu?.source).not.toContain(`${key}_AU`);
  });

  it('lists the registry for a viewer and refuses a bad var with 400', async () => {
    // Act
    const schema = await getJson<{ items: { key: string; expected: string; apply: string }[] }>('/api/config/schema');
    const effective = await getJson<{ revision: number; config_hash: string; items: EffectiveItem[] }>(
      '/api/config/effective?var=ag',
    );
    const bad = await web.request('/api/config/effective?var=ni', { headers: web.bearer(viewerToken) });

    // Assess
    const lease = schema.items.find((i) => i.key === 'GHTRADER_JOBS_LEASE_S');
    expect(lease).toMatchObject({ apply: 'restart' });
    expect(lease).not.toHaveProperty('unused');
    expect(schema.items.find((i) => i.key === 'GHTRADER_QDB_CONN_RESERVE')).toMatchObject({
      unused: expect.stringContaining('HTTP only'),
    });
    expect(schema.items.some((i) => i.key === 'GHTRADER_QUESTDB_PG_PASSWORD')).toBe(false);
    expect(effective.revision).toBe(await headRevision());
    expect(effective.config_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(effective.items.length).toBe(schema.items.length);
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe('validation_failed');
  });
});

describe('roles and CSRF (acceptance 16)', () => {
  it.each([
    ['set', '/api/config/set', { values: { GHTRADER_LOG_LEVEL: 'debug' } }],
    ['rollback', '/api/config/rollback', { revision: 1 }],
  ])("refuses an operator's %s with 403 forbidden and audits the denial", async (action, path, body) => {
    // Prepare
    const before = await headRevision();

    // Act
    const res = await web.send('POST', path, body, web.bearer(operatorToken));

    // Assess
    expect(res.status).toBe(403);
    const err = await errorOf(res);
    expect(err.code).toBe('forbidden');
    expect(err.details.required_role).toBe('admin');
    expect(await headRevision()).toBe(before);
    const entries = await web.stack.rt.audit.listDay(isoUtc(Date.now()).slice(0, 10), 500);
    expect(
      entries.some((e) => e.action === `config.${action}` && e.outcome === 'denied' && e.role === 'operator'),
    ).toBe(true);
  });

  it('answers 401 without credentials', async () => {
    // Act
    const res = await web.request('/api/config/effective');

    // Assess
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe('unauthenticated');
  });

  it('refuses a cookie write without x-csrf-token (403 csrf_failed) and accepts it with the token', async () => {
    // Prepare
    const before = await headRevision();
    const body = { values: { GHTRADER_LOG_LEVEL: 'warn' }, reason: 'ui_update' };

    // Act
    const refused = await web.send('POST', '/api/config/set', body, { cookie: adminSession.cookie, origin: ORIGIN });
    const headAfterRefusal = await headRevision();
    const accepted = await web.send('POST', '/api/config/set', body, web.browserHeaders(adminSession));

    // Assess
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).code).toBe('csrf_failed');
    expect(headAfterRefusal).toBe(before);
    expect(accepted.status).toBe(200);
    const history = await getJson<{ items: HistoryItem[] }>('/api/config/history?limit=1');
    expect(history.items[0]).toMatchObject({
      revision: before + 1,
      reason: 'ui_update',
      actor: { type: 'user', name: admin.username },
    });
  });
});

describe('GET /api/config/history and /revisions/{n} (acceptance 14)', () => {
  it('clamps limit 999999 to 500 and 0 to 1; a non-numeric limit is 400', async () => {
    // Act
    const big = await getJson<{ limit: number; items: HistoryItem[] }>('/api/config/history?limit=999999');
    const zero = await getJson<{ limit: number; items: HistoryItem[] }>('/api/config/history?limit=0');
    const abc = await web.request('/api/config/history?limit=abc', { headers: web.bearer(viewerToken) });

    // Assess
    expect(big.limit).toBe(500);
    expect(big.items.length).toBe(await headRevision());
    expect(zero.limit).toBe(1);
    expect(zero.items.length).toBe(1);
    expect(abc.status).toBe(400);
    expect((await errorOf(abc)).code).toBe('validation_failed');
  });

  it('pages with a signed cursor and answers 400 invalid_cursor when it is tampered with', async () => {
    // Prepare
    const head = await headRevision();
    const page1 = await getJson<{ items: HistoryItem[]; next_cursor: string }>('/api/config/history?limit=1');
    const cursor = page1.next_cursor;
    const tampered = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;

    // Act
    const page2 = await getJson<{ items: HistoryItem[] }>(
      `/api/config/history?limit=1&cursor=${encodeURIComponent(cursor)}`,
    );
    const bad = await web.request(`/api/config/history?limit=1&cursor=${encodeURIComponent(tampered)}`, {
      headers: web.bearer(viewerToken),
    });

    // Assess
    expect(page1.items[0]?.revision).toBe(head);
    expect(page2.items[0]?.revision).toBe(head - 1);
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe('invalid_cursor');
  });

  it('reads revision 1 (the baseline), 404s an unknown revision and 400s a non-integer one', async () => {
    // Act
    const baseline = await getJson<ConfigRevision>('/api/config/revisions/1');
    const unknown = await web.request('/api/config/revisions/999999', { headers: web.bearer(viewerToken) });
    const huge = await web.request('/api/config/revisions/99999999999', { headers: web.bearer(viewerToken) });
    const bad = await Promise.all(
      ['abc', '0', '1.5', '-1'].map((n) =>
        web.request(`/api/config/revisions/${n}`, { headers: web.bearer(viewerToken) }),
      ),
    );

    // Assess
    expect(baseline).toMatchObject({ revision: 1, action: 'baseline', snapshot: {}, changes: [] });
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe('not_found');
    expect(huge.status).toBe(404);
    for (const res of bad) {
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe('validation_failed');
    }
  });
});

describe('Config page', () => {
  function pageData(html: string): Record<string, unknown> {
    const m = /<script type="application\/json" id="page-data">([\s\S]*?)<\/script>/.exec(html);
    if (!m?.[1]) throw new Error('no page-data block');
    return JSON.parse(m[1]) as Record<string, unknown>;
  }

  it.each(['cu', 'au', 'ag'])(
    'renders /v/%s/config for a viewer with values and sources, without admin actions',
    async (v) => {
      // Prepare
      await setAsAdmin({ values: { GHTRADER_LOCK_WAIT_TIMEOUT_S: 90 } });
      const head = await headRevision();

      // Act
      const res = await web.request(`/v/${v}/config`, { headers: { cookie: viewerSession.cookie } });

      // Assess
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<code>GHTRADER_LOCK_WAIT_TIMEOUT_S</code>');
      expect(html).toContain(`GHTRADER_LOCK_WAIT_TIMEOUT_S@${head}`);
      expect(html).toContain('id="config-history"');
      expect(html).not.toContain('id="config-set-form"');
      expect(html).not.toContain('config-rollback');
      expect(pageData(html)).toMatchObject({ page: 'config', head_revision: head, can_admin: false, variety: v });
    },
  );

  it('shows the edit form, rollback buttons and flags to an admin', async () => {
    // Act
    const html = await (await web.request('/v/cu/config', { headers: { cookie: adminSession.cookie } })).text();

    // Assess
    expect(html).toContain('id="config-set-form"');
    expect(html).toContain('<label for="config-set-key">');
    expect(html).toContain('<label for="config-set-value">');
    expect(html).toContain('<label for="config-set-reason">');
    expect(html).toContain('class="config-rollback danger"');
    expect(html).toContain('data-flag="env_shadowed"');
    expect(html).toMatch(/data-flag="unused">[\s\S]*?Not read yet: the QuestDB adapter speaks HTTP only/);
    expect(html).not.toContain('<script>');
    const data = pageData(html);
    expect(data.can_admin).toBe(true);
    expect((data.expected as Record<string, string>).GHTRADER_MAX_PARALLEL_TQSDK_JOBS).toContain('an integer');
    expect((data.expected as Record<string, string>).GHTRADER_QDB_CONN_RESERVE).toContain('; not read yet: ');
  });

  it('shows a per-key diff of two revisions and an error for an unknown one', async () => {
    // Prepare
    const a = (await (await setAsAdmin({ values: { GHTRADER_PROGRESS_EVERY_N: 41 } })).json()) as WriteResult;
    const b = (await (await setAsAdmin({ values: { GHTRADER_PROGRESS_EVERY_N: 42 } })).json()) as WriteResult;

    // Act
    const ok = await web.request(`/v/au/config?from=${a.revision}&to=${b.revision}`, {
      headers: { cookie: viewerSession.cookie },
    });
    const unknown = await web.request(`/v/au/config?from=1&to=999999`, { headers: { cookie: viewerSession.cookie } });

    // Assess
    expect(ok.status).toBe(200);
    const html = await ok.text();
    const diff = /<table id="config-diff">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    expect(diff).toContain('<code>GHTRADER_PROGRESS_EVERY_N</code>');
    expect(diff).toContain('<code>41</code>');
    expect(diff).toContain('<code>42</code>');
    expect(diff).toContain('changed');
    expect(unknown.status).toBe(200);
    expect(await unknown.text()).toContain('id="config-diff-error"');
  });

  it('filters the effective values by a key prefix (case-insensitive)', async () => {
    // Act
    const html = await (
      await web.request('/v/cu/config?prefix=ghtrader_lock_', { headers: { cookie: viewerSession.cookie } })
    ).text();

    // Assess
    const table = /<table id="config-effective">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    expect(table).toContain('<code>GHTRADER_LOCK_WAIT_TIMEOUT_S</code>');
    expect(table).not.toContain('<code>GHTRADER_LOG_LEVEL</code>');
    expect(html).toContain('value="GHTRADER_LOCK_"');
  });
});

describe('Config page with an env value the registry refuses', () => {
  let plain: WebTestStack;

  beforeAll(async () => {
    // The shared test env as it is (FAST_JOB_ENV heartbeat 0.2 s, log level `silent`).
    plain = await WebTestStack.create();
  });

  afterAll(async () => {
    await plain?.close();
  });

  it('still renders 200 with the head, the history and the edit form', async () => {
    // Prepare
    const session = await plain.login(await plain.createUser('admin'));

    // Act
    const res = await plain.request('/v/cu/config', { headers: { cookie: session.cookie } });

    // Assess
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="config-history"');
    expect(html).toContain('id="config-set-form"');
    expect(html).toMatch(/id="config-effective(-error)?"/);
    expect(html).toContain('GHTRADER_JOBS_HEARTBEAT_S');
  });
});
