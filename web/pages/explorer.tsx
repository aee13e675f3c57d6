/**
 * `/v/{var}/explorer` (control-chain §8): the tick store's catalog (tables, views and their columns), and for
 * operators a SQL editor with a row limit, Run, the results table, the elapsed time and a visible truncation notice.
 * Viewers see the catalog and a note that running queries needs the operator role. The statement is checked by the
 * store's own parser (one read-only SELECT over catalog tables; `TickStore.readOnlyQuery`), not by this page; the
 * server's refusal is shown next to the form. The client script (`client/explorer.ts`) posts `/api/explorer/query`.
 */
import type { CatalogTable } from '#shared/domain/data/tick-store.ts';
import { EXPLORER_SQL_MAX, type ExplorerPageModel } from '../routes/api-explorer.ts';
import { type ChromeContext, Layout } from './layout.tsx';

export interface ExplorerPageProps {
  ctx: ChromeContext;
  model: ExplorerPageModel;
  /** Operator or admin: may run queries. */
  canQuery: boolean;
  /** Shown when this process runs no tick store. */
  offMessage: string;
}

function CatalogPanel(props: { model: ExplorerPageModel; canQuery: boolean }) {
  const { catalog } = props.model;
  return (
    <section aria-labelledby="explorer-catalog-h" class="panel">
      <h2 id="explorer-catalog-h">Catalog</h2>
      {catalog === null ? null : !catalog.ok ? (
        <p class="form-error" id="explorer-catalog-error">
          <span aria-hidden="true">✖</span> Could not read the catalog: <code>{catalog.code}</code> {catalog.message}
        </p>
      ) : catalog.tables.length === 0 ? (
        <p class="empty">
          <span aria-hidden="true">○</span> The store holds no tables yet; <code>ghtrader data migrate --apply</code>{' '}
          creates them.
        </p>
      ) : (
        <>
          <p class="muted">{catalog.tables.length} tables and views a query may read. Expand one for its columns.</p>
          <ul class="stack" id="explorer-catalog">
            {catalog.tables.map((t) => (
              <CatalogEntry table={t} canQuery={props.canQuery} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function CatalogEntry(props: { table: CatalogTable; canQuery: boolean }) {
  const t = props.table;
  const id = `explorer-t-${t.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return (
    <li>
      <details>
        <summary>
          <code>{t.name}</code>{' '}
          <span class="muted">
            ({t.kind}, {t.columns.length} columns)
          </span>
        </summary>
        <table id={id}>
          <caption>Columns of {t.name}</caption>
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col">Type</th>
            </tr>
          </thead>
          <tbody>
            {t.columns.map((c) => (
              <tr>
                <th scope="row">
                  <code>{c.name}</code>
                </th>
                <td>{c.type}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      {props.canQuery ? (
        <button type="button" class="explorer-use-table" data-explorer-table={t.name}>
          Query {t.name}
        </button>
      ) : null}
    </li>
  );
}

function QueryForm(props: { model: ExplorerPageModel }) {
  const { settings, defaultLimit } = props.model;
  return (
    <section aria-labelledby="explorer-query-h" class="panel">
      <h2 id="explorer-query-h">Query</h2>
      <p class="muted" id="explorer-sql-help">
        One read-only <code>SELECT</code> over the catalog's tables and views (no table functions, files or other
        statements; the store's own parser decides). It is cancelled after {settings.timeoutMs} ms and returns at most
        the row limit (1 … {settings.maxLimit}). Ctrl+Enter runs it. Every query is recorded in the audit log.
      </p>
      <form id="explorer-form" class="stack" aria-describedby="explorer-sql-help explorer-error">
        <label for="explorer-sql">SQL statement</label>
        <textarea
          id="explorer-sql"
          name="sql"
          rows={8}
          cols={100}
          required
          maxlength={EXPLORER_SQL_MAX}
          spellcheck={false}
          autocomplete="off"
          aria-describedby="explorer-sql-help explorer-error"
        />
        <div class="inline-form">
          <label for="explorer-limit">Row limit</label>
          <input
            id="explorer-limit"
            name="limit"
            type="number"
            inputmode="numeric"
            min={1}
            max={settings.maxLimit}
            step={1}
            value={String(defaultLimit)}
            aria-describedby="explorer-sql-help explorer-error"
          />
          <button type="submit" id="explorer-run">
            Run
          </button>
        </div>
      </form>
      <p class="form-error" id="explorer-error" role="alert" hidden />
    </section>
  );
}

function ResultsPanel() {
  return (
    <section aria-labelledby="explorer-results-h" class="panel" id="explorer-results">
      <h2 id="explorer-results-h">Results</h2>
      <p id="explorer-status" aria-live="polite">
        No query run yet.
      </p>
      <p class="badge badge-warn" id="explorer-truncated" hidden>
        <span aria-hidden="true">⚠</span> <span id="explorer-truncated-text">Truncated.</span>
      </p>
      <div id="explorer-table" class="table-wrap" />
    </section>
  );
}

export function ExplorerPage(props: ExplorerPageProps) {
  const { ctx, model, canQuery } = props;
  const available = model.storeKind !== null;
  return (
    <Layout
      title="Explorer"
      ctx={ctx}
      pageData={{
        page: 'explorer',
        can_query: canQuery && available,
        max_limit: model.settings.maxLimit,
        default_limit: model.defaultLimit,
      }}
    >
      <h1>Explorer</h1>
      {available ? (
        <p class="muted">
          Read-only SQL over the <code>{model.storeKind}</code> tick store.
        </p>
      ) : (
        <p class="form-error" id="explorer-off">
          <span aria-hidden="true">✖</span> {props.offMessage}
        </p>
      )}
      {available && !canQuery ? (
        <p id="explorer-viewer-note">
          <span aria-hidden="true">🔒</span> Running queries needs the operator role; you can browse the catalog.
        </p>
      ) : null}
      {available && canQuery ? (
        <>
          <QueryForm model={model} />
          <ResultsPanel />
        </>
      ) : null}
      {available ? <CatalogPanel model={model} canQuery={canQuery} /> : null}
    </Layout>
  );
}
