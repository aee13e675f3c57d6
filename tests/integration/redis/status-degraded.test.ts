import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '#shared/domain/time.ts';
import type { RequestContext } from '#shared/services/job-service.ts';
import { StatusService } from '#shared/services/status-service.ts';
import type { SelftestCheck } from '#shared/services/system-jobs.ts';
import { createTestStack, type TestStack, waitFor } from '../support/stack.ts';
import { freePort } from './redis-server.ts';

const operator: RequestContext = { actor: { actor: 'alice', role: 'operator' }, requestId: 'test-request-0002' };

/**
 * A whole stack (real emulators, local Lambda runner) whose Redis URL points at a port where nothing listens:
 * the warm path is degraded, everything on the durable path keeps working.
 */
describe('system status and jobs without Redis', () => {
  let stack: TestStack;
  let status: StatusService;
  beforeAll(async () => {
    stack = await createTestStack({ env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}` }, runner: true });
    const runner = stack.runner;
    if (!runner) throw new Error('test setup: the stack was created without its runner');
    status = new StatusService(
      {
        dynamo: stack.rt.clients.dynamo,
        jobsTable: stack.config.tables.jobs,
        store: stack.rt.store,
        queue: stack.rt.queue,
        warm: stack.rt.warm,
        runner,
        clock: systemClock,
      },
      0,
    );
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('reports Redis as warn with reason console:redis_unavailable while DynamoDB and SQS stay ok', async () => {
    // Prepare: one probe, so the status reflects a connection attempt and not only the initial state.
    await stack.rt.warm.probe();

    // Act
    const snapshot = await status.snapshot();

    // Assess
    expect(snapshot.components.redis).toMatchObject({ state: 'warn', error: 'redis_unavailable' });
    expect(snapshot.components.redis.text).toBe('warm path degraded (redis_unavailable)');
    expect(snapshot.warm_path_degraded).toBe(true);
    expect(snapshot.warm_path_reasons).toEqual(['console:redis_unavailable']);
    expect(snapshot.components.dynamo).toMatchObject({ state: 'ok', error: '' });
    expect(snapshot.components.sqs).toMatchObject({ state: 'ok', error: '' });
    expect(snapshot.components.runner.state).toBe('ok');
    expect(snapshot).toMatchObject({ state: 'warn', error: 'redis_unavailable', running_count: expect.any(Number) });
    expect(snapshot.text).toContain('redis: warm path degraded (redis_unavailable)');
  });

  it('still runs a selftest to succeeded, reporting Redis as degraded rather than failing', async () => {
    // Act
    const { job } = await stack.rt.jobs.submit({ kind: 'system.selftest', params: {} }, operator);
    const done = await waitFor(
      async () => {
        const j = await stack.rt.jobs.get(job.job_id);
        return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
      },
      20_000,
      `selftest ${job.job_id} to finish`,
    );

    // Assess
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    const result = done.result as { ok: boolean; degraded: string[]; checks: SelftestCheck[] };
    expect(result.ok).toBe(true);
    expect(result.degraded).toEqual(['redis']);
    expect(result.checks.find((c) => c.store === 'redis')).toMatchObject({ ok: false, required: false });
    expect(result.checks.filter((c) => c.required).every((c) => c.ok)).toBe(true);
  });
});
