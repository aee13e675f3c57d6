/**
 * The WebSocket API Lambda handlers against dynalite (Users and WsConnections tables of a per-file stack) and the local
 * Management API server (`management-server.ts`): the `$connect` authorizer's allow/deny rules and the credential
 * reference it passes on, the connection item's lifecycle, and `$default` frames (subscribe filtering by role, limits,
 * bad frames).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWsAuthorizerHandler, type WsAuthContext } from '#functions/ws-authorizer.ts';
import { createWsConnectHandler } from '#functions/ws-connect.ts';
import { createWsDefaultHandler } from '#functions/ws-default.ts';
import { createWsDisconnectHandler } from '#functions/ws-disconnect.ts';
import { sha256HexOf } from '#shared/domain/control/auth-secrets.ts';
import { DynamoWsConnections } from '#shared/infra/aws/ws-connections.ts';
import { ApiGatewayWsManagement } from '#shared/infra/aws/ws-management.ts';
import { createLogger } from '#shared/log.ts';
import { systemCaller } from '#shared/services/auth-service.ts';
import { type BrowserSession, type TestUser, WebTestStack } from '../web/support.ts';
import { ManagementServer } from './management-server.ts';

const CONSOLE = 'https://console.example.com';
const API_DOMAIN = 'abc123.execute-api.us-east-1.amazonaws.com';
const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/$connect';
const log = createLogger({ service: 'ws-test', level: 'silent' });

function authorizerEvent(headers: Record<string, string>, query: Record<string, string> | null = null) {
  return {
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    // As CloudFront forwards them: the API's own Host, and the console host in X-Forwarded-Host (set by the edge).
    headers: { Host: API_DOMAIN, 'X-Forwarded-Host': 'console.example.com', 'X-Forwarded-Proto': 'https', ...headers },
    queryStringParameters: query,
    requestContext: { domainName: API_DOMAIN, stage: 'prod', connectionId: 'conn-auth=' },
  };
}

function routeEvent(connectionId: string, routeKey: string, extra: Record<string, unknown> = {}) {
  const { authorizer, ...rest } = extra;
  return {
    requestContext: {
      routeKey,
      connectionId,
      domainName: API_DOMAIN,
      stage: 'prod',
      ...(authorizer ? { authorizer } : {}),
    },
    isBase64Encoded: false,
    ...rest,
  };
}

/** The `__Host-` cookie the browser holds over TLS, carrying the session id the login gave. */
function tlsCookie(s: BrowserSession): string {
  const value = s.cookie.split('=').slice(1).join('=');
  return `__Host-ghtrader_session=${value}`;
}

describe('WebSocket API handlers', () => {
  let web: WebTestStack;
  let server: ManagementServer;
  let management: ApiGatewayWsManagement;
  let connections: DynamoWsConnections;
  let viewer: TestUser;
  let operator: TestUser;
  let viewerSession: BrowserSession;
  let authorize: ReturnType<typeof createWsAuthorizerHandler>;

  beforeAll(async () => {
    web = await WebTestStack.create();
    server = await ManagementServer.start();
    management = new ApiGatewayWsManagement({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    connections = new DynamoWsConnections(web.stack.rt.clients.doc, web.stack.config.tables.wsConnections);
    viewer = await web.createUser('viewer');
    operator = await web.createUser('operator');
    viewerSession = await web.login(viewer);
    authorize = createWsAuthorizerHandler({ auth: web.auth, trustedProxyHops: 2, nowMs: Date.now, log });
  }, 60_000);

  afterAll(async () => {
    management?.destroy();
    await server?.close();
    await web?.close();
  });

  const connectionId = () => `${randomBytes(6).toString('base64url')}=`;
  const defaultHandler = () =>
    createWsDefaultHandler({ connections, management: () => management, nowMs: Date.now, log });

  async function connect(ctx: WsAuthContext, id = connectionId()): Promise<string> {
    const res = await createWsConnectHandler({ connections, nowMs: Date.now, log })(
      routeEvent(id, '$connect', { authorizer: { ...ctx, principalId: ctx.user_id } }),
    );
    expect(res.statusCode).toBe(200);
    return id;
  }

  async function contextOf(user: TestUser): Promise<WsAuthContext> {
    const r = await authorize(authorizerEvent({ authorization: `Bearer ${await web.token(user)}` }));
    return r.context as WsAuthContext;
  }

  describe('$connect authorizer', () => {
    it('answers 401 (throws Unauthorized) without a cookie or bearer token', async () => {
      // Act
      const attempt = authorize(authorizerEvent({ Origin: CONSOLE }));

      // Assess
      await expect(attempt).rejects.toThrow('Unauthorized');
    });

    it('answers 401 for the plain-http cookie name: over TLS only the __Host- cookie counts', async () => {
      // Act
      const attempt = authorize(authorizerEvent({ Origin: CONSOLE, Cookie: viewerSession.cookie }));

      // Assess
      await expect(attempt).rejects.toThrow('Unauthorized');
    });

    it('behind CloudFront, denies (403) a good bearer token that did not come with the origin secret', async () => {
      // Prepare: the authorizer as the console stack configures it
      const secret = randomBytes(24).toString('hex');
      const gated = createWsAuthorizerHandler({
        auth: web.auth,
        trustedProxyHops: 2,
        nowMs: Date.now,
        log,
        originSecret: secret,
      });
      const bearer = `Bearer ${await web.token(viewer)}`;

      // Act
      const direct = await gated(authorizerEvent({ authorization: bearer }));
      const wrong = await gated(authorizerEvent({ authorization: bearer, 'x-ghtrader-origin': `${secret}x` }));
      const viaCloudFront = await gated(authorizerEvent({ authorization: bearer, 'X-Ghtrader-Origin': secret }));

      // Assess
      expect(direct.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
      expect(wrong.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
      expect(viaCloudFront.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    });

    it('denies (403) a live session cookie sent from a foreign Origin', async () => {
      // Act
      const r = await authorize(authorizerEvent({ Origin: 'https://evil.example', Cookie: tlsCookie(viewerSession) }));

      // Assess
      expect(r.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny', Resource: METHOD_ARN });
      expect(r.context).toBeUndefined();
    });

    it('answers 401 for a bad bearer token, even with a good cookie (Authorization overrides the cookie)', async () => {
      // Act
      const attempt = authorize(
        authorizerEvent({ Origin: CONSOLE, Cookie: tlsCookie(viewerSession), Authorization: 'Bearer ght_nope' }),
      );

      // Assess
      await expect(attempt).rejects.toThrow('Unauthorized');
    });

    it('allows a good bearer token without any Origin and passes the identity on', async () => {
      // Prepare
      const token = await web.token(operator);

      // Act
      const r = await authorize(authorizerEvent({ Authorization: `Bearer ${token}` }));

      // Assess
      expect(r.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow', Resource: METHOD_ARN });
      expect(r.principalId).toBe(operator.id);
      expect(r.context).toMatchObject({ user_id: operator.id, role: 'operator', via: 'token' });
    });

    it('allows a live session cookie from the console origin, expiring within the 2 h connection limit', async () => {
      // Act
      const r = await authorize(authorizerEvent({ Origin: CONSOLE, Cookie: tlsCookie(viewerSession) }));

      // Assess
      expect(r.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
      const ctx = r.context as WsAuthContext;
      expect(ctx).toMatchObject({ user_id: viewer.id, username: viewer.username, role: 'viewer', via: 'session' });
      const ttl = Date.parse(ctx.expires_at) - Date.now();
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2 * 3600 * 1000);
    });

    it('ends the connection item at the session’s absolute expiry, not its idle one (the re-check enforces idle)', async () => {
      // Prepare: a 10 min idle limit in the config revision
      const admin = systemCaller('cli', 'cli:ws-test@host', 'req-ws-idle-1');
      await web.stack.rt.configService.set(admin, { values: { GHTRADER_SESSION_IDLE_S: 600 } });
      try {
        const session = await web.login(viewer);

        // Act
        const r = await authorize(authorizerEvent({ Origin: CONSOLE, Cookie: tlsCookie(session) }));

        // Assess: the 2 h API Gateway limit, well past the 10 min idle expiry
        const ttl = Date.parse((r.context as WsAuthContext).expires_at) - Date.now();
        expect(ttl).toBeGreaterThan(2 * 3600 * 1000 - 60_000);
        expect(ttl).toBeLessThanOrEqual(2 * 3600 * 1000);
      } finally {
        await web.stack.rt.configService.set(admin, { values: { GHTRADER_SESSION_IDLE_S: null } });
      }
    });

    it('passes a reference to the credential on, without its secret: session:<sha256> or token:<id>', async () => {
      // Prepare
      const token = await web.token(operator);
      const tokenId = token.split('_')[1];
      const sessionId = tlsCookie(viewerSession).split('=').slice(1).join('=');

      // Act
      const byCookie = await authorize(authorizerEvent({ Origin: CONSOLE, Cookie: tlsCookie(viewerSession) }));
      const byBearer = await authorize(authorizerEvent({ Authorization: `Bearer ${token}` }));

      // Assess
      expect(byCookie.context).toMatchObject({ via: 'session', credential_ref: `session:${sha256HexOf(sessionId)}` });
      expect(byBearer.context).toMatchObject({ via: 'token', credential_ref: `token:${tokenId}` });
      expect(JSON.stringify([byCookie.context, byBearer.context])).not.toContain(sessionId);
      // The secret is base64url and may itself hold `_`: everything after `ght_<id>_`.
      const secret = token.slice(`ght_${tokenId}_`.length);
      expect(secret.length).toBeGreaterThanOrEqual(40);
      expect(JSON.stringify(byBearer.context)).not.toContain(secret);
    });

    it('denies credentials in the query string', async () => {
      // Act
      const r = await authorize(authorizerEvent({ Origin: CONSOLE, Cookie: tlsCookie(viewerSession) }, { token: 'x' }));

      // Assess
      expect(r.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
    });
  });

  describe('connection lifecycle', () => {
    it('puts the item on $connect and deletes it on $disconnect', async () => {
      // Prepare
      const ctx = await contextOf(viewer);

      // Act
      const id = await connect(ctx);
      const stored = await connections.get(id);
      const res = await createWsDisconnectHandler({ connections, log })(routeEvent(id, '$disconnect'));

      // Assess
      expect(stored).toMatchObject({ connection_id: id, user_id: viewer.id, role: 'viewer', topics: [] });
      expect(stored?.expires_at).toBe(ctx.expires_at);
      expect(stored?.credential_ref).toMatch(/^token:[a-z2-7]{10}$/);
      expect(stored?.credential_ref).toBe(ctx.credential_ref);
      expect(res.statusCode).toBe(200);
      expect(await connections.get(id)).toBeNull();
    });

    it('stores the session reference of a cookie connection', async () => {
      // Prepare
      const r = await authorize(authorizerEvent({ Origin: CONSOLE, Cookie: tlsCookie(viewerSession) }));
      const ctx = r.context as WsAuthContext;

      // Act
      const id = await connect(ctx);

      // Assess
      expect((await connections.get(id))?.credential_ref).toBe(ctx.credential_ref);
      expect(ctx.credential_ref).toMatch(/^session:[0-9a-f]{64}$/);
      await connections.delete(id);
    });

    it('refuses a connect whose authorizer context carries no credential reference (it could not be re-checked)', async () => {
      // Prepare: the context of an authorizer older than credential references
      const { credential_ref: _dropped, ...old } = await contextOf(viewer);
      const id = connectionId();

      // Act
      const res = await createWsConnectHandler({ connections, nowMs: Date.now, log })(
        routeEvent(id, '$connect', { authorizer: { ...old, principalId: old.user_id } }),
      );

      // Assess
      expect(res.statusCode).toBe(401);
      expect(await connections.get(id)).toBeNull();
    });

    it('refuses a connect without authorizer context and one over the per-user limit', async () => {
      // Prepare
      const ctx = await contextOf(operator);
      const limited = createWsConnectHandler({ connections, nowMs: Date.now, log, maxPerUser: 1 });
      const first = connectionId();
      await limited(routeEvent(first, '$connect', { authorizer: ctx }));

      // Act
      const anonymous = await limited(routeEvent(connectionId(), '$connect'));
      const second = await limited(routeEvent(connectionId(), '$connect', { authorizer: ctx }));

      // Assess
      expect(anonymous.statusCode).toBe(401);
      expect(second.statusCode).toBe(429);
      await connections.delete(first);
    });
  });

  describe('$default frames', () => {
    it('subscribes a viewer to what it may read and denies audit and unknown topics', async () => {
      // Prepare
      const id = await connect(await contextOf(viewer));
      const frame = { type: 'subscribe', topics: ['jobs:all', 'audit', 'nope:x', 'config'] };

      // Act
      const res = await defaultHandler()(routeEvent(id, '$default', { body: JSON.stringify(frame) }));

      // Assess
      expect(res.body).toBe('replied');
      expect(server.messagesTo(id)).toEqual([
        {
          type: 'subscribed',
          topics: ['jobs:all', 'config'],
          denied: [
            { topic: 'audit', code: 'forbidden' },
            { topic: 'nope:x', code: 'invalid_topic' },
          ],
        },
      ]);
      expect((await connections.get(id))?.topics).toEqual(['jobs:all', 'config']);
    });

    it('subscribes an operator to audit, unsubscribes, and answers ping', async () => {
      // Prepare
      const id = await connect(await contextOf(operator));
      const handle = defaultHandler();

      // Act
      await handle(
        routeEvent(id, '$default', { body: JSON.stringify({ type: 'subscribe', topics: ['audit', 'config'] }) }),
      );
      await handle(routeEvent(id, '$default', { body: JSON.stringify({ type: 'unsubscribe', topics: ['config'] }) }));
      await handle(routeEvent(id, '$default', { body: JSON.stringify({ type: 'ping' }) }));

      // Assess
      const replies = server.messagesTo(id);
      expect(replies.map((r) => r.type)).toEqual(['subscribed', 'unsubscribed', 'pong']);
      expect(replies[0]).toMatchObject({ topics: ['audit', 'config'], denied: [] });
      expect((await connections.get(id))?.topics).toEqual(['audit']);
    });

    it('answers invalid_frame to a frame that is not JSON or not in the schema, and keeps the connection', async () => {
      // Prepare
      const id = await connect(await contextOf(viewer));
      const handle = defaultHandler();

      // Act
      await handle(routeEvent(id, '$default', { body: 'not json' }));
      await handle(routeEvent(id, '$default', { body: JSON.stringify({ type: 'subscribe', topics: [] }) }));

      // Assess
      const replies = server.messagesTo(id);
      expect(replies.map((r) => [r.type, r.code])).toEqual([
        ['error', 'invalid_frame'],
        ['error', 'invalid_frame'],
      ]);
      expect(String(replies[1]?.message)).toContain('topics');
      expect(await connections.get(id)).not.toBeNull();
    });

    it('closes a connection whose frame is over 4 KiB, says why, and deletes its item', async () => {
      // Prepare
      const id = await connect(await contextOf(viewer));
      const big = JSON.stringify({ type: 'subscribe', topics: ['config'], pad: 'x'.repeat(5000) });

      // Act
      const res = await defaultHandler()(routeEvent(id, '$default', { body: big }));

      // Assess
      expect(res.body).toBe('closed');
      expect(server.messagesTo(id)).toEqual([
        { type: 'error', code: 'frame_rejected', message: expect.stringContaining('4096-byte limit') },
      ]);
      expect(server.deletes).toContain(id);
      expect(await connections.get(id)).toBeNull();
    });

    it('closes a connection that sends a binary frame or more than 10 frames in one second', async () => {
      // Prepare
      const binary = await connect(await contextOf(viewer));
      const chatty = await connect(await contextOf(viewer));
      const now = Math.floor(Date.now() / 1000) * 1000 + 10;
      const handle = createWsDefaultHandler({ connections, management: () => management, nowMs: () => now, log });
      const ping = JSON.stringify({ type: 'ping' });

      // Act
      const b = await handle(routeEvent(binary, '$default', { body: 'AAEC', isBase64Encoded: true }));
      const outcomes: (string | undefined)[] = [];
      for (let i = 0; i < 11; i++) outcomes.push((await handle(routeEvent(chatty, '$default', { body: ping }))).body);

      // Assess
      expect(b.body).toBe('closed');
      expect(outcomes.slice(0, 10).every((o) => o === 'replied')).toBe(true);
      expect(outcomes[10]).toBe('closed');
      expect(await connections.get(binary)).toBeNull();
      expect(await connections.get(chatty)).toBeNull();
    });

    it('closes a frame from a connection that has no item', async () => {
      // Act
      const id = connectionId();
      const res = await defaultHandler()(routeEvent(id, '$default', { body: JSON.stringify({ type: 'ping' }) }));

      // Assess
      expect(res.body).toBe('closed');
      expect(server.deletes).toContain(id);
    });
  });
});
