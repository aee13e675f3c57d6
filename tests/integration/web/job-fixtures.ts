/**
 * Job records written straight to the Jobs table for page and timeline tests that need jobs of every status at chosen
 * times (running them would take minutes). The record shape is the production `JobRecord`.
 */
import { ulid } from 'ulid';
import type { JobRecord, JobStatus } from '#shared/domain/control/jobs.ts';
import { isoUtc } from '#shared/domain/time.ts';

export interface StoredJobOptions {
  createdMs: number;
  status: JobStatus;
  kind?: string;
  params?: Record<string, unknown>;
  /** Default: `params.var` when it is a string, else `none`. */
  var?: JobRecord['var'];
  /** Who the record says submitted it (distinguishes the suites' items). */
  by: string;
  /** How long after creation a terminal job finished (default 60 s). */
  finishedAfterMs?: number;
}

/** A record as the worker would have left it in `status`: started 1 s after creation, leased 10 min while running. */
export function storedJob(o: StoredJobOptions): JobRecord {
  const created = isoUtc(o.createdMs);
  const params = o.params ?? { seconds: 1 };
  const done = o.status === 'succeeded' || o.status === 'failed' || o.status === 'cancelled';
  return {
    job_id: ulid(o.createdMs),
    kind: o.kind ?? 'system.sleep',
    params,
    dedupe_key: `${o.by}-${o.createdMs}-${Math.random()}`,
    var: o.var ?? (typeof params.var === 'string' ? (params.var as JobRecord['var']) : 'none'),
    status: o.status,
    attempt: o.status === 'queued' ? 0 : 1,
    max_attempts: 3,
    worker: o.status === 'queued' ? null : { id: 'w-test', runner: 'local', request_id: 'req-test' },
    lease_expires_at: o.status === 'running' ? isoUtc(Date.now() + 600_000) : null,
    created_at: created,
    created_by: { actor: o.by, role: 'operator' },
    updated_at: created,
    queued_at: created,
    started_at: o.status === 'queued' ? null : isoUtc(o.createdMs + 1_000),
    finished_at: done ? isoUtc(o.createdMs + (o.finishedAfterMs ?? 60_000)) : null,
    progress: null,
    waiting_for: null,
    error: null,
    attempts: [],
    result: null,
  } as JobRecord;
}
