/**
 * Submitting, reading, listing and cancelling jobs (control-chain §4.3, §4.5). Used identically by the HTTP API,
 * the CLI and tests, so validation, dedupe and audit cannot differ between them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import type { AuditLog } from '../domain/control/audit.ts';
import { canonicalJson, sha256Hex } from '../domain/control/canonical-json.ts';
import { decodeCursor, encodeCursor } from '../domain/control/cursor.ts';
import { JobCounters } from '../domain/control/job-counters.ts';
import type { JobEvents } from '../domain/control/job-events.ts';
import { findJobKind, JOB_KINDS } from '../domain/control/job-kinds/index.ts';
import { type JobLogObject, jobLogPrefix } from '../domain/control/job-log.ts';
import type { JobQueue } from '../domain/control/job-queue.ts';
import { type ListJobsQuery, ListJobsQuerySchema, SubmitJobRequestSchema } from '../domain/control/job-requests.ts';
import type { JobStore } from '../domain/control/job-store.ts';
import {
  mergeTimeline,
  TIMELINE_MAX_ITEMS,
  TimelineQuerySchema,
  type TimelineResult,
  timelineWindow,
} from '../domain/control/job-timeline.ts';
import {
  dedupeKeyOf,
  isTerminal,
  type JobRecord,
  JobStatusSchema,
  type JobSummary,
  summarizeJob,
} from '../domain/control/jobs.ts';
import type { LockStore } from '../domain/control/locks.ts';
import type { Actor } from '../domain/control/roles.ts';
import type { ComponentStatus } from '../domain/control/status.ts';
import { parseOrThrow, zodIssues } from '../domain/control/validation.ts';
import { VarietySchema } from '../domain/control/varieties.ts';
import type { IdGen } from '../domain/ids.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import { describeError } from '../errors/base.ts';
import {
  ControlError,
  DependencyUnavailableError,
  JobNotCancellableError,
  KindNotSubmittableError,
  LockHeldError,
  NotFoundError,
  ValidationFailedError,
} from '../errors/control.ts';
import type { Logger } from '../log.ts';
import { appendAudit } from './audit-append.ts';
import { JobLogQuerySchema, type JobLogs, type JobLogTail } from './job-log.ts';

/** A dedupe item whose job record never appeared is taken over after this long (crashed submitter). */
const DEDUPE_ORPHAN_MS = 30_000;
const MAX_ATTEMPTS = 3;
const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Jobs one `POST /api/jobs/cancel-batch` acts on at most (control-chain §3.2); more matching -> `truncated`. */
export const JOB_CANCEL_BATCH_MAX = 500;
/** Cancels a batch runs at once (each is a few conditional writes plus its audit entry). */
const CANCEL_BATCH_CONCURRENCY = 8;
/** Job ids the batch's own audit entry lists (its `after` stays under the 4 KiB summary bound). */
const CANCEL_BATCH_AUDIT_IDS = 100;
const ACTIVE_STATUSES = ['queued', 'running'] as const;
type ActiveStatus = (typeof ACTIVE_STATUSES)[number];

/**
 * `POST /api/jobs/cancel-batch`: which active jobs to cancel (every filter optional, all of them must match) and
 * why. Unknown fields, unknown kinds and terminal statuses are 400s naming the field.
 */
export const CancelBatchRequestSchema = z
  .object({
    kinds: z
      .array(
        z
          .string()
          .max(100)
          .refine((k) => JOB_KINDS.has(k), {
            error: (iss) =>
              `unknown job kind ${JSON.stringify(iss.input)}; expected one of ${[...JOB_KINDS.keys()].join(', ')}`,
          }),
      )
      .min(1, 'kinds is empty: omit it to match every kind')
      .max(JOB_KINDS.size)
      .transform((ks) => [...new Set(ks)])
      .optional(),
    statuses: z
      .array(
        z
          .string()
          .refine((s) => (ACTIVE_STATUSES as readonly string[]).includes(s), {
            error: (iss) =>
              JobStatusSchema.safeParse(iss.input).success
                ? `status ${JSON.stringify(iss.input)} is terminal and cannot be cancelled; name queued and/or running, or omit statuses for both`
                : `unknown status ${JSON.stringify(iss.input)}; expected queued or running (omit statuses for both)`,
          })
          .transform((s) => s as ActiveStatus),
      )
      .min(1, 'statuses is empty: omit it to match queued and running jobs')
      .transform((ss) => ACTIVE_STATUSES.filter((s) => ss.includes(s)))
      .optional(),
    var: VarietySchema.optional(),
    reason: z
      .string({ error: 'reason is required: say why these jobs are cancelled (1..500 characters)' })
      .trim()
      .min(1, 'reason is required: say why these jobs are cancelled (1..500 characters)')
      .max(500),
  })
  .strict();
export type CancelBatchRequest = z.infer<typeof CancelBatchRequestSchema>;

export interface CancelBatchResult {
  /** Active jobs that matched the filter (≤ the batch limit), oldest first. */
  matched: number;
  /** Of those, the jobs this call cancelled (queued) or asked to stop (running). */
  cancel_requested: number;
  job_ids: string[];
  /** More jobs matched than one call acts on: call again. */
  truncated: boolean;
}

export interface JobServiceDeps {
  store: JobStore;
  queue: JobQueue;
  audit: AuditLog;
  events: JobEvents;
  clock: Clock;
  ids: IdGen;
  log: Logger;
  cursorSecret: string;
  /** Shared with this process's workers (claim conflicts); a fresh set when absent. */
  counters?: JobCounters;
  /** The config head, recorded on each new job (`config_revision`, `config_hash`); absent -> not recorded. */
  configHead?: () => Promise<{ revision: number; config_hash: string }>;
  /** Job logs on the artifact store (§4.6); null or absent -> the log reads answer 503. */
  logs?: JobLogs | null;
  /**
   * Read-only lock view for kinds with `refuseWhileHeld` (a held key refuses the submission with 409 `lock_held`);
   * absent -> submitting such a kind answers 503.
   */
  locks?: Pick<LockStore, 'holder'>;
}

export interface RequestContext {
  actor: Actor;
  /**
   * The audit actor id: the user id for a session, the token id for a bearer token (as every other audited action
   * records it, so `GET /api/audit?actor=user:<id>` finds job actions too); absent -> the actor name (CLI, system).
   */
  actorId?: string;
  requestId: string;
  ip?: string | null;
  userAgent?: string | null;
  /** Audit actor type: who is behind `actor` (defaults to `user`). */
  actorType?: 'user' | 'token' | 'cli' | 'system';
}

export interface SubmitResult {
  job: JobRecord;
  deduped: boolean;
}

/**
 * `GET /api/jobs` (control-chain §3.2): a page of jobs, exact active counts, and the status payload contract (§1)
 * describing the read: `empty` when no job matches at all, else `ok`; read from the store, so never `stale`.
 */
export interface JobListResult extends ComponentStatus {
  items: JobSummary[];
  next_cursor: string | null;
  limit: number;
  counts: { queued: number; running: number };
}

/** A piece of a followed job log: whole NDJSON lines of one attempt; `truncated` when older lines were left out. */
export interface JobLogChunk {
  attempt: number;
  text: string;
  truncated: boolean;
}

export interface JobProgressView {
  job_status: JobRecord['status'];
  available: boolean;
  progress: JobRecord['progress'];
  updated_age_s: number | null;
  stale: boolean;
}

/** A job kind as `GET /api/jobs/kinds` lists it. */
export interface KindView {
  kind: string;
  description: string;
  params_schema: z.core.JSONSchema.BaseSchema;
  source_bound: boolean;
  timeout_s: number;
  submittable: boolean;
}

export class JobService {
  /** Submissions, dedupe hits and claim conflicts since start (control-chain §10 `jobs`). */
  readonly counters: JobCounters;
  private kindViews: KindView[] | undefined;

  constructor(
    private readonly deps: JobServiceDeps,
    private readonly opts: {
      progressStaleS: number;
      /** Jobs one batch cancel acts on at most (default `JOB_CANCEL_BATCH_MAX`; tests pass a small one). */
      cancelBatchMax?: number;
    },
  ) {
    this.counters = deps.counters ?? new JobCounters();
  }

  /** Validate and submit; a duplicate of an active job returns that job with `deduped: true`. */
  /**
   * `internal` submissions come from other jobs (fan-out children, finalize): they may use non-submittable kinds;
   * `delayS` (≤ 900, SQS `DelaySeconds`) holds the message back, e.g. a day batch waiting out a maintenance window.
   */
  async submit(
    body: unknown,
    ctx: RequestContext,
    opts: { internal?: boolean; delayS?: number } = {},
  ): Promise<SubmitResult> {
    const req = parseOrThrow(SubmitJobRequestSchema, body, 'job submission');
    const def = findJobKind(req.kind);
    if (!def) {
      throw new ValidationFailedError(`unknown job kind ${JSON.stringify(req.kind)}`, [
        { path: ['kind'], code: 'invalid_value', message: `expected one of ${[...JOB_KINDS.keys()].join(', ')}` },
      ]);
    }
    if (!def.submittable && !opts.internal) throw new KindNotSubmittableError(def.kind);
    const parsed = def.params.safeParse(req.params);
    if (!parsed.success) {
      const issues = zodIssues(parsed.error).map((i) => ({ ...i, path: ['params', ...i.path] }));
      throw new ValidationFailedError(
        `invalid params for ${def.kind}: ${issues[0]?.message ?? 'schema mismatch'}`,
        issues,
      );
    }
    const params = parsed.data as Record<string, unknown>;
    await this.refuseWhileHeld(def.kind, def.refuseWhileHeld?.(params) ?? []);
    const identity = canonicalJson(def.identity ? def.identity(params) : params);
    const dedupeKey = dedupeKeyOf(def.kind, identity, sha256Hex);

    for (let round = 0; round < 3; round++) {
      const now = this.deps.clock.nowMs();
      const jobId = this.deps.ids.next();
      const put = await this.deps.store.putDedupe(dedupeKey, jobId, isoUtc(now));
      if (!put.ok) {
        const existing = await this.waitForRecord(put.jobId, Date.parse(put.at), now);
        if (existing && !isTerminal(existing.status)) {
          await this.audit(ctx, 'job.submit', `job:${existing.job_id}`, 'ok', 'deduped', {
            kind: def.kind,
            deduped: true,
          });
          this.counters.deduped++;
          return { job: existing, deduped: true };
        }
        if (!existing && now - Date.parse(put.at) < DEDUPE_ORPHAN_MS) {
          throw new DependencyUnavailableError('jobs table (a concurrent identical submission is in progress)');
        }
        if (!(await this.deps.store.takeOverDedupe(dedupeKey, put.jobId, jobId, isoUtc(now)))) continue;
      }
      const head = this.deps.configHead ? await this.deps.configHead() : null;
      const record = {
        ...this.newRecord(jobId, def.kind, params, dedupeKey, def.var(params), ctx.actor, now, req.note),
        ...(head ? { config_revision: head.revision, config_hash: head.config_hash } : {}),
        ...(this.deps.logs ? { log: { prefix: jobLogPrefix(jobId), bytes: 0 } } : {}),
      };
      await this.deps.store.create(record);
      try {
        await this.deps.queue.send(
          { v: 1, job_id: jobId, kind: def.kind },
          Math.max(0, Math.min(900, Math.ceil(opts.delayS ?? 0))),
        );
      } catch (err) {
        this.deps.log.error({ job_id: jobId, err: describeError(err) }, 'job.enqueue_failed');
        const at = isoUtc(this.deps.clock.nowMs());
        await this.deps.store.failAbandoned(
          jobId,
          {
            code: 'enqueue_failed',
            message: `SQS refused the message: ${(err as Error).message}`,
            retryable: true,
            attempt: 0,
            at,
          },
          at,
        );
        await this.deps.store.releaseDedupe(dedupeKey, jobId);
        throw new DependencyUnavailableError('jobs queue', { cause: err });
      }
      this.deps.events.publish({ type: 'job.status', job: summarizeJob(record) });
      await this.audit(ctx, 'job.submit', `job:${jobId}`, 'ok', null, { kind: def.kind, params, deduped: false });
      this.counters.submitted++;
      return { job: record, deduped: false };
    }
    throw new DependencyUnavailableError('jobs table (dedupe contention; retry)');
  }

  /**
   * 409 `lock_held` (naming each holder) when any of `keys` is held: a submit-time check only. The keys are read,
   * never taken, waited for or preempted, so a holder that appears after this check is the handler's to notice.
   */
  private async refuseWhileHeld(kind: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const locks = this.deps.locks;
    if (!locks) {
      throw new DependencyUnavailableError(`lock store (job kind ${kind} checks ${keys.join(', ')} at submission)`);
    }
    const holders = await Promise.all(keys.map((k) => locks.holder(k)));
    const conflicts = holders.flatMap((h) => (h ? [{ key: h.key, owner: h.owner, expires_at: h.expires_at }] : []));
    if (conflicts.length > 0) throw new LockHeldError(conflicts);
  }

  async get(jobId: string): Promise<JobRecord> {
    const job = await this.deps.store.get(jobId);
    if (!job) throw new NotFoundError('job', jobId);
    return job;
  }

  async progress(jobId: string): Promise<JobProgressView> {
    return this.progressOf(await this.get(jobId));
  }

  /** `progress` of a record already read: the age and staleness are as of now. */
  progressOf(job: JobRecord): JobProgressView {
    const now = this.deps.clock.nowMs();
    const updatedMs = job.progress ? Date.parse(job.progress.updated_at) : null;
    const age = updatedMs === null ? null : Math.max(0, Math.round((now - updatedMs) / 100) / 10);
    return {
      job_status: job.status,
      available: job.progress !== null,
      progress: job.progress,
      updated_age_s: age,
      stale: job.status === 'running' && (age === null ? false : age > this.opts.progressStaleS),
    };
  }

  /**
   * `GET /api/jobs/{id}/log`: the tail of one attempt (default the latest; `attempt: null` before the first claim),
   * newest objects up to `max_bytes` (clamped to [1024, 1 MiB]). An attempt the job never had is 404.
   */
  async logTail(jobId: string, rawQuery: unknown): Promise<JobLogTail> {
    const q = parseOrThrow(JobLogQuerySchema, rawQuery ?? {}, 'job log query');
    const job = await this.get(jobId);
    const logs = this.logStore();
    const last = Math.max(job.attempt, ...job.attempts.map((a) => a.attempt));
    if (q.attempt !== undefined && q.attempt > last) {
      throw new ControlError(
        'not_found',
        404,
        last === 0
          ? `job ${jobId} has not started an attempt yet; omit attempt`
          : `job ${jobId} has no attempt ${q.attempt}; its attempts are 1..${last}`,
        { details: { what: 'job attempt', id: jobId, attempt: q.attempt, attempts: last } },
      );
    }
    const attempt = q.attempt ?? last;
    if (attempt === 0) return { attempt: null, text: '', bytes: 0, truncated: false };
    return { attempt, ...(await logs.tail(jobId, attempt, q.max_bytes)) };
  }

  /** `GET /api/jobs/{id}/log/download`: the NDJSON of every attempt, oldest first, read object by object. */
  async logDownload(jobId: string): Promise<AsyncIterable<Uint8Array>> {
    await this.get(jobId);
    const logs = this.logStore();
    const objects = await logs.objects(jobId);
    return (async function* () {
      for (const o of objects) {
        const body = await logs.read(o.key);
        if (body !== null) yield body;
      }
    })();
  }

  /**
   * `ghtrader jobs logs --follow`: first the tail of the newest attempt that has lines (at most `max_bytes`, clamped
   * as for `logTail`), then every log object stored after it, in order (a later attempt's lines too), polling every
   * `pollMs` until the job is terminal or `signal` aborts. The job is read before the objects are listed, and a
   * worker stores an attempt's last lines before its final transition, so nothing is missed at the end.
   */
  async *followLog(
    jobId: string,
    rawQuery: unknown,
    opts: { pollMs?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<JobLogChunk> {
    const q = parseOrThrow(JobLogQuerySchema.pick({ max_bytes: true }), rawQuery ?? {}, 'job log query');
    let job = await this.get(jobId);
    const logs = this.logStore();
    const first = await logs.objects(jobId);
    const seen = new Set(first.map((o) => o.key));
    const newest = first.at(-1)?.attempt;
    if (newest !== undefined) {
      const tail = await this.tailObjects(
        first.filter((o) => o.attempt === newest),
        q.max_bytes,
      );
      yield { attempt: newest, ...tail };
    }
    const signal = opts.signal;
    while (!isTerminal(job.status) && !signal?.aborted) {
      try {
        await sleep(opts.pollMs ?? 1000, undefined, signal ? { signal } : {});
      } catch {
        return; // aborted
      }
      job = await this.get(jobId);
      for (const o of await logs.objects(jobId)) {
        if (seen.has(o.key)) continue;
        seen.add(o.key);
        const body = await logs.read(o.key);
        if (body !== null) yield { attempt: o.attempt, text: new TextDecoder().decode(body), truncated: false };
      }
    }
  }

  /** The tail of these objects (one attempt, reading order), as `JobLogs.tail` cuts it. */
  private async tailObjects(objects: readonly JobLogObject[], maxBytes: number): Promise<Omit<JobLogChunk, 'attempt'>> {
    const tail = await this.logStore().tailOfObjects(objects, maxBytes);
    return { text: tail.text, truncated: tail.truncated };
  }

  private logStore(): JobLogs {
    if (!this.deps.logs) {
      throw new DependencyUnavailableError(
        'job log store (this process has no artifact store: set GHTRADER_ARTIFACTS_BUCKET in AWS)',
      );
    }
    return this.deps.logs;
  }

  async list(rawQuery: unknown): Promise<JobListResult> {
    const q: ListJobsQuery = parseOrThrow(ListJobsQuerySchema, rawQuery, 'job list query');
    const filters = { status: q.status, kind: q.kind, var: q.var, q: q.q };
    const [counts, page] = await Promise.all([this.counts(), this.page(q, filters)]);
    const none = page.items.length === 0 && page.next_cursor === null && q.cursor === undefined;
    return {
      state: none ? 'empty' : 'ok',
      text: none
        ? 'no job matches'
        : `${page.items.length} jobs on this page; ${counts.running} running and ${counts.queued} queued in all`,
      error: '',
      updated_at: isoUtc(this.deps.clock.nowMs()),
      stale: false,
      ...page,
      limit: q.limit,
      counts,
    };
  }

  /**
   * `GET /api/jobs/timeline`: jobs created in the window (`hours` ending at `to`, default 24, or `from`..`to`; longer
   * than 168 h is clamped, §3.1) plus every running job, at most 1000, newest first; key-condition queries only. The
   * answer names the window used (`from`, `to`, `hours`, `clamped`).
   */
  async timeline(rawQuery: unknown): Promise<TimelineResult> {
    const q = parseOrThrow(TimelineQuerySchema, rawQuery ?? {}, 'job timeline query');
    const window = timelineWindow(q, this.deps.clock.nowMs());
    if ('error' in window) {
      throw new ValidationFailedError(`invalid job timeline query: ${window.error}`, [
        { path: ['from'], code: 'custom', message: window.error },
      ]);
    }
    const [created, running] = await Promise.all([
      this.deps.store.listCreatedBetween({
        from: window.from,
        to: window.to,
        ...(q.var ? { var: q.var } : {}),
        limit: TIMELINE_MAX_ITEMS,
      }),
      this.deps.store.listByStatus('running', TIMELINE_MAX_ITEMS, window.from),
    ]);
    const stillRunning = running.filter((j) => !q.var || j.var === q.var);
    return { ...window, items: mergeTimeline(created.items, stillRunning), truncated: created.truncated };
  }

  async counts(): Promise<{ queued: number; running: number }> {
    return this.countsOf(ACTIVE_STATUSES);
  }

  /**
   * Exact counts of these statuses, one status-index COUNT query each (every page; never a table scan): the Jobs
   * page's KPIs ask for the three terminal statuses next to `counts()` of `GET /api/jobs`.
   */
  async countsOf<S extends JobRecord['status']>(statuses: readonly S[]): Promise<Record<S, number>> {
    const totals = await Promise.all(statuses.map((s) => this.deps.store.count(s)));
    return Object.fromEntries(statuses.map((s, i) => [s, totals[i] ?? 0])) as Record<S, number>;
  }

  /** Exact count of jobs in one status (status index query, every page). */
  countByStatus(status: JobRecord['status']): Promise<number> {
    return this.deps.store.count(status);
  }

  /** The oldest queued job (status index, oldest first), or null when none is queued. */
  async oldestQueued(): Promise<JobRecord | null> {
    return (await this.deps.store.listByStatus('queued', 1))[0] ?? null;
  }

  /**
   * Exact number of `running` jobs whose lease has expired (their worker is gone; the reconciler re-queues them):
   * every running job is read from the status index (`running` is bounded by worker concurrency).
   */
  async leaseExpiredRunning(): Promise<number> {
    const running = await this.deps.store.count('running');
    if (running === 0) return 0;
    const now = isoUtc(this.deps.clock.nowMs());
    const jobs = await this.deps.store.listByStatus('running', running + 100);
    return jobs.filter((j) => j.lease_expires_at !== null && j.lease_expires_at < now).length;
  }

  /** Jobs queue and DLQ depth (SQS approximate attributes). */
  queueDepth(): Promise<{ visible: number; inFlight: number; dlqVisible: number }> {
    return this.deps.queue.depth();
  }

  /** Cancel: a queued job at once; a running one gets `cancel_requested_at` and its worker stops it. */
  async cancel(jobId: string, body: unknown, ctx: RequestContext): Promise<JobRecord> {
    const { reason } = parseOrThrow(
      z.object({ reason: z.string().max(500).optional() }).strict(),
      body ?? {},
      'cancel request',
    );
    return (await this.cancelOne(jobId, reason ?? null, ctx)).job;
  }

  /**
   * `POST /api/jobs/cancel-batch`: the active jobs matching `{kinds?, statuses?, var?}`, oldest first, read from the
   * status index (filters on it, every page until the limit matched; never a scan), at most `JOB_CANCEL_BATCH_MAX`
   * per call (`truncated` when more match). Each is cancelled exactly as `cancel` does it (and audited `job.cancel`);
   * one `job.cancel_batch` entry records the filter and the counts. A running job whose cancel was already requested
   * is not matched again; a job that ended between the read and its cancel is matched but not counted.
   */
  async cancelBatch(body: unknown, ctx: RequestContext): Promise<CancelBatchResult> {
    const req = parseOrThrow(CancelBatchRequestSchema, body ?? {}, 'batch cancel request');
    const max = this.opts.cancelBatchMax ?? JOB_CANCEL_BATCH_MAX;
    const found: JobRecord[] = [];
    for (const status of req.statuses ?? ACTIVE_STATUSES) {
      if (found.length > max) break;
      // One more than the limit tells "exactly the limit" from "truncated".
      const jobs = await this.deps.store.listByStatus(status, max + 1 - found.length, undefined, {
        ...(req.kinds ? { kinds: req.kinds } : {}),
        ...(req.var ? { var: req.var } : {}),
        cancelNotRequested: status === 'running',
      });
      found.push(...jobs);
    }
    const targets = found.slice(0, max);
    const changed = new Set<string>();
    const failures: unknown[] = [];
    await eachLimited(targets, CANCEL_BATCH_CONCURRENCY, async (job) => {
      if (failures.length > 0) return;
      try {
        if ((await this.cancelOne(job.job_id, req.reason, ctx, job)).changed) changed.add(job.job_id);
      } catch (err) {
        // It ended (or vanished) between the index read and its cancel: nothing left to do for it.
        if (err instanceof JobNotCancellableError || err instanceof NotFoundError) return;
        failures.push(err);
      }
    });
    const jobIds = targets.filter((j) => changed.has(j.job_id)).map((j) => j.job_id);
    const result: CancelBatchResult = {
      matched: targets.length,
      cancel_requested: jobIds.length,
      job_ids: jobIds,
      truncated: found.length > max,
    };
    await this.audit(ctx, 'job.cancel_batch', 'jobs:batch', failures.length > 0 ? 'failed' : 'ok', req.reason, {
      filter: {
        kinds: req.kinds ?? null,
        statuses: req.statuses ?? [...ACTIVE_STATUSES],
        var: req.var ?? null,
      },
      matched: result.matched,
      cancel_requested: result.cancel_requested,
      truncated: result.truncated,
      job_ids: jobIds.slice(0, CANCEL_BATCH_AUDIT_IDS),
      ...(jobIds.length > CANCEL_BATCH_AUDIT_IDS ? { job_ids_omitted: jobIds.length - CANCEL_BATCH_AUDIT_IDS } : {}),
    });
    if (failures.length > 0) throw failures[0];
    return result;
  }

  /**
   * One job's cancel (§4.5), for `cancel` and `cancelBatch`: `seen` is the record as just read (an index read may
   * be stale; the conditional writes decide). `changed` is false when a running job's cancel was already requested.
   */
  private async cancelOne(
    jobId: string,
    reason: string | null,
    ctx: RequestContext,
    seen?: JobRecord,
  ): Promise<{ job: JobRecord; changed: boolean }> {
    const by = ctx.actor.actor;
    for (let round = 0; round < 3; round++) {
      const job = round === 0 && seen ? seen : await this.get(jobId);
      if (isTerminal(job.status)) throw new JobNotCancellableError(jobId, job.status);
      const now = isoUtc(this.deps.clock.nowMs());
      if (job.status === 'queued') {
        const r = await this.deps.store.cancelQueued(jobId, by, now);
        if (!r.ok) continue;
        await this.deps.store.releaseDedupe(r.record.dedupe_key, jobId);
        this.deps.events.publish({ type: 'job.status', job: summarizeJob(r.record) });
        await this.audit(ctx, 'job.cancel', `job:${jobId}`, 'ok', reason, { status: 'cancelled' });
        return { job: r.record, changed: true };
      }
      if (job.cancel_requested_at) {
        // A stale read may miss that the job ended meanwhile: only a fresh record may answer "already requested".
        if (round === 0 && seen) continue;
        return { job, changed: false };
      }
      const r = await this.deps.store.requestCancel(jobId, by, now);
      if (!r.ok) continue;
      await this.audit(ctx, 'job.cancel', `job:${jobId}`, 'ok', reason, { cancel_requested_at: now });
      return { job: r.record, changed: true };
    }
    throw new DependencyUnavailableError('jobs table (job changed state repeatedly during cancel; retry)');
  }

  /**
   * Kinds with their JSON Schema (generated from the zod schemas, never hand-written). The kinds are fixed at build
   * time, so the list is made once per service; callers must not mutate it.
   */
  kinds(): readonly KindView[] {
    this.kindViews ??= [...JOB_KINDS.values()].map(
      (k): KindView => ({
        kind: k.kind,
        description: k.description,
        params_schema: z.toJSONSchema(k.params, { io: 'input', unrepresentable: 'any' }),
        source_bound: k.sourceBound,
        timeout_s: k.timeoutS,
        submittable: k.submittable,
      }),
    );
    return this.kindViews;
  }

  private async page(q: ListJobsQuery, filters: unknown): Promise<Pick<JobListResult, 'items' | 'next_cursor'>> {
    if (q.q && ULID_RE.test(q.q)) {
      const job = await this.deps.store.get(q.q);
      return { items: job ? [summarizeJob(job)] : [], next_cursor: null };
    }
    const startKey = q.cursor ? decodeCursor(this.deps.cursorSecret, q.cursor, filters) : undefined;
    const page = await this.deps.store.list({
      ...(q.status ? { statuses: q.status } : {}),
      ...(q.kind ? { kind: q.kind } : {}),
      ...(q.q ? { kindPrefix: q.q } : {}),
      ...(q.var ? { var: q.var } : {}),
      limit: q.limit,
      readBudget: 5 * q.limit,
      ...(startKey ? { startKey } : {}),
    });
    return {
      items: page.items.map(summarizeJob),
      next_cursor: page.nextKey ? encodeCursor(this.deps.cursorSecret, page.nextKey, filters) : null,
    };
  }

  /** The other submitter puts the record right after the dedupe item; give it a moment before judging. */
  private async waitForRecord(jobId: string, dedupeAtMs: number, nowMs: number): Promise<JobRecord | null> {
    for (let i = 0; i < 10; i++) {
      const job = await this.deps.store.get(jobId);
      if (job || nowMs - dedupeAtMs >= DEDUPE_ORPHAN_MS) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  }

  private newRecord(
    jobId: string,
    kind: string,
    params: Record<string, unknown>,
    dedupeKey: string,
    jobVar: JobRecord['var'],
    actor: Actor,
    nowMs: number,
    note: string | undefined,
  ): JobRecord {
    const now = isoUtc(nowMs);
    return {
      job_id: jobId,
      kind,
      params,
      dedupe_key: dedupeKey,
      var: jobVar,
      status: 'queued',
      attempt: 0,
      max_attempts: MAX_ATTEMPTS,
      worker: null,
      lease_expires_at: null,
      created_at: now,
      created_by: actor,
      updated_at: now,
      queued_at: now,
      started_at: null,
      finished_at: null,
      progress: null,
      waiting_for: null,
      error: null,
      attempts: [],
      result: null,
      ...(note ? { note } : {}),
    };
  }

  /** Audit follows the committed action; a failure is logged and never undoes the action. `target`: `job:<id>`, … */
  private async audit(
    ctx: RequestContext,
    action: string,
    target: string,
    outcome: 'ok' | 'denied' | 'failed',
    reason: string | null,
    after: unknown,
  ): Promise<void> {
    await appendAudit(this.deps.audit, this.deps.log, {
      actor: { type: ctx.actorType ?? 'user', id: ctx.actorId ?? ctx.actor.actor, name: ctx.actor.actor },
      role: ctx.actor.role,
      ip: ctx.ip ?? null,
      user_agent: ctx.userAgent ?? null,
      request_id: ctx.requestId,
      action,
      target,
      outcome,
      reason,
      before: null,
      after,
    });
  }
}

/** `fn` over `items`, at most `n` at a time. */
async function eachLimited<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}
