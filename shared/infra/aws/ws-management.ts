/**
 * The API Gateway Management API of the console's WebSocket API (`https://<api id>.execute-api.<region>.amazonaws.com/
 * <stage>`): `PostToConnection` and `DeleteConnection`. A connection the service no longer knows answers
 * `GoneException` (410): reported as `'gone'`, never thrown, because every caller treats it as "delete the item".
 * Any other failure (throttling, 5xx, timeout) throws. Every call has a deadline, as in `clients.ts`.
 */
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';

export type DeliveryResult = 'ok' | 'gone';

/** Port used by the `$default` handler and the broadcaster; adapter below. */
export interface WsManagement {
  /** Send one text frame to a connection. */
  post(connectionId: string, data: string): Promise<DeliveryResult>;
  /** Close a connection from the server side. */
  close(connectionId: string): Promise<DeliveryResult>;
}

export interface WsManagementOptions {
  /** The management endpoint, `https://<domain>/<stage>` (tests: a local HTTP server). */
  endpoint: string;
  region: string;
  /** Per-request deadline in ms (default 5 s). */
  requestTimeoutMs?: number;
  /** Static credentials for a local endpoint; absent -> the default provider chain (role, env, profile). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

function isGone(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'GoneException' || e?.$metadata?.httpStatusCode === 410;
}

/** The management endpoint of a WebSocket API stage, as its Lambda events describe it. */
export function managementEndpoint(domainName: string, stage: string): string {
  return `https://${domainName}/${stage}`;
}

export class ApiGatewayWsManagement implements WsManagement {
  private readonly client: ApiGatewayManagementApiClient;
  private readonly encoder = new TextEncoder();

  constructor(opts: WsManagementOptions) {
    this.client = new ApiGatewayManagementApiClient({
      endpoint: opts.endpoint,
      region: opts.region,
      // One retry: a broadcast is not worth a long retry chain, the client refetches on a seq gap.
      maxAttempts: 2,
      requestHandler: {
        requestTimeout: opts.requestTimeoutMs ?? 5_000,
        connectionTimeout: 2_000,
        throwOnRequestTimeout: true,
      },
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
    });
  }

  async post(connectionId: string, data: string): Promise<DeliveryResult> {
    try {
      await this.client.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: this.encoder.encode(data) }),
      );
      return 'ok';
    } catch (err) {
      if (isGone(err)) return 'gone';
      throw err;
    }
  }

  async close(connectionId: string): Promise<DeliveryResult> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
      return 'ok';
    } catch (err) {
      if (isGone(err)) return 'gone';
      throw err;
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
