import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoUtc } from '#shared/domain/time.ts';
import type { RequestContext } from '#shared/services/job-service.ts';
import { createTestStack, type TestStack, waitFor } from '../support/stack.ts';

const operator: RequestContext = { actor: { actor: 'alice', role: 'operator' }, requestId: 'test-request-0001' };

describe('jobs backbone on the real emulators with the local Lambda runner', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ runner: true, maxReceiveCount: 3 });
  });
  afterAll(async () => {
    await stack.close();
  });

  const job = (id: string) => stack.rt.jobs.get(id);
  const terminal = (id: string, timeoutMs = 20_000) =>
    waitFor(
      async () => {
        const j = await job(id);
        return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
      },
      timeoutMs,
      `job ${id} to finish`,
    );

  it('runs a selftest to succeeded with progress and a report of every store', async () => {
    // Act
    const { job: submitted, deduped } = await stack.rt.jobs.submit({ kind: 'system.selftest', params: {} }, operator);
    const done = await terminal(submitted.job_id);

    // Assess
    expect(deduped).toBe(false);
    expect(done.status).toBe('succeeded');
    expect(done.progress?.pct).toBe(1);
    const result = done.result as { ok: boolean; checks: { store: string; ok: boolean }[] };
    expect(result.ok).toBe(true);
    expect(result.checks.map((c) => c.store)).toEqual(
      expect.arrayContaining(['dynamo:Jobs', 'dynamo:Locks', 'dynamo:Users', 'dynamo:Audit', 'sqs:jobs', 'redis']),
    );
    expect(
      result.checks.filter((c) => c.store.startsWith('dynamo:') || c.store === 'sqs:jobs').every((c) => c.ok),
    ).toBe(true);
    expect(done.attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'succeeded' })]);
    for (const ts of [done.created_at, done.started_at, done.finished_at, done.progress?.updated_at])
      expect(ts).toMatch(/Z$/);
  });

  it('returns the active job for a duplicate submission spelled differently, and a new job once it ended', async () => {
    // Prepare
    const first = await stack.rt.jobs.submit({ kind: 'system.sleep', params: { seconds: 1 } }, operator);

    // Act
    const second = await stack.rt.jobs.submit(
      { kind: 'system.sleep', params: { fail_retryable: true, seconds: 1 } },
      operator,
    );
    await terminal(first.job.job_id);
    const third = await stack.rt.jobs.submit({ kind: 'system.sleep', params: { seconds: 1 } }, operator);

    // Assess
    expect(second).toMatchObject({ deduped: true, job: { job_id: first.job.job_id } });
    expect(third.deduped).toBe(false);
    expect(third.job.job_id).not.toBe(first.job.job_id);
    await terminal(third.job.job_id);
  });

  it('reports progress that never decreases while a sleep runs', async () => {
    // Prepare
    const { job: j } = await stack.rt.jobs.submit({ kind: 'system.sleep', params: { seconds: 3 } }, operator);
    const seen: number[] = [];

    // Act
    for (;;) {
      const p = await stack.rt.jobs.progress(j.job_id);
      if (p.progress) seen.push(p.progress.pct);
      if (p.job_status === 'succeeded' || p.job_status === 'failed') break;
      await new Promise((r) => setTimeout(r, 150));
    }

    // Assess
    expect(seen.length).toBeGreaterThan(3);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    expect(seen.at(-1)).toBe(1);
  });

  it('cancels a running sleep within heartbeat plus grace, naming who asked', async () => {
    // Prepare
    const { job: j } = await stack.rt.jobs.submit({ kind: 'system.sleep', params: { seconds: 60 } }, operator);
    await waitFor(async () => (await job(j.job_id)).status === 'running', 10_000, 'the sleep to start');

    // Act
    const t0 = Date.now();
    await stack.rt.jobs.cancel(j.job_id, { reason: 'test' }, operator);
    const done = await terminal(j.job_id);

    // Assess
    expect(done.status).toBe('cancelled');
    expect(done.cancel_requested_by).toBe('alice');
    expect(Date.now() - t0).toBeLessThan((0.2 + 1) * 1000 + 2000);
    await expect(stack.rt.jobs.cancel(j.job_id, {}, operator)).rejects.toMatchObject({
      code: 'job_not_cancellable',
      status: 409,
    });
  });

  it('cancels a queued job at once and a later delivery does nothing', async () => {
    // Prepare: stop the runner so the job stays queued.
    await stack.runner?.stop();
    const { job: j } = await stack.rt.jobs.submit({ kind: 'system.sleep', params: { seconds: 2 } }, operator);

    // Act
    const cancelled = await stack.rt.jobs.cancel(j.job_id, {}, operator);
    stack.startRunner();
    await new Promise((r) => setTimeout(r, 1500));

    // Assess
    expect(cancelled.status).toBe('cancelled');
    const after = await job(j.job_id);
    expect(after.status).toBe('cancelled');
    expect(after.attempts).toEqual([]);
  });

  it('redelivers a handler that keeps throwing, then the DLQ marks the job failed with the reason', async () => {
    // Act
    const { job: j } = await stack.rt.jobs.submit(
      { kind: 'system.sleep', params: { seconds: 1, fail_at_pct: 0 } },
      operator,
    );
    const done = await terminal(j.job_id, 30_000);

    // Assess
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('dlq_exhausted');
    expect(done.error?.message).toMatch(/^gave up after 3 deliveries; last error: simulated_failure: /);
    expect(done.attempts.map((a) => a.outcome)).toEqual(['retry', 'retry', 'retry']);
    // Terminal states are sticky: a late cancel is refused.
    await expect(stack.rt.jobs.cancel(j.job_id, {}, operator)).rejects.toMatchObject({ code: 'job_not_cancellable' });
  });

  it('fails at once on a non-retryable handler error', async () => {
    // Act
    const { job: j } = await stack.rt.jobs.submit(
      { kind: 'system.sleep', params: { seconds: 1, fail_at_pct: 0.5, fail_retryable: false } },
      operator,
    );
    const done = await terminal(j.job_id);

    // Assess
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ code: 'simulated_failure', retryable: false, attempt: 1 });
    expect(done.attempts).toHaveLength(1);
  });

  it('re-claims a job whose worker died, records the lost attempt and rejects the dead worker’s late result', async () => {
    // Prepare: a "worker" claims the job with a short lease and then vanishes.
    await stack.runner?.stop();
    const { job: j } = await stack.rt.jobs.submit({ kind: 'system.sleep', params: { seconds: 1 } }, operator);
    const now = Date.now();
    const claim = await stack.rt.store.claim(j.job_id, {
      worker: { id: 'dead-worker', runner: 'local', request_id: 'r' },
      seenAttempt: 0,
      leaseExpiresAt: isoUtc(now + 300),
      now: isoUtc(now),
    });
    expect(claim.ok).toBe(true);

    // Act: the message is redelivered once the runner polls again and the lease has expired.
    await new Promise((r) => setTimeout(r, 400));
    stack.startRunner();
    const done = await terminal(j.job_id);
    const late = await stack.rt.store.finish(
      { jobId: j.job_id, workerId: 'dead-worker', attempt: 1, attemptIdx: 0 },
      { status: 'succeeded', now: isoUtc(Date.now()), outcome: 'succeeded' },
    );

    // Assess
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(done.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'lost'],
      [2, 'succeeded'],
    ]);
    expect(late.ok).toBe(false);
  });

  it('rejects unknown kinds, extra fields and bad params without writing a record', async () => {
    // Act + Assess
    await expect(stack.rt.jobs.submit({ kind: 'system.nope', params: {} }, operator)).rejects.toMatchObject({
      code: 'validation_failed',
      status: 400,
    });
    await expect(
      stack.rt.jobs.submit({ kind: 'system.sleep', params: { seconds: 1 }, argv: ['rm'] }, operator),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(
      stack.rt.jobs.submit({ kind: 'system.sleep', params: { seconds: 0 } }, operator),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      details: { issues: [expect.objectContaining({ path: ['params', 'seconds'] })] },
    });
  });
});
