/**
 * One running attempt of a claimed job: heartbeats (job lease, lock leases, message visibility), progress writes,
 * cancellation with grace, the kind's timeout, and loss of ownership. Pure orchestration over the ports.
 */
import type { JobQueue } from '../domain/control/job-queue.ts';
import type { JobStore, OwnerRef } from '../domain/control/job-store.ts';
import { type JobProgress, type JobRecord, mergeProgress, type ProgressUpdate } from '../domain/control/jobs.ts';
import type { Lease, LockStore } from '../domain/control/locks.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import { describeError } from '../errors/base.ts';
import type { Logger } from '../log.ts';
import type { JobHandler, PinnedConfig } from './job-handlers.ts';

export interface AttemptSettings {
  heartbeatS: number;
  leaseS: number;
  cancelGraceS: number;
  /**
   * Progress log cadence (`GHTRADER_PROGRESS_EVERY_S` 15, `GHTRADER_PROGRESS_EVERY_N` 25): besides every phase change,
   * one progress line goes to the job log once this many seconds or progress updates have passed since the last one.
   */
  progressEveryS?: number;
  progressEveryN?: number;
}

/** Why the attempt's signal was aborted. */
export type AbortCause =
  | { type: 'cancel'; by: string }
  | { type: 'timeout'; afterS: number }
  | { type: 'ownership_lost'; detail: string };

export class AttemptAbort extends Error {
  constructor(readonly cause_: AbortCause) {
    super(
      cause_.type === 'cancel'
        ? `cancelled by ${cause_.by}`
        : cause_.type === 'timeout'
          ? `timed out after ${cause_.afterS} s`
          : `ownership lost: ${cause_.detail}`,
    );
    this.name = 'AttemptAbort';
  }
}

export type AttemptOutcome =
  | { type: 'returned'; result: unknown; progress: JobProgress | null }
  | { type: 'threw'; error: unknown; progress: JobProgress | null }
  | { type: 'cancelled'; forced: boolean; by: string; progress: JobProgress | null }
  | { type: 'timeout'; afterS: number; progress: JobProgress | null }
  | { type: 'ownership_lost'; detail: string };

export interface AttemptDeps {
  store: JobStore;
  queue: JobQueue;
  locks: LockStore;
  clock: Clock;
  log: Logger;
  onProgress(progress: JobProgress): void;
  /** The config revision pinned at the claim (`ctx.config`). */
  config: PinnedConfig | null;
}

const PROGRESS_MIN_INTERVAL_MS = 1_000;
const PROGRESS_EVERY_S = 15;
const PROGRESS_EVERY_N = 25;

/** `progress 42.0%, step 3/10 download, item 7/20 2025-01-02: 3 of 5 batches eta 12 s` — a progress line. */
export function progressLine(p: JobProgress): string {
  const parts = [`progress ${(p.pct * 100).toFixed(1)}%`];
  if (p.total_steps > 1) parts.push(`step ${p.step_idx + 1}/${p.total_steps}${p.step ? ` ${p.step}` : ''}`);
  if (p.total_items > 0) parts.push(`item ${p.item_idx + 1}/${p.total_items}${p.item ? ` ${p.item}` : ''}`);
  const head = parts.join(', ');
  const tail = [p.message, p.eta_s === null ? null : `eta ${Math.round(p.eta_s)} s`].filter(Boolean).join(' ');
  return tail ? `${head}: ${tail}` : head;
}

/** Run `handler` for the claimed `record` until it settles, is cancelled, times out or loses ownership. */
export async function runAttempt(
  deps: AttemptDeps,
  settings: AttemptSettings,
  record: JobRecord,
  owner: OwnerRef,
  leases: Lease[],
  receiptHandle: string | null,
  timeoutS: number,
  handler: JobHandler,
): Promise<AttemptOutcome> {
  const { store, queue, locks, clock, log } = deps;
  const ac = new AbortController();
  const startedMs = clock.nowMs();
  const leaseMs = settings.leaseS * 1000;
  let progress: JobProgress | null = record.progress;
  let lastWriteMs = 0;
  // The progress log cadence: the last progress or phase line, and updates since.
  let lastLineMs = startedMs;
  let updatesSinceLine = 0;
  let writeChain: Promise<void> = Promise.resolve();
  let lastBeatOkMs = startedMs;
  let currentLeases = leases;
  let settle: (o: AttemptOutcome) => void = () => {};
  const settled = new Promise<AttemptOutcome>((r) => {
    settle = r;
  });
  let graceTimer: NodeJS.Timeout | undefined;
  let cancelBy: string | null = null;

  const abort = (cause: AbortCause) => {
    if (ac.signal.aborted) return;
    ac.abort(new AttemptAbort(cause));
    if (cause.type === 'ownership_lost') settle({ type: 'ownership_lost', detail: cause.detail });
    if (cause.type === 'timeout') settle({ type: 'timeout', afterS: cause.afterS, progress });
    if (cause.type === 'cancel') {
      cancelBy = cause.by;
      // The handler gets `cancelGraceS` to return; after that the wrapper writes `cancelled` anyway.
      graceTimer = setTimeout(
        () => settle({ type: 'cancelled', forced: true, by: cause.by, progress }),
        settings.cancelGraceS * 1000,
      );
    }
  };

  const writeProgress = (p: JobProgress): Promise<void> => {
    writeChain = writeChain.then(async () => {
      if (ac.signal.aborted && (ac.signal.reason as AttemptAbort).cause_.type === 'ownership_lost') return;
      const r = await store.setProgress(owner, p, isoUtc(clock.nowMs()));
      if (!r.ok)
        abort({ type: 'ownership_lost', detail: `progress write rejected (${r.current?.status ?? 'missing'})` });
    });
    return writeChain;
  };

  const beat = async () => {
    const now = clock.nowMs();
    try {
      const r = await store.heartbeat(owner, isoUtc(now + leaseMs), isoUtc(now));
      if (!r.ok) {
        abort({
          type: 'ownership_lost',
          detail: `heartbeat rejected; job is ${r.current?.status ?? 'missing'} owned by ${r.current?.worker?.id ?? 'nobody'}`,
        });
        return;
      }
      currentLeases = await Promise.all(currentLeases.map((l) => locks.renew(l, leaseMs)));
      lastBeatOkMs = now;
      if (r.record.cancel_requested_at && cancelBy === null)
        abort({ type: 'cancel', by: r.record.cancel_requested_by ?? 'unknown' });
      if (receiptHandle) {
        await queue.changeVisibility(receiptHandle, settings.leaseS + settings.heartbeatS).catch((err) => {
          log.warn({ err: describeError(err) }, 'job.visibility_extend_failed');
        });
      }
    } catch (err) {
      log.warn({ err: describeError(err) }, 'job.heartbeat_failed');
      if (clock.nowMs() - lastBeatOkMs > leaseMs - settings.heartbeatS * 1000) {
        abort({
          type: 'ownership_lost',
          detail: `no successful heartbeat for ${Math.round((clock.nowMs() - lastBeatOkMs) / 1000)} s`,
        });
      }
    }
  };

  const hb = setInterval(() => void beat(), settings.heartbeatS * 1000);
  const timeout = setTimeout(() => abort({ type: 'timeout', afterS: timeoutS }), timeoutS * 1000);

  const ctx = {
    jobId: record.job_id,
    kind: record.kind,
    attempt: owner.attempt,
    signal: ac.signal,
    log,
    fences: Object.fromEntries(leases.map((l) => [l.key, l.fence])),
    config: deps.config,
    async progress(update: ProgressUpdate): Promise<void> {
      if (ac.signal.aborted) throw ac.signal.reason;
      const now = clock.nowMs();
      const phaseChanged = update.phase !== undefined && update.phase !== progress?.phase;
      progress = mergeProgress(progress, update, { nowIso: isoUtc(now), elapsedS: (now - startedMs) / 1000 });
      updatesSinceLine++;
      if (phaseChanged) {
        // Phase changes are the progress worth keeping in the job log (ctx.log goes there too).
        log.info(
          { phase: progress.phase, phase_idx: progress.phase_idx, total_phases: progress.total_phases },
          `phase ${progress.phase_idx + 1}/${progress.total_phases} ${progress.phase}${progress.message ? `: ${progress.message}` : ''}`,
        );
        lastLineMs = now;
        updatesSinceLine = 0;
      } else if (
        now - lastLineMs >= (settings.progressEveryS ?? PROGRESS_EVERY_S) * 1000 ||
        updatesSinceLine >= (settings.progressEveryN ?? PROGRESS_EVERY_N)
      ) {
        log.info(
          { pct: progress.pct, step_idx: progress.step_idx, item_idx: progress.item_idx },
          progressLine(progress),
        );
        lastLineMs = now;
        updatesSinceLine = 0;
      }
      deps.onProgress(progress);
      if (phaseChanged || now - lastWriteMs >= PROGRESS_MIN_INTERVAL_MS) {
        lastWriteMs = now;
        await writeProgress(progress);
        if (ac.signal.aborted) throw ac.signal.reason;
      }
    },
  };

  handler(record.params, ctx).then(
    (result) => {
      if (cancelBy !== null) settle({ type: 'cancelled', forced: false, by: cancelBy, progress });
      else settle({ type: 'returned', result, progress });
    },
    (error) => {
      if (cancelBy !== null) settle({ type: 'cancelled', forced: false, by: cancelBy, progress });
      else settle({ type: 'threw', error, progress });
    },
  );

  try {
    const outcome = await settled;
    await writeChain;
    return outcome;
  } finally {
    clearInterval(hb);
    clearTimeout(timeout);
    clearTimeout(graceTimer);
    if (!ac.signal.aborted) ac.abort(new AttemptAbort({ type: 'ownership_lost', detail: 'attempt finished' }));
    leases.splice(0, leases.length, ...currentLeases);
  }
}
