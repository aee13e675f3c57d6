/**
 * `$default` of the console's WebSocket API: one client frame (`subscribe`, `unsubscribe`, `ping`) handled by
 * `handleClientFrame` (the local hub's schemas and limits), answered through the Management API of the stage the
 * event names.
 */
import { handleClientFrame, type WsFrameDeps } from '#shared/infra/aws/ws-client-frames.ts';
import type { WsManagement } from '#shared/infra/aws/ws-management.ts';
import type { WsRouteHandler } from './ws-connect.ts';
import { managementFor, parseWsRouteEvent, type WsRouteEvent } from './ws-events.ts';
import { wsRuntime } from './ws-runtime.ts';

export interface WsDefaultDeps extends Omit<WsFrameDeps, 'management'> {
  /** The Management API for the event's stage (`https://<domain>/<stage>` in AWS; tests point it at their server). */
  management: (event: WsRouteEvent) => WsManagement;
}

export function createWsDefaultHandler(deps: WsDefaultDeps): WsRouteHandler {
  return async (raw) => {
    const event = parseWsRouteEvent(raw, '$default');
    const outcome = await handleClientFrame(
      { ...deps, management: deps.management(event) },
      {
        connectionId: event.requestContext.connectionId,
        body: event.body,
        isBinary: event.isBase64Encoded === true,
      },
    );
    return { statusCode: 200, body: outcome.kind };
  };
}

export const handler: WsRouteHandler = async (event) => {
  const rt = wsRuntime('ws-default');
  return createWsDefaultHandler({
    connections: rt.connections,
    management: (e) => managementFor(e, rt.config.aws.region),
    nowMs: () => rt.clock.nowMs(),
    log: rt.log,
  })(event);
};
