/** Jobs page actions (submit) and the job detail page (live progress every second, cancel). */
import { api, describe, type PageData, toast } from './api.ts';

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
const PROGRESS_POLL_MS = 1000;

async function submit(variety: string, kind: string, params: Record<string, unknown>): Promise<void> {
  const r = await api<{ job: JobRecordLite; deduped: boolean }>('POST', '/api/jobs', { kind, params });
  toast(r.deduped ? `An identical ${kind} job is already active; opening it.` : `Submitted ${kind}.`);
  window.location.assign(`/v/${variety}/jobs/${r.job.job_id}`);
}

export function initJobsPage(data: PageData): void {
  const variety = data.variety ?? 'cu';
  document.getElementById('submit-selftest')?.addEventListener('click', () => {
    submit(variety, 'system.selftest', {}).catch((err: unknown) => toast(describe(err), 'error'));
  });
  const sleepForm = document.getElementById('sleep-form') as HTMLFormElement | null;
  sleepForm?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const seconds = Number((document.getElementById('sleep-seconds') as HTMLInputElement).value);
    submit(variety, 'system.sleep', { seconds }).catch((err: unknown) => toast(describe(err), 'error'));
  });
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
  const label = STATUS_TEXT[view.job_status];
  if (status && label && status.dataset.status !== view.job_status) {
    status.dataset.status = view.job_status;
    status.className = `state job-${view.job_status}`;
    status.replaceChildren();
    const icon = document.createElement('span');
    icon.setAttribute('aria-hidden', 'true');
    icon.textContent = label[0];
    status.append(icon, ` ${label[1]}`);
  }
}

export function initJobDetail(data: PageData): void {
  const id = data.job_id;
  if (!id) return;
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
  if (!ACTIVE.has(data.job_status ?? '')) return;

  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = async () => {
    try {
      const view = await api<ProgressView>('GET', `/api/jobs/${id}/progress`);
      render(view);
      if (!ACTIVE.has(view.job_status)) {
        // Final record (attempts, error, result) comes from the server render.
        setTimeout(() => window.location.reload(), 500);
        return;
      }
    } catch (err) {
      toast(`Progress update failed: ${describe(err)}`, 'error');
    }
    timer = setTimeout(poll, PROGRESS_POLL_MS);
  };
  timer = setTimeout(poll, PROGRESS_POLL_MS);
  window.addEventListener('pagehide', () => clearTimeout(timer));
}
