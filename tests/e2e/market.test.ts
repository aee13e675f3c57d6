import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLI, ConsoleClient, type RunningStack, startUp, until } from './support/ghtrader-process.ts';

interface MarketBody {
  var: string;
  main_contract: string | null;
  quote: { symbol: string; last_price: number | null; bid_price: (number | null)[]; source: string } | null;
  points: [string, number | null, number | null, number | null, number | null][];
  feed: { state: string; text: string };
}

interface SimBanner {
  url: string;
  clock: string;
  start: string | null;
}

/** The banner's `sim` field (the shared support's `UpBanner` predates it). */
function simOf(stack: RunningStack): SimBanner | null {
  return (stack.banner as typeof stack.banner & { sim: SimBanner | null }).sim;
}

async function login(stack: RunningStack): Promise<ConsoleClient> {
  const client = new ConsoleClient(stack.banner.url);
  if (!stack.banner.login_url) throw new Error(`no login url in banner: ${stack.output()}`);
  await client.loginOneTime(stack.banner.login_url);
  return client;
}

describe('ghtrader up runs the SHFE simulator and serves the market panel', () => {
  let home: string;
  let stack: RunningStack;
  let admin: ConsoleClient;

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ghtrader-e2e-market-'));
    stack = await startUp(home, ['--no-demo']);
    admin = await login(stack);
  });

  afterAll(async () => {
    if (stack?.child.exitCode === null) await stack.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('serves /api/market/cu with a main contract and a quote within 10 s, and records the simulator in stack.json', async () => {
    // Act
    const body = await until(
      async () => {
        const r = await admin.request('GET', '/api/market/cu');
        const b = r.json as MarketBody;
        return r.status === 200 && b.main_contract && b.quote ? b : null;
      },
      10_000,
      'a main contract and a quote of cu',
    );
    const stackFile = JSON.parse(await readFile(path.join(home, 'run', 'stack.json'), 'utf8'));
    const sim = simOf(stack);

    // Assess
    expect(body.main_contract).toMatch(/^SHFE\.cu\d{4}$/);
    expect(body.quote?.symbol).toBe(body.main_contract);
    expect(body.quote?.bid_price).toHaveLength(5);
    expect(['quote', 'tick']).toContain(body.quote?.source);
    expect(body.points.length).toBeGreaterThan(0);
    expect(sim).toMatchObject({ clock: 'shifted', url: stackFile.sim_url });
    expect(sim?.start).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} CST$/);
    expect(stackFile.sim_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]*$/);
  });

  it('publishes ticks:cu at most 2 Hz, which a logged-in socket receives over /ws with the main contract', async () => {
    // Prepare
    const ws = new WebSocket(`${stack.banner.url.replace(/^http/, 'ws')}/ws`, {
      headers: { cookie: admin.sessionCookie, origin: stack.banner.url },
    });
    const ticks: { seq: number; payload: { main_contract: string | null; points: unknown[]; reset: boolean } }[] = [];
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as (typeof ticks)[number] & { type: string };
      if (m.type === 'ticks') ticks.push(m);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });

    // Act
    ws.send(JSON.stringify({ type: 'subscribe', topics: ['ticks:cu'] }));
    await until(async () => (ticks.length >= 3 ? true : null), 10_000, 'three ticks:cu messages');
    const started = Date.now();
    const before = ticks.length;
    await new Promise((r) => setTimeout(r, 3_000));
    const rate = (ticks.length - before) / ((Date.now() - started) / 1000);
    ws.close();

    // Assess
    const main = ((await admin.request('GET', '/api/market/cu')).json as MarketBody).main_contract;
    expect(ticks.at(-1)?.payload.main_contract).toBe(main);
    expect(ticks.some((t) => t.payload.points.length > 0)).toBe(true);
    expect(rate).toBeLessThanOrEqual(2.5);
    const seqs = ticks.map((t) => t.seq);
    expect(seqs.slice(1).every((s, i) => s === (seqs[i] as number) + 1)).toBe(true);
  });

  it('renders /v/cu/market with the main contract and the Market entry in the navigation', async () => {
    // Prepare
    const market = (await admin.request('GET', '/api/market/cu')).json as MarketBody;

    // Act
    const page = await admin.request('GET', '/v/cu/market');

    // Assess
    expect(page.status).toBe(200);
    expect(page.text).toContain('>Market</a>');
    expect(page.text).toContain(`<dd id="market-main">${market.main_contract}</dd>`);
    expect(page.text).toContain('id="market-chart"');
  });

  it('stops the simulator with everything else within 5 s of SIGTERM', async () => {
    // Prepare
    const simUrl = simOf(stack)?.url ?? 'http://127.0.0.1:1';

    // Act
    const stopped = await stack.stop();
    const after = await fetch(`${simUrl}/ns`).then(
      (r) => r.status,
      () => 'refused',
    );

    // Assess
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(5_000);
    expect(after).toBe('refused');
  });
});

describe('ghtrader up without the simulator', () => {
  let home: string;

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ghtrader-e2e-nosim-'));
  });

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('refuses a bad --sim-clock with exit 2 and one message', () => {
    // Act
    const r = spawnSync(process.execPath, [CLI, 'up', '--home', home, '--port', '0', '--sim-clock', 'tomorrow'], {
      encoding: 'utf8',
      timeout: 20_000,
    });

    // Assess
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("option '--sim-clock <clock>' argument 'tomorrow' is invalid");
    expect(r.stderr).toContain('expected one of shifted, realtime');
  });

  it('with --no-sim answers 503 on /api/market/cu and the Market page says the feed is off', async () => {
    // Prepare
    const stack = await startUp(home, ['--no-demo', '--no-sim']);
    try {
      const admin = await login(stack);

      // Act
      const api = await admin.request('GET', '/api/market/cu');
      const page = await admin.request('GET', '/v/cu/market');
      const stackFile = JSON.parse(await readFile(path.join(home, 'run', 'stack.json'), 'utf8'));

      // Assess
      expect(api.status).toBe(503);
      expect(api.json).toMatchObject({ error: { code: 'dependency_unavailable' } });
      expect(page.status).toBe(200);
      expect(page.text).toContain('Market feed off');
      expect(stackFile).not.toHaveProperty('sim_url');
      expect(simOf(stack)).toBeNull();
    } finally {
      await stack.stop();
    }
  });
});
