/**
 * `/v/{var}/jobs`: filters in the URL, cursor pages, the jobs table and (operator) the submit actions: the quick
 * selftest and sleep buttons, and the "Submit a job" form generated from every submittable kind's params JSON Schema
 * (`shared/domain/control/job-form.ts`; `client/job-submit.ts` shows the chosen kind's fieldset and posts it).
 */

import {
  idPart,
  initialControlValue,
  type JobFormField,
  type JobFormKind,
  jobFieldId,
  selectOptions,
} from '#shared/domain/control/job-form.ts';
import { JOB_KINDS } from '#shared/domain/control/job-kinds/index.ts';
import type { TimelineResult } from '#shared/domain/control/job-timeline.ts';
import { JOB_STATUSES, type JobStatus, type JobSummary } from '#shared/domain/control/jobs.ts';
import type { JobListResult } from '#shared/services/job-service.ts';
import { JobTimeline } from './job-timeline.tsx';
import { type ChromeContext, Layout } from './layout.tsx';
import { SortHeader } from './sort-header.tsx';
import { JobStatusLabel } from './state-label.tsx';
import { Time } from './time-text.tsx';

/** The jobs table; `#jobs-list` and the row/cell markers let the client update it live (`client/jobs.ts`). */
export function JobsTable(props: { items: JobSummary[]; variety: string; caption: string }) {
  return <div id="jobs-list">{JobsTableBody(props)}</div>;
}

function JobsTableBody(props: { items: JobSummary[]; variety: string; caption: string }) {
  if (props.items.length === 0) return <p class="empty">No jobs match.</p>;
  return (
    <table class="jobs sortable">
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <SortHeader sortKey="job" label="Job" />
          <SortHeader sortKey="kind" label="Kind" />
          <SortHeader sortKey="var" label="Variety" />
          <th scope="col">Status</th>
          <th scope="col">Progress</th>
          <SortHeader sortKey="attempt" label="Attempt" numeric />
          <SortHeader sortKey="created" label="Created" sort="descending" />
        </tr>
      </thead>
      <tbody>
        {props.items.map((j) => (
          <tr
            data-job-id={j.job_id}
            data-updated-at={j.updated_at}
            data-sort-job={j.job_id}
            data-sort-kind={j.kind}
            data-sort-var={j.var}
            data-sort-attempt={String(j.attempt)}
            data-sort-created={j.created_at}
          >
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
  /** Exact jobs per status across every variety (status-index counts), for the KPIs. */
  counts: Record<JobStatus, number>;
  /** The last 24 h (this variety when the scope is, else every job). */
  timeline: TimelineResult;
  nowMs: number;
  filters: JobsFilters;
  canOperate: boolean;
  nextHref: string | null;
  firstHref: string | null;
  /** The submittable kinds' form fields (operators; empty for viewers). */
  submitKinds: JobFormKind[];
}

export function JobsPage(props: JobsPageProps) {
  const { ctx, list, filters } = props;
  return (
    <Layout
      title={`Jobs · ${ctx.variety.toUpperCase()}`}
      ctx={ctx}
      pageData={{
        page: 'jobs',
        ...(props.canOperate && props.submitKinds.length > 0 ? { job_forms: props.submitKinds } : {}),
      }}
    >
      <h1>Jobs</h1>
      <section aria-labelledby="kpi-h" class="kpis" id="jobs-kpis">
        <h2 id="kpi-h" class="visually-hidden">
          Job counts per status, all varieties
        </h2>
        <dl>
          {JOB_STATUSES.map((s) => (
            <div data-status={s}>
              <dt>
                <JobStatusLabel status={s} />
              </dt>
              <dd id={`jobs-count-${s}`}>{props.counts[s]}</dd>
            </div>
          ))}
        </dl>
      </section>

      {props.canOperate ? (
        <section aria-labelledby="submit-h" class="panel">
          <h2 id="submit-h">Submit a job</h2>
          {props.submitKinds.length > 0 ? <JobSubmitForm kinds={props.submitKinds} /> : null}
          <h3 id="quick-submit-h">Quick actions</h3>
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
          <CancelBatchForm variety={ctx.variety} />
        </section>
      ) : null}

      <section aria-labelledby="timeline-h" class="panel">
        <h2 id="timeline-h">Timeline, last {props.timeline.hours} h</h2>
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

/**
 * Operators cancel many active jobs at once (`POST /api/jobs/cancel-batch`, ≤ 500 per call): a kind, the active
 * statuses, this variety or all, and a required reason (recorded in the audit log). `client/jobs.ts` asks for
 * confirmation, posts it and announces how many matched and were asked to stop in `#cancel-batch-result`.
 */
function CancelBatchForm(props: { variety: string }) {
  return (
    <>
      <h3 id="cancel-batch-h">Cancel active jobs</h3>
      <form id="cancel-batch-form" class="inline-form" aria-labelledby="cancel-batch-h" data-variety={props.variety}>
        <label for="cb-kind">Kind</label>
        <select id="cb-kind" name="kind">
          <option value="">any kind</option>
          {[...JOB_KINDS.keys()].map((k) => (
            <option value={k}>{k}</option>
          ))}
        </select>
        <label for="cb-status">Status</label>
        <select id="cb-status" name="status">
          <option value="">queued and running</option>
          <option value="queued">queued</option>
          <option value="running">running</option>
        </select>
        <label for="cb-scope">Variety</label>
        <select id="cb-scope" name="scope">
          <option value="var">{props.variety.toUpperCase()} only</option>
          <option value="all">all varieties (and none)</option>
        </select>
        <label for="cb-reason">Reason</label>
        <input id="cb-reason" name="reason" maxlength={500} required aria-describedby="cb-reason-help" />
        <button type="submit" class="danger">
          Cancel matching jobs
        </button>
      </form>
      <p class="muted" id="cb-reason-help">
        The reason is recorded in the audit log with each cancelled job. At most 500 jobs per click, oldest first.
      </p>
      <p id="cancel-batch-result" role="status" aria-live="polite" />
    </>
  );
}

/** The generated submit form: a kind selector and one fieldset per kind (only the chosen one shown and enabled). */
export function JobSubmitForm(props: { kinds: JobFormKind[] }) {
  const first = props.kinds[0]?.kind ?? '';
  return (
    <form id="job-submit-form" class="job-submit-form" aria-describedby="job-submit-help job-submit-error">
      <p class="muted" id="job-submit-help">
        Choose a kind, fill in its parameters and submit. The server applies each kind's defaults and validation; an
        identical active job is reused instead of starting a second one.
      </p>
      <div class="field">
        <label for="job-submit-kind">Kind</label>
        <select id="job-submit-kind" name="kind" aria-describedby="job-submit-kind-error">
          {props.kinds.map((k) => (
            <option value={k.kind} selected={k.kind === first}>
              {k.kind}
            </option>
          ))}
        </select>
        <FieldError id="job-submit-kind-error" />
      </div>
      {props.kinds.map((k) => (
        <KindFieldset kind={k} shown={k.kind === first} />
      ))}
      <div class="field">
        <label for="job-submit-note">Note (optional)</label>
        <input
          id="job-submit-note"
          name="note"
          maxlength={500}
          autocomplete="off"
          aria-describedby="job-submit-note-help job-submit-note-error"
        />
        <span class="field-help muted" id="job-submit-note-help">
          Stored with the job; at most 500 characters.
        </span>
        <FieldError id="job-submit-note-error" />
      </div>
      <button type="submit" id="job-submit-button">
        Submit job
      </button>
      <p class="form-error" id="job-submit-error" role="alert" hidden />
      <p id="job-submit-result" role="status" aria-live="polite" />
    </form>
  );
}

function FieldError(props: { id: string }) {
  return <span class="field-error" id={props.id} hidden />;
}

function KindFieldset(props: { kind: JobFormKind; shown: boolean }) {
  const k = props.kind;
  const base = `jf-${idPart(k.kind)}`;
  return (
    <fieldset
      id={base}
      class="job-kind-fields"
      data-kind={k.kind}
      hidden={!props.shown}
      disabled={!props.shown}
      aria-describedby={`${base}-desc`}
    >
      <legend>
        <code>{k.kind}</code> parameters
      </legend>
      <p class="muted" id={`${base}-desc`}>
        {k.description}
      </p>
      {k.fields.length === 0 ? <p class="muted">This kind takes no parameters.</p> : null}
      {k.fields.map((f) => (
        <FormFieldControl kind={k.kind} field={f} />
      ))}
    </fieldset>
  );
}

function FormFieldControl(props: { kind: string; field: JobFormField }) {
  const f = props.field;
  const id = jobFieldId(props.kind, f.name);
  const describedBy = `${id}-help ${id}-error`;
  // An empty nullable control posts null, so only a required, non-nullable one is required in the browser too.
  const required = f.required && !f.nullable && f.kind !== 'list' && f.kind !== 'checkbox';
  const value = initialControlValue(f);
  const common = {
    id,
    name: f.name,
    'aria-describedby': describedBy,
    'data-field-kind': f.kind,
  };
  let control: unknown;
  switch (f.kind) {
    case 'checkbox':
      control = <input type="checkbox" {...common} checked={f.default === true} />;
      break;
    case 'number':
    case 'integer':
      control = (
        <input
          type="number"
          {...common}
          value={value}
          required={required}
          step={String(f.step ?? (f.kind === 'integer' ? 1 : 'any'))}
          {...(f.min !== undefined ? { min: String(f.min) } : {})}
          {...(f.max !== undefined ? { max: String(f.max) } : {})}
        />
      );
      break;
    case 'select': {
      const options = selectOptions(f);
      const blank = !required || value === '';
      control = (
        <select {...common} required={required}>
          {blank ? (
            <option value="" selected={value === ''}>
              {required ? '— choose —' : f.nullable && f.required ? '— null —' : '— not set —'}
            </option>
          ) : null}
          {options.map((o) => (
            <option value={o.value} selected={o.value === value}>
              {o.label}
            </option>
          ))}
        </select>
      );
      break;
    }
    case 'list':
    case 'json':
      control = (
        <textarea {...common} rows={f.kind === 'json' ? 4 : 3} spellcheck={false} required={required}>
          {value}
        </textarea>
      );
      break;
    default:
      control = (
        <input
          type="text"
          {...common}
          value={value}
          required={required}
          autocomplete="off"
          spellcheck={false}
          {...(f.minLength !== undefined ? { minlength: f.minLength } : {})}
          {...(f.maxLength !== undefined ? { maxlength: f.maxLength } : {})}
          {...(f.pattern !== undefined ? { pattern: f.pattern } : {})}
        />
      );
  }
  return (
    <div class={f.kind === 'checkbox' ? 'field field-check' : 'field'}>
      <label for={id}>
        <code>{f.label}</code>
        {f.required ? ' (required)' : ''}
      </label>
      {control}
      <span class="field-help muted" id={`${id}-help`}>
        {f.description ? `${f.description} ` : ''}
        {f.hint}
      </span>
      <FieldError id={`${id}-error`} />
    </div>
  );
}
