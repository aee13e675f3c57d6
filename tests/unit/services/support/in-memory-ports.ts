/**
 * In-memory implementations of the job ports (`JobStore`, `JobQueue`, `LockStore`, `JobEvents`) and the audit log
 * for unit tests of the worker's and services' decisions. Each transition applies the same condition and the same writes as the DynamoDB adapters
 * in `shared/infra/aws/` (which the integration tests cover for real); every call is recorded for assertions.
 */
import type { AuditEntry, AuditInput, AuditLog } from '#shared/domain/control/audit.ts';
import type { JobEvent, JobEvents } from '#shared/domain/control/job-events.ts';
import type { JobQueue } from '#shared/domain/control/job-queue.ts';
import type {
  ClaimInput,
  FinishInput,
  JobListPage,
  JobStore,
  OwnerRef,
  RequeueInput,
  TransitionResult,
} from '#shared/domain/control/job-store.ts';
import type { JobAttempt, JobErrorInfo, JobMessage, JobProgress, JobRecord } from '#shared/domain/control/jobs.ts';
import type { AcquireResult, Lease, LockHolder, LockOwner, LockStore } from '#shared/domain/control/locks.ts';
import { type Clock, isoUtc } from '#shared/domain/time.ts';

/** An in-memory audit port: unit tests check what is appended, not DynamoDB. */
export class RecordingAudit implements AuditLog {
  readonly entries: AuditInput[] = [];
  async append(entry: AuditInput): Promise<AuditEntry> {
    this.entries.push(entry);
    return { ...entry, audit_id: String(this.entries.length), ts: new Date(0).toISOString() };
  }
  async listDay(): Promise<AuditEntry[]> {
    return [];
  }
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private ms: number) {}
  nowMs(): number {
    return this.ms;
  }
  advanceS(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

function notUsed(method: string): never {
  throw new Error(`InMemoryJobStore.${method} is not used by these tests`);
}

export class InMemoryJobStore implements JobStore {
  readonly records = new Map<string, JobRecord>();
  readonly requeues: { owner: OwnerRef; input: RequeueInput }[] = [];
  readonly finishes: { owner: OwnerRef; input: FinishInput }[] = [];
  readonly abandonedFailures: { jobId: string; error: JobErrorInfo }[] = [];
  readonly releasedDedupe: { key: string; jobId: string }[] = [];

  constructor(records: JobRecord[] = []) {
    for (const r of records) this.records.set(r.job_id, structuredClone(r));
  }

  /** The stored record (a copy); throws when absent so tests fail loudly. */
  current(jobId: string): JobRecord {
    const r = this.records.get(jobId);
    if (!r) throw new Error(`no job ${jobId}`);
    return structuredClone(r);
  }

  async create(record: JobRecord): Promise<void> {
    this.records.set(record.job_id, structuredClone(record));
  }

  async get(jobId: string): Promise<JobRecord | null> {
    const r = this.records.get(jobId);
    return r ? structuredClone(r) : null;
  }

  async putDedupe(): Promise<{ ok: true } | { ok: false; jobId: string; at: string }> {
    return notUsed('putDedupe');
  }

  async takeOverDedupe(): Promise<boolean> {
    return notUsed('takeOverDedupe');
  }

  async releaseDedupe(key: string, jobId: string): Promise<void> {
    this.releasedDedupe.push({ key, jobId });
  }

  async claim(jobId: string, input: ClaimInput): Promise<TransitionResult> {
    return this.transition(
      jobId,
      (r) => r.status === 'queued' && !r.cancel_requested_at && r.attempt === input.seenAttempt,
      (r) => this.claimed(r, input),
    );
  }

  async reclaim(jobId: string, input: ClaimInput): Promise<TransitionResult> {
    return this.transition(
      jobId,
      (r) => r.status === 'running' && (r.lease_expires_at ?? '') < input.now && r.attempt === input.seenAttempt,
      (r) => this.claimed(r, input),
    );
  }

  async heartbeat(owner: OwnerRef, leaseExpiresAt: string, now: string): Promise<TransitionResult> {
    return this.owned(owner, (r) => ({ ...r, lease_expires_at: leaseExpiresAt, updated_at: now }));
  }

  async setProgress(owner: OwnerRef, progress: JobProgress, now: string): Promise<TransitionResult> {
    return this.owned(owner, (r) => ({ ...r, progress, updated_at: now }));
  }

  async finish(owner: OwnerRef, input: FinishInput): Promise<TransitionResult> {
    this.finishes.push({ owner, input: structuredClone(input) });
    return this.owned(owner, (r) => ({
      ...r,
      status: input.status,
      updated_at: input.now,
      finished_at: input.now,
      lease_expires_at: null,
      waiting_for: null,
      error: input.error ?? null,
      attempts: this.endAttempt(r.attempts, owner.attemptIdx, input.outcome, input.now, input.error ?? null),
      ...(input.result !== undefined ? { result: input.result } : {}),
      ...(input.progress ? { progress: input.progress } : {}),
    }));
  }

  async requeue(owner: OwnerRef, input: RequeueInput): Promise<TransitionResult> {
    this.requeues.push({ owner, input: structuredClone(input) });
    return this.owned(owner, (r) => {
      const base = {
        ...r,
        status: 'queued' as const,
        updated_at: input.now,
        queued_at: input.now,
        lease_expires_at: null,
        waiting_for: input.waitingFor ?? null,
      };
      if (input.refundAttempt) {
        // A lock wait spends no attempt: restore the counter and drop the attempt entry (as the adapter does).
        return { ...base, attempt: owner.attempt - 1, attempts: r.attempts.filter((_, i) => i !== owner.attemptIdx) };
      }
      return {
        ...base,
        error: input.error ?? null,
        attempts: this.endAttempt(r.attempts, owner.attemptIdx, input.outcome, input.now, input.error ?? null),
      };
    });
  }

  async cancelQueued(): Promise<TransitionResult> {
    return notUsed('cancelQueued');
  }

  async requestCancel(): Promise<TransitionResult> {
    return notUsed('requestCancel');
  }

  async failAbandoned(jobId: string, error: JobErrorInfo, now: string): Promise<TransitionResult> {
    this.abandonedFailures.push({ jobId, error });
    return this.transition(
      jobId,
      (r) => r.status === 'queued' || (r.status === 'running' && (r.lease_expires_at ?? '') < now),
      (r) => ({
        ...r,
        status: 'failed',
        error,
        updated_at: now,
        finished_at: now,
        lease_expires_at: null,
        waiting_for: null,
      }),
    );
  }

  async cancelAbandoned(): Promise<TransitionResult> {
    return notUsed('cancelAbandoned');
  }

  async touchQueued(): Promise<TransitionResult> {
    return notUsed('touchQueued');
  }

  async list(): Promise<JobListPage> {
    return notUsed('list');
  }

  async count(): Promise<number> {
    return notUsed('count');
  }

  async listByStatus(): Promise<JobRecord[]> {
    return notUsed('listByStatus');
  }

  async listCreatedBetween(): Promise<{ items: JobRecord[]; truncated: boolean }> {
    return notUsed('listCreatedBetween');
  }

  private claimed(r: JobRecord, input: ClaimInput): JobRecord {
    const attempt: JobAttempt = {
      attempt: input.seenAttempt + 1,
      worker: input.worker.id,
      started_at: input.now,
      ended_at: null,
      outcome: 'running',
      error: null,
    };
    return {
      ...r,
      status: 'running',
      attempt: input.seenAttempt + 1,
      worker: input.worker,
      lease_expires_at: input.leaseExpiresAt,
      updated_at: input.now,
      attempts: [...(input.previousAttempts ?? r.attempts), attempt],
      // DynamoJobStore.claimWhere writes `waiting_for = :waiting` with `:waiting = null` on every (re-)claim.
      waiting_for: null,
      ...(input.seenAttempt === 0 ? { started_at: input.now } : {}),
    };
  }

  private endAttempt(
    attempts: JobAttempt[],
    idx: number,
    outcome: JobAttempt['outcome'],
    now: string,
    error: JobErrorInfo | null,
  ): JobAttempt[] {
    return attempts.map((a, i) => (i === idx ? { ...a, outcome, ended_at: now, error } : a));
  }

  /** The owner condition of every worker write: `status = running AND worker.id = :me AND attempt = :n`. */
  private owned(owner: OwnerRef, write: (r: JobRecord) => JobRecord): Promise<TransitionResult> {
    return this.transition(
      owner.jobId,
      (r) => r.status === 'running' && r.worker?.id === owner.workerId && r.attempt === owner.attempt,
      write,
    );
  }

  private async transition(
    jobId: string,
    condition: (r: JobRecord) => boolean,
    write: (r: JobRecord) => JobRecord,
  ): Promise<TransitionResult> {
    const r = this.records.get(jobId);
    if (!r || !condition(r)) return { ok: false, current: r ? structuredClone(r) : null };
    const next = write(structuredClone(r));
    this.records.set(jobId, next);
    return { ok: true, record: structuredClone(next) };
  }
}

export class InMemoryJobQueue implements JobQueue {
  readonly sent: { message: JobMessage; delayS: number | undefined }[] = [];
  readonly visibility: { receiptHandle: string; seconds: number }[] = [];

  async send(message: JobMessage, delayS?: number): Promise<string> {
    this.sent.push({ message, delayS });
    return `msg-${this.sent.length}`;
  }

  async changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    this.visibility.push({ receiptHandle, seconds });
  }

  async depth(): Promise<{ visible: number; inFlight: number; dlqVisible: number }> {
    return { visible: 0, inFlight: 0, dlqVisible: 0 };
  }
}

interface HeldLock {
  owner: LockOwner;
  fence: number;
  expiresAtMs: number;
}

/** Lease locks with the adapter's rules: free, expired or already ours -> taken; fences only grow; no preemption. */
export class InMemoryLockStore implements LockStore {
  readonly held = new Map<string, HeldLock>();
  readonly acquireAllCalls: { keys: string[]; owner: LockOwner; leaseMs: number }[] = [];
  readonly released: Lease[] = [];
  private readonly fences = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  /** Make `ownerId` hold `key` until `expiresAtMs`, as another job would. */
  hold(key: string, ownerId: string, expiresAtMs: number): LockHolder {
    const fence = this.nextFence(key);
    this.held.set(key, { owner: { ownerId, host: 'other-host', pid: 4242 }, fence, expiresAtMs });
    return this.toHolder(key);
  }

  async acquire(key: string, owner: LockOwner, leaseMs: number): Promise<AcquireResult> {
    const now = this.clock.nowMs();
    const fence = this.nextFence(key);
    const cur = this.held.get(key);
    if (cur && cur.expiresAtMs >= now && cur.owner.ownerId !== owner.ownerId) {
      return { ok: false, conflicts: [this.toHolder(key)] };
    }
    this.held.set(key, { owner, fence, expiresAtMs: now + leaseMs });
    return { ok: true, leases: [{ key, ownerId: owner.ownerId, fence, expiresAtMs: now + leaseMs }] };
  }

  async acquireAll(keys: string[], owner: LockOwner, leaseMs: number): Promise<AcquireResult> {
    this.acquireAllCalls.push({ keys: [...keys], owner, leaseMs });
    const taken: Lease[] = [];
    for (const key of [...new Set(keys)].sort()) {
      const r = await this.acquire(key, owner, leaseMs);
      if (!r.ok) {
        for (const lease of taken.reverse()) this.held.delete(lease.key);
        return r;
      }
      taken.push(...r.leases);
    }
    return { ok: true, leases: taken };
  }

  async renew(lease: Lease, leaseMs: number): Promise<Lease> {
    const cur = this.held.get(lease.key);
    if (!cur || cur.fence !== lease.fence) throw new Error(`lease on ${lease.key} is no longer ours`);
    cur.expiresAtMs = this.clock.nowMs() + leaseMs;
    return { ...lease, expiresAtMs: cur.expiresAtMs };
  }

  async release(lease: Lease): Promise<boolean> {
    this.released.push(lease);
    const cur = this.held.get(lease.key);
    if (!cur || cur.fence !== lease.fence) return false;
    this.held.delete(lease.key);
    return true;
  }

  async holder(key: string): Promise<LockHolder | null> {
    const cur = this.held.get(key);
    return cur && cur.expiresAtMs >= this.clock.nowMs() ? this.toHolder(key) : null;
  }

  private nextFence(key: string): number {
    const next = (this.fences.get(key) ?? 0) + 1;
    this.fences.set(key, next);
    return next;
  }

  private toHolder(key: string): LockHolder {
    const cur = this.held.get(key);
    if (!cur) throw new Error(`no holder of ${key}`);
    return {
      key,
      owner: cur.owner.ownerId,
      host: cur.owner.host,
      pid: cur.owner.pid,
      fence: cur.fence,
      expires_at: isoUtc(cur.expiresAtMs),
    };
  }
}

export class RecordingJobEvents implements JobEvents {
  readonly events: JobEvent[] = [];
  publish(event: JobEvent): void {
    this.events.push(event);
  }
}
