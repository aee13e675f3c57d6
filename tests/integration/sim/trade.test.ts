import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimMarket } from '#colo/sim/market/index.ts';
import { type SimulatorHandle, startSimulator } from '#colo/sim/server.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { parseCst } from '#shared/domain/market/cst.ts';
import { createLogger } from '#shared/log.ts';
import { RawDiffClient, type Tree } from './raw-diff-client.ts';

const log = createLogger({ service: 'ghsim-test', level: 'silent' });
const cal = shippedCalendar();
const market = new SimMarket({ seed: 42, calendar: cal });
const START = '2025-01-10 10:00:00';
const MAIN = market.mainContract('cu', '2025-01-10');
const INSTRUMENT = MAIN.slice('SHFE.'.length);
// The replay clock only moves when an md socket peeks, so with no md socket the market stays at START.
const QUOTE = market.quoteAt(MAIN, parseCst(START));

function order(over: Record<string, unknown>): Record<string, unknown> {
  return {
    aid: 'insert_order',
    user_id: 'alice',
    exchange_id: 'SHFE',
    instrument_id: INSTRUMENT,
    direction: 'BUY',
    offset: 'OPEN',
    volume: 1,
    price_type: 'LIMIT',
    time_condition: 'GFD',
    volume_condition: 'ANY',
    ...over,
  };
}

async function login(sim: SimulatorHandle, user = 'alice', password = 'pw'): Promise<RawDiffClient> {
  const td = await RawDiffClient.connect(sim.tradeUrl, sim.token);
  td.autoPeek = true;
  td.peek();
  td.send({ aid: 'req_login', bid: 'ghsim', user_name: user, password });
  return td;
}

describe('trade socket and engine', () => {
  let sim: SimulatorHandle;
  let td: RawDiffClient;
  beforeAll(async () => {
    if (!QUOTE) throw new Error(`${MAIN} has no quote at ${START}`);
    sim = await startSimulator(
      {
        port: 0,
        clock: 'replay',
        start: START,
        end: '2025-01-13 15:00:00',
        maintenance: 'off',
        config: { accounts: [{ user_name: 'alice', password: 'pw', initial_balance: 10_000_000 }] },
      },
      { log },
    );
    td = await login(sim);
    await td.until(() => td.at('trade', 'alice', 'trade_more_data') === false, 10_000, 'login snapshot');
  });
  afterAll(async () => {
    td.close();
    await sim.stop();
  });

  it('greets with rtn_brokers and logs in with notify 401, trading day and a balance of 10,000,000', () => {
    // Assess
    expect(td.frames[0]).toEqual({ aid: 'rtn_brokers', brokers: ['ghsim'] });
    expect(td.notifies()[0]).toMatchObject({ code: 401, level: 'INFO' });
    expect(td.at('trade', 'alice', 'session', 'trading_day')).toBe('20250110');
    expect(td.at('trade', 'alice', 'accounts', 'CNY', 'balance')).toBe(10_000_000);
  });

  it('refuses a wrong password with 402 and a second login on the socket with 400', async () => {
    // Prepare
    const other = await login(sim, 'alice', 'wrong');

    // Act
    await other.until(() => other.notifies().length > 0, 5000, 'notify');
    td.send({ aid: 'req_login', bid: 'ghsim', user_name: 'alice', password: 'pw' });
    await td.until(() => td.notifies().some((n) => n.code === 400), 5000, 'duplicate login');
    other.close();

    // Assess
    expect(other.notifies()[0]).toMatchObject({ code: 402, level: 'ERROR' });
    expect(other.at('trade', 'alice')).toBeUndefined();
  });

  it('fills a buy at ask_price1: 417 then 406, FINISHED with one trade, today long 1, commission 20, margin 40,000', async () => {
    // Prepare
    const before = td.notifies().length;

    // Act
    td.send(order({ order_id: 'fill1', limit_price: QUOTE?.ask_price1 }));
    await td.until(() => td.at('trade', 'alice', 'orders', 'fill1', 'status') === 'FINISHED', 5000, 'fill');

    // Assess
    const codes = td
      .notifies()
      .slice(before)
      .map((n) => n.code);
    expect(codes).toEqual([417, 406]);
    expect(td.at('trade', 'alice', 'trades', 'fill1|1')).toMatchObject({
      price: QUOTE?.ask_price1,
      volume: 1,
      commission: 20,
    });
    expect(td.at('trade', 'alice', 'positions', MAIN)).toMatchObject({ pos_long_today: 1, volume_long_today: 1 });
    const acct = td.at('trade', 'alice', 'accounts', 'CNY') as Tree;
    expect(acct).toMatchObject({ commission: 20, margin: 40_000 });
    expect(acct.balance).toBeCloseTo(
      Number(acct.static_balance) + Number(acct.close_profit) - 20 + Number(acct.position_profit),
      6,
    );
    expect(typeof td.at('trade', 'alice', 'orders', 'fill1', 'insert_date_time')).toBe('bigint');
  });

  it.each([
    ['412 for an off-grid price', { order_id: 'r412', limit_price: Number(QUOTE?.bid_price1) + 5 }, 412],
    ['404 above the upper limit', { order_id: 'r404', limit_price: Number(QUOTE?.upper_limit) + 10 }, 404],
    [
      '415 for CLOSE without his position',
      { order_id: 'r415', direction: 'SELL', offset: 'CLOSE', volume: 3, limit_price: QUOTE?.bid_price1 },
      415,
    ],
    ['411 for volume 0', { order_id: 'r411', volume: 0, limit_price: QUOTE?.bid_price1 }, 411],
    [
      '409 for an unknown instrument',
      { order_id: 'r409', instrument_id: 'cu9912', limit_price: QUOTE?.bid_price1 },
      409,
    ],
    [
      '410 for the continuous alias',
      { order_id: 'r410', exchange_id: 'KQ', instrument_id: 'm@SHFE.cu', limit_price: QUOTE?.bid_price1 },
      410,
    ],
  ])('rejects with %s, writing a FINISHED node without exchange_order_id', async (_name, over, code) => {
    // Prepare
    const id = String((over as { order_id: string }).order_id);

    // Act
    td.send(order(over));
    await td.until(() => td.at('trade', 'alice', 'orders', id, 'status') === 'FINISHED', 5000, `reject ${code}`);

    // Assess
    expect(td.notifies().find((n) => n.code === code)).toMatchObject({ level: 'ERROR' });
    expect(td.at('trade', 'alice', 'orders', id)).toMatchObject({ exchange_order_id: '', status: 'FINISHED' });
  });

  it('answers a duplicate order_id with 407 and leaves the original order untouched', async () => {
    // Prepare
    td.send(order({ order_id: 'dup', limit_price: QUOTE?.bid_price1 }));
    await td.until(() => td.at('trade', 'alice', 'orders', 'dup', 'status') === 'ALIVE', 5000, 'resting order');
    const original = structuredClone(td.at('trade', 'alice', 'orders', 'dup'));

    // Act
    td.send(order({ order_id: 'dup', volume: 2, limit_price: QUOTE?.ask_price1 }));
    await td.until(() => td.notifies().some((n) => n.code === 407), 5000, '407');

    // Assess
    expect(td.at('trade', 'alice', 'orders', 'dup')).toEqual(original);
  });

  it('cancels a resting order: FINISHED "已撤单" and its frozen margin released; 421 for a finished one', async () => {
    // Prepare
    td.send(order({ order_id: 'rest', limit_price: QUOTE?.bid_price1 }));
    await td.until(() => td.at('trade', 'alice', 'orders', 'rest', 'status') === 'ALIVE', 5000, 'resting');
    const frozen = Number(td.at('trade', 'alice', 'accounts', 'CNY', 'frozen_margin'));

    // Act
    td.send({ aid: 'cancel_order', user_id: 'alice', order_id: 'rest' });
    await td.until(() => td.at('trade', 'alice', 'orders', 'rest', 'status') === 'FINISHED', 5000, 'cancel');
    td.send({ aid: 'cancel_order', user_id: 'alice', order_id: 'rest' });
    await td.until(() => td.notifies().some((n) => n.code === 421), 5000, '421');

    // Assess
    expect(td.at('trade', 'alice', 'orders', 'rest', 'last_msg')).toBe('已撤单');
    expect(Number(td.at('trade', 'alice', 'accounts', 'CNY', 'frozen_margin'))).toBe(frozen - 40_000);
  });

  it('sees the same account from a second socket of the same user', async () => {
    // Act
    const second = await login(sim);
    await second.until(() => second.at('trade', 'alice', 'trade_more_data') === false, 5000, 'snapshot');
    second.close();

    // Assess
    expect(second.at('trade', 'alice', 'positions', MAIN, 'pos_long_today')).toBe(1);
    expect(second.at('trade', 'alice', 'orders', 'fill1', 'status')).toBe('FINISHED');
  });
});
