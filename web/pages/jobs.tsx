/** `/v/{var}/jobs`: filters in the URL, cursor pages, the jobs table and (operator) the submit actions. */

import type { TimelineResult } from '#shared/domain/control/job-timeline.ts';
import { JOB_STATUSES, type JobSummary } from '#shared/domain/control/jobs.ts';
import type { JobListResult } from '#shared/services/job-service.ts';
import { JobTimeline } from './job-timeline.tsx';
import { type ChromeContext, Layout } from './layout.tsx';
import { JobStatusLabel } from './state-label.tsx';
import { Time } from './time-text.tsx';

/** The jobs table; `#jobs-list` and the row/cell markers let the client update it live (`client/jobs.ts`). */
export function JobsTable(props: { items: JobSummary[]; variety: string; caption: string }) {
  return <div id="jobs-list">{JobsTableBody(props)}</div>;
}

function JobsTableBody(props: { items: JobSummary[]; variety: string; caption: string }) {
  if (props.items.length === 0) return <p class="empty">No jobs match.</p>;
  return (
    <table class="jobs">
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Job</th>
          <th scope="col">Kind</th>
          <th scope="col">Variety</th>
          <th scope="col">Status</th>
          <th scope="col">Progress</th>
          <th scope="col">Attempt</th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>
        {props.items.map((j) => (
          <tr data-job-id={j.job_id} data-updated-at={j.updated_at}>
            <th scope="row">
              <a href={`/v/${props.variety}/jobs/${j.job_id}`}>
                <code>{j.job_id}</code>
              </a>
            </th>
            <td>{j.kind}</td>
            <td>{j.var}</td>
            <td data-col="status">
              <JobStatusLabel status={j.status} />
              {j.error_code ? <span class="muted"> ({j.error_code})</span> : null}
            </td>
            <td data-col="progress">
              {j.pct === null ? '—' : `${Math.round(j.pct * 100)}%`}
              {j.message ? <span class="muted"> {j.message}</span> : null}
            </td>
            <td>{j.attempt}</td>
            <td>
              <Time iso={j.created_at} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface JobsFilters {
  status: string;
  kind: string;
  q: string;
  scope: 'all' | 'var';
  perPage: number;
}

export interface JobsPageProps {
  ctx: ChromeContext;
  list: JobListResult;
  /** The last 24 h (this variety when the scope is, else every job). */
  timeline: TimelineResult;
  nowMs: number;
  filters: JobsFilters;
  canOperate: boolean;
  nextHref: string | null;
  firstHref: string | null;
}

export function JobsPage(props: JobsPageProps) {
  const { ctx, list, filters } = props;
  return (
    <Layout title={`Jobs · ${ctx.variety.toUpperCase()}`} ctx={ctx} pageData={{ page: 'jobs' }}>
      <h1>Jobs</h1>
      <section aria-labelledby="kpi-h" class="kpis" id="jobs-kpis">
        <h2 id="kpi-h" class="visually-hidden">
          Job counts
        </h2>
        <dl>
          <div>
            <dt>Queued</dt>
            <dd>{list.counts.queued}</dd>
          </div>
          <div>
            <dt>Running</dt>
            <dd>{list.counts.running}</dd>
          </div>
        </dl>
      </section>

      {props.canOperate ? (
        <section aria-labelledby="submit-h" class="panel">
          <h2 id="submit-h">Submit a job</h2>
          <div class="actions">
            <button type="button" id="submit-selftest">
              Submit system.selftest
            </button>
          </div>
          <form id="sleep-form" class="inline-form">
            <label for="sleep-seconds">system.sleep seconds</label>
            <input id="sleep-seconds" name="seconds" type="number" min={1} max={840} step={1} value="10" required />
            <button type="submit">Submit system.sleep</button>
          </form>
        </section>
      ) : null}

      <section aria-labelledby="timeline-h" class="panel">
        <h2 id="timeline-h">Timeline, last 24 h</h2>
        <JobTimeline timeline={props.timeline} nowMs={props.nowMs} variety={ctx.variety} />
      </section>

      <section aria-labelledby="list-h" class="panel">
        <h2 id="list-h">All jobs</h2>
        <form method="get" class="filters inline-form" aria-label="Filter jobs">
          <label for="f-status">Status</label>
          <select id="f-status" name="status">
            <option value="" selected={filters.status === ''}>
              any
            </option>
            {JOB_STATUSES.map((s) => (
              <option value={s} selected={filters.status === s}>
                {s}
              </option>
            ))}
          </select>
          <label for="f-kind">Kind</label>
          <input id="f-kind" name="kind" value={filters.kind} maxlength={100} />
          <label for="f-q">Id or kind prefix</label>
          <input id="f-q" name="q" value={filters.q} maxlength={100} />
          <label for="f-scope">Scope</label>
          <select id="f-scope" name="scope">
            <option value="all" selected={filters.scope === 'all'}>
              all varieties
            </option>
            <option value="var" selected={filters.scope === 'var'}>
              {ctx.variety.toUpperCase()} only
            </option>
          </select>
          <label for="f-per-page">Per page</label>
          <input id="f-per-page" name="per_page" type="number" min={20} max={200} value={String(filters.perPage)} />
          <button type="submit">Apply</button>
        </form>
        <JobsTable
          items={list.items}
          variety={ctx.variety}
          caption={`Jobs, newest first (${list.items.length} shown)`}
        />
        <nav aria-label="Pages" class="pager">
          {props.firstHref ? <a href={props.firstHref}>First page</a> : null}
          {props.nextHref ? <a href={props.nextHref}>Next page</a> : null}
        </nav>
      </section>
    </Layout>
  );
}
