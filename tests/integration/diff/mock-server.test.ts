import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import type { BrokerEvent } from '#shared/domain/trading/ports.ts';
import { MaintenanceError, UnknownSymbolError } from '#shared/errors/diff.ts';
import { USER_AGENT } from '#shared/infra/diff/config.ts';
import { parseFrameLines } from '#shared/infra/diff/framelog.ts';
import { parseDiffJson, stringifyDiffJson } from '#shared/infra/diff/json.ts';
import { CONNECTION_CODES } from '#shared/infra/diff/reconnect.ts';
import { replayStore, startMockServer } from '#shared/infra/diff/replay.ts';
import { fakeJwt, makeClient, until } from './support.ts';

const TOKEN = fakeJwt({ sub: 'mock-user', grants: { features: ['futr', 'tq_dl'], accounts: ['*'] } });
const FIXTURE = new URL('../../fixtures/diff/md-quote-session.jsonl', import.meta.url);
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  // Last opened, first closed: clients before the servers they talk to.
  for (const c of closers.splice(0).reverse()) await c();
});

function env(extra: Record<string, string>): Record<string, string> {
  return {
    GHTRADER_DIFF_TOKEN: TOKEN,
    GHTRADER_DIFF_BACKOFF_BASE_MS: '50',
    GHTRADER_DIFF_READY_TIMEOUT_S: '5',
    ...extra,
  };
}

/** A tiny DIFF td server: each connection runs `script(ws, n)` (n = 0, 1, ... per connection). */
async function tdServer(
  script: (ws: WebSocket, n: number, recv: (aid: string) => Promise<Record<string, unknown>>) => Promise<void>,
  opts: { autoPong?: boolean } = {},
): Promise<{ url: string; wss: WebSocketServer }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: opts.autoPong ?? true });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  let n = 0;
  wss.on('connection', (ws) => {
    const inbox: Record<string, unknown>[] = [];
    const waiters: (() => void)[] = [];
    ws.on('message', (d: Buffer) => {
      inbox.push(parseDiffJson(d.toString('utf8')) as Record<string, unknown>);
      for (const w of waiters.splice(0)) w();
    });
    const recv = async (aid: string): Promise<Record<string, unknown>> => {
      for (;;) {
        const i = inbox.findIndex((f) => f.aid === aid);
        if (i >= 0) return inbox.splice(i, 1)[0] as Record<string, unknown>;
        await new Promise<void>((r) => waiters.push(r));
      }
    };
    void script(ws, n++, recv).catch(() => ws.terminate());
  });
  closers.push(() => closeWss(wss));
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/td`, wss };
}

function closeWss(wss: WebSocketServer): Promise<void> {
  for (const c of wss.clients) c.terminate();
  return new Promise<void>((r) => wss.close(() => r()));
}

const rtn = (...data: unknown[]) => stringifyDiffJson({ aid: 'rtn_data', data });

function snapshotPatch(orders: Record<string, unknown>, positions: Record<string, unknown>) {
  return {
    trade: {
      u1: {
        user_id: 'u1',
        trading_day: '20250110',
        session: { user_id: 'u1', trading_day: '20250110' },
        accounts: { CNY: { balance: 10_000_000, available: 10_000_000, margin: 0 } },
        orders,
        positions,
        trades: {},
        trade_more_data: false,
      },
    },
  };
}

describe('DIFF client against scripted loopback servers', () => {
  it('replays a hand-written md fixture: legacy greeting ignored, NaN tokens and 19-digit ns kept, sends identical', async () => {
    // Prepare
    const lines = parseFrameLines(readFileSync(FIXTURE, 'utf8'));
    const mock = await startMockServer(lines);
    closers.push(() => mock.close());
    const client = makeClient(env({ GHTRADER_DIFF_MD_URL: mock.mdUrl }));
    closers.push(() => client.close());

    // Act
    const md = await client.openMarket();
    const q = await md.market.getQuote('SHFE.cu2503');
    await mock.done('md');
    await until(() => (md.market.conn.store.get('quotes/SHFE.cu2503/volume') === 1235 ? true : undefined));

    // Assess
    expect(q.price_tick).toBe(10);
    expect(q.close).toBeNaN();
    expect(q.expire_datetime).toBe(1742022000000000001n);
    expect(md.market.conn.store.get('quotes/SHFE.cu2503/bid_price2')).toBeNaN();
    expect(md.market.conn.store.get('quotes/SHFE.cu2503')).not.toHaveProperty('ask_price6');
    expect(md.market.conn.store.root).toEqual(replayStore(lines, 'md').store.root);
    expect(mock.headers.md?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(mock.headers.md?.['user-agent']).toBe(USER_AGENT);
    expect(mock.extra.md).toEqual([]);
  });

  it('fails the replay with a structural diff when a send differs from the recording', async () => {
    // Prepare
    const lines = parseFrameLines(readFileSync(FIXTURE, 'utf8'));
    const mock = await startMockServer(lines);
    closers.push(() => mock.close());
    const client = makeClient(env({ GHTRADER_DIFF_MD_URL: mock.mdUrl }));
    closers.push(() => client.close());
    const md = await client.openMarket();

    // Act
    md.market.subscribeQuote(['SHFE.cu2505']);
    const err = await mock.done('md').then(
      () => undefined,
      (e: unknown) => e as Error,
    );

    // Assess
    expect(err?.message).toContain('/ins_list: expected "SHFE.cu2503", found "SHFE.cu2505"');
  });

  it('rejects getQuote with UnknownSymbolError when the echoed list has no quote for the symbol', async () => {
    // Prepare
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    closers.push(() => closeWss(wss));
    wss.on('connection', (ws) => {
      ws.send(rtn({ ins_list: '', mdhis_more_data: false }));
      ws.on('message', (d: Buffer) => {
        const f = parseDiffJson(d.toString()) as { aid: string; ins_list?: string };
        if (f.aid === 'subscribe_quote') ws.send(rtn({ ins_list: f.ins_list }));
      });
    });
    const client = makeClient(
      env({ GHTRADER_DIFF_MD_URL: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/md` }),
    );
    closers.push(() => client.close());
    const md = await client.openMarket();

    // Act
    const err = await md.market.getQuote('SHFE.cu9912', { timeoutMs: 3_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(err).toBeInstanceOf(UnknownSymbolError);
  });

  it('deletes orders and positions that vanished across a td reconnect, in one resync batch', async () => {
    // Prepare
    const server = await tdServer(async (ws, n, recv) => {
      ws.send(stringifyDiffJson({ aid: 'rtn_brokers', brokers: ['mock'] }));
      await recv('req_login');
      await recv('peek_message');
      const orders =
        n === 0
          ? {
              o1: { order_id: 'o1', status: 'ALIVE', exchange_order_id: 'x1' },
              o2: { order_id: 'o2', status: 'ALIVE', exchange_order_id: 'x2' },
            }
          : { o1: { order_id: 'o1', status: 'FINISHED', exchange_order_id: 'x1', last_msg: '已撤单' } };
      const positions = n === 0 ? { 'SHFE.cu2503': { volume_long_today: 1, pos_long_today: 1 } } : {};
      ws.send(
        rtn(
          { notify: { [`n${n}`]: { type: 'MESSAGE', level: 'INFO', code: 401, content: 'ok' } } },
          snapshotPatch(orders, positions),
        ),
      );
      if (n === 0) {
        await recv('peek_message');
        ws.terminate();
      }
    });
    const client = makeClient(env({ GHTRADER_DIFF_TD_URL: server.url }));
    closers.push(() => client.close());
    const session = await client.brokerSession({ brokerId: 'mock', account: 'u1', password: 'p' });
    const events: BrokerEvent[] = [];
    const stream = session.events();
    void (async () => {
      for await (const e of stream) events.push(e);
    })();

    // Act
    await session.login();
    await until(() => (events.some((e) => e.kind === 'update' && e.resync) ? true : undefined), 5_000, 'resync batch');

    // Assess
    const resync = events.filter((e) => e.kind === 'update' && e.resync);
    expect(resync).toHaveLength(1);
    const update = resync[0] as Extract<BrokerEvent, { kind: 'update' }>;
    expect(update.removed.orders).toEqual(['o2']);
    expect(update.removed.positions).toEqual(['SHFE.cu2503']);
    expect(update.orders.map((o) => [o.order_id, o.status])).toEqual([['o1', 'FINISHED']]);
    expect(session.snapshot().positions).toEqual([]);
    expect(session.client?.brokers).toEqual(['mock']);
    const codes = events.flatMap((e) => (e.kind === 'connection' ? [e.code] : []));
    expect(codes).toEqual([
      CONNECTION_CODES.connected,
      CONNECTION_CODES.disconnected,
      CONNECTION_CODES.reconnecting,
      CONNECTION_CODES.reconnected,
    ]);
  });

  it('never releases an incomplete td snapshot: a re-login that does not complete keeps the mirror and retries', async () => {
    // Prepare
    const server = await tdServer(async (ws, n, recv) => {
      await recv('req_login');
      if (n === 0) {
        ws.send(rtn(snapshotPatch({ o1: { order_id: 'o1', status: 'ALIVE', exchange_order_id: 'x1' } }, {})));
        await recv('peek_message');
        await recv('peek_message');
        ws.terminate();
        return;
      }
      ws.send(
        rtn({ notify: { [`bad${n}`]: { type: 'MESSAGE', level: 'ERROR', code: 403, content: 'login failed' } } }),
      );
    });
    const client = makeClient(env({ GHTRADER_DIFF_TD_URL: server.url, GHTRADER_DIFF_RESYNC_TIMEOUT_S: '0.2' }));
    closers.push(() => client.close());
    const session = await client.brokerSession({ brokerId: 'mock', account: 'u1', password: 'p' });

    // Act
    await session.login();
    await until(() => ((session.client?.conn.stats.escapes ?? 0) >= 2 ? true : undefined), 5_000, 'two escapes');

    // Assess
    expect(session.snapshot().orders.map((o) => o.order_id)).toEqual(['o1']);
    expect(session.client?.conn.stats.resyncs).toBe(0);
    expect(session.client?.conn.stats.connects).toBeGreaterThanOrEqual(3);
  });

  it('drops a socket that stops answering pings (no pong within the deadline) and reconnects', async () => {
    // Prepare
    const server = await tdServer(
      async (ws, _n, recv) => {
        await recv('req_login');
        ws.send(rtn(snapshotPatch({}, {})));
      },
      { autoPong: false },
    );
    const client = makeClient(env({ GHTRADER_DIFF_TD_URL: server.url }), { pingIntervalMs: 100, pongTimeoutMs: 100 });
    closers.push(() => client.close());
    const session = await client.brokerSession({ brokerId: 'mock', account: 'u1', password: 'p' });
    const events: BrokerEvent[] = [];
    const stream = session.events();
    void (async () => {
      for await (const e of stream) events.push(e);
    })();

    // Act
    await session.login();
    const t0 = Date.now();
    await until(
      () =>
        events.some((e) => e.kind === 'connection' && e.code === CONNECTION_CODES.disconnected) ? true : undefined,
      3_000,
      'abrupt drop',
    );

    // Assess
    expect(Date.now() - t0).toBeLessThan(1_000);
    const drop = events.find((e) => e.kind === 'connection' && e.code === CONNECTION_CODES.disconnected);
    expect(drop).toMatchObject({ message: expect.stringContaining('no pong') });
  });

  it('emits order_ack_timeout when an order never gets a server node', async () => {
    // Prepare
    const server = await tdServer(async (ws, _n, recv) => {
      await recv('req_login');
      ws.send(rtn(snapshotPatch({}, {})));
    });
    const client = makeClient(env({ GHTRADER_DIFF_TD_URL: server.url, GHTRADER_DIFF_ORDER_ACK_TIMEOUT_S: '0.2' }));
    closers.push(() => client.close());
    const session = await client.brokerSession({ brokerId: 'mock', account: 'u1', password: 'p' });
    const events: BrokerEvent[] = [];
    const stream = session.events();
    const reader = (async () => {
      for await (const e of stream) events.push(e);
      return 'ended';
    })();
    await session.login();

    // Act
    await session.insertOrder({
      order_id: 'ghost1',
      symbol: 'SHFE.cu2503',
      direction: 'BUY',
      offset: 'OPEN',
      volume: 1,
      limit_price: 72000,
    });
    const timeout = await until(() => events.find((e) => e.kind === 'order_ack_timeout'), 3_000, 'order_ack_timeout');

    // Assess
    expect(timeout).toMatchObject({ kind: 'order_ack_timeout', order_id: 'ghost1' });
    expect(session.snapshot().orders).toEqual([]);
    await session.close();
    expect(await reader).toBe('ended');
  });

  it('fails a first-ever connect fast with MaintenanceError on HTTP 503', async () => {
    // Prepare
    const http = createServer((_req, res) => res.end());
    http.on('upgrade', (_req, socket) => {
      const body = 'maintenance: 系统运维中';
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => http.close(() => r())));
    const client = makeClient(
      env({ GHTRADER_DIFF_MD_URL: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/md` }),
    );
    closers.push(() => client.close());
    const t0 = Date.now();

    // Act
    const err = await client.openMarket().then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(err).toBeInstanceOf(MaintenanceError);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });
});
