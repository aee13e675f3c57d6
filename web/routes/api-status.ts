/** `GET /health` (no auth, no store access) and `GET /api/status` [viewer]. */
import { Hono } from 'hono';
import type { AppDeps, WebEnv } from '../env.ts';
import { requireRole } from '../middleware/require-role.ts';
import { withAccess } from '../route-access.ts';

export function healthRoutes(): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.get(
    '/health',
    withAccess({ role: 'public' }, async (c) => c.json({ ok: true })),
  );
  return app;
}

export function statusRoutes(deps: AppDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.get('/', requireRole(deps, 'viewer'), async (c) => c.json(await deps.status.snapshot()));
  return app;
}
