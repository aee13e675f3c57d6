/**
 * Desired state of the trading components (control-chain §3.2, §6.1): `POST /api/{gateway,strategy}/{desired, start,
 * stop}` [operator, denials audited] and `GET /api/{gateway,strategy}/status?account_profile=p` [viewer]. Validation,
 * risk caps, optimistic concurrency, audit and the warm-path hint all live in the DesiredService; the status carries
 * desired, its revision and the supervisor's persisted view (`state_source: "none"` until the trading chain's
 * processes write state). `GET /api/gateway/list` [viewer]: that status for every known profile (`default`, then each
 * with a desired document; `limit` default 200, clamped to 1..500; `next_cursor` signed, for the next page). Without the
 * service (a deployment that wires none) every route answers 503.
 */
import { type Context, Hono } from 'hono';
import * as z from 'zod';
import { cursorStringField, encodeCursor } from '#shared/domain/control/cursor.ts';
import { COMPONENT_KINDS, type ComponentKind } from '#shared/domain/control/desired.ts';
import { clampedLimit } from '#shared/domain/control/job-requests.ts';
import { parseOrThrow } from '#shared/domain/control/validation.ts';
import { DependencyUnavailableError } from '#shared/errors/control.ts';
import { callerOf } from '#shared/services/auth-service.ts';
import type { DesiredService } from '#shared/services/desired-service.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { requireRole } from '../middleware/require-role.ts';
import { knownProfiles } from './trading-model.ts';

/** `GET /api/gateway/list?limit&cursor` (control-chain §3.1: default 200, clamped to 1..500). */
const GatewayListQuerySchema = z
  .object({
    limit: clampedLimit({ default: 200, min: 1, max: 500 }),
    cursor: z.string().min(1).max(4000).optional(),
  })
  .strict();

/** The list's order: `default` first, then the other profiles by name (as `knownProfiles` lists them). */
const profileOrder = (p: string): string => (p === 'default' ? '' : `~${p}`);

import { readJson } from '../request-body.ts';
import { authMeta, principalOf } from '../request-info.ts';

export function desiredRoutes(deps: AppDeps): Hono<WebEnv> {
  const hops = deps.config.auth.trustedProxyHops;
  const app = new Hono<WebEnv>();
  const svc = (): DesiredService => {
    if (!deps.supervision)
      throw new DependencyUnavailableError('the desired-state service (not wired in this process)');
    return deps.supervision.desired;
  };
  const caller = (c: Context<WebEnv>) => callerOf(principalOf(c), authMeta(c, hops));

  app.get('/gateway/list', requireRole(deps, 'viewer'), async (c) => {
    if (!deps.supervision)
      throw new DependencyUnavailableError('the desired-state service (not wired in this process)');
    const s = deps.supervision;
    const q = parseOrThrow(GatewayListQuerySchema, c.req.query(), 'gateway list query');
    const secret = deps.config.auth.cursorSecret;
    const filters = { list: 'gateway_profiles' };
    const after = cursorStringField(secret, q.cursor, filters, 'after');
    const profiles = (await knownProfiles(s, 'default')).filter((p) => after === null || profileOrder(p) > after);
    const shown = profiles.slice(0, q.limit);
    const items = await Promise.all(shown.map((p) => s.desired.status('gateway', { account_profile: p })));
    const last = shown[shown.length - 1];
    const more = profiles.length > shown.length && last !== undefined;
    const nextCursor = more && secret ? encodeCursor(secret, { after: profileOrder(last) }, filters) : null;
    return c.json({ items, next_cursor: nextCursor, limit: q.limit, truncated: more });
  });

  for (const kind of COMPONENT_KINDS satisfies readonly ComponentKind[]) {
    app.get(`/${kind}/status`, requireRole(deps, 'viewer'), async (c) =>
      c.json(await svc().status(kind, c.req.query())),
    );

    app.post(`/${kind}/desired`, requireRole(deps, 'operator', `${kind}.desired`), async (c) =>
      c.json(await svc().write(caller(c), kind, await readJson(c))),
    );

    app.post(`/${kind}/start`, requireRole(deps, 'operator', `${kind}.start`), async (c) =>
      c.json(await svc().start(caller(c), kind, await readJson(c)), 202),
    );

    app.post(`/${kind}/stop`, requireRole(deps, 'operator', `${kind}.stop`), async (c) =>
      c.json(await svc().stop(caller(c), kind, await readJson(c))),
    );
  }
  return app;
}
