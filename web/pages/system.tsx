/** `/v/{var}/system`: every component's state (icon + text), the warm path, job counts, and users/tokens. */
import type { PublicToken, PublicUser } from '#shared/domain/control/auth.ts';
import type { ComponentName, StatusSnapshot } from '#shared/domain/control/status.ts';
import { type ChromeContext, Layout } from './layout.tsx';
import { StateLabel } from './state-label.tsx';
import { Time } from './time-text.tsx';

const COMPONENT_LABEL: Record<ComponentName, string> = {
  dynamo: 'DynamoDB',
  sqs: 'SQS',
  redis: 'Redis (warm path)',
  runner: 'Job runner',
};

export interface SystemPageProps {
  ctx: ChromeContext;
  /** Null when these lists are not shown (users: admins only). */
  users: PublicUser[] | null;
  tokens: PublicToken[];
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
