/**
 * What a worker's claim pins and what its finish keeps, on the real emulators with the local runner:
 * - control-chain §4.4 step 2: the head config revision at the claim (not at the submission) is written to the record
 *   (`config_revision`, `config_hash`) and handed to the handler as `ctx.config`;
 * - §4.1 "result (≤ 8 KiB, larger -> artifact)": a larger result is kept in the artifact store and the record points at
 *   it; a result that fits stays in the record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '#shared/domain/control/jobs.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemCaller } from '#shared/services/auth-service.ts';
import type { JobContext } from '#shared/services/job-handlers.ts';
import type { RequestContext } from '#shared/services/job-service.ts';
import { jobResultKey, RESULT_MAX_BYTES } from '#shared/services/job-worker.ts';
import { createTestStack, type TestStack, waitFor } from '../support/stack.ts';

const operator: RequestContext = { actor: { actor: 'alice', role: 'operator' }, requestId: 'test-request-0002' };
/** About 30 KiB of result: what, say, a long per-day report would return. */
const BIG = {
  days: Array.from({ length: 400 }, (_, i) => ({ day: `day-${i}`, rows: i * 1000, note: 'x'.repeat(20) })),
};

let stack: TestStack;
/** What the stand-in handler returns: a value, or (when null) the `ctx.config` it was given. */
let nextResult: unknown = null;
/** The job submitted before the config change and claimed after it. */
let pinnedJob: string;
let submittedAtRevision: number;
let claimedAtRevision: number;

beforeAll(async () => {
  stack = await createTestStack({ runner: false });
  // A kind this stack has no handler for (it wires no data chain) stands in for any job.
  stack.rt.addHandlers({
    'data.migrate': async (_params, ctx: JobContext) => nextResult ?? { config: ctx.config },
  });
  // Submitted with no runner: the record carries the head of its submission...
  const { job } = await stack.rt.jobs.submit({ kind: 'data.migrate', params: {} }, operator);
  pinnedJob = job.job_id;
  submittedAtRevision = job.config_revision ?? -1;
  // ... then a revision lands before any worker claims it.
  const r = await stack.rt.configService.set(systemCaller('system', 'claim-test', ulidGen.next()), {
    values: { GHTRADER_SLO_QUEUE_WARN: 77 },
    reason: 'claim pin test',
  });
  claimedAtRevision = r.revision;
  stack.startRunner();
});

afterAll(async () => {
  await stack.close();
});

const terminal = (jobId: string): Promise<JobRecord> =>
  waitFor(
    async () => {
      const j = await stack.rt.jobs.get(jobId);
      return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
    },
    20_000,
    `job ${jobId} to finish`,
  );

async function run(result: unknown): Promise<JobRecord> {
  nextResult = result;
  const { job } = await stack.rt.jobs.submit({ kind: 'data.migrate', params: {} }, operator);
  return terminal(job.job_id);
}

describe('the config revision a claim pins (§4.4 step 2)', () => {
  it('writes the head at the claim to the record and gives the handler that revision', async () => {
    // Act
    const done = await terminal(pinnedJob);

    // Assess
    const head = await stack.rt.configService.head();
    expect(claimedAtRevision).toBe(head.revision);
    expect(submittedAtRevision).toBe(claimedAtRevision - 1);
    expect(done).toMatchObject({
      status: 'succeeded',
      config_revision: head.revision,
      config_hash: head.config_hash,
    });
    expect(done.result).toEqual({
      config: { revision: head.revision, config_hash: head.config_hash, snapshot: head.snapshot },
    });
    expect(head.snapshot.GHTRADER_SLO_QUEUE_WARN).toBe('77');
  });
});

describe('job results and the 8 KiB record limit (§4.1)', () => {
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
