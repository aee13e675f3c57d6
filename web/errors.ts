/**
 * The web app's one error handler and its transport-level errors. Every failure leaves as
 * `{error:{code, message, details}}` with the error's status (API) or as an HTML page with the same status
 * (console pages). Anything that is not a `ControlError` is a bug: 500 `internal` with the request id, logged with
 * its stack.
 */
import type { Context } from 'hono';
import * as z from 'zod';
import { zodIssues } from '#shared/domain/control/validation.ts';
import { describeError } from '#shared/errors/base.ts';
import { ControlError, NotFoundError, RateLimitedError, ValidationFailedError } from '#shared/errors/control.ts';
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
  return null;
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
    log?.debug({ err: describeError(known) }, 'http.rejected');
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
