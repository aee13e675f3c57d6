import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#colo/sim/server.ts';
import type { DiffClient } from '#shared/infra/diff/client.ts';
import { readFrameLog } from '#shared/infra/diff/framelog.ts';
import type { DiffBrokerSession } from '#shared/infra/diff/ports.ts';
import { replayStore, startMockServer } from '#shared/infra/diff/replay.ts';
import { fakeJwt, makeClient, simEnv, startSim, tempFile, until } from './support.ts';

const SYMBOL = 'SHFE.cu2503';

/** One scripted session: quote, login, a resting order at a price fixed for the day, its cancel. */
async function session(client: DiffClient, brokerId: string): Promise<DiffBrokerSession> {
  const md = await client.openMarket();
  const q = await md.market.getQuote(SYMBOL);
  const broker = await client.brokerSession({ brokerId, account: 'rep18', password: 'rep18' });
  await broker.login();
  await broker.insertOrder({
    order_id: 'rep_1',
    symbol: SYMBOL,
    direction: 'BUY',
    offset: 'OPEN',
    volume: 1,
    limit_price: q.lower_limit + 10 * q.price_tick,
  });
  await until(() =>
    broker.snapshot().orders.some((o) => o.order_id === 'rep_1' && o.status === 'ALIVE') ? true : undefined,
  );
  await broker.cancelOrder('rep_1');
  await until(() =>
    broker.snapshot().orders.some((o) => o.order_id === 'rep_1' && o.status === 'FINISHED') ? true : undefined,
  );
  return broker;
}

describe('frame log replay (§2.9 behaviour 18)', () => {
  let sim: SimulatorHandle;

  beforeAll(async () => {
    sim = await startSim();
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('replays a recorded simulator session through the mock server with identical sends and the same final stores', async () => {
    // Prepare: record.
    const logPath = tempFile('session.jsonl');
    const recorder = makeClient(simEnv(sim, { GHTRADER_DIFF_FRAME_LOG: logPath }));
    await session(recorder, sim.brokerId);
    await recorder.close();
    const lines = readFrameLog(logPath);
    const mock = await startMockServer(lines);
    const token = fakeJwt({ sub: 'replay', grants: { features: ['futr', 'tq_dl'], accounts: ['*'] } });
    const replayer = makeClient({
      GHTRADER_DIFF_TOKEN: token,
      GHTRADER_DIFF_MD_URL: mock.mdUrl,
      GHTRADER_DIFF_TD_URL: mock.tdUrl,
      GHTRADER_DIFF_BACKOFF_BASE_MS: '50',
    });

    // Act
    const broker = await session(replayer, sim.brokerId);
    await Promise.all([mock.done('md'), mock.done('td')]);
    const md = await replayer.openMarket();
    const expectedMd = replayStore(lines, 'md');
    const expectedTd = replayStore(lines, 'td');
    await until(
      () => (md.market.conn.store.batchSeq === expectedMd.store.batchSeq ? true : undefined),
      5_000,
      'md frames applied',
    );

    // Assess
    expect(lines.some((l) => l.raw.includes('"password":"***"'))).toBe(true);
    expect(lines.some((l) => l.raw.includes('"password":"rep18"'))).toBe(false);
    expect(md.market.conn.store.root).toEqual(expectedMd.store.root);
    expect(broker.client?.conn.store.root).toEqual(expectedTd.store.root);
    expect(mock.extra.md).toEqual([]);
    expect(mock.extra.td).toEqual([]);
    await replayer.close();
    await mock.close();
  });
});
