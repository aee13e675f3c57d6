/**
 * `/v/{var}/system`: every component's state (icon + text), the warm path, job counts, the SLO by plane, the live-update
 * counters and supervisor telemetry, per-route latency, broker accounts (`accounts-panel.tsx`), lease locks, and
 * users/tokens.
 */
import type { PublicToken, PublicUser } from '#shared/domain/control/auth.ts';
import type { RouteMetricsSnapshot } from '#shared/domain/control/route-metrics.ts';
import type { SloSnapshot } from '#shared/domain/control/slo.ts';
import type { ComponentName, StatusSnapshot } from '#shared/domain/control/status.ts';
import type { LockListResult } from '#shared/services/locks-service.ts';
import type { AccountsPanelModel } from '../routes/accounts-model.ts';
import { AccountsPanel } from './accounts-panel.tsx';
import { type ChromeContext, Layout } from './layout.tsx';
import { SloSummary } from './slo-summary.tsx';
import { StateLabel } from './state-label.tsx';
import { Time } from './time-text.tsx';

const COMPONENT_LABEL: Record<ComponentName, string> = {
  dynamo: 'DynamoDB',
  sqs: 'SQS',
  redis: 'Redis (warm path)',
  runner: 'Job runner',
  tickstore: 'Tick store',
  supervisor: 'Supervisors',
  broadcaster: 'Live-update broadcaster',
};

export interface SystemPageProps {
  ctx: ChromeContext;
  slo: { snapshot: SloSnapshot | null; error: string | null };
  /** Per route template over the rolling window (`/api/observability/runtime`). */
  routes: RouteMetricsSnapshot;
  /** Null when these lists are not shown (users: admins only). */
  users: PublicUser[] | null;
  tokens: PublicToken[];
  /** The Broker accounts panel; null when this process wires no account service. */
  accounts: AccountsPanelModel | null;
  /** The first page of `GET /api/locks`, or why it is missing (null: no lock store in this process). */
  locks: { result: LockListResult | null; error: string | null } | null;
}

export function SystemPage(props: SystemPageProps) {
  const { ctx } = props;
  const s: StatusSnapshot | null = ctx.status;
  return (
    <Layout title="System" ctx={ctx} pageData={{ page: 'system' }}>
      <h1>System</h1>
      <section aria-labelledby="components-h" class="panel">
        <h2 id="components-h">Components</h2>
        {s ? (
          <>
            <p>
              Overall: <StateLabel state={s.state} /> {s.text}{' '}
              <span class="muted">
                (updated <Time iso={s.updated_at} />)
              </span>
            </p>
            <table>
              <thead>
                <tr>
                  <th scope="col">Component</th>
                  <th scope="col">State</th>
                  <th scope="col">Detail</th>
                  <th scope="col">Error</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {(Object.keys(s.components) as ComponentName[]).map((name) => {
                  const comp = s.components[name];
                  return (
                    <tr>
                      <th scope="row">{COMPONENT_LABEL[name] ?? name}</th>
                      <td>
                        <StateLabel state={comp.state} />
                        {comp.stale ? <span class="muted"> (stale)</span> : null}
                      </td>
                      <td>{comp.text}</td>
                      <td>{comp.error ? <code>{comp.error}</code> : '—'}</td>
                      <td>
                        <Time iso={comp.updated_at} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <dl class="record">
              <dt>Warm path</dt>
              <dd>
                {s.warm_path_degraded ? (
                  <>
                    <span aria-hidden="true">⚠</span> degraded ({s.warm_path_reasons.join(', ')}); the console polls
                    instead
                  </>
                ) : (
                  <>
                    <span aria-hidden="true">✓</span> healthy
                  </>
                )}
              </dd>
              <dt>Jobs running / queued</dt>
              <dd>
                {s.running_count ?? '?'} / {s.queued_count ?? '?'}
              </dd>
            </dl>
          </>
        ) : (
          <p role="alert">
            <span aria-hidden="true">✖</span> The status source did not answer; the server log has the error.
          </p>
        )}
      </section>

      <section aria-labelledby="slo-h" class="panel">
        <h2 id="slo-h">Service levels by plane</h2>
        <SloSummary slo={props.slo.snapshot} error={props.slo.error} id="system-slo" />
      </section>

      <ControlPlane slo={props.slo.snapshot} />

      <RouteLatency routes={props.routes} />

      <AccountsPanel model={props.accounts} role={ctx.user.role} variety={ctx.variety} />

      {props.locks ? <LocksPanel locks={props.locks} /> : null}

      <section aria-labelledby="tokens-h" class="panel">
        <h2 id="tokens-h">{ctx.user.role === 'admin' ? 'API tokens (all users)' : 'Your API tokens'}</h2>
        <form id="token-form" class="inline-form">
          <label for="token-name">Name</label>
          <input id="token-name" name="name" maxlength={100} required />
          <label for="token-role">Role</label>
          <select id="token-role" name="role">
            <option value="viewer">viewer</option>
            {ctx.user.role !== 'viewer' ? <option value="operator">operator</option> : null}
            {ctx.user.role === 'admin' ? <option value="admin">admin</option> : null}
          </select>
          <label for="token-days">Expires in days</label>
          <input id="token-days" name="expires_in_days" type="number" min={1} max={365} value="90" required />
          <button type="submit">Create token</button>
        </form>
        <p id="token-created" class="token-once" role="status" hidden>
          Copy this token now; it is shown once: <code id="token-created-value" />
        </p>
        {props.tokens.length === 0 ? (
          <p class="empty">No tokens.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Name</th>
                <th scope="col">Owner</th>
                <th scope="col">Role</th>
                <th scope="col">State</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {props.tokens.map((t) => (
                <tr>
                  <th scope="row">
                    <code>{t.id}</code>
                  </th>
                  <td>{t.name}</td>
                  <td>{t.owner_username}</td>
                  <td>{t.role}</td>
                  <td>{t.state}</td>
                  <td>
                    <Time iso={t.expires_at} />
                  </td>
                  <td>
                    <Time iso={t.last_used_at} />
                  </td>
                  <td>
                    {t.state === 'active' ? (
                      <button type="button" class="revoke-token danger" data-token-id={t.id}>
                        Revoke
                      </button>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      {props.users ? (
        <section aria-labelledby="users-h" class="panel">
          <h2 id="users-h">Users</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Role</th>
                <th scope="col">Disabled</th>
                <th scope="col">Created</th>
                <th scope="col">Last login</th>
              </tr>
            </thead>
            <tbody>
              {props.users.map((u) => (
                <tr>
                  <th scope="row">{u.username}</th>
                  <td>{u.role}</td>
                  <td>{u.disabled ? 'yes' : 'no'}</td>
                  <td>
                    <Time iso={u.created_at} />
                  </td>
                  <td>
                    <Time iso={u.last_login_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
    </Layout>
  );
}

/** The lease locks (`GET /api/locks`, first page): who holds what, and leases whose holder stopped renewing. */
function LocksPanel(props: { locks: { result: LockListResult | null; error: string | null } }) {
  const { result, error } = props.locks;
  return (
    <section aria-labelledby="locks-h" class="panel" id="locks-panel">
      <h2 id="locks-h">Locks</h2>
      {error || !result ? (
        <p role="alert">
          <span aria-hidden="true">✖</span> The lock store did not answer: <code>{error ?? 'no answer'}</code>
        </p>
      ) : result.items.length === 0 ? (
        <p class="empty">No lease is held.</p>
      ) : (
        <>
          <p class="muted">
            {result.items.length} lease{result.items.length === 1 ? '' : 's'}
            {result.next_cursor ? ` (the first ${result.limit}; the rest through GET /api/locks)` : ''}
            {result.expired_count > 0
              ? `; ${result.expired_count} expired (their holder stopped renewing; the next taker gets the key)`
              : ''}
          </p>
          <table>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Owner</th>
                <th scope="col">Host / pid</th>
                <th scope="col">Fencing token</th>
                <th scope="col">Acquired</th>
                <th scope="col">Expires</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {result.items.map((l) => (
                <tr>
                  <th scope="row">
                    <code>{l.key}</code>
                  </th>
                  <td>
                    <code>{l.owner}</code>
                  </td>
                  <td>
                    {l.host} / {l.pid}
                  </td>
                  <td>{l.fencing_token}</td>
                  <td>
                    <Time iso={l.acquired_at} />
                  </td>
                  <td>
                    <Time iso={l.expires_at} />
                  </td>
                  <td>
                    {l.expired ? (
                      <>
                        <span aria-hidden="true">⚠</span> expired
                      </>
                    ) : (
                      <>
                        <span aria-hidden="true">🔒</span> held
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(1));

/** The control plane's measured inputs: live-update (WebSocket) counters and the supervisors' telemetry. */
function ControlPlane(props: { slo: SloSnapshot | null }) {
  const cp = props.slo?.control_plane;
  if (!cp) return null;
  const ws = cp.ws;
  const sup = cp.supervisors;
  return (
    <>
      <section aria-labelledby="ws-h" class="panel">
        <h2 id="ws-h">Live updates (WebSocket broadcaster)</h2>
        {'available' in ws ? (
          <p>
            Not available here: {ws.reason}{' '}
            <span class="muted">
              (as of <Time iso={ws.as_of} />)
            </span>
          </p>
        ) : (
          <dl class="record" id="ws-counters">
            <dt>Connections</dt>
            <dd>{ws.connections}</dd>
            <dt>Broadcasts: attempts / successes / failures</dt>
            <dd>
              {ws.broadcast_attempt_total} / {ws.broadcast_success_total} / {ws.broadcast_failures_total}
            </dd>
            <dt>Dead clients pruned / messages dropped</dt>
            <dd>
              {ws.dead_clients_pruned_total} / {ws.dropped_total}
            </dd>
            <dt>Fan-out latency p50 / p99 (ms)</dt>
            <dd>
              {ms(ws.fanout_latency.p50_ms)} / {ms(ws.fanout_latency.p99_ms)}
            </dd>
            <dt>Last broadcast error</dt>
            <dd>
              {ws.last_broadcast_error ? (
                <>
                  <span aria-hidden="true">⚠</span> {ws.last_broadcast_error} (<Time iso={ws.last_broadcast_error_at} />
                  )
                </>
              ) : (
                'none'
              )}
            </dd>
          </dl>
        )}
      </section>
      <section aria-labelledby="sup-h" class="panel">
        <h2 id="sup-h">Supervisors</h2>
        <p>
          <StateLabel state={sup.state} /> {sup.restarts_total} restart{sup.restarts_total === 1 ? '' : 's'} in total
          {sup.crash_loop.length > 0 ? `; in crash loop: ${sup.crash_loop.join(', ')}` : ''}
          {sup.message ? <span class="muted"> — {sup.message}</span> : null}
        </p>
        {sup.hosts.length > 0 ? (
          <table id="supervisor-hosts">
            <caption>Supervisor hosts (persisted telemetry)</caption>
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Lease</th>
                <th scope="col">Last tick</th>
                <th scope="col">Tick failures</th>
              </tr>
            </thead>
            <tbody>
              {sup.hosts.map((h) => (
                <tr>
                  <th scope="row">{h.host_id}</th>
                  <td>
                    <StateLabel state={h.lease_ok ? 'ok' : 'warn'} /> {h.lease_ok ? 'held' : 'expired'}
                  </td>
                  <td>
                    <Time iso={h.last_tick_at} />
                  </td>
                  <td>{h.tick_failures_total}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </>
  );
}

/** Per-route latency over the rolling window, busiest first. */
function RouteLatency(props: { routes: RouteMetricsSnapshot }) {
  const rows = Object.entries(props.routes.routes)
    .filter(([, r]) => r.count > 0)
    .sort(([, a], [, b]) => b.count - a.count);
  return (
    <section aria-labelledby="routes-h" class="panel">
      <h2 id="routes-h">Route latency (last {Math.round(props.routes.window_s / 60)} min)</h2>
      {rows.length === 0 ? (
        <p class="muted">No requests in the window.</p>
      ) : (
        <table id="route-latency">
          <caption>
            Per route template: requests, server errors (≥ 500) and latency in milliseconds, busiest first
          </caption>
          <thead>
            <tr>
              <th scope="col">Route</th>
              <th scope="col" class="num">
                Requests
              </th>
              <th scope="col" class="num">
                Errors
              </th>
              <th scope="col" class="num">
                p50
              </th>
              <th scope="col" class="num">
                p95
              </th>
              <th scope="col" class="num">
                p99
              </th>
              <th scope="col" class="num">
                max
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([name, r]) => (
              <tr>
                <th scope="row">
                  <code>{name}</code>
                </th>
                <td class="num">{r.count}</td>
                <td class="num">{r.error_count}</td>
                <td class="num">{ms(r.p50_ms)}</td>
                <td class="num">{ms(r.p95_ms)}</td>
                <td class="num">{ms(r.p99_ms)}</td>
                <td class="num">{ms(r.max_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
