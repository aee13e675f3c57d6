/**
 * `$disconnect` of the console's WebSocket API: deletes the connection's WsConnections item. API Gateway delivers it
 * best effort; an item it misses expires (`expires_at`, checked by the broadcaster) or is pruned on the first
 * `GoneException`.
 */

import type { DynamoWsConnections } from '#shared/infra/aws/ws-connections.ts';
import type { Logger } from '#shared/log.ts';
import type { WsRouteHandler } from './ws-connect.ts';
import { parseWsRouteEvent } from './ws-events.ts';
import { wsRuntime } from './ws-runtime.ts';

export interface WsDisconnectDeps {
  connections: Pick<DynamoWsConnections, 'delete'>;
  log: Logger;
}

export function createWsDisconnectHandler(deps: WsDisconnectDeps): WsRouteHandler {
  return async (raw) => {
    const event = parseWsRouteEvent(raw, '$disconnect');
    const connectionId = event.requestContext.connectionId;
    const deleted = await deps.connections.delete(connectionId);
    deps.log.info({ connection_id: connectionId, deleted }, 'ws.disconnected');
    return { statusCode: 200 };
  };
}

export const handler: WsRouteHandler = async (event) => {
  const rt = wsRuntime('ws-disconnect');
  return createWsDisconnectHandler({ connections: rt.connections, log: rt.log })(event);
};
