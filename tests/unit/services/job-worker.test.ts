import { beforeEach, describe, expect, it } from 'vitest';
import { findJobKind } from '#shared/domain/control/job-kinds/index.ts';
import type { JobRecord } from '#shared/domain/control/jobs.ts';
import { isoUtc } from '#shared/domain/time.ts';
import { createLogger } from '#shared/log.ts';
import type { JobContext, JobHandlers } from '#shared/services/job-handlers.ts';
import { type IncomingJobMessage, JobWorker, type JobWorkerSettings } from '#shared/services/job-worker.ts';
import {
  InMemoryJobQueue,
  InMemoryJobStore,
  InMemoryLockStore,
  ManualClock,
  RecordingJobEvents,
} from './support/in-memory-ports.ts';
import { testKinds } from './support/test-kinds.ts';

/**
 * The production registry is closed and its system kinds take no locks. To exercise the worker's lock decisions,
 * the worker is given a kind lookup (`findKind`) that adds three test-only kinds; every real kind still resolves
 * as in production.
 */

const T0_MS = Date.parse('2025-01-02T03:04:05.678Z');
const LOCK_KEY = 'main_l5:symbol=KQ.m@SHFE.cu';
const SETTINGS: JobWorkerSettings = {
  heartbeatS: 5,
  leaseS: 30,
  cancelGraceS: 8,
  retryDelayS: 10,
  lockWaitTimeoutS: 120,
  lockPollIntervalS: 1,
};

function queuedJob(kind: string, params: Record<string, unknown>, jobId = '01JGZ3V1Q8X4N2K5M7P9R0S1T2'): JobRecord {
  const at = isoUtc(T0_MS - 60_000);
  return {
    job_id: jobId,
    kind,
    params,
    dedupe_key: `${kind}:0123456789abcdef`,
    var: 'cu',
    status: 'queued',
    attempt: 0,
    max_attempts: 3,
    worker: null,
    lease_expires_at: null,
    created_at: at,
    created_by: { actor: 'alice', role: 'operator' },
    updated_at: at,
    queued_at: at,
    started_at: null,
    finished_at: null,
    progress: null,
    waiting_for: null,
    error: null,
    attempts: [],
    result: null,
  };
}

function messageFor(job: JobRecord): IncomingJobMessage {
  return {
    messageId: 'message-1',
    body: JSON.stringify({ v: 1, job_id: job.job_id, kind: job.kind }),
    receiptHandle: 'receipt-1',
    requestId: 'request-00000001',
  };
}

interface Harness {
  clock: ManualClock;
  store: InMemoryJobStore;
  queue: InMemoryJobQueue;
  locks: InMemoryLockStore;
  events: RecordingJobEvents;
  handlerCalls: { params: Record<string, unknown>; ctx: JobContext; held: string[] }[];
  /** The message of every log line the worker and its attempts wrote. */
  logged: string[];
  worker(settings?: Partial<JobWorkerSettings>): JobWorker;
}

function harness(jobs: JobRecord[]): Harness {
  const clock = new ManualClock(T0_MS);
  const store = new InMemoryJobStore(jobs);
  const queue = new InMemoryJobQueue();
  const locks = new InMemoryLockStore(clock);
  const events = new RecordingJobEvents();
  const handlerCalls: Harness['handlerCalls'] = [];
  const record = async (params: Record<string, unknown>, ctx: JobContext) => {
    handlerCalls.push({ params, ctx, held: [...locks.held.keys()].sort() });
    return { fences: ctx.fences };
  };
  const logged: string[] = [];
  const log = createLogger({
    service: 'worker-test',
    level: 'debug',
    destination: { write: (l: string) => logged.push((JSON.parse(l) as { msg: string }).msg) },
  });
  // 60 progress updates, one simulated second apart.
  const reportProgress = async (_params: Record<string, unknown>, ctx: JobContext) => {
    await ctx.progress({ phase: 'download', phase_idx: 0, total_phases: 1, total_items: 60 });
    for (let i = 0; i < 60; i++) {
      clock.advanceS(1);
      await ctx.progress({ item_idx: i, item: `day-${i}` });
    }
    return null;
  };
  const handlers: JobHandlers = {
    'test.progress': reportProgress,
    'test.locked': record,
    'test.locked_no_wait': record,
    'test.trading': record,
    'test.source': record,
    'test.source_locked': record,
    'system.selftest': record,
  };
  return {
    clock,
    store,
    queue,
    locks,
    events,
    handlerCalls,
    logged,
    worker: (settings = {}) =>
      new JobWorker({
        store,
        queue,
        locks,
        events,
        handlers,
        clock,
        log,
        hostId: 'unit-host',
        runner: 'local',
        settings: { ...SETTINGS, ...settings },
        findKind: (kind) => testKinds.get(kind) ?? findJobKind(kind),
      }),
  };
}

describe('JobWorker waiting for a held lock', () => {
  let h: Harness;
  let job: JobRecord;
  beforeEach(() => {
    job = queuedJob('test.locked', { var: 'cu' });
    h = harness([job]);
    h.locks.hold(LOCK_KEY, 'job-holder', T0_MS + 20_000);
  });

  it('goes back to queued with the attempt refunded and waiting_for naming the holder', async () => {
    // Act
    const disposition = await h.worker().process(messageFor(job));

    // Assess
    expect(disposition).toBe('delete');
    expect(h.store.requeues).toEqual([
      {
        owner: expect.objectContaining({ jobId: job.job_id, attempt: 1, attemptIdx: 0 }),
        input: {
          now: isoUtc(T0_MS),
          outcome: 'waiting',
          refundAttempt: true,
          waitingFor: {
            kind: 'lock',
            since: isoUtc(T0_MS),
            conflicts: [{ key: LOCK_KEY, owner: 'job-holder', expires_at: isoUtc(T0_MS + 20_000) }],
          },
        },
      },
    ]);
    const stored = h.store.current(job.job_id);
    expect(stored).toMatchObject({ status: 'queued', attempt: 0, attempts: [], waiting_for: { kind: 'lock' } });
  });

  it('sends a fresh message for the same job instead of spending a receive', async () => {
    // Act
    await h.worker().process(messageFor(job));

    // Assess
    expect(h.queue.sent).toEqual([{ message: { v: 1, job_id: job.job_id, kind: 'test.locked' }, delayS: 1 }]);
  });

  it.each([
    [0.2, 1],
    [1, 1],
    [2.5, 3],
  ])('delays the fresh message by max(1, ceil(poll interval %s s)) = %i s', async (pollS, delayS) => {
    // Act
    await h.worker({ lockPollIntervalS: pollS }).process(messageFor(job));

    // Assess
    expect(h.queue.sent.map((s) => s.delayS)).toEqual([delayS]);
  });

  it('runs nothing and leaves the holder’s lock alone while it waits', async () => {
    // Act
    await h.worker().process(messageFor(job));

    // Assess
    expect(h.handlerCalls).toEqual([]);
    expect(h.store.finishes).toEqual([]);
    expect(h.locks.released).toEqual([]);
    expect(await h.locks.holder(LOCK_KEY)).toMatchObject({ owner: 'job-holder', fence: 1 });
  });

  it('asks for the kind’s keys as the job, with the job lease', async () => {
    // Act
    await h.worker().process(messageFor(job));

    // Assess
    expect(h.locks.acquireAllCalls).toEqual([
      { keys: [LOCK_KEY], owner: expect.objectContaining({ ownerId: job.job_id, host: 'unit-host' }), leaseMs: 30_000 },
    ]);
  });
});

describe('JobWorker giving up on a lock', () => {
  it('fails lock_timeout at once for a kind whose lock wait is 0, naming the holder and preempting nothing', async () => {
    // Prepare
    const job = queuedJob('test.locked_no_wait', { var: 'cu' });
    const h = harness([job]);
    h.locks.hold(LOCK_KEY, 'job-holder', T0_MS + 20_000);

    // Act
    const disposition = await h.worker().process(messageFor(job));

    // Assess
    expect(disposition).toBe('delete');
    const stored = h.store.current(job.job_id);
    expect(stored.status).toBe('failed');
    expect(stored.error).toMatchObject({ code: 'lock_timeout', retryable: false, attempt: 1 });
    expect(stored.error?.message).toBe(
      `waited 0 s for locks: ${LOCK_KEY} held by job-holder until ${isoUtc(T0_MS + 20_000)}`,
    );
    expect(stored.attempts).toEqual([expect.objectContaining({ outcome: 'failed' })]);
    expect(h.store.requeues).toEqual([]);
    expect(h.queue.sent).toEqual([]);
    expect(h.handlerCalls).toEqual([]);
    expect(await h.locks.holder(LOCK_KEY)).toMatchObject({ owner: 'job-holder', fence: 1 });
  });

  it('releases the dedupe item and publishes the terminal status', async () => {
    // Prepare
    const job = queuedJob('test.locked_no_wait', { var: 'cu' });
    const h = harness([job]);
    h.locks.hold(LOCK_KEY, 'job-holder', T0_MS + 20_000);

    // Act
    await h.worker().process(messageFor(job));

    // Assess
    expect(h.store.releasedDedupe).toEqual([{ key: job.dedupe_key, jobId: job.job_id }]);
    expect(h.events.events.at(-1)).toMatchObject({
      type: 'job.status',
      job: { status: 'failed', error_code: 'lock_timeout' },
    });
  });
});

describe('JobWorker holding locks', () => {
  it('runs the handler with the fencing token of each lock and releases the locks when it finishes', async () => {
    // Prepare
    const job = queuedJob('test.locked', { var: 'cu' });
    const h = harness([job]);

    // Act
    const disposition = await h.worker().process(messageFor(job));

    // Assess
    expect(disposition).toBe('delete');
    expect(h.handlerCalls.map((c) => c.ctx.fences)).toEqual([{ [LOCK_KEY]: 1 }]);
    const stored = h.store.current(job.job_id);
    expect(stored).toMatchObject({ status: 'succeeded', waiting_for: null, result: { fences: { [LOCK_KEY]: 1 } } });
    expect(h.locks.released.map((l) => l.key)).toEqual([LOCK_KEY]);
    expect(await h.locks.holder(LOCK_KEY)).toBeNull();
  });

  it('never calls the lock store for a kind without locks', async () => {
    // Prepare
    const job = queuedJob('system.selftest', {});
    const h = harness([job]);

    // Act
    await h.worker().process(messageFor(job));

    // Assess
    expect(h.locks.acquireAllCalls).toEqual([]);
    expect(h.store.current(job.job_id).status).toBe('succeeded');
  });
});

describe('JobWorker and trading locks', () => {
  it('refuses a kind asking for a trading lock without touching the lock store', async () => {
    // Prepare
    const job = queuedJob('test.trading', { var: 'cu' });
    const h = harness([job]);

    // Act
    const disposition = await h.worker().process(messageFor(job));

    // Assess
    expect(disposition).toBe('delete');
    expect(h.locks.acquireAllCalls).toEqual([]);
    expect(h.handlerCalls).toEqual([]);
    const stored = h.store.current(job.job_id);
    expect(stored.status).toBe('failed');
    expect(stored.error).toMatchObject({ code: 'trading_lock_forbidden', retryable: false });
    expect(stored.error?.message).toContain('trade:account=main');
  });
});

describe('JobWorker and kinds it does not know', () => {
  it('fails a job of an unregistered kind without claiming it', async () => {
    // Prepare
    const job = queuedJob('system.shell', { argv: ['id'] });
    const h = harness([job]);

    // Act
    const disposition = await h.worker().process(messageFor(job));

    // Assess
    expect(disposition).toBe('delete');
    expect(h.store.abandonedFailures).toEqual([
      { jobId: job.job_id, error: expect.objectContaining({ code: 'unknown_kind', retryable: false }) },
    ]);
    expect(h.store.current(job.job_id)).toMatchObject({ status: 'failed', attempt: 0, attempts: [] });
    expect(h.handlerCalls).toEqual([]);
  });
});

describe('JobWorker lock wait across redeliveries', () => {
  it('keeps waiting_for.since from the first wait when the job is redelivered and still blocked', async () => {
    // Prepare
    const job = queuedJob('test.locked', { var: 'cu' });
    const h = harness([job]);
    h.locks.hold(LOCK_KEY, 'job-holder', T0_MS + 60_000);
    const worker = h.worker();
    await worker.process(messageFor(job));
    h.clock.advanceS(5);

    // Act
    await worker.process(messageFor(job));

    // Assess
    expect(h.store.requeues.map((r) => r.input.waitingFor?.since)).toEqual([isoUtc(T0_MS), isoUtc(T0_MS)]);
    expect(h.store.current(job.job_id).waiting_for?.since).toBe(isoUtc(T0_MS));
  });

  it('fails lock_timeout once the wait that began on the first delivery has lasted the lock wait timeout', async () => {
    // Prepare
    const job = queuedJob('test.locked', { var: 'cu' });
    const h = harness([job]);
    h.locks.hold(LOCK_KEY, 'job-holder', T0_MS + 60_000);
    const worker = h.worker({ lockWaitTimeoutS: 3 });
    await worker.process(messageFor(job));
    h.clock.advanceS(4);

    // Act
    const disposition = await worker.process(messageFor(job));

    // Assess
    expect(disposition).toBe('delete');
    const stored = h.store.current(job.job_id);
    expect(stored.status).toBe('failed');
    expect(stored.error).toMatchObject({ code: 'lock_timeout', retryable: false });
    expect(stored.error?.message).toContain(`${LOCK_KEY} held by job-holder`);
    expect(h.queue.sent).toHaveLength(1);
    expect(await h.locks.holder(LOCK_KEY)).toMatchObject({ owner: 'job-holder' });
  });
});

describe('JobWorker and source slots (GHTRADER_MAX_PARALLEL_TQSDK_JOBS)', () => {
  const slot = (n: number) => `source:slot=${n}`;

  it('runs a source-bound kind holding one free slot, and releases it when it finishes', async () => {
    // Prepare: slot 0 of 2 is taken by another job
    const job = queuedJob('test.source', { var: 'cu' });
    const h = harness([job]);
    h.locks.hold(slot(0), 'other-job', T0_MS + 20_000);

    // Act
    await h.worker({ sourceSlots: 2 }).process(messageFor(job));

    // Assess
    expect(h.handlerCalls.map((c) => c.held)).toEqual([[slot(0), slot(1)]]);
    expect(h.store.current(job.job_id).status).toBe('succeeded');
    expect(h.locks.released.map((l) => l.key)).toEqual([slot(1)]);
    expect(await h.locks.holder(slot(0))).toMatchObject({ owner: 'other-job' });
  });

  it('waits with waiting_for source_slot naming every holder while all slots are taken, its own locks released', async () => {
    // Prepare
    const job = queuedJob('test.source_locked', { var: 'cu' });
    const h = harness([job]);
    h.locks.hold(slot(0), 'job-a', T0_MS + 20_000);
    h.locks.hold(slot(1), 'job-b', T0_MS + 25_000);

    // Act
    const disposition = await h.worker({ sourceSlots: 2 }).process(messageFor(job));

    // Assess
    expect(disposition).toBe('delete');
    expect(h.handlerCalls).toEqual([]);
    expect(h.store.current(job.job_id)).toMatchObject({
      status: 'queued',
      attempt: 0,
      waiting_for: {
        kind: 'source_slot',
        since: isoUtc(T0_MS),
        conflicts: [
          { key: slot(0), owner: 'job-a', expires_at: isoUtc(T0_MS + 20_000) },
          { key: slot(1), owner: 'job-b', expires_at: isoUtc(T0_MS + 25_000) },
        ],
      },
    });
    expect(await h.locks.holder(LOCK_KEY)).toBeNull();
    expect(h.locks.released.map((l) => l.key)).toEqual([LOCK_KEY]);
    expect(h.queue.sent).toEqual([{ message: { v: 1, job_id: job.job_id, kind: 'test.source_locked' }, delayS: 1 }]);
  });

  it('never times a slot wait out (unlike a lock wait), keeping since from the first blocked delivery', async () => {
    // Prepare: the slot stays busy far past the lock wait timeout
    const job = queuedJob('test.source', { var: 'cu' });
    const h = harness([job]);
    const w = h.worker({ sourceSlots: 1, lockWaitTimeoutS: 5 });
    h.locks.hold(slot(0), 'long-job', T0_MS + 3_600_000);

    // Act
    await w.process(messageFor(job));
    h.clock.advanceS(600);
    await w.process(messageFor(job));

    // Assess
    expect(h.store.current(job.job_id)).toMatchObject({
      status: 'queued',
      waiting_for: { kind: 'source_slot', since: isoUtc(T0_MS) },
    });

    // Act: the holder finishes and its slot frees
    h.locks.held.delete(slot(0));
    await w.process(messageFor(job));

    // Assess
    expect(h.store.current(job.job_id)).toMatchObject({ status: 'succeeded', waiting_for: null });
  });

  it('applies a lower slot count to the next claim, and a kind that is not source-bound takes no slot', async () => {
    // Prepare
    const a = queuedJob('test.source', { var: 'cu' }, '01JGZ3V1Q8X4N2K5M7P9R0S1TA');
    const b = queuedJob('test.locked', { var: 'au' }, '01JGZ3V1Q8X4N2K5M7P9R0S1TB');
    const h = harness([a, b]);
    h.locks.hold(slot(0), 'other-job', T0_MS + 20_000);

    // Act
    await h.worker({ sourceSlots: 1 }).process(messageFor(a));
    await h.worker({ sourceSlots: 1 }).process(messageFor(b));

    // Assess
    expect(h.store.current(a.job_id).waiting_for).toMatchObject({ kind: 'source_slot' });
    const auLock = 'main_l5:symbol=KQ.m@SHFE.au';
    expect(h.handlerCalls.map((c) => c.held)).toEqual([[auLock, slot(0)]]);
    expect(h.locks.acquireAllCalls.map((c) => c.keys)).toEqual([[auLock]]);
  });
});

describe('JobWorker progress log cadence (GHTRADER_PROGRESS_EVERY_S / _EVERY_N)', () => {
  const progressLines = (h: Harness) => h.logged.filter((m) => m.startsWith('progress ') || m.startsWith('phase '));

  it('writes a progress line every N updates when N comes first', async () => {
    const job = queuedJob('test.progress', { var: 'cu' });
    const h = harness([job]);

    await h.worker({ progressEveryS: 1_000, progressEveryN: 25 }).process(messageFor(job));

    expect(progressLines(h)).toEqual([
      'phase 1/1 download',
      'progress 40.0%, item 25/60 day-24: eta 38 s',
      'progress 81.7%, item 50/60 day-49: eta 11 s',
    ]);
  });

  it('writes a progress line every S seconds when S comes first', async () => {
    const job = queuedJob('test.progress', { var: 'cu' });
    const h = harness([job]);

    await h.worker({ progressEveryS: 15, progressEveryN: 1_000 }).process(messageFor(job));

    expect(progressLines(h).slice(1)).toEqual([
      'progress 23.3%, item 15/60 day-14: eta 49 s',
      'progress 48.3%, item 30/60 day-29: eta 32 s',
      'progress 73.3%, item 45/60 day-44: eta 16 s',
      'progress 98.3%, item 60/60 day-59: eta 1 s',
    ]);
  });
});
