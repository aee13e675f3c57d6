/**
 * `POST /api/jobs/cancel-batch` (control-chain §3.2, §4.5, §9) over a real stack: filters by kind, var and status
 * read from the status index, queued jobs cancelled at once, running ones asked to stop (the real local runner),
 * terminal jobs untouched, the per-call limit with `truncated`, roles, CSRF, validation and the audit entries.
 * The tests share one stack and run in order: no runner runs until the last describe, so submitted jobs stay queued.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '#shared/domain/control/audit.ts';
import type { JobRecord } from '#shared/domain/control/jobs.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { isoUtc, systemClock } from '#shared/domain/time.ts';
import { type CancelBatchResult, JOB_CANCEL_BATCH_MAX, JobService } from '#shared/services/job-service.ts';
import { waitFor } from '../support/stack.ts';
import { type BrowserSession, errorOf, ORIGIN, type TestUser, WebTestStack } from './support.ts';

let web: WebTestStack;
let operator: TestUser;
let operatorToken: string;
let operatorSession: BrowserSession;
let viewerSession: BrowserSession;

beforeAll(async () => {
  web = await WebTestStack.create();
  operator = await web.createUser('operator');
  operatorToken = await web.token(operator);
  operatorSession = await web.login(operator);
  viewerSession = await web.login(await web.createUser('viewer'));
});

afterAll(async () => {
  await web?.close();
});

const submit = async (kind: string, params: Record<string, unknown>): Promise<JobRecord> => {
  const res = await web.send('POST', '/api/jobs', { kind, params }, web.bearer(operatorToken));
  if (res.status !== 201) throw new Error(`submit ${kind} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { job: JobRecord }).job;
};
const getJob = (id: string) => web.stack.rt.jobs.get(id);
const cancelBatch = (body: unknown, headers: Record<string, string> = web.browserHeaders(operatorSession)) =>
  web.send('POST', '/api/jobs/cancel-batch', body, headers);
const auditEntries = async (action: string): Promise<AuditEntry[]> =>
  (await web.stack.rt.audit.listDay(isoUtc(Date.now()).slice(0, 10), 500)).filter((e) => e.action === action);

/** Queued jobs (no runner yet) the tests below cancel step by step. */
let scheduleCu: JobRecord;
let scheduleAu: JobRecord;
let l5StartCu: JobRecord;
let sleeps: JobRecord[];

describe('POST /api/jobs/cancel-batch on queued jobs', () => {
  beforeAll(async () => {
    scheduleCu = await submit('data.schedule', { var: 'cu' });
    scheduleAu = await submit('data.schedule', { var: 'au' });
    l5StartCu = await submit('data.l5_start', { var: 'cu' });
    sleeps = [];
    for (const seconds of [30, 31, 32]) sleeps.push(await submit('system.sleep', { seconds }));
  });

  it('cancels the queued jobs matching kinds and var at once (202), leaves the rest queued and audits both levels', async () => {
    // Prepare: a cached queued list, which the batch must invalidate like a single cancel does
    const listPath = '/api/jobs?status=queued&kind=data.schedule';
    const listed = async () =>
      (
        (await (await web.request(listPath, { headers: web.browserHeaders(operatorSession) })).json()) as {
          items: { job_id: string }[];
        }
      ).items.map((j) => j.job_id);
    expect(await listed()).toEqual(expect.arrayContaining([scheduleCu.job_id, scheduleAu.job_id]));

    // Act
    const res = await cancelBatch({ kinds: ['data.schedule'], var: 'cu', reason: 'cu schedule is obsolete' });

    // Assess
    expect(res.status).toBe(202);
    expect((await res.json()) as CancelBatchResult).toEqual({
      matched: 1,
      cancel_requested: 1,
      job_ids: [scheduleCu.job_id],
      truncated: false,
    });
    const cancelled = await getJob(scheduleCu.job_id);
    expect(cancelled).toMatchObject({ status: 'cancelled', cancel_requested_by: operator.username });
    expect(cancelled.finished_at).toMatch(/Z$/);
    for (const other of [scheduleAu, l5StartCu, ...sleeps]) expect((await getJob(other.job_id)).status).toBe('queued');
    expect(await listed()).not.toContain(scheduleCu.job_id);
    const [batch] = await auditEntries('job.cancel_batch');
    expect(batch).toMatchObject({
      actor: { type: 'user', id: operator.id, name: operator.username },
      role: 'operator',
      target: 'jobs:batch',
      outcome: 'ok',
      reason: 'cu schedule is obsolete',
      after: {
        filter: { kinds: ['data.schedule'], statuses: ['queued', 'running'], var: 'cu' },
        matched: 1,
        cancel_requested: 1,
        truncated: false,
        job_ids: [scheduleCu.job_id],
      },
    });
    const perJob = (await auditEntries('job.cancel')).filter((e) => e.target === `job:${scheduleCu.job_id}`);
    expect(perJob).toHaveLength(1);
    expect(perJob[0]).toMatchObject({ request_id: batch?.request_id, reason: 'cu schedule is obsolete' });
  });

  it('filters by var and status alone and leaves terminal jobs untouched', async () => {
    // Prepare
    const before = await getJob(scheduleCu.job_id);

    // Act
    const res = await cancelBatch({ statuses: ['queued'], var: 'cu', reason: 'clear cu' });

    // Assess: only the queued cu job; the already cancelled cu schedule is neither matched nor rewritten
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      matched: 1,
      cancel_requested: 1,
      job_ids: [l5StartCu.job_id],
      truncated: false,
    });
    expect((await getJob(l5StartCu.job_id)).status).toBe('cancelled');
    expect(await getJob(scheduleCu.job_id)).toEqual(before);
    expect((await getJob(scheduleAu.job_id)).status).toBe('queued');
  });

  it('acts on at most the batch limit per call, oldest first, and says truncated when more match', async () => {
    // Prepare: the production service with a limit of 2 instead of 500, behind the same routes
    const { rt, log } = web.stack;
    const small = new JobService(
      {
        store: rt.store,
        queue: rt.queue,
        audit: rt.audit,
        events: rt.events,
        clock: systemClock,
        ids: ulidGen,
        log,
        cursorSecret: 'cancel-batch-test-secret',
        logs: rt.jobLogs,
      },
      { progressStaleS: 45, cancelBatchMax: 2 },
    );
    const app = web.appWith({ jobs: small });
    const post = async () => {
      const res = await app.request(
        `${ORIGIN}/api/jobs/cancel-batch`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...web.bearer(operatorToken) },
          body: JSON.stringify({ kinds: ['system.sleep'], reason: 'too many sleeps' }),
        },
        { incoming: { socket: { remoteAddress: web.ip } } },
      );
      expect(res.status).toBe(202);
      return (await res.json()) as CancelBatchResult;
    };
    const ids = sleeps.map((j) => j.job_id);

    // Act
    const first = await post();
    const second = await post();
    const third = await post();

    // Assess
    expect(JOB_CANCEL_BATCH_MAX).toBe(500);
    expect(first).toEqual({ matched: 2, cancel_requested: 2, job_ids: ids.slice(0, 2), truncated: true });
    expect(second).toEqual({ matched: 1, cancel_requested: 1, job_ids: ids.slice(2), truncated: false });
    expect(third).toEqual({ matched: 0, cancel_requested: 0, job_ids: [], truncated: false });
    for (const id of ids) expect((await getJob(id)).status).toBe('cancelled');
    expect((await auditEntries('job.cancel_batch')).find((e) => e.actor.type === 'token')).toMatchObject({
      after: { matched: 0, truncated: false },
    });
  });

  it('without filters cancels every active job', async () => {
    // Act
    const res = await cancelBatch({ reason: 'clean slate' });

    // Assess
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      matched: 1,
      cancel_requested: 1,
      job_ids: [scheduleAu.job_id],
      truncated: false,
    });
    expect(await web.stack.rt.jobs.counts()).toEqual({ queued: 0, running: 0 });
  });
});

describe('POST /api/jobs/cancel-batch refusals', () => {
  let queued: JobRecord;
  beforeAll(async () => {
    queued = await submit('data.schedule', { var: 'ag' });
  });

  it.each([
    ['a terminal status', { statuses: ['queued', 'succeeded'], reason: 'x' }, ['statuses', 1], /terminal/],
    ['an unknown status', { statuses: ['paused'], reason: 'x' }, ['statuses', 0], /unknown status "paused"/],
    ['an empty statuses list', { statuses: [], reason: 'x' }, ['statuses'], /omit it/],
    ['an unknown kind', { kinds: ['shell.exec'], reason: 'x' }, ['kinds', 0], /unknown job kind "shell.exec"/],
    ['a variety outside cu, au, ag', { var: 'ni', reason: 'x' }, ['var'], /cu/],
    ['no reason', { var: 'ag' }, ['reason'], /reason is required/],
    ['a blank reason', { var: 'ag', reason: '   ' }, ['reason'], /reason is required/],
    ['a reason over 500 characters', { var: 'ag', reason: 'x'.repeat(501) }, ['reason'], /500/],
    ['an unknown field', { var: 'ag', reason: 'x', argv: ['rm'] }, [], /argv/],
  ])(
    'answers 400 validation_failed naming the field for %s and cancels nothing',
    async (_what, body, path, message) => {
      // Act
      const res = await cancelBatch(body);

      // Assess
      expect(res.status).toBe(400);
      const err = await errorOf(res);
      expect(err.code).toBe('validation_failed');
      const [issue] = err.details.issues as { path: unknown[]; message: string }[];
      expect(issue?.path).toEqual(path);
      expect(issue?.message).toMatch(message);
      expect(err.message).toContain('batch cancel request');
      expect((await getJob(queued.job_id)).status).toBe('queued');
    },
  );

  it('refuses a viewer with 403 forbidden and audits the denial', async () => {
    // Act
    const res = await cancelBatch({ reason: 'viewer tries' }, web.browserHeaders(viewerSession));

    // Assess
    expect(res.status).toBe(403);
    const err = await errorOf(res);
    expect(err).toMatchObject({ code: 'forbidden', details: { required_role: 'operator' } });
    expect((await auditEntries('job.cancel_batch')).some((e) => e.outcome === 'denied' && e.role === 'viewer')).toBe(
      true,
    );
    expect((await getJob(queued.job_id)).status).toBe('queued');
  });

  it('refuses a cookie request without x-csrf-token with 403 csrf_failed', async () => {
    // Act
    const res = await cancelBatch({ reason: 'no csrf' }, { cookie: operatorSession.cookie, origin: ORIGIN });

    // Assess
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('csrf_failed');
    expect((await getJob(queued.job_id)).status).toBe('queued');
  });

  afterAll(async () => {
    await cancelBatch({ reason: 'cleanup' });
  });
});

describe('POST /api/jobs/cancel-batch with a runner', () => {
  it('asks running jobs to stop, cancels the queued one at once and leaves a succeeded job alone', async () => {
    // Prepare: a finished selftest, two sleeps on both runner slots, a third sleep waiting in the queue
    expect(await web.stack.rt.jobs.counts()).toEqual({ queued: 0, running: 0 });
    web.stack.startRunner();
    const selftest = await submit('system.selftest', {});
    const done = await waitFor(
      async () => {
        const j = await getJob(selftest.job_id);
        return j.status === 'succeeded' ? j : null;
      },
      30_000,
      'the selftest to succeed',
    );
    const running = [await submit('system.sleep', { seconds: 60 }), await submit('system.sleep', { seconds: 61 })];
    await waitFor(
      async () => (await Promise.all(running.map((j) => getJob(j.job_id)))).every((j) => j.status === 'running'),
      15_000,
      'both sleeps running',
    );
    const waiting = await submit('system.sleep', { seconds: 62 });

    // Act
    const res = await cancelBatch(
      { kinds: ['system.sleep', 'system.selftest'], reason: 'stop the sleeps' },
      web.bearer(operatorToken),
    );

    // Assess
    expect(res.status).toBe(202);
    const body = (await res.json()) as CancelBatchResult;
    expect(body).toMatchObject({ matched: 3, cancel_requested: 3, truncated: false });
    expect([...body.job_ids].sort()).toEqual([...running, waiting].map((j) => j.job_id).sort());
    // Queued jobs come first: the waiting sleep is cancelled at once, the running ones carry the request.
    expect(body.job_ids[0]).toBe(waiting.job_id);
    expect((await getJob(waiting.job_id)).status).toBe('cancelled');
    for (const j of running) {
      const now = await getJob(j.job_id);
      expect(now.cancel_requested_by).toBe(operator.username);
      expect(now.cancel_requested_at).toMatch(/Z$/);
    }
    for (const j of running) {
      await waitFor(async () => (await getJob(j.job_id)).status === 'cancelled', 15_000, `sleep ${j.job_id} cancelled`);
    }
    expect(await getJob(selftest.job_id)).toEqual(done);
    const again = await cancelBatch({ kinds: ['system.sleep'], reason: 'again' }, web.bearer(operatorToken));
    expect(await again.json()).toEqual({ matched: 0, cancel_requested: 0, job_ids: [], truncated: false });
  }, 60_000);
});
