/**
 * `ghtrader --api URL` (control-chain §11): the CLI's client of the HTTP API, for a deployment the caller has no store
 * credentials for. Bearer `GHTRADER_API_TOKEN` (never printed, never in a URL), JSON bodies, one timeout per request.
 * The API's error body `{error:{code, message, details}}` becomes the same `ControlError` the service would have thrown
 * in the direct mode, so `reportError` prints it and exits exactly as it does there (4xx except 409 -> 2, else 1); an
 * answer that is not one of ours, a timeout or an unreachable host exits 1 naming the URL and the status.
 */
import type { Command } from 'commander';
import * as z from 'zod';
import { parseApiToken } from '#shared/domain/control/auth-secrets.ts';
import { GhtraderError } from '#shared/errors/base.ts';
import { ControlError, type HttpStatus } from '#shared/errors/control.ts';
import { CliUsageError } from './cli-support.ts';

export const API_TOKEN_ENV = 'GHTRADER_API_TOKEN';
/** How long one API request may take, answer body included. */
export const API_TIMEOUT_MS = 30_000;

/** The API could not be asked or did not answer as the ghtrader API does: exit 1 (a failure, not bad input). */
export class ApiRequestError extends GhtraderError {
  readonly area = 'cli';
}

const ApiBaseSchema = z
  .url({ protocol: /^https?$/, error: 'expected an http or https URL, e.g. https://console.example.com' })
  .transform((s) => new URL(s))
  .refine((u) => u.username === '' && u.password === '', {
    error: 'the URL must not carry credentials; the token comes from GHTRADER_API_TOKEN',
  })
  .refine((u) => u.search === '' && u.hash === '', { error: 'the URL must not have a query or fragment' })
  .transform((u) => `${u.origin}${u.pathname.replace(/\/+$/, '')}`);

/** `--api` value as a base URL without a trailing slash (a path prefix is kept); bad input exits 2. */
export function apiBaseUrl(value: string): string {
  const r = ApiBaseSchema.safeParse(value.trim());
  if (!r.success) {
    // A value with `@` may hold a password: it is not echoed.
    const got = value.includes('@') ? '' : `, got ${JSON.stringify(value)}`;
    throw new CliUsageError(`--api: ${r.error.issues[0]?.message ?? 'invalid URL'}${got}`);
  }
  return r.data;
}

/** The bearer from `GHTRADER_API_TOKEN`; missing or not shaped like an API token exits 2 (the value is never shown). */
export function apiTokenFromEnv(env: Record<string, string | undefined> = process.env): string {
  const token = env[API_TOKEN_ENV]?.trim() ?? '';
  if (token === '') {
    throw new CliUsageError(
      `--api needs an API token in ${API_TOKEN_ENV} (create one on the console or with \`ghtrader tokens create\`)`,
    );
  }
  if (!parseApiToken(token))
    throw new CliUsageError(`${API_TOKEN_ENV} is not an API token (expected ght_<id>_<secret>)`);
  return token;
}

const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string().min(1),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export type Query = Record<string, string | readonly string[] | undefined>;

export class ApiClient {
  constructor(
    /** Base URL without a trailing slash (`apiBaseUrl`). */
    readonly base: string,
    private readonly token: string,
    private readonly timeoutMs = API_TIMEOUT_MS,
  ) {}

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>('GET', path, query, undefined);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, {}, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, {}, body);
  }

  private async request<T>(method: 'GET' | 'POST' | 'PATCH', path: string, query: Query, body: unknown): Promise<T> {
    const url = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      for (const one of typeof v === 'string' ? [v] : v) url.searchParams.append(k, one);
    }
    // What error messages show: no query string (nothing secret is in it, but it is noise) and never the token.
    const shown = `${method} ${url.origin}${url.pathname}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let status: number;
    let text: string;
    let location: string | null;
    try {
      const res = await fetch(url, {
        method,
        headers,
        // A redirect would send the bearer on to another address: refused, the user names the right one.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      status = res.status;
      location = res.headers.get('location');
      text = await res.text();
    } catch (err) {
      throw this.transportError(err, shown, url);
    }
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (status >= 200 && status < 300) {
      if (json === undefined) {
        throw new ApiRequestError('api_bad_answer', `${shown} answered HTTP ${status} without a JSON body`, {
          details: { url: url.href, status },
        });
      }
      return json as T;
    }
    if (status >= 300 && status < 400) {
      throw new ApiRequestError(
        'api_redirect',
        `${shown} answered HTTP ${status} (redirect to ${location ?? 'nowhere'}); give --api the address the API answers on`,
        { details: { url: url.href, status, location } },
      );
    }
    const e = ErrorBodySchema.safeParse(json);
    if (e.success) {
      const { code, message, details = {} } = e.data.error;
      // 4xx: the service's own error, word for word (exit 2, or 1 for a 409 conflict). 5xx: a failure (exit 1)
      // naming where it happened.
      const msg = status >= 500 ? `${message} (${shown}: HTTP ${status})` : message;
      throw new ControlError(code, status as HttpStatus, msg, { details });
    }
    throw new ApiRequestError(
      'api_failed',
      `${shown} answered HTTP ${status}, not a ghtrader API answer${text ? `: ${oneLine(text)}` : ''}`,
      { details: { url: url.href, status } },
    );
  }

  private transportError(err: unknown, shown: string, url: URL): ApiRequestError {
    const e = err as { name?: string; cause?: { code?: string; message?: string } } | null;
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
      return new ApiRequestError('api_timeout', `${shown}: no answer within ${this.timeoutMs / 1000} s`, {
        details: { url: url.href, timeout_ms: this.timeoutMs },
        cause: err,
      });
    }
    const why = e?.cause?.code ?? e?.cause?.message ?? (err instanceof Error ? err.message : String(err));
    return new ApiRequestError('api_unreachable', `${shown}: cannot reach the API (${why})`, {
      details: { url: url.href, error: why },
      cause: err,
    });
  }
}

function oneLine(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}

/** The client for `--api URL` with the token from the environment; a bad URL or token exits 2. */
export function apiClient(url: string, env: Record<string, string | undefined> = process.env): ApiClient {
  return new ApiClient(apiBaseUrl(url), apiTokenFromEnv(env));
}

/** `encodeURIComponent` for a path segment (job ids, revisions). */
export const seg = (s: string | number): string => encodeURIComponent(String(s));

const API_COMMANDS = new WeakSet<Command>();

/** Mark commands that also work through the HTTP API (`--api`); every other command refuses `--api`. */
export function allowApi(...commands: Command[]): void {
  for (const c of commands) API_COMMANDS.add(c);
}

export function supportsApi(command: Command): boolean {
  return API_COMMANDS.has(command);
}

/** `jobs submit`, `config get`: the command's words below the program. */
export function commandPath(command: Command): string {
  const words: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}

/**
 * The program's `preAction` check for `--api`: a command that needs the store credentials exits 2 naming itself; the
 * URL and the token are checked here too, so bad input never starts the command.
 */
export function checkApiCommand(command: Command, url: string | undefined): void {
  if (url === undefined) return;
  if (!supportsApi(command)) {
    throw new CliUsageError(`${commandPath(command)} is not available with --api (it needs the store credentials)`);
  }
  apiClient(url);
}
