/**
 * The job timeline (control-chain §3.2 `GET /api/jobs/timeline?var&from&to`, §8 Jobs page): jobs created in a window
 * (default the last 24 h, at most 7 days) plus every job still running, at most 1000, and the pure layout the page
 * draws as server-rendered SVG (one bar per job, packed into lanes, status by colour, pattern and label).
 */
import * as z from 'zod';
import { UtcInstantSchema } from './audit.ts';
import type { JobRecord, JobStatus } from './jobs.ts';
import { JobVarSchema } from './varieties.ts';

export const TIMELINE_DEFAULT_SPAN_MS = 24 * 3600_000;
export const TIMELINE_MAX_SPAN_MS = 7 * 24 * 3600_000;
export const TIMELINE_MAX_ITEMS = 1000;

export const TimelineQuerySchema = z
  .object({ var: JobVarSchema.optional(), from: UtcInstantSchema.optional(), to: UtcInstantSchema.optional() })
  .strict();
export type TimelineQuery = z.infer<typeof TimelineQuerySchema>;

export interface TimelineWindow {
  from: string;
  to: string;
}

/**
 * The window of a query at `nowMs`: `to` defaults to now, `from` to 24 h before `to`. A window that is empty, reversed
 * or wider than 7 days is an error message (the caller turns it into 400 `validation_failed`).
 */
export function timelineWindow(q: TimelineQuery, nowMs: number): TimelineWindow | { error: string } {
  const toMs = q.to ? Date.parse(q.to) : nowMs;
  const fromMs = q.from ? Date.parse(q.from) : toMs - TIMELINE_DEFAULT_SPAN_MS;
  if (fromMs >= toMs) return { error: `from (${new Date(fromMs).toISOString()}) must be before to` };
  if (toMs - fromMs > TIMELINE_MAX_SPAN_MS) return { error: 'the window may cover at most 7 days' };
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
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

export interface TimelineResult extends TimelineWindow {
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
