/**
 * The HTTP API Lambda handler (`hono/aws-lambda` around `createApp`) over a per-file stack on dynalite: API Gateway
 * HTTP API payload v2 events in, Lambda proxy results out, the client ip from `requestContext`, the bundled static
 * assets from the handler's directory, and the refusal to start without a shared cursor secret.
 */
import path from 'node:path';
import type { LambdaEvent } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApiApp, createHttpApiHandler } from '#functions/http-api.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemClock } from '#shared/domain/time.ts';
import { BroadcasterStatsFlusher } from '#shared/infra/aws/broadcaster-stats.ts';
import { CONSOLE_BROADCASTER_ID } from '#shared/infra/aws/ws-broadcaster-lease.ts';
import { systemCaller } from '#shared/services/auth-service.ts';
import { authServiceFor } from '#web/deps-from-runtime.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';

const STATIC_DIR = path.resolve('dist/web/static');

function httpEvent(method: string, rawPath: string, headers: Record<string, string> = {}): LambdaEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: { host: 'abc.execute-api.us-east-1.amazonaws.com', 'x-forwarded-proto': 'https', ...headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc',
      domainName: 'abc.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2025:00:00:00 +0000',
      timeEpoch: Date.now(),
      authentication: null,
      authorizer: {},
    },
    body: null,
    isBase64Encoded: false,
  };
}

describe('HTTP API Lambda', () => {
  let stack: TestStack;
  let token: string;

  beforeAll(async () => {
    stack = await createTestStack();
    const auth = authServiceFor({
      config: stack.config,
      doc: stack.rt.clients.doc,
      audit: stack.rt.audit,
      log: stack.log,
      cursorSecret: stack.config.auth.cursorSecret ?? '',
    });
    const caller = systemCaller('system', 'test', ulidGen.next());
    const user = await auth.createUser(caller, {
      username: `q-${ulidGen.next().toLowerCase()}`,
      password: 'pw-0123456789ab',
      role: 'operator',
    });
    token = (await auth.createToken(caller, { name: 'ci', role: 'operator' }, { owner: user.username })).token;
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('answers /health through the Lambda proxy result shape', async () => {
    // Prepare
    const handler = createHttpApiHandler(stack.rt);

    // Act
    const res = await handler(httpEvent('GET', '/health'));

    // Assess
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ok: true });
  });

  it('authenticates a bearer token against the Users table and answers /api/auth/me', async () => {
    // Prepare
    const handler = createHttpApiHandler(stack.rt);

    // Act
    const res = await handler(httpEvent('GET', '/api/auth/me', { authorization: `Bearer ${token}` }));
    const anonymous = await handler(httpEvent('GET', '/api/auth/me'));

    // Assess
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ user: { role: 'operator' } });
    expect(anonymous.statusCode).toBe(401);
  });

  it('writes one CloudWatch EMF line per request: latency and server errors per route template (§10)', async () => {
    // Prepare
    const lines: string[] = [];
    const handler = createHttpApiHandler(stack.rt, { writeMetricLine: (l) => lines.push(l) });

    // Act
    await handler(httpEvent('GET', '/api/auth/me', { authorization: `Bearer ${token}` }));
    await handler(httpEvent('GET', '/api/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV', { authorization: `Bearer ${token}` }));

    // Assess
    const records = lines.map((l) => JSON.parse(l));
    expect(records.map((r) => [r.Route, r.status, r.server_errors])).toEqual([
      ['GET /api/auth/me', 200, 0],
      ['GET /api/jobs/:id', 404, 0],
    ]);
    expect(records[0]._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'ghtrader/console',
      Dimensions: [['Service', 'Route'], ['Service']],
      Metrics: [
        { Name: 'latency_ms', Unit: 'Milliseconds' },
        { Name: 'server_errors', Unit: 'Count' },
      ],
    });
    expect(records[0].latency_ms).toBeGreaterThan(0);
    expect(records[0].Service).toBe('http-api');
  });

  it('reports the AWS broadcaster’s counters flushed to TradingState at /api/observability/ws and in the SLO', async () => {
    // Prepare
    const handler = createHttpApiHandler(stack.rt);
    const auth = { authorization: `Bearer ${token}` };
    const before = await handler(httpEvent('GET', '/api/observability/ws', auth));
    const flusher = new BroadcasterStatsFlusher({
      doc: stack.rt.clients.doc,
      table: stack.config.tables.tradingState,
      id: CONSOLE_BROADCASTER_ID,
      sink: 'aws',
      hostId: 'colo-1',
      source: () => ({
        connections: 3,
        broadcast_attempt_total: 10,
        broadcast_success_total: 9,
        broadcast_failures_total: 1,
        dead_clients_pruned_total: 1,
        dropped_total: 0,
        last_broadcast_error: 'GoneException: connection is gone (410)',
        last_broadcast_error_at: '2026-11-21T00:00:00.000Z',
        fanout_latency: { count: 9, p50_ms: 4, p99_ms: 9, max_ms: 9 },
        in_flight: 0,
      }),
      clock: systemClock,
      log: stack.log,
    });

    // Act
    await flusher.flushNow();
    const after = await handler(httpEvent('GET', '/api/observability/ws', auth));
    const slo = await handler(httpEvent('GET', '/api/observability/slo', auth));

    // Assess: nothing flushed yet -> 503 naming what to run; then the stored counters with their as_of
    expect(before.statusCode).toBe(503);
    expect(JSON.parse(before.body).error.message).toMatch(/broadcaster-endpoint/);
    expect(after.statusCode).toBe(200);
    expect(JSON.parse(after.body)).toMatchObject({
      connections: 3,
      broadcast_failures_total: 1,
      last_broadcast_error: 'GoneException: connection is gone (410)',
      broadcaster: { id: CONSOLE_BROADCASTER_ID, sink: 'aws', host_id: 'colo-1' },
      in_flight: 0,
    });
    expect(slo.statusCode).toBe(200);
    expect(JSON.stringify(JSON.parse(slo.body))).toContain('GoneException: connection is gone (410)');
  });

  it('serves desired state and supervisor status (the Lambda app is wired for supervision)', async () => {
    // Prepare
    const handler = createHttpApiHandler(stack.rt);

    // Act
    const res = await handler(httpEvent('GET', '/api/gateway/status', { authorization: `Bearer ${token}` }));

    // Assess
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ component: 'gateway' });
  });

  it('serves the built client from the static directory it was given', async () => {
    // Prepare
    const handler = createHttpApiHandler(stack.rt, { staticDir: STATIC_DIR });

    // Act
    const res = await handler(httpEvent('GET', '/static/favicon.svg'));

    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toBe('image/svg+xml');
  });

  it('refuses to start without GHTRADER_CURSOR_SECRET', () => {
    // Prepare
    const rt = { ...stack.rt, config: { ...stack.config, auth: { ...stack.config.auth, cursorSecret: undefined } } };

    // Act
    const build = () => createHttpApiApp(rt);

    // Assess
    expect(build).toThrow(/GHTRADER_CURSOR_SECRET is required/);
  });
});
