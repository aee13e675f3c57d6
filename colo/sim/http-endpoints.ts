/**
 * The simulator's HTTP endpoints (market-protocol §2.1): the Shinny OIDC token endpoint and grant API (always the
 * dev token), the name service, the broker JSON, the continuous table, and `/admin/*` (dev token required).
 * Request bodies are capped at 64 KiB; every answer is JSON except 204 and plain-text errors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '#shared/log.ts';
import { bearerMatches, DEV_TOKEN_EXP_S } from './dev-token.ts';

export const MAX_BODY_BYTES = 64 * 1024;
const AUTH = '/auth/realms/shinnytech';

export interface AdminApi {
  clock(): unknown;
  stats(): unknown;
  faults(): unknown;
  /** Apply a fault body; throws `SimConfigError` on a body that does not validate. */
  addFault(body: unknown): unknown;
  clearFaults(): void;
}

export interface HttpDeps {
  token: string;
  brokerId: string;
  /** `ws://127.0.0.1:<port>` (known once listening). */
  wsBase(): string;
  continuousTable(): unknown;
  admin: AdminApi;
  log: Logger;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body above ${MAX_BODY_BYTES} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tokenAnswer(token: string): Record<string, unknown> {
  return {
    access_token: token,
    refresh_token: token,
    expires_in: 3600,
    refresh_expires_in: 86_400,
    token_type: 'Bearer',
    'not-before-policy': 0,
    scope: 'openid',
  };
}

/** Route one HTTP request. Never throws: failures become 4xx/5xx answers. */
export async function handleHttp(req: IncomingMessage, res: ServerResponse, deps: HttpDeps): Promise<void> {
  try {
    await route(req, res, deps);
  } catch (err) {
    if (err instanceof HttpError) {
      text(res, err.status, err.message);
      return;
    }
    if ((err as { code?: string }).code === 'sim_config_invalid') {
      json(res, 400, { error: { code: 'invalid_fault', message: (err as Error).message } });
      return;
    }
    deps.log.error({ err, path: req.url }, 'sim http request failed');
    if (!res.headersSent) text(res, 500, 'internal error');
  }
}

async function route(req: IncomingMessage, res: ServerResponse, deps: HttpDeps): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const p = url.pathname;
  const method = req.method ?? 'GET';

  if (p === `${AUTH}/protocol/openid-connect/token`) {
    if (method !== 'POST') throw new HttpError(405, 'POST only');
    const form = new URLSearchParams(await readBody(req));
    const grant = form.get('grant_type');
    if (grant !== 'password' && grant !== 'refresh_token') {
      json(res, 400, { error: 'unsupported_grant_type', error_description: `grant_type ${grant ?? '(none)'}` });
      return;
    }
    json(res, 200, tokenAnswer(deps.token));
    return;
  }
  if (p === `${AUTH}/rest/get-grant/tq` && method === 'GET') {
    json(res, 200, { exp: DEV_TOKEN_EXP_S, daysleft: 365, account_type: 'sim' });
    return;
  }
  if (p.startsWith(`${AUTH}/rest/update-grant-accounts/`) && method === 'PUT') {
    await readBody(req);
    res.writeHead(204);
    res.end();
    return;
  }
  if (p === '/ns' && method === 'GET') {
    json(res, 200, { mdurl: `${deps.wsBase()}/t/md/front/mobile` });
    return;
  }
  if (p === '/continuous_table.json' && method === 'GET') {
    json(res, 200, deps.continuousTable());
    return;
  }
  if (p.startsWith('/admin/')) {
    if (!bearerMatches(req.headers.authorization, deps.token))
      throw new HttpError(401, 'admin needs Authorization: Bearer <dev token>');
    return admin(p.slice('/admin/'.length), method, req, res, deps.admin);
  }
  const broker = /^\/([A-Za-z0-9_-]+)\.json$/.exec(p);
  if (broker && method === 'GET') {
    if (broker[1] !== deps.brokerId) throw new HttpError(404, `unknown broker ${broker[1]}`);
    json(res, 200, {
      [deps.brokerId]: { category: ['TQ'], url: `${deps.wsBase()}/trade`, broker_type: 'FUTURE' },
    });
    return;
  }
  throw new HttpError(404, `no route ${method} ${p}`);
}

async function admin(
  what: string,
  method: string,
  req: IncomingMessage,
  res: ServerResponse,
  api: AdminApi,
): Promise<void> {
  if (what === 'clock' && method === 'GET') return json(res, 200, api.clock());
  if (what === 'stats' && method === 'GET') return json(res, 200, api.stats());
  if (what === 'faults') {
    if (method === 'GET') return json(res, 200, api.faults());
    if (method === 'DELETE') {
      api.clearFaults();
      return json(res, 200, { cleared: true });
    }
    if (method === 'POST') {
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        throw new HttpError(400, 'fault body must be JSON');
      }
      return json(res, 200, api.addFault(body));
    }
  }
  throw new HttpError(404, `no admin route ${method} /admin/${what}`);
}
