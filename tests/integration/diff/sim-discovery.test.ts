import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#colo/sim/server.ts';
import { AuthError } from '#shared/errors/diff.ts';
import { fakeJwt, makeClient, simEnv, startSim } from './support.ts';

/** An HTTP server that records every path it is asked for and answers 500. */
async function recorder(): Promise<{ url: string; hits: string[]; server: Server }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.statusCode = 500;
    res.end('recorder');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}

describe('DIFF discovery and auth against the simulator (§2.9 behaviours 1–2)', () => {
  let sim: SimulatorHandle;

  beforeAll(async () => {
    sim = await startSim();
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('gets the dev token by password grant, discovers md and trade URLs, and is ready within 5 s', async () => {
    // Prepare
    const client = makeClient(simEnv(sim));
    const t0 = Date.now();

    // Act
    const md = await client.openMarket();
    const broker = await client.brokerSession({ brokerId: sim.brokerId, account: 'disc1', password: 'disc1' });
    const login = await broker.login();
    const elapsed = Date.now() - t0;

    // Assess
    expect(await client.tokens.accessToken()).toBe(sim.token);
    expect(md.market.conn.store.get('mdhis_more_data')).toBe(false);
    expect(login.trading_day).toMatch(/^\d{8}$/);
    expect(broker.endpointKind).toBe('sim');
    expect(elapsed).toBeLessThan(5_000);
    await client.close();
  });

  it('never asks the name service or the broker JSON when MD and TD URLs are set', async () => {
    // Prepare
    const rec = await recorder();
    const client = makeClient(
      simEnv(sim, {
        GHTRADER_DIFF_TOKEN: sim.token,
        GHTRADER_DIFF_NS_URL: `${rec.url}/ns`,
        GHTRADER_DIFF_FILES_URL: rec.url,
        GHTRADER_DIFF_MD_URL: sim.mdUrl,
        GHTRADER_DIFF_TD_URL: sim.tradeUrl,
      }),
    );

    // Act
    await client.openMarket();
    const broker = await client.brokerSession({ brokerId: sim.brokerId, account: 'disc2', password: 'disc2' });
    await broker.login();

    // Assess
    expect(rec.hits).toEqual([]);
    await client.close();
    rec.server.close();
  });

  it('fails with AuthError on a token the server refuses, without a retry loop', async () => {
    // Prepare
    const bad = fakeJwt({ sub: 'someone', grants: { features: ['futr', 'tq_dl'], accounts: ['*'] } });
    const client = makeClient(simEnv(sim, { GHTRADER_DIFF_TOKEN: bad, GHTRADER_DIFF_MD_URL: sim.mdUrl }));
    const t0 = Date.now();

    // Act
    const err = await client.openMarket().then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).status).toBe(401);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(sim.admin.stats().totals.md).toBe(0);
    await client.close();
  });
});
