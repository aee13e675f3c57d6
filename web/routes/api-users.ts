/** `/api/users` [admin]: create, list (index query), and set role / disable. */
import { Hono } from 'hono';
import { callerOf } from '#shared/services/auth-service.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { requireRole } from '../middleware/require-role.ts';
import { readJson } from '../request-body.ts';
import { authMeta, principalOf } from '../request-info.ts';

export function userRoutes(deps: AppDeps): Hono<WebEnv> {
  const hops = deps.config.auth.trustedProxyHops;
  const app = new Hono<WebEnv>();

  app.post('/', requireRole(deps, 'admin', 'user.create'), async (c) => {
    const user = await deps.auth.createUser(callerOf(principalOf(c), authMeta(c, hops)), await readJson(c));
    return c.json({ user }, 201);
  });

  app.get('/', requireRole(deps, 'admin'), async (c) =>
    c.json(await deps.auth.listUsers(callerOf(principalOf(c), authMeta(c, hops)), c.req.query())),
  );

  app.patch('/:id', requireRole(deps, 'admin', 'user.update'), async (c) => {
    const user = await deps.auth.updateUser(
      callerOf(principalOf(c), authMeta(c, hops)),
      c.req.param('id'),
      await readJson(c),
    );
    return c.json({ user });
  });

  return app;
}
