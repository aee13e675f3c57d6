import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { WebEnv } from '../env.ts';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.ts';

export const MAX_BODY_BYTES = 256 * 1024;
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Bodies over 256 KiB are refused (413 `payload_too_large`), by `Content-Length` or while streaming. */
export function limitBody(): MiddlewareHandler<WebEnv> {
  return bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new PayloadTooLargeError(MAX_BODY_BYTES);
    },
  });
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
