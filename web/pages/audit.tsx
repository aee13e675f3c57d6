/**
 * `/v/{var}/audit` [operator] (control-chain §8, §9): filters in the URL (actor, action, target, time, outcome), the
 * entries newest first with cursor pages (the shown page sorts by column, `client/sortable.ts`), and each entry's
 * before/after in a `<details>` (no script needed).
 */
import { AUDIT_OUTCOMES, type AuditEntry, type AuditOutcome } from '#shared/domain/control/audit.ts';
import type { AuditPageModel } from '../routes/api-audit.ts';
import { type ChromeContext, Layout } from './layout.tsx';
import { SortHeader } from './sort-header.tsx';
import { Time } from './time-text.tsx';

/** Outcome as icon + text, never by colour alone. */
const OUTCOME: Record<AuditOutcome, { icon: string; text: string; cls: string }> = {
  ok: { icon: '✓', text: 'OK', cls: 'state-ok' },
  denied: { icon: '⊘', text: 'Denied', cls: 'state-warn' },
  failed: { icon: '✖', text: 'Failed', cls: 'state-error' },
};

export function OutcomeLabel(props: { outcome: AuditOutcome }) {
  const o = OUTCOME[props.outcome];
  return (
    <span class={`state ${o.cls}`} data-outcome={props.outcome}>
      <span aria-hidden="true">{o.icon}</span> {o.text}
    </span>
  );
}

function summary(value: unknown): string {
  return value === null || value === undefined ? '—' : JSON.stringify(value, null, 2);
}

function Changes(props: { entry: AuditEntry }) {
  const { entry } = props;
  if (entry.before === null && entry.after === null) return <span class="muted">—</span>;
  return (
    <details>
      <summary>
        Before / after
        <span class="visually-hidden">
          {' '}
          of {entry.action} at {entry.ts}
        </span>
      </summary>
      <p>Before</p>
      <pre>
        <code>{summary(entry.before)}</code>
      </pre>
      <p>After</p>
      <pre>
        <code>{summary(entry.after)}</code>
      </pre>
    </details>
  );
}

function AuditTable(props: { items: AuditEntry[]; variety: string; caption: string }) {
  if (props.items.length === 0) return <p class="empty">No audit entries match.</p>;
  return (
    <table class="audit sortable">
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <SortHeader sortKey="time" label="Time" sort="descending" />
          <SortHeader sortKey="actor" label="Actor" />
          <SortHeader sortKey="role" label="Role" />
          <SortHeader sortKey="action" label="Action" />
          <SortHeader sortKey="target" label="Target" />
          <SortHeader sortKey="outcome" label="Outcome" />
          <th scope="col">Reason</th>
          <th scope="col">IP</th>
          <th scope="col">Request id</th>
          <th scope="col">Before / after</th>
        </tr>
      </thead>
      <tbody>
        {props.items.map((e) => {
          const actorId = `${e.actor.type}:${e.actor.id}`;
          return (
            <tr
              data-audit-id={e.audit_id}
              data-sort-time={e.ts}
              data-sort-actor={actorId}
              data-sort-role={e.role}
              data-sort-action={e.action}
              data-sort-target={e.target}
              data-sort-outcome={e.outcome}
            >
              <td>
                <Time iso={e.ts} />
              </td>
              <td>
                {e.actor.name}{' '}
                <a
                  href={`/v/${props.variety}/audit?actor=${encodeURIComponent(actorId)}`}
                  title={`Only entries by ${actorId}`}
                >
                  <code>{actorId}</code>
                </a>
              </td>
              <td>{e.role}</td>
              <td>
                <code>{e.action}</code>
              </td>
              <td>
                <code>{e.target}</code>
              </td>
              <td>
                <OutcomeLabel outcome={e.outcome} />
              </td>
              <td>{e.reason ?? <span class="muted">—</span>}</td>
              <td>{e.ip ?? <span class="muted">—</span>}</td>
              <td>{e.request_id ? <code>{e.request_id}</code> : <span class="muted">—</span>}</td>
              <td>
                <Changes entry={e} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function AuditPage(props: { ctx: ChromeContext; model: AuditPageModel }) {
  const { ctx, model } = props;
  const f = model.filters;
  const result = model.result;
  return (
    <Layout title="Audit" ctx={ctx} pageData={{ page: 'audit' }}>
      <h1>Audit log</h1>
      <section aria-labelledby="audit-list-h" class="panel">
        <h2 id="audit-list-h">Entries</h2>
        <form method="get" class="filters inline-form" aria-label="Filter audit entries" aria-describedby="audit-help">
          <label for="a-actor">Actor</label>
          <input id="a-actor" name="actor" value={f.actor} maxlength={300} placeholder="user:<id>" />
          <label for="a-action">Action</label>
          <input id="a-action" name="action" value={f.action} maxlength={100} placeholder="config.set or config." />
          <label for="a-target">Target</label>
          <input id="a-target" name="target" value={f.target} maxlength={500} />
          <label for="a-from">From (UTC)</label>
          <input id="a-from" name="from" value={f.from} maxlength={40} placeholder="2025-01-31T08:00:00Z" />
          <label for="a-to">To (UTC)</label>
          <input id="a-to" name="to" value={f.to} maxlength={40} placeholder="now" />
          <label for="a-outcome">Outcome</label>
          <select id="a-outcome" name="outcome">
            <option value="" selected={f.outcome === ''}>
              any
            </option>
            {AUDIT_OUTCOMES.map((o) => (
              <option value={o} selected={f.outcome === o}>
                {OUTCOME[o].text}
              </option>
            ))}
          </select>
          <button type="submit">Apply</button>
        </form>
        <p class="muted" id="audit-help">
          Actor is <code>{'<type>:<id>'}</code> (select one in the table). An action ending in <code>.</code> or{' '}
          <code>*</code> matches as a prefix. Times are UTC; a date alone covers the whole day; without a time range the
          last 7 days are shown (at most 400 days).
        </p>
        {model.error ? (
          <p class="form-error" id="audit-error" role="alert">
            <span aria-hidden="true">✖</span> <code>{model.error.code}</code> {model.error.message}
          </p>
        ) : null}
        {result ? (
          <>
            <p class="muted" id="audit-window">
              From <Time iso={result.from} /> to <Time iso={result.to} />.
            </p>
            <div id="audit-list">
              <AuditTable
                items={result.items}
                variety={ctx.variety}
                caption={`Audit entries, newest first (${result.items.length} shown)`}
              />
            </div>
            {result.items.length === 0 && result.next_cursor ? (
              <p class="muted">Nothing on this page; older entries may follow.</p>
            ) : null}
          </>
        ) : null}
        <nav aria-label="Pages" class="pager">
          {model.firstHref ? <a href={model.firstHref}>First page</a> : null}
          {model.nextHref ? <a href={model.nextHref}>Next page</a> : null}
        </nav>
      </section>
    </Layout>
  );
}
