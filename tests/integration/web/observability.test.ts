/**
 * `/api/observability/*` (control-chain §10) over the real web test stack (dynalite/fauxqs, real Redis, an in-memory
 * DuckDB tick store): per route template metrics after a few requests, the SLO snapshot's shape and rules with
 * thresholds from config, the supervisors object, `Server-Timing` on pages, and dependency outages answered as
 * states (never a 500).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SloSnapshot } from '#shared/domain/control/slo.ts';
import type { StatusSource } from '#shared/domain/control/status.ts';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import type { TickStore } from '#shared/domain/data/tick-store.ts';
import { LocalArtifactStore } from '#shared/infra/artifacts/local.ts';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { loadDataCalendar } from '#shared/services/data/context.ts';
import { mainL5BuildRow } from '../tickstore/fixtures.ts';
import { type BrowserSession, WebTestStack } from './support.ts';

interface RouteView {
  count: number;
  error_count: number;
  error_rate: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  since_start: { count: number; error_count: number };
}

interface RuntimeView {
  window: { window_s: number; bucket_s: number };
  routes: Record<string, RouteView>;
  jobs: {
    submitted_total: number;
    deduped_total: number;
    claim_conflicts_total: number;
    by_status: Record<string, number | null>;
  };
  config: { revision: number | null; read_at: string | null; refresh_failures_total: number } | null;
}

let dir: string;
let store: TickStore;
let web: WebTestStack;
let viewer: BrowserSession;
let operator: BrowserSession;
let jobId: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-observability-'));
  store = await openDuckDbTickStore({ path: ':memory:' });
  await store.createTable(TABLES.mainL5Builds);
  // cu: a promoted build covering up to 2026-01-07 (freshness known); au, ag: none (freshness unknown).
  await store.writeRows(TABLES.mainL5Builds.name, [
    { ...mainL5BuildRow('KQ.m@SHFE.cu', 'b1', BigInt(Date.UTC(2026, 0, 8)) * 1000n), status: 'promoted' },
  ]);
  const artifacts = new LocalArtifactStore(dir);
  web = await WebTestStack.create({
    // A queue warning at one job, so the job submitted below trips the rule.
    env: { GHTRADER_SLO_QUEUE_WARN: '1', GHTRADER_SLO_QUEUE_CRIT: '1000' },
    data: { store, artifacts, calendar: await loadDataCalendar(artifacts) },
  });
  viewer = await web.login(await web.createUser('viewer'));
  operator = await web.login(await web.createUser('operator'));
  const res = await web.send(
    'POST',
    '/api/jobs',
    { kind: 'system.sleep', params: { seconds: 3 } },
    web.browserHeaders(operator),
  );
  expect(res.status).toBe(201);
  jobId = ((await res.json()) as { job: { job_id: string } }).job.job_id;
});

afterAll(async () => {
  await web?.close();
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const asViewer = (p: string) => web.request(p, { headers: { cookie: viewer.cookie } });

describe('GET /api/observability/runtime', () => {
  it('counts requests per route template, pages as PAGE, with latency percentiles and since-start counts', async () => {
    // Arrange
    for (let i = 0; i < 3; i++) expect((await asViewer('/api/status')).status).toBe(200);
    expect((await asViewer(`/api/jobs/${jobId}`)).status).toBe(200);
    expect((await asViewer('/api/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV')).status).toBe(404);
    expect((await asViewer('/v/cu/dashboard')).status).toBe(200);
    expect((await asViewer('/v/au/dashboard')).status).toBe(200);
    expect((await web.request('/api/status')).status).toBe(401);
    expect((await web.request('/v/cu/jobs')).status).toBe(303);
    expect((await asViewer('/no/such/page')).status).toBe(404);

    // Act
    const res = await asViewer('/api/observability/runtime');

    // Assess
    expect(res.status).toBe(200);
    const body = (await res.json()) as RuntimeView;
    expect(body.window).toMatchObject({ window_s: 300, bucket_s: 60 });
    expect(body.routes['GET /api/status']?.count).toBeGreaterThanOrEqual(3);
    expect(body.routes['GET /api/jobs/:id']).toMatchObject({ count: 2, error_count: 0, error_rate: 0 });
    expect(body.routes['PAGE /v/:var/dashboard']).toMatchObject({ count: 2, error_count: 0 });
    expect(body.routes['POST /api/jobs']).toMatchObject({ count: 1, since_start: { count: 1, error_count: 0 } });
    expect(body.routes['POST /api/auth/login']?.count).toBe(2);
    // A 401 from a route's role check counts under that route; a login redirect by the pages' guard before any
    // route is a middleware answer; no route at all is NOT_FOUND.
    expect(body.routes['GET /api/status']?.count).toBeGreaterThanOrEqual(4);
    expect(body.routes['GET MIDDLEWARE']).toMatchObject({ count: 1, error_count: 0 });
    expect(body.routes.NOT_FOUND).toMatchObject({ count: 1, error_count: 0 });
    const status = body.routes['GET /api/status'] as RouteView;
    expect(status.p50_ms).toBeGreaterThan(0);
    expect(status.p99_ms).toBeGreaterThanOrEqual(status.p50_ms as number);
    expect(status.max_ms).toBeGreaterThanOrEqual(status.p99_ms as number);
    // Raw paths never become templates.
    expect(Object.keys(body.routes).some((k) => k.includes(jobId))).toBe(false);
    expect(body.jobs).toMatchObject({ submitted_total: 1, deduped_total: 0, claim_conflicts_total: 0 });
    expect(body.jobs.by_status).toMatchObject({ queued: 1, running: 0, succeeded: 0, failed: 0, cancelled: 0 });
    // The config revision this process applies.
    expect(body.config).toMatchObject({
      revision: (await web.stack.rt.configService.head()).revision,
      refresh_failures_total: 0,
    });
    expect(body.config?.read_at).toMatch(/Z$/);
  });

  it('requires a signed-in caller', async () => {
    expect((await web.request('/api/observability/runtime')).status).toBe(401);
  });
});

describe('GET /api/observability/slo', () => {
  it('answers the §10 shape with thresholds from config and the measured inputs', async () => {
    // Act
    const res = await asViewer('/api/observability/slo');

    // Assess
    expect(res.status).toBe(200);
    const s = (await res.json()) as SloSnapshot;
    expect(Object.keys(s).sort()).toEqual(
      ['control_plane', 'data_plane', 'generated_at', 'overall', 'thresholds', 'training_plane'].sort(),
    );
    expect(s.thresholds).toMatchObject({
      queue_warn: 1,
      queue_crit: 1000,
      queue_age_warn_s: 300,
      supervisor_tick_fail_crit: 10,
      require_tickstore: true,
      require_redis: false,
      model_max_age_h: 48,
    });
    expect(s.control_plane).toMatchObject({
      running_jobs: 0,
      queued_jobs: 1,
      queue_depth: 1,
      dlq_depth: 0,
      lease_expired_running: 0,
      audit_write_failures_total: expect.any(Number),
      ws: { available: false },
      supervisors: { state: 'empty', hosts: [], restarts_total: 0, crash_loop: [] },
      errors: [],
    });
    expect(s.control_plane.oldest_queued_age_s).toBeGreaterThanOrEqual(0);
    expect(s.control_plane.findings).toEqual([expect.objectContaining({ rule: 'queue_depth', state: 'warn' })]);
    expect(s.control_plane.state).toBe('warn');
    expect(s.data_plane.tickstore).toMatchObject({ ok: true, error: null });
    expect(s.data_plane.tickstore.latency_ms).toBeGreaterThanOrEqual(0);
    expect(s.data_plane.redis).toEqual({ enabled: true, ok: true, error: null });
    expect(s.data_plane.freshness.cu).toMatchObject({ last_complete_trading_day: '2026-01-07', state: 'ok' });
    expect(s.data_plane.freshness.cu?.lag_days).toBeGreaterThan(0);
    expect(s.data_plane.freshness.au).toMatchObject({
      last_complete_trading_day: null,
      lag_days: null,
      state: 'unknown',
      reason: expect.stringContaining('no promoted main_l5 build'),
    });
    expect(s.data_plane.state).toBe('ok');
    expect(s.training_plane).toMatchObject({ state: 'empty', newest_model_age_h: {}, train_failures_24h: null });
    expect(s.overall).toBe('warn');
  });

  it('/supervisors answers the empty supervisors object and says why', async () => {
    const res = await asViewer('/api/observability/supervisors');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      state: 'empty',
      hosts: [],
      restarts_total: 0,
      crash_loop: [],
      message: expect.stringContaining('trading chain'),
    });
  });
});

describe('Server-Timing', () => {
  it('every page sends its render time', async () => {
    for (const p of ['/v/cu/dashboard', '/v/cu/jobs', `/v/cu/jobs/${jobId}`, '/v/ag/config', '/login']) {
      const res = await web.request(p, { headers: p === '/login' ? {} : { cookie: viewer.cookie } });
      expect(res.status, p).toBe(200);
      expect(res.headers.get('server-timing'), p).toMatch(/^render;dur=\d+(\.\d+)?$/);
    }
  });
});

describe('dependency outages', () => {
  it('a failing tick store and status source become error states, not a 500', async () => {
    // Arrange: a tick store whose every call fails, a status source that throws.
    const broken = new Proxy({} as TickStore, {
      get: (_t, prop) =>
        prop === 'kind' ? 'duckdb' : () => Promise.reject(new Error('tick store connection refused')),
    });
    const status: StatusSource = { snapshot: () => Promise.reject(new Error('status probes failed')) };
    const artifacts = new LocalArtifactStore(dir);
    const down = await WebTestStack.create({
      status,
      env: { GHTRADER_SLO_REQUIRE_REDIS: 'true' },
      data: { store: broken, artifacts, calendar: await loadDataCalendar(artifacts) },
    });
    try {
      const session = await down.login(await down.createUser('viewer'));

      // Act
      const res = await down.request('/api/observability/slo', { headers: { cookie: session.cookie } });

      // Assess
      expect(res.status).toBe(200);
      const s = (await res.json()) as SloSnapshot;
      expect(s.data_plane.tickstore).toEqual({ ok: false, latency_ms: null, error: 'tick store connection refused' });
      expect(s.data_plane.redis).toMatchObject({ ok: false, error: expect.stringContaining('status probes failed') });
      expect(s.data_plane.freshness.cu).toMatchObject({
        state: 'unknown',
        reason: expect.stringContaining('connection refused'),
      });
      expect(s.data_plane.findings.map((f) => [f.rule, f.state])).toEqual([
        ['tickstore', 'error'],
        ['redis', 'error'],
      ]);
      expect(s.data_plane.state).toBe('error');
      expect(s.overall).toBe('error');
    } finally {
      await down.close();
    }
  });
});

describe('System page and dashboard', () => {
  it('shows the SLO by plane, the route latency table and why live-update counters are absent here', async () => {
    expect((await asViewer('/api/status')).status).toBe(200);
    const html = await (await asViewer('/v/cu/system')).text();
    const slo = /<div id="system-slo">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    for (const plane of ['Data plane', 'Training plane', 'Control plane']) expect(slo).toContain(`>${plane}</th>`);
    // The training plane has no models yet: its rule and message are listed, icon + text.
    expect(slo).toMatch(/<span class="state state-(ok|warn|error|empty|unknown)"><span aria-hidden="true">/);
    const routes = /<table id="route-latency">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    expect(routes).toMatch(/<th scope="row"><code>GET \/api\/status<\/code><\/th><td class="num">\d+<\/td>/);
    expect(html).toContain('Live updates (WebSocket broadcaster)');
    expect(html).toMatch(/Not available here: [^<]+/);
  });

  it('puts the compact SLO summary on the dashboard, linking to the System page', async () => {
    const html = await (await asViewer('/v/cu/dashboard')).text();
    expect(html).toContain('<div id="dashboard-slo">');
    expect(html).toContain('href="/v/cu/system"');
  });
});
