/**
 * `GET /api/trading/console/status?account_profile&var` [viewer] (control-chain §6.3): the console's status payload
 * of one account profile from `ConsoleStatusService` (desired state, the supervisors' records, the durable risk-kill
 * record and the warm path; the trading processes' own state is `state_source: "none"` until the trading chain wires
 * it). An unknown profile is 200 with `not_initialized` components; a bad `var` or profile is 400; without the
 * service wired, 503 `dependency_unavailable`. Through the ≤ 1 s hot cache (`hotConsoleStatus`): consoles poll it.
 */
import { Hono } from 'hono';
import type { WebEnv } from '../env.ts';
import { type HotDeps, hotConsoleStatus, hotJson } from '../hot-reads.ts';
import { requireRole } from '../middleware/require-role.ts';

export function consoleStatusRoutes(deps: HotDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const hot = hotConsoleStatus(deps);
  app.get('/trading/console/status', requireRole(deps, 'viewer'), async (c) =>
    hotJson(c, await hot.status(c.req.query()), { 'cache-control': 'no-store' }),
  );
  return app;
}
