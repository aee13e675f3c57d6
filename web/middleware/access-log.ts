import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { WebEnv } from '../env.ts';

/**
 * One `http.request` line per request: request id, method, route template, path (never the query string, which
 * may carry a credential that the query guard rejected), status, duration and user. 5xx lines are `error`.
 */
export function accessLog(): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    // The handler that answered is the last one dispatched; a middleware (method ALL) answering means a rejection
    // before routing (or no route at all).
    const answered = matchedRoutes(c)[c.req.routeIndex];
    const route = answered && answered.method !== 'ALL' ? answered.path : status === 404 ? 'NOT_FOUND' : 'MIDDLEWARE';
    const line = {
      method: c.req.method,
      route,
      path: c.req.path,
      status,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
      user_id: c.get('principal')?.userId,
    };
    if (status >= 500) c.get('log').error(line, 'http.request');
    else c.get('log').info(line, 'http.request');
  };
}
