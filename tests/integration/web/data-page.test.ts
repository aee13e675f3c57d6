/**
 * The console's Data page and `GET /api/data/{var}/overview` (control-chain §8; data-chain §4.4, §5.6, §6.5) over a
 * real in-memory DuckDB tick store and a local artifact store: schedule segments and rolls, the coverage heat map
 * (complete, partial, invalid, missing, pending days), the last validation and build, job actions by role, malformed
 * and missing reports, and a console without the data chain.
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mainL5LockKey, sourceSlotKey } from '#shared/domain/control/locks.ts';
import { writeReport } from '#shared/domain/data/artifacts.ts';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import type { TickStore } from '#shared/domain/data/tick-store.ts';
import { ACTION_HINTS } from '#shared/domain/data/validation/states.ts';
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import type { LocalArtifactStore } from '#shared/infra/artifacts/local.ts';
import { systemCaller } from '#shared/services/auth-service.ts';
import type { DataOverview } from '#shared/services/data/data-view.ts';
import { mainL5BuildRow } from '../tickstore/fixtures.ts';
import {
  AU,
  CU,
  type DataFixture,
  FOREIGN_HASH,
  openDataFixture,
  REPORT_AT,
  seedCu as seedCuData,
} from './data-fixtures.ts';
import { type BrowserSession, errorOf, WebTestStack } from './support.ts';

const BUILD_ID = 'a1b2c3d4e5f6';

let fixture: DataFixture;
let store: TickStore;
let artifacts: LocalArtifactStore;
let calendar: TradingCalendar;
let web: WebTestStack;
let viewer: BrowserSession;
let operator: BrowserSession;
/** Ten trading days 2026-01-05 … 2026-01-16. */
let D: string[];
let hash: string;

const day = (i: number) => D[i] as string;

async function seedCu(): Promise<void> {
  // The shared cu dataset (schedule, ticks, validation rows and report), then this page's build row and reports.
  await seedCuData(fixture);
  hash = fixture.hash;
  await store.writeRows(TABLES.mainL5Builds.name, [
    { ...mainL5BuildRow(CU, BUILD_ID, BigInt(Date.UTC(2026, 0, 16, 10)) * 1000n, 112n), status: 'rejected' },
  ]);

  const at = REPORT_AT;
  await writeReport(artifacts, 'main_schedule', 'cu', at, 'J1', {
    created_at: new Date(at).toISOString(),
    relation: 'initial',
    schedule_hash: hash,
    start_date: day(0),
    start_date_source: 'config:GHTRADER_L5_START_DATE_CU',
    end_date: day(9),
    as_of: day(9),
    rows: 10,
    warnings: [],
    health: { enforced: true, checked: true, ok: true, problems: [] },
  });
  await writeReport(artifacts, 'main_l5', CU, at, 'J2', {
    build_id: BUILD_ID,
    status: 'rejected',
    full_rebuild: false,
    rows_total: 112,
    health: { ok: false, errors: [`engineering_missing_days: 1 (${day(3)})`] },
    validation_gate: { state: 'skipped', reason_code: 'preexisting_health_errors' },
  });
}

beforeAll(async () => {
  fixture = await openDataFixture('data-page');
  ({ store, artifacts, calendar } = fixture);
  D = fixture.days;
  await seedCu();
  // au: a validation report that is not JSON, a build report that misses its health.
  await artifacts.put(`reports/main_l5_validate/${AU}_latest.json`, '{"state": "ok",');
  await artifacts.put(`reports/main_l5/${AU}_latest.json`, JSON.stringify({ build_id: BUILD_ID }));
  web = await WebTestStack.create({ data: { store, artifacts, calendar } });
  viewer = await web.login(await web.createUser('viewer'));
  operator = await web.login(await web.createUser('operator'));
});

afterAll(async () => {
  await web?.close();
  await fixture?.close();
});

async function page(path: string, s: BrowserSession): Promise<string> {
  const res = await web.request(path, { headers: { cookie: s.cookie } });
  expect(res.status, path).toBe(200);
  return res.text();
}

/** The heat-map cell of a day: its state and accessible label. */
function cell(html: string, d: string): { state: string; label: string } {
  const m = new RegExp(
    `<span class="hm [^"]*" role="img" aria-label="([^"]*)" title="[^"]*" data-day="${d}" data-state="([a-z_]+)"`,
  ).exec(html);
  if (!m) throw new Error(`no heat-map cell for ${d}`);
  return { label: m[1] as string, state: m[2] as string };
}

describe('Data page', () => {
  it('shows segments, rolls, the heat map, the last validation and the last build to a viewer', async () => {
    // Act
    const html = await page('/v/cu/data', viewer);

    // Assess: schedule
    expect(html).toContain('<h1>Data · CU</h1>');
    expect(html).toContain(`<code id="data-schedule-hash">${hash}</code>`);
    const segments = /<table id="data-segments">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    expect(segments).toContain(`<th scope="row">SHFE.cu2602</th><td>${day(0)}</td><td>${day(5)}</td>`);
    expect(segments).toContain(`<th scope="row">SHFE.cu2603</th><td>${day(6)}</td><td>${day(9)}</td>`);
    const rolls = /<table id="data-rolls">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    expect(rolls).toContain(`<th scope="row">${day(6)}</th><td>SHFE.cu2602</td><td>SHFE.cu2603</td>`);

    // Assess: heat map, one state per day, labelled with day and rows
    expect(cell(html, day(0))).toEqual({ state: 'complete', label: `${day(0)}: complete, 40 rows, SHFE.cu2602` });
    expect(cell(html, day(3)).state).toBe('missing');
    expect(cell(html, day(4)).state).toBe('partial');
    expect(cell(html, day(4)).label).toContain('2 gaps longer than 30 s');
    expect(cell(html, day(5)).state).toBe('invalid');
    expect(cell(html, day(5)).label).toContain(FOREIGN_HASH);
    expect(cell(html, day(9))).toEqual({
      state: 'pending',
      label: `${day(9)}: scheduled, not built yet, 0 rows, SHFE.cu2603`,
    });
    expect(html).toContain('aria-label="2026-01-10: no trading"');
    expect(html).toContain(
      '3 complete; 1 partial (gaps found by validation); 1 invalid (schedule lineage); 1 scheduled, no ticks stored; 4 scheduled, not built yet',
    );

    // Assess: validation
    expect(html).toContain('id="data-validation-overall" data-state="error"');
    expect(html).toContain('<code id="data-validation-reason">gap_gt30_block</code>');
    expect(html).toContain(`<dd id="data-validation-hint">${ACTION_HINTS.gap_gt30_block}</dd>`);
    expect(html).toContain('1.234 %');
    const gaps = /<table id="data-gap-days"[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    expect(gaps).toContain(`<th scope="row">${day(4)}</th>`);
    expect(gaps).toContain('<th scope="col" class="num">Gaps &gt; 30 s</th>');

    // Assess: build
    expect(html).toContain('id="data-build-status" data-status="rejected"');
    expect(html).toContain(`<code>${BUILD_ID}</code>`);
    expect(html).toContain(`engineering_missing_days: 1 (${day(3)})`);

    // Assess: a viewer gets no job actions
    expect(html).not.toContain('data-job-kind');
  });

  it('gives an operator labelled job buttons, the full rebuild behind a confirm', async () => {
    // Act
    const html = await page('/v/cu/data', operator);

    // Assess
    expect(html).toMatch(
      /<button type="button" id="data-submit-schedule" data-job-kind="data.schedule"[^>]*>Rebuild schedule<\/button>/,
    );
    expect(html).toMatch(
      /<button type="button" id="data-submit-main-l5" data-job-kind="data.main_l5"[^>]*>Update main_l5<\/button>/,
    );
    const full = /<button[^>]*id="data-submit-main-l5-full"[^>]*>/.exec(html)?.[0] ?? '';
    expect(full).toContain('data-job-params="{&quot;full_rebuild&quot;:true}"');
    expect(full).toContain('data-confirm="Full rebuild of KQ.m@SHFE.cu');
    expect(html).toContain('<label for="data-validate-incremental">');
    expect(html).toContain('id="data-job-links"');
  });

  it('submits a data job the way the page does and the job page it links to renders', async () => {
    // Act
    const res = await web.send(
      'POST',
      '/api/jobs',
      { kind: 'data.main_l5', params: { var: 'cu', full_rebuild: true } },
      web.browserHeaders(operator),
    );

    // Assess
    expect(res.status).toBe(201);
    const { job } = (await res.json()) as { job: { job_id: string; kind: string } };
    expect(job.kind).toBe('data.main_l5');
    expect(await page(`/v/cu/jobs/${job.job_id}`, viewer)).toContain(job.job_id);
  });

  it('shows a malformed report as an error in its section, never a 500', async () => {
    // Act
    const html = await page('/v/au/data', viewer);

    // Assess
    expect(html).toMatch(/id="data-validation-error">[\s\S]*?<code>report_invalid<\/code>[^<]*not JSON/);
    expect(html).toMatch(/id="data-build-error">[\s\S]*?<code>report_invalid<\/code>[^<]*health/);
    expect(html).toContain('id="data-schedule-none"');
  });

  it('says which steps have not run yet', async () => {
    // Act
    const html = await page('/v/ag/data', viewer);

    // Assess
    expect(html).toContain(`data.validate has not run for KQ.m@SHFE.ag yet`);
    expect(html).toContain('no main_l5 build of KQ.m@SHFE.ag yet');
    expect(html).toContain('data.schedule has not run for ag yet');
    expect(html).toContain('no schedule and no stored ticks for KQ.m@SHFE.ag');
  });

  it('tells a build still finalizing (its lock held) from one whose finalize never completed', async () => {
    // Arrange: ag's build report landed but its builds row has not (finalize writes the report first, the row last).
    const ag = 'KQ.m@SHFE.ag';
    await writeReport(artifacts, 'main_l5', ag, REPORT_AT, 'J9', {
      build_id: 'feedfacecafe',
      status: 'promoted',
      full_rebuild: false,
      rows_total: 10,
      health: { ok: true, errors: [] },
    });
    const lease = await web.stack.rt.locks.acquire(
      mainL5LockKey(ag),
      { ownerId: 'job-finalize', host: 'w', pid: 1 },
      60_000,
    );
    if (!lease.ok) throw new Error('lock not taken');
    const held = lease.leases[0] ?? expect.unreachable('no lease');
    const note = async () => {
      const res = await web.request('/api/data/ag/overview', { headers: { cookie: viewer.cookie } });
      const body = (await res.json()) as DataOverview;
      return body.build.status === 'ok' ? body.build.data.report_note : `section ${body.build.status}`;
    };
    try {
      // Act / Assess: while the build holds its lock, the page says it is still running and who holds it.
      expect(await note()).toBe(
        `no ${TABLES.mainL5Builds.name} row for build feedfacecafe; still running: ${mainL5LockKey(ag)} is held by job-finalize (the builds row is written last)`,
      );
      expect(await page('/v/ag/data', viewer)).toContain('is held by job-finalize');

      // Act / Assess: with the lock free, that finalize did not complete, and the page says what to run.
      await web.stack.rt.locks.release(held);
      expect(await note()).toBe(
        `no ${TABLES.mainL5Builds.name} row for build feedfacecafe; the finalize step did not complete (${mainL5LockKey(ag)} is free); run \`ghtrader data main-l5 --var ag\` again`,
      );
    } finally {
      await web.stack.rt.locks.release(held);
      await rm(fileURLToPath(artifacts.uri(`reports/main_l5/${ag}_latest.json`)));
    }
  });

  it('names a newer build still finalizing next to the last build that has its row', async () => {
    // Arrange: cu has build BUILD_ID's row; a newer build's report landed, its row not yet, its lock held.
    const latest = `reports/main_l5/${CU}_latest.json`;
    const original = (await artifacts.get(latest)) ?? expect.unreachable('no cu build report');
    await writeReport(artifacts, 'main_l5', CU, REPORT_AT + 1000, 'J10', {
      build_id: 'b0b0b0b0b0b0',
      status: 'running',
      full_rebuild: false,
      rows_total: 0,
      health: { ok: true, errors: [] },
    });
    const lease = await web.stack.rt.locks.acquire(mainL5LockKey(CU), { ownerId: 'job-b0', host: 'w', pid: 1 }, 60_000);
    if (!lease.ok) throw new Error('lock not taken');
    const held = lease.leases[0] ?? expect.unreachable('no lease');
    try {
      // Act
      const res = await web.request('/api/data/cu/overview', { headers: { cookie: viewer.cookie } });
      const body = (await res.json()) as DataOverview;

      // Assess
      expect(body.build).toMatchObject({ status: 'ok', data: { build_id: BUILD_ID } });
      expect(body.build.status === 'ok' ? body.build.data.report_note : null).toBe(
        `the latest build report belongs to build b0b0b0b0b0b0, which has no ${TABLES.mainL5Builds.name} row yet; still running: ${mainL5LockKey(CU)} is held by job-b0 (the builds row is written last)`,
      );
    } finally {
      await web.stack.rt.locks.release(held);
      await artifacts.put(latest, original);
    }
  });

  it('redirects an unauthenticated visitor to the login page', async () => {
    // Act
    const res = await web.request('/v/cu/data');

    // Assess
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/v/cu/data')}`);
  });
});

describe('GET /api/data/{var}/overview', () => {
  it('answers the overview as JSON', async () => {
    // Act
    const res = await web.request('/api/data/cu/overview', { headers: { cookie: viewer.cookie } });

    // Assess
    expect(res.status).toBe(200);
    const o = (await res.json()) as DataOverview;
    expect(o.symbol).toBe(CU);
    if (o.schedule.status !== 'ok' || o.coverage.status !== 'ok' || o.validation.status !== 'ok') {
      throw new Error(`sections not ok: ${JSON.stringify(o)}`);
    }
    expect(o.schedule.data.rolls).toEqual([
      { trading_day: day(6), from_contract: 'SHFE.cu2602', to_contract: 'SHFE.cu2603', segment_id: 1 },
    ]);
    expect(o.coverage.data.counts).toEqual({
      complete: 3,
      partial: 1,
      invalid: 1,
      missing: 1,
      pending: 4,
      unscheduled: 0,
    });
    expect(o.coverage.data.rows_total).toBe(112);
    expect(o.coverage.data.days.find((d) => d.trading_day === day(4))?.validation).toEqual({
      missing_day: false,
      missing_seconds_ratio: 0.02,
      gap_count_gt_30: 2,
      max_gap_s: 95,
    });
    expect(o.validation.data.top_gap_days.map((g) => g.trading_day)).toEqual([day(4), day(3)]);
    expect(o.build).toMatchObject({
      status: 'ok',
      data: {
        build_id: BUILD_ID,
        status: 'rejected',
        rows_total: 112,
        health_errors: [`engineering_missing_days: 1 (${day(3)})`],
      },
    });
    expect(o.schedule_run).toMatchObject({ status: 'ok', data: { relation: 'initial', health_ok: true } });
  });

  it('rejects a variety other than cu, au, ag with 400 validation_failed', async () => {
    // Act
    const res = await web.request('/api/data/xx/overview', { headers: { cookie: viewer.cookie } });

    // Assess
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('validation_failed');
  });

  it('answers 401 without credentials', async () => {
    // Act
    const res = await web.request('/api/data/cu/overview');

    // Assess
    expect(res.status).toBe(401);
  });
});

describe('a console without the data chain', () => {
  let bare: WebTestStack;
  let session: BrowserSession;
  beforeAll(async () => {
    bare = await WebTestStack.create();
    session = await bare.login(await bare.createUser('operator'));
  });
  afterAll(async () => {
    await bare?.close();
  });

  it('says so on the page and answers 503 dependency_unavailable', async () => {
    // Act
    const pageRes = await bare.request('/v/cu/data', { headers: { cookie: session.cookie } });
    const apiRes = await bare.request('/api/data/cu/overview', { headers: { cookie: session.cookie } });

    // Assess
    expect(pageRes.status).toBe(200);
    const html = await pageRes.text();
    expect(html).toContain('Data chain not running in this process');
    expect(html).not.toContain('data-job-kind');
    expect(apiRes.status).toBe(503);
    expect((await errorOf(apiRes)).code).toBe('dependency_unavailable');
  });
});

/** The pipeline stage `id` as rendered: its state and text. */
function stage(html: string, id: string): { state: string; text: string; job: string | null } {
  const li = new RegExp(`<li class="stage [^"]*" data-stage="${id}" data-state="([a-z_]+)">([\\s\\S]*?)</li>`).exec(
    html,
  );
  if (!li) throw new Error(`no pipeline stage ${id}`);
  const text = /<span class="stage-text">([^<]*)<\/span>/.exec(li[2] as string)?.[1] ?? '';
  const job = /href="\/v\/[a-z]+\/jobs\/([0-9A-Z]{26})"/.exec(li[2] as string)?.[1] ?? null;
  return { state: li[1] as string, text, job };
}

describe('Dashboard over the same data', () => {
  const ctx = { actor: { actor: 'dashboard-test', role: 'operator' as const }, requestId: 'dashboard-test' };

  it('derives the pipeline strip and KPIs from the reports and the last job of each kind', async () => {
    // The Data page tests above left submitted data jobs queued (no worker runs here): end them first.
    const active = await web.stack.rt.jobs.list({ var: 'cu', status: 'queued,running', limit: '500' });
    for (const j of active.items) await web.stack.rt.jobs.cancel(j.job_id, {}, ctx);
    web.hot.invalidate('jobs:all');
    const html = await page('/v/cu/dashboard', viewer);
    expect(stage(html, 'calendar').state).toMatch(/^(ok|warn)$/);
    expect(stage(html, 'schedule')).toEqual({ state: 'ok', text: `10 days to ${day(9)}`, job: null });
    // The seeded build is rejected; validation is in error with its reason code.
    expect(stage(html, 'main_l5')).toMatchObject({ state: 'error', text: 'build rejected, 3 days written' });
    expect(stage(html, 'validate')).toMatchObject({ state: 'error', text: 'gap_gt30_block' });
    for (const id of ['features', 'labels', 'train']) expect(stage(html, id).state).toBe('not_built');
    // Coverage: days 0, 1, 2 complete (4 is partial, 5 invalid) of 10 scheduled.
    expect(html).toMatch(/<dt>Last complete trading day<\/dt><dd>2026-01-07<\/dd>/);
    expect(html).toMatch(/<dt>Coverage<\/dt><dd>30\.0%<span class="kpi-note">3 of 10 scheduled days complete/);
    // Quick actions are an operator's.
    expect(html).not.toContain('id="data-submit-main-l5"');
    expect(await page('/v/cu/dashboard', operator)).toContain('id="data-submit-main-l5"');
  });

  it('links a stage to its active job and shows it running', async () => {
    const { job } = await web.stack.rt.jobs.submit({ kind: 'data.validate', params: { var: 'cu' } }, ctx);
    web.hot.invalidate('jobs:all');
    const s = stage(await page('/v/cu/dashboard', viewer), 'validate');
    expect(s).toEqual({ state: 'running', text: 'queued', job: job.job_id });
    await web.stack.rt.jobs.cancel(
      job.job_id,
      {},
      {
        actor: { actor: 'dashboard-test', role: 'operator' },
        requestId: 'dashboard-test-2',
      },
    );
  });

  it('links the calendar stage to the last calendar job (for every variety) on each variety’s dashboard', async () => {
    const { job } = await web.stack.rt.jobs.submit({ kind: 'data.calendar', params: { refresh: true } }, ctx);
    web.hot.invalidate('jobs:all');
    for (const v of ['cu', 'ag']) {
      expect(stage(await page(`/v/${v}/dashboard`, viewer), 'calendar')).toEqual({
        state: 'running',
        text: 'queued',
        job: job.job_id,
      });
    }
    await web.stack.rt.jobs.cancel(
      job.job_id,
      {},
      { actor: { actor: 'dashboard-test', role: 'operator' }, requestId: 'dashboard-test-3' },
    );
  });

  it('lists the guardrails with their value and source, following a config revision', async () => {
    const before = await page('/v/cu/dashboard', viewer);
    const row = (html: string, label: string) =>
      new RegExp(
        `<th scope="row">${label.replace(/[()|]/g, '\\$&')}</th><td>([^<]*)</td>[\\s\\S]*?<code>([^<]*)</code>`,
      ).exec(html);
    expect(row(before, 'Source slots (provider connections)')?.slice(1)).toEqual(['4 (0 in use)', 'default']);
    expect(row(before, 'main_l5 download jobs at once')?.slice(1)).toEqual(['4', 'default']);
    const r = await web.stack.rt.configService.set(systemCaller('system', 'dashboard-test', 'dashboard-test-3'), {
      values: { GHTRADER_MAIN_L5_MAX_CONCURRENCY: 2, GHTRADER_MAX_PARALLEL_TQSDK_JOBS: 2 },
      reason: 'dashboard test',
    });
    // Both slots taken by source-bound jobs (their leases, as the worker takes them).
    for (const n of [0, 1])
      await web.stack.rt.locks.acquire(sourceSlotKey(n), { ownerId: `job-${n}`, host: 'w', pid: n }, 60_000);
    // No realtime feed in this stack (and leases have no event): drop the app's ≤ 1 s cache.
    web.hot.clear();
    const after = await page('/v/cu/dashboard', viewer);
    expect(row(after, 'main_l5 download jobs at once')?.slice(1)).toEqual([
      '2',
      `config:GHTRADER_MAIN_L5_MAX_CONCURRENCY@${r.revision}`,
    ]);
    expect(row(after, 'Source slots (provider connections)')?.slice(1)).toEqual([
      '2 (2 in use: the next source-bound job waits)',
      `config:GHTRADER_MAX_PARALLEL_TQSDK_JOBS@${r.revision}`,
    ]);
    expect(before).toContain('Live trading enabled (as the gateway reports it)');
  });
});
