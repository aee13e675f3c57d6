/**
 * A job result over 8 KiB (control-chain §4.1: "result (≤ 8 KiB, larger -> artifact)") on the real emulators with the
 * local runner: the job succeeds, the record points at the artifact holding the whole result, and `GET` of the record
 * stays small. A result that fits stays in the record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '#shared/services/job-service.ts';
import { jobResultKey, RESULT_MAX_BYTES } from '#shared/services/job-worker.ts';
import { createTestStack, type TestStack, waitFor } from '../support/stack.ts';

const operator: RequestContext = { actor: { actor: 'alice', role: 'operator' }, requestId: 'test-request-0002' };
/** 20 KiB of result: what, say, a long per-day report would return. */
const BIG = {
  days: Array.from({ length: 400 }, (_, i) => ({ day: `2026-01-${i}`, rows: i * 1000, note: 'x'.repeat(20) })),
};

let stack: TestStack;
let nextResult: unknown = null;

beforeAll(async () => {
  stack = await createTestStack({ runner: true });
  // A kind this stack has no handler for (it wires no data chain) stands in for any job: it returns what the test asks.
  stack.rt.addHandlers({ 'data.migrate': async () => nextResult });
});

afterAll(async () => {
  await stack.close();
});

async function run(result: unknown) {
  nextResult = result;
  const { job } = await stack.rt.jobs.submit({ kind: 'data.migrate', params: {} }, operator);
  return waitFor(
    async () => {
      const j = await stack.rt.jobs.get(job.job_id);
      return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
    },
    20_000,
    `job ${job.job_id} to finish`,
  );
}

describe('job results and the 8 KiB record limit', () => {
  it('keeps a result over 8 KiB in the artifact store and points the record at it', async () => {
    // Act
    const done = await run(BIG);

    // Assess
    const text = JSON.stringify(BIG);
    expect(Buffer.byteLength(text)).toBeGreaterThan(RESULT_MAX_BYTES);
    expect(done.status).toBe('succeeded');
    const artifacts = stack.rt.artifacts ?? expect.unreachable('the stack has an artifact store');
    const key = jobResultKey(done.job_id, 1);
    expect(done.result).toEqual({ result_artifact: { uri: artifacts.uri(key), bytes: Buffer.byteLength(text) } });
    const stored = await artifacts.get(key);
    expect(stored && JSON.parse(Buffer.from(stored).toString('utf8'))).toEqual(BIG);
  });

  it('keeps a result that fits in the record itself', async () => {
    // Act
    const done = await run({ ok: true, rows: 12 });

    // Assess
    expect(done).toMatchObject({ status: 'succeeded', result: { ok: true, rows: 12 } });
    expect(await stack.rt.artifacts?.get(jobResultKey(done.job_id, 1))).toBeNull();
  });
});
