import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { WebEnv } from '../env.ts';

/**
 * CSP `default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'` (plus `base-uri 'none'`
 * and `form-action 'self'`), `nosniff`, `Referrer-Policy: same-origin`, no framing. No CORS headers are ever sent.
 * Everything but the versioned static assets is `no-store`: pages and API answers carry CSRF tokens and user data.
 */
export function securityHeaders(): MiddlewareHandler<WebEnv> {
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      objectSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
    },
    referrerPolicy: 'same-origin',
    xContentTypeOptions: 'nosniff',
    xFrameOptions: 'DENY',
    crossOriginResourcePolicy: 'same-origin',
    crossOriginOpenerPolicy: 'same-origin',
  });
  return async (c, next) => {
    await headers(c, async () => {
      await next();
      if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
    });
  };
}
