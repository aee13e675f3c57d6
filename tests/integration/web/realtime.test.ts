/**
 * Live updates over a real HTTP server, real WebSockets and the real Redis (control-chain §7; acceptance 9, 19–21):
 * upgrade refused without a session (401) or from a foreign origin (403) and never counted; viewers denied the audit
 * topic; a published gateway state and job progress reach a subscribed socket within 1 s; a disconnect storm is
 * accounted and pruned while live clients keep receiving; a client that stops reading is dropped for, then closed
 * 1013; client frame hygiene; a revoked session is closed 4401.
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { sha256HexOf } from '#shared/domain/control/auth-secrets.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import type { MarketPoint } from '#shared/domain/market/feed.ts';
import { silentLogger } from '#shared/log.ts';
import { systemCaller } from '#shared/services/auth-service.ts';
import { TicksPublisher } from '#shared/services/ticks-publisher.ts';
import { createNodeRealtime, type NodeRealtime } from '#web/realtime/node.ts';
import { waitFor } from '../support/stack.ts';
import { type BrowserSession, type TestUser, WebTestStack } from './support.ts';

const LAG_CLOSE_MS = 1_500;

/** A server frame: an envelope or a direct reply (`subscribed`, `pong`, `error`). */
type Message = Record<string, unknown> & { type: string; seq?: number };

function until(pred: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<true> {
  return waitFor(async () => pred() || null, timeoutMs, what, 20);
}

describe('GET /ws live updates', () => {
  let web: WebTestStack;
  let realtime: NodeRealtime;
  let server: Server;
  let origin: string;
  let operator: TestUser;
  let viewer: TestUser;
  let opSession: BrowserSession;
  let viewerSession: BrowserSession;
  const open: WebSocket[] = [];

  beforeAll(async () => {
    web = await WebTestStack.create({
      realtime: (auth, stack, hot) => {
        realtime = createNodeRealtime({
          config: stack.config,
          auth,
          hot,
          log: silentLogger(),
          hub: { limits: { lagCloseMs: LAG_CLOSE_MS, queueMax: 16 }, maxPerUser: 300, pingIntervalMs: 120_000 },
        });
        return realtime.deps;
      },
    });
    server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: web.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server));
    });
    realtime.attach(web.app, server);
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    operator = await web.createUser('operator');
    viewer = await web.createUser('viewer');
    opSession = await web.login(operator);
    viewerSession = await web.login(viewer);
    await web.stack.rt.warm.settle(2_000);
    await until(() => realtime.feed.current().up, 10_000, 'realtime feed subscribed');
  }, 60_000);

  afterAll(async () => {
    for (const ws of open) ws.terminate();
    await realtime?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await web?.stack.close();
  });

  /** Open an authenticated socket; resolves once open, with every parsed message collected. */
  async function connect(session: BrowserSession, headers: Record<string, string> = {}) {
    const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws`, {
      headers: { cookie: session.cookie, origin, ...headers },
    });
    open.push(ws);
    const messages: Message[] = [];
    const arrivals: number[] = [];
    ws.on('message', (data) => {
      messages.push(JSON.parse(String(data)));
      arrivals.push(performance.now());
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return { ws, messages, arrivals };
  }

  /** A socket authenticated by a bearer token (no cookie, no origin), open. */
  async function connectBearer(token: string): Promise<WebSocket> {
    const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${token}` } });
    open.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return ws;
  }

  async function subscribe(c: Awaited<ReturnType<typeof connect>>, topics: string[]) {
    const before = c.messages.length;
    c.ws.send(JSON.stringify({ type: 'subscribe', topics }));
    await until(() => c.messages.slice(before).some((m) => m.type === 'subscribed'), 5_000, 'subscribed reply');
    return c.messages.slice(before).find((m) => m.type === 'subscribed') as unknown as {
      topics: string[];
      denied: { topic: string; code: string }[];
    };
  }

  /** The HTTP status of a refused upgrade. */
  function refusedStatus(headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws`, { headers });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('open', () => reject(new Error('upgrade was accepted')));
      ws.once('error', () => {});
    });
  }

  it('carries the market feed as ticks:<var> from the publisher through Redis to a viewer within 1 s', async () => {
    const base = realtime.hub.stats().connections;
    const v = await connect(viewerSession);
    expect((await subscribe(v, ['ticks:au'])).topics).toEqual(['ticks:au']);
    const points: MarketPoint[] = [[1_000_000_000n, 500.5, 500.4, 500.6, 3]];
    const publisher = new TicksPublisher({
      feed: {
        snapshot: (variety) => ({
          variety,
          main_contract: 'SHFE.au2612',
          quote: null,
          points,
          feed: { state: 'ok', text: 'live', error: '', updated_at: new Date().toISOString(), stale: false },
        }),
      },
      publish: (channel, message) => web.stack.rt.warm.publish(channel, message),
      log: silentLogger(),
      varieties: ['au'],
    });
    const sentAt = performance.now();
    publisher.publishChanges();
    await until(() => v.messages.some((m) => m.type === 'ticks'), 5_000, 'ticks message');
    const i = v.messages.findIndex((m) => m.type === 'ticks');
    expect((v.arrivals[i] as number) - sentAt).toBeLessThan(1_000);
    expect(v.messages[i]).toMatchObject({
      topic: 'ticks:au',
      payload: {
        var: 'au',
        main_contract: 'SHFE.au2612',
        reset: true,
        points: [['1000000000', 500.5, 500.4, 500.6, 3]],
      },
    });
    // Only what is new follows, with the next seq.
    points.push([2_000_000_000n, 501, 500.9, 501.1, 4]);
    publisher.publishChanges();
    await until(() => v.messages.filter((m) => m.type === 'ticks').length === 2, 5_000, 'second ticks message');
    const second = v.messages.filter((m) => m.type === 'ticks')[1];
    expect(second).toMatchObject({
      seq: (v.messages[i]?.seq ?? 0) + 1,
      payload: { reset: false, points: [['2000000000', 501, 500.9, 501.1, 4]] },
    });
    v.ws.close();
    await until(() => realtime.hub.stats().connections === base, 5_000, 'socket closed');
  });

  it('refuses the upgrade without a session (401) or from a foreign origin (403), counting no connection', async () => {
    const before = realtime.hub.stats().connections;
    expect(await refusedStatus({ origin })).toBe(401);
    expect(await refusedStatus({ origin, cookie: 'ghtrader_session=not-a-session' })).toBe(401);
    expect(await refusedStatus({ origin: 'http://evil.example', cookie: opSession.cookie })).toBe(403);
    expect(realtime.hub.stats().connections).toBe(before);
    // A bearer token needs no origin.
    const token = await web.token(operator);
    const ws = await connectBearer(token);
    ws.close();
  });

  it('denies a viewer the audit topic and delivers a published gateway state to an operator within 1 s', async () => {
    const v = await connect(viewerSession);
    const sub = await subscribe(v, ['audit', 'gateway:default', 'bogus topic']);
    expect(sub.topics).toEqual(['gateway:default']);
    expect(sub.denied).toEqual([
      { topic: 'audit', code: 'forbidden' },
      { topic: 'bogus topic', code: 'invalid_topic' },
    ]);

    const op = await connect(opSession);
    expect((await subscribe(op, ['gateway:default', 'audit'])).denied).toEqual([]);
    const t0 = performance.now();
    web.stack.rt.warm.publish('gateway:updates:default', { mode: 'sim', state_revision: 7 });
    await until(() => op.messages.some((m) => m.type === 'gateway.state'), 1_000, 'gateway.state within 1 s');
    const i = op.messages.findIndex((m) => m.type === 'gateway.state');
    expect(op.arrivals[i] as number).toBeLessThan(t0 + 1_000);
    expect(op.messages[i]).toMatchObject({
      v: 1,
      topic: 'gateway:default',
      type: 'gateway.state',
      payload: { mode: 'sim', state_revision: 7 },
    });
    expect(String(op.messages[i]?.ts)).toMatch(/Z$/);
    await until(() => v.messages.some((m) => m.type === 'gateway.state'), 1_000, 'viewer gets gateway.state');

    // A late subscriber gets the last message of the topic replayed.
    const late = await connect(viewerSession);
    await subscribe(late, ['gateway:default']);
    await until(() => late.messages.some((m) => m.type === 'gateway.state'), 1_000, 'replay on subscribe');
  });

  it('carries job progress to a subscribed socket within 1 s with a rising seq', async () => {
    const c = await connect(viewerSession);
    const jobId = ulidGen.next();
    await subscribe(c, [`job:${jobId}`]);
    for (const pct of [0.25, 0.5]) {
      web.stack.rt.events.publish({
        type: 'job.progress',
        job_id: jobId,
        kind: 'system.sleep',
        var: null,
        progress: { pct } as never,
      });
    }
    await until(() => c.messages.filter((m) => m.type === 'job.progress').length === 2, 1_000, 'two progress');
    const seqs = c.messages.filter((m) => m.type === 'job.progress').map((m) => m.seq);
    expect(seqs[1]).toBe((seqs[0] as number) + 1);
  });

  it('accounts a disconnect storm: 150 of 200 drop abruptly, the 50 live clients still receive', async () => {
    const clients = await Promise.all(Array.from({ length: 200 }, () => connect(opSession)));
    await Promise.all(clients.map((c) => subscribe(c, ['gateway:storm'])));
    const before = realtime.hub.stats();
    for (const c of clients.slice(0, 150)) c.ws.terminate();
    await new Promise((r) => setTimeout(r, 300)); // the server sees the TCP close (1006)

    web.stack.rt.warm.publish('gateway:updates:storm', { n: 1 });
    const live = clients.slice(150);
    await until(() => live.every((c) => c.messages.some((m) => m.type === 'gateway.state')), 5_000, 'live get it');
    await until(
      () => realtime.hub.stats().dead_clients_pruned_total - before.dead_clients_pruned_total === 150,
      5_000,
      'pruned 150',
    );
    const after = realtime.hub.stats();
    expect(after.broadcast_attempt_total - before.broadcast_attempt_total).toBe(200);
    expect(after.broadcast_success_total - before.broadcast_success_total).toBe(50);
    expect(after.broadcast_failures_total - before.broadcast_failures_total).toBe(150);
    expect(after.connections).toBe(before.connections - 150);
    expect(after.last_broadcast_error).toMatch(/1006/);

    // The next clean round clears the error; the counters are served by /api/observability/ws.
    web.stack.rt.warm.publish('gateway:updates:storm', { n: 2 });
    await until(() => live.every((c) => c.messages.filter((m) => m.type === 'gateway.state').length === 2), 5_000);
    await until(() => realtime.hub.stats().last_broadcast_error === null, 2_000, 'error cleared');
    const res = await web.request('/api/observability/ws', { headers: { cookie: viewerSession.cookie } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ last_broadcast_error: null, connections: after.connections });
    for (const c of live) c.ws.close();
  }, 60_000);

  it('drops messages for a client that stops reading, then closes it 1013, while others keep receiving', async () => {
    const slow = await connect(opSession);
    const fast = await connect(opSession);
    await subscribe(slow, ['gateway:lag']);
    await subscribe(fast, ['gateway:lag']);
    const closed = new Promise<number>((resolve) => slow.ws.once('close', (code) => resolve(code)));
    // Stop reading: the kernel buffers fill and the server's sends to it stop completing.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const before = realtime.hub.stats();
    const big = 'x'.repeat(256 * 1024);
    // 80 × 256 KiB at 50 messages/s: easy for a reading client, far beyond a stopped one's socket buffers.
    for (let i = 0; i < 80; i++) {
      web.stack.rt.warm.publish('gateway:updates:lag', { i, big });
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => fast.messages.filter((m) => m.type === 'gateway.state').length === 80, 15_000, 'fast got 80');
    await until(() => realtime.hub.stats().dropped_total > before.dropped_total, 5_000, 'drops counted');
    // Still not reading after the lag limit: the hub closes it 1013 (the close frame waits behind the unread data,
    // so the stuck peer is also cut off a second later) and counts it as pruned.
    await until(
      () => realtime.hub.stats().dead_clients_pruned_total > before.dead_clients_pruned_total,
      LAG_CLOSE_MS + 5_000,
      'slow client closed',
    );
    expect(realtime.hub.stats().connections).toBe(before.connections - 1);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect([1013, 1006]).toContain(await closed);
    fast.ws.close();
  }, 60_000);

  it('closes 1008 on an oversized or too frequent frame, and answers a malformed one with an error', async () => {
    const a = await connect(viewerSession);
    a.ws.send(JSON.stringify({ type: 'subscribe', topics: ['config'], pad: 1 }));
    await until(() => a.messages.some((m) => m.type === 'error'), 2_000, 'invalid_frame reply');
    const aClosed = new Promise<number>((resolve) => a.ws.once('close', (code) => resolve(code)));
    a.ws.send(JSON.stringify({ type: 'ping', pad: 'y'.repeat(5000) }));
    expect(await aClosed).toBe(1008);

    const b = await connect(viewerSession);
    const bClosed = new Promise<number>((resolve) => b.ws.once('close', (code) => resolve(code)));
    for (let i = 0; i < 12; i++) b.ws.send(JSON.stringify({ type: 'ping' }));
    expect(await bClosed).toBe(1008);
  });

  it('closes a socket 4401 once its session is revoked', async () => {
    const s = await web.login(viewer);
    const c = await connect(s);
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    const res = await web.request('/api/auth/logout', {
      method: 'POST',
      headers: { ...web.browserHeaders(s), 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBeLessThan(300);
    await realtime.hub.recheckSessions();
    expect(await closed).toBe(4401);
  });

  it('keeps a live session’s socket across a re-check, and closes a bearer socket 4401 once its token is revoked', async () => {
    // A live session's socket stays open, and the re-check writes nothing (auth-recheck.test.ts: it never touches).
    const s = await web.login(viewer);
    const c = await connect(s);
    const sessionId = decodeURIComponent(s.cookie.split('=')[1] ?? '');
    const seenBefore = (await web.users.getSession(sha256HexOf(sessionId)))?.last_seen_at;
    await realtime.hub.recheckSessions();
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    expect((await web.users.getSession(sha256HexOf(sessionId)))?.last_seen_at).toBe(seenBefore);

    const token = await web.token(operator);
    const ws = await connectBearer(token);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const tokenId = token.split('_')[1] ?? '';
    await web.auth.revokeToken(systemCaller('system', 'test', ulidGen.next()), tokenId);
    await realtime.hub.recheckSessions();
    expect(await closed).toBe(4401);
  });
});
