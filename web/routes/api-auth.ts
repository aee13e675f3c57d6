/**
 * `/api/auth/*`: login (password or one-time token), logout, `me`, and API tokens: the caller's own, and an admin's for
 * any user (`owner` on create; every token in the list; revoke any).
 */
import { Hono } from 'hono';
import { callerOf, type SessionGrant } from '#shared/services/auth-service.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { requireSameOrigin } from '../middleware/authenticate.ts';
import { requireRole } from '../middleware/require-role.ts';
import { readJson } from '../request-body.ts';
import { authMeta, principalOf, requestIsTls } from '../request-info.ts';
import { clearSessionCookie, writeSessionCookie } from '../security/session-cookie.ts';

export function authRoutes(deps: AppDeps): Hono<WebEnv> {
  const hops = deps.config.auth.trustedProxyHops;
  const app = new Hono<WebEnv>();
  const grantBody = (g: SessionGrant) => ({ user: g.user, csrf_token: g.csrf_token, expires_at: g.expires_at });

  app.post('/login', requireSameOrigin(deps), async (c) => {
    const grant = await deps.auth.login(await readJson(c), authMeta(c, hops));
    writeSessionCookie(c, requestIsTls(c, hops), grant.sessionId);
    return c.json(grantBody(grant));
  });

  app.post('/one-time', requireSameOrigin(deps), async (c) => {
    const grant = await deps.auth.loginOneTime(await readJson(c), authMeta(c, hops));
    writeSessionCookie(c, requestIsTls(c, hops), grant.sessionId);
    return c.json(grantBody(grant));
  });

  app.post('/logout', requireRole(deps, 'viewer'), async (c) => {
    await deps.auth.logout(principalOf(c), authMeta(c, hops));
    clearSessionCookie(c, requestIsTls(c, hops));
    return c.body(null, 204);
  });

  app.get('/me', requireRole(deps, 'viewer'), (c) => c.json(deps.auth.me(principalOf(c))));

  app.post('/tokens', requireRole(deps, 'viewer', 'auth.token_create'), async (c) => {
    const created = await deps.auth.createToken(callerOf(principalOf(c), authMeta(c, hops)), await readJson(c));
    return c.json(created, 201);
  });

  app.get('/tokens', requireRole(deps, 'viewer'), async (c) =>
    c.json(await deps.auth.listTokens(callerOf(principalOf(c), authMeta(c, hops)), c.req.query())),
  );

  app.post('/tokens/:id/revoke', requireRole(deps, 'viewer', 'auth.token_revoke'), async (c) => {
    const token = await deps.auth.revokeToken(callerOf(principalOf(c), authMeta(c, hops)), c.req.param('id'));
    return c.json({ token });
  });

  return app;
}
