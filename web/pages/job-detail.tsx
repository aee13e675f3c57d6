/**
 * `/v/{var}/jobs/{id}`: the record, live progress (the client follows `job:<id>` over `/ws`, polling
 * `/api/jobs/{id}/progress` only while the socket is down, and swaps in this rendering when the job ends), attempts,
 * error and (operator) Cancel.
 */
import { isTerminal, type JobRecord } from '#shared/domain/control/jobs.ts';
import type { JobProgressView } from '#shared/services/job-service.ts';
import { type ChromeContext, Layout } from './layout.tsx';
import { JobStatusLabel } from './state-label.tsx';
import { Time } from './time-text.tsx';

export interface JobDetailProps {
  ctx: ChromeContext;
  job: JobRecord;
  progress: JobProgressView;
  canOperate: boolean;
}

function progressLine(p: JobRecord['progress']): string {
  if (!p) return 'No progress reported yet.';
  const parts = [`phase ${p.phase_idx + 1}/${p.total_phases}${p.phase ? ` ${p.phase}` : ''}`];
  parts.push(`step ${p.step_idx + 1}/${p.total_steps}${p.step ? ` ${p.step}` : ''}`);
  if (p.total_items > 0) parts.push(`item ${p.item_idx}/${p.total_items}${p.item ? ` ${p.item}` : ''}`);
  return parts.join(' · ');
}

export function JobDetailPage(props: JobDetailProps) {
  const { ctx, job, progress } = props;
  const p = job.progress;
  const active = !isTerminal(job.status);
  return (
    <Layout
      title={`Job ${job.job_id}`}
      ctx={ctx}
      pageData={{ page: 'job', job_id: job.job_id, job_status: job.status }}
    >
      <p>
        <a href={`/v/${ctx.variety}/jobs`}>← All jobs</a>
      </p>
      <h1>
        Job <code>{job.job_id}</code>
      </h1>
      <p>
        <JobStatusLabel status={job.status} id="job-status" />
        {job.cancel_requested_at && active ? <span class="muted"> · cancel requested</span> : null}
      </p>

      <section aria-labelledby="progress-h" class="panel">
        <h2 id="progress-h">Progress</h2>
        <label for="job-progress" class="visually-hidden">
          Job progress
        </label>
        {p ? (
          <progress id="job-progress" max="1" value={String(p.pct)}>
            {`${Math.round(p.pct * 100)}%`}
          </progress>
        ) : (
          <progress id="job-progress" max="1">
            unknown
          </progress>
        )}
        <p>
          <span id="job-progress-pct">{p ? `${Math.round(p.pct * 100)}%` : '—'}</span> ·{' '}
          <span id="job-progress-line">{progressLine(p)}</span>
        </p>
        <p id="job-progress-message">{p?.message ?? ''}</p>
        <p>
          ETA <span id="job-eta">{p?.eta_s === null || p?.eta_s === undefined ? '—' : `${p.eta_s} s`}</span>
          <span id="job-stale" class="badge badge-warn" hidden={!progress.stale}>
            <span aria-hidden="true">⚠</span>{' '}
            <span id="job-stale-text">
              progress stale{progress.updated_age_s === null ? '' : ` ${Math.round(progress.updated_age_s)} s`}
            </span>
          </span>
        </p>
        {props.canOperate && active ? (
          <button type="button" id="cancel-job" class="danger">
            Cancel job
          </button>
        ) : null}
      </section>

      {job.error ? (
        <section aria-labelledby="error-h" class="panel">
          <h2 id="error-h">Error</h2>
          <p role="alert">
            <span aria-hidden="true">✖</span> <code>{job.error.code}</code> {job.error.message}
          </p>
          <p class="muted">
            attempt {job.error.attempt}, {job.error.retryable ? 'retryable' : 'not retryable'}, at{' '}
            <Time iso={job.error.at} />
          </p>
        </section>
      ) : null}

      <section aria-labelledby="record-h" class="panel">
        <h2 id="record-h">Record</h2>
        <dl class="record">
          <dt>Kind</dt>
          <dd>{job.kind}</dd>
          <dt>Variety</dt>
          <dd>{job.var}</dd>
          <dt>Params</dt>
          <dd>
            <pre>{JSON.stringify(job.params, null, 2)}</pre>
          </dd>
          <dt>Dedupe key</dt>
          <dd>
            <code>{job.dedupe_key}</code>
          </dd>
          <dt>Attempt</dt>
          <dd>
            {job.attempt} of {job.max_attempts}
          </dd>
          <dt>Worker</dt>
          <dd>{job.worker ? `${job.worker.id} (${job.worker.runner})` : '—'}</dd>
          <dt>Created by</dt>
          <dd>
            {job.created_by.actor} ({job.created_by.role})
          </dd>
          <dt>Created</dt>
          <dd>
            <Time iso={job.created_at} />
          </dd>
          <dt>Queued</dt>
          <dd>
            <Time iso={job.queued_at} />
          </dd>
          <dt>Started</dt>
          <dd>
            <Time iso={job.started_at} />
          </dd>
          <dt>Finished</dt>
          <dd>
            <Time iso={job.finished_at} />
          </dd>
          <dt>Cancel requested</dt>
          <dd>
            {job.cancel_requested_at ? (
              <>
                <Time iso={job.cancel_requested_at} /> by {job.cancel_requested_by ?? '?'}
              </>
            ) : (
              '—'
            )}
          </dd>
          <dt>Waiting for</dt>
          <dd>
            {job.waiting_for
              ? `${job.waiting_for.kind}: ${job.waiting_for.conflicts.map((c) => `${c.key} held by ${c.owner}`).join('; ')}`
              : '—'}
          </dd>
          {job.note ? (
            <>
              <dt>Note</dt>
              <dd>{job.note}</dd>
            </>
          ) : null}
        </dl>
      </section>

      <section aria-labelledby="attempts-h" class="panel">
        <h2 id="attempts-h">Attempts</h2>
        {job.attempts.length === 0 ? (
          <p class="empty">No attempt has started.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Attempt</th>
                <th scope="col">Worker</th>
                <th scope="col">Started</th>
                <th scope="col">Ended</th>
                <th scope="col">Outcome</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {job.attempts.map((a) => (
                <tr>
                  <th scope="row">{a.attempt}</th>
                  <td>{a.worker}</td>
                  <td>
                    <Time iso={a.started_at} />
                  </td>
                  <td>
                    <Time iso={a.ended_at} />
                  </td>
                  <td>{a.outcome}</td>
                  <td>{a.error ? `${a.error.code}: ${a.error.message}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      {job.result !== null && job.result !== undefined ? (
        <section aria-labelledby="result-h" class="panel">
          <h2 id="result-h">Result</h2>
          <pre>{JSON.stringify(job.result, null, 2)}</pre>
        </section>
      ) : null}
    </Layout>
  );
}
