/**
 * `GET /api/locks?prefix&limit&cursor` [viewer] (control-chain §3.2): the lease locks (job locks, source slots, trading
 * leases, supervisor and broadcaster leases) in key order, each with owner, host, pid, fencing token, times and
 * whether it has expired. Read-only; without the lock store wired it answers 503.
 */
import { Hono } from 'hono';
import { describeError } from '#shared/errors/base.ts';
import { ControlError, DependencyUnavailableError } from '#shared/errors/control.ts';
import type { Logger } from '#shared/log.ts';
import { type LockListResult, LocksService } from '#shared/services/locks-service.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import type { HotDeps } from '../hot-reads.ts';
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

/**
 * The System page's Locks panel: the first page, through the hot cache (≤ 1 s; leases have no event). Null without a
 * lock store; a store outage is shown in the panel (the page still renders), any other error is a bug and propagates.
 */
export async function loadLocksPanel(
  deps: HotDeps,
  log: Logger,
): Promise<{ result: LockListResult | null; error: string | null } | null> {
  const svc = locksService(deps);
  if (!svc) return null;
  try {
    return { result: await deps.hot.get('locks:first-page', [], () => svc.list({})), error: null };
  } catch (err) {
    if (!(err instanceof ControlError)) throw err;
    log.warn({ err: describeError(err) }, 'locks.panel_unavailable');
    return { result: null, error: err.message };
  }
}
