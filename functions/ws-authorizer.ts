/**
 * `$connect` REQUEST authorizer of the console's WebSocket API (control-chain §7 AWS), the rules of the local `GET /ws`
 * (`web/realtime/ws-route.ts` + the authenticate middleware):
 *
 * - `Authorization` present: it must be a valid `Bearer ght_...` token (it overrides any cookie) -> allow; else 401.
 * - otherwise the session cookie (`__Host-ghtrader_session`: API Gateway is TLS-only) must be a live session (else 401)
 *   and `Origin` (or `Sec-Fetch-Site: same-origin`) must be the console's own (else 403), the console origin coming
 *   from the trusted proxy's `X-Forwarded-Host` (CloudFront sets it; `GHTRADER_TRUSTED_PROXY_HOPS`) exactly as the
 *   HTTP app derives it;
 * - credentials in the query string (`token`, `access_token`, `session`) are refused (403), as the app refuses them.
 *
 * 401 is API Gateway's answer to the authorizer throwing `Unauthorized`; 403 to an explicit Deny policy. An allowed
 * connection carries `{user_id, username, role, via, credential_ref, expires_at}` in the authorizer context for
 * `$connect`; `expires_at` is the earlier of the credential's expiry and API Gateway's 2 h connection limit, and
 * `credential_ref` names the credential without its secret (`session:<sha256 hex of the session id>` or
 * `token:<token id>`, `credentialRefOf`) so the broadcaster can re-check it every 60 s.
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { parse as parseCookies } from 'hono/utils/cookie';
import * as z from 'zod';
import { isoUtc } from '#shared/domain/time.ts';
import { describeError } from '#shared/errors/base.ts';
import type { Logger } from '#shared/log.ts';
import { type AuthService, CREDENTIAL_REF_RE, credentialRefOf, type Principal } from '#shared/services/auth-service.ts';
import { ORIGIN_SECRET_HEADER, originSecretOk } from '#web/security/origin-secret.ts';
import { checkOrigin, consoleOrigin, type ForwardingHeaders, isTls } from '#web/security/request-origin.ts';
import { sessionCookieName } from '#web/security/session-cookie.ts';
import { wsRuntime } from './ws-runtime.ts';

/** API Gateway closes a WebSocket connection after 2 hours. */
export const WS_MAX_CONNECTION_MS = 2 * 60 * 60 * 1000;
const BEARER_RE = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const QUERY_CREDENTIALS = ['token', 'access_token', 'session'];

export const WsAuthorizerEventSchema = z.object({
  type: z.literal('REQUEST'),
  methodArn: z.string().min(1),
  headers: z.record(z.string(), z.string()).nullish(),
  queryStringParameters: z.record(z.string(), z.string()).nullish(),
  requestContext: z.object({
    domainName: z.string().min(1),
    stage: z.string().min(1),
    connectionId: z.string().optional(),
  }),
});
export type WsAuthorizerEvent = z.infer<typeof WsAuthorizerEventSchema>;

/** The authorizer context `$connect` receives (API Gateway passes string values through). */
export const WsAuthContextSchema = z.object({
  user_id: z.string().min(1),
  username: z.string().min(1),
  role: z.enum(['viewer', 'operator', 'admin']),
  via: z.enum(['session', 'token']),
  credential_ref: z.string().regex(CREDENTIAL_REF_RE, 'expected session:<sha256 hex> or token:<id>'),
  expires_at: z.string().min(1),
});
export type WsAuthContext = z.infer<typeof WsAuthContextSchema>;

export type WsAuthDecision =
  | { effect: 'allow'; principal: Principal; context: WsAuthContext }
  | { effect: 'deny'; reason: string }
  | { effect: 'unauthorized'; reason: string };

export interface WsAuthorizerDeps {
  auth: AuthService;
  trustedProxyHops: number;
  /** CloudFront's origin secret (`x-ghtrader-origin`); absent -> not checked. */
  originSecret?: string | undefined;
  nowMs: () => number;
  log: Logger;
}

/**
 * The connection item's `expires_at`: API Gateway's 2 h, or sooner the credential's hard end (a session's absolute
 * expiry, a token's expiry). A session's idle expiry is not used: the broadcaster's 60 s re-check enforces it against
 * the session as it is then, so a user active over HTTP keeps the socket.
 */
function expiryOf(p: Principal, nowMs: number): number {
  const credential = p.session?.absoluteExpiresAt ?? p.tokenExpiresAt;
  const limit = nowMs + WS_MAX_CONNECTION_MS;
  return credential ? Math.min(Date.parse(credential), limit) : limit;
}

/** Decide one `$connect` request (no AWS types: the handler below maps the decision to API Gateway's answer). */
export async function decideWsConnect(deps: WsAuthorizerDeps, event: WsAuthorizerEvent): Promise<WsAuthDecision> {
  const headers = new Map(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const query = Object.keys(event.queryStringParameters ?? {}).map((k) => k.toLowerCase());
  const inQuery = QUERY_CREDENTIALS.filter((k) => query.includes(k));
  if (inQuery.length > 0) return { effect: 'deny', reason: `credentials in the query string (${inQuery.join(', ')})` };
  if (!originSecretOk(deps.originSecret, headers.get(ORIGIN_SECRET_HEADER))) {
    return { effect: 'deny', reason: 'not through the console distribution (origin secret missing or wrong)' };
  }

  let principal: Principal | null;
  const authorization = headers.get('authorization');
  if (authorization !== undefined) {
    const token = BEARER_RE.exec(authorization)?.[1];
    principal = token ? await deps.auth.authenticateBearer(token) : null;
    if (!principal) return { effect: 'unauthorized', reason: 'invalid, expired or revoked bearer token' };
  } else {
    const forwarding: ForwardingHeaders = {
      url: `https://${event.requestContext.domainName}/${event.requestContext.stage}`,
      host: headers.get('host') ?? null,
      forwardedFor: headers.get('x-forwarded-for') ?? null,
      forwardedProto: headers.get('x-forwarded-proto') ?? null,
      forwardedHost: headers.get('x-forwarded-host') ?? null,
    };
    const cookieName = sessionCookieName(isTls(forwarding, deps.trustedProxyHops));
    const sessionId = parseCookies(headers.get('cookie') ?? '', cookieName)[cookieName];
    principal = sessionId ? await deps.auth.authenticateSession(sessionId) : null;
    if (!principal) return { effect: 'unauthorized', reason: 'no live session cookie and no bearer token' };
    // Cookie sockets must come from the console itself (a WebSocket is not subject to CORS).
    const verdict = checkOrigin(
      headers.get('origin') ?? null,
      headers.get('sec-fetch-site') ?? null,
      consoleOrigin(forwarding, deps.trustedProxyHops),
    );
    if (!verdict.ok) return { effect: 'deny', reason: verdict.reason };
  }
  return {
    effect: 'allow',
    principal,
    context: {
      user_id: principal.userId,
      username: principal.username,
      role: principal.role,
      via: principal.via,
      credential_ref: credentialRefOf(principal),
      expires_at: isoUtc(expiryOf(principal, deps.nowMs())),
    },
  };
}

function policy(
  principalId: string,
  effect: 'Allow' | 'Deny',
  resource: string,
  context?: WsAuthContext,
): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
    },
    ...(context ? { context } : {}),
  };
}

export type WsAuthorizerHandler = (event: unknown) => Promise<APIGatewayAuthorizerResult>;

/** The authorizer over injected deps (tests, local runs); `handler` below uses the container's runtime. */
export function createWsAuthorizerHandler(deps: WsAuthorizerDeps): WsAuthorizerHandler {
  return async (raw) => {
    const parsed = WsAuthorizerEventSchema.safeParse(raw);
    if (!parsed.success) {
      // Not an API Gateway REQUEST authorizer event: a wiring error, refused like any bad credential.
      deps.log.error({ issues: parsed.error.issues }, 'ws.authorizer_bad_event');
      throw new Error('Unauthorized');
    }
    const event = parsed.data;
    let decision: WsAuthDecision;
    try {
      decision = await decideWsConnect(deps, event);
    } catch (err) {
      // A store outage: API Gateway answers 500 to a thrown error other than `Unauthorized`; the client retries.
      deps.log.error({ err: describeError(err) }, 'ws.authorizer_failed');
      throw err;
    }
    const connectionId = event.requestContext.connectionId ?? null;
    if (decision.effect === 'unauthorized') {
      deps.log.info({ connection_id: connectionId, reason: decision.reason }, 'ws.connect_unauthenticated');
      throw new Error('Unauthorized');
    }
    if (decision.effect === 'deny') {
      deps.log.info({ connection_id: connectionId, reason: decision.reason }, 'ws.connect_forbidden');
      return policy('anonymous', 'Deny', event.methodArn);
    }
    deps.log.info(
      { connection_id: connectionId, user_id: decision.context.user_id, via: decision.context.via },
      'ws.connect_authorized',
    );
    return policy(decision.context.user_id, 'Allow', event.methodArn, decision.context);
  };
}

export const handler: WsAuthorizerHandler = async (event) => {
  const rt = wsRuntime('ws-authorizer');
  // Session limits from the config revision, at most 5 s old (control-chain §5.4).
  await rt.live.fresh();
  return createWsAuthorizerHandler({
    auth: rt.auth,
    trustedProxyHops: rt.config.auth.trustedProxyHops,
    originSecret: rt.config.auth.originSecret,
    nowMs: () => rt.clock.nowMs(),
    log: rt.log,
  })(event);
};
