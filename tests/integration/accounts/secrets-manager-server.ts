/**
 * A small local HTTP server speaking the AWS Secrets Manager JSON protocol (`application/x-amz-json-1.1`, operation in
 * `X-Amz-Target: secretsmanager.<Op>`, errors as `{__type, message}` with `x-amzn-errortype`) for the operations the
 * broker-account store calls: CreateSecret, UpdateSecret, GetSecretValue, DescribeSecret, DeleteSecret, ListSecrets.
 * There is no official local emulator of Secrets Manager in this repository's toolchain (dynalite and fauxqs cover
 * DynamoDB and SQS only), so the tests point the real `@aws-sdk/client-secrets-manager` client at this server: the
 * SDK's signing, serialisation, pagination and error parsing run for real. Behaviour follows the AWS documentation:
 * a forced delete of a missing secret succeeds; a name whose deletion is still in progress cannot be created yet
 * (`pendingDeletion`); the name filter is a case-insensitive prefix match; a page holds at most `pageSize` items.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredSecret {
  name: string;
  arn: string;
  value: string;
  description: string | undefined;
  versions: number;
  deletedDate: number | undefined;
}

export interface RecordedRequest {
  operation: string;
  body: Record<string, unknown>;
  /** The SigV4 `Authorization` header was present (the SDK signed the request). */
  signed: boolean;
}

class ApiFailure extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class SecretsManagerServer {
  readonly secrets = new Map<string, StoredSecret>();
  readonly requests: RecordedRequest[] = [];
  /** Names whose (forced) deletion AWS is still finishing: CreateSecret of them fails this many more times. */
  readonly pendingDeletion = new Map<string, number>();
  /** Items per ListSecrets page at most (AWS: MaxResults, up to 100). */
  pageSize = 100;
  /** Answer every request with this service error (e.g. `InternalServiceError`, status 500). */
  failWith: { type: string; status: number } | null = null;

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<SecretsManagerServer> {
    let self: SecretsManagerServer | null = null;
    const server = createServer((req, res) => {
      void self?.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new SecretsManagerServer(server, `http://127.0.0.1:${port}`);
    return self;
  }

  /** Operations received, in order. */
  operations(): string[] {
    return this.requests.map((r) => r.operation);
  }

  reset(): void {
    this.secrets.clear();
    this.requests.length = 0;
    this.pendingDeletion.clear();
    this.pageSize = 100;
    this.failWith = null;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : target;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      this.reply(res, 400, { __type: 'SerializationException', message: 'body is not JSON' });
      return;
    }
    this.requests.push({ operation, body, signed: String(req.headers.authorization ?? '').startsWith('AWS4-') });
    try {
      if (this.failWith) throw new ApiFailure(this.failWith.type, 'injected failure', this.failWith.status);
      this.reply(res, 200, this.dispatch(operation, body));
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      this.reply(res, err.status, { __type: err.type, message: err.message }, err.type);
    }
  }

  private reply(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    res.end(JSON.stringify(body));
  }

  private find(id: unknown): StoredSecret {
    const s =
      typeof id === 'string' ? [...this.secrets.values()].find((x) => x.name === id || x.arn === id) : undefined;
    if (!s) throw new ApiFailure('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return s;
  }

  private dispatch(operation: string, b: Record<string, unknown>): unknown {
    const now = Date.now() / 1000;
    switch (operation) {
      case 'CreateSecret': {
        const name = String(b.Name);
        const pending = this.pendingDeletion.get(name) ?? 0;
        if (pending > 0) {
          this.pendingDeletion.set(name, pending - 1);
          throw new ApiFailure(
            'InvalidRequestException',
            "You can't create this secret because a secret with this name is already scheduled for deletion.",
          );
        }
        if (this.secrets.has(name)) {
          throw new ApiFailure(
            'ResourceExistsException',
            `The operation failed because the secret ${name} already exists.`,
          );
        }
        const arn = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-${randomUUID().slice(0, 6)}`;
        const description = typeof b.Description === 'string' ? b.Description : undefined;
        this.secrets.set(name, {
          name,
          arn,
          value: String(b.SecretString),
          description,
          versions: 1,
          deletedDate: undefined,
        });
        return { ARN: arn, Name: name, VersionId: randomUUID() };
      }
      case 'UpdateSecret': {
        const s = this.find(b.SecretId);
        if (s.deletedDate !== undefined) {
          throw new ApiFailure(
            'InvalidRequestException',
            "You can't perform this operation on the secret because it was marked for deletion.",
          );
        }
        if (typeof b.SecretString === 'string') {
          s.value = b.SecretString;
          s.versions++;
        }
        if (typeof b.Description === 'string') s.description = b.Description;
        return { ARN: s.arn, Name: s.name, VersionId: randomUUID() };
      }
      case 'GetSecretValue': {
        const s = this.find(b.SecretId);
        return { ARN: s.arn, Name: s.name, SecretString: s.value, VersionId: randomUUID(), CreatedDate: now };
      }
      case 'DescribeSecret': {
        const s = this.find(b.SecretId);
        return {
          ARN: s.arn,
          Name: s.name,
          ...(s.description === undefined ? {} : { Description: s.description }),
          LastChangedDate: now,
          ...(s.deletedDate === undefined ? {} : { DeletedDate: s.deletedDate }),
        };
      }
      case 'DeleteSecret': {
        const id = b.SecretId;
        const s =
          typeof id === 'string' ? [...this.secrets.values()].find((x) => x.name === id || x.arn === id) : undefined;
        if (b.ForceDeleteWithoutRecovery === true) {
          // AWS: a forced delete of a missing or deleted secret succeeds (so retries are safe).
          if (s) this.secrets.delete(s.name);
          return { ARN: s?.arn ?? String(id), Name: s?.name ?? String(id), DeletionDate: now };
        }
        const found = this.find(id);
        found.deletedDate = now;
        return { ARN: found.arn, Name: found.name, DeletionDate: now + 30 * 86_400 };
      }
      case 'ListSecrets': {
        const filters = (b.Filters ?? []) as { Key?: string; Values?: string[] }[];
        const prefixes = filters.filter((f) => f.Key === 'name').flatMap((f) => f.Values ?? []);
        const all = [...this.secrets.values()]
          .filter((s) => s.deletedDate === undefined)
          .filter((s) => prefixes.every((p) => s.name.toLowerCase().startsWith(p.toLowerCase())))
          .sort((x, y) => x.name.localeCompare(y.name));
        const start = typeof b.NextToken === 'string' ? Number(b.NextToken) : 0;
        const size = Math.min(this.pageSize, typeof b.MaxResults === 'number' ? b.MaxResults : 100);
        const page = all.slice(start, start + size);
        const next = start + size < all.length ? String(start + size) : undefined;
        return {
          SecretList: page.map((s) => ({
            ARN: s.arn,
            Name: s.name,
            ...(s.description === undefined ? {} : { Description: s.description }),
            LastChangedDate: now,
          })),
          ...(next ? { NextToken: next } : {}),
        };
      }
      default:
        throw new ApiFailure('InvalidAction', `operation ${operation} is not served by this test server`);
    }
  }
}
