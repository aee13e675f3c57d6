/**
 * Broker accounts (control-chain §3.2): `GET /api/accounts` and `GET /api/brokers` [viewer]; `POST
 * /api/accounts/upsert` and `POST /api/accounts/delete` [admin]; `POST /api/accounts/{profile}/verify` [operator],
 * which submits an `account.verify` job and answers like `POST /api/jobs` (201 `{job, deduped:false}` or 200
 * `{job, deduped:true}`). Thin doors onto `AccountService` (checks, masking and audit live there); writes are denied
 * with an audited 403 like every state-changing route. Without the service (a process that wires none) every route
 * answers 503.
 */
import { type Context, Hono } from 'hono';
import { describeError } from '#shared/errors/base.ts';
import { ControlError, DependencyUnavailableError } from '#shared/errors/control.ts';
import type { Logger } from '#shared/log.ts';
import type { AccountListResult, AccountService, BrokerListResult } from '#shared/services/account-service.ts';
import { callerOf } from '#shared/services/auth-service.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { requireRole } from '../middleware/require-role.ts';
import { readJson } from '../request-body.ts';
import { authMeta, principalOf } from '../request-info.ts';

export function accountRoutes(deps: AppDeps): Hono<WebEnv> {
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

  app.post('/accounts/upsert', requireRole(deps, 'admin', 'account.upsert'), async (c) =>
    c.json(await svc().upsert(caller(c), await readJson(c))),
  );

  app.post('/accounts/delete', requireRole(deps, 'admin', 'account.delete'), async (c) =>
    c.json(await svc().delete(caller(c), await readJson(c))),
  );

  app.post('/accounts/:profile/verify', requireRole(deps, 'operator', 'account.verify'), async (c) => {
    const r = await svc().verify(caller(c), c.req.param('profile'), await readJson(c));
    return c.json(r, r.deduped ? 200 : 201);
  });

  return app;
}

/** What the System page's Broker accounts panel renders. */
export type AccountsPanelModel =
  | ({ available: true; brokers: BrokerListResult['items'] } & AccountListResult)
  | { available: false; message: string };

/**
 * The panel's model, or why there is none: the rest of the System page renders either way, so a store that does not
 * answer (a `ControlError`, e.g. 503 from Secrets Manager) becomes the panel's message and a log line. Anything else is
 * a bug and fails the page.
 */
export async function loadAccountsPanel(
  accounts: AccountService | undefined,
  log: Logger,
): Promise<AccountsPanelModel | null> {
  if (!accounts) return null;
  try {
    const [list, brokers] = await Promise.all([accounts.list(), accounts.brokers()]);
    return { available: true, ...list, brokers: brokers.items };
  } catch (err) {
    if (!(err instanceof ControlError)) throw err;
    log.warn({ err: describeError(err) }, 'accounts.panel_unavailable');
    return { available: false, message: `Broker accounts are unavailable: ${err.message}` };
  }
}
