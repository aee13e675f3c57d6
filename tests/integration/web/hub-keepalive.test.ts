/**
 * The hub's keepalive over real sockets (control-chain §7: "ping every 30 s, no pong in 10 s -> terminate"), with the
 * intervals shortened: a client that answers pings stays; one that does not is terminated within the pong timeout —
 * not only at the next ping — and counted as pruned.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { silentLogger } from '#shared/log.ts';
import { RealtimeHub } from '#web/realtime/hub.ts';

const PING_MS = 1_000;
const PONG_TIMEOUT_MS = 200;

describe('RealtimeHub keepalive', () => {
  let wss: WebSocketServer;
  let hub: RealtimeHub;
  let url: string;
  const clients: WebSocket[] = [];

  beforeAll(async () => {
    hub = new RealtimeHub({
      log: silentLogger(),
      reauthenticate: async () => ({ userId: 'u', role: 'viewer' }),
      pingIntervalMs: PING_MS,
      pongTimeoutMs: PONG_TIMEOUT_MS,
      sessionRecheckMs: 3_600_000,
    });
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    wss.on('connection', (ws) => hub.connect(ws, { userId: 'u', role: 'viewer' }, { kind: 'session', id: 'x' }));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const c of clients) c.terminate();
    hub.close();
    await new Promise((r) => wss.close(r));
  });

  async function open(autoPong: boolean): Promise<{ ws: WebSocket; closedAt: Promise<number> }> {
    const ws = new WebSocket(url, { autoPong });
    clients.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const closedAt = new Promise<number>((resolve) => ws.once('close', () => resolve(performance.now())));
    return { ws, closedAt };
  }

  it('terminates a socket that leaves a ping unanswered within the pong timeout, and keeps one that answers', async () => {
    const silent = await open(false);
    const answering = await open(true);
    const pinged = new Promise<number>((resolve) => silent.ws.once('ping', () => resolve(performance.now())));

    const pingAt = await pinged;
    const closedAt = await silent.closedAt;

    // Closed after the pong timeout, well before the next ping.
    expect(closedAt - pingAt).toBeGreaterThanOrEqual(PONG_TIMEOUT_MS - 50);
    expect(closedAt - pingAt).toBeLessThan(PING_MS - 100);
    expect(answering.ws.readyState).toBe(WebSocket.OPEN);
    expect(hub.stats()).toMatchObject({ connections: 1, dead_clients_pruned_total: 1 });
  });
});
