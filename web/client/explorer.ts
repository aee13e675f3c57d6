/**
 * Explorer page (operators): posts the editor's statement and row limit to `POST /api/explorer/query` with the
 * session's CSRF header, then draws the results table (`<th scope="col">` per column, NULL spelled out), the row count
 * and elapsed time, and a visible truncation notice. The server's refusal (`query_not_allowed`, `query_timeout`,
 * `validation_failed`, …) is shown next to the form and tied to the editor with `aria-describedby`. "Query <table>"
 * buttons of the catalog fill the editor. Ctrl/Cmd+Enter runs the statement. A 401 goes to the login page.
 */
import { ApiError, api, type PageData } from './api.ts';

interface ExplorerPageData extends PageData {
  can_query?: boolean;
  max_limit?: number;
  default_limit?: number;
}

interface QueryResult {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  row_count: number;
  truncated: boolean;
  elapsed_ms: number;
  limit: number;
}

/** A cell as text: strings as they are, NULL spelled out (never an empty cell), anything else as JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

function renderTable(container: HTMLElement, res: QueryResult): void {
  const table = document.createElement('table');
  const caption = document.createElement('caption');
  caption.textContent = `Query result: ${res.row_count} row${res.row_count === 1 ? '' : 's'}`;
  table.append(caption);
  const thead = document.createElement('thead');
  const head = document.createElement('tr');
  for (const c of res.columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = c.name;
    const type = document.createElement('span');
    type.className = 'muted';
    type.textContent = ` ${c.type}`;
    th.append(type);
    head.append(th);
  }
  thead.append(head);
  const tbody = document.createElement('tbody');
  for (const row of res.rows) {
    const tr = document.createElement('tr');
    for (const v of row) {
      const td = document.createElement('td');
      td.textContent = cellText(v);
      if (v === null) td.className = 'muted';
      if (typeof v === 'number') td.className = 'num';
      tr.append(td);
    }
    tbody.append(tr);
  }
  table.append(thead, tbody);
  container.replaceChildren(table);
}

export function initExplorerPage(data: ExplorerPageData): void {
  const form = document.getElementById('explorer-form') as HTMLFormElement | null;
  const sqlInput = document.getElementById('explorer-sql') as HTMLTextAreaElement | null;
  const limitInput = document.getElementById('explorer-limit') as HTMLInputElement | null;
  const run = document.getElementById('explorer-run') as HTMLButtonElement | null;
  const errorEl = document.getElementById('explorer-error');
  const status = document.getElementById('explorer-status');
  const truncated = document.getElementById('explorer-truncated');
  const truncatedText = document.getElementById('explorer-truncated-text');
  const tableWrap = document.getElementById('explorer-table');
  if (!data.can_query || !form || !sqlInput) return;

  const showError = (message: string | null) => {
    if (errorEl) {
      errorEl.textContent = message ? `✖ ${message}` : '';
      errorEl.hidden = !message;
    }
    sqlInput.setAttribute('aria-invalid', message ? 'true' : 'false');
  };

  for (const button of document.querySelectorAll<HTMLButtonElement>('button.explorer-use-table')) {
    button.addEventListener('click', () => {
      sqlInput.value = `SELECT * FROM ${button.dataset.explorerTable ?? ''} LIMIT 100`;
      showError(null);
      sqlInput.focus();
    });
  }

  sqlInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const sql = sqlInput.value;
    if (sql.trim() === '') {
      showError('Type a SELECT statement first.');
      sqlInput.focus();
      return;
    }
    const limit = limitInput?.value.trim() ?? '';
    showError(null);
    if (run) run.disabled = true;
    if (status) status.textContent = 'Running…';
    api<QueryResult>('POST', '/api/explorer/query', { sql, ...(limit === '' ? {} : { limit }) })
      .then((res) => {
        if (limitInput) limitInput.value = String(res.limit);
        if (status) {
          status.textContent = `${res.row_count} row${res.row_count === 1 ? '' : 's'} in ${res.elapsed_ms} ms (limit ${res.limit}).`;
        }
        if (truncated && truncatedText) {
          truncatedText.textContent = `Truncated: only the first ${res.limit} rows are shown; the statement returned more. Narrow it, or raise the limit (at most ${data.max_limit ?? res.limit}).`;
          truncated.hidden = !res.truncated;
        }
        if (tableWrap) renderTable(tableWrap, res);
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 401) {
          window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
          return;
        }
        const message = err instanceof ApiError ? `${err.message} (${err.code})` : String(err);
        showError(message);
        if (status) status.textContent = 'The query did not run.';
        if (truncated) truncated.hidden = true;
        sqlInput.focus();
      })
      .finally(() => {
        if (run) run.disabled = false;
      });
  });
}
