/**
 * The SQL explorer over HTTP (control-chain §3.2, §8, acceptance 14 and 27) on the real web test stack with a real
 * DuckDB tick store (no mocks): an operator's SELECT, a viewer's 403, the guard's refusals (400 `query_not_allowed`),
 * the statement timeout (400 `query_timeout`), the row limit clamped to 1 … min(500, `GHTRADER_EXPLORER_MAX_ROWS`)
 * with `truncated`, the `explorer.query` audit entries, the catalog, a console without a tick store, and the page.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '#shared/domain/control/audit.ts';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import type { TickStore } from '#shared/domain/data/tick-store.ts';
import { isoUtc } from '#shared/domain/time.ts';
import { LocalArtifactStore } from '#shared/infra/artifacts/local.ts';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { systemCaller } from '#shared/services/auth-service.ts';
import { loadDataCalendar } from '#shared/services/data/context.ts';
import { makeDay } from '../tickstore/fixtures.ts';
import { type BrowserSession, errorOf, type TestUser, WebTestStack } from './support.ts';

const T = TABLES.ticksMainL5.name;
const CU = 'KQ.m@SHFE.cu';
const ROWS = 1200;
const TIMEOUT_MS = 500;

let dir: string;
let store: TickStore;
let web: WebTestStack;
let operatorUser: TestUser;
let operator: BrowserSession;
let viewer: BrowserSession;

interface QueryBody {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  row_count: number;
  truncated: boolean;
  elapsed_ms: number;
  limit: number;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-explorer-web-'));
  store = await openDuckDbTickStore({ path: ':memory:' });
  await store.createTable(TABLES.ticksMainL5);
  await store.writeDay(T, CU, '2026-01-05', makeDay(ROWS));
  const artifacts = new LocalArtifactStore(dir);
  const calendar = await loadDataCalendar(artifacts);
  web = await WebTestStack.create({
    env: { GHTRADER_EXPLORER_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS) },
    data: { store, artifacts, calendar },
  });
  operatorUser = await web.createUser('operator');
  operator = await web.login(operatorUser);
  viewer = await web.login(await web.createUser('viewer'));
});

afterAll(async () => {
  await web?.close();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

function query(session: BrowserSession, body: unknown): Promise<Response> {
  return web.send('POST', '/api/explorer/query', body, web.browserHeaders(session));
}

async function auditEntries(): Promise<AuditEntry[]> {
  const entries = await web.stack.rt.audit.listDay(isoUtc(Date.now()).slice(0, 10), 1000);
  return entries.filter((e) => e.action === 'explorer.query');
}

describe('POST /api/explorer/query', () => {
  it("runs an operator's SELECT and answers columns, rows, row_count, truncated, elapsed_ms and the limit", async () => {
    // Act
    const res = await query(operator, {
      sql: `SELECT symbol, datetime_ns, last_price, ts FROM ${T} ORDER BY datetime_ns LIMIT 3`,
    });

    // Assess
    expect(res.status).toBe(200);
    const body = (await res.json()) as QueryBody;
    expect(body.columns).toEqual([
      { name: 'symbol', type: 'VARCHAR' },
      { name: 'datetime_ns', type: 'BIGINT' },
      { name: 'last_price', type: 'DOUBLE' },
      { name: 'ts', type: 'TIMESTAMP' },
    ]);
    expect(body).toMatchObject({ row_count: 3, truncated: false, limit: 200 });
    expect(body.rows).toHaveLength(3);
    expect(body.rows[0]?.[0]).toBe(CU);
    expect(body.rows[0]?.[1]).toMatch(/^\d+$/);
    expect(typeof body.rows[0]?.[2]).toBe('number');
    expect(body.rows[0]?.[3]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(typeof body.elapsed_ms).toBe('number');
  });

  it("refuses a viewer's query with 403 and audits the denial", async () => {
    // Act
    const res = await query(viewer, { sql: `SELECT count(*) FROM ${T}` });

    // Assess
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('forbidden');
    expect((await auditEntries()).some((e) => e.outcome === 'denied' && e.role === 'viewer')).toBe(true);
  });

  it.each([
    `DELETE FROM ${T}`,
    `COPY ${T} TO '/tmp/ghtrader-explorer-web.csv'`,
    `SELECT 1; DROP TABLE ${T}`,
    "SELECT * FROM read_csv('/etc/passwd')",
  ])('refuses %s with 400 query_not_allowed and changes nothing', async (sql) => {
    // Act
    const res = await query(operator, { sql });

    // Assess
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('query_not_allowed');
    expect(await store.countByDay(T, CU)).toEqual([{ trading_day: '2026-01-05', rows: ROWS }]);
  });

  it('cancels a statement past GHTRADER_EXPLORER_STATEMENT_TIMEOUT_MS with 400 query_timeout', async () => {
    // Prepare: 1,200⁴ ≈ 2·10¹² joined rows, far beyond the timeout.
    const sql = `SELECT sum(a.last_price + b.bid_price1 + c.ask_price1 + d.volume) FROM ${T} a, ${T} b, ${T} c, ${T} d`;

    // Act
    const started = performance.now();
    const res = await query(operator, { sql });
    const took = performance.now() - started;

    // Assess
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('query_timeout');
    expect(err.details).toMatchObject({ timeout_ms: TIMEOUT_MS });
    expect(took).toBeLessThan(TIMEOUT_MS + 1000);
    const after = await query(operator, { sql: `SELECT count(*) AS n FROM ${T}` });
    expect(((await after.json()) as QueryBody).rows).toEqual([[String(ROWS)]]);
  });

  it.each([
    [0, 1],
    ['0', 1],
    [-5, 1],
    [999999, 500],
    ['999999', 500],
    [25, 25],
    [undefined, 200],
  ])('clamps limit %s to %s and cuts the result there with truncated:true', async (limit, expected) => {
    // Act
    const res = await query(operator, {
      sql: `SELECT datetime_ns FROM ${T} ORDER BY datetime_ns`,
      ...(limit === undefined ? {} : { limit }),
    });

    // Assess
    expect(res.status).toBe(200);
    const body = (await res.json()) as QueryBody;
    expect(body).toMatchObject({ limit: expected, row_count: expected, truncated: true });
    expect(body.rows).toHaveLength(expected);
  });

  it('answers a result that fits the limit whole, with truncated:false', async () => {
    // Act
    const res = await query(operator, { sql: `SELECT datetime_ns FROM ${T} LIMIT 7`, limit: 7 });

    // Assess
    expect((await res.json()) as QueryBody).toMatchObject({ row_count: 7, truncated: false, limit: 7 });
  });

  it('caps the limit at GHTRADER_EXPLORER_MAX_ROWS from the live config revision', async () => {
    // Prepare
    const admin = systemCaller('system', 'test', 'explorer-max-rows');
    await web.stack.rt.configService.set(admin, { values: { GHTRADER_EXPLORER_MAX_ROWS: '40' } });
    try {
      // Act
      const res = await query(operator, { sql: `SELECT datetime_ns FROM ${T}`, limit: 999999 });

      // Assess
      expect((await res.json()) as QueryBody).toMatchObject({ limit: 40, row_count: 40, truncated: true });
    } finally {
      await web.stack.rt.configService.set(admin, { values: { GHTRADER_EXPLORER_MAX_ROWS: null } });
    }
  });

  it.each([
    [{ sql: 'SELECT 1', limit: 'abc' }, 'limit'],
    [{ sql: 'SELECT 1', limit: '1.5e3' }, 'limit'],
    [{ sql: '' }, 'sql'],
    [{ sql: 'x'.repeat(10_001) }, 'sql'],
    [{ limit: 5 }, 'sql'],
    [{ sql: 'SELECT 1', extra: true }, ''],
  ])('answers 400 validation_failed for %j', async (body, field) => {
    // Act
    const res = await query(operator, body);

    // Assess
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('validation_failed');
    if (field) expect(JSON.stringify(err.details.issues)).toContain(field);
  });

  it('audits every query: hash and head of the SQL, counts and timing, or the failure code', async () => {
    // Prepare
    const sql = `SELECT datetime_ns FROM ${T} ORDER BY datetime_ns -- audited ${'y'.repeat(300)}`;

    // Act
    await query(operator, { sql, limit: 2 });
    await query(operator, { sql: `DELETE FROM ${T} -- audited failure` });

    // Assess
    const mine = (await auditEntries()).filter((e) => e.actor.name === operatorUser.username);
    const ok = mine.find((e) => (e.after as { sql_head?: string } | null)?.sql_head === sql.slice(0, 200));
    expect(ok).toMatchObject({
      target: 'explorer',
      outcome: 'ok',
      role: 'operator',
      after: { row_count: 2, truncated: true, limit: 2 },
    });
    const after = (ok?.after ?? {}) as { sql_sha256?: string; elapsed_ms?: unknown };
    expect(after.sql_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof after.elapsed_ms).toBe('number');
    const failed = mine.find((e) => (e.after as { sql_head?: string } | null)?.sql_head?.includes('audited failure'));
    expect(failed).toMatchObject({
      outcome: 'failed',
      reason: 'query_not_allowed',
      after: { error_code: 'query_not_allowed' },
    });
  });
});

describe('GET /api/explorer/catalog', () => {
  it('lists the tables and their columns for a viewer', async () => {
    // Act
    const res = await web.request('/api/explorer/catalog', { headers: { cookie: viewer.cookie } });

    // Assess
    expect(res.status).toBe(200);
    const body = (await res.json()) as { tables: { name: string; kind: string; columns: { name: string }[] }[] };
    const ticks = body.tables.find((t) => t.name === T);
    expect(ticks?.kind).toBe('table');
    expect(ticks?.columns.map((c) => c.name)).toEqual(expect.arrayContaining(['symbol', 'datetime_ns', 'ts']));
  });
});

describe('a console without a tick store', () => {
  it('answers 503 dependency_unavailable for the query and the catalog, and says so on the page', async () => {
    // Prepare
    const bare = await WebTestStack.create();
    try {
      const op = await bare.login(await bare.createUser('operator'));

      // Act
      const q = await bare.send('POST', '/api/explorer/query', { sql: 'SELECT 1' }, bare.browserHeaders(op));
      const cat = await bare.request('/api/explorer/catalog', { headers: { cookie: op.cookie } });
      const page = await bare.request('/v/cu/explorer', { headers: { cookie: op.cookie } });

      // Assess
      expect(q.status).toBe(503);
      expect((await errorOf(q)).code).toBe('dependency_unavailable');
      expect(cat.status).toBe(503);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('id="explorer-off"');
      expect(html).not.toContain('id="explorer-form"');
    } finally {
      await bare.close();
    }
  });
});

describe('the Explorer page', () => {
  it('renders the catalog, a labelled editor, the limit, Run and the results area for an operator', async () => {
    // Act
    const res = await web.request('/v/cu/explorer', { headers: { cookie: operator.cookie } });

    // Assess
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<label for="explorer-sql">');
    expect(html).toContain('<textarea id="explorer-sql"');
    expect(html).toContain('<label for="explorer-limit">');
    expect(html).toContain('id="explorer-run"');
    expect(html).toContain('id="explorer-truncated"');
    expect(html).toContain('id="explorer-error"');
    expect(html).toContain(`data-explorer-table="${T}"`);
    expect(html).toContain('<th scope="col">Column</th>');
    expect(html).toContain('aria-current="page"');
    expect(html).toContain('"page":"explorer"');
    expect(html).toContain('"can_query":true');
  });

  it('shows a viewer the catalog and the operator note, without the editor', async () => {
    // Act
    const html = await (await web.request('/v/au/explorer', { headers: { cookie: viewer.cookie } })).text();

    // Assess
    expect(html).toContain('id="explorer-viewer-note"');
    expect(html).toContain('Running queries needs the operator role');
    expect(html).not.toContain('id="explorer-form"');
    expect(html).toContain(`<code>${T}</code>`);
  });

  it('redirects /explorer to the cu workspace', async () => {
    // Act
    const res = await web.request('/explorer');

    // Assess
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/v/cu/explorer');
  });
});
