/**
 * The System page's "Broker accounts" panel (control-chain §2, §8): one row per known profile — where its credentials
 * come from (icon and text), broker, masked account id, last verification (time, outcome, job), gateway status — for
 * everyone who can see the page. Operators get a Verify button per configured account (it posts
 * `/api/accounts/{profile}/verify` and links the job); admins get the upsert form (password `type=password`,
 * `autocomplete=new-password`) and a Delete button per stored secret (confirmed first). Actions a role may not take
 * are not rendered. `client/system.ts` drives the buttons and the form.
 */
import type { CredentialSource } from '#shared/domain/control/accounts.ts';
import type { Role } from '#shared/domain/control/roles.ts';
import { roleAtLeast } from '#shared/domain/control/roles.ts';
import type { AccountSummary } from '#shared/services/account-service.ts';
import type { AccountsPanelModel } from '../routes/accounts-model.ts';
import { Time } from './time-text.tsx';
import { COMPONENT_STATUS_LABEL } from './trading.tsx';

const SOURCE_TEXT: Record<CredentialSource, string> = {
  secret_store: 'secret store',
  env: 'environment',
  none: 'none',
};

function Credentials(props: { a: AccountSummary }) {
  const { a } = props;
  if (a.configured) {
    return (
      <span class="state state-ok" data-credentials="configured">
        <span aria-hidden="true">✓</span> Configured ({SOURCE_TEXT[a.source]})
      </span>
    );
  }
  if (a.source === 'env') {
    return (
      <>
        <span class="state state-warn" data-credentials="incomplete">
          <span aria-hidden="true">⚠</span> Incomplete (environment)
        </span>{' '}
        <span class="muted">missing {a.missing.join(', ')}</span>
      </>
    );
  }
  return (
    <span class="state state-empty" data-credentials="none">
      <span aria-hidden="true">○</span> Not configured
    </span>
  );
}

function LastVerify(props: { a: AccountSummary; variety: string }) {
  const v = props.a.last_verify;
  if (!v) return <span class="muted">never</span>;
  return (
    <>
      {v.ok ? (
        <span class="state state-ok">
          <span aria-hidden="true">✓</span> Logged in
        </span>
      ) : (
        <span class="state state-error">
          <span aria-hidden="true">✖</span> Not verified
        </span>
      )}{' '}
      <Time iso={v.verified_at} />
      {v.error ? <div class="muted">{v.error}</div> : null}
      {v.job_id ? (
        <div>
          <a href={`/v/${props.variety}/jobs/${encodeURIComponent(v.job_id)}`}>job {v.job_id}</a>
        </div>
      ) : (
        <div class="muted">from the command line</div>
      )}
    </>
  );
}

function Gateway(props: { a: AccountSummary }) {
  const g = props.a.gateway;
  const s = COMPONENT_STATUS_LABEL[g.component_status];
  return (
    <>
      <span class={`state state-${s.tone}`} data-component-status={g.component_status}>
        <span aria-hidden="true">{s.icon}</span> {s.text}
      </span>
      {g.desired_mode ? <span class="muted"> (desired {g.desired_mode})</span> : null}
      {g.stale ? <span class="muted"> (stale)</span> : null}
    </>
  );
}

export function AccountsPanel(props: { model: AccountsPanelModel | null; role: Role; variety: string }) {
  const { model, role } = props;
  const canVerify = roleAtLeast(role, 'operator');
  const isAdmin = role === 'admin';
  return (
    <section aria-labelledby="accounts-h" class="panel" id="accounts-panel">
      <h2 id="accounts-h">Broker accounts</h2>
      <p class="muted" id="accounts-help">
        Credentials come from the secret store first, then the environment (<code>TQ_BROKER_ID</code>,{' '}
        <code>TQ_ACCOUNT_ID</code>, <code>TQ_ACCOUNT_PASSWORD</code>, suffixed <code>_&lt;PROFILE&gt;</code> for
        profiles other than default). Passwords are write-only; account ids are shown masked.
      </p>
      {!model?.available ? (
        <p role="alert" id="accounts-unavailable">
          <span aria-hidden="true">✖</span>{' '}
          {model ? model.message : 'The account service is not wired in this process.'}
        </p>
      ) : (
        <>
          <table id="accounts-table">
            <caption>Account profiles: credentials, last verification and gateway</caption>
            <thead>
              <tr>
                <th scope="col">Profile</th>
                <th scope="col">Credentials</th>
                <th scope="col">Broker</th>
                <th scope="col">Account</th>
                <th scope="col">Last verify</th>
                <th scope="col">Gateway</th>
                {canVerify || isAdmin ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {model.items.map((a) => (
                <tr data-profile={a.profile}>
                  <th scope="row">
                    <code>{a.profile}</code>
                  </th>
                  <td>
                    <Credentials a={a} />
                  </td>
                  <td>{a.broker_id ?? '—'}</td>
                  <td>
                    <code>{a.account_id_masked ?? '—'}</code>
                  </td>
                  <td>
                    <LastVerify a={a} variety={props.variety} />
                  </td>
                  <td>
                    <Gateway a={a} />
                  </td>
                  {canVerify || isAdmin ? (
                    <td>
                      {canVerify && a.configured ? (
                        <button type="button" class="verify-account" data-profile={a.profile}>
                          Verify <span class="visually-hidden">{a.profile}</span>
                        </button>
                      ) : null}{' '}
                      {isAdmin && a.source === 'secret_store' ? (
                        <button type="button" class="delete-account danger" data-profile={a.profile}>
                          Delete <span class="visually-hidden">{a.profile}</span>
                        </button>
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
          {model.truncated ? <p class="muted">More profiles exist than are listed here.</p> : null}
          <p id="account-action-result" role="status" />
          {isAdmin ? (
            <>
              <h3 id="account-form-h">Add or replace an account</h3>
              <form id="account-form" class="inline-form" aria-labelledby="account-form-h">
                <label for="account-profile">Profile</label>
                <input id="account-profile" name="profile" required maxlength={200} autocomplete="off" />
                <label for="account-broker">Broker id</label>
                <input
                  id="account-broker"
                  name="broker_id"
                  required
                  maxlength={64}
                  autocomplete="off"
                  list="account-brokers"
                />
                <datalist id="account-brokers">
                  {model.brokers.map((b) => (
                    <option value={b.broker_id} label={`${b.broker_id} (${b.source.replace('_', ' ')})`} />
                  ))}
                </datalist>
                <label for="account-id">Account id</label>
                <input
                  id="account-id"
                  name="account_id"
                  required
                  maxlength={64}
                  autocomplete="off"
                  spellcheck={false}
                />
                <label for="account-password">Password</label>
                <input
                  id="account-password"
                  name="password"
                  type="password"
                  required
                  maxlength={256}
                  autocomplete="new-password"
                />
                <button type="submit">Save account</button>
              </form>
              <p class="form-error" id="account-form-error" role="alert" hidden />
            </>
          ) : null}
        </>
      )}
    </section>
  );
}
