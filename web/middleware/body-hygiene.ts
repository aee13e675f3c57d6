import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { WebEnv } from '../env.ts';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.ts';

export const MAX_BODY_BYTES = 256 * 1024;
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Methods a Fetch `Request` never carries a body for (its constructor refuses one). */
const BODILESS_METHODS = new Set(['GET', 'HEAD']);

/**
 * Bodies over 256 KiB are refused (413 `payload_too_large`), by `Content-Length` or while streaming.
 *
 * GET and HEAD skip the check: their `Request.body` is always null, and asking for it is what makes
 * `@hono/node-server` build the full undici `Request` (with an `AbortController` and a finalizer) that its lightweight
 * request otherwise avoids, which costs every read of the API and the pages an allocation-heavy object that outlives
 * the young generation.
 */
export function limitBody(): MiddlewareHandler<WebEnv> {
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new PayloadTooLargeError(MAX_BODY_BYTES);
    },
  });
  return (c, next) => (BODILESS_METHODS.has(c.req.method) ? next() : limit(c, next));
}

/**
 * Writes accept only `application/json` (415 otherwise), so no HTML form can post to the API cross-site: forms can
 * only send urlencoded, multipart or text/plain bodies.
 */
export function jsonOnlyWrites(): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    if (WRITE_METHODS.has(c.req.method)) {
      const type = c.req.header('content-type') ?? null;
      const media = type?.split(';')[0]?.trim().toLowerCase();
      if (media !== 'application/json') throw new UnsupportedMediaTypeError(type);
    }
    await next();
  };
}
