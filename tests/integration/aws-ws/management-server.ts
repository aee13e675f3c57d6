/**
 * A small local HTTP server that implements the part of the API Gateway Management API the console uses:
 * `POST /@connections/{id}` (PostToConnection: 200, or 410 `GoneException` for a dropped connection) and
 * `DELETE /@connections/{id}` (DeleteConnection: 204, or 410). There is no official local emulator of the Management
 * API (neither dynalite, fauxqs, localstack's free tier nor moto serve it), so the tests point the real
 * `@aws-sdk/client-apigatewaymanagementapi` client at this server: the SDK's request signing, serialisation and
 * error parsing all run for real. It records every request and the peak number in flight, overall and per connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Posted {
  connectionId: string;
  body: string;
}

export class ManagementServer {
  readonly posts: Posted[] = [];
  readonly deletes: string[] = [];
  /** Connections answered with 410 GoneException. */
  readonly gone = new Set<string>();
  /** Extra latency of every POST, in ms (to observe the in-flight bounds). */
  delayMs = 0;
  inFlight = 0;
  peakInFlight = 0;
  readonly peakPerConnection = new Map<string, number>();
  private readonly perConnection = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<ManagementServer> {
    let self: ManagementServer | null = null;
    const server = createServer((req, res) => {
      void self?.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new ManagementServer(server, `http://127.0.0.1:${port}`);
    return self;
  }

  /** The JSON messages posted to one connection, in arrival order. */
  messagesTo(connectionId: string): Record<string, unknown>[] {
    return this.posts
      .filter((p) => p.connectionId === connectionId)
      .map((p) => JSON.parse(p.body) as Record<string, unknown>);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /^\/@connections\/([^/?]+)$/.exec(req.url ?? '');
    if (!m?.[1]) {
      res.writeHead(404).end();
      return;
    }
    const connectionId = decodeURIComponent(m[1]);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (this.gone.has(connectionId)) {
      res.writeHead(410, { 'content-type': 'application/json', 'x-amzn-errortype': 'GoneException' });
      res.end(JSON.stringify({ message: `connection ${connectionId} is gone` }));
      return;
    }
    if (req.method === 'DELETE') {
      this.deletes.push(connectionId);
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    const mine = (this.perConnection.get(connectionId) ?? 0) + 1;
    this.perConnection.set(connectionId, mine);
    this.peakPerConnection.set(connectionId, Math.max(this.peakPerConnection.get(connectionId) ?? 0, mine));
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    this.inFlight--;
    this.perConnection.set(connectionId, (this.perConnection.get(connectionId) ?? 1) - 1);
    this.posts.push({ connectionId, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(200).end();
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
