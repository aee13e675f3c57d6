/**
 * Job detail: the log tail (control-chain §8), Copy id and Resubmit. The tail follows an active job: while the socket
 * is down (`<body data-live="polling">`) it polls `/api/jobs/{id}/log` every 1/2/5/10 s (default 2); while the socket
 * is live, the job's pushed updates trigger the re-read instead (at most once per interval), since lines themselves
 * are not pushed. Nothing is read while the tab is hidden, the job has ended, or the user paused following. Controls
 * are found through the document (delegated events), so the server's final rendering swapped in when the job ends
 * keeps working and gets this client's state back.
 */
import { formatJobLogText } from '#shared/domain/control/job-log.ts';
import { ApiError, api, describe, type PageData, toast, toLogin } from './api.ts';

interface LogTail {
  attempt: number | null;
  text: string;
  bytes: number;
  truncated: boolean;
}

interface JobPageData extends PageData {
  resubmit?: { kind: string; params: Record<string, unknown> };
}

const ACTIVE = new Set(['queued', 'running']);
const TAIL_MAX_BYTES = 64_000;
/** Within this many pixels of the bottom, a following tail stays scrolled to the end. */
const STICKY_PX = 24;

export interface JobLogPanel {
  /** A pushed update of this job arrived (the socket is live): re-read the tail if it is due. */
  onLiveUpdate(): void;
  /** The job's status changed. */
  onStatus(status: string): void;
  /** The page's main content was replaced by the server's rendering: restore state and show the final tail. */
  afterSwap(): Promise<void>;
}

function byId<T extends HTMLElement>(id: string): T | null {
  return document.getElementById(id) as T | null;
}

export function initJobLog(data: PageData): JobLogPanel | null {
  const id = data.job_id;
  if (!id) return null;
  const page = data as JobPageData;
  let status = data.job_status ?? 'queued';
  let follow = true;
  let intervalS = 2;
  /** null: the latest attempt. */
  let attempt: number | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastLoad = 0;
  let loading: Promise<void> | null = null;

  const active = () => ACTIVE.has(status);
  const visible = () => document.visibilityState === 'visible';
  const live = () => document.body.dataset.live === 'live';

  const render = (tail: LogTail) => {
    const pre = byId<HTMLPreElement>('job-log-text');
    if (!pre) return;
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight <= STICKY_PX;
    const text = formatJobLogText(tail.text);
    pre.textContent = text === '' ? 'No log lines yet.' : text;
    pre.dataset.loaded = 'true';
    if (follow && atBottom) pre.scrollTop = pre.scrollHeight;
    const statusEl = byId('job-log-status');
    if (statusEl) {
      statusEl.textContent =
        tail.attempt === null
          ? 'No attempt has started yet.'
          : `Attempt ${tail.attempt}, ${tail.truncated ? `last ${tail.bytes} bytes (older lines: download the log)` : `${tail.bytes} bytes`}.`;
    }
  };

  const load = (): Promise<void> => {
    loading ??= (async () => {
      lastLoad = Date.now();
      const q = new URLSearchParams({ max_bytes: String(TAIL_MAX_BYTES) });
      if (attempt !== null) q.set('attempt', String(attempt));
      try {
        render(await api<LogTail>('GET', `/api/jobs/${id}/log?${q.toString()}`));
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) {
          toLogin();
          return;
        }
        const statusEl = byId('job-log-status');
        if (statusEl) statusEl.textContent = `Could not read the log: ${describe(err)}`;
      } finally {
        loading = null;
      }
    })();
    return loading;
  };

  /** Poll only while following an active job in a visible tab with the socket down. */
  const schedule = () => {
    clearTimeout(timer);
    if (!(follow && active() && visible() && !live())) return;
    timer = setTimeout(
      () => {
        void load().then(schedule);
      },
      Math.max(0, lastLoad + intervalS * 1000 - Date.now()),
    );
  };

  /** Put this client's state on the (possibly freshly rendered) controls. */
  const sync = () => {
    byId('job-log-follow')?.setAttribute('aria-pressed', String(follow));
    const interval = byId<HTMLSelectElement>('job-log-interval');
    if (interval) interval.value = String(intervalS);
    const select = byId<HTMLSelectElement>('job-log-attempt');
    if (select && attempt !== null) select.value = String(attempt);
  };

  document.addEventListener('click', (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    if (target?.closest('#job-log-follow')) {
      follow = !follow;
      sync();
      if (follow) void load().then(schedule);
      else clearTimeout(timer);
    } else if (target?.closest('#copy-job-id')) {
      copyId(id);
    } else if (target?.closest('#resubmit-job')) {
      const button = target.closest<HTMLButtonElement>('#resubmit-job');
      if (button && page.resubmit) resubmit(data.variety ?? 'cu', page.resubmit, button);
    }
  });
  document.addEventListener('change', (ev) => {
    const target = ev.target instanceof HTMLSelectElement ? ev.target : null;
    if (target?.id === 'job-log-attempt') {
      const options = target.options;
      // The last option is the latest attempt: follow it (also when a retry adds one).
      attempt = target.selectedIndex === options.length - 1 ? null : Number(target.value);
      void load();
    } else if (target?.id === 'job-log-interval') {
      intervalS = Number(target.value) || 2;
      schedule();
    }
  });
  document.addEventListener('visibilitychange', () => {
    if (visible() && follow && active()) void load().then(schedule);
    else clearTimeout(timer);
  });
  // The socket going down or coming back switches between polling and update-driven reads.
  new MutationObserver(schedule).observe(document.body, { attributes: true, attributeFilter: ['data-live'] });

  const pre = byId('job-log-text');
  if (pre?.dataset.loaded !== 'true') void load().then(schedule);
  else {
    lastLoad = Date.now();
    schedule();
  }

  return {
    onLiveUpdate() {
      if (!(follow && active() && visible() && live())) return;
      if (Date.now() - lastLoad >= intervalS * 1000) void load();
      else {
        clearTimeout(timer);
        timer = setTimeout(() => void load(), lastLoad + intervalS * 1000 - Date.now());
      }
    },
    onStatus(next: string) {
      status = next;
      if (!active()) clearTimeout(timer);
    },
    async afterSwap() {
      sync();
      await load();
      schedule();
    },
  };
}

function copyId(id: string): void {
  if (!navigator.clipboard) {
    toast('The clipboard is not available on this page; select the job id and copy it.', 'error');
    return;
  }
  navigator.clipboard.writeText(id).then(
    () => toast('Job id copied.'),
    (err: unknown) => toast(`Could not copy the job id: ${describe(err)}`, 'error'),
  );
}

function resubmit(
  variety: string,
  job: { kind: string; params: Record<string, unknown> },
  button: HTMLButtonElement,
): void {
  button.disabled = true;
  api<{ job: { job_id: string }; deduped: boolean }>('POST', '/api/jobs', { kind: job.kind, params: job.params })
    .then((r) => {
      const out = byId('resubmit-result');
      const link = document.createElement('a');
      link.href = `/v/${variety}/jobs/${r.job.job_id}`;
      link.textContent = r.job.job_id;
      const text = r.deduped ? 'An identical job is already active: ' : 'Submitted as job ';
      out?.replaceChildren(text, link);
      toast(r.deduped ? `An identical ${job.kind} job is already active.` : `Resubmitted ${job.kind}.`);
    })
    .catch((err: unknown) => toast(describe(err), 'error'))
    .finally(() => {
      button.disabled = false;
    });
}
