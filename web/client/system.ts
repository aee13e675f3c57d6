/**
 * System page: create an API token (shown once) and revoke tokens; the Broker accounts panel's Verify (posts
 * `/api/accounts/{profile}/verify`, links the created or deduped job), Delete (after a confirmation) and upsert form
 * (the password field is cleared after every attempt and never logged or kept).
 */
import { ApiError, api, describe, readPageData, toast } from './api.ts';

interface SubmitAnswer {
  job: { job_id: string; kind: string; status: string };
  deduped: boolean;
}

interface UpsertAnswer {
  account: { profile: string; broker_id: string | null; account_id_masked: string | null };
  created: boolean;
  password_changed: boolean;
}

function initTokens(): void {
  const form = document.getElementById('token-form') as HTMLFormElement | null;
  form?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = (document.getElementById('token-name') as HTMLInputElement).value;
    const role = (document.getElementById('token-role') as HTMLSelectElement).value;
    const days = Number((document.getElementById('token-days') as HTMLInputElement).value);
    api<{ id: string; token: string }>('POST', '/api/auth/tokens', { name, role, expires_in_days: days })
      .then((r) => {
        const out = document.getElementById('token-created');
        const value = document.getElementById('token-created-value');
        if (out && value) {
          value.textContent = r.token;
          out.hidden = false;
        }
        toast(`Token ${r.id} created.`);
      })
      .catch((err: unknown) => toast(describe(err), 'error'));
  });
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.revoke-token')) {
    button.addEventListener('click', () => {
      const id = button.dataset.tokenId;
      if (!id || !window.confirm(`Revoke token ${id}? Programs using it stop working at once.`)) return;
      api('POST', `/api/auth/tokens/${id}/revoke`, {})
        .then(() => window.location.reload())
        .catch((err: unknown) => toast(describe(err), 'error'));
    });
  }
}

/** `#account-action-result`: a line of text, optionally ending in a link to the job. */
function showResult(text: string, job?: { href: string; id: string }): void {
  const out = document.getElementById('account-action-result');
  if (!out) return;
  out.replaceChildren(document.createTextNode(text));
  if (job) {
    const link = document.createElement('a');
    link.href = job.href;
    link.textContent = job.id;
    out.append(' ', link);
  }
}

function initAccounts(): void {
  const variety = readPageData().variety ?? 'cu';
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.verify-account')) {
    button.addEventListener('click', () => {
      const profile = button.dataset.profile;
      if (!profile) return;
      button.disabled = true;
      api<SubmitAnswer>('POST', `/api/accounts/${encodeURIComponent(profile)}/verify`, {})
        .then((r) => {
          const verb = r.deduped ? 'is already running as' : 'submitted as';
          showResult(`Verification of ${profile} ${verb} job`, {
            href: `/v/${variety}/jobs/${encodeURIComponent(r.job.job_id)}`,
            id: r.job.job_id,
          });
          toast(`Verification of ${profile} ${verb} job ${r.job.job_id}.`);
        })
        .catch((err: unknown) => {
          showResult(`Verification of ${profile} not submitted: ${describe(err)}`);
          toast(describe(err), 'error');
        })
        .finally(() => {
          button.disabled = false;
        });
    });
  }
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.delete-account')) {
    button.addEventListener('click', () => {
      const profile = button.dataset.profile;
      if (!profile) return;
      const sure = window.confirm(
        `Delete the stored credentials of ${profile}? They are removed at once and cannot be recovered; the gateway of ${profile} can no longer log in with them.`,
      );
      if (!sure) return;
      button.disabled = true;
      api('POST', '/api/accounts/delete', { profile })
        .then(() => window.location.reload())
        .catch((err: unknown) => {
          showResult(`Credentials of ${profile} not deleted: ${describe(err)}`);
          toast(describe(err), 'error');
          button.disabled = false;
        });
    });
  }
  const form = document.getElementById('account-form') as HTMLFormElement | null;
  const errorEl = document.getElementById('account-form-error');
  form?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const field = (name: string) => form.querySelector<HTMLInputElement>(`input[name="${name}"]`);
    const password = field('password');
    const body = {
      profile: field('profile')?.value ?? '',
      broker_id: field('broker_id')?.value ?? '',
      account_id: field('account_id')?.value ?? '',
      password: password?.value ?? '',
    };
    // The password leaves the page once, in this request; the field does not keep it.
    if (password) password.value = '';
    for (const el of form.querySelectorAll('[aria-invalid="true"]')) el.setAttribute('aria-invalid', 'false');
    if (errorEl) errorEl.hidden = true;
    api<UpsertAnswer>('POST', '/api/accounts/upsert', body)
      .then((r) => {
        toast(
          `Account ${r.account.profile} ${r.created ? 'created' : 'updated'} (broker ${r.account.broker_id}, account ${r.account.account_id_masked}).`,
        );
        window.location.reload();
      })
      .catch((err: unknown) => {
        const issues = err instanceof ApiError ? err.details.issues : undefined;
        const first = Array.isArray(issues) ? (issues[0] as { path?: unknown } | undefined)?.path : undefined;
        const name = Array.isArray(first) && typeof first[0] === 'string' ? first[0] : null;
        const bad = name ? field(name) : null;
        bad?.setAttribute('aria-invalid', 'true');
        if (errorEl) {
          errorEl.textContent = `✖ ${describe(err)}`;
          errorEl.hidden = false;
        }
        (bad ?? password)?.focus();
      });
  });
}

export function initSystemPage(): void {
  initTokens();
  initAccounts();
}
