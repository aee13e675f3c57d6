/** System page: create an API token (shown once) and revoke tokens. */
import { api, describe, toast } from './api.ts';

export function initSystemPage(): void {
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
