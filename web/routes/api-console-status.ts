/**
 * `GET /api/trading/console/status?account_profile&var` [viewer] (control-chain §6.3): the console's status payload
 * of one account profile from `ConsoleStatusService` (desired state, the supervisors' records, the durable risk-kill
 * record and the warm path; the trading processes' own state is `state_source: "none"` until the trading chain wires
 * it). An unknown profile is 200 with `not_initialized` components; a bad `var` or profile is 400; without the
 * service wired, 503 `dependency_unavailable`.
 */
import { Hono } from 'hono';
import { DependencyUnavailableError } from '#shared/errors/control.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { requireRole } from '../middleware/require-role.ts';

export function consoleStatusRoutes(deps: AppDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.get('/trading/console/status', requireRole(deps, 'viewer'), async (c) => {
    if (!deps.consoleStatus) {
      throw new DependencyUnavailableError('the console status service (not wired in this process)');
    }
    return c.json(await deps.consoleStatus.status(c.req.query()), 200, { 'cache-control': 'no-store' });
  });
  return app;
}
