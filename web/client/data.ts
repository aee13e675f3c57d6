/**
 * Data page: submit the data jobs (`data.schedule`, `data.main_l5` update / full rebuild after a confirm,
 * `data.validate`) through `POST /api/jobs` with the session's CSRF header and list links to them; refresh
 * `GET /api/data/{var}/overview` every 30 s while the tab is visible (5 min in the background), redraw the coverage
 * heat map and its text summary from the same model the server renders, and say when newer schedule, build or
 * validation results are available. A 401 goes to the login page. Live: a `data.*` job of this variety ending (on
 * `jobs:<var>`) refreshes the overview at once, as does a `seq` gap or a reconnect.
 */
import type { CoverageView, DataOverview } from '#shared/services/data/data-view.ts';
import { ApiError, api, describe, type PageData, toast, toLogin } from './api.ts';
import { coverageSummary, type HeatCell, heatMap, overviewSignature } from './data-heatmap.ts';
import type { Envelope, LiveTopic } from './live.ts';

const ACTIVE_MS = 30_000;
const BACKGROUND_MS = 300_000;
const WEEKDAYS = ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'];

interface DataPageData extends PageData {
  data_available?: boolean;
  can_operate?: boolean;
  signature?: string | null;
}

interface SubmitResult {
  job: { job_id: string; status: string };
  deduped: boolean;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function cellEl(c: HeatCell, first: boolean, offset: number): HTMLElement {
  const cls = `hm hm-${c.state}${c.level > 0 ? ` hm-l${c.level}` : ''}${first ? ` hm-start-${offset}` : ''}`;
  const span = el('span', cls);
  if (c.state === 'outside') {
    span.setAttribute('aria-hidden', 'true');
    return span;
  }
  span.setAttribute('role', 'img');
  span.setAttribute('aria-label', c.label);
  span.title = c.label;
  span.dataset.day = c.day;
  span.dataset.state = c.state;
  span.textContent = c.glyph;
  return span;
}

/** Rebuild the heat map in place, keeping which years the user had open. */
export function renderHeatMap(container: HTMLElement, cov: CoverageView): void {
  const open = new Map<string, boolean>();
  for (const d of container.querySelectorAll<HTMLDetailsElement>('details[data-year]')) {
    open.set(d.dataset.year ?? '', d.open);
  }
  const years = heatMap(cov);
  const nodes = years.map((y, i) => {
    const details = el('details', 'hm-year');
    details.dataset.year = y.year;
    details.open = open.get(y.year) ?? i >= years.length - 2;
    details.append(el('summary', undefined, y.year));
    const months = el('div', 'hm-months');
    for (const m of y.months) {
      const fig = el('figure', 'hm-month');
      fig.dataset.month = m.month;
      fig.append(el('figcaption', 'hm-month-label', m.label));
      const grid = el('div', 'hm-grid');
      for (const w of WEEKDAYS) {
        const wd = el('span', 'hm-wd', w);
        wd.setAttribute('aria-hidden', 'true');
        grid.append(wd);
      }
      m.cells.forEach((c, idx) => {
        grid.append(cellEl(c, idx === 0, m.offset));
      });
      fig.append(grid);
      months.append(fig);
    }
    details.append(months);
    return details;
  });
  container.replaceChildren(...nodes);
}

function jobLink(variety: string, kind: string, r: SubmitResult): HTMLLIElement {
  const li = el('li');
  const a = el('a');
  a.href = `/v/${variety}/jobs/${r.job.job_id}`;
  a.textContent = `${kind} ${r.job.job_id}`;
  li.append(a, ` — ${r.deduped ? 'an identical job was already active' : 'submitted'} (${r.job.status})`);
  return li;
}

async function submit(
  variety: string,
  kind: string,
  params: Record<string, unknown>,
  button: HTMLButtonElement,
): Promise<void> {
  button.disabled = true;
  try {
    // A kind for every variety at once (`data-job-global`, e.g. the calendar) takes no `var`.
    const all = button.dataset.jobGlobal === 'true' ? params : { var: variety, ...params };
    const r = await api<SubmitResult>('POST', '/api/jobs', { kind, params: all });
    document.getElementById('data-job-links')?.prepend(jobLink(variety, kind, r));
    toast(r.deduped ? `An identical ${kind} job is already active.` : `Submitted ${kind}.`);
  } catch (err) {
    toast(describe(err), 'error');
  } finally {
    button.disabled = false;
  }
}

/** Wire the `DataActions` buttons and validate form (Data page, dashboard quick actions). */
export function initDataActions(variety: string): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-job-kind]')) {
    button.addEventListener('click', () => {
      const kind = button.dataset.jobKind ?? '';
      const confirmText = button.dataset.confirm;
      if (confirmText && !window.confirm(confirmText)) return;
      const params = button.dataset.jobParams ? (JSON.parse(button.dataset.jobParams) as Record<string, unknown>) : {};
      void submit(variety, kind, params, button);
    });
  }
  const form = document.getElementById('data-validate-form') as HTMLFormElement | null;
  form?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const incremental = (document.getElementById('data-validate-incremental') as HTMLInputElement | null)?.checked;
    const button = document.getElementById('data-submit-validate') as HTMLButtonElement;
    void submit(variety, 'data.validate', { incremental: incremental === true }, button);
  });
}

function render(o: DataOverview, signature: string | null): void {
  if (o.coverage.status === 'ok') {
    const container = document.getElementById('data-heatmap');
    if (container) renderHeatMap(container, o.coverage.data);
    const summary = document.getElementById('data-coverage-summary');
    const text = coverageSummary(o.coverage.data);
    if (summary && summary.textContent !== text) summary.textContent = text;
  }
  const banner = document.getElementById('data-refresh');
  // Sections other than the heat map change rarely (a job finished): offer a reload rather than redraw them all.
  if (banner && signature !== null && overviewSignature(o) !== signature) banner.hidden = false;
}

export function initDataPage(data: DataPageData): LiveTopic[] {
  const variety = data.variety;
  if (!variety || !data.data_available) return [];
  if (data.can_operate) initDataActions(variety);
  const signature = data.signature ?? null;
  const refresh = async () => render(await api<DataOverview>('GET', `/api/data/${variety}/overview`), signature);
  const tick = async () => {
    try {
      await refresh();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        toLogin();
        return;
      }
      toast(`Data refresh failed: ${describe(err)}`, 'error');
    }
    setTimeout(tick, document.visibilityState === 'visible' ? ACTIVE_MS : BACKGROUND_MS);
  };
  setTimeout(tick, ACTIVE_MS);
  return [
    {
      topic: `jobs:${variety}`,
      apply(env: Envelope) {
        const job = env.payload as { kind?: string; status?: string };
        const ended = job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled';
        if (env.type === 'job.status' && ended && job.kind?.startsWith('data.')) void refresh().catch(() => {});
      },
      // The overview has its own (slow) refresh loop above: fallback poll ticks add nothing to it.
      refetch: async (reason) => {
        if (reason !== 'poll') await refresh();
      },
    },
  ];
}
