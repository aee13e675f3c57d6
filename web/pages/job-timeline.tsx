/**
 * The job timeline (control-chain §8): server-rendered SVG, one bar per job packed into lanes, status by colour AND
 * pattern AND a label (each bar's `<title>` and the legend), a text summary, and the same jobs as a table. Times are
 * control-plane UTC, like the jobs table.
 */
import { layoutTimeline, type TimelineBar, type TimelineResult } from '#shared/domain/control/job-timeline.ts';
import { JOB_STATUSES, type JobStatus } from '#shared/domain/control/jobs.ts';
import { JOB_STATUS, JobStatusLabel } from './state-label.tsx';
import { Time } from './time-text.tsx';

const WIDTH = 960;
const LANE_H = 16;
const LANE_GAP = 4;
const AXIS_H = 22;
const PAD_X = 8;
/** Rows of the table view: the newest jobs of the window (the jobs list below pages through all of them). */
export const TIMELINE_TABLE_ROWS = 100;
const TABLE_ROWS = TIMELINE_TABLE_ROWS;

/** Fill of each status: a colour plus its own pattern (hatching, dots, outline), so no state is colour alone. */
const FILL: Record<JobStatus, string> = {
  queued: 'url(#tl-queued)',
  running: 'url(#tl-running)',
  succeeded: 'url(#tl-succeeded)',
  failed: 'url(#tl-failed)',
  cancelled: 'url(#tl-cancelled)',
};

function Patterns() {
  return (
    <defs>
      <pattern id="tl-succeeded" width="6" height="6" patternUnits="userSpaceOnUse">
        <rect width="6" height="6" fill="#116329" />
      </pattern>
      <pattern id="tl-running" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
        <rect width="6" height="6" fill="#0550ae" />
        <rect width="2" height="6" fill="#b6d4fe" />
      </pattern>
      <pattern id="tl-failed" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)">
        <rect width="6" height="6" fill="#a40e26" />
        <rect width="2.5" height="6" fill="#ffffff" />
      </pattern>
      <pattern id="tl-cancelled" width="5" height="5" patternUnits="userSpaceOnUse">
        <rect width="5" height="5" fill="#57606a" />
        <circle cx="2.5" cy="2.5" r="1.2" fill="#ffffff" />
      </pattern>
      <pattern id="tl-queued" width="4" height="4" patternUnits="userSpaceOnUse">
        <rect width="4" height="4" fill="#ffffff" />
        <rect width="1" height="4" fill="#6a4b00" />
      </pattern>
    </defs>
  );
}

function barLabel(b: TimelineBar): string {
  const s = JOB_STATUS[b.item.status].text;
  const end = b.item.finished_at ? `finished ${b.item.finished_at}` : 'still active';
  return `${b.item.kind} (${b.item.var}) ${s}: submitted ${b.item.created_at}, ${end}; job ${b.item.job_id}`;
}

function axisTicks(fromMs: number, toMs: number): { x: number; label: string }[] {
  const span = toMs - fromMs;
  const stepH = span <= 26 * 3600_000 ? 3 : span <= 3 * 24 * 3600_000 ? 12 : 24;
  const step = stepH * 3600_000;
  const out: { x: number; label: string }[] = [];
  for (let t = Math.ceil(fromMs / step) * step; t <= toMs; t += step) {
    const iso = new Date(t).toISOString();
    const label =
      stepH >= 24
        ? iso.slice(5, 10)
        : `${iso.slice(11, 16)}${iso.slice(11, 13) === '00' ? ` ${iso.slice(5, 10)}` : ''}`;
    out.push({ x: PAD_X + ((t - fromMs) / span) * (WIDTH - 2 * PAD_X), label });
  }
  return out;
}

export function JobTimeline(props: { timeline: TimelineResult; nowMs: number; variety: string }) {
  const { timeline, nowMs, variety } = props;
  const layout = layoutTimeline(timeline.items, timeline, nowMs);
  const fromMs = Date.parse(timeline.from);
  const toMs = Date.parse(timeline.to);
  const plotW = WIDTH - 2 * PAD_X;
  const lanes = Math.max(1, layout.lanes);
  const height = AXIS_H + lanes * (LANE_H + LANE_GAP) + LANE_GAP;
  const summaryParts = JOB_STATUSES.filter((s) => layout.counts[s] > 0).map(
    (s) => `${layout.counts[s]} ${JOB_STATUS[s].text.toLowerCase()}`,
  );
  const summary =
    timeline.items.length === 0
      ? 'No jobs in this window.'
      : `${timeline.items.length} job${timeline.items.length === 1 ? '' : 's'}: ${summaryParts.join(', ')}.${
          layout.hidden > 0 ? ` ${layout.hidden} not drawn (all lanes full); the table lists every job.` : ''
        }${timeline.truncated ? ' More jobs were created in this window than the newest 1000 shown.' : ''}`;
  return (
    <div class="timeline">
      <div id="jobs-timeline-figure">
        <p id="jobs-timeline-summary">
          <Time iso={timeline.from} /> to <Time iso={timeline.to} />: {summary}
        </p>
        <svg
          class="timeline-chart"
          viewBox={`0 0 ${WIDTH} ${height}`}
          width="100%"
          // No role="img": the bars inside are links, and an image's children are presentational.
          aria-labelledby="jobs-timeline-summary"
          preserveAspectRatio="none"
        >
          <title>Job timeline: {summary}</title>
          <Patterns />
          {axisTicks(fromMs, toMs).map((t) => (
            <g>
              <line x1={t.x} x2={t.x} y1={AXIS_H - 4} y2={height} stroke="#d0d7de" />
              <text x={t.x + 2} y={14} font-size="11" fill="#57606a">
                {t.label}
              </text>
            </g>
          ))}
          {layout.bars.map((b) => {
            const x = PAD_X + b.x0 * plotW;
            const w = Math.max(3, (b.x1 - b.x0) * plotW);
            const y = AXIS_H + b.lane * (LANE_H + LANE_GAP);
            return (
              // Bars are links for the pointer; keyboard and screen-reader users get the same links in the table view
              // (a tab stop per bar would bury the page under up to 1000 of them).
              <a href={`/v/${variety}/jobs/${b.item.job_id}`} tabindex={-1}>
                <rect
                  x={x.toFixed(1)}
                  y={y}
                  width={w.toFixed(1)}
                  height={LANE_H}
                  fill={FILL[b.item.status]}
                  stroke="#1b1f24"
                  stroke-width="0.75"
                  data-status={b.item.status}
                  data-job-id={b.item.job_id}
                >
                  <title>{barLabel(b)}</title>
                </rect>
              </a>
            );
          })}
        </svg>
        <ul class="timeline-legend" aria-label="Legend">
          {JOB_STATUSES.map((s) => (
            <li>
              <svg width="18" height="12" aria-hidden="true">
                <Patterns />
                <rect width="18" height="12" fill={FILL[s]} stroke="#1b1f24" stroke-width="0.75" />
              </svg>{' '}
              <JobStatusLabel status={s} />
            </li>
          ))}
        </ul>
      </div>
      <details>
        <summary>Table view of the timeline</summary>
        <div id="jobs-timeline-table">
          {timeline.items.length === 0 ? (
            <p class="empty">No jobs in this window.</p>
          ) : (
            <table class="jobs">
              <caption>
                Jobs in the timeline window, newest first
                {timeline.items.length > TABLE_ROWS
                  ? ` (the newest ${TABLE_ROWS} of ${timeline.items.length}; the jobs list below pages through all)`
                  : ''}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Variety</th>
                  <th scope="col">Status</th>
                  <th scope="col">Submitted</th>
                  <th scope="col">Started</th>
                  <th scope="col">Finished</th>
                </tr>
              </thead>
              <tbody>
                {timeline.items.slice(0, TABLE_ROWS).map((j) => (
                  <tr>
                    <th scope="row">
                      <a href={`/v/${variety}/jobs/${j.job_id}`}>
                        <code>{j.job_id}</code>
                      </a>
                    </th>
                    <td>{j.kind}</td>
                    <td>{j.var}</td>
                    <td>
                      <JobStatusLabel status={j.status} />
                    </td>
                    <td>
                      <Time iso={j.created_at} />
                    </td>
                    <td>
                      <Time iso={j.started_at} />
                    </td>
                    <td>
                      <Time iso={j.finished_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </details>
    </div>
  );
}
