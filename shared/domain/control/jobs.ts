/**
 * The job record, its status machine and progress arithmetic (control-chain §4). Pure: no I/O, time injected.
 */
import * as z from 'zod';
import { ActorSchema } from './roles.ts';
import { JobVarSchema } from './varieties.ts';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const JobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatusSchema>;
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled']);

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

const iso = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'expected UTC ISO-8601 with ms and Z');

export const JobProgressSchema = z.object({
  phase: z.string(),
  phase_idx: z.number().int().min(0),
  total_phases: z.number().int().min(1),
  step: z.string(),
  step_idx: z.number().int().min(0),
  total_steps: z.number().int().min(1),
  item: z.string(),
  item_idx: z.number().int().min(0),
  total_items: z.number().int().min(0),
  pct: z.number().min(0).max(1),
  message: z.string(),
  eta_s: z.number().min(0).nullable(),
  updated_at: iso,
});
export type JobProgress = z.infer<typeof JobProgressSchema>;

/** What a handler reports; every field optional, merged into the stored progress (never reset). */
export const ProgressUpdateSchema = z
  .object({
    phase: z.string(),
    phase_idx: z.number().int().min(0),
    total_phases: z.number().int().min(1),
    step: z.string(),
    step_idx: z.number().int().min(0),
    total_steps: z.number().int().min(1),
    item: z.string(),
    item_idx: z.number().int().min(0),
    total_items: z.number().int().min(0),
    message: z.string(),
  })
  .partial();
export type ProgressUpdate = z.infer<typeof ProgressUpdateSchema>;

export const JobErrorInfoSchema = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
  attempt: z.number().int().min(0),
  at: iso,
});
export type JobErrorInfo = z.infer<typeof JobErrorInfoSchema>;

export const AttemptOutcomeSchema = z.enum(['running', 'succeeded', 'failed', 'retry', 'cancelled', 'lost', 'waiting']);

export const JobAttemptSchema = z.object({
  attempt: z.number().int().min(1),
  worker: z.string(),
  started_at: iso,
  ended_at: iso.nullable(),
  outcome: AttemptOutcomeSchema,
  error: JobErrorInfoSchema.nullable(),
});
export type JobAttempt = z.infer<typeof JobAttemptSchema>;

export const WorkerInfoSchema = z.object({
  id: z.string(),
  runner: z.enum(['lambda', 'local', 'inprocess']),
  request_id: z.string(),
});
export type WorkerInfo = z.infer<typeof WorkerInfoSchema>;

export const LockConflictSchema = z.object({
  key: z.string(),
  owner: z.string(),
  expires_at: iso,
});

export const WaitingForSchema = z
  .object({
    kind: z.enum(['lock', 'source_slot']),
    since: iso,
    conflicts: z.array(LockConflictSchema),
  })
  .nullable();

/** A job record as stored in the Jobs table (and returned by the API). */
export const JobRecordSchema = z.object({
  job_id: z.string(),
  kind: z.string(),
  params: z.record(z.string(), z.unknown()),
  dedupe_key: z.string(),
  var: JobVarSchema,
  status: JobStatusSchema,
  attempt: z.number().int().min(0),
  max_attempts: z.number().int().min(1),
  worker: WorkerInfoSchema.nullable(),
  lease_expires_at: iso.nullable(),
  created_at: iso,
  created_by: ActorSchema,
  updated_at: iso,
  queued_at: iso,
  started_at: iso.nullable(),
  finished_at: iso.nullable(),
  cancel_requested_at: iso.nullable().optional(),
  cancel_requested_by: z.string().nullable().optional(),
  progress: JobProgressSchema.nullable(),
  waiting_for: WaitingForSchema,
  error: JobErrorInfoSchema.nullable(),
  attempts: z.array(JobAttemptSchema),
  result: z.unknown().nullable(),
  note: z.string().optional(),
  parent_id: z.string().optional(),
  /** Where the job's log objects are (`jobs/<job_id>/`) and how many bytes all its attempts stored (§4.6). */
  log: z.object({ prefix: z.string(), bytes: z.number().int().min(0) }).optional(),
  /** The config revision (and its hash) the job was submitted under; absent on records from before it was kept. */
  config_revision: z.number().int().min(1).optional(),
  config_hash: z.string().optional(),
});
export type JobRecord = z.infer<typeof JobRecordSchema>;

/** The subset shown in lists. */
export type JobSummary = Pick<
  JobRecord,
  'job_id' | 'kind' | 'var' | 'status' | 'attempt' | 'created_at' | 'updated_at' | 'started_at' | 'finished_at'
> & { pct: number | null; message: string | null; error_code: string | null };

export function summarizeJob(j: JobRecord): JobSummary {
  return {
    job_id: j.job_id,
    kind: j.kind,
    var: j.var,
    status: j.status,
    attempt: j.attempt,
    created_at: j.created_at,
    updated_at: j.updated_at,
    started_at: j.started_at,
    finished_at: j.finished_at,
    pct: j.progress?.pct ?? null,
    message: j.progress?.message ?? null,
    error_code: j.error?.code ?? null,
  };
}

/** SQS message body: params never travel in messages, the worker reads the record. */
export const JobMessageSchema = z.object({ v: z.literal(1), job_id: z.string().min(1), kind: z.string().min(1) });
export type JobMessage = z.infer<typeof JobMessageSchema>;

/** `pct = phase_idx/P + step_idx/(P·S) + item_idx/(P·S·I)` (item term only if I > 0), clamped to [0,1], 4 dp. */
export function computePct(
  p: Pick<JobProgress, 'phase_idx' | 'total_phases' | 'step_idx' | 'total_steps' | 'item_idx' | 'total_items'>,
): number {
  const P = Math.max(1, p.total_phases);
  const S = Math.max(1, p.total_steps);
  let pct = p.phase_idx / P + p.step_idx / (P * S);
  if (p.total_items > 0) pct += p.item_idx / (P * S * p.total_items);
  return Math.round(Math.min(1, Math.max(0, pct)) * 10_000) / 10_000;
}

export const EMPTY_PROGRESS = {
  phase: '',
  phase_idx: 0,
  total_phases: 1,
  step: '',
  step_idx: 0,
  total_steps: 1,
  item: '',
  item_idx: 0,
  total_items: 0,
  message: '',
} as const;

/**
 * Merge an update into the stored progress. pct never decreases within an attempt; eta = elapsed/pct − elapsed
 * (null at 0). `finished` forces pct 1 and eta 0.
 */
export function mergeProgress(
  prev: JobProgress | null,
  update: ProgressUpdate,
  at: { nowIso: string; elapsedS: number; finished?: boolean },
): JobProgress {
  const base = prev ?? { ...EMPTY_PROGRESS, pct: 0, eta_s: null, updated_at: at.nowIso };
  // Fields an update leaves undefined keep their stored value (an update never wipes phase, step or pct).
  const defined = Object.fromEntries(Object.entries(update).filter(([, v]) => v !== undefined));
  const merged = { ...base, ...defined };
  let pct = Math.max(prev?.pct ?? 0, computePct(merged));
  if (at.finished) pct = 1;
  const eta = at.finished ? 0 : pct > 0 ? Math.max(0, Math.round((at.elapsedS / pct - at.elapsedS) * 10) / 10) : null;
  return { ...merged, pct, eta_s: eta, updated_at: at.nowIso };
}

/** `<kind>:<first 16 hex of sha256(canonical identity JSON)>`. */
export function dedupeKeyOf(
  kind: string,
  identityCanonicalJson: string,
  sha256Hex: (t: string, n: number) => string,
): string {
  return `${kind}:${sha256Hex(identityCanonicalJson, 16)}`;
}
