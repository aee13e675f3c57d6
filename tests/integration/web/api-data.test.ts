/**
 * The data endpoints for quants and CI (control-chain §3.2) over a real in-memory DuckDB tick store and a local
 * artifact store: coverage per day with range filtering, schedule, validation summary and gap days, the latest
 * reports, chart ticks with downsampling, layered readiness; the section contract (absent -> `none`, unreadable -> `error`, never a
 * 500), 400 `validation_failed` on bad input, 401 without credentials and 503 without the data chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '#shared/domain/data/artifacts.ts';
import type { TickStore } from '#shared/domain/data/tick-store.ts';
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { cstMidnightNs } from '#shared/domain/market/cst.ts';
import type { LocalArtifactStore } from '#shared/infra/artifacts/local.ts';
import type {
  CoverageResponse,
  GapDaysResponse,
  ReportsResponse,
  ScheduleResponse,
  TicksResponse,
  ValidationSummaryResponse,
} from '#shared/services/data/data-api.ts';
import {
  AU,
  CU,
  type DataFixture,
  HOUR_NS,
  openDataFixture,
  REPORT_AT,
  seedCu as seedCuData,
} from './data-fixtures.ts';
import { type BrowserSession, errorOf, WebTestStack } from './support.ts';

const TICK_NS = 500_000_000n;
/** Ticks stored on the first trading day (enough to downsample). */
const DAY0_TICKS = 5000;

let fixture: DataFixture;
let store: TickStore;
let artifacts: LocalArtifactStore;
let calendar: TradingCalendar;
let web: WebTestStack;
let viewer: BrowserSession;
/** Ten trading days 2026-01-05 … 2026-01-16. */
let D: string[];
let hash: string;
/** First tick of day 0 (09:00 CST). */
let day0Start: bigint;

const day = (i: number) => D[i] as string;

async function seedCu(): Promise<void> {
  // The shared cu dataset (schedule, ticks, validation rows and report), plus two schedule runs for the report history.
  await seedCuData(fixture, DAY0_TICKS);
  hash = fixture.hash;
  const earlier = Date.UTC(2026, 0, 15, 10, 30);
  for (const [t, job] of [
    [earlier, 'J0'],
    [REPORT_AT, 'J1'],
  ] as const) {
    await writeReport(artifacts, 'main_schedule', 'cu', t, job, {
      created_at: new Date(t).toISOString(),
      relation: 'initial',
      schedule_hash: hash,
      rows: 10,
      warnings: [],
      health: { ok: true, problems: [] },
    });
  }
}

beforeAll(async () => {
  fixture = await openDataFixture('api-data');
  ({ store, artifacts, calendar } = fixture);
  D = fixture.days;
  day0Start = cstMidnightNs(day(0)) + 9n * HOUR_NS;
  await seedCu();
  // au: a validation report that is not JSON. ag: nothing at all.
  await artifacts.put(`reports/main_l5_validate/${AU}_latest.json`, '{"state": "ok",');
  web = await WebTestStack.create({ data: { store, artifacts, calendar } });
  viewer = await web.login(await web.createUser('viewer'));
});

afterAll(async () => {
  await web?.close();
  await fixture?.close();
});

async function getJson<T>(url: string): Promise<T> {
  const res = await web.request(url, { headers: { cookie: viewer.cookie } });
  expect(res.status, `${url}: ${res.status}`).toBe(200);
  return (await res.json()) as T;
}

async function expect400(url: string, mentions: string): Promise<void> {
  const res = await web.request(url, { headers: { cookie: viewer.cookie } });
  expect(res.status, url).toBe(400);
  const err = await errorOf(res);
  expect(err.code).toBe('validation_failed');
  expect(err.message).toContain(mentions);
}

/** The §1 status payload fields every status-like data answer carries (`status-contract.ts`). */
function contract(body: unknown): { state: string; text: string; error: string; updated_at: string; stale: boolean } {
  return body as { state: string; text: string; error: string; updated_at: string; stale: boolean };
}

describe('GET /api/data/coverage', () => {
  it('lists every day of the coverage with its status, gaps and validation state', async () => {
    // Act
    const body = await getJson<CoverageResponse>('/api/data/coverage?var=cu');

    // Assess (with the §1 status payload)
    expect(body).toMatchObject({
      var: 'cu',
      symbol: CU,
      status: 'ok',
      to: day(9),
      state: 'ok',
      error: '',
      stale: false,
    });
    expect(contract(body).text).toMatch(new RegExp(`^\\d+ days of KQ\\.m@SHFE\\.cu, .*\\.\\.${day(9)}$`));
    expect(contract(body).updated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const byDay = new Map(body.days.map((d) => [d.trading_day, d]));
    expect(byDay.get(day(0))).toEqual({
      trading_day: day(0),
      status: 'complete',
      rows: DAY0_TICKS,
      main_contract: 'SHFE.cu2602',
      gap_s: 3,
      validation_state: 'ok',
    });
    expect(byDay.get(day(3))).toMatchObject({ status: 'missing', rows: 0 });
    expect(byDay.get(day(4))).toMatchObject({ status: 'partial', rows: 30, gap_s: 95, validation_state: 'gap_gt30' });
    expect(byDay.get(day(5))?.status).toBe('invalid');
    expect(byDay.get(day(5))?.reason).toContain('not compatible');
    expect(byDay.get(day(9))).toMatchObject({ status: 'pending', rows: 0 });
    // The weekend inside the listed range is non_trading; nothing is unscheduled here.
    expect(byDay.get('2026-01-10')).toEqual({ trading_day: '2026-01-10', status: 'non_trading', rows: 0 });
    expect(byDay.get('2026-01-11')?.status).toBe('non_trading');
    expect(body.days.map((d) => d.trading_day)).toEqual([...body.days.map((d) => d.trading_day)].sort());
    expect(body.days).toHaveLength(12);
  });

  it('keeps only the days inside from..to', async () => {
    // Act
    const body = await getJson<CoverageResponse>(`/api/data/coverage?var=cu&from=${day(1)}&to=${day(2)}`);

    // Assess
    expect(body.from).toBe(day(1));
    expect(body.to).toBe(day(2));
    expect(body.days.map((d) => [d.trading_day, d.status, d.rows])).toEqual([
      [day(1), 'complete', 20],
      [day(2), 'complete', 10],
    ]);
  });

  it('answers status none with no days for a variety with nothing stored', async () => {
    // Act
    const body = await getJson<CoverageResponse>('/api/data/coverage?var=ag');

    // Assess
    expect(body.status).toBe('none');
    expect(body.message).toContain('no schedule and no stored ticks');
    expect(body.days).toEqual([]);
    expect(contract(body)).toMatchObject({ state: 'empty', text: body.message, error: '' });
  });

  it('answers 400 for a bad variety, a bad date, a reversed or too long range', async () => {
    await expect400('/api/data/coverage?var=xx', 'var');
    await expect400('/api/data/coverage', 'var');
    await expect400('/api/data/coverage?var=cu&from=2026-13-01', 'YYYY-MM-DD');
    await expect400(`/api/data/coverage?var=cu&from=${day(2)}&to=${day(1)}`, 'from must not be after to');
    await expect400('/api/data/coverage?var=cu&from=2010-01-01&to=2026-01-01', 'at most 3650 days');
  });
});

describe('GET /api/data/schedule', () => {
  it('answers the schedule with its rolls and the last run', async () => {
    // Act
    const body = await getJson<ScheduleResponse>('/api/data/schedule?var=cu');

    // Assess
    if (body.status !== 'ok' || body.run.status !== 'ok') throw new Error(JSON.stringify(body));
    expect(body.data).toMatchObject({ schedule_hash: hash, start: day(0), end: day(9), days: 10 });
    expect(body.data.rolls).toEqual([
      { trading_day: day(6), from_contract: 'SHFE.cu2602', to_contract: 'SHFE.cu2603', segment_id: 1 },
    ]);
    expect(body.run.data).toMatchObject({ relation: 'initial', rows: 10, health_ok: true });
  });

  it('answers none for a variety never scheduled', async () => {
    // Act
    const body = await getJson<ScheduleResponse>('/api/data/schedule?var=ag');

    // Assess
    expect(body.status).toBe('none');
    expect(body.run.status).toBe('none');
  });
});

describe('GET /api/data/validation/*', () => {
  it('answers the summary of the last validation without its gap list', async () => {
    // Act
    const body = await getJson<ValidationSummaryResponse>('/api/data/validation/summary?var=cu');

    // Assess
    if (body.status !== 'ok') throw new Error(JSON.stringify(body));
    expect(body.data).toMatchObject({
      state: 'error',
      policy_state: 'error',
      reason_code: 'gap_gt30_block',
      checked_days: 5,
      missing_days: 1,
      issues_total: 2,
    });
    expect(body.data).not.toHaveProperty('top_gap_days');
  });

  it('adds the newest `days` validated days (default 30, clamped into 1..3650) with their totals', async () => {
    // Act
    const all = await getJson<ValidationSummaryResponse>('/api/data/validation/summary?var=cu');
    const one = await getJson<ValidationSummaryResponse>('/api/data/validation/summary?var=cu&days=1');
    const none = await getJson<ValidationSummaryResponse>('/api/data/validation/summary?var=cu&days=0');
    const huge = await getJson<ValidationSummaryResponse>('/api/data/validation/summary?var=cu&days=999999');

    // Assess
    if (all.status !== 'ok' || one.status !== 'ok') throw new Error(JSON.stringify({ all, one }));
    expect(all.days).toBe(30);
    expect(all.data.recent).toMatchObject({
      days: 30,
      from: day(0),
      to: day(4),
      validated_days: 2,
      clean_days: 1,
      gap_days: 1,
      missing_days: 0,
      max_gap_s: 95,
    });
    expect(all.data.recent.items.map((d) => [d.trading_day, d.gap_count_gt_30])).toEqual([
      [day(4), 2],
      [day(0), 0],
    ]);
    expect(one.days).toBe(1);
    expect(one.data.recent).toMatchObject({ days: 1, from: day(4), to: day(4), validated_days: 1, clean_days: 0 });
    expect(one.data.recent.items.map((d) => d.trading_day)).toEqual([day(4)]);
    expect(none.days).toBe(1);
    expect(huge.days).toBe(3650);
    await expect400('/api/data/validation/summary?var=cu&days=week', 'days must be an integer');
  });

  it('answers error for an unreadable report and none for an absent one, both 200', async () => {
    // Act
    const au = await getJson<ValidationSummaryResponse>('/api/data/validation/summary?var=au');
    const ag = await getJson<ValidationSummaryResponse>('/api/data/validation/gaps?var=ag');

    // Assess
    expect(au).toMatchObject({
      status: 'error',
      state: 'error',
      error: 'report_invalid',
      error_detail: { code: 'report_invalid' },
      stale: false,
    });
    expect((au as unknown as { text: string }).text).toMatch(/^unreadable: /);
    expect(ag).toMatchObject({ status: 'none', state: 'empty', error: '', stale: false });
  });

  it('answers the gap days worst first up to limit, clamping numeric limits and refusing others', async () => {
    // Act
    const all = await getJson<GapDaysResponse>('/api/data/validation/gaps?var=cu');
    const one = await getJson<GapDaysResponse>('/api/data/validation/gaps?var=cu&limit=0');

    // Assess
    if (all.status !== 'ok' || one.status !== 'ok') throw new Error(JSON.stringify({ all, one }));
    expect(all.limit).toBe(500);
    expect(all.data.items.map((g) => [g.trading_day, g.max_gap_s])).toEqual([
      [day(4), 95],
      [day(3), null],
    ]);
    expect(one.limit).toBe(1);
    expect(one.data.items.map((g) => g.trading_day)).toEqual([day(4)]);
    expect(one.data.issues_total).toBe(2);
    await expect400('/api/data/validation/gaps?var=cu&limit=abc', 'limit must be an integer');
  });
});

describe('GET /api/data/reports', () => {
  it('answers the latest report and the history newest first per step', async () => {
    // Act
    const body = await getJson<ReportsResponse>('/api/data/reports?var=cu');
    const limited = await getJson<ReportsResponse>('/api/data/reports?var=cu&limit=1');

    // Assess
    const s = body.steps.schedule;
    if (s.status !== 'ok') throw new Error(JSON.stringify(body));
    expect(s.data.latest?.key).toBe('reports/main_schedule/cu_latest.json');
    expect(s.data.latest?.uri).toBe(artifacts.uri('reports/main_schedule/cu_latest.json'));
    expect(s.data.history.map((r) => r.key)).toEqual([
      'reports/main_schedule/cu_20260116T103000000_J1.json',
      'reports/main_schedule/cu_20260115T103000000_J0.json',
    ]);
    expect(body.steps.validation.status).toBe('ok');
    expect(body.steps.build).toMatchObject({ status: 'none' });
    expect(contract(body)).toMatchObject({ state: 'ok', error: '', stale: false });
    const l = limited.steps.schedule;
    if (l.status !== 'ok') throw new Error(JSON.stringify(limited));
    expect(l.data.history.map((r) => r.key)).toEqual(['reports/main_schedule/cu_20260116T103000000_J1.json']);
  });
});

describe('GET /api/data/ticks', () => {
  const ticksUrl = (q: Record<string, string>) => `/api/data/ticks?${new URLSearchParams(q).toString()}`;

  it('downsamples evenly to max_points, keeping the first and the last tick', async () => {
    // Arrange: the whole first day and then some (5000 ticks at 2/s from 09:00 CST).
    const last = day0Start + BigInt(DAY0_TICKS - 1) * TICK_NS;

    // Act
    const body = await getJson<TicksResponse>(
      ticksUrl({ symbol: CU, from_ns: String(day0Start - HOUR_NS), to_ns: String(last + HOUR_NS), max_points: '100' }),
    );

    // Assess
    expect(body).toMatchObject({
      symbol: CU,
      exec_symbol: 'SHFE.cu2602',
      downsampled: true,
      total_points: DAY0_TICKS,
      max_points: 100,
    });
    expect(body.trading_days).toEqual([day(0)]);
    expect(body.points).toHaveLength(100);
    expect(body.points[0]?.[0]).toBe(String(day0Start));
    expect(body.points[99]?.[0]).toBe(String(last));
    const ts = body.points.map((p) => BigInt(p[0]));
    for (let i = 1; i < ts.length; i++) expect((ts[i] as bigint) > (ts[i - 1] as bigint)).toBe(true);
    // Row 0 of the fixture: last 70000, bid1 69990, ask1 70010, volume 0.
    expect(body.points[0]).toEqual([String(day0Start), 70_000, 69_990, 70_010, 0]);
  });

  it('answers every tick of a small range as is, and clamps max_points to 100', async () => {
    // Arrange: ticks 10..19 of day 0.
    const from = day0Start + 10n * TICK_NS;
    const to = day0Start + 19n * TICK_NS;

    // Act
    const body = await getJson<TicksResponse>(
      ticksUrl({ symbol: CU, from_ns: String(from), to_ns: String(to), max_points: '5' }),
    );

    // Assess
    expect(body.max_points).toBe(100);
    expect(body.downsampled).toBe(false);
    expect(body.points.map((p) => p[0])).toEqual(
      Array.from({ length: 10 }, (_, i) => String(from + BigInt(i) * TICK_NS)),
    );
  });

  it('answers the ticks that traded a contract, and empty points for one that never traded', async () => {
    // Arrange: days 0..2 (ticks stored on each, all on SHFE.cu2602).
    const q = { from_ns: String(cstMidnightNs(day(0))), to_ns: String(cstMidnightNs(day(3))) };

    // Act
    const traded = await getJson<TicksResponse>(ticksUrl({ ...q, symbol: 'SHFE.cu2602', max_points: '10000' }));
    const never = await getJson<TicksResponse>(ticksUrl({ ...q, symbol: 'SHFE.cu2603' }));
    const noData = await getJson<TicksResponse>(ticksUrl({ ...q, symbol: 'KQ.m@SHFE.ag' }));

    // Assess
    expect(traded.trading_days).toEqual([day(0), day(1), day(2), day(3)]);
    expect(traded).toMatchObject({ exec_symbol: 'SHFE.cu2602', total_points: DAY0_TICKS + 20 + 10 });
    expect(never).toMatchObject({ exec_symbol: 'SHFE.cu2603', points: [], total_points: 0, downsampled: false });
    expect(noData).toMatchObject({ exec_symbol: null, points: [], downsampled: false });
  });

  it('answers 400 for a bad symbol, a reversed range, more than 7 days and non-numeric bounds', async () => {
    const from = day0Start;
    await expect400(ticksUrl({ symbol: 'cu2602', from_ns: String(from), to_ns: String(from + 1n) }), 'symbol');
    await expect400(ticksUrl({ symbol: 'KQ.m@SHFE.zn', from_ns: String(from), to_ns: String(from + 1n) }), 'symbol');
    await expect400(
      ticksUrl({ symbol: CU, from_ns: String(from + 1n), to_ns: String(from) }),
      'from_ns must not be after to_ns',
    );
    await expect400(
      ticksUrl({ symbol: CU, from_ns: String(from), to_ns: String(from + 7n * 24n * HOUR_NS + 1n) }),
      'at most 7 days',
    );
    await expect400(ticksUrl({ symbol: CU, from_ns: 'yesterday', to_ns: String(from) }), 'epoch nanoseconds');
    await expect400(
      ticksUrl({ symbol: CU, from_ns: String(from), to_ns: String(from), max_points: 'x' }),
      'max_points',
    );
  });
});

describe('GET /api/data/quality/readiness', () => {
  interface Readiness {
    state: string;
    layers: { layer: string; state: string; reason_code: string | null; action_hint: string | null }[];
    field_quality: { status: string; data?: { status: string; score: number } };
  }

  it('layers the last validation and field-quality check, the worst one deciding, each naming what to do', async () => {
    // Prepare: a field-quality run with a warning
    await writeReport(artifacts, 'main_l5_field_quality', CU, REPORT_AT, 'J9', {
      status: 'warn',
      score: 0.93,
      created_at: new Date(REPORT_AT).toISOString(),
      reasons: [{ code: 'l5_null_rate', level: 'warn', message: 'L5 null rate 2.1% above 1%' }],
    });

    // Act
    const r = await getJson<Readiness>('/api/data/quality/readiness?var=cu');

    // Assess: the seeded validation is an error on the policy layer (gap_gt30_block)
    expect(r.state).toBe('error');
    expect(r.layers).toEqual([
      { layer: 'engineering', state: 'ok', reason_code: null, action_hint: null },
      { layer: 'policy', state: 'error', reason_code: 'gap_gt30_block', action_hint: expect.any(String) },
      { layer: 'source', state: 'warn', reason_code: 'gap_gt30_block', action_hint: expect.any(String) },
      { layer: 'field_quality', state: 'warn', reason_code: 'l5_null_rate', action_hint: 'L5 null rate 2.1% above 1%' },
    ]);
    expect(r.field_quality).toMatchObject({ status: 'ok', data: { status: 'warn', score: 0.93 } });
    // The status and quality contracts: the worst layer speaks for the whole.
    expect(r).toMatchObject({
      error: 'gap_gt30_block',
      reason_code: 'gap_gt30_block',
      engineering_state: 'ok',
      policy_state: 'error',
      source_state: 'warn',
      overall_state: 'error',
      stale: false,
    });
    expect((r as unknown as { text: string }).text).toMatch(/^policy error \(gap_gt30_block\): /);
  });

  it('says unknown, with the command to run, for layers that never ran; unreadable reports are errors', async () => {
    const ag = await getJson<Readiness>('/api/data/quality/readiness?var=ag');
    expect(ag.state).toBe('unknown');
    expect(ag.layers.map((l) => [l.layer, l.state, l.reason_code])).toEqual([
      ['engineering', 'unknown', 'never_validated'],
      ['policy', 'unknown', 'never_validated'],
      ['source', 'unknown', 'never_validated'],
      ['field_quality', 'unknown', 'never_checked'],
    ]);
    expect(ag.layers[0]?.action_hint).toBe('run ghtrader data validate --var ag');
    expect(ag.layers[3]?.action_hint).toBe('run ghtrader data field-quality --var ag');
    expect(ag).toMatchObject({ error: '', reason_code: 'never_validated', policy_state: 'unknown' });
    expect((ag as unknown as { text: string }).text).toBe(
      'engineering unknown (never_validated): run ghtrader data validate --var ag',
    );
    const au = await getJson<Readiness>('/api/data/quality/readiness?var=au');
    expect(au.state).toBe('error');
    expect(au.layers[0]).toMatchObject({ state: 'error', reason_code: 'report_invalid' });
    await expect400('/api/data/quality/readiness?var=ni', 'var');
  });
});

describe('access', () => {
  const urls = [
    '/api/data/coverage?var=cu',
    '/api/data/schedule?var=cu',
    '/api/data/validation/summary?var=cu',
    '/api/data/validation/gaps?var=cu',
    '/api/data/reports?var=cu',
    '/api/data/ticks?symbol=KQ.m@SHFE.cu&from_ns=0&to_ns=1',
    '/api/data/quality/readiness?var=cu',
  ];

  it('answers 401 without credentials', async () => {
    for (const url of urls) {
      const res = await web.request(url);
      expect(res.status, url).toBe(401);
    }
  });

  it('answers 503 dependency_unavailable in a console without the data chain', async () => {
    // Arrange
    const bare = await WebTestStack.create();
    try {
      const session = await bare.login(await bare.createUser('viewer'));
      for (const url of urls) {
        // Act
        const res = await bare.request(url, { headers: { cookie: session.cookie } });

        // Assess
        expect(res.status, url).toBe(503);
        expect((await errorOf(res)).code).toBe('dependency_unavailable');
      }
    } finally {
      await bare.close();
    }
  });
});
