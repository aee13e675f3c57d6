/**
 * The worker protocol (control-chain §4.4): parse the message, claim the job with a conditional write, take its
 * locks (waiting by re-enqueueing, never by preempting), run the attempt, and write exactly one final transition.
 * `functions/jobs-worker.ts` maps an SQS batch onto `process()`; the local runner invokes that same handler.
 */
import { ulid } from 'ulid';
import type { JobCounters } from '../domain/control/job-counters.ts';
import type { JobEvents } from '../domain/control/job-events.ts';
import { findJobKind, type JobKindDef } from '../domain/control/job-kinds/index.ts';
import { jobLogPrefix } from '../domain/control/job-log.ts';
import type { JobQueue } from '../domain/control/job-queue.ts';
import type { JobStore, OwnerRef } from '../domain/control/job-store.ts';
import {
  isTerminal,
  type JobErrorInfo,
  type JobMessage,
  JobMessageSchema,
  type JobProgress,
  type JobRecord,
  mergeProgress,
  summarizeJob,
  type WorkerInfo,
} from '../domain/control/jobs.ts';
import {
  isTradingLockKey,
  type Lease,
  type LockHolder,
  type LockStore,
  sourceSlotKey,
} from '../domain/control/locks.ts';
import type { ArtifactStore } from '../domain/data/artifacts.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import { describeError, GhtraderError } from '../errors/base.ts';
import { ControlError, JobFailedError } from '../errors/control.ts';
import type { Logger } from '../log.ts';
import { type AttemptOutcome, runAttempt } from './job-attempt.ts';
import type { JobHandlers, PinnedConfig } from './job-handlers.ts';
import type { JobLogs } from './job-log.ts';

/** `GHTRADER_MAX_PARALLEL_TQSDK_JOBS`' default. */
const DEFAULT_SOURCE_SLOTS = 4;

/** Results above this size belong in the artifact store, not the job record (control-chain §4.1). */
export const RESULT_MAX_BYTES = 8 * 1024;

/** Where a result too large for the record is kept: one object per attempt (a retry never overwrites another's). */
export function jobResultKey(jobId: string, attempt: number): string {
  return `job-results/${jobId}/attempt-${attempt}.json`;
}

/** What the record holds instead of a result over `RESULT_MAX_BYTES`: where the whole result is, and its size. */
export interface ResultArtifactRef {
  result_artifact: { uri: string; bytes: number };
}

export interface JobWorkerSettings {
  heartbeatS: number;
  leaseS: number;
  cancelGraceS: number;
  retryDelayS: number;
  lockWaitTimeoutS: number;
  lockPollIntervalS: number;
  /**
   * `GHTRADER_MAX_PARALLEL_TQSDK_JOBS`: source slot leases (`source:slot=<n>`, n < this) a source-bound kind takes on top
   * of its own locks (control-chain §4). Read at each claim, so a lower count applies to the next jobs. Default 4.
   */
  sourceSlots?: number;
  /** Progress log cadence (`GHTRADER_PROGRESS_EVERY_S`, `_EVERY_N`); see `AttemptSettings`. */
  progressEveryS?: number;
  progressEveryN?: number;
}

export interface JobWorkerDeps {
  store: JobStore;
  queue: JobQueue;
  locks: LockStore;
  events: JobEvents;
  handlers: JobHandlers;
  clock: Clock;
  log: Logger;
  hostId: string;
  runner: WorkerInfo['runner'];
  settings: JobWorkerSettings;
  /** The kind registry; defaults to the closed production set (tests inject extra kinds). */
  findKind?: (kind: string) => JobKindDef | undefined;
  /** The process's job counters (claim conflicts, control-chain §10). */
  counters?: JobCounters;
  /** Job logs (§4.6): each attempt's `ctx.log` lines also go there; absent -> the process log only. */
  jobLogs?: JobLogs;
  /** Where results over `RESULT_MAX_BYTES` go (§4.1); absent -> such a result fails the job `result_too_large`. */
  artifacts?: ArtifactStore;
  /**
   * The head config revision, read fresh for each claim (§4.4 step 2): written to the record with the claim and given
   * to the handler as `ctx.config`. Absent -> the record keeps the revision of its submission and `ctx.config` is null.
   */
  configHead?: () => Promise<PinnedConfig>;
}

export interface IncomingJobMessage {
  messageId: string;
  body: string;
  /** Null when the caller cannot change visibility (in-process runs). */
  receiptHandle: string | null;
  requestId: string;
}

/** `delete`: the message is done with (Lambda reports success); `retry`: report a batch item failure. */
export type Disposition = 'delete' | 'retry';

export class JobWorker {
  constructor(private readonly deps: JobWorkerDeps) {}

  async process(msg: IncomingJobMessage): Promise<Disposition> {
    const log = this.deps.log.child({ message_id: msg.messageId, request_id: msg.requestId });
    const message = parseMessage(msg.body, log);
    if (!message) return 'delete';
    const jlog = log.child({ job_id: message.job_id });
    const job = await this.deps.store.get(message.job_id);
    if (!job) {
      jlog.warn('job.message_without_record');
      return 'delete';
    }
    if (isTerminal(job.status)) {
      jlog.info({ status: job.status }, 'job.message_for_terminal_job');
      return 'delete';
    }
    const def = (this.deps.findKind ?? findJobKind)(job.kind);
    const handler = this.deps.handlers[job.kind];
    if (!def || !handler) {
      await this.failUnowned(
        job,
        this.error('unknown_kind', `no handler for job kind ${job.kind} in this worker`, false, job.attempt),
        jlog,
      );
      return 'delete';
    }
    const pinned = this.deps.configHead ? await this.deps.configHead() : null;
    const claimed = await this.claim(job, msg, jlog, pinned);
    if (!claimed) return 'delete';
    const owner: OwnerRef = {
      jobId: claimed.job_id,
      workerId: claimed.worker?.id ?? '',
      attempt: claimed.attempt,
      attemptIdx: claimed.attempts.length - 1,
    };
    const alog = jlog.child({ attempt: owner.attempt, worker_id: owner.workerId });
    alog.info({ kind: claimed.kind }, 'job.claimed');
    this.deps.events.publish({ type: 'job.status', job: summarizeJob(claimed) });
    if (msg.receiptHandle) {
      // Until the first heartbeat, the message stays hidden for one lease: a crash redelivers it after that.
      await this.deps.queue
        .changeVisibility(msg.receiptHandle, this.deps.settings.leaseS + this.deps.settings.heartbeatS)
        .catch((err) => alog.warn({ err: describeError(err) }, 'job.visibility_extend_failed'));
    }

    const keys = def.locks(claimed.params);
    if (keys.some(isTradingLockKey)) {
      await this.finish(
        owner,
        claimed,
        'failed',
        {
          error: this.error(
            'trading_lock_forbidden',
            `kind ${def.kind} asked for a trading lock (${keys.join(', ')}); jobs never take trading locks`,
            false,
            owner.attempt,
          ),
        },
        [],
        alog,
      );
      return 'delete';
    }
    const leases: Lease[] = [];
    if (keys.length > 0 || def.sourceBound) {
      // The claim clears `waiting_for`; the wait began at the first blocked delivery, as read before the claim.
      const waitingSince = { ...claimed, waiting_for: job.waiting_for };
      const waited = await this.acquireLocks(waitingSince, owner, keys, def.lockWaitS, message, leases, alog);
      if (waited) return 'delete';
      if (def.sourceBound && (await this.acquireSourceSlot(waitingSince, owner, message, leases, alog)))
        return 'delete';
    }

    const attemptLog = this.deps.jobLogs?.open(claimed.job_id, owner.attempt, alog) ?? null;
    attemptLog?.write('info', `attempt ${owner.attempt} of ${claimed.max_attempts} started`, {
      kind: claimed.kind,
      worker_id: owner.workerId,
    });
    const outcome = await runAttempt(
      {
        store: this.deps.store,
        queue: this.deps.queue,
        locks: this.deps.locks,
        clock: this.deps.clock,
        log: attemptLog?.logger ?? alog,
        config: pinned,
        onProgress: (progress) =>
          this.deps.events.publish({
            type: 'job.progress',
            job_id: claimed.job_id,
            kind: claimed.kind,
            var: claimed.var ?? null,
            progress,
          }),
      },
      this.deps.settings,
      claimed,
      owner,
      leases,
      msg.receiptHandle,
      def.timeoutS,
      handler,
    ).catch(async (err: unknown) => {
      // The attempt itself broke (a store write threw): keep its lines, then fail the invocation as before.
      attemptLog?.write('error', 'attempt aborted by a worker error', { err: describeError(err) });
      await attemptLog?.close();
      throw err;
    });
    let jobLog: JobRecord['log'];
    if (attemptLog) {
      // The attempt's last lines are stored before its final transition is written and published.
      attemptLog.write(...attemptEndLine(outcome));
      await attemptLog.close();
      jobLog = { prefix: jobLogPrefix(claimed.job_id), bytes: (claimed.log?.bytes ?? 0) + attemptLog.bytesWritten };
    }
    return this.conclude(outcome, claimed, owner, leases, msg, alog, jobLog);
  }

  private async claim(
    job: JobRecord,
    msg: IncomingJobMessage,
    log: Logger,
    pinned: PinnedConfig | null,
  ): Promise<JobRecord | null> {
    const nowMs = this.deps.clock.nowMs();
    const now = isoUtc(nowMs);
    const worker: WorkerInfo = {
      id: `${this.deps.runner}:${this.deps.hostId}:${process.pid}:${ulid()}`,
      runner: this.deps.runner,
      request_id: msg.requestId,
    };
    const input = {
      worker,
      seenAttempt: job.attempt,
      leaseExpiresAt: isoUtc(nowMs + this.deps.settings.leaseS * 1000),
      now,
      ...(pinned ? { config: { revision: pinned.revision, config_hash: pinned.config_hash } } : {}),
    };
    if (job.status === 'queued') {
      if (job.cancel_requested_at) return null;
      if (job.attempt >= job.max_attempts) {
        await this.failUnowned(
          job,
          this.error(
            'attempts_exhausted',
            `gave up after ${job.attempt} attempts; last error: ${lastError(job)}`,
            false,
            job.attempt,
          ),
          log,
        );
        return null;
      }
      const r = await this.deps.store.claim(job.job_id, input);
      if (!r.ok) {
        if (this.deps.counters) this.deps.counters.claimConflicts++;
        log.info({ status: r.current?.status, owner: r.current?.worker?.id }, 'job.claim_conflict');
      }
      return r.ok ? r.record : null;
    }
    // running: either a duplicate delivery (live lease) or a redelivery after the holder died.
    if (job.lease_expires_at && job.lease_expires_at >= now) {
      log.info({ owner: job.worker?.id, lease_expires_at: job.lease_expires_at }, 'job.duplicate_delivery');
      return null;
    }
    if (job.cancel_requested_at) {
      const r = await this.deps.store.cancelAbandoned(job.job_id, now);
      if (r.ok) await this.afterTerminal(r.record, log);
      return null;
    }
    if (job.attempt >= job.max_attempts) {
      await this.failUnowned(
        job,
        this.error(
          'worker_lost',
          `worker of attempt ${job.attempt} was lost and attempts are exhausted`,
          false,
          job.attempt,
        ),
        log,
      );
      return null;
    }
    const previousAttempts = job.attempts.map((a) =>
      a.outcome === 'running' ? { ...a, outcome: 'lost' as const, ended_at: now } : a,
    );
    const r = await this.deps.store.reclaim(job.job_id, { ...input, previousAttempts });
    if (!r.ok) {
      if (this.deps.counters) this.deps.counters.claimConflicts++;
      log.info({ status: r.current?.status, owner: r.current?.worker?.id }, 'job.reclaim_conflict');
    } else log.warn({ lost_worker: job.worker?.id, attempt: r.record.attempt }, 'job.reclaimed_after_lost_worker');
    return r.ok ? r.record : null;
  }

  /**
   * One of the `sourceSlots` slot leases for a source-bound kind, tried from a random slot onwards so waiting jobs
   * spread over the slots. True when none was free and the job went back to `queued` to wait (its own locks released):
   * a slot wait never times out, since slots are a concurrency cap that frees as the holders finish (their leases
   * expire if they die), not a conflict over one resource.
   */
  private async acquireSourceSlot(
    job: JobRecord,
    owner: OwnerRef,
    message: JobMessage,
    leases: Lease[],
    log: Logger,
  ): Promise<boolean> {
    const { settings } = this.deps;
    const n = settings.sourceSlots ?? DEFAULT_SOURCE_SLOTS;
    const start = Math.floor(Math.random() * n);
    const conflicts: LockHolder[] = [];
    for (let i = 0; i < n; i++) {
      const r = await this.deps.locks.acquire(
        sourceSlotKey((start + i) % n),
        { ownerId: job.job_id, host: this.deps.hostId, pid: process.pid },
        settings.leaseS * 1000,
      );
      if (r.ok) {
        leases.push(...r.leases);
        return false;
      }
      conflicts.push(...r.conflicts);
    }
    // Every slot is taken: give back this kind's own locks while it waits, so it holds nothing it cannot use.
    for (const lease of leases.splice(0).reverse()) await this.deps.locks.release(lease);
    const nowMs = this.deps.clock.nowMs();
    const since = job.waiting_for?.kind === 'source_slot' ? job.waiting_for.since : isoUtc(nowMs);
    const q = await this.deps.store.requeue(owner, {
      now: isoUtc(nowMs),
      outcome: 'waiting',
      waitingFor: {
        kind: 'source_slot',
        since,
        conflicts: conflicts
          .sort((a, b) => a.key.localeCompare(b.key))
          .map((c) => ({ key: c.key, owner: c.owner, expires_at: c.expires_at })),
      },
      refundAttempt: true,
    });
    if (!q.ok) {
      log.warn({ status: q.current?.status }, 'job.requeue_rejected');
      return true;
    }
    await this.deps.queue.send(message, Math.max(1, Math.ceil(settings.lockPollIntervalS)));
    log.info({ slots: n, holders: conflicts.map((c) => c.owner) }, 'job.waiting_for_source_slot');
    return true;
  }

  /** Returns true when the job went back to `queued` to wait (or failed waiting); false when all locks are held. */
  private async acquireLocks(
    job: JobRecord,
    owner: OwnerRef,
    keys: string[],
    lockWaitS: number | undefined,
    message: JobMessage,
    leases: Lease[],
    log: Logger,
  ): Promise<boolean> {
    const { settings } = this.deps;
    if (keys.length === 0) return false;
    const r = await this.deps.locks.acquireAll(
      keys,
      { ownerId: job.job_id, host: this.deps.hostId, pid: process.pid },
      settings.leaseS * 1000,
    );
    if (r.ok) {
      leases.push(...r.leases);
      return false;
    }
    const nowMs = this.deps.clock.nowMs();
    // A lock wait is timed from the first delivery that found the lock held (not from an earlier slot wait).
    const since = job.waiting_for?.kind === 'lock' ? job.waiting_for.since : isoUtc(nowMs);
    const conflicts = r.conflicts.map((c) => ({ key: c.key, owner: c.owner, expires_at: c.expires_at }));
    const waitS = lockWaitS ?? settings.lockWaitTimeoutS;
    if ((nowMs - Date.parse(since)) / 1000 < waitS) {
      // Waiting spends neither an attempt nor SQS receives: go back to queued and send a fresh, delayed message.
      const q = await this.deps.store.requeue(owner, {
        now: isoUtc(nowMs),
        outcome: 'waiting',
        waitingFor: { kind: 'lock', since, conflicts },
        refundAttempt: true,
      });
      if (!q.ok) {
        log.warn({ status: q.current?.status }, 'job.requeue_rejected');
        return true;
      }
      await this.deps.queue.send(message, Math.max(1, Math.ceil(settings.lockPollIntervalS)));
      log.info({ conflicts }, 'job.waiting_for_lock');
      return true;
    }
    const text = conflicts.map((c) => `${c.key} held by ${c.owner} until ${c.expires_at}`).join('; ');
    await this.finish(
      owner,
      job,
      'failed',
      { error: this.error('lock_timeout', `waited ${waitS} s for locks: ${text}`, false, owner.attempt) },
      [],
      log,
    );
    return true;
  }

  private async conclude(
    outcome: AttemptOutcome,
    job: JobRecord,
    owner: OwnerRef,
    leases: Lease[],
    msg: IncomingJobMessage,
    log: Logger,
    jobLog: JobRecord['log'],
  ): Promise<Disposition> {
    const lg = jobLog ? { log: jobLog } : {};
    if (outcome.type === 'ownership_lost') {
      log.error({ detail: outcome.detail }, 'job.ownership_lost');
      await this.releaseLocks(leases, log);
      return 'delete';
    }
    if (outcome.type === 'returned') {
      const text = JSON.stringify(outcome.result ?? null);
      const size = Buffer.byteLength(text);
      let result: unknown = outcome.result ?? null;
      if (size > RESULT_MAX_BYTES) {
        if (!this.deps.artifacts) {
          const err = this.error(
            'result_too_large',
            `result is ${size} bytes; at most ${RESULT_MAX_BYTES} bytes fit in the job record and this process has no artifact store`,
            false,
            owner.attempt,
          );
          await this.finish(owner, job, 'failed', { error: err, progress: outcome.progress, ...lg }, leases, log);
          return 'delete';
        }
        // The work is done: the whole result goes to the artifact store, the record points at it. A failed put
        // throws, so the message comes back and the job is retried rather than finished without its result.
        const uri = await this.deps.artifacts.put(jobResultKey(job.job_id, owner.attempt), text);
        result = { result_artifact: { uri, bytes: size } } satisfies ResultArtifactRef;
        log.info({ uri, bytes: size }, 'job.result_to_artifact');
      }
      await this.finish(
        owner,
        job,
        'succeeded',
        { result, progress: outcome.progress, finished: true, ...lg },
        leases,
        log,
      );
      return 'delete';
    }
    if (outcome.type === 'cancelled') {
      const error = outcome.forced
        ? this.error(
            'forced_after_grace',
            `handler did not stop within ${this.deps.settings.cancelGraceS} s of the cancel request`,
            false,
            owner.attempt,
          )
        : null;
      await this.finish(owner, job, 'cancelled', { error, progress: outcome.progress, ...lg }, leases, log);
      return 'delete';
    }
    const err =
      outcome.type === 'timeout'
        ? this.error('timeout', `attempt exceeded the kind's timeout of ${outcome.afterS} s`, true, owner.attempt)
        : this.classify(outcome.error, owner.attempt);
    if (outcome.type === 'threw')
      log.warn({ err: describeError(outcome.error), retryable: err.retryable }, 'job.handler_failed');
    if (!err.retryable) {
      await this.finish(owner, job, 'failed', { error: err, progress: outcome.progress, ...lg }, leases, log);
      return 'delete';
    }
    const r = await this.deps.store.requeue(owner, {
      now: isoUtc(this.deps.clock.nowMs()),
      outcome: 'retry',
      error: err,
      refundAttempt: false,
      ...lg,
    });
    await this.releaseLocks(leases, log);
    if (!r.ok) {
      log.error({ status: r.current?.status, owner: r.current?.worker?.id }, 'job.requeue_rejected');
      return 'delete';
    }
    this.deps.events.publish({ type: 'job.status', job: summarizeJob(r.record) });
    if (msg.receiptHandle) {
      await this.deps.queue
        .changeVisibility(msg.receiptHandle, this.deps.settings.retryDelayS * owner.attempt)
        .catch((e) => log.warn({ err: describeError(e) }, 'job.visibility_backoff_failed'));
    }
    return 'retry';
  }

  private async finish(
    owner: OwnerRef,
    job: JobRecord,
    status: 'succeeded' | 'failed' | 'cancelled',
    opts: {
      result?: unknown;
      error?: JobErrorInfo | null;
      progress?: JobProgress | null;
      finished?: boolean;
      log?: JobRecord['log'];
    },
    leases: Lease[],
    log: Logger,
  ): Promise<void> {
    const nowMs = this.deps.clock.nowMs();
    const startedMs = Date.parse(job.started_at ?? job.created_at);
    const progress = opts.finished
      ? mergeProgress(
          opts.progress ?? null,
          {},
          { nowIso: isoUtc(nowMs), elapsedS: (nowMs - startedMs) / 1000, finished: true },
        )
      : (opts.progress ?? null);
    const r = await this.deps.store.finish(owner, {
      status,
      now: isoUtc(nowMs),
      ...(opts.result !== undefined ? { result: opts.result } : {}),
      error: opts.error ?? null,
      progress,
      outcome: status,
      ...(opts.log ? { log: opts.log } : {}),
    });
    await this.releaseLocks(leases, log);
    if (!r.ok) {
      // A late result from a worker whose lease was re-claimed: rejected, logged, never retried blindly.
      log.error(
        { wanted: status, status: r.current?.status, owner: r.current?.worker?.id, attempt: r.current?.attempt },
        'job.finish_rejected',
      );
      return;
    }
    log.info({ status, error: opts.error?.code }, 'job.finished');
    await this.afterTerminal(r.record, log);
  }

  private async failUnowned(job: JobRecord, error: JobErrorInfo, log: Logger): Promise<void> {
    const r = await this.deps.store.failAbandoned(job.job_id, error, isoUtc(this.deps.clock.nowMs()));
    if (!r.ok) {
      log.warn({ status: r.current?.status, owner: r.current?.worker?.id, wanted: error.code }, 'job.fail_rejected');
      return;
    }
    log.warn({ code: error.code }, 'job.failed_unowned');
    await this.afterTerminal(r.record, log);
  }

  private async afterTerminal(record: JobRecord, log: Logger): Promise<void> {
    try {
      await this.deps.store.releaseDedupe(record.dedupe_key, record.job_id);
    } catch (err) {
      // The dedupe item is taken over after 30 s anyway; the job's terminal state is already committed.
      log.error({ err: describeError(err) }, 'job.dedupe_release_failed');
    }
    this.deps.events.publish({ type: 'job.status', job: summarizeJob(record) });
  }

  private async releaseLocks(leases: Lease[], log: Logger): Promise<void> {
    for (const lease of [...leases].reverse()) {
      try {
        if (!(await this.deps.locks.release(lease)))
          log.warn({ key: lease.key, fence: lease.fence }, 'job.lock_release_not_owner');
      } catch (err) {
        log.error({ key: lease.key, err: describeError(err) }, 'job.lock_release_failed');
      }
    }
    leases.length = 0;
  }

  private classify(err: unknown, attempt: number): JobErrorInfo {
    if (err instanceof JobFailedError) return this.error(err.code, err.message, err.retryable, attempt);
    // Bad input and integrity errors do not get better with retries; infrastructure errors might.
    if (err instanceof ControlError && err.status < 500) return this.error(err.code, err.message, false, attempt);
    if (err instanceof GhtraderError)
      return this.error(err.code, err.message, err.code === 'dependency_unavailable', attempt);
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return this.error('handler_error', message, true, attempt);
  }

  private error(code: string, message: string, retryable: boolean, attempt: number): JobErrorInfo {
    return { code, message: message.slice(0, 2000), retryable, attempt, at: isoUtc(this.deps.clock.nowMs()) };
  }
}

function parseMessage(body: string, log: Logger): JobMessage | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    log.error({ err: describeError(err), body: body.slice(0, 200) }, 'job.message_not_json');
    return null;
  }
  const r = JobMessageSchema.safeParse(json);
  if (!r.success) {
    log.error({ issues: r.error.issues, body: body.slice(0, 200) }, 'job.message_invalid');
    return null;
  }
  return r.data;
}

/** The job log's closing line of an attempt. */
function attemptEndLine(o: AttemptOutcome): ['info' | 'warn' | 'error', string, Record<string, unknown>] {
  switch (o.type) {
    case 'returned':
      return ['info', 'attempt ended: handler returned', { outcome: o.type }];
    case 'threw':
      return ['error', 'attempt ended: handler failed', { outcome: o.type, err: describeError(o.error) }];
    case 'cancelled':
      return [
        'warn',
        `attempt ended: cancelled by ${o.by}${o.forced ? ' (forced after grace)' : ''}`,
        { outcome: o.type },
      ];
    case 'timeout':
      return ['error', `attempt ended: timed out after ${o.afterS} s`, { outcome: o.type }];
    case 'ownership_lost':
      return ['error', `attempt ended: ownership lost (${o.detail})`, { outcome: o.type }];
  }
}

function lastError(job: JobRecord): string {
  const e = job.error ?? [...job.attempts].reverse().find((a) => a.error)?.error ?? null;
  return e ? `${e.code}: ${e.message}` : 'worker lost';
}

export { lastError };
