/**
 * `GET /ws` (control-chain §7): upgrades only with a valid session cookie plus an `Origin` equal to the console's, or a
 * bearer token; anything else is refused before the upgrade (401; a foreign origin 403) and never counted. The upgraded
 * socket is handed to the hub with the credential it re-checks every 60 s.
 */

import { Hono } from 'hono';
import type { UpgradeWebSocket } from 'hono/ws';
import type { WebSocket } from 'ws';
import { ControlError, DependencyUnavailableError, UnauthenticatedError } from '#shared/errors/control.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { assertSameOrigin } from '../middleware/authenticate.ts';
import { requestIsTls } from '../request-info.ts';
import { withAccess } from '../route-access.ts';
import { readSessionCookie } from '../security/session-cookie.ts';
import type { HubCredential, RealtimeHub } from './hub.ts';

/** What the web app needs for `/ws`: the hub and the runtime's upgrade helper (`@hono/node-ws` locally). */
export interface RealtimeDeps {
  hub: RealtimeHub;
  upgradeWebSocket: UpgradeWebSocket<WebSocket>;
}

const BEARER_RE = /^Bearer[ \t]+(\S+)[ \t]*$/i;

class UpgradeRequiredError extends ControlError {
  constructor() {
    super('websocket_upgrade_required', 400, '/ws only accepts a WebSocket upgrade (Upgrade: websocket)');
  }
}

export function wsRoutes(deps: AppDeps): Hono<WebEnv> {
  const hops = deps.config.auth.trustedProxyHops;
  const app = new Hono<WebEnv>();
  // Any signed-in role may connect; what each socket may subscribe to is the hub's per-topic role check.
  const upgrade = withAccess({ role: 'viewer' }, async (c, next) => {
    const rt = deps.realtime;
    if (!rt) throw new DependencyUnavailableError('the realtime hub (this process serves no WebSocket)');
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') throw new UpgradeRequiredError();
    const principal = c.get('principal');
    if (!principal) throw new UnauthenticatedError();
    let credential: HubCredential;
    const bearer = BEARER_RE.exec(c.req.header('authorization') ?? '')?.[1];
    if (principal.via === 'token' && bearer) {
      credential = { kind: 'bearer', token: bearer };
    } else {
      // Cookie sockets must come from the console itself (a WebSocket is not subject to CORS).
      assertSameOrigin(c, hops);
      const id = readSessionCookie(c, requestIsTls(c, hops));
      if (!id) throw new UnauthenticatedError();
      credential = { kind: 'session', id };
    }
    const identity = { userId: principal.userId, role: principal.role };
    const handler = rt.upgradeWebSocket(() => ({
      onOpen: (_evt, ws) => {
        if (ws.raw) rt.hub.connect(ws.raw, identity, credential);
      },
    }));
    return handler(c, next);
  });
  app.get('/', upgrade);
  return app;
}
