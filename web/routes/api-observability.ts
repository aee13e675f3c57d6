/** `/api/observability/*` (control-chain §10): the realtime broadcaster's counters (`/ws`). */
import { Hono } from 'hono';
import { DependencyUnavailableError } from '#shared/errors/control.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { requireRole } from '../middleware/require-role.ts';

export function observabilityRoutes(deps: AppDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.get('/ws', requireRole(deps, 'viewer'), (c) => {
    if (!deps.realtime) throw new DependencyUnavailableError('the realtime hub (this process serves no WebSocket)');
    return c.json({ ...deps.realtime.hub.stats(), as_of: new Date(deps.clock.nowMs()).toISOString() });
  });
  return app;
}
