import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, AuditInput } from '#shared/domain/control/audit.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { DynamoAuditLog } from '#shared/infra/aws/audit-log.ts';
import { type BrowserSession, errorOf, type TestUser, WebTestStack } from './support.ts';

interface AuditList {
  items: AuditEntry[];
  next_cursor: string | null;
  limit: number;
}

const KEY = 'GHTRADER_LOCK_WAIT_TIMEOUT_S';

let web: WebTestStack;
let admin: TestUser;
let operator: TestUser;
let adminSession: BrowserSession;
let operatorSession: BrowserSession;
let viewerSession: BrowserSession;
let operatorToken: string;
let jobId: string;

beforeAll(async () => {
  // In-bounds values for keys the shared test env sets outside the registry's bounds (see api-config.test.ts).
  web = await WebTestStack.create({
    env: { GHTRADER_JOBS_HEARTBEAT_S: '1', GHTRADER_JOBS_LEASE_S: '3', GHTRADER_LOG_LEVEL: 'error' },
  });
  admin = await web.createUser('admin');
  operator = await web.createUser('operator');
  adminSession = await web.login(admin);
  operatorSession = await web.login(operator);
  viewerSession = await web.login(await web.createUser('viewer'));
  operatorToken = await web.token(operator);

  // Audited actions: two config sets (admin), a denied config set (operator), a job submit (operator).
  for (const value of [61, 62]) {
    const res = await web.send(
      'POST',
      '/api/config/set',
      { values: { [KEY]: value } },
      web.browserHeaders(adminSession),
    );
    if (res.status !== 200) throw new Error(`config set: ${res.status} ${await res.text()}`);
  }
  const denied = await web.send(
    'POST',
    '/api/config/set',
    { values: { [KEY]: 63 } },
    web.browserHeaders(operatorSession),
  );
  if (denied.status !== 403) throw new Error(`operator config set: ${denied.status} ${await denied.text()}`);
  const job = await web.send('POST', '/api/jobs', { kind: 'system.selftest', params: {} }, web.bearer(operatorToken));
  if (job.status !== 201) throw new Error(`job submit: ${job.status} ${await job.text()}`);
  jobId = ((await job.json()) as { job: { job_id: string } }).job.job_id;
});

afterAll(async () => {
  await web?.close();
});

async function list(query = '', token = operatorToken): Promise<AuditList> {
  const res = await web.request(`/api/audit${query ? `?${query}` : ''}`, { headers: web.bearer(token) });
  if (res.status !== 200) throw new Error(`/api/audit?${query}: ${res.status} ${await res.text()}`);
  return (await res.json()) as AuditList;
}

function expectNewestFirst(items: AuditEntry[]): void {
  const keys = items.map((e) => `${e.ts}#${e.audit_id}`);
  expect(keys).toEqual([...keys].sort().reverse());
}

describe('GET /api/audit', () => {
  it('lists the audited actions newest first with actor, role and before/after', async () => {
    // Act
    const body = await list();

    // Assess
    expect(body.limit).toBe(100);
    expect(body.next_cursor).toBeNull();
    expectNewestFirst(body.items);
    const actions = body.items.map((e) => e.action);
    // Newest first: the job submit, then the denial, then the two sets (login and user.create entries are older).
    expect(actions.slice(0, 4)).toEqual(['job.submit', 'config.set', 'config.set', 'config.set']);
    const [submit, deniedSet, secondSet] = body.items;
    expect(submit).toMatchObject({ target: `job:${jobId}`, outcome: 'ok', role: 'operator' });
    expect(submit?.actor).toMatchObject({ type: 'token', name: operator.username });
    expect(deniedSet).toMatchObject({
      outcome: 'denied',
      role: 'operator',
      target: 'POST /api/config/set',
      actor: { type: 'user', id: operator.id, name: operator.username },
    });
    expect(secondSet).toMatchObject({
      outcome: 'ok',
      role: 'admin',
      actor: { type: 'user', id: admin.id, name: admin.username },
      before: { [KEY]: '61' },
      after: { [KEY]: '62' },
    });
    expect(secondSet?.request_id).toBeTruthy();
    expect(secondSet?.ip).toBe(web.ip);
    expect(body.items.filter((e) => e.action === 'user.create')).toHaveLength(3);
  });

  it('filters by exact action and by action prefix', async () => {
    // Act
    const exact = await list('action=config.set');
    const prefix = await list('action=config.');
    const star = await list('action=auth.*');

    // Assess
    expect(exact.items).toHaveLength(3);
    expect(exact.items.every((e) => e.action === 'config.set')).toBe(true);
    expect(exact.items.map((e) => e.outcome)).toEqual(['denied', 'ok', 'ok']);
    expect(prefix.items.map((e) => e.audit_id)).toEqual(exact.items.map((e) => e.audit_id));
    expect(star.items.length).toBeGreaterThanOrEqual(3);
    expect(star.items.every((e) => e.action.startsWith('auth.'))).toBe(true);
  });

  it('filters by actor through the actor index', async () => {
    // Act
    const body = await list(`actor=${encodeURIComponent(`user:${admin.id}`)}`);

    // Assess
    expect(body.items.length).toBeGreaterThanOrEqual(3);
    expect(body.items.every((e) => e.actor.type === 'user' && e.actor.id === admin.id)).toBe(true);
    expect(body.items.filter((e) => e.action === 'config.set')).toHaveLength(2);
    expect(body.items.some((e) => e.action === 'auth.login')).toBe(true);
    expectNewestFirst(body.items);
  });

  it('finds job actions under the same actor id as every other action (user id, or token id for a token)', async () => {
    const res = await web.send(
      'POST',
      '/api/jobs',
      { kind: 'system.sleep', params: { seconds: 1 } },
      web.browserHeaders(operatorSession),
    );
    expect(res.status).toBe(201);
    const sessionJob = ((await res.json()) as { job: { job_id: string } }).job.job_id;
    const byUser = await list(`actor=${encodeURIComponent(`user:${operator.id}`)}&action=job.submit`);
    expect(byUser.items.map((e) => e.target)).toEqual([`job:${sessionJob}`]);
    expect(byUser.items[0]?.actor).toEqual({ type: 'user', id: operator.id, name: operator.username });
    const tokenEntries = await list('action=job.submit&outcome=ok');
    const viaToken = tokenEntries.items.find((e) => e.target === `job:${jobId}`);
    expect(viaToken?.actor.type).toBe('token');
    expect(viaToken?.actor.id).toMatch(/^[a-z2-7]{10}$/);
    expect(viaToken?.actor.name).toBe(operator.username);
  });

  it('filters by outcome, target and time window, combined with the actor index', async () => {
    // Prepare
    const all = await list();
    const firstSet = all.items.filter((e) => e.action === 'config.set' && e.outcome === 'ok').at(-1);
    if (!firstSet) throw new Error('no config.set entry');

    // Act
    const denied = await list('outcome=denied');
    const byTarget = await list(`target=${encodeURIComponent(`job:${jobId}`)}`);
    const window = await list(`from=${firstSet.ts}&to=${firstSet.ts}`);
    const actorWindow = await list(
      `actor=${encodeURIComponent(`user:${admin.id}`)}&action=config.set&from=${firstSet.ts}&to=${firstSet.ts}`,
    );
    const future = await list('from=2099-01-01T00:00:00Z&to=2099-01-02T00:00:00Z');

    // Assess
    expect(denied.items.length).toBeGreaterThanOrEqual(1);
    expect(denied.items.every((e) => e.outcome === 'denied')).toBe(true);
    expect(denied.items.some((e) => e.actor.id === operator.id && e.action === 'config.set')).toBe(true);
    expect(byTarget.items.map((e) => e.action)).toEqual(['job.submit']);
    expect(window.items.map((e) => e.audit_id)).toContain(firstSet.audit_id);
    expect(window.items.every((e) => e.ts === firstSet.ts)).toBe(true);
    expect(actorWindow.items.map((e) => e.audit_id)).toEqual([firstSet.audit_id]);
    expect(future.items).toEqual([]);
    expect(future.next_cursor).toBeNull();
  });

  it.each([
    ['999999', 500],
    ['0', 1],
    ['-5', 1],
    ['2', 2],
  ])('clamps limit=%s to %i', async (limit, expected) => {
    // Act
    const body = await list(`limit=${limit}`);

    // Assess
    expect(body.limit).toBe(expected);
    expect(body.items.length).toBeLessThanOrEqual(expected);
    if (expected < 10) expect(body.next_cursor).not.toBeNull();
  });

  it.each([
    ['limit=abc', 'limit'],
    ['from=yesterday', 'from'],
    ['to=2025-01-01T00:00:00', 'to'],
    ['from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z', 'from'],
    ['from=2020-01-01T00:00:00Z&to=2025-01-01T00:00:00Z', 'from'],
    ['actor=nobody', 'actor'],
    ['outcome=maybe', 'outcome'],
    ['status=ok', ''],
  ])('answers 400 validation_failed for %s', async (query, path) => {
    // Act
    const res = await web.request(`/api/audit?${query}`, { headers: web.bearer(operatorToken) });

    // Assess
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('validation_failed');
    if (path) expect((err.details.issues as { path: unknown[] }[])[0]?.path).toEqual([path]);
  });

  it('pages with next_cursor through every entry without overlap or gaps, for day and actor listings', async () => {
    for (const filter of ['', `actor=${encodeURIComponent(`user:${admin.id}`)}&`, 'action=config.&']) {
      // Prepare
      const whole = await list(`${filter}limit=500`);

      // Act
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: AuditList = await list(`${filter}limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((e) => e.audit_id));
        cursor = page.next_cursor;
        pages++;
      } while (cursor && pages < 50);

      // Assess
      expect(new Set(seen).size, filter).toBe(seen.length);
      expect(seen, filter).toEqual(whole.items.map((e) => e.audit_id));
      expect(pages, filter).toBeGreaterThanOrEqual(2);
    }
  });

  it('answers 400 invalid_cursor for a tampered cursor and for a cursor reused with other filters', async () => {
    // Prepare
    const first = await list('limit=1');
    const cursor = first.next_cursor ?? '';
    const [body = '', mac = ''] = cursor.split('.');
    const flipped = `${body.slice(0, -2)}${body.at(-2) === 'A' ? 'B' : 'A'}${body.at(-1)}.${mac}`;

    // Act
    const tampered = await web.request(`/api/audit?limit=1&cursor=${encodeURIComponent(flipped)}`, {
      headers: web.bearer(operatorToken),
    });
    const garbage = await web.request('/api/audit?limit=1&cursor=not-a-cursor', { headers: web.bearer(operatorToken) });
    const otherFilters = await web.request(
      `/api/audit?limit=1&action=config.set&cursor=${encodeURIComponent(cursor)}`,
      {
        headers: web.bearer(operatorToken),
      },
    );
    const sameFilters = await web.request(`/api/audit?limit=1&cursor=${encodeURIComponent(cursor)}`, {
      headers: web.bearer(operatorToken),
    });

    // Assess
    expect(cursor).not.toBe('');
    for (const res of [tampered, garbage, otherFilters]) {
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe('invalid_cursor');
    }
    expect(sameFilters.status).toBe(200);
  });

  it('answers 403 forbidden to a viewer and 401 without credentials', async () => {
    // Act
    const viewer = await web.request('/api/audit', { headers: { cookie: viewerSession.cookie } });
    const anonymous = await web.request('/api/audit');

    // Assess
    expect(viewer.status).toBe(403);
    const err = await errorOf(viewer);
    expect(err.code).toBe('forbidden');
    expect(err.details.required_role).toBe('operator');
    expect(anonymous.status).toBe(401);
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    'answers 405 method_not_allowed to %s, even for an admin',
    async (method) => {
      // Prepare
      const before = (await list('limit=500')).items.length;

      // Act
      const res = await web.send(method, '/api/audit', { action: 'x' }, web.browserHeaders(adminSession));

      // Assess
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      const err = await errorOf(res);
      expect(err.code).toBe('method_not_allowed');
      expect(err.details).toMatchObject({ method, allowed: ['GET', 'HEAD'] });
      expect((await list('limit=500')).items.length).toBe(before);
    },
  );

  it('answers 401 to an anonymous write', async () => {
    // Act
    const res = await web.send('POST', '/api/audit', {});

    // Assess
    expect(res.status).toBe(401);
  });
});

describe('Audit page', () => {
  it('redirects /audit to /v/cu/audit', async () => {
    // Act
    const res = await web.request('/audit', { headers: { cookie: operatorSession.cookie } });

    // Assess
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/v/cu/audit');
  });

  it('renders the entries with filters, outcome text and expandable before/after for an operator', async () => {
    // Act
    const res = await web.request('/v/au/audit', { headers: { cookie: operatorSession.cookie } });

    // Assess
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<h1>Audit log</h1>');
    for (const name of ['actor', 'action', 'target', 'from', 'to', 'outcome']) expect(html).toContain(`name="${name}"`);
    expect(html).toContain('<th scope="col">Request id</th>');
    expect(html).toContain('<code>config.set</code>');
    expect(html).toContain(`job:${jobId}`);
    expect(html).toContain('<details><summary>Before / after');
    expect(html).toMatch(/data-outcome="denied"><span aria-hidden="true">⊘<\/span> Denied/);
    expect(html).toContain('href="/v/au/audit" aria-current="page"');
    // Sortable columns: buttons in the headers, the server's order (time, newest first) marked, each row keyed.
    expect(html).toContain(
      '<th scope="col" data-sort-key="time" aria-sort="descending"><button type="button" class="sort-button">Time</button></th>',
    );
    for (const key of ['actor', 'role', 'action', 'target', 'outcome']) {
      expect(html).toMatch(
        new RegExp(`<th scope="col" data-sort-key="${key}"><button type="button" class="sort-button">`),
      );
    }
    expect(html.match(/aria-sort=/g)).toHaveLength(1);
    expect(html).toMatch(/<tr data-audit-id="[^"]+" data-sort-time="[^"]+Z" data-sort-actor="[a-z]+:[^"]+"/);
  });

  it('applies filters from the query string and pages with cursor links', async () => {
    // Act
    const filtered = await (
      await web.request('/v/cu/audit?action=config.set&outcome=ok&limit=1', {
        headers: { cookie: operatorSession.cookie },
      })
    ).text();
    const next = /<a href="([^"]+)">Next page<\/a>/.exec(filtered)?.[1]?.replaceAll('&amp;', '&');
    const second = next ? await (await web.request(next, { headers: { cookie: operatorSession.cookie } })).text() : '';

    // Assess
    expect(filtered.match(/data-audit-id=/g)).toHaveLength(1);
    expect(filtered).not.toContain('data-outcome="denied"');
    expect(next).toMatch(/^\/v\/cu\/audit\?action=config.set&outcome=ok&limit=1&cursor=/);
    expect(second.match(/data-audit-id=/g)).toHaveLength(1);
    expect(second).toContain('First page');
    const ids = [filtered, second].map((h) => /data-audit-id="([^"]+)"/.exec(h)?.[1]);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('shows a refused filter on the page instead of failing it', async () => {
    // Act
    const res = await web.request('/v/cu/audit?from=not-a-time', { headers: { cookie: operatorSession.cookie } });

    // Assess
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="audit-error" role="alert"');
    expect(html).toContain('validation_failed');
  });

  it('answers the standard 403 page to a viewer and hides the nav link from them', async () => {
    // Act
    const res = await web.request('/v/cu/audit', { headers: { cookie: viewerSession.cookie } });
    const dashboard = await (
      await web.request('/v/cu/dashboard', { headers: { cookie: viewerSession.cookie } })
    ).text();
    const opDashboard = await (
      await web.request('/v/cu/dashboard', { headers: { cookie: operatorSession.cookie } })
    ).text();

    // Assess
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('forbidden');
    expect(dashboard).not.toContain('href="/v/cu/audit"');
    expect(opDashboard).toContain('href="/v/cu/audit"');
  });
});

describe('GET /api/audit over many day partitions', () => {
  const DAY_MS = 24 * 3600 * 1000;
  const seeded: AuditEntry[] = [];
  let from: string;
  let to: string;

  beforeAll(async () => {
    // Entries 30, 60 and 90 days back (outside the default 7-day window), appended through the production adapter
    // with a clock set to those instants; 12 unrelated entries on the newest of those days.
    const now = Date.now();
    const at = (daysAgo: number) =>
      new DynamoAuditLog(
        web.stack.rt.clients.doc,
        web.stack.config.tables.audit,
        { nowMs: () => now - daysAgo * DAY_MS },
        ulidGen,
      );
    const entry = (action: string): AuditInput => ({
      actor: { type: 'system', id: 'seed', name: 'seed' },
      role: 'admin',
      ip: null,
      user_agent: null,
      request_id: null,
      action,
      target: 'seed:1',
      outcome: 'ok',
      reason: null,
      before: null,
      after: { n: 1 },
    });
    for (const daysAgo of [90, 60, 30]) seeded.unshift(await at(daysAgo).append(entry('seed.kept')));
    for (let i = 0; i < 12; i++) await at(30).append(entry('seed.noise'));
    from = new Date(now - 95 * DAY_MS).toISOString();
    to = new Date(now - 25 * DAY_MS).toISOString();
  });

  async function pageAll(query: string): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: AuditList = await list(`${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      ids.push(...page.items.map((e) => e.audit_id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 100);
    return { ids, pages };
  }

  it('walks the day partitions back from `to` to `from`, a bounded number of days per call', async () => {
    // Act
    const r = await pageAll(`action=seed.kept&from=${from}&to=${to}&limit=500`);

    // Assess
    expect(r.ids).toEqual(seeded.map((e) => e.audit_id));
    // 71 days at most 31 per call: the window needs several calls even though everything fits one page.
    expect(r.pages).toBeGreaterThanOrEqual(3);
  });

  it('keeps each call within 5 × limit reads when a filter skips many entries, without losing any', async () => {
    // Act
    const r = await pageAll(`action=seed.kept&from=${from}&to=${to}&limit=1`);
    const noise = await list(`action=seed.noise&from=${from}&to=${to}`);

    // Assess
    expect(r.ids).toEqual(seeded.map((e) => e.audit_id));
    expect(r.pages).toBeGreaterThan(3);
    expect(noise.items).toHaveLength(12);
  });

  it('leaves entries older than the default 7 days out of an unbounded listing', async () => {
    // Act
    const body = await list('action=seed.');

    // Assess
    expect(body.items).toEqual([]);
  });
});
