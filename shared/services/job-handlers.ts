/**
 * What a job handler receives and returns. Handlers are registered per kind; the worker owns claiming,
 * heartbeats, locks, cancellation and the final transition, so a handler only does its work and reports progress.
 */
import type { ProgressUpdate } from '../domain/control/jobs.ts';
import type { Logger } from '../log.ts';

export interface JobContext {
  jobId: string;
  kind: string;
  attempt: number;
  /** Aborted on cancel, timeout or lost ownership; `signal.reason` says which. Handlers must stop promptly. */
  signal: AbortSignal;
  /** Merge a progress update (written ≤ 1/s, always on phase change). Throws when ownership was lost. */
  progress(update: ProgressUpdate): Promise<void>;
  log: Logger;
  /** Fencing tokens of the locks this attempt holds, by key: stamp them on every committed write. */
  fences: Readonly<Record<string, number>>;
  /**
   * The config revision pinned when this attempt was claimed (control-chain §4.4 step 2; the record's
   * `config_revision`): resolve config against it for the whole attempt. Null in a worker without a config source.
   */
  config: PinnedConfig | null;
}

/** A config revision as a handler resolves against it. */
export interface PinnedConfig {
  revision: number;
  config_hash: string;
  snapshot: Readonly<Record<string, string>>;
}

/** A handler: resolves with the job's result (JSON; over 8 KiB it is kept as an artifact the record points at) or throws. */
export type JobHandler = (params: Record<string, unknown>, ctx: JobContext) => Promise<unknown>;

export type JobHandlers = Readonly<Record<string, JobHandler>>;

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
