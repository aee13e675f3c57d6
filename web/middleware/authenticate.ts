import type { Context, MiddlewareHandler } from 'hono';
import { constantTimeEqual } from '#shared/domain/control/auth-secrets.ts';
import { CsrfFailedError } from '#shared/errors/control.ts';
import type { Principal } from '#shared/services/auth-service.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { requestConsoleOrigin, requestIsTls } from '../request-info.ts';
import { withAccess } from '../route-access.ts';
import { checkOrigin } from '../security/request-origin.ts';
import { readSessionCookie } from '../security/session-cookie.ts';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Login routes run before a session exists; they do their own origin check (`requireSameOrigin`). */
const CSRF_EXEMPT_PATHS = new Set(['/api/auth/login', '/api/auth/one-time']);
const BEARER_RE = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Resolve the caller: an `Authorization` header wins over the cookie (a bad bearer never falls back to the cookie).
 * Sets `principal` (or null; routes decide whether that is a 401). Cookie-authenticated unsafe requests must pass
 * the CSRF check here, before any route runs.
 */
export function authenticate(deps: Pick<AppDeps, 'auth' | 'config'>): MiddlewareHandler<WebEnv> {
  const hops = deps.config.auth.trustedProxyHops;
  return async (c, next) => {
    const authorization = c.req.header('authorization');
    let principal: Principal | null = null;
    if (authorization !== undefined) {
      const token = BEARER_RE.exec(authorization)?.[1];
      principal = token ? await deps.auth.authenticateBearer(token) : null;
    } else {
      const sessionId = readSessionCookie(c, requestIsTls(c, hops));
      if (sessionId) principal = await deps.auth.authenticateSession(sessionId);
      if (principal && UNSAFE_METHODS.has(c.req.method) && !CSRF_EXEMPT_PATHS.has(c.req.path)) {
        verifyCsrf(c, principal, hops);
      }
    }
    if (principal) {
      c.set('principal', principal);
      c.set('log', c.get('log').child({ user_id: principal.userId }));
    }
    await next();
  };
}

/** `x-csrf-token` must equal the session's token (constant time) and the request must come from the console. */
export function verifyCsrf(c: Context<WebEnv>, principal: Principal, hops: number): void {
  const expected = principal.session?.csrfToken;
  const offered = c.req.header('x-csrf-token');
  if (!expected || !offered) throw new CsrfFailedError('missing x-csrf-token header');
  if (!constantTimeEqual(offered, expected)) throw new CsrfFailedError('x-csrf-token does not match the session');
  assertSameOrigin(c, hops);
}

export function assertSameOrigin(c: Context<WebEnv>, hops: number): void {
  const verdict = checkOrigin(
    c.req.header('origin') ?? null,
    c.req.header('sec-fetch-site') ?? null,
    requestConsoleOrigin(c, hops),
  );
  if (!verdict.ok) throw new CsrfFailedError(verdict.reason);
}

/** Origin check for routes that create sessions (login, one-time login). */
export function requireSameOrigin(deps: Pick<AppDeps, 'config'>): MiddlewareHandler<WebEnv> {
  return withAccess({ role: 'same-origin' }, async (c, next) => {
    assertSameOrigin(c, deps.config.auth.trustedProxyHops);
    await next();
  });
}
