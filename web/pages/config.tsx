/**
 * `/v/{var}/config` (control-chain §8, §5): the effective values with their source (this variety's scoped keys
 * first; env-shadowed and unmanaged keys flagged), for admins one "set KEY = VALUE" form (the server validates and
 * its message is shown) and a rollback button per revision, the revision history with cursor pages, and a diff of
 * two revisions computed server-side from their snapshots (`?from=a&to=b`). The client script (`client/config.ts`)
 * posts the forms and reveals `#config-newer` when a newer head revision is announced (`config` topic); everything
 * else works without it.
 */
import type { EffectiveItem } from '#shared/domain/control/config.ts';
import type { ConfigDiff, ConfigPageModel } from '../routes/api-config.ts';
import { type ChromeContext, Layout } from './layout.tsx';
import { Time } from './time-text.tsx';

export interface ConfigPageProps {
  ctx: ChromeContext;
  model: ConfigPageModel;
  isAdmin: boolean;
  nextHref: string | null;
  firstHref: string | null;
}

const SOURCE: Record<'config' | 'env' | 'default' | 'flag', { icon: string; text: string }> = {
  config: { icon: '⚙', text: 'config' },
  env: { icon: '$', text: 'env' },
  default: { icon: '○', text: 'default' },
  flag: { icon: '⚑', text: 'flag' },
};

export function fmtConfigValue(v: string | number | boolean | null | undefined): string {
  return v === null || v === undefined ? '' : String(v);
}

function Value(props: { v: string | number | boolean | null }) {
  const text = fmtConfigValue(props.v);
  return text === '' ? <span class="muted">— unset</span> : <code>{text}</code>;
}

function Source(props: { source: string }) {
  const [kind, ...rest] = props.source.split(':');
  const s = SOURCE[kind as keyof typeof SOURCE] ?? { icon: '?', text: kind ?? props.source };
  const where = rest.join(':');
  return (
    <span class="config-source" data-source={kind}>
      <span aria-hidden="true">{s.icon}</span> {s.text}
      {where ? (
        <>
          {' '}
          <code>{where}</code>
        </>
      ) : null}
    </span>
  );
}

function bounds(b: EffectiveItem['bounds']): string {
  const parts: string[] = [];
  if (b.min !== undefined && b.max !== undefined) parts.push(`${b.min} … ${b.max}`);
  else if (b.min !== undefined) parts.push(`≥ ${b.min}`);
  else if (b.max !== undefined) parts.push(`≤ ${b.max}`);
  if (b.min_of) parts.push(`≥ ${b.min_of}`);
  if (b.values) parts.push(`one of ${b.values.join(', ')}`);
  return parts.join('; ');
}

/** This variety's scoped keys first (control-chain §8), then the rest; unmanaged keys stay last. */
export function orderedItems(items: readonly EffectiveItem[]): EffectiveItem[] {
  const rank = (i: EffectiveItem) => (i.unmanaged ? 2 : i.scopes.includes('var') ? 0 : 1);
  return [...items].sort((a, b) => rank(a) - rank(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Keys offered by the edit form: every registry key plus this variety's (and the sessions') scoped variants. */
export function editableKeys(model: ConfigPageModel, variety: string): string[] {
  const v = variety.toUpperCase();
  const out: string[] = [];
  for (const s of model.schema) {
    out.push(s.key);
    const hasVar = s.scopes.includes('var');
    const hasSession = s.scopes.includes('session');
    if (hasVar) out.push(`${s.key}_${v}`);
    if (hasSession) for (const sess of ['DAY', 'NIGHT']) out.push(`${s.key}_${sess}`);
    if (hasVar && hasSession) for (const sess of ['DAY', 'NIGHT']) out.push(`${s.key}_${v}_${sess}`);
  }
  return out;
}

function Flags(props: { item: EffectiveItem }) {
  const { item } = props;
  if (item.unmanaged) {
    return (
      <span class="state state-warn" data-flag="unmanaged">
        <span aria-hidden="true">⚠</span> Unmanaged: ignored; <code>ghtrader config prune</code> removes it
      </span>
    );
  }
  const flags = [
    item.env_shadowed ? (
      <span class="state state-warn" data-flag="env_shadowed">
        <span aria-hidden="true">⚠</span> Env shadowed: the stored value overrides the environment
      </span>
    ) : null,
    item.unused ? (
      <div class="muted" data-flag="unused">
        <span aria-hidden="true">ⓘ</span> Not read yet: {item.unused}
      </div>
    ) : null,
  ].filter((f) => f !== null);
  if (flags.length === 0) return <span class="muted">—</span>;
  return <>{flags}</>;
}

function EffectiveTable(props: { model: ConfigPageModel; variety: string; isAdmin: boolean }) {
  const section = props.model.effective;
  if (!section.ok) {
    return (
      <p class="form-error" id="config-effective-error">
        <span aria-hidden="true">✖</span> Could not resolve the effective values: <code>{section.code}</code>{' '}
        {section.message}. Fix the environment of this process; history, diff and edits still work.
      </p>
    );
  }
  const effective = section.view;
  const v = props.variety.toUpperCase();
  const items = orderedItems(effective.items);
  if (items.length === 0) return <p class="empty">No key matches this prefix.</p>;
  return (
    <table id="config-effective">
      <caption>
        {items.length} keys at revision {effective.revision} (<code>{effective.config_hash}</code>), resolved for {v},
        keys scoped by variety first
      </caption>
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Value</th>
          <th scope="col">Source</th>
          <th scope="col">Type</th>
          <th scope="col">Default / bounds</th>
          <th scope="col">Applies</th>
          <th scope="col">Flags</th>
          {props.isAdmin ? <th scope="col">Edit</th> : null}
        </tr>
      </thead>
      <tbody>
        {items.map((i) => {
          const b = bounds(i.bounds);
          return (
            <tr data-key={i.key}>
              <th scope="row">
                <code>{i.key}</code>
                {i.scopes.length > 0 ? <span class="muted"> (scopes: {i.scopes.join(', ')})</span> : null}
                <br />
                <span class="muted">{i.description}</span>
              </th>
              <td>
                <Value v={i.value} />
              </td>
              <td>
                <Source source={i.source} />
              </td>
              <td>{i.type}</td>
              <td>
                {i.unmanaged ? (
                  '—'
                ) : (
                  <>
                    <Value v={i.default} />
                    {b ? <span class="muted"> ({b})</span> : null}
                  </>
                )}
              </td>
              <td>{i.apply === 'restart' ? 'on restart' : 'live'}</td>
              <td>
                <Flags item={i} />
              </td>
              {props.isAdmin ? (
                <td>
                  {i.unmanaged ? (
                    <button
                      type="button"
                      class="config-edit"
                      data-config-key={i.key}
                      data-config-value=""
                      data-config-remove="true"
                    >
                      Remove…<span class="visually-hidden"> {i.key}</span>
                    </button>
                  ) : (
                    <>
                      <button
                        type="button"
                        class="config-edit"
                        data-config-key={i.key}
                        data-config-value={fmtConfigValue(i.value)}
                      >
                        Edit<span class="visually-hidden"> {i.key}</span>
                      </button>
                      {i.scopes.includes('var') ? (
                        <>
                          {' '}
                          <button
                            type="button"
                            class="config-edit"
                            data-config-key={`${i.key}_${v}`}
                            data-config-value={fmtConfigValue(i.value)}
                          >
                            Edit {v} override<span class="visually-hidden"> of {i.key}</span>
                          </button>
                        </>
                      ) : null}
                    </>
                  )}
                </td>
              ) : null}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function SetForm(props: { model: ConfigPageModel; variety: string }) {
  const head = props.model.head.revision;
  return (
    <section aria-labelledby="config-set-h" class="panel">
      <h2 id="config-set-h">Set a value</h2>
      <p class="muted" id="config-set-help">
        Writes a new revision on top of revision {head}; if someone else wrote in between, the write is refused and you
        reload. A reason is required: it is stored with the revision and in the audit log. Check “remove” to delete the
        stored value (the key then falls back to env or its default).
      </p>
      <form id="config-set-form" class="inline-form" aria-describedby="config-set-help config-set-error">
        <label for="config-set-key">Key</label>
        <input
          id="config-set-key"
          name="key"
          list="config-keys"
          required
          maxlength={200}
          size={40}
          autocomplete="off"
          spellcheck={false}
          aria-describedby="config-set-expected config-set-error"
        />
        <datalist id="config-keys">
          {editableKeys(props.model, props.variety).map((k) => (
            <option value={k} />
          ))}
        </datalist>
        <label for="config-set-value">Value</label>
        <input
          id="config-set-value"
          name="value"
          maxlength={4096}
          autocomplete="off"
          spellcheck={false}
          aria-describedby="config-set-expected config-set-error"
        />
        <input type="checkbox" id="config-set-remove" name="remove" />
        <label for="config-set-remove">remove the stored value</label>
        <label for="config-set-reason">Reason</label>
        <input
          id="config-set-reason"
          name="reason"
          maxlength={500}
          required
          aria-describedby="config-set-help config-set-error"
        />
        <input type="hidden" id="config-set-expected-revision" name="expected_revision" value={String(head)} />
        <button type="submit" id="config-set-submit">
          Save
        </button>
      </form>
      <p class="muted" id="config-set-expected" aria-live="polite" />
      <p class="form-error" id="config-set-error" role="alert" hidden />
    </section>
  );
}

function HistoryTable(props: { model: ConfigPageModel; variety: string; isAdmin: boolean }) {
  const { items } = props.model.history;
  const head = props.model.head.revision;
  if (items.length === 0) return <p class="empty">No revisions.</p>;
  return (
    <table id="config-history">
      <caption>Revisions, newest first ({items.length} shown)</caption>
      <thead>
        <tr>
          <th scope="col" class="num">
            Revision
          </th>
          <th scope="col">Time</th>
          <th scope="col">Actor</th>
          <th scope="col">Action</th>
          <th scope="col">Reason</th>
          <th scope="col">Changed keys</th>
          <th scope="col">Rollback to</th>
          <th scope="col">Diff</th>
          {props.isAdmin ? <th scope="col">Rollback</th> : null}
        </tr>
      </thead>
      <tbody>
        {items.map((r) => (
          <tr data-revision={r.revision}>
            <th scope="row" class="num">
              {r.revision}
              {r.revision === head ? <span class="muted"> (head)</span> : null}
            </th>
            <td>
              <Time iso={r.created_at} />
            </td>
            <td>
              {r.actor.name}{' '}
              <span class="muted">
                ({r.actor.type}, {r.role})
              </span>
            </td>
            <td>{r.action}</td>
            <td>{r.reason}</td>
            <td>
              {r.changed_keys.length === 0 ? (
                <span class="muted">none</span>
              ) : (
                <ul class="config-keys">
                  {r.changed_keys.map((k) => (
                    <li>
                      <code>{k}</code>
                    </li>
                  ))}
                </ul>
              )}
            </td>
            <td>{r.rollback_to === undefined ? '—' : r.rollback_to}</td>
            <td>
              {r.revision > 1 ? (
                <a href={`/v/${props.variety}/config?from=${r.revision - 1}&to=${r.revision}#config-diff-h`}>
                  Changes<span class="visually-hidden"> in revision {r.revision}</span>
                </a>
              ) : (
                '—'
              )}
            </td>
            {props.isAdmin ? (
              <td>
                {r.revision === head ? (
                  <span class="muted">current</span>
                ) : (
                  <button type="button" class="config-rollback danger" data-revision={r.revision}>
                    Roll back to {r.revision}…
                  </button>
                )}
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DiffBody(props: { diff: ConfigDiff }) {
  const { diff } = props;
  if (!diff.ok) {
    return (
      <p class="form-error" id="config-diff-error">
        <span aria-hidden="true">✖</span> Cannot compare {diff.from || '?'} and {diff.to || '?'}:{' '}
        <code>{diff.code}</code> {diff.message}
      </p>
    );
  }
  if (diff.changes.length === 0) {
    return (
      <p class="empty" id="config-diff-none">
        Revisions {diff.from} and {diff.to} hold the same values.
      </p>
    );
  }
  return (
    <table id="config-diff">
      <caption>
        {diff.changes.length} keys differ from revision {diff.from} to revision {diff.to}
      </caption>
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Change</th>
          <th scope="col">Revision {diff.from}</th>
          <th scope="col">Revision {diff.to}</th>
        </tr>
      </thead>
      <tbody>
        {diff.changes.map((ch) => (
          <tr>
            <th scope="row">
              <code>{ch.key}</code>
            </th>
            <td>
              {ch.before === null ? (
                <>
                  <span aria-hidden="true">+</span> added
                </>
              ) : ch.after === null ? (
                <>
                  <span aria-hidden="true">−</span> removed
                </>
              ) : (
                <>
                  <span aria-hidden="true">±</span> changed
                </>
              )}
            </td>
            <td>
              <Value v={ch.before} />
            </td>
            <td>
              <Value v={ch.after} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DiffSection(props: { model: ConfigPageModel; variety: string }) {
  const { diff, prefix } = props.model;
  const head = props.model.head.revision;
  const fromDefault = diff ? diff.from : String(Math.max(1, head - 1));
  const toDefault = diff ? diff.to : String(head);
  return (
    <section aria-labelledby="config-diff-h" class="panel">
      <h2 id="config-diff-h">Compare two revisions</h2>
      <form method="get" action={`/v/${props.variety}/config`} class="inline-form" id="config-diff-form">
        {prefix ? <input type="hidden" name="prefix" value={prefix} /> : null}
        <label for="config-diff-from">From revision</label>
        <input id="config-diff-from" name="from" type="number" min={1} step={1} value={fromDefault} required />
        <label for="config-diff-to">To revision</label>
        <input id="config-diff-to" name="to" type="number" min={1} step={1} value={toDefault} required />
        <button type="submit">Compare</button>
      </form>
      {diff ? <DiffBody diff={diff} /> : <p class="muted">Pick two revisions to see each key's before and after.</p>}
    </section>
  );
}

export function ConfigPage(props: ConfigPageProps) {
  const { ctx, model } = props;
  const v = ctx.variety;
  const { head } = model;
  return (
    <Layout
      title={`Config · ${v.toUpperCase()}`}
      ctx={ctx}
      pageData={{
        page: 'config',
        head_revision: head.revision,
        can_admin: props.isAdmin,
        ...(props.isAdmin
          ? {
              expected: Object.fromEntries(
                model.schema.map((s) => [
                  s.key,
                  `${s.expected}; applies ${s.apply}${s.unused ? `; not read yet: ${s.unused}` : ''}`,
                ]),
              ),
            }
          : {}),
      }}
    >
      <h1>Config · {v.toUpperCase()}</h1>
      <p>
        Head revision <strong id="config-head">{head.revision}</strong>, <code>config_hash</code>{' '}
        <code id="config-hash">{head.config_hash}</code>. Precedence: CLI flag &gt; config revision &gt; env &gt;
        default.
      </p>
      <p class="badge badge-warn" role="status" id="config-newer" hidden>
        <span aria-hidden="true">⚠</span> <span id="config-newer-text">A newer revision exists</span> —{' '}
        <a href={`/v/${v}/config`}>reload</a>
      </p>
      {model.saved !== null ? (
        <p class="badge" role="status" id="config-saved">
          <span aria-hidden="true">✓</span> Saved revision {model.saved}.
        </p>
      ) : null}
      {props.isAdmin ? <SetForm model={model} variety={v} /> : null}
      <section aria-labelledby="config-effective-h" class="panel">
        <h2 id="config-effective-h">Effective values</h2>
        <form method="get" action={`/v/${v}/config`} class="inline-form" aria-label="Filter keys">
          <label for="config-prefix">Key prefix</label>
          <input id="config-prefix" name="prefix" value={model.prefix} maxlength={200} placeholder="GHTRADER_L5_" />
          <button type="submit">Filter</button>
          {model.prefix ? <a href={`/v/${v}/config`}>Show all keys</a> : null}
        </form>
        <EffectiveTable model={model} variety={v} isAdmin={props.isAdmin} />
      </section>
      <section aria-labelledby="config-history-h" class="panel">
        <h2 id="config-history-h">History</h2>
        <HistoryTable model={model} variety={v} isAdmin={props.isAdmin} />
        <nav aria-label="History pages" class="pager">
          {props.firstHref ? <a href={props.firstHref}>Newest revisions</a> : null}
          {props.nextHref ? <a href={props.nextHref}>Older revisions</a> : null}
        </nav>
      </section>
      <DiffSection model={model} variety={v} />
    </Layout>
  );
}
