/**
 * HTTP for the auth, name and files services (market-protocol §1.2): every call has a timeout (10 s default);
 * network errors and 5xx are retried 3 times with backoff; 4xx is never retried. Headers always carry the
 * User-Agent and `Accept: application/json`, plus the bearer token when the caller has one. URLs passed here never
 * hold a token, and errors quote the URL without its query string.
 */
import { DiffHttpError } from '#shared/errors/diff.ts';
import { USER_AGENT } from './config.ts';
import { parseDiffJson } from './json.ts';

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'PUT';
  url: string;
  /** Bearer token; never placed in the URL. */
  token?: string | undefined;
  /** Form fields, sent as `application/x-www-form-urlencoded`. */
  form?: Record<string, string>;
  timeoutMs: number;
  /** Extra attempts after the first on network errors and 5xx (default 3). */
  retries?: number;
  /** Delay before retry n (1-based) in ms; default 200 · 2^(n−1). */
  retryDelayMs?: (attempt: number) => number;
}

export interface HttpResponse {
  status: number;
  body: unknown;
  text: string;
}

function safeUrl(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : `${url.slice(0, i)}?…`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One HTTP call with the retry policy. Resolves with any status < 500 (the caller decides about 4xx, e.g. 401 →
 * refresh); rejects `DiffHttpError` when every attempt failed with a network error or a 5xx.
 */
export async function httpJson(req: HttpRequest): Promise<HttpResponse> {
  const retries = req.retries ?? 3;
  const delay = req.retryDelayMs ?? ((n: number) => 200 * 2 ** (n - 1));
  const headers: Record<string, string> = { 'User-Agent': USER_AGENT, Accept: 'application/json' };
  if (req.token !== undefined) headers.Authorization = `Bearer ${req.token}`;
  let body: string | undefined;
  if (req.form !== undefined) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(req.form).toString();
  }
  let lastError: unknown;
  let lastStatus: number | undefined;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await sleep(delay(attempt));
    try {
      const res = await fetch(req.url, {
        method: req.method ?? 'GET',
        headers,
        body,
        signal: AbortSignal.timeout(req.timeoutMs),
        redirect: 'follow',
      });
      const text = await res.text();
      if (res.status >= 500) {
        lastStatus = res.status;
        lastError = new Error(`HTTP ${res.status}`);
        continue;
      }
      let parsed: unknown = null;
      if (text.trim() !== '') {
        try {
          parsed = parseDiffJson(text);
        } catch {
          parsed = null;
        }
      }
      return { status: res.status, body: parsed, text };
    } catch (err) {
      lastError = err;
      lastStatus = undefined;
    }
  }
  throw new DiffHttpError(
    `${req.method ?? 'GET'} ${safeUrl(req.url)} failed after ${retries + 1} attempts: ${
      lastStatus !== undefined ? `HTTP ${lastStatus}` : (lastError as Error)?.message
    }`,
    lastStatus,
    { cause: lastError },
  );
}
