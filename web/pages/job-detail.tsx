/**
 * `/v/{var}/jobs/{id}`: the record, live progress (the client follows `job:<id>` over `/ws`, polling
 * `/api/jobs/{id}/progress` only while the socket is down, and swaps in this rendering when the job ends), attempts,
 * error, the log tail (`web/client/job-log.ts`: follow/pause, refresh interval, attempt), Copy id, Download log, and
 * (operator) Cancel and Resubmit.
 */

import { findJobKind } from '#shared/domain/control/job-kinds/index.ts';
import { formatJobLogText } from '#shared/domain/control/job-log.ts';
import { isTerminal, type JobRecord } from '#shared/domain/control/jobs.ts';
import type { JobLogTail } from '#shared/services/job-log.ts';
import type { JobProgressView } from '#shared/services/job-service.ts';
import { type ChromeContext, Layout } from './layout.tsx';
import { JobStatusLabel } from './state-label.tsx';
import { Time } from './time-text.tsx';

export interface JobDetailProps {
  ctx: ChromeContext;
  job: JobRecord;
  progress: JobProgressView;
  canOperate: boolean;
  /** The latest attempt's log tail for the first paint; absent -> the client loads it after the page. */
  log?: JobLogTail | null;
}

/** Refresh intervals of the log tail while following (seconds; default 2). */
export const LOG_INTERVALS_S = [1, 2, 5, 10] as const;

/** The attempt numbers a job has had (1..n), for the log's attempt selector. */
function attemptCount(job: JobRecord): number {
  return Math.max(job.attempt, ...job.attempts.map((a) => a.attempt));
}

function logStatusText(log: JobLogTail): string {
  if (log.attempt === null) return 'No attempt has started yet.';
  const size = `${log.bytes} bytes`;
  return `Attempt ${log.attempt}, ${log.truncated ? `last ${size} (older lines: download the log)` : size}.`;
}

function LogPanel(props: { job: JobRecord; active: boolean; log: JobLogTail | null | undefined }) {
  const { job, active, log } = props;
  const attempts = attemptCount(job);
  const shown = log?.attempt ?? attempts;
  return (
    <section aria-labelledby="log-h" class="panel job-log" id="job-log">
      <h2 id="log-h">Log</h2>
      <div class="job-log-controls">
        {attempts > 1 ? (
          <span class="field">
            <label for="job-log-attempt">Attempt</label>{' '}
            <select id="job-log-attempt">
              {Array.from({ length: attempts }, (_, i) => i + 1).map((n) => (
                <option value={String(n)} selected={n === shown}>
                  {n === attempts ? `${n} (latest)` : String(n)}
                </option>
              ))}
            </select>
          </span>
        ) : null}
        {active ? (
          <>
            <button type="button" id="job-log-follow" class="toggle" aria-pressed="true">
              Follow
            </button>
            <span class="field">
              <label for="job-log-interval">Refresh every</label>{' '}
              <select id="job-log-interval">
                {LOG_INTERVALS_S.map((s) => (
                  <option value={String(s)} selected={s === 2}>{`${s} s`}</option>
                ))}
              </select>
            </span>
          </>
        ) : null}
        <a
          id="job-log-download"
          href={`/api/jobs/${job.job_id}/log/download`}
          download={`job-${job.job_id}-log.ndjson`}
        >
          Download log
        </a>
      </div>
      <p id="job-log-status" class="muted">
        {log ? logStatusText(log) : 'Loading the log…'}
      </p>
      <pre
        id="job-log-text"
        class="job-log-text"
        tabindex={0}
        role="log"
        aria-live="off"
        aria-labelledby="log-h"
        data-loaded={log ? 'true' : 'false'}
      >
        {log ? formatJobLogText(log.text) || 'No log lines yet.' : ''}
      </pre>
    </section>
  );
}

function progressLine(p: JobRecord['progress']): string {
  if (!p) return 'No progress reported yet.';
  const parts = [`phase ${p.phase_idx + 1}/${p.total_phases}${p.phase ? ` ${p.phase}` : ''}`];
  parts.push(`step ${p.step_idx + 1}/${p.total_steps}${p.step ? ` ${p.step}` : ''}`);
  if (p.total_items > 0) parts.push(`item ${p.item_idx}/${p.total_items}${p.item ? ` ${p.item}` : ''}`);
  return parts.join(' · ');
}

/**
 * The locks a job of this kind holds while it runs (control-chain §4, §8): the kind's `locks(params)` (as the worker
 * computes them) and, for a source-bound kind, one `source:slot=<n>` lease; the record does not say which slot.
 */
export function jobLocks(job: JobRecord): { keys: string[]; sourceSlot: boolean } | { error: string } | null {
  const def = findJobKind(job.kind);
  if (!def) return null;
  try {
    return { keys: [...def.locks(job.params as never)].sort(), sourceSlot: def.sourceBound };
  } catch (err) {
    // Stored params the kind cannot read: say so rather than show "none".
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

function LocksHeld(props: { job: JobRecord }) {
  const { job } = props;
  const locks = jobLocks(job);
  if (!locks) return <>unknown kind {job.kind}: its locks cannot be listed</>;
  if ('error' in locks) return <>its locks cannot be listed: {locks.error}</>;
  if (locks.keys.length === 0 && !locks.sourceSlot) return <>none (this kind takes no locks)</>;
  const list = (
    <ul class="lock-keys">
      {locks.keys.map((k) => (
        <li>
          <code>{k}</code>
        </li>
      ))}
      {locks.sourceSlot ? (
        <li>
          one source slot (<code>{'source:slot=<n>'}</code>, of <code>GHTRADER_MAX_PARALLEL_TQSDK_JOBS</code>)
        </li>
      ) : null}
    </ul>
  );
  if (job.status === 'running') return list;
  const when = isTerminal(job.status)
    ? 'none now (released when the job ended); while it ran it held:'
    : 'none yet; once a worker runs it, it holds:';
  return (
    <>
      {when}
      {list}
    </>
  );
}

export function JobDetailPage(props: JobDetailProps) {
  const { ctx, job, progress } = props;
  const p = job.progress;
  const active = !isTerminal(job.status);
  const resubmit = props.canOperate && findJobKind(job.kind)?.submittable === true;
  return (
    <Layout
      title={`Job ${job.job_id}`}
      ctx={ctx}
      pageData={{
        page: 'job',
        job_id: job.job_id,
        job_status: job.status,
        ...(resubmit ? { resubmit: { kind: job.kind, params: job.params } } : {}),
      }}
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
      <p class="actions job-actions">
        <button type="button" id="copy-job-id" data-job-id={job.job_id}>
          Copy id
        </button>
        {resubmit ? (
          <button type="button" id="resubmit-job">
            Resubmit
          </button>
        ) : null}
        <span id="resubmit-result" aria-live="polite"></span>
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
          <dt>Config revision</dt>
          <dd id="job-config-revision">
            {job.config_revision === undefined ? (
              'not recorded'
            ) : (
              <>
                {job.config_revision} (hash <code>{job.config_hash}</code>)
              </>
            )}
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
          <dt>Locks held</dt>
          <dd id="job-locks">
            <LocksHeld job={job} />
          </dd>
          <dt>Waiting for</dt>
          <dd id="job-waiting-for">
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

      <LogPanel job={job} active={active} log={props.log} />

      {job.result !== null && job.result !== undefined ? (
        <section aria-labelledby="result-h" class="panel">
          <h2 id="result-h">Result</h2>
          <pre>{JSON.stringify(job.result, null, 2)}</pre>
        </section>
      ) : null}
    </Layout>
  );
}
