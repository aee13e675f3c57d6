import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#colo/sim/server.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { DiffClient } from '#shared/infra/diff/client.ts';
import { loadDiffConfig } from '#shared/infra/diff/config.ts';
import type { MarketFeed } from '#shared/services/market-feed.ts';
import type { MarketJson } from '#web/routes/api-market.ts';
import { WebTestStack } from '../web/support.ts';
import { simOpen, startFeed, startSim, until } from './support.ts';

const VARIETIES = ['cu', 'au', 'ag'] as const;

/** A loopback URL on which nothing listens (a server is bound, its port read, and closed). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe('the market feed over the simulator and the DIFF client', () => {
  let sim: SimulatorHandle;
  let feed: MarketFeed;

  beforeAll(async () => {
    sim = await startSim();
    feed = startFeed(sim);
    await until(
      () => (VARIETIES.every((v) => feed.snapshot(v).feed.state === 'ok') ? true : undefined),
      15_000,
      'every variety ok',
    );
  });

  afterAll(async () => {
    await feed?.close();
    await sim?.stop();
  });

  it('resolves the main contract of cu, au and ag as KQ.m@SHFE.<var> names it, with a five-level quote', async () => {
    // Prepare: an independent client asks the alias itself.
    const client = new DiffClient({
      config: loadDiffConfig({ GHTRADER_DIFF_MD_URL: sim.mdUrl, GHTRADER_DIFF_TOKEN: sim.token }),
      calendar: shippedCalendar(),
    });
    const md = await client.openMarket();
    const expected: Record<string, string> = {};
    for (const v of VARIETIES) expected[v] = (await md.market.getQuote(`KQ.m@SHFE.${v}`)).underlying_symbol;
    await client.close();

    // Act
    const snaps = VARIETIES.map((v) => feed.snapshot(v));

    // Assess
    for (const s of snaps) {
      expect(s.main_contract).toBe(expected[s.variety]);
      expect(s.main_contract).toMatch(new RegExp(`^SHFE\\.${s.variety}25\\d{2}$`));
      const q = s.quote;
      if (!q) throw new Error(`no quote for ${s.variety}`);
      expect(q.source).toBe('quote');
      expect(q.symbol).toBe(s.main_contract);
      expect(q.datetime).toMatch(/^2025-03-04 10:\d{2}:\d{2}\.\d{6}$/);
      expect(Number.isFinite(q.last_price)).toBe(true);
      for (const side of [q.bid_price, q.ask_price, q.bid_volume, q.ask_volume]) {
        expect(side).toHaveLength(5);
        expect(side.every((x) => Number.isFinite(x) && x > 0)).toBe(true);
      }
      expect(q.bid_price[0]).toBeLessThan(q.ask_price[0] as number);
      // Deeper levels move away from the touch on both sides.
      for (let k = 1; k < 5; k++) {
        expect(q.bid_price[k]).toBeLessThan(q.bid_price[k - 1] as number);
        expect(q.ask_price[k]).toBeGreaterThan(q.ask_price[k - 1] as number);
      }
      expect(q.volume).toBeGreaterThan(0);
      expect(q.open_interest).toBeGreaterThan(0);
      expect(s.feed).toMatchObject({ state: 'ok', error: '', stale: false });
    }
  });

  it('accumulates tick points in time order and keeps no more than its window', async () => {
    // Prepare
    const first = feed.snapshot('cu').points;

    // Act: at ×10 the simulator makes 20 ticks a second; the window holds 60.
    const full = await until(
      () => {
        const p = feed.snapshot('cu').points;
        return p.length === 60 && (p.at(-1)?.[0] ?? 0n) > (first.at(-1)?.[0] ?? 0n) + 5_000_000_000n ? p : undefined;
      },
      10_000,
      '60 points and 5 s of market time',
    );
    await new Promise((r) => setTimeout(r, 700));
    const later = feed.snapshot('cu').points;

    // Assess
    expect(first.length).toBeGreaterThan(0);
    expect(later).toHaveLength(60);
    expect(later.at(-1)?.[0]).toBeGreaterThan(full.at(-1)?.[0] ?? 0n);
    for (let i = 1; i < later.length; i++) expect(later[i]?.[0]).toBeGreaterThan(later[i - 1]?.[0] ?? 0n);
    for (const [, last, bid, ask, volume] of later) {
      expect(last).toBeGreaterThan(0);
      expect(bid).toBeLessThan(ask);
      expect(Number.isInteger(volume)).toBe(true);
    }
  });

  it('reports a source that cannot be opened as an error, and recovers once it answers', async () => {
    // Prepare
    let target = { url: await deadUrl(), token: sim.token };
    const flaky = startFeed(sim, { open: simOpen(() => target), retryBaseMs: 200, retryMaxMs: 400, varieties: ['ag'] });

    try {
      // Act
      const failed = await until(
        () => {
          const f = flaky.snapshot('ag').feed;
          return f.state === 'error' ? f : undefined;
        },
        10_000,
        'the error status',
      );
      target = { url: sim.url, token: sim.token };
      const recovered = await until(
        () => {
          const s = flaky.snapshot('ag');
          return s.feed.state === 'ok' ? s : undefined;
        },
        10_000,
        'recovery',
      );

      // Assess
      expect(failed.stale).toBe(true);
      expect(failed.error).not.toBe('');
      expect(failed.text).toMatch(/^market feed failed \(open: .+\); retry \d+ in \d+ s$/);
      expect(recovered.main_contract).toMatch(/^SHFE\.ag25\d{2}$/);
    } finally {
      await flaky.close();
    }
  });
});

describe('GET /api/market/{var} and the Market page', () => {
  let sim: SimulatorHandle;
  let feed: MarketFeed;
  let web: WebTestStack;
  let off: WebTestStack;
  let cookie: string;

  beforeAll(async () => {
    sim = await startSim();
    feed = startFeed(sim, { varieties: ['cu'] });
    [web, off] = await Promise.all([WebTestStack.create({ market: feed }), WebTestStack.create()]);
    cookie = (await web.login(await web.createUser('viewer'))).cookie;
    await until(() => (feed.snapshot('cu').feed.state === 'ok' ? true : undefined), 15_000, 'cu ok');
  });

  afterAll(async () => {
    await feed?.close();
    await sim?.stop();
    await Promise.all([web?.close(), off?.close()]);
  });

  it('answers a viewer with the main contract, the L5 quote and the points with decimal-ns instants', async () => {
    // Act
    const res = await web.request('/api/market/cu', { headers: { cookie } });
    const body = (await res.json()) as MarketJson;

    // Assess
    expect(res.status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['feed', 'main_contract', 'points', 'quote', 'var']);
    expect(body.var).toBe('cu');
    expect(body.main_contract).toMatch(/^SHFE\.cu25\d{2}$/);
    expect(body.quote?.bid_price).toHaveLength(5);
    expect(body.quote?.ask_volume).toHaveLength(5);
    expect(body.quote?.datetime_ns).toMatch(/^\d{19}$/);
    expect(body.quote?.source).toBe('quote');
    expect(body.points.length).toBeGreaterThan(0);
    expect(body.points.length).toBeLessThanOrEqual(60);
    for (const p of body.points) {
      expect(p).toHaveLength(5);
      expect(p[0]).toMatch(/^\d{19}$/);
    }
    expect(body.feed).toMatchObject({ state: 'ok', error: '', stale: false });
    expect(body.feed.updated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('answers 404 for a variety other than cu, au, ag, empty for one the feed does not carry, 401 without credentials', async () => {
    // Act
    const unknown = await web.request('/api/market/zn', { headers: { cookie } });
    const carried = await web.request('/api/market/au', { headers: { cookie } });
    const anonymous = await web.request('/api/market/cu');

    // Assess
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'not_found', details: { what: 'variety' } } });
    expect(carried.status).toBe(200);
    expect(await carried.json()).toMatchObject({ var: 'au', main_contract: null, feed: { state: 'empty' } });
    expect(anonymous.status).toBe(401);
  });

  it('answers 503 dependency_unavailable, and the page says the feed is off, when the app has no market feed', async () => {
    // Prepare
    const offCookie = (await off.login(await off.createUser('viewer'))).cookie;

    // Act
    const api = await off.request('/api/market/cu', { headers: { cookie: offCookie } });
    const page = await off.request('/v/cu/market', { headers: { cookie: offCookie } });
    const html = await page.text();

    // Assess
    expect(api.status).toBe(503);
    expect(await api.json()).toMatchObject({
      error: { code: 'dependency_unavailable', details: { dependency: 'market_feed' } },
    });
    expect(page.status).toBe(200);
    expect(html).toContain('Market feed off');
    expect(html).not.toContain('id="market-chart"');
  });

  it('renders the Market page with the main contract, an accessible book table and the chart summary', async () => {
    // Act
    const res = await web.request('/v/cu/market', { headers: { cookie } });
    const html = await res.text();
    const main = feed.snapshot('cu').main_contract ?? 'none';

    // Assess
    expect(res.status).toBe(200);
    expect(html).toContain(`<dd id="market-main">${main}</dd>`);
    expect(html).toMatch(/<th scope="col" class="num">Bid price<\/th>/);
    expect(html.match(/<th scope="row">[1-5]<\/th>/g)).toHaveLength(5);
    expect(html).toMatch(/Last price \d+; min \d+, max \d+ over the last \d+ ticks/);
    expect(html).toContain('<a id="nav-market" href="/v/cu/market" aria-current="page" class="current">Market</a>');
    const data = JSON.parse(/<script type="application\/json" id="page-data">(.*?)<\/script>/s.exec(html)?.[1] ?? '{}');
    expect(data).toMatchObject({ page: 'market', market: { var: 'cu', main_contract: main } });
  });

  it('puts the main contract chart on the dashboard with the same live panel data, and says when the feed is off', async () => {
    const html = await (await web.request('/v/cu/dashboard', { headers: { cookie } })).text();
    const main = feed.snapshot('cu').main_contract ?? 'none';
    expect(html).toContain(`Main contract ${main}: last, bid 1, ask 1`);
    expect(html).toContain('id="market-chart"');
    expect(html).toMatch(/Last price \d+; min \d+, max \d+ over the last \d+ ticks/);
    const data = JSON.parse(/<script type="application\/json" id="page-data">(.*?)<\/script>/s.exec(html)?.[1] ?? '{}');
    expect(data).toMatchObject({ page: 'dashboard', market: { var: 'cu', main_contract: main } });
    const offCookie = (await off.login(await off.createUser('viewer'))).cookie;
    const offHtml = await (await off.request('/v/cu/dashboard', { headers: { cookie: offCookie } })).text();
    expect(offHtml).toContain('The market feed is off in this process');
    expect(offHtml).not.toContain('id="market-chart"');
  });
});
