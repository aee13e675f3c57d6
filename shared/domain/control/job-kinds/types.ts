import type { z } from 'zod';
import type { JobVar } from '../varieties.ts';

/**
 * A job kind: the closed, typed unit of work. Kinds are declared in code only; no caller-supplied command line,
 * script or path ever runs. Defaults in `params` are applied at submission, so the stored params and the dedupe
 * identity are the same however the caller spelled them.
 */
export interface JobKindDef<S extends z.ZodType = z.ZodType> {
  kind: string;
  description: string;
  params: S;
  /** The semantic identity used for dedupe (defaults applied, dates normalised). Defaults to all params. */
  identity?: (params: z.infer<S>) => unknown;
  /** Lock keys the job holds while it runs (`LockStore`, sorted, all-or-nothing). Never trading locks. */
  locks: (params: z.infer<S>) => string[];
  var: (params: z.infer<S>) => JobVar;
  /** True when the job holds a DIFF market-data session (takes a source slot lease too). */
  sourceBound: boolean;
  /** Hard limit of one attempt; ≤ 900 s so the kind can run on Lambda. */
  timeoutS: number;
  /** False for internal kinds (fan-out segments) that only other jobs enqueue. */
  submittable: boolean;
  /**
   * Lock keys that must be free when the job is submitted (read, never taken, waited for or preempted): a held one is
   * 409 `lock_held` naming its holder. For kinds that must not run beside a trading process (`account.verify`).
   */
  refuseWhileHeld?: (params: z.infer<S>) => string[];
  /** How long the job waits for its locks before failing `lock_timeout`; defaults to GHTRADER_LOCK_WAIT_TIMEOUT_S. */
  lockWaitS?: number;
}

/** Type-preserving constructor for a kind definition. */
export function defineJobKind<S extends z.ZodType>(def: JobKindDef<S>): JobKindDef<S> {
  return def;
}
