import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#colo/sim/server.ts';
import type { Notify } from '#shared/domain/trading/ports.ts';
import { splitShfeClose } from '#shared/domain/trading/shfe-close-split.ts';
import { LoginError, OrderRefusedError } from '#shared/errors/diff.ts';
import type { DiffClient } from '#shared/infra/diff/client.ts';
import type { DiffBrokerSession, DiffMarketDataSource } from '#shared/infra/diff/ports.ts';
import type { DiffTrade } from '#shared/infra/diff/trade.ts';
import { makeClient, simEnv, startSim, until } from './support.ts';

interface Desk {
  client: DiffClient;
  md: DiffMarketDataSource;
  session: DiffBrokerSession;
  trade: DiffTrade;
  notifies: Notify[];
  main: string;
}

async function desk(sim: SimulatorHandle, account: string): Promise<Desk> {
  const client = makeClient(simEnv(sim));
  const md = await client.openMarket();
  const main = (await md.market.getQuote('KQ.m@SHFE.cu')).underlying_symbol;
  await md.market.getQuote(main);
  const session = await client.brokerSession({ brokerId: sim.brokerId, account, password: account });
  const notifies: Notify[] = [];
  const events = session.events();
  void (async () => {
    for await (const e of events) if (e.kind === 'notify') notifies.push(e.notify);
  })();
  await session.login();
  const trade = session.client as DiffTrade;
  return { client, md, session, trade, notifies, main };
}

const ask = (d: Desk) => d.md.market.quote(d.main)?.ask_price[0] ?? Number.NaN;
const bid = (d: Desk) => d.md.market.quote(d.main)?.bid_price[0] ?? Number.NaN;
const order = (d: Desk, id: string) => d.session.snapshot().orders.find((o) => o.order_id === id);
const codes = (d: Desk) => d.notifies.map((n) => n.code);
const finished = (d: Desk, id: string) =>
  until(() => (order(d, id)?.status === 'FINISHED' ? order(d, id) : undefined), 10_000, `order ${id} FINISHED`);

describe('DIFF trading against the simulator (§2.9 behaviours 7, 8, 10, 11)', () => {
  let sim: SimulatorHandle;

  beforeAll(async () => {
    sim = await startSim();
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('logs in after notify 401 with the trading day set and a balance of 10,000,000', async () => {
    // Act
    const d = await desk(sim, 'login7');

    // Assess
    const snap = d.session.snapshot();
    expect(snap.trading_day).toBe('20250110');
    expect(snap.account.balance).toBe(10_000_000);
    await until(() => (codes(d).includes(401) ? true : undefined), 5_000, 'notify 401');
    await d.client.close();
  });

  it('answers qry_settlement_info with the reply packet surfaced as an event', async () => {
    // Prepare
    const d = await desk(sim, 'settle7');

    // Act
    const text = await d.trade.qrySettlementInfo('20250109', 5_000);

    // Assess
    expect(typeof text).toBe('string');
    await d.client.close();
  });

  it('rejects a wrong password with code 402', async () => {
    // Prepare
    const client = makeClient(simEnv(sim));
    const session = await client.brokerSession({ brokerId: sim.brokerId, account: 'pw7', password: 'wrong' });

    // Act
    const err = await session.login().then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(err).toBeInstanceOf(LoginError);
    expect((err as LoginError).notifyCode).toBe(402);
    await client.close();
  });

  it('fills a 1-lot BUY at ask_price1: 417 then 406, one trade, pos_long_today 1, commission 20, margin 40,000', async () => {
    // Prepare
    const d = await desk(sim, 'fill8');

    // Act
    await d.session.insertOrder({
      order_id: 'f8_1',
      symbol: d.main,
      direction: 'BUY',
      offset: 'OPEN',
      volume: 1,
      limit_price: ask(d),
    });
    const o = await finished(d, 'f8_1');

    // Assess
    await until(() => (codes(d).includes(406) ? true : undefined), 5_000, 'notify 406');
    expect(codes(d).indexOf(417)).toBeLessThan(codes(d).indexOf(406));
    const snap = d.session.snapshot();
    expect(snap.trades.filter((t) => t.order_id === 'f8_1')).toHaveLength(1);
    expect(o?.volume_left).toBe(0);
    expect(snap.positions.find((p) => p.symbol === d.main)?.pos_long_today).toBe(1);
    expect(snap.account.commission).toBe(20);
    expect(snap.account.margin).toBe(40_000);
    expect(o?.insert_date_time).toBeTypeOf('bigint');
    await d.client.close();
  });

  it('gets the intake rejects 412, 404, 407 (original untouched), 413 and 411', async () => {
    // Prepare
    const d = await desk(sim, 'intake10');
    const upper = d.md.market.quote(d.main)?.upper_limit ?? Number.NaN;
    const raw = (id: string, over: Record<string, unknown>) =>
      d.trade.conn.send(
        {
          aid: 'insert_order',
          user_id: 'intake10',
          order_id: id,
          exchange_id: 'SHFE',
          instrument_id: d.main.slice(5),
          direction: 'BUY',
          offset: 'OPEN',
          volume: 1,
          price_type: 'LIMIT',
          limit_price: bid(d) - 100,
          time_condition: 'GFD',
          volume_condition: 'ANY',
          ...over,
        },
        true,
      );

    // Act
    raw('i_grid', { limit_price: bid(d) - 105 });
    raw('i_upper', { limit_price: upper + 10 });
    await d.session.insertOrder({
      order_id: 'i_rest',
      symbol: d.main,
      direction: 'BUY',
      offset: 'OPEN',
      volume: 1,
      limit_price: bid(d) - 100,
    });
    await until(() => (order(d, 'i_rest')?.status === 'ALIVE' ? true : undefined), 5_000, 'resting order');
    await d.session.insertOrder({
      order_id: 'i_rest',
      symbol: d.main,
      direction: 'SELL',
      offset: 'OPEN',
      volume: 2,
      limit_price: ask(d) + 100,
    });
    await d.session.insertOrder({
      order_id: 'i_big',
      symbol: d.main,
      direction: 'BUY',
      offset: 'OPEN',
      volume: 300,
      limit_price: bid(d) - 100,
    });
    raw('i_zero', { volume: 0 });
    const refused = await d.session
      .insertOrder({
        order_id: 'i_zero2',
        symbol: d.main,
        direction: 'BUY',
        offset: 'OPEN',
        volume: 0,
        limit_price: bid(d),
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    // Assess
    await until(
      () => ([412, 404, 407, 413, 411].every((c) => codes(d).includes(c)) ? true : undefined),
      10_000,
      'reject codes',
    );
    const rest = order(d, 'i_rest');
    expect(rest).toMatchObject({ direction: 'BUY', volume_orign: 1, status: 'ALIVE' });
    expect(order(d, 'i_grid')).toMatchObject({ status: 'FINISHED', exchange_order_id: '', is_error: true });
    expect(refused).toBeInstanceOf(OrderRefusedError);
    expect(order(d, 'i_zero2')).toBeUndefined();
    await d.client.close();
  });

  it('cancels a resting order to FINISHED "已撤单" and releases its frozen margin', async () => {
    // Prepare
    const d = await desk(sim, 'cancel11');
    await d.session.insertOrder({
      order_id: 'c_1',
      symbol: d.main,
      direction: 'BUY',
      offset: 'OPEN',
      volume: 1,
      limit_price: bid(d) - 200,
    });
    await until(() => (d.session.snapshot().account.frozen_margin > 0 ? true : undefined), 5_000, 'frozen margin');

    // Act
    await d.session.cancelOrder('c_1');
    const o = await finished(d, 'c_1');

    // Assess
    expect(o?.last_msg).toBe('已撤单');
    await until(() => (d.session.snapshot().account.frozen_margin === 0 ? true : undefined), 5_000, 'margin released');
    await d.client.close();
  });

  it('fills a marketable BUY at ask_price1 under --fill-price opposite', async () => {
    // Prepare
    const d = await desk(sim, 'opp11');
    const limit = ask(d) + 50;

    // Act
    await d.session.insertOrder({
      order_id: 'o_1',
      symbol: d.main,
      direction: 'BUY',
      offset: 'OPEN',
      volume: 1,
      limit_price: limit,
    });
    await finished(d, 'o_1');

    // Assess
    const t = d.session.snapshot().trades.find((x) => x.order_id === 'o_1');
    expect(t?.price).toBeLessThan(limit);
    expect(order(d, 'o_1')?.trade_price).toBe(t?.price);
    await d.client.close();
  });
});

describe('DIFF trading against a --fill-price limit simulator (§2.9 behaviour 11)', () => {
  it('fills a marketable BUY at its limit', async () => {
    // Prepare
    const sim = await startSim({ fillPrice: 'limit' });
    const d = await desk(sim, 'lim11');
    const limit = ask(d) + 50;

    // Act
    await d.session.insertOrder({
      order_id: 'l_1',
      symbol: d.main,
      direction: 'BUY',
      offset: 'OPEN',
      volume: 1,
      limit_price: limit,
    });
    await finished(d, 'l_1');

    // Assess
    expect(d.session.snapshot().trades.find((x) => x.order_id === 'l_1')?.price).toBe(limit);
    await d.client.close();
    await sim.stop();
  });
});

describe('SHFE close split against the simulator (§2.9 behaviour 9)', () => {
  it('closes 2 his + 1 today as CLOSETODAY 1 + CLOSE 2, both filled; a raw CLOSE 3 gets 415', async () => {
    // Prepare: two lots before Friday's close, settlement at 18:00 (skip-idle), one more lot in the night session.
    const sim = await startSim({ start: '2025-01-10 14:58:30', speed: 60, skipIdle: true });
    const d = await desk(sim, 'split9');
    await d.session.insertOrder({
      order_id: 's_his',
      symbol: d.main,
      direction: 'BUY',
      offset: 'OPEN',
      volume: 2,
      limit_price: ask(d) + 50,
    });
    await finished(d, 's_his');
    await until(() => (d.session.snapshot().trading_day === '20250113' ? true : undefined), 30_000, 'settlement');
    await until(
      () =>
        (d.md.market.conn.store.get(`quotes/${d.main}/datetime`) as string | undefined)?.includes(' 21:')
          ? true
          : undefined,
      30_000,
      'night open',
    );
    await d.session.insertOrder({
      order_id: 's_today',
      symbol: d.main,
      direction: 'BUY',
      offset: 'OPEN',
      volume: 1,
      limit_price: ask(d) + 50,
    });
    const today = await finished(d, 's_today');
    expect(
      today?.last_msg,
      `${today?.last_msg} at ${String(d.md.market.conn.store.get(`quotes/${d.main}/datetime`))}`,
    ).toBe('全部成交');
    const pos = await until(
      () => {
        const p = d.session.snapshot().positions.find((x) => x.symbol === d.main);
        return p && p.volume_long_his === 2 && p.volume_long_today === 1 ? p : undefined;
      },
      10_000,
      `2 his + 1 today: ${JSON.stringify(d.session.snapshot().positions.map((p) => [p.symbol, p.volume_long_his, p.volume_long_today, p.pos_long_his, p.pos_long_today]))}`,
    );

    // Act
    await d.session.insertOrder({
      order_id: 's_raw',
      symbol: d.main,
      direction: 'SELL',
      offset: 'CLOSE',
      volume: 3,
      limit_price: bid(d),
    });
    await until(() => (codes(d).includes(415) ? true : undefined), 5_000, 'notify 415');
    const legs = splitShfeClose(pos, 'long', 3);
    for (const [i, leg] of legs.entries()) {
      await d.session.insertOrder({
        order_id: `s_leg${i}`,
        symbol: d.main,
        direction: 'SELL',
        offset: leg.offset,
        volume: leg.volume,
        limit_price: bid(d) - 50, // five ticks through the bid: still marketable while the market moves at speed 60
      });
    }

    // Assess
    expect(legs).toEqual([
      { offset: 'CLOSETODAY', volume: 1 },
      { offset: 'CLOSE', volume: 2 },
    ]);
    for (let i = 0; i < legs.length; i++) {
      const o = await finished(d, `s_leg${i}`);
      expect(o?.volume_left).toBe(0);
    }
    await until(
      () => (d.session.snapshot().positions.find((x) => x.symbol === d.main)?.pos_long === 0 ? true : undefined),
      5_000,
      'flat',
    );
    await d.client.close();
    await sim.stop();
  });
});
