/**
 * Jobs list (and the dashboard's newest jobs): submit actions, and live rows — `job.status` / `job.progress` on
 * `jobs:<var|all>` update a row's status and progress in place, and the KPIs, the nav's running count and new rows come
 * from the server's own rendering of the page (refetched at most every 2 s, and on gaps or fallback polls).
 * Job detail: `job:<id>` drives the progress bar and status (REST `/api/jobs/{id}/progress` while the socket is down);
 * when the job ends the page's main content is swapped for the server's final rendering, without a reload.
 */
import { api, describe, type PageData, toast } from './api.ts';
import { initJobLog } from './job-log.ts';
import { initJobSubmit } from './job-submit.ts';
import { type Envelope, type LiveTopic, swapFromServer, throttle } from './live.ts';
import { sortableRows } from './sortable.ts';

interface JobRecordLite {
  job_id: string;
  status: string;
}

interface ProgressView {
  job_status: string;
  available: boolean;
  progress: {
    phase: string;
    phase_idx: number;
    total_phases: number;
    step: string;
    step_idx: number;
    total_steps: number;
    item: string;
    item_idx: number;
    total_items: number;
    pct: number;
    message: string;
    eta_s: number | null;
    updated_at: string;
  } | null;
  updated_age_s: number | null;
  stale: boolean;
}

const STATUS_TEXT: Record<string, [string, string]> = {
  queued: ['◷', 'Queued'],
  running: ['▶', 'Running'],
  succeeded: ['✓', 'Succeeded'],
  failed: ['✖', 'Failed'],
  cancelled: ['⊘', 'Cancelled'],
};
const ACTIVE = new Set(['queued', 'running']);
/** How often a jobs list re-reads its KPIs and rows from the server while status changes keep arriving. */
const LIST_REFRESH_MS = 2000;

interface JobSummaryLite {
  job_id: string;
  status: string;
  updated_at: string;
  pct: number | null;
  message: string | null;
  error_code: string | null;
}

interface ProgressPayload {
  job_id: string;
  progress: NonNullable<ProgressView['progress']>;
}

async function submit(variety: string, kind: string, params: Record<string, unknown>): Promise<void> {
  const r = await api<{ job: JobRecordLite; deduped: boolean }>('POST', '/api/jobs', { kind, params });
  toast(r.deduped ? `An identical ${kind} job is already active; opening it.` : `Submitted ${kind}.`);
  window.location.assign(`/v/${variety}/jobs/${r.job.job_id}`);
}

export function initJobsPage(data: PageData): LiveTopic[] {
  const variety = data.variety ?? 'cu';
  initJobSubmit(data);
  document.getElementById('submit-selftest')?.addEventListener('click', () => {
    submit(variety, 'system.selftest', {}).catch((err: unknown) => toast(describe(err), 'error'));
  });
  const sleepForm = document.getElementById('sleep-form') as HTMLFormElement | null;
  sleepForm?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const seconds = Number((document.getElementById('sleep-seconds') as HTMLInputElement).value);
    submit(variety, 'system.sleep', { seconds }).catch((err: unknown) => toast(describe(err), 'error'));
  });
  initCancelBatch();
  const scope = new URLSearchParams(window.location.search).get('scope') === 'var' ? variety : 'all';
  return [liveJobsList(`jobs:${scope}`)];
}

interface CancelBatchAnswer {
  matched: number;
  cancel_requested: number;
  truncated: boolean;
}

/** `CancelBatchForm`: confirm, post `POST /api/jobs/cancel-batch`, say what happened (rows follow live). */
function initCancelBatch(): void {
  const form = document.getElementById('cancel-batch-form') as HTMLFormElement | null;
  if (!form) return;
  const result = document.getElementById('cancel-batch-result');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value;
    const kind = value('kind');
    const status = value('status');
    const all = value('scope') === 'all';
    const body: Record<string, unknown> = { reason: value('reason') };
    if (kind) body.kinds = [kind];
    if (status) body.statuses = [status];
    if (!all) body.var = form.dataset.variety;
    const what = `every ${status || 'queued and running'} ${kind || ''} job${all ? '' : ` of ${form.dataset.variety?.toUpperCase()}`}`;
    if (!window.confirm(`Cancel ${what.replace(/ {2,}/g, ' ')}?`)) return;
    const button = form.querySelector<HTMLButtonElement>('button[type="submit"]');
    if (button) button.disabled = true;
    api<CancelBatchAnswer>('POST', '/api/jobs/cancel-batch', body)
      .then((r) => {
        const text =
          r.matched === 0
            ? 'No active job matched.'
            : `${r.cancel_requested} of ${r.matched} matching jobs cancelled or asked to stop.${r.truncated ? ' More match: cancel again for the next 500.' : ''}`;
        if (result) result.textContent = text;
        toast(text);
      })
      .catch((err: unknown) => {
        const text = describe(err);
        if (result) result.textContent = `✖ ${text}`;
        toast(text, 'error');
      })
      .finally(() => {
        if (button) button.disabled = false;
      });
  });
}

/** Status shown as icon + text (never colour alone), as `JobStatusLabel` renders it. */
function setStatusLabel(el: HTMLElement, status: string): void {
  const label = STATUS_TEXT[status];
  if (!label || el.dataset.status === status) return;
  el.dataset.status = status;
  el.className = `state job-${status}`;
  const icon = document.createElement('span');
  icon.setAttribute('aria-hidden', 'true');
  icon.textContent = label[0];
  el.replaceChildren(icon, ` ${label[1]}`);
}

function muted(text: string): HTMLSpanElement {
  const span = document.createElement('span');
  span.className = 'muted';
  span.textContent = text;
  return span;
}

function rowOf(jobId: string): HTMLTableRowElement | null {
  return document.querySelector<HTMLTableRowElement>(`tr[data-job-id="${CSS.escape(jobId)}"]`);
}

function setRowProgress(row: HTMLTableRowElement, pct: number | null, message: string | null): void {
  const cell = row.querySelector<HTMLElement>('[data-col="progress"]');
  if (!cell) return;
  const text = pct === null ? '—' : `${Math.round(pct * 100)}%`;
  cell.replaceChildren(text, ...(message ? [muted(` ${message}`)] : []));
}

/** Show a pushed summary on its row unless the row already shows a newer state (`data-updated-at`, UTC ISO). */
function applySummary(job: JobSummaryLite): boolean {
  const row = rowOf(job.job_id);
  if (!row) return false;
  if (job.updated_at < (row.dataset.updatedAt ?? '')) return true;
  row.dataset.updatedAt = job.updated_at;
  const status = row.querySelector<HTMLElement>('[data-col="status"]');
  const label = status?.querySelector<HTMLElement>('[data-status]');
  if (status && label) {
    setStatusLabel(label, job.status);
    status.replaceChildren(label, ...(job.error_code ? [muted(` (${job.error_code})`)] : []));
  }
  setRowProgress(row, job.pct, job.message);
  return true;
}

/** The jobs table as `JobsTable` renders it (`#jobs-list`, `#jobs-kpis`), kept current from `topic`. */
export function liveJobsList(topic: string): LiveTopic {
  const list = document.getElementById('jobs-list');
  const sorting = list ? sortableRows(list) : null;
  // The newest pushed summary per job, re-applied after each server refresh (which may have read an older state).
  const latest = new Map<string, JobSummaryLite>();
  const refresh = async () => {
    await swapFromServer([
      'jobs-kpis',
      'jobs-list',
      'nav-jobs',
      'jobs-timeline-figure',
      'jobs-timeline-table',
      'pipeline-strip',
    ]);
    sorting?.reapply();
    for (const job of latest.values()) applySummary(job);
  };
  const refreshSoon = throttle(refresh, LIST_REFRESH_MS);
  return {
    topic,
    apply(env: Envelope) {
      if (env.type === 'job.status') {
        const job = env.payload as JobSummaryLite;
        latest.delete(job.job_id);
        latest.set(job.job_id, job);
        if (latest.size > 200) latest.delete(latest.keys().next().value as string);
        applySummary(job);
        // Counts, ordering and rows not shown yet come from the server's rendering.
        refreshSoon();
      } else if (env.type === 'job.progress') {
        const p = env.payload as ProgressPayload;
        const row = rowOf(p.job_id);
        if (row && p.progress.updated_at >= (row.dataset.updatedAt ?? '')) {
          setRowProgress(row, p.progress.pct, p.progress.message);
        }
      }
    },
    refetch: refresh,
  };
}

function setText(id: string, text: string): void {
  const el = document.getElementById(id);
  if (el) el.textContent = text;
}

function render(view: ProgressView): void {
  const p = view.progress;
  const bar = document.getElementById('job-progress') as HTMLProgressElement | null;
  if (bar && p) {
    bar.value = p.pct;
    bar.textContent = `${Math.round(p.pct * 100)}%`;
  }
  if (p) {
    setText('job-progress-pct', `${Math.round(p.pct * 100)}%`);
    const parts = [`phase ${p.phase_idx + 1}/${p.total_phases}${p.phase ? ` ${p.phase}` : ''}`];
    parts.push(`step ${p.step_idx + 1}/${p.total_steps}${p.step ? ` ${p.step}` : ''}`);
    if (p.total_items > 0) parts.push(`item ${p.item_idx}/${p.total_items}${p.item ? ` ${p.item}` : ''}`);
    setText('job-progress-line', parts.join(' · '));
    setText('job-progress-message', p.message);
    setText('job-eta', p.eta_s === null ? '—' : `${p.eta_s} s`);
  }
  const stale = document.getElementById('job-stale');
  if (stale) stale.hidden = !view.stale;
  if (view.stale && view.updated_age_s !== null) {
    setText('job-stale-text', `progress stale ${Math.round(view.updated_age_s)} s`);
  }
  const status = document.getElementById('job-status');
  if (status) setStatusLabel(status, view.job_status);
}

export function initJobDetail(data: PageData): LiveTopic[] {
  const id = data.job_id;
  if (!id) return [];
  const logPanel = initJobLog(data);
  const cancel = document.getElementById('cancel-job') as HTMLButtonElement | null;
  cancel?.addEventListener('click', () => {
    if (!window.confirm(`Cancel job ${id}?`)) return;
    cancel.disabled = true;
    api<{ job: JobRecordLite }>('POST', `/api/jobs/${id}/cancel`, {})
      .then((r) =>
        toast(
          r.job.status === 'cancelled' ? 'Job cancelled.' : 'Cancel requested; the worker stops it within seconds.',
        ),
      )
      .catch((err: unknown) => {
        cancel.disabled = false;
        toast(describe(err), 'error');
      });
  });
  if (!ACTIVE.has(data.job_status ?? '')) return [];

  let current = data.job_status ?? 'queued';
  // The status the locks lines (held, waiting for) were rendered for: a queued -> running change re-reads them.
  let locksFor = current;
  let finished = false;
  // A REST read can cross a newer pushed update: never show older progress than already shown (UTC ISO sorts).
  let shownAt = '';
  const show = (view: ProgressView) => {
    const p = view.progress;
    if (p && p.updated_at < shownAt) {
      render({ ...view, progress: null });
      return;
    }
    if (p) shownAt = p.updated_at;
    render(view);
  };
  const finish = async () => {
    if (finished) return;
    finished = true;
    // The final record (attempts, error, result) is the server's rendering: swap it in, no reload. A read racing the
    // final write may still show the job active: try again shortly.
    for (let i = 0; i < 5; i++) {
      await swapFromServer(['main']);
      const shown = document.getElementById('job-status')?.dataset.status;
      if (!shown || !ACTIVE.has(shown)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await logPanel?.afterSwap();
    toast(`Job ${STATUS_TEXT[current]?.[1].toLowerCase() ?? current}.`);
  };
  const onStatus = (status: string) => {
    current = status;
    logPanel?.onStatus(status);
    const el = document.getElementById('job-status');
    if (el) setStatusLabel(el, status);
    // Without the final rendering (the refetch failed), fall back to loading the page.
    if (!ACTIVE.has(status)) finish().catch(() => window.location.reload());
    else if (status !== locksFor) {
      locksFor = status;
      swapFromServer(['job-locks', 'job-waiting-for']).catch(() => undefined);
    }
  };
  return [
    {
      topic: `job:${id}`,
      apply(env: Envelope) {
        if (finished) return;
        if (env.type === 'job.progress') {
          const p = env.payload as ProgressPayload;
          if (current === 'queued') current = 'running'; // progress comes from a running attempt
          show({ job_status: current, available: true, progress: p.progress, updated_age_s: 0, stale: false });
          logPanel?.onLiveUpdate();
        } else if (env.type === 'job.status') {
          onStatus((env.payload as JobSummaryLite).status);
        }
      },
      async refetch() {
        if (finished) return;
        const view = await api<ProgressView>('GET', `/api/jobs/${id}/progress`);
        show(view);
        onStatus(view.job_status);
      },
    },
  ];
}
