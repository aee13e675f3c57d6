/**
 * Job logs (control-chain §4.6) on the `ArtifactStore`: `JobAttemptLog` buffers one attempt's lines and flushes them
 * every 2 s, at 256 KiB and when the attempt ends, as `jobs/<job_id>/attempt-<n>/<seq:06>.ndjson` objects; its
 * `logger` is the handler's `ctx.log`, a pino logger whose lines also go to the process log. `JobLogs` opens attempt
 * logs (workers) and reads tails and whole logs (API). A failed flush is logged and retried by the next flush; while
 * flushes fail, lines are kept up to 4 MiB and the oldest are dropped beyond that (the drop is logged in both logs).
 */
import { pino } from 'pino';
import * as z from 'zod';
import {
  clampLogMaxBytes,
  formatJobLogLine,
  JOB_LOG_FLUSH_BYTES,
  JOB_LOG_FLUSH_MS,
  JOB_LOG_LEVELS,
  JOB_LOG_MAX_BUFFERED_BYTES,
  JOB_LOG_TAIL,
  type JobLogLevel,
  type JobLogObject,
  jobLogAttemptPrefix,
  jobLogKey,
  jobLogPrefix,
  nextJobLogSeq,
  sortJobLogObjects,
  type TailText,
  tailOf,
  utf8Bytes,
} from '../domain/control/job-log.ts';
import { clampedLimit } from '../domain/control/job-requests.ts';
import type { ArtifactStore } from '../domain/data/artifacts.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import { describeError } from '../errors/base.ts';
import { DependencyUnavailableError } from '../errors/control.ts';
import { type Logger, REDACTED_KEYS } from '../log.ts';

/** `GET /api/jobs/{id}/log` query: `max_bytes` clamps silently (non-numeric is 400), `attempt` is a number ≥ 1. */
export const JobLogQuerySchema = z
  .object({
    max_bytes: clampedLimit(JOB_LOG_TAIL),
    attempt: z
      .string()
      .regex(/^[1-9]\d{0,5}$/, 'expected an attempt number ≥ 1')
      .transform(Number)
      .optional(),
  })
  .strict();
export type JobLogQuery = z.infer<typeof JobLogQuerySchema>;

export interface JobLogTail extends TailText {
  /** The attempt shown; null when the job has not started an attempt yet. */
  attempt: number | null;
}

export interface JobLogSettings {
  flushMs: number;
  flushBytes: number;
  maxBufferedBytes: number;
}

export const DEFAULT_JOB_LOG_SETTINGS: JobLogSettings = {
  flushMs: JOB_LOG_FLUSH_MS,
  flushBytes: JOB_LOG_FLUSH_BYTES,
  maxBufferedBytes: JOB_LOG_MAX_BUFFERED_BYTES,
};

/** Retries of the last flush when the attempt ends (after the first try), and their spacing. */
const FINAL_FLUSH_RETRY_MS = [250, 1000];

const LEVEL_SET = new Set<string>(JOB_LOG_LEVELS);

export interface JobLogsDeps {
  store: ArtifactStore;
  clock: Clock;
  settings?: Partial<JobLogSettings>;
}

export class JobLogs {
  private readonly settings: JobLogSettings;

  constructor(private readonly deps: JobLogsDeps) {
    this.settings = { ...DEFAULT_JOB_LOG_SETTINGS, ...deps.settings };
  }

  /** Start buffering attempt `attempt` of `jobId`; `processLog` receives every line too (and flush failures). */
  open(jobId: string, attempt: number, processLog: Logger): JobAttemptLog {
    return new JobAttemptLog(this.deps.store, this.deps.clock, jobId, attempt, processLog, this.settings);
  }

  /** The tail of one attempt: its newest objects up to `maxBytes` (clamped to [1024, 1 MiB]). */
  async tail(jobId: string, attempt: number, maxBytes: number): Promise<TailText> {
    return this.tailOfObjects(await this.objects(jobId, attempt), maxBytes);
  }

  /**
   * The tail of these objects (one attempt's, in reading order) up to `maxBytes` (clamped): for a caller that must cut
   * the tail from the same object list it goes on following (`JobService.followLog`).
   */
  async tailOfObjects(objects: readonly JobLogObject[], maxBytes: number): Promise<TailText> {
    const max = clampLogMaxBytes(maxBytes);
    const chunks: Uint8Array[] = [];
    let sum = 0;
    let i = objects.length - 1;
    for (; i >= 0 && sum < max; i--) {
      const o = objects[i];
      if (!o) continue;
      const body = await this.read(o.key);
      if (body === null) continue;
      chunks.unshift(body);
      sum += body.length;
    }
    return tailOf(chunks, max, i >= 0);
  }

  /** The objects of the job's log (or of one attempt), in reading order: attempt, then sequence. */
  async objects(jobId: string, attempt?: number): Promise<JobLogObject[]> {
    const prefix = attempt === undefined ? jobLogPrefix(jobId) : jobLogAttemptPrefix(jobId, attempt);
    try {
      return sortJobLogObjects(await this.deps.store.list(prefix), jobId);
    } catch (err) {
      throw new DependencyUnavailableError('job log store (artifact store list)', { cause: err });
    }
  }

  /** One object's body; null when it vanished between list and read. */
  async read(key: string): Promise<Uint8Array | null> {
    try {
      return await this.deps.store.get(key);
    } catch (err) {
      throw new DependencyUnavailableError('job log store (artifact store read)', { cause: err });
    }
  }
}

/** One attempt's log: buffered lines, periodic flushes, and the handler's logger. */
export class JobAttemptLog {
  /** The handler's `ctx.log`: lines go to this job log and to the process log. */
  readonly logger: Logger;
  private readonly lines: string[] = [];
  private bufferedBytes = 0;
  /** Lines at the front of `lines` that the running flush is writing (never dropped while it runs). */
  private inFlight = 0;
  private dropped = 0;
  private written = 0;
  private seq: number | null = null;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private failing = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: ArtifactStore,
    private readonly clock: Clock,
    readonly jobId: string,
    readonly attempt: number,
    private readonly processLog: Logger,
    private readonly settings: JobLogSettings,
  ) {
    this.logger = teeLogger(processLog, (level, msg, fields, ts) => this.write(level, msg, fields, ts));
    this.timer = setInterval(() => void this.flush(), settings.flushMs);
    this.timer.unref();
  }

  /** Bytes of this attempt's log stored so far (the record's `log.bytes` adds them up over attempts). */
  get bytesWritten(): number {
    return this.written;
  }

  /** Lines waiting for a flush. */
  get pendingLines(): number {
    return this.lines.length;
  }

  /** Append a line to this job log only (the worker's own start/end lines; handlers use `logger`). */
  write(level: JobLogLevel, msg: string, fields: Record<string, unknown> = {}, ts?: string): void {
    if (this.closed) return;
    const now = isoUtc(this.clock.nowMs());
    const line = formatJobLogLine(this.jobId, this.attempt, { ts: ts ?? now, level, msg, fields }, now);
    this.lines.push(line);
    this.bufferedBytes += utf8Bytes(line);
    this.dropOverflow();
    if (this.bufferedBytes >= this.settings.flushBytes) void this.flush();
  }

  /** Write what is buffered (serialised with other flushes); a failure is logged and the lines stay buffered. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.flushOnce());
    return this.chain;
  }

  /** Stop the timer and write the last lines, retrying a failed final flush twice before giving up (logged). */
  async close(): Promise<void> {
    if (this.closed) return this.chain;
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    for (const waitMs of FINAL_FLUSH_RETRY_MS) {
      if (this.lines.length === 0 && this.dropped === 0) return;
      await new Promise((r) => setTimeout(r, waitMs));
      await this.flush();
    }
    if (this.lines.length > 0 || this.dropped > 0) {
      this.processLog.error(
        { job_id: this.jobId, attempt: this.attempt, lost_lines: this.lines.length + this.dropped },
        'job_log.final_flush_failed',
      );
    }
  }

  private dropOverflow(): void {
    let droppedNow = 0;
    while (this.bufferedBytes > this.settings.maxBufferedBytes && this.lines.length > this.inFlight + 1) {
      const [line] = this.lines.splice(this.inFlight, 1);
      this.bufferedBytes -= utf8Bytes(line ?? '');
      droppedNow++;
    }
    if (droppedNow > 0) {
      if (this.dropped === 0)
        this.processLog.warn(
          { job_id: this.jobId, attempt: this.attempt, max_buffered_bytes: this.settings.maxBufferedBytes },
          'job_log.lines_dropped',
        );
      this.dropped += droppedNow;
    }
  }

  private async flushOnce(): Promise<void> {
    if (this.lines.length === 0 && this.dropped === 0) return;
    // Lines dropped while flushes failed are recorded by a marker line ahead of the next object written.
    const markedDrops = this.dropped;
    let marker = markedDrops > 0 ? this.dropMarker(markedDrops) : '';
    try {
      if (this.seq === null)
        this.seq = nextJobLogSeq(await this.store.list(jobLogAttemptPrefix(this.jobId, this.attempt)));
      while (this.lines.length > 0 || marker !== '') {
        // One object per ≤ flushBytes of lines (at least one line).
        let n = 0;
        let bytes = 0;
        while (n < this.lines.length) {
          const b = utf8Bytes(this.lines[n] ?? '');
          if (n > 0 && bytes + b > this.settings.flushBytes) break;
          bytes += b;
          n++;
        }
        this.inFlight = n;
        const body = `${marker}${this.lines.slice(0, n).join('')}`;
        await this.store.put(jobLogKey(this.jobId, this.attempt, this.seq), body);
        this.written += utf8Bytes(body);
        this.seq++;
        this.lines.splice(0, n);
        this.bufferedBytes -= bytes;
        this.inFlight = 0;
        if (marker !== '') {
          this.dropped -= markedDrops;
          marker = '';
        }
      }
      if (this.failing) {
        this.failing = false;
        this.processLog.info({ job_id: this.jobId, attempt: this.attempt }, 'job_log.flush_recovered');
      }
    } catch (err) {
      this.inFlight = 0;
      this.failing = true;
      this.processLog.warn(
        {
          job_id: this.jobId,
          attempt: this.attempt,
          buffered_lines: this.lines.length,
          buffered_bytes: this.bufferedBytes,
          err: describeError(err),
        },
        'job_log.flush_failed',
      );
    }
  }

  private dropMarker(dropped: number): string {
    const now = isoUtc(this.clock.nowMs());
    return formatJobLogLine(
      this.jobId,
      this.attempt,
      {
        ts: now,
        level: 'warn',
        msg: `${dropped} older lines were dropped while the job log store was failing`,
        fields: { dropped_lines: dropped },
      },
      now,
    );
  }
}

type LineSink = (level: JobLogLevel, msg: string, fields: Record<string, unknown>, ts: string | undefined) => void;

const LEVEL_VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const INFO = 30;

/**
 * A pino logger with the process logger's format and redaction whose every line goes to `sink` (the job log) and is
 * passed on to `processLog` (which adds its own bindings: job id, attempt, worker). It logs `info` and above, or
 * lower when the process logs lower; a silent process log still gets a full job log.
 */
function teeLogger(processLog: Logger, sink: LineSink): Logger {
  const processLevel = LEVEL_VALUES[processLog.level];
  const level = processLevel !== undefined && processLevel < INFO ? processLog.level : 'info';
  const paths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  const destination = {
    write(text: string): void {
      for (const raw of text.split('\n')) {
        if (raw === '') continue;
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          parsed = { level: 'info', msg: raw };
        }
        const { ts, level: lvl, msg, ...fields } = parsed;
        const lineLevel: JobLogLevel = typeof lvl === 'string' && LEVEL_SET.has(lvl) ? (lvl as JobLogLevel) : 'info';
        const text = typeof msg === 'string' ? msg : msg === undefined ? '' : JSON.stringify(msg);
        sink(lineLevel, text, fields, typeof ts === 'string' ? ts : undefined);
        processLog[lineLevel](fields, text);
      }
    },
  };
  return pino(
    {
      level,
      base: null,
      messageKey: 'msg',
      errorKey: 'err',
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths, censor: '[redacted]' },
    },
    destination,
  );
}
