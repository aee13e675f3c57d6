/**
 * The web app's one error handler and its transport-level errors. Every failure leaves as
 * `{error:{code, message, details}}` with the error's status (API) or as an HTML page with the same status
 * (console pages). A store outage (AWS SDK timeout, throttling, 5xx, refused connection) is 503
 * `dependency_unavailable`; anything else that is not a `ControlError` is a bug: 500 `internal` with the request id,
 * logged with its stack.
 */
import type { Context } from 'hono';
import * as z from 'zod';
import { zodIssues } from '#shared/domain/control/validation.ts';
import { describeError } from '#shared/errors/base.ts';
import {
  ControlError,
  DependencyUnavailableError,
  NotFoundError,
  RateLimitedError,
  ValidationFailedError,
} from '#shared/errors/control.ts';
import type { WebEnv } from './env.ts';
import { ErrorPage } from './pages/error-page.tsx';

export class PayloadTooLargeError extends ControlError {
  constructor(limitBytes: number) {
    super('payload_too_large', 413, `request body exceeds ${limitBytes} bytes`, {
      details: { limit_bytes: limitBytes },
    });
  }
}

export class UnsupportedMediaTypeError extends ControlError {
  constructor(found: string | null) {
    super('unsupported_media_type', 415, `writes accept only application/json; found ${found ?? 'no content type'}`, {
      details: { expected: 'application/json', found },
    });
  }
}

export class TokenInQueryError extends ControlError {
  constructor(keys: string[]) {
    super(
      'token_in_query',
      400,
      `credentials must not be sent in the query string (found ${keys.join(', ')}); use the Authorization header`,
      {
        details: { keys },
      },
    );
  }
}

/** API paths answer JSON; everything else is a console page and answers HTML. */
export function isApiPath(path: string): boolean {
  return path === '/health' || path === '/api' || path.startsWith('/api/');
}

export interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

function toControlError(err: unknown): ControlError | null {
  if (err instanceof ControlError) return err;
  if (err instanceof z.ZodError) {
    return new ValidationFailedError('request does not match the schema', zodIssues(err));
  }
  return storeOutage(err);
}

const TRANSIENT_AWS_ERRORS = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalServerError',
]);
const TRANSIENT_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);

/**
 * A store that did not answer (an AWS SDK timeout, throttling, a 5xx, a refused or reset connection) is an outage the
 * client may retry: 503 `dependency_unavailable`, not a 500 bug. The cause stays in the log.
 */
export function storeOutage(err: unknown): DependencyUnavailableError | null {
  const e = err as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  if (typeof e !== 'object' || e === null) return null;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const transient =
    TRANSIENT_AWS_ERRORS.has(name) || TRANSIENT_SOCKET_CODES.has(code) || (status !== undefined && status >= 500);
  if (!transient) return null;
  return new DependencyUnavailableError(`a store (${name || code || `HTTP ${status}`})`, {
    cause: err,
    details: { error: name || code, ...(status === undefined ? {} : { http_status: status }) },
  });
}

/** `app.onError`: maps a thrown value to the response. */
export function handleError(err: unknown, c: Context<WebEnv>): Response | Promise<Response> {
  const known = toControlError(err);
  const requestId = c.get('requestId') ?? null;
  const log = c.get('log');
  let status: number;
  let body: ErrorBody;
  if (known) {
    status = known.status;
    body = { error: { code: known.code, message: known.message, details: known.details } };
    if (known instanceof RateLimitedError) c.header('Retry-After', String(known.retryAfterS));
    if (known instanceof DependencyUnavailableError)
      log?.warn({ err: describeError(known) }, 'http.dependency_unavailable');
    else log?.debug({ err: describeError(known) }, 'http.rejected');
  } else {
    status = 500;
    body = {
      error: {
        code: 'internal',
        message: 'internal error; this is a bug, please report the request id',
        details: { request_id: requestId },
      },
    };
    log?.error({ err: describeError(err) }, 'http.internal_error');
  }
  if (isApiPath(c.req.path)) return c.json(body, status as 400);
  return c.html(ErrorPage({ status, code: body.error.code, message: body.error.message, requestId }), status as 400);
}

/** `app.notFound`: JSON for the API, a page otherwise. */
export function handleNotFound(c: Context<WebEnv>): Response | Promise<Response> {
  return handleError(new NotFoundError('route', `${c.req.method} ${c.req.path}`), c);
}
