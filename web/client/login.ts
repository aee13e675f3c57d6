/** `/login`: password form and `#otp=` one-time links (the fragment is cleared before anything else happens). */
import { ApiError, api, type PageData, safeNext } from './api.ts';

const OTP_RE = /^#otp=([A-Za-z0-9_-]{20,200})$/;

function showError(message: string): void {
  const el = document.getElementById('login-error');
  if (!el) return;
  el.textContent = message;
  el.hidden = false;
}

function failureText(err: unknown): string {
  if (err instanceof ApiError && err.status === 429) {
    const s = err.retryAfterS ?? Number(err.details.retry_after_s ?? 0);
    const wait = s >= 120 ? `${Math.ceil(s / 60)} minutes` : `${s} seconds`;
    return `Too many attempts. Try again in ${wait}.`;
  }
  if (err instanceof ApiError && err.status === 401) return 'Invalid username or password.';
  if (err instanceof ApiError && err.code === 'csrf_failed')
    return 'Open the console from its own address and try again.';
  return 'Login failed; try again shortly.';
}

export function initLogin(data: PageData): void {
  const target = safeNext(data.next) ?? '/v/cu/dashboard';
  const otp = OTP_RE.exec(window.location.hash);
  if (window.location.hash.startsWith('#otp=')) {
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  if (otp?.[1]) {
    const status = document.getElementById('otp-status');
    if (status) {
      status.textContent = 'Signing in with the one-time link…';
      status.hidden = false;
    }
    api('POST', '/api/auth/one-time', { token: otp[1] })
      .then(() => window.location.assign(target))
      .catch((err: unknown) => {
        if (status) status.hidden = true;
        showError(
          err instanceof ApiError && err.status === 401
            ? 'This one-time link is invalid, expired or already used. Ask an admin for a new one.'
            : failureText(err),
        );
      });
  }

  const form = document.getElementById('login-form') as HTMLFormElement | null;
  form?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const username = (document.getElementById('login-username') as HTMLInputElement).value;
    const passwordInput = document.getElementById('login-password') as HTMLInputElement;
    const button = form.querySelector('button');
    if (button) button.disabled = true;
    api('POST', '/api/auth/login', { username, password: passwordInput.value })
      .then(() => window.location.assign(target))
      .catch((err: unknown) => {
        passwordInput.value = '';
        showError(failureText(err));
        passwordInput.focus();
      })
      .finally(() => {
        if (button) button.disabled = false;
      });
  });
}
