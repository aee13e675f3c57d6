/**
 * `$connect` of the console's WebSocket API: runs after the REQUEST authorizer allowed the connection; puts the
 * WsConnections item `{connection_id, user_id, role, via, credential_ref, topics: [], expires_at}` from the authorizer
 * context (`credential_ref` lets the broadcaster re-check the session or token every 60 s). The local
 * hub's limits apply: ≤ 10 open connections per user (429) and ≤ 1000 per broadcaster (503); counts are exact index
 * queries, so two simultaneous connects of one user may both pass at 9 (the bound is then 11, never unbounded).
 */

import type { DynamoWsConnections } from '#shared/infra/aws/ws-connections.ts';
import type { Logger } from '#shared/log.ts';
import { WsAuthContextSchema } from './ws-authorizer.ts';
import { parseWsRouteEvent, type WsRouteResult } from './ws-events.ts';
import { wsRuntime } from './ws-runtime.ts';

export const MAX_CONNECTIONS_PER_USER = 10;
export const MAX_CONNECTIONS_TOTAL = 1000;

export interface WsConnectDeps {
  connections: Pick<DynamoWsConnections, 'put' | 'countForUser' | 'countAll'>;
  nowMs: () => number;
  log: Logger;
  maxPerUser?: number;
  maxTotal?: number;
}

export type WsRouteHandler = (event: unknown) => Promise<WsRouteResult>;

export function createWsConnectHandler(deps: WsConnectDeps): WsRouteHandler {
  return async (raw) => {
    const event = parseWsRouteEvent(raw, '$connect');
    const ctx = WsAuthContextSchema.safeParse(event.requestContext.authorizer ?? {});
    if (!ctx.success) {
      // Only reachable when the route is deployed without the authorizer (or with one older than this handler, whose
      // context lacks `credential_ref`): never accept a socket that cannot be re-checked.
      deps.log.error({ issues: ctx.error.issues }, 'ws.connect_without_authorizer_context');
      return { statusCode: 401, body: 'unauthenticated' };
    }
    const { user_id, role, via, credential_ref, expires_at } = ctx.data;
    const now = deps.nowMs();
    const connectionId = event.requestContext.connectionId;
    if ((await deps.connections.countForUser(user_id, now)) >= (deps.maxPerUser ?? MAX_CONNECTIONS_PER_USER)) {
      deps.log.warn({ connection_id: connectionId, user_id }, 'ws.connect_refused_user_limit');
      return { statusCode: 429, body: 'too many sockets for this user' };
    }
    if ((await deps.connections.countAll(now)) >= (deps.maxTotal ?? MAX_CONNECTIONS_TOTAL)) {
      deps.log.warn({ connection_id: connectionId }, 'ws.connect_refused_total_limit');
      return { statusCode: 503, body: 'too many connections' };
    }
    await deps.connections.put({
      connectionId,
      userId: user_id,
      role,
      via,
      credentialRef: credential_ref,
      connectedAtMs: now,
      expiresAtMs: Date.parse(expires_at),
    });
    deps.log.info({ connection_id: connectionId, user_id, role }, 'ws.connected');
    return { statusCode: 200 };
  };
}

export const handler: WsRouteHandler = async (event) => {
  const rt = wsRuntime('ws-connect');
  return createWsConnectHandler({ connections: rt.connections, nowMs: () => rt.clock.nowMs(), log: rt.log })(event);
};
