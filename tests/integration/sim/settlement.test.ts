import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimMarket } from '#colo/sim/market/index.ts';
import { type SimulatorHandle, startSimulator } from '#colo/sim/server.ts';
import { GFD_EXPIRED_MSG } from '#colo/sim/trade-engine/settlement.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { parseCst } from '#shared/domain/market/cst.ts';
import { createLogger } from '#shared/log.ts';
import { RawDiffClient, type Tree } from './raw-diff-client.ts';

const log = createLogger({ service: 'ghsim-test', level: 'silent' });
const cal = shippedCalendar();
const market = new SimMarket({ seed: 42, calendar: cal });
const START = '2025-01-10 14:59:50';
const MAIN = market.mainContract('cu', '2025-01-10');
const INSTRUMENT = MAIN.slice('SHFE.'.length);
const QUOTE = market.quoteAt(MAIN, parseCst(START));
const admin = (sim: SimulatorHandle) => ({ headers: { Authorization: `Bearer ${sim.token}` } });

function order(over: Record<string, unknown>): Record<string, unknown> {
  return {
    aid: 'insert_order',
    user_id: 'bob',
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

async function login(sim: SimulatorHandle): Promise<RawDiffClient> {
  const td = await RawDiffClient.connect(sim.tradeUrl, sim.token);
  td.autoPeek = true;
  td.peek();
  td.send({ aid: 'req_login', bid: 'ghsim', user_name: 'bob', password: 'bob' });
  await td.until(() => td.at('trade', 'bob', 'trade_more_data') === false, 10_000, 'login');
  return td;
}

describe('settlement at 18:00 CST on the replay clock', () => {
  let home: string;
  let sim: SimulatorHandle;
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ghsim-settle-'));
    sim = await startSimulator(
      { port: 0, clock: 'replay', start: START, end: '2025-01-13 09:10:00', openAccounts: true, home },
      { log },
    );
  });
  afterAll(async () => {
    await sim.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('cancels resting GFD orders, moves today to his and advances the trading day with no quote since 15:00', async () => {
    // Prepare
    const td = await login(sim);
    td.send(order({ order_id: 'open1', limit_price: QUOTE?.ask_price1 }));
    td.send(order({ order_id: 'gfd1', limit_price: Number(QUOTE?.bid_price1) - 100 }));
    await td.until(() => td.at('trade', 'bob', 'orders', 'gfd1', 'status') === 'ALIVE', 5000, 'orders');
    const md = await RawDiffClient.connect(sim.mdUrl, sim.token);
    md.autoPeek = true;

    // Act: every peek of the md socket moves the replay clock to its next tick; the next one after 15:00 is the
    // night open at 21:00, so the clock crosses 18:00 (settlement) and the 19:00–19:30 window on the way.
    md.send({ aid: 'subscribe_quote', ins_list: MAIN });
    md.peek();
    await td.until(() => td.at('trade', 'bob', 'trading_day') === '20250113', 20_000, 'settlement');
    const clock = (await (await fetch(`${sim.url}/admin/clock`, admin(sim))).json()) as Tree;

    // Assess
    expect(td.at('trade', 'bob', 'orders', 'gfd1')).toMatchObject({ status: 'FINISHED', last_msg: GFD_EXPIRED_MSG });
    expect(td.at('trade', 'bob', 'positions', MAIN)).toMatchObject({
      volume_long_today: 0,
      volume_long_his: 1,
      pos_long_his: 1,
    });
    expect(td.at('trade', 'bob', 'session', 'trading_day')).toBe('20250113');
    const acct = td.at('trade', 'bob', 'accounts', 'CNY') as Tree;
    expect(acct).toMatchObject({ commission: 0, close_profit: 0, frozen_margin: 0, margin: 40_000 });
    // After settlement the day starts from pre_balance; later ticks only add the new day's position profit.
    expect(Number(acct.balance)).toBeCloseTo(Number(acct.pre_balance) + Number(acct.position_profit), 6);
    expect(td.at('trade', 'bob', 'positions', MAIN, 'position_price_long')).toBe(
      market.dayStats(MAIN, '2025-01-10').settlement,
    );
    expect(clock.trading_day).toBe('2025-01-13');
    expect(md.closed).toBe(false);
    expect(td.closed).toBe(false);
    expect(md.at('_tqsdk_backtest', 'start_dt')).toBe(parseCst(START));
    md.close();
    td.close();
  });

  it('sends the previous statement (notify 325) on the first login of the new trading day and persists the ledger', async () => {
    // Act
    const td = await login(sim);
    td.send({ aid: 'qry_settlement_info', trading_day: 20250110 });
    const reply = await td.until(() => td.frames.find((f) => f.aid === 'qry_settlement_info'), 5000, 'statement');
    td.close();
    const files = await readdir(path.join(home, 'sim', 'accounts'));

    // Assess
    expect(td.notifies().find((n) => n.code === 325)).toMatchObject({ type: 'SETTLEMENT' });
    expect(String(reply.settlement_info)).toContain('2025-01-10');
    expect(files).toContain('bob.json');
  });
});

describe('the replay clock at its end', () => {
  it('holds peeks and reports finished once --end is reached', async () => {
    // Prepare
    const sim = await startSimulator(
      { port: 0, clock: 'replay', start: '2025-01-10 10:00:00', end: '2025-01-10 10:00:03', maintenance: 'off' },
      { log },
    );
    const md = await RawDiffClient.connect(sim.mdUrl, sim.token);
    md.autoPeek = true;

    // Act
    md.send({ aid: 'subscribe_quote', ins_list: MAIN });
    md.peek();
    await md.until(() => md.at('_tqsdk_backtest', 'current_dt') === parseCst('2025-01-10 10:00:03'), 10_000, 'end');
    const frames = md.frames.length;
    await new Promise((r) => setTimeout(r, 200));
    const clock = (await (await fetch(`${sim.url}/admin/clock`, admin(sim))).json()) as Tree;
    md.close();
    await sim.stop();

    // Assess
    expect(clock).toMatchObject({ mode: 'replay', finished: true });
    expect(md.frames.length).toBe(frames);
    expect(md.at('quotes', MAIN, 'datetime')).toBe('2025-01-10 10:00:03.000000');
  });
});

describe('settlement on the accelerated clock with --skip-idle', () => {
  it('jumps the idle evening, firing settlement on the way', async () => {
    // Prepare
    const sim = await startSimulator(
      {
        port: 0,
        clock: 'accelerated',
        start: '2025-01-10 14:59:59',
        speed: 1,
        skipIdle: true,
        openAccounts: true,
        maintenance: 'off',
      },
      { log },
    );
    const td = await login(sim);

    // Act
    const deadline = Date.now() + 10_000;
    while (td.at('trade', 'bob', 'trading_day') !== '20250113' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const clock = (await (await fetch(`${sim.url}/admin/clock`, admin(sim))).json()) as Tree;
    td.close();
    await sim.stop();

    // Assess
    expect(td.at('trade', 'bob', 'trading_day')).toBe('20250113');
    expect(BigInt(String(clock.now_ns))).toBeGreaterThanOrEqual(parseCst('2025-01-10 20:59:55'));
  });
});

describe('account ledgers across a restart', () => {
  it('keeps positions in $GHTRADER_HOME/sim and settles the trading days missed while the sim was down', async () => {
    // Prepare
    const home = await mkdtemp(path.join(os.tmpdir(), 'ghsim-restart-'));
    const first = await startSimulator(
      {
        port: 0,
        clock: 'replay',
        start: '2025-01-10 10:00:00',
        end: '2025-01-10 11:00:00',
        openAccounts: true,
        home,
        maintenance: 'off',
      },
      { log },
    );
    const q = market.quoteAt(MAIN, parseCst('2025-01-10 10:00:00'));
    const td1 = await login(first);
    td1.send(order({ order_id: 'keep1', limit_price: q?.ask_price1 }));
    await td1.until(() => td1.at('trade', 'bob', 'orders', 'keep1', 'status') === 'FINISHED', 5000, 'fill');
    td1.close();
    await first.stop();

    // Act
    const second = await startSimulator(
      {
        port: 0,
        clock: 'replay',
        start: '2025-01-14 10:00:00',
        end: '2025-01-14 11:00:00',
        openAccounts: true,
        home,
        maintenance: 'off',
      },
      { log },
    );
    const td2 = await login(second);
    td2.close();
    await second.stop();
    await rm(home, { recursive: true, force: true });

    // Assess
    expect(td2.at('trade', 'bob', 'trading_day')).toBe('20250114');
    expect(td2.at('trade', 'bob', 'positions', MAIN)).toMatchObject({ volume_long_his: 1, volume_long_today: 0 });
    expect(td2.at('trade', 'bob', 'positions', MAIN, 'position_price_long')).toBe(
      market.dayStats(MAIN, '2025-01-13').settlement,
    );
    expect(td2.at('trade', 'bob', 'orders', 'keep1')).toBeUndefined();
  });
});
