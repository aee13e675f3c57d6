/**
 * Port: durable job records (control-chain §4.1–4.2). Every transition is one conditional write with one owner;
 * a rejected write returns the record as it stands (`ALL_OLD`) so the caller can log who holds it.
 */
import type { JobAttempt, JobErrorInfo, JobProgress, JobRecord, JobStatus, WorkerInfo } from './jobs.ts';
import type { JobVar } from './varieties.ts';

export type TransitionResult = { ok: true; record: JobRecord } | { ok: false; current: JobRecord | null };

export interface ClaimInput {
  worker: WorkerInfo;
  /** The attempt number the caller saw; the claim writes attempt + 1. */
  seenAttempt: number;
  leaseExpiresAt: string;
  now: string;
  /**
   * For a re-claim: the attempts list as read (its last entry marked `lost` by the caller). It replaces the stored
   * list; the condition on `attempt` guarantees nobody changed it since it was read.
   */
  previousAttempts?: JobAttempt[];
  /** The head config revision this attempt runs against (control-chain §4.4 step 2), written with the claim. */
  config?: { revision: number; config_hash: string };
}

export interface OwnerRef {
  jobId: string;
  workerId: string;
  attempt: number;
  /** Index of this attempt in the record's `attempts` list. */
  attemptIdx: number;
}

export interface FinishInput {
  status: Extract<JobStatus, 'succeeded' | 'failed' | 'cancelled'>;
  now: string;
  result?: unknown;
  error?: JobErrorInfo | null;
  progress?: JobProgress | null;
  outcome: JobAttempt['outcome'];
  /** The job's log summary after this attempt (absent: unchanged). */
  log?: JobRecord['log'];
}

export interface RequeueInput {
  now: string;
  outcome: JobAttempt['outcome'];
  error?: JobErrorInfo | null;
  waitingFor?: JobRecord['waiting_for'];
  /** Lock waits give the attempt back: the attempt counter is restored and the attempt entry removed. */
  refundAttempt: boolean;
  /** The job's log summary after this attempt (absent: unchanged). */
  log?: JobRecord['log'];
}

export interface JobListQuery {
  statuses?: JobStatus[];
  kind?: string;
  kindPrefix?: string;
  var?: JobVar;
  limit: number;
  /** Opaque store position from a previous page (already verified by the caller). */
  startKey?: Record<string, unknown>;
  /** How many items the store may read (filters read ≤ 5 × limit). */
  readBudget: number;
}

/** Narrows `listByStatus` (filter expressions on the status index: the read stays a key-condition query). */
export interface JobStatusFilter {
  /** Only these kinds. */
  kinds?: readonly string[];
  var?: JobVar;
  /** Leave out jobs that already carry `cancel_requested_at`. */
  cancelNotRequested?: boolean;
}

export interface JobListPage {
  items: JobRecord[];
  nextKey: Record<string, unknown> | null;
}

export interface JobStore {
  create(record: JobRecord): Promise<void>;
  get(jobId: string): Promise<JobRecord | null>;
  /** `dedupe#<key> -> job_id`, put if absent; returns the existing owner when present. */
  putDedupe(key: string, jobId: string, now: string): Promise<{ ok: true } | { ok: false; jobId: string; at: string }>;
  /** Take a stale dedupe item over, on condition it still points at `oldJobId`. */
  takeOverDedupe(key: string, oldJobId: string, newJobId: string, now: string): Promise<boolean>;
  /** Delete the dedupe item if it still points at `jobId`. */
  releaseDedupe(key: string, jobId: string): Promise<void>;

  claim(jobId: string, input: ClaimInput): Promise<TransitionResult>;
  reclaim(jobId: string, input: ClaimInput): Promise<TransitionResult>;
  heartbeat(owner: OwnerRef, leaseExpiresAt: string, now: string): Promise<TransitionResult>;
  setProgress(owner: OwnerRef, progress: JobProgress, now: string): Promise<TransitionResult>;
  finish(owner: OwnerRef, input: FinishInput): Promise<TransitionResult>;
  requeue(owner: OwnerRef, input: RequeueInput): Promise<TransitionResult>;

  cancelQueued(jobId: string, by: string, now: string): Promise<TransitionResult>;
  requestCancel(jobId: string, by: string, now: string): Promise<TransitionResult>;
  /** DLQ / reconciler: fail a job nobody holds (`queued`, or `running` with an expired lease). */
  failAbandoned(jobId: string, error: JobErrorInfo, now: string): Promise<TransitionResult>;
  /** Reconciler: a `running` job with an expired lease and a cancel request becomes `cancelled`. */
  cancelAbandoned(jobId: string, now: string): Promise<TransitionResult>;

  /** Reconciler: note a re-enqueue of a `queued` job (condition: still queued with the same `queued_at`). */
  touchQueued(jobId: string, seenQueuedAt: string, now: string): Promise<TransitionResult>;

  list(query: JobListQuery): Promise<JobListPage>;
  /** Exact count of jobs in a status (index query, paginated). */
  count(status: JobStatus): Promise<number>;
  /**
   * Jobs in a status created before `createdBefore` (oldest first), at most `limit`, narrowed by `filter`; pages
   * through the status index until `limit` jobs matched or the index is exhausted.
   */
  listByStatus(
    status: JobStatus,
    limit: number,
    createdBefore?: string,
    filter?: JobStatusFilter,
  ): Promise<JobRecord[]>;
  /**
   * Jobs created in `[from, to]` (ISO-8601 UTC), newest first, at most `limit`, by the `var-created_at` index when
   * `var` is given, else `entity-created_at` (key conditions only, never a scan); `truncated` when more exist.
   */
  listCreatedBetween(q: {
    from: string;
    to: string;
    var?: JobVar;
    limit: number;
  }): Promise<{ items: JobRecord[]; truncated: boolean }>;
}
