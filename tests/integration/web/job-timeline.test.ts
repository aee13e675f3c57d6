/**
 * `GET /api/jobs/timeline` and the Jobs page's timeline (control-chain §3.2, §8) on dynalite: the window's jobs by
 * creation time (key conditions on the `entity-`/`var-created_at` indexes), a job still running from before the window
 * included, jobs outside it left out, `var` scoping, `hours` (24, clamped into 1..168), over-long windows clamped,
 * reversed windows 400, and the server-rendered SVG with its text summary, legend and table view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord, JobStatus } from '#shared/domain/control/jobs.ts';
import type { JobVar } from '#shared/domain/control/varieties.ts';
import { isoUtc } from '#shared/domain/time.ts';
import { storedJob } from './job-fixtures.ts';
import { errorOf, WebTestStack } from './support.ts';

const H = 3600_000;

function record(createdMs: number, status: JobStatus, v: JobVar): JobRecord {
  return storedJob({ createdMs, status, var: v, by: 'timeline-test' });
}

let web: WebTestStack;
let cookie: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  web = await WebTestStack.create();
  cookie = (await web.login(await web.createUser('viewer'))).cookie;
  const now = Date.now();
  const seeds: Record<string, JobRecord> = {
    recentCu: record(now - 2 * H, 'succeeded', 'cu'),
    recentAu: record(now - 3 * H, 'failed', 'au'),
    oldDone: record(now - 30 * H, 'succeeded', 'cu'),
    oldRunning: record(now - 40 * H, 'running', 'cu'),
  };
  for (const [name, r] of Object.entries(seeds)) {
    await web.stack.rt.store.create(r);
    ids[name] = r.job_id;
  }
});

afterAll(async () => {
  await web?.close();
});

const get = (path: string) => web.request(path, { headers: { cookie } });

describe('GET /api/jobs/timeline', () => {
  it('lists the last 24 h plus a job still running from before, and leaves older finished jobs out', async () => {
    const res = await get('/api/jobs/timeline');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { from: string; to: string; items: { job_id: string }[]; truncated: boolean };
    const got = body.items.map((i) => i.job_id);
    expect(got).toEqual([ids.recentCu, ids.recentAu, ids.oldRunning]);
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(24 * H);
    expect(body.truncated).toBe(false);
  });

  it('scopes to one variety and honours an explicit window', async () => {
    const cu = (await (await get('/api/jobs/timeline?var=au')).json()) as { items: { job_id: string }[] };
    expect(cu.items.map((i) => i.job_id)).toEqual([ids.recentAu]);
    const from = isoUtc(Date.now() - 31 * H).replace(/\.\d{3}Z$/, 'Z');
    const to = isoUtc(Date.now() - 29 * H).replace(/\.\d{3}Z$/, 'Z');
    const old = (await (await get(`/api/jobs/timeline?from=${from}&to=${to}`)).json()) as {
      items: { job_id: string; status: string }[];
    };
    expect(old.items.map((i) => i.job_id)).toEqual([ids.oldDone, ids.oldRunning]);
  });

  it('refuses a reversed window, non-numeric hours, from with hours and unknown fields with 400 validation_failed', async () => {
    const reversed = await get('/api/jobs/timeline?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z');
    expect(reversed.status).toBe(400);
    expect((await errorOf(reversed)).message).toMatch(/must be before to/);
    expect((await get('/api/jobs/timeline?from=yesterday')).status).toBe(400);
    expect((await get('/api/jobs/timeline?limit=5')).status).toBe(400);
    const words = await get('/api/jobs/timeline?hours=many');
    expect(words.status).toBe(400);
    expect((await errorOf(words)).code).toBe('validation_failed');
    expect((await get('/api/jobs/timeline?hours=2&from=2026-01-01T00:00:00Z')).status).toBe(400);
  });

  it('clamps an over-7-day from..to window to the 168 h ending at to instead of refusing it', async () => {
    const wide = await get('/api/jobs/timeline?from=2026-01-01T00:00:00Z&to=2026-01-09T00:00:00Z');
    expect(wide.status).toBe(200);
    expect(await wide.json()).toMatchObject({
      from: '2026-01-02T00:00:00.000Z',
      to: '2026-01-09T00:00:00.000Z',
      hours: 168,
      clamped: true,
    });
  });

  it('takes hours (default 24, clamped into 1..168) and says which window it used', async () => {
    type Body = { from: string; to: string; hours: number; clamped: boolean; items: { job_id: string }[] };
    const def = (await (await get('/api/jobs/timeline')).json()) as Body;
    expect(def).toMatchObject({ hours: 24, clamped: false });

    const huge = await get('/api/jobs/timeline?hours=999999');
    expect(huge.status).toBe(200);
    const body = (await huge.json()) as Body;
    expect(body).toMatchObject({ hours: 168, clamped: true });
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(168 * H);
    // 168 h reaches the 30 h old finished job the default window leaves out.
    expect(body.items.map((i) => i.job_id)).toEqual([ids.recentCu, ids.recentAu, ids.oldDone, ids.oldRunning]);

    const short = (await (await get('/api/jobs/timeline?hours=0')).json()) as Body;
    expect(short).toMatchObject({ hours: 1, clamped: true });
    expect(Date.parse(short.to) - Date.parse(short.from)).toBe(H);
    // Only the job still running from before is in the last hour.
    expect(short.items.map((i) => i.job_id)).toEqual([ids.oldRunning]);

    const three = (await (await get('/api/jobs/timeline?hours=3')).json()) as Body;
    expect(three).toMatchObject({ hours: 3, clamped: false });
    expect(three.items.map((i) => i.job_id)).toContain(ids.recentCu);
  });
});

describe('Jobs page timeline', () => {
  it('renders one SVG bar per job with a status pattern, a text summary, a legend and a table view', async () => {
    const res = await get('/v/cu/jobs');
    expect(res.status).toBe(200);
    const html = await res.text();
    const svg = html.slice(
      html.indexOf('<svg class="timeline-chart"'),
      html.indexOf('</svg>', html.indexOf('timeline-chart')),
    );
    for (const id of [ids.recentCu, ids.recentAu, ids.oldRunning]) expect(svg).toContain(`data-job-id="${id}"`);
    expect(svg).not.toContain(`data-job-id="${ids.oldDone}"`);
    expect(svg).toMatch(/data-status="failed"[^>]*>|fill="url\(#tl-failed\)"/);
    expect(html).toMatch(/id="jobs-timeline-summary"[^>]*>[\s\S]*3 jobs: 1 running, 1 succeeded, 1 failed\./);
    expect(html).toContain('Table view of the timeline');
    expect(html).toContain('class="timeline-legend"');
  });
});
