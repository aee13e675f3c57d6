/**
 * `GET /api/locks?prefix&limit&cursor` [viewer] (control-chain §3.2): the lease locks (job locks, source slots, trading
 * leases, supervisor and broadcaster leases) in key order, each with owner, host, pid, fencing token, times and
 * whether it has expired. Read-only; without the lock store wired it answers 503.
 */
import { Hono } from 'hono';
import { DependencyUnavailableError } from '#shared/errors/control.ts';
import { LocksService } from '#shared/services/locks-service.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { requireRole } from '../middleware/require-role.ts';

/** The lock listing over the app's lock store, signing cursors with the deployment's cursor secret; null without one. */
export function locksService(deps: Pick<AppDeps, 'locks' | 'config'>): LocksService | null {
  return deps.locks ? new LocksService({ locks: deps.locks, cursorSecret: deps.config.auth.cursorSecret }) : null;
}

export function lockRoutes(deps: AppDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const svc = locksService(deps);
  app.get('/', requireRole(deps, 'viewer'), async (c) => {
    if (!svc) throw new DependencyUnavailableError('the lock store (not wired in this process)');
    return c.json(await svc.list(c.req.query()), 200, { 'cache-control': 'no-store' });
  });
  return app;
}
