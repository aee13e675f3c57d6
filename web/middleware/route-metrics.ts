import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { RouteMetrics } from '#shared/domain/control/route-metrics.ts';
import type { AppDeps, WebEnv } from '../env.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** One `RouteMetrics` per app (keyed by its deps), shared by this middleware and `/api/observability/runtime`. */
const perApp = new WeakMap<AppDeps, RouteMetrics>();

export function routeMetricsOf(deps: AppDeps): RouteMetrics {
  let m = perApp.get(deps);
  if (!m) {
    m = new RouteMetrics({ nowMs: () => deps.clock.nowMs() });
    perApp.set(deps, m);
  }
  return m;
}

/**
 * The route template a request was answered by (control-chain §10 "Runtime"): `GET /api/jobs/:id`; console pages
 * as `PAGE /v/:var/dashboard`; a rejection by a middleware before any route (401, login redirect, guards) as
 * `<METHOD> MIDDLEWARE`, no route at all as `NOT_FOUND`. Methods outside the standard set read `OTHER`, so the
 * number of templates stays bounded whatever clients send.
 */
export function routeTemplate(c: Context<WebEnv>, status: number): string {
  const method = METHODS.has(c.req.method) ? c.req.method : 'OTHER';
  const answered = matchedRoutes(c)[c.req.routeIndex];
  if (!answered || answered.method === 'ALL') return status === 404 ? 'NOT_FOUND' : `${method} MIDDLEWARE`;
  const path = answered.path;
  if ((method === 'GET' || method === 'HEAD') && (path === '/login' || path.startsWith('/v/'))) return `PAGE ${path}`;
  return `${method} ${path}`;
}

/** Record every request's duration and status under its route template (rolling 5 × 1 min + since start). */
export function routeMetrics(deps: AppDeps): MiddlewareHandler<WebEnv> {
  const metrics = routeMetricsOf(deps);
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } catch (err) {
      // Normally `onError` has already shaped the failure; an error escaping it still counts as a 500.
      const route = routeTemplate(c, 500);
      const ms = performance.now() - started;
      metrics.record(route, ms, 500);
      deps.onRequestMetric?.(route, ms, 500);
      throw err;
    }
    const status = c.res.status;
    const route = routeTemplate(c, status);
    const ms = performance.now() - started;
    metrics.record(route, ms, status);
    deps.onRequestMetric?.(route, ms, status);
  };
}
