/**
 * The part of API Gateway WebSocket route events (`$connect`, `$disconnect`, `$default`) the handlers read, as zod
 * schemas, and the management endpoint (`https://<domain>/<stage>`) those events name.
 */
import * as z from 'zod';
import { ApiGatewayWsManagement, managementEndpoint, type WsManagement } from '#shared/infra/aws/ws-management.ts';

export const WsRouteEventSchema = z.object({
  requestContext: z.object({
    routeKey: z.string().min(1),
    connectionId: z.string().min(1).max(128),
    domainName: z.string().min(1),
    stage: z.string().min(1),
    authorizer: z.record(z.string(), z.unknown()).nullish(),
  }),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().optional(),
});
export type WsRouteEvent = z.infer<typeof WsRouteEventSchema>;

/** What a WebSocket route integration returns (a non-2xx `$connect` answer refuses the connection). */
export interface WsRouteResult {
  statusCode: number;
  body?: string;
}

/** Parse a route event; a malformed one is a wiring error (thrown: API Gateway answers 500 and logs it). */
export function parseWsRouteEvent(raw: unknown, route: string): WsRouteEvent {
  const parsed = WsRouteEventSchema.safeParse(raw);
  if (!parsed.success) {
    const text = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${route}: not an API Gateway WebSocket event: ${text}`);
  }
  return parsed.data;
}

const clients = new Map<string, ApiGatewayWsManagement>();

/** One Management API client per endpoint and container (a WebSocket API has one endpoint per stage). */
export function managementFor(event: WsRouteEvent, region: string): WsManagement {
  const endpoint = managementEndpoint(event.requestContext.domainName, event.requestContext.stage);
  let client = clients.get(endpoint);
  if (!client) {
    client = new ApiGatewayWsManagement({ endpoint, region });
    clients.set(endpoint, client);
  }
  return client;
}
