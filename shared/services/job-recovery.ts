/**
 * What happens to jobs nobody is working on (control-chain §4.5): the DLQ handler fails jobs whose messages
 * exhausted `maxReceiveCount`, and the reconciler re-enqueues or fails jobs whose worker vanished.
 */
import type { JobEvents } from '../domain/control/job-events.ts';
import type { JobQueue } from '../domain/control/job-queue.ts';
import type { JobStore } from '../domain/control/job-store.ts';
import { isTerminal, JobMessageSchema, type JobRecord, summarizeJob } from '../domain/control/jobs.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import { describeError } from '../errors/base.ts';
import type { Logger } from '../log.ts';
import { lastError } from './job-worker.ts';

export interface RecoveryDeps {
  store: JobStore;
  queue: JobQueue;
  events: JobEvents;
  clock: Clock;
  log: Logger;
  settings: { leaseS: number; maxReceiveCount: number };
}

/** Idle `queued` jobs older than this get a fresh message (duplicates are harmless: claims are conditional). */
export const QUEUED_IDLE_MS = 5 * 60_000;
const RECONCILE_BATCH = 200;

export class JobRecovery {
  constructor(private readonly deps: RecoveryDeps) {}

  /** Handle one DLQ message: mark its job failed `dlq_exhausted` unless a live worker holds it. */
  async processDeadLetter(body: string, messageId: string): Promise<void> {
    const log = this.deps.log.child({ message_id: messageId, source: 'dlq' });
    const parsed = JobMessageSchema.safeParse(safeJson(body));
    if (!parsed.success) {
      log.error({ body: body.slice(0, 200) }, 'job.dlq_message_invalid');
      return;
    }
    const job = await this.deps.store.get(parsed.data.job_id);
    if (!job || isTerminal(job.status)) {
      log.info({ job_id: parsed.data.job_id, status: job?.status }, 'job.dlq_nothing_to_do');
      return;
    }
    const n = this.deps.settings.maxReceiveCount;
    const now = isoUtc(this.deps.clock.nowMs());
    const r = await this.deps.store.failAbandoned(
      job.job_id,
      {
        code: 'dlq_exhausted',
        message: `gave up after ${n} deliveries; last error: ${lastError(job)}`,
        retryable: false,
        attempt: job.attempt,
        at: now,
      },
      now,
    );
    if (!r.ok) {
      log.warn(
        { job_id: job.job_id, status: r.current?.status, owner: r.current?.worker?.id },
        'job.dlq_left_alone_live_lease',
      );
      return;
    }
    log.warn({ job_id: job.job_id }, 'job.dlq_exhausted');
    await this.terminal(r.record, log);
  }

  /** One reconcile pass; `queuedIdleMs` = 0 re-enqueues every queued job (local stack start). */
  async reconcile(queuedIdleMs = QUEUED_IDLE_MS): Promise<{ requeued: number; failed: number; cancelled: number }> {
    const counts = { requeued: 0, failed: 0, cancelled: 0 };
    const nowMs = this.deps.clock.nowMs();
    const now = isoUtc(nowMs);
    const expiredBefore = isoUtc(nowMs - this.deps.settings.leaseS * 1000);
    for (const job of await this.deps.store.listByStatus('running', RECONCILE_BATCH)) {
      // Only leases expired for over one more lease: a redelivery had its chance to re-claim.
      if (!job.lease_expires_at || job.lease_expires_at >= expiredBefore) continue;
      const log = this.deps.log.child({ job_id: job.job_id, source: 'reconciler' });
      if (job.cancel_requested_at) {
        const r = await this.deps.store.cancelAbandoned(job.job_id, now);
        if (r.ok) {
          counts.cancelled++;
          await this.terminal(r.record, log);
        }
      } else if (job.attempt < job.max_attempts) {
        await this.deps.queue.send({ v: 1, job_id: job.job_id, kind: job.kind });
        counts.requeued++;
        log.warn({ attempt: job.attempt }, 'job.reconcile_requeued_lost_worker');
      } else {
        const r = await this.deps.store.failAbandoned(
          job.job_id,
          {
            code: 'worker_lost',
            message: `worker ${job.worker?.id ?? '?'} lost on the last attempt (${job.attempt})`,
            retryable: false,
            attempt: job.attempt,
            at: now,
          },
          now,
        );
        if (r.ok) {
          counts.failed++;
          await this.terminal(r.record, log);
        }
      }
    }
    const idleBefore = isoUtc(nowMs - queuedIdleMs);
    for (const job of await this.deps.store.listByStatus('queued', RECONCILE_BATCH)) {
      if (job.queued_at > idleBefore || (queuedIdleMs > 0 && job.queued_at === idleBefore)) continue;
      const touched = await this.deps.store.touchQueued(job.job_id, job.queued_at, now);
      if (!touched.ok) continue;
      await this.deps.queue.send({ v: 1, job_id: job.job_id, kind: job.kind });
      counts.requeued++;
    }
    if (counts.requeued + counts.failed + counts.cancelled > 0) this.deps.log.info(counts, 'job.reconcile_pass');
    return counts;
  }

  private async terminal(record: JobRecord, log: Logger): Promise<void> {
    try {
      await this.deps.store.releaseDedupe(record.dedupe_key, record.job_id);
    } catch (err) {
      log.error({ err: describeError(err) }, 'job.dedupe_release_failed');
    }
    this.deps.events.publish({ type: 'job.status', job: summarizeJob(record) });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Invalid JSON is reported by the schema check right after, with the body.
    return undefined;
  }
}
