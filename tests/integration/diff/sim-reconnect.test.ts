import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#colo/sim/server.ts';
import type { MarketNotice, TickRow } from '#shared/domain/market/ports.ts';
import type { BrokerEvent } from '#shared/domain/trading/ports.ts';
import { MaintenanceError, NotConnectedError } from '#shared/errors/diff.ts';
import { readFrameLog } from '#shared/infra/diff/framelog.ts';
import { parseDiffJson } from '#shared/infra/diff/json.ts';
import { CONNECTION_CODES } from '#shared/infra/diff/reconnect.ts';
import type { UpdateEvent } from '#shared/infra/diff/store.ts';
import { makeClient, simEnv, startSim, tempFile, until } from './support.ts';

describe('DIFF reconnect against the simulator (§2.9 behaviours 6, 13–15)', () => {
  let sim: SimulatorHandle;

  beforeAll(async () => {
    sim = await startSim({ speed: 10 });
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('keeps at most one peek outstanding: peeks received while held never exceed unsolicited frames', async () => {
    // Prepare
    const client = makeClient(simEnv(sim));
    const md = await client.openMarket();
    const main = (await md.market.getQuote('KQ.m@SHFE.cu')).underlying_symbol;
    const ticks = md.subscribeTicks(main, 100);
    let n = 0;
    const reader = (async () => {
      for await (const _ of ticks) n++;
    })();

    // Act
    await until(() => (n >= 40 ? true : undefined), 20_000, '40 ticks');

    // Assess
    const mine = sim.admin.stats().connections.filter((c) => c.kind === 'md');
    expect(mine.length).toBe(1);
    for (const c of mine) expect(c.peeks_while_held).toBeLessThanOrEqual(c.unsolicited_frames);
    // One peek at connect, then one after each applied rtn_data: never a second outstanding one. The snapshot may
    // fall between receiving a frame and peeking again, so the count is rtn_data + 1 or, mid-apply, rtn_data.
    const t = md.market.conn.currentTransport;
    const received = t?.stats.rtnDataReceived ?? 0;
    expect(t?.stats.peeksSent).toBeGreaterThanOrEqual(received);
    expect(t?.stats.peeksSent).toBeLessThanOrEqual(received + 1);
    await ticks.close();
    await reader;
    await client.close();
  });

  it('reconnects md after an abrupt drop, resends subscriptions and charts, releases one resync batch, and loses no tick id', async () => {
    // Prepare
    const logPath = tempFile('md-reconnect.jsonl');
    const client = makeClient(simEnv(sim, { GHTRADER_DIFF_FRAME_LOG: logPath }));
    const md = await client.openMarket();
    const main = (await md.market.getQuote('KQ.m@SHFE.cu')).underlying_symbol;
    const codes: number[] = [];
    md.onNotice((x) => {
      if (x.kind === 'connection') codes.push(x.code);
    });
    const resyncs: UpdateEvent[] = [];
    md.market.conn.store.onUpdate((e) => {
      if (e.resync) resyncs.push(e);
    });
    const ticks = md.subscribeTicks(main, 200);
    const errors: MarketNotice[] = [];
    ticks.onNotice((x) => {
      if (x.kind === 'data_error') errors.push(x);
    });
    const got: TickRow[] = [];
    const reader = (async () => {
      for await (const t of ticks) got.push(t);
    })();
    await until(() => (got.length >= 10 ? true : undefined), 10_000, 'ticks before the drop');

    // Act
    sim.admin.addFault({ kind: 'drop', socket: 'md', mode: 'abrupt' });
    await until(() => (codes.includes(CONNECTION_CODES.reconnected) ? true : undefined), 10_000, 'reconnected');
    const countAtReconnect = got.length;
    await until(() => (got.length >= countAtReconnect + 10 ? true : undefined), 10_000, 'ticks after the reconnect');

    // Assess
    expect(codes.slice(0, 3)).toEqual([
      CONNECTION_CODES.disconnected,
      CONNECTION_CODES.reconnecting,
      CONNECTION_CODES.reconnected,
    ]);
    expect(resyncs).toHaveLength(1);
    for (let i = 1; i < got.length; i++) expect(got[i]?.id).toBe((got[i - 1]?.id ?? 0) + 1);
    expect(errors).toEqual([]);
    const sends = readFrameLog(logPath)
      .filter((l) => l.sock === 'md' && l.dir === 'send')
      .map((l) => parseDiffJson(l.raw) as { aid: string; chart_id?: string });
    const nonPeek = sends.filter((f) => f.aid !== 'peek_message');
    const afterDrop = nonPeek.slice(nonPeek.findLastIndex((f) => f.aid === 'subscribe_quote'));
    expect(afterDrop[0]?.aid).toBe('subscribe_quote');
    expect(afterDrop.some((f) => f.aid === 'set_chart' && f.chart_id === md.market.charts.keys().next().value)).toBe(
      true,
    );
    await ticks.close();
    await reader;
    await client.close();
  });

  it('releases a resync within its timeout when a chart symbol has no data, marking the chart no_data', async () => {
    // Prepare
    const client = makeClient(simEnv(sim, { GHTRADER_DIFF_RESYNC_TIMEOUT_S: '1' }));
    const md = await client.openMarket();
    const notices: MarketNotice[] = [];
    md.onNotice((x) => notices.push(x));
    const chart = md.market.setChart({ symbol: 'SHFE.cu9912', duration: 0n, viewWidth: 10 });
    await md.market.wait(() => (chart.applied() ? true : undefined), { timeoutMs: 5_000, what: 'chart applied' });
    const t0 = Date.now();

    // Act
    sim.admin.addFault({ kind: 'drop', socket: 'md', mode: 'abrupt' });
    const noData = await until(() => notices.find((x) => x.kind === 'no_data'), 10_000, 'no_data');

    // Assess
    expect(noData).toEqual({ kind: 'no_data', chart_id: chart.chartId, symbol: 'SHFE.cu9912' });
    await until(
      () =>
        notices.some((x) => x.kind === 'connection' && x.code === CONNECTION_CODES.reconnected) ? true : undefined,
      5_000,
      'reconnected',
    );
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(chart.noData).toBe(true);
    expect(md.market.conn.stats.escapes).toBe(1);
    await client.close();
  });

  it('refuses insertOrder with NotConnectedError while td is down, then re-logs in and re-releases the snapshot', async () => {
    // Prepare
    const client = makeClient(simEnv(sim, { GHTRADER_DIFF_BACKOFF_BASE_MS: '300' }));
    const md = await client.openMarket();
    const main = (await md.market.getQuote('KQ.m@SHFE.cu')).underlying_symbol;
    const bid = (await md.market.getQuote(main)).bid_price[0] ?? Number.NaN;
    const session = await client.brokerSession({ brokerId: sim.brokerId, account: 'td15', password: 'td15' });
    const events: BrokerEvent[] = [];
    const stream = session.events();
    void (async () => {
      for await (const e of stream) events.push(e);
    })();
    await session.login();
    await session.insertOrder({
      order_id: 'r_1',
      symbol: main,
      direction: 'BUY',
      offset: 'OPEN',
      volume: 1,
      limit_price: bid - 300,
    });
    await until(() => (session.snapshot().orders.some((o) => o.order_id === 'r_1') ? true : undefined), 5_000, 'order');
    const trade = session.client;

    let down: Promise<unknown> | undefined;
    trade?.conn.onConnection((e) => {
      // Synchronously inside the disconnect event: the socket is down right now, whatever the backoff does next.
      if (e.code === CONNECTION_CODES.disconnected && down === undefined) {
        down = session
          .insertOrder({
            order_id: 'r_2',
            symbol: main,
            direction: 'BUY',
            offset: 'OPEN',
            volume: 1,
            limit_price: bid - 300,
          })
          .then(
            () => undefined,
            (err: unknown) => err,
          );
      }
    });

    // Act
    sim.admin.addFault({ kind: 'drop', socket: 'trade', mode: 'abrupt' });
    await until(
      () => (events.some((e) => e.kind === 'connection' && e.code === CONNECTION_CODES.reconnected) ? true : undefined),
      10_000,
      'td reconnected',
    );

    // Assess
    expect(await down).toBeInstanceOf(NotConnectedError);
    const resync = events.filter((e) => e.kind === 'update' && e.resync);
    expect(resync.length).toBeLessThanOrEqual(1);
    expect(session.snapshot().orders.map((o) => o.order_id)).toContain('r_1');
    expect(session.snapshot().orders.map((o) => o.order_id)).not.toContain('r_2');
    expect(trade?.conn.stats.resyncs).toBe(1);
    await client.close();
  });
});

describe('md stall watchdog against the simulator (§2.9 behaviour 17)', () => {
  it('emits md_stall for a quote stall inside a session', async () => {
    // Prepare
    const sim = await startSim({ start: '2025-01-10 10:00:00' });
    const client = makeClient(simEnv(sim, { GHTRADER_DIFF_STALL_S: '0.6' }));
    const md = await client.openMarket();
    const main = (await md.market.getQuote('KQ.m@SHFE.cu')).underlying_symbol;
    await md.market.getQuote(main);
    const notices: MarketNotice[] = [];
    md.onNotice((x) => notices.push(x));

    // Act
    sim.admin.addFault({ kind: 'quote_stall', symbol: '*', for_s: 5 });
    const stall = await until(
      () => notices.find((x) => x.kind === 'md_stall' && x.symbols.includes(main)),
      5_000,
      'md_stall',
    );

    // Assess
    expect(stall).toMatchObject({ kind: 'md_stall' });
    expect((stall as { silent_ms: number }).silent_ms).toBeGreaterThanOrEqual(600);
    await client.close();
    await sim.stop();
  });

  it('stays silent outside sessions (the 11:30–13:30 break)', async () => {
    // Prepare
    const sim = await startSim({ start: '2025-01-10 12:00:00' });
    // The last quote of the morning is 11:30:00.500, still inside the window; a stall bound of 1 s puts the
    // watchdog's market clock past the session end before it could fire.
    const client = makeClient(simEnv(sim, { GHTRADER_DIFF_STALL_S: '1' }));
    const md = await client.openMarket();
    const notices: MarketNotice[] = [];
    md.onNotice((x) => notices.push(x));

    // Act
    await md.market.getQuote('KQ.m@SHFE.cu');
    await new Promise((r) => setTimeout(r, 2_500));

    // Assess
    expect(notices.filter((x) => x.kind === 'md_stall')).toEqual([]);
    await client.close();
    await sim.stop();
  });
});

describe('maintenance windows against the simulator (§2.9 behaviour 16, on-demand window)', () => {
  it('fails a first-ever connect in the window fast; an established client recovers by itself afterwards', async () => {
    // Prepare
    const sim = await startSim();
    const established = makeClient(simEnv(sim));
    const md = await established.openMarket();
    await md.market.getQuote('KQ.m@SHFE.cu');
    const codes: number[] = [];
    md.onNotice((x) => {
      if (x.kind === 'connection') codes.push(x.code);
    });

    // Act
    sim.admin.addFault({ kind: 'maintenance', for_s: 1.5 });
    const newcomer = makeClient(simEnv(sim, { GHTRADER_DIFF_MD_URL: sim.mdUrl }));
    const t0 = Date.now();
    const err = await newcomer.openMarket().then(
      () => undefined,
      (e: unknown) => e,
    );
    const failedIn = Date.now() - t0;
    await until(() => (codes.includes(CONNECTION_CODES.reconnected) ? true : undefined), 15_000, 'recovered');

    // Assess
    expect(err).toBeInstanceOf(MaintenanceError);
    expect(failedIn).toBeLessThan(1_000);
    expect(codes[0]).toBe(CONNECTION_CODES.disconnected);
    expect(md.market.conn.isLive).toBe(true);
    await newcomer.close();
    await established.close();
    await sim.stop();
  });
});
