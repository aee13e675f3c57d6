/**
 * The ghtrader web app: JSON API, console pages and static client, as one hono app. `ghtrader up` serves it with
 * @hono/node-server; the HTTP API Lambda wraps the same app; tests call `app.request()`.
 *
 * Request pipeline (in order): request id -> route metrics -> access log -> security headers -> credentials-in-query
 * guard -> body limit -> JSON-only writes -> `/health` and `/static/*` (no identity, no store access) -> authenticate
 * (+ CSRF for cookie writes) -> routes with their minimum role. One error handler shapes every failure.
 *
 * @example
 * ```ts
 * const app = createApp({ config, jobs, status, auth, audit, log, clock, ids, staticDir: 'dist/web/static' });
 * serve({ fetch: app.fetch, port: 8000, hostname: '127.0.0.1' });
 * ```
 */
import { Hono } from 'hono';
import type { AppDeps, WebEnv } from './env.ts';
import { handleError, handleNotFound } from './errors.ts';
import { withHotCache } from './hot-reads.ts';
import { accessLog } from './middleware/access-log.ts';
import { authenticate } from './middleware/authenticate.ts';
import { jsonOnlyWrites, limitBody } from './middleware/body-hygiene.ts';
import { requireOriginSecret } from './middleware/origin-secret.ts';
import { rejectTokensInQuery } from './middleware/query-tokens.ts';
import { requestId } from './middleware/request-id.ts';
import { routeMetrics } from './middleware/route-metrics.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { wsRoutes } from './realtime/ws-route.ts';
import { accountRoutes } from './routes/api-accounts.ts';
import { auditRoutes } from './routes/api-audit.ts';
import { authRoutes } from './routes/api-auth.ts';
import { commandRoutes } from './routes/api-commands.ts';
import { configRoutes } from './routes/api-config.ts';
import { consoleStatusRoutes } from './routes/api-console-status.ts';
import { dataRoutes } from './routes/api-data.ts';
import { desiredRoutes } from './routes/api-desired.ts';
import { explorerRoutes } from './routes/api-explorer.ts';
import { jobRoutes } from './routes/api-jobs.ts';
import { lockRoutes } from './routes/api-locks.ts';
import { marketRoutes } from './routes/api-market.ts';
import { observabilityRoutes } from './routes/api-observability.ts';
import { healthRoutes, statusRoutes } from './routes/api-status.ts';
import { userRoutes } from './routes/api-users.ts';
import { pageRoutes } from './routes/pages.tsx';
import { staticRoutes } from './routes/static.ts';
import { StaticAssets } from './static-assets.ts';

export type { AppDeps } from './env.ts';

export function createApp(given: AppDeps): Hono<WebEnv> {
  const deps = withHotCache(given);
  const app = new Hono<WebEnv>();
  const assets = new StaticAssets(deps.staticDir);

  app.use('*', requestId(deps));
  app.use('*', routeMetrics(deps));
  app.use('*', accessLog());
  app.use('*', securityHeaders());
  // Behind CloudFront only: refused before anything reads identity, body or store.
  app.use('*', requireOriginSecret(deps));
  app.use('*', rejectTokensInQuery());
  app.use('*', limitBody());
  app.use('*', jsonOnlyWrites());

  // Registered before `authenticate`: these answer without reading any identity or store.
  app.route('/', healthRoutes());
  app.route('/static', staticRoutes(assets));

  app.use('*', authenticate(deps));
  app.route('/api/status', statusRoutes(deps));
  app.route('/api/auth', authRoutes(deps));
  app.route('/api/users', userRoutes(deps));
  app.route('/api/jobs', jobRoutes(deps));
  app.route('/api/market', marketRoutes(deps));
  app.route('/api/data', dataRoutes(deps));
  app.route('/api/config', configRoutes(deps));
  app.route('/api/explorer', explorerRoutes(deps));
  app.route('/api/audit', auditRoutes(deps));
  app.route('/api/locks', lockRoutes(deps));
  app.route('/api/observability', observabilityRoutes(deps));
  app.route('/api', desiredRoutes(deps));
  app.route('/api', accountRoutes(deps));
  app.route('/api', commandRoutes(deps));
  app.route('/api', consoleStatusRoutes(deps));
  app.route('/ws', wsRoutes(deps));
  app.route('/', pageRoutes(deps, assets));

  app.notFound(handleNotFound);
  app.onError(handleError);
  return app;
}
