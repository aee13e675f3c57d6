/**
 * A small local HTTP server that implements the part of the API Gateway Management API the console uses:
 * `POST /@connections/{id}` (PostToConnection: 200, or 410 `GoneException` for a dropped connection) and
 * `DELETE /@connections/{id}` (DeleteConnection: 204, or 410). There is no official local emulator of the Management
 * API (neither dynalite, fauxqs, localstack's free tier nor moto serve it), so the tests point the real
 * `@aws-sdk/client-apigatewaymanagementapi` client at this server: the SDK's request signing, serialisation and
 * error parsing all run for real. It records every request (and their order) and the peak number in flight, overall and
 * per connection. A held connection (`hold`) keeps its POSTs unanswered, like a client that stopped reading, until
 * `release` answers them 200 or a DELETE of that connection answers them 410 (the connection is gone).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Posted {
  connectionId: string;
  body: string;
}

/** One request as it arrived: a POST's body is in `posts`. */
export interface Request {
  method: 'POST' | 'DELETE';
  connectionId: string;
}

export class ManagementServer {
  readonly posts: Posted[] = [];
  readonly deletes: string[] = [];
  /** Every POST and DELETE in arrival order. */
  readonly requests: Request[] = [];
  /** Connections answered with 410 GoneException. */
  readonly gone = new Set<string>();
  /** Extra latency of every POST, in ms (to observe the in-flight bounds). */
  delayMs = 0;
  inFlight = 0;
  peakInFlight = 0;
  readonly peakPerConnection = new Map<string, number>();
  private readonly perConnection = new Map<string, number>();
  /** Unanswered POSTs of held connections: resolve with the status to answer. */
  private readonly held = new Map<string, ((status: 200 | 410) => void)[]>();

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

  /** Stop answering POSTs to `connectionId` until `release` (or a DELETE of it). */
  hold(connectionId: string): void {
    if (!this.held.has(connectionId)) this.held.set(connectionId, []);
  }

  /** Answer a held connection's POSTs 200 and stop holding it. */
  release(connectionId: string, status: 200 | 410 = 200): void {
    const waiting = this.held.get(connectionId) ?? [];
    this.held.delete(connectionId);
    for (const answer of waiting.splice(0)) answer(status);
  }

  /** POSTs of `connectionId` waiting for an answer. */
  heldCount(connectionId: string): number {
    return this.held.get(connectionId)?.length ?? 0;
  }

  /** Forget every request, hold and fault (between tests). */
  reset(): void {
    for (const id of [...this.held.keys()]) this.release(id, 410);
    this.posts.length = 0;
    this.deletes.length = 0;
    this.requests.length = 0;
    this.gone.clear();
    this.delayMs = 0;
    this.peakInFlight = 0;
    this.peakPerConnection.clear();
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
      this.requests.push({ method: 'DELETE', connectionId });
      // A deleted connection answers what was still waiting for it with 410, as API Gateway does.
      if (this.held.has(connectionId)) this.release(connectionId, 410);
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    this.requests.push({ method: 'POST', connectionId });
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    const mine = (this.perConnection.get(connectionId) ?? 0) + 1;
    this.perConnection.set(connectionId, mine);
    this.peakPerConnection.set(connectionId, Math.max(this.peakPerConnection.get(connectionId) ?? 0, mine));
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const waiting = this.held.get(connectionId);
    const status = waiting ? await new Promise<200 | 410>((answer) => waiting.push(answer)) : 200;
    this.inFlight--;
    this.perConnection.set(connectionId, (this.perConnection.get(connectionId) ?? 1) - 1);
    if (status === 410) {
      res.writeHead(410, { 'content-type': 'application/json', 'x-amzn-errortype': 'GoneException' });
      res.end(JSON.stringify({ message: `connection ${connectionId} is gone` }));
      return;
    }
    this.posts.push({ connectionId, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(200).end();
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
