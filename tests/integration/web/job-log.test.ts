import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '#shared/domain/control/jobs.ts';
import type { JobLogTail } from '#shared/services/job-log.ts';
import { JobDetailPage } from '#web/pages/job-detail.tsx';
import { waitFor } from '../support/stack.ts';
import { type BrowserSession, errorOf, WebTestStack } from './support.ts';

let web: WebTestStack;
let home: string;
let operatorToken: string;
let viewerToken: string;
let operatorSession: BrowserSession;
let viewerSession: BrowserSession;
/** A finished `system.sleep` (2 s) and a finished `system.selftest`, run by the real worker. */
let sleepJob: JobRecord;
let selftestJob: JobRecord;

const UNKNOWN_ID = '01JZZZZZZZZZZZZZZZZZZZZZZZ';

async function submitAndFinish(kind: string, params: Record<string, unknown>): Promise<JobRecord> {
  const res = await web.send('POST', '/api/jobs', { kind, params }, web.bearer(operatorToken));
  const { job } = (await res.json()) as { job: JobRecord };
  return waitFor(
    async () => {
      const j = await web.stack.rt.jobs.get(job.job_id);
      return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
    },
    30_000,
    `job ${job.job_id} to finish`,
  );
}

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'ghtrader-weblog-'));
  web = await WebTestStack.create({ env: { GHTRADER_HOME: home } });
  web.stack.startRunner();
  const operator = await web.createUser('operator');
  const viewer = await web.createUser('viewer');
  operatorToken = await web.token(operator);
  viewerToken = await web.token(viewer);
  operatorSession = await web.login(operator);
  viewerSession = await web.login(viewer);
  [sleepJob, selftestJob] = await Promise.all([
    submitAndFinish('system.sleep', { seconds: 2 }),
    submitAndFinish('system.selftest', {}),
  ]);
});

afterAll(async () => {
  await web?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

const getLog = (id: string, query = '') =>
  web.request(`/api/jobs/${id}/log${query}`, { headers: web.bearer(viewerToken) });

describe('GET /api/jobs/:id/log', () => {
  it('shows a finished sleep job’s lines to a viewer, every timestamp in UTC (…Z)', async () => {
    // Act
    const res = await getLog(sleepJob.job_id);

    // Assess
    expect(sleepJob.status).toBe('succeeded');
    expect(res.status).toBe(200);
    const body = (await res.json()) as JobLogTail;
    expect(body).toMatchObject({ attempt: 1, truncated: false });
    const lines = body.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { ts: string; msg: string; job_id: string; attempt: number });
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['sleeping 2 s in 8 steps', 'slept 1 of 2 s', 'slept 2 s; done']),
    );
    expect(body.bytes).toBe(Buffer.byteLength(body.text));
    for (const l of lines) {
      expect(l.ts).toMatch(/Z$/);
      expect(l).toMatchObject({ job_id: sleepJob.job_id, attempt: 1 });
    }
  });

  it('clamps max_bytes=1 to 1024 bytes (truncated), and refuses a non-numeric max_bytes with 400', async () => {
    // Act
    const full = (await (await getLog(selftestJob.job_id)).json()) as JobLogTail;
    const clamped = await getLog(selftestJob.job_id, '?max_bytes=1');
    const bad = await getLog(selftestJob.job_id, '?max_bytes=abc');

    // Assess
    expect(full.bytes).toBeGreaterThan(1024);
    expect(clamped.status).toBe(200);
    const tail = (await clamped.json()) as JobLogTail;
    expect(tail.bytes).toBeLessThanOrEqual(1024);
    expect(tail.truncated).toBe(true);
    expect(full.text.endsWith(tail.text)).toBe(true);
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe('validation_failed');
  });

  it('answers 404 for an unknown job and for an attempt the job never had', async () => {
    // Act
    const unknown = await getLog(UNKNOWN_ID);
    const notUlid = await getLog('not-a-job');
    const attempt = await getLog(sleepJob.job_id, '?attempt=5');

    // Assess
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe('not_found');
    expect(notUlid.status).toBe(404);
    expect(attempt.status).toBe(404);
    expect((await errorOf(attempt)).message).toBe(`job ${sleepJob.job_id} has no attempt 5; its attempts are 1..1`);
  });

  it('requires authentication', async () => {
    // Act
    const res = await web.request(`/api/jobs/${sleepJob.job_id}/log`);

    // Assess
    expect(res.status).toBe(401);
  });
});

describe('GET /api/jobs/:id/log/download', () => {
  it('downloads the whole log as an NDJSON attachment', async () => {
    // Act
    const res = await web.request(`/api/jobs/${selftestJob.job_id}/log/download`, {
      headers: web.bearer(viewerToken),
    });

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="job-${selftestJob.job_id}-log.ndjson"`);
    const text = await res.text();
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; job_id: string });
    expect(lines.every((l) => l.job_id === selftestJob.job_id)).toBe(true);
    expect(lines[0]?.msg).toBe('attempt 1 of 3 started');
    expect(lines.at(-1)?.msg).toBe('attempt ended: handler returned');
    const full = (await (await getLog(selftestJob.job_id)).json()) as JobLogTail;
    expect(text).toBe(full.text);
  });

  it('answers 404 for an unknown job', async () => {
    // Act
    const res = await web.request(`/api/jobs/${UNKNOWN_ID}/log/download`, { headers: web.bearer(viewerToken) });

    // Assess
    expect(res.status).toBe(404);
  });
});

describe('job detail page', () => {
  const page = (id: string, s: BrowserSession) => web.request(`/v/cu/jobs/${id}`, { headers: { cookie: s.cookie } });

  it('gives an operator the log panel, Download log, Copy id and Resubmit with the job’s kind and params', async () => {
    // Act
    const res = await page(sleepJob.job_id, operatorSession);

    // Assess
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="job-log"');
    expect(html).toContain('id="job-log-text"');
    expect(html).toContain(`href="/api/jobs/${sleepJob.job_id}/log/download"`);
    expect(html).toContain('Download log');
    expect(html).toContain('id="copy-job-id"');
    expect(html).toContain('id="resubmit-job"');
    const data = /<script type="application\/json" id="page-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '{}';
    expect(JSON.parse(data)).toMatchObject({
      page: 'job',
      job_id: sleepJob.job_id,
      resubmit: { kind: 'system.sleep', params: sleepJob.params },
    });
  });

  it('shows a viewer the log and Download log but no Resubmit', async () => {
    // Act
    const html = await (await page(sleepJob.job_id, viewerSession)).text();

    // Assess
    expect(html).toContain('id="job-log-text"');
    // The first paint carries the tail (the client follows it from there).
    expect(/<pre[^>]*id="job-log-text"[^>]*>([\s\S]*?)<\/pre>/.exec(html)?.[1]).toContain('slept 2 s; done');
    expect(html).toContain(`href="/api/jobs/${sleepJob.job_id}/log/download"`);
    expect(html).not.toContain('id="resubmit-job"');
    expect(html).not.toContain('"resubmit"');
  });

  it('offers Follow (pressed) and the 1/2/5/10 s interval (2 s selected) while a job is active', async () => {
    // Prepare
    const res = await web.send(
      'POST',
      '/api/jobs',
      { kind: 'system.sleep', params: { seconds: 30 } },
      web.bearer(operatorToken),
    );
    const { job } = (await res.json()) as { job: JobRecord };

    // Act
    const html = await (await page(job.job_id, operatorSession)).text();
    await web.stack.rt.jobs.cancel(job.job_id, {}, { actor: { actor: 'test', role: 'operator' }, requestId: 'r' });

    // Assess
    expect(html).toMatch(/<button type="button" id="job-log-follow" class="toggle" aria-pressed="true">/);
    const select = /<select id="job-log-interval">([\s\S]*?)<\/select>/.exec(html)?.[1] ?? '';
    expect([...select.matchAll(/<option value="(\d+)"/g)].map((m) => m[1])).toEqual(['1', '2', '5', '10']);
    expect(select).toMatch(/<option value="2" selected="">2 s<\/option>/);
  });

  it('renders a given tail as readable lines with its size', async () => {
    // Prepare
    const tail = (await (await getLog(sleepJob.job_id)).json()) as JobLogTail;
    const progress = await web.stack.rt.jobs.progress(sleepJob.job_id);

    // Act
    const html = await JobDetailPage({
      ctx: {
        variety: 'cu',
        section: 'jobs',
        user: { username: 'op', role: 'operator' },
        status: null,
        assets: { css: '/static/app.css', js: '/static/app.js' },
        csrfToken: null,
      },
      job: sleepJob,
      progress,
      canOperate: true,
      log: tail,
    }).toString();

    // Assess
    expect(html).toMatch(/Z INFO {2}slept 1 of 2 s slept_s=1 seconds=2/);
    expect(html).toContain('data-loaded="true"');
    expect(html).toContain(`Attempt 1, ${tail.bytes} bytes.`);
  });
});

describe('Resubmit', () => {
  it('accepts the finished job’s kind and stored params as a new submission', async () => {
    // Act
    const res = await web.send(
      'POST',
      '/api/jobs',
      { kind: sleepJob.kind, params: sleepJob.params },
      web.bearer(operatorToken),
    );

    // Assess
    expect(res.status).toBe(201);
    const body = (await res.json()) as { job: JobRecord; deduped: boolean };
    expect(body.deduped).toBe(false);
    expect(body.job.job_id).not.toBe(sleepJob.job_id);
    expect(body.job.dedupe_key).toBe(sleepJob.dedupe_key);
  });
});
