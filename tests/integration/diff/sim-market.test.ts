import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oddNsOffset } from '#colo/sim/faults.ts';
import type { SimulatorHandle } from '#colo/sim/server.ts';
import type { MarketNotice, TickRow } from '#shared/domain/market/ports.ts';
import { UnknownSymbolError } from '#shared/errors/diff.ts';
import type { DiffClient } from '#shared/infra/diff/client.ts';
import { readFrameLog } from '#shared/infra/diff/framelog.ts';
import { parseDiffJson } from '#shared/infra/diff/json.ts';
import type { DiffMarketDataSource } from '#shared/infra/diff/ports.ts';
import { makeClient, simEnv, startSim, tempFile, until } from './support.ts';

describe('DIFF market data against the simulator (§2.9 behaviours 3–5)', () => {
  let sim: SimulatorHandle;
  let client: DiffClient;
  let md: DiffMarketDataSource;
  let main: string;
  const logPath = tempFile('frames.jsonl');

  beforeAll(async () => {
    sim = await startSim();
    client = makeClient(simEnv(sim, { GHTRADER_DIFF_FRAME_LOG: logPath }));
    md = await client.openMarket();
    main = (await md.market.getQuote('KQ.m@SHFE.cu')).underlying_symbol;
  });

  afterAll(async () => {
    await client.close();
    await sim.stop();
  });

  it('sends the union of subscriptions, sorted, each time it grows', async () => {
    // Prepare
    const fresh = makeClient(simEnv(sim, { GHTRADER_DIFF_FRAME_LOG: tempFile('sub.jsonl') }));
    const source = await fresh.openMarket();

    // Act
    source.market.subscribeQuote([main]);
    source.market.subscribeQuote(['KQ.m@SHFE.cu']);
    source.market.subscribeQuote([main]);
    await until(() => (source.market.conn.store.get('ins_list') === `KQ.m@SHFE.cu,${main}` ? true : undefined));

    // Assess
    const sends = readFrameLog(fresh.frameLog?.path ?? '')
      .filter((l) => l.sock === 'md' && l.dir === 'send')
      .map((l) => parseDiffJson(l.raw) as { aid: string; ins_list?: string })
      .filter((f) => f.aid === 'subscribe_quote');
    expect(sends.map((f) => f.ins_list)).toEqual([main, `KQ.m@SHFE.cu,${main}`]);
    await fresh.close();
  });

  it('resolves getQuote with price_tick 10 and a datetime, and rejects an unknown symbol', async () => {
    // Act
    const q = await md.market.getQuote(main);
    const err = await md.market.getQuote('SHFE.cu9912').then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(q.price_tick).toBe(10);
    expect(q.datetime).toMatch(/^2025-01-10 \d{2}:\d{2}:\d{2}\.\d{6}$/);
    expect(q.datetime_ns).not.toBeNull();
    expect(err).toBeInstanceOf(UnknownSymbolError);
  });

  it('downloads a contract-day in contiguous pages of at most 2,000 rows and releases the chart', async () => {
    // Prepare
    sim.admin.addFault({ kind: 'odd_ns', on: true });
    const pages: TickRow[][] = [];

    // Act
    for await (const page of md.downloadTicks(main, '20250109')) pages.push(page);
    sim.admin.addFault({ kind: 'odd_ns', on: false });

    // Assess
    const rows = pages.flat();
    expect(rows.length).toBeGreaterThan(50_000);
    expect(Math.max(...pages.map((p) => p.length))).toBeLessThanOrEqual(2_000);
    for (let i = 1; i < rows.length; i++) expect(rows[i]?.id).toBe((rows[i - 1]?.id ?? 0) + 1);
    expect(rows.every((r) => r.trading_day === '20250109' && r.symbol === main)).toBe(true);
    // odd_ns: every datetime is the 500 ms grid plus the sim's 1–255 ns offset for that id, exactly.
    const inexact = rows.filter((r) => {
      const off = oddNsOffset(r.id);
      return off === 0n || (r.datetime - off) % 500_000_000n !== 0n;
    });
    expect(inexact).toEqual([]);
    const charts = readFrameLog(logPath)
      .filter((l) => l.sock === 'md' && l.dir === 'send')
      .map((l) => parseDiffJson(l.raw) as Record<string, unknown>)
      .filter((f) => f.aid === 'set_chart' && typeof f.chart_id === 'string' && f.chart_id.startsWith('GHT_dl_'));
    expect(charts[0]).toMatchObject({ duration: 0, view_width: 2000, focus_position: 0 });
    expect(typeof charts[0]?.focus_datetime).toBe('bigint');
    expect(charts[1]).toMatchObject({ view_width: 2000, left_kline_id: (pages[0]?.at(-1)?.id ?? 0) + 1 });
    expect(charts[1]).not.toHaveProperty('focus_datetime');
    expect(charts.at(-1)).toMatchObject({ ins_list: '' });
    await until(() => (sim.admin.stats().totals.live_charts === 0 ? true : undefined), 5_000, 'no live chart');
  });

  it('yields zero rows for a holiday', async () => {
    // Prepare
    const pages: TickRow[][] = [];

    // Act
    for await (const page of md.downloadTicks(main, '20250101')) pages.push(page);

    // Assess
    expect(pages).toEqual([]);
  });

  it.each([
    ['"-"', '-'],
    ['null', null],
    ['"NaN"', 'NaN'],
    ['a bare NaN token', 'NaN-token'],
  ] as const)(
    'keeps running on bad values %s: NaN or deleted in the store, data_error instead of a tick',
    async (_n, value) => {
      // Prepare
      const ticks = md.subscribeTicks(main, 50);
      const notices: MarketNotice[] = [];
      ticks.onNotice((n) => notices.push(n));
      const got: TickRow[] = [];
      const reader = (async () => {
        for await (const t of ticks) got.push(t);
      })();
      await until(() => (got.length > 0 ? true : undefined), 10_000, 'first tick');

      const before = Math.max(...got.map((t) => t.id), ...notices.map((n) => (n.kind === 'data_error' ? n.id : -1)));

      // Act
      sim.admin.addFault({ kind: 'bad_values', symbol: main, fields: ['last_price'], value, count: 1 });
      const err = await until(
        () => notices.find((n) => n.kind === 'data_error' && n.reason === 'nan_last_price' && n.id > before),
        15_000,
        'data_error',
      );

      // Assess
      expect(err).toMatchObject({ kind: 'data_error', symbol: main });
      const badId = (err as { id: number }).id;
      expect(got.some((t) => t.id === badId)).toBe(false);
      const stored = md.market.conn.store.get(`ticks/${main}/data/${badId}/last_price`);
      if (value === null) expect(stored).toBeUndefined();
      else expect(stored).toBeNaN();
      await ticks.close();
      await reader;
      expect(md.market.conn.isLive).toBe(true);
    },
  );
});

describe('DIFF market port extras against the simulator', () => {
  let sim: SimulatorHandle;
  let client: DiffClient;
  let md: DiffMarketDataSource;

  beforeAll(async () => {
    sim = await startSim();
    client = makeClient(simEnv(sim));
    md = await client.openMarket();
  });

  afterAll(async () => {
    await client.close();
    await sim.stop();
  });

  it('lists the listed cu contracts with their contract information', async () => {
    // Act
    const contracts = await md.listContracts('cu');

    // Assess
    expect(contracts).toHaveLength(12);
    expect(contracts.every((c) => c.price_tick === 10 && c.volume_multiple === 5 && !c.expired)).toBe(true);
    expect(contracts.every((c) => typeof c.expire_datetime === 'bigint')).toBe(true);
  });

  it('maps the main contract per trading day, today included, equal to KQ.m@ underlying_symbol', async () => {
    // Prepare
    const kq = await md.market.getQuote('KQ.m@SHFE.cu');

    // Act
    const map = await md.continuousMapping('cu', '20250102', '20250110');

    // Assess
    expect(map[0]?.trading_day).toBe('20250102');
    expect(map.at(-1)).toEqual({ trading_day: '20250110', underlying: kq.underlying_symbol });
  });

  it('emits one quote event per batch per changed quote', async () => {
    // Prepare
    const kq = await md.market.getQuote('KQ.m@SHFE.cu');
    const sub = md.subscribeQuotes([kq.underlying_symbol]);
    const events: { batch_seq: number; symbol: string }[] = [];

    // Act
    for await (const e of sub) {
      events.push({ batch_seq: e.batch_seq, symbol: e.symbol });
      if (events.length >= 5) break;
    }

    // Assess
    expect(new Set(events.map((e) => e.batch_seq)).size).toBe(5);
    expect(events.every((e) => e.symbol === kq.underlying_symbol)).toBe(true);
  });
});
