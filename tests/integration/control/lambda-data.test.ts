/**
 * The jobs worker as the Lambda composes it (functions/lambda-data.ts) on the real emulators: data kinds in a
 * deployment without the data chain fail at once, not retried, naming what to configure; other kinds still run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaDataHandlers } from '#functions/lambda-data.ts';
import type { RequestContext } from '#shared/services/job-service.ts';
import { createTestStack, type TestStack, waitFor } from '../support/stack.ts';

const operator: RequestContext = { actor: { actor: 'alice', role: 'operator' }, requestId: 'test-request-0002' };

describe('data kinds in a Lambda deployment without the data chain', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ runner: false, maxReceiveCount: 3 });
    stack.rt.addHandlers(lambdaDataHandlers(stack.rt, { GHTRADER_ARTIFACTS_BUCKET: 'ghtrader-test' }, stack.log));
    stack.startRunner();
  });
  afterAll(async () => {
    await stack.close();
  });

  const terminal = (id: string) =>
    waitFor(
      async () => {
        const j = await stack.rt.jobs.get(id);
        return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
      },
      20_000,
      `job ${id} to finish`,
    );

  it('fails data.schedule on its first attempt with data_chain_not_configured', async () => {
    // Act
    const { job } = await stack.rt.jobs.submit({ kind: 'data.schedule', params: { var: 'cu' } }, operator);
    const done = await terminal(job.job_id);

    // Assess
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ code: 'data_chain_not_configured', retryable: false });
    expect(done.error?.message).toMatch(/GHTRADER_QUESTDB_HTTP unset; deploy with the CDK stage setting questdbHttp/);
    expect(done.attempts).toHaveLength(1);
  });

  it('still runs the other kinds', async () => {
    // Act
    const { job } = await stack.rt.jobs.submit({ kind: 'system.selftest', params: {} }, operator);
    // Assess
    expect((await terminal(job.job_id)).status).toBe('succeeded');
  });
});
