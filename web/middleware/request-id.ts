import type { MiddlewareHandler } from 'hono';
import type { AppDeps, WebEnv } from '../env.ts';

/** A caller-supplied request id is kept only when it is 8–64 characters of `[A-Za-z0-9-]`. */
export const REQUEST_ID_RE = /^[A-Za-z0-9-]{8,64}$/;

/** Adopt a valid `x-request-id` or mint a ULID; echo it in the response and put it on every log line. */
export function requestId(deps: Pick<AppDeps, 'ids' | 'log'>): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const offered = c.req.header('x-request-id');
    const id = offered && REQUEST_ID_RE.test(offered) ? offered : deps.ids.next();
    c.set('requestId', id);
    c.set('log', deps.log.child({ request_id: id }));
    c.set('principal', null);
    c.header('x-request-id', id);
    await next();
    // Error responses are built after this middleware set its header on the context; make sure they carry it too.
    if (!c.res.headers.has('x-request-id')) c.res.headers.set('x-request-id', id);
  };
}
