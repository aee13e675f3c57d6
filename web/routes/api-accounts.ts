/**
 * Broker accounts (control-chain §3.2): `GET /api/accounts` and `GET /api/brokers` [viewer]; `POST
 * /api/accounts/upsert` and `POST /api/accounts/delete` [admin]; `POST /api/accounts/{profile}/verify` [operator],
 * which submits an `account.verify` job and answers like `POST /api/jobs` (201 `{job, deduped:false}` or 200
 * `{job, deduped:true}`). Thin doors onto `AccountService` (checks, masking and audit live there); writes are denied
 * with an audited 403 like every state-changing route. Without the service (a process that wires none) every route
 * answers 503.
 */
import { type Context, Hono } from 'hono';
import { DependencyUnavailableError } from '#shared/errors/control.ts';
import type { AccountService } from '#shared/services/account-service.ts';
import { callerOf } from '#shared/services/auth-service.ts';
import type { WebEnv } from '../env.ts';
import { type HotDeps, hotAccounts } from '../hot-reads.ts';
import { requireRole } from '../middleware/require-role.ts';
import { readJson } from '../request-body.ts';
import { authMeta, principalOf } from '../request-info.ts';

export function accountRoutes(deps: HotDeps): Hono<WebEnv> {
  const hot = hotAccounts(deps);
  const hops = deps.config.auth.trustedProxyHops;
  const app = new Hono<WebEnv>();
  const svc = (): AccountService => {
    if (!deps.accounts) throw new DependencyUnavailableError('the account service (not wired in this process)');
    return deps.accounts;
  };
  const caller = (c: Context<WebEnv>) => callerOf(principalOf(c), authMeta(c, hops));

  app.get('/accounts', requireRole(deps, 'viewer'), async (c) =>
    c.json(await svc().list(), 200, { 'cache-control': 'no-store' }),
  );

  app.get('/brokers', requireRole(deps, 'viewer'), async (c) => c.json(await svc().brokers()));

  app.post('/accounts/upsert', requireRole(deps, 'admin', 'account.upsert'), async (c) => {
    const r = await svc().upsert(caller(c), await readJson(c));
    hot.changed();
    return c.json(r);
  });

  app.post('/accounts/delete', requireRole(deps, 'admin', 'account.delete'), async (c) => {
    const r = await svc().delete(caller(c), await readJson(c));
    hot.changed();
    return c.json(r);
  });

  app.post('/accounts/:profile/verify', requireRole(deps, 'operator', 'account.verify'), async (c) => {
    const r = await svc().verify(caller(c), c.req.param('profile'), await readJson(c));
    hot.changed();
    return c.json(r, r.deduped ? 200 : 201);
  });

  return app;
}
