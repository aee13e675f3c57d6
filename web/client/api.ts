/** Browser side of the API contract: page data, JSON fetch with the CSRF header, errors, toasts. */

export interface PageData {
  page?: string;
  variety?: string;
  section?: string;
  user?: { username: string; role: string };
  csrf_token?: string | null;
  warm_path_degraded?: boolean;
  next?: string | null;
  job_id?: string;
  job_status?: string;
}

/** The server-rendered `<script type="application/json" id="page-data">` block. */
export function readPageData(): PageData {
  const el = document.getElementById('page-data');
  if (!el?.textContent) return {};
  return JSON.parse(el.textContent) as PageData;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown>,
    readonly retryAfterS: number | null,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null | undefined): void {
  csrfToken = token ?? null;
}

/** JSON request to the same origin; non-2xx answers throw `ApiError` with the server's code and message. */
export async function api<T>(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    if (csrfToken) headers['x-csrf-token'] = csrfToken;
  }
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(method === 'GET' ? {} : { body: JSON.stringify(body ?? {}) }),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const err = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown> } })?.error;
    const retry = Number(res.headers.get('retry-after'));
    throw new ApiError(
      res.status,
      err?.code ?? 'http_error',
      err?.message ?? `HTTP ${res.status}`,
      err?.details ?? {},
      Number.isFinite(retry) && retry > 0 ? retry : null,
    );
  }
  return parsed as T;
}

/** An `aria-live` toast that disappears after a few seconds. */
export function toast(message: string, kind: 'info' | 'error' = 'info'): void {
  const region = document.getElementById('toasts');
  if (!region) return;
  const el = document.createElement('div');
  el.className = kind === 'error' ? 'toast toast-error' : 'toast';
  el.textContent = message;
  region.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

export function describe(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

/** The session ended (401, or the socket closed 4401): go to the login page, coming back here afterwards. */
export function toLogin(): void {
  window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
}

/** Same-site return path only (`/x`, never `//host`). */
export function safeNext(next: string | null | undefined): string | null {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null;
  return next;
}
