/**
 * The job timeline (control-chain §3.2 `GET /api/jobs/timeline?var&from&to`, §3.1 "job timeline hours": default 24,
 * 1..168, §8 Jobs page): jobs created in a window (default the last 24 h, at most 168 h = 7 days; longer windows are
 * clamped, never refused) plus every job still running, at most 1000, and the pure layout the page draws as
 * server-rendered SVG (one bar per job, packed into lanes, status by colour, pattern and label).
 */
import * as z from 'zod';
import { UtcInstantSchema } from './audit.ts';
import type { JobRecord, JobStatus } from './jobs.ts';
import { JobVarSchema } from './varieties.ts';

const HOUR_MS = 3600_000;
/** §3.1 "job timeline hours": default 24, min 1, max 168. */
export const TIMELINE_HOURS = { default: 24, min: 1, max: 168 } as const;
export const TIMELINE_DEFAULT_SPAN_MS = TIMELINE_HOURS.default * HOUR_MS;
export const TIMELINE_MAX_SPAN_MS = TIMELINE_HOURS.max * HOUR_MS;
export const TIMELINE_MAX_ITEMS = 1000;

/**
 * `hours` is the window's length ending at `to` (an integer, clamped silently into 1..168; non-numeric is a 400);
 * `from` names the start instead, so the two together are a 400. Absent both, the window is the last 24 h.
 */
export const TimelineQuerySchema = z
  .object({
    var: JobVarSchema.optional(),
    from: UtcInstantSchema.optional(),
    to: UtcInstantSchema.optional(),
    hours: z
      .string()
      .regex(/^-?\d+$/, 'expected an integer number of hours')
      .transform((s) => Number.parseInt(s, 10))
      .optional(),
  })
  .strict()
  .refine((q) => q.from === undefined || q.hours === undefined, {
    message: 'give from or hours, not both (hours is the window length ending at to)',
    path: ['hours'],
  });
export type TimelineQuery = z.infer<typeof TimelineQuerySchema>;

export interface TimelineWindow {
  from: string;
  to: string;
}

/** The window a timeline answer covers: its length in hours and whether a longer request was clamped to 168 h. */
export interface TimelineWindowUsed extends TimelineWindow {
  hours: number;
  clamped: boolean;
}

/**
 * The window of a query at `nowMs`: `to` defaults to now; `from` to `hours` (default 24, clamped into 1..168) before
 * `to`. A `from`..`to` window longer than 168 h is clamped to the 168 h ending at `to` (`clamped: true`), as §3.1
 * clamps every numeric limit; an empty or reversed window is an error message (the caller's 400 `validation_failed`).
 */
export function timelineWindow(q: TimelineQuery, nowMs: number): TimelineWindowUsed | { error: string } {
  const toMs = q.to ? Date.parse(q.to) : nowMs;
  let fromMs: number;
  let clamped = false;
  if (q.from) {
    fromMs = Date.parse(q.from);
    if (fromMs >= toMs) return { error: `from (${new Date(fromMs).toISOString()}) must be before to` };
    if (toMs - fromMs > TIMELINE_MAX_SPAN_MS) {
      fromMs = toMs - TIMELINE_MAX_SPAN_MS;
      clamped = true;
    }
  } else {
    const asked = q.hours ?? TIMELINE_HOURS.default;
    const hours = Math.min(TIMELINE_HOURS.max, Math.max(TIMELINE_HOURS.min, asked));
    clamped = hours !== asked;
    fromMs = toMs - hours * HOUR_MS;
  }
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    hours: (toMs - fromMs) / HOUR_MS,
    clamped,
  };
}

export interface TimelineItem {
  job_id: string;
  kind: string;
  var: string;
  status: JobStatus;
  /** Submission time: where the job's bar begins. */
  created_at: string;
  /** When it was (last) queued: equal to `created_at` unless it was requeued after a lost or retried attempt. */
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface TimelineResult extends TimelineWindowUsed {
  items: TimelineItem[];
  /** More jobs were created in the window than the 1000 returned (the newest are kept). */
  truncated: boolean;
}

export function timelineItem(j: JobRecord): TimelineItem {
  return {
    job_id: j.job_id,
    kind: j.kind,
    var: j.var,
    status: j.status,
    created_at: j.created_at,
    queued_at: j.queued_at,
    started_at: j.started_at,
    finished_at: j.finished_at,
  };
}

/** Jobs created in the window and the running ones created before it, newest first, de-duplicated, ≤ 1000. */
export function mergeTimeline(created: readonly JobRecord[], running: readonly JobRecord[]): TimelineItem[] {
  const seen = new Set<string>();
  const out: TimelineItem[] = [];
  for (const j of [...running, ...created]) {
    if (seen.has(j.job_id)) continue;
    seen.add(j.job_id);
    out.push(timelineItem(j));
  }
  out.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  return out.slice(0, TIMELINE_MAX_ITEMS);
}

export interface TimelineBar {
  item: TimelineItem;
  lane: number;
  /** Left and right edge as fractions of the window (clamped to [0, 1]). */
  x0: number;
  x1: number;
  /** Where the run began (started_at) as a fraction, or null when it never started (queued, or cancelled queued). */
  xRun: number | null;
  /** The job began before the window or is still going at its end. */
  clippedLeft: boolean;
  clippedRight: boolean;
}

export interface TimelineLayout {
  bars: TimelineBar[];
  lanes: number;
  /** Jobs not drawn because every lane was full (they stay in the table view). */
  hidden: number;
  counts: Record<JobStatus, number>;
}

/**
 * Pack bars into at most `maxLanes` lanes, oldest first, so bars in one lane do not overlap (each bar is at least
 * `minWidth` wide for packing, so short jobs stay visible). A job's bar runs from its submission to its end, or to
 * `nowMs` while it is active.
 */
export function layoutTimeline(
  items: readonly TimelineItem[],
  window: TimelineWindow,
  nowMs: number,
  opts: { maxLanes?: number; minWidth?: number } = {},
): TimelineLayout {
  const maxLanes = opts.maxLanes ?? 12;
  const minWidth = opts.minWidth ?? 0.004;
  const fromMs = Date.parse(window.from);
  const span = Date.parse(window.to) - fromMs;
  const frac = (ms: number) => Math.min(1, Math.max(0, (ms - fromMs) / span));
  const counts: Record<JobStatus, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  const laneEnds: number[] = [];
  const bars: TimelineBar[] = [];
  let hidden = 0;
  const oldestFirst = [...items].sort((a, b) =>
    a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0,
  );
  for (const item of oldestFirst) {
    counts[item.status]++;
    const startMs = Date.parse(item.created_at);
    const endMs = item.finished_at ? Date.parse(item.finished_at) : nowMs;
    const x0 = frac(startMs);
    const x1 = Math.max(frac(endMs), x0);
    const packedEnd = Math.max(x1, x0 + minWidth);
    let lane = laneEnds.findIndex((end) => end <= x0);
    if (lane === -1) {
      if (laneEnds.length >= maxLanes) {
        hidden++;
        continue;
      }
      lane = laneEnds.length;
      laneEnds.push(packedEnd);
    } else {
      laneEnds[lane] = packedEnd;
    }
    bars.push({
      item,
      lane,
      x0,
      x1,
      xRun: item.started_at ? frac(Date.parse(item.started_at)) : null,
      clippedLeft: startMs < fromMs,
      clippedRight: endMs > fromMs + span,
    });
  }
  return { bars, lanes: laneEnds.length, hidden, counts };
}
