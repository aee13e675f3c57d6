import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimMarket } from '#colo/sim/market/index.ts';
import { type SimulatorHandle, startSimulator } from '#colo/sim/server.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { tradingDayEndNs, tradingDayOf, tradingDayStartNs } from '#shared/domain/market/sessions.ts';
import { createLogger } from '#shared/log.ts';
import { RawDiffClient, type Tree } from './raw-diff-client.ts';

const log = createLogger({ service: 'ghsim-test', level: 'silent' });
const cal = shippedCalendar();
const market = new SimMarket({ seed: 42, calendar: cal });
const DAY = '2025-01-09';
const MAIN = market.mainContract('cu', DAY);

async function stats(sim: SimulatorHandle): Promise<{ connections: { kind: string; live_charts: number }[] }> {
  const res = await fetch(`${sim.url}/admin/stats`, { headers: { Authorization: `Bearer ${sim.token}` } });
  return (await res.json()) as { connections: { kind: string; live_charts: number }[] };
}

describe('md socket', () => {
  let sim: SimulatorHandle;
  beforeAll(async () => {
    sim = await startSimulator(
      { port: 0, clock: 'accelerated', start: '2025-01-10 10:00:00', speed: 1, maintenance: 'off' },
      { log },
    );
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('greets with an empty ins_list and mdhis_more_data false', async () => {
    // Act
    const md = await RawDiffClient.connect(sim.mdUrl, sim.token);
    const greeting = await md.until(() => md.frames[0], 5000, 'greeting');
    md.close();

    // Assess
    expect(greeting).toEqual({ aid: 'rtn_data', data: [{ account_id: '', ins_list: '', mdhis_more_data: false }] });
  });

  it('echoes ins_list as sent, sends a full cu quote with price_tick 10, mirrors KQ.m@ and omits unknown symbols', async () => {
    // Prepare
    const md = await RawDiffClient.connect(sim.mdUrl, sim.token);
    md.autoPeek = true;
    const list = `${MAIN},KQ.m@SHFE.cu,SHFE.cu9912`;

    // Act
    md.send({ aid: 'subscribe_quote', ins_list: list });
    md.peek();
    await md.until(() => md.at('ins_list') === list && md.at('quotes', MAIN, 'datetime'), 5000, 'quote');
    const firstQuoteFrame = md.frames.find((f) => f.data?.some((p) => (p.quotes as Tree | undefined)?.[MAIN]));
    await md.until(
      () => md.frames.filter((f) => f.data?.some((p) => (p.quotes as Tree | undefined)?.[MAIN])).length >= 3,
      5000,
      'change patches',
    );
    md.close();

    // Assess
    const q = md.at('quotes', MAIN) as Tree;
    expect(q).toMatchObject({
      instrument_id: MAIN,
      price_tick: 10,
      volume_multiple: 5,
      ins_class: 'FUTURE',
      exchange_id: 'SHFE',
    });
    expect(q.datetime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
    expect(Number(q.ask_price1)).toBeGreaterThan(Number(q.bid_price1));
    expect(q.ask_price6).toBeUndefined();
    const rawQuote = firstQuoteFrame?.data?.map((p) => (p.quotes as Tree | undefined)?.[MAIN]).find(Boolean) as Tree;
    expect(rawQuote).toHaveProperty('ask_price6', null);
    expect(rawQuote).toHaveProperty('bid_volume10', null);
    const kq = md.at('quotes', 'KQ.m@SHFE.cu') as Tree;
    expect(kq).toMatchObject({ ins_class: 'CONT', underlying_symbol: MAIN, price_tick: 10 });
    expect(kq.ask_price2).toBeUndefined();
    expect(md.at('quotes', 'SHFE.cu9912')).toBeUndefined();
  });

  it('answers ins_query by class, exchange and product from the variables alone, and releases on query ""', async () => {
    // Prepare
    const md = await RawDiffClient.connect(sim.mdUrl, sim.token);
    md.autoPeek = true;
    md.peek();

    // Act
    md.send({
      aid: 'ins_query',
      query_id: 'q1',
      query: 'query ($class_:[Class]) { multi_symbol_info(class:$class_) { ... } }',
      variables: { class_: ['FUTURE'], exchange_id: ['SHFE'], product_id: ['cu'], expired: false },
    });
    const result = await md.until(() => md.at('symbols', 'q1', 'result') as Tree | undefined, 5000, 'ins_query');
    md.send({ aid: 'ins_query', query_id: 'q1', query: '' });
    await md.until(() => md.at('symbols', 'q1') === undefined, 5000, 'release');
    md.close();

    // Assess
    const infos = result.multi_symbol_info as Tree[];
    expect(infos).toHaveLength(12);
    expect(
      infos.every((i) => i.class === 'FUTURE' && i.price_tick === 10 && typeof i.expire_datetime === 'bigint'),
    ).toBe(true);
  });

  it('serves a contract-day by focus_datetime then left_kline_id pages of at most 2,000 contiguous rows, then frees the chart', async () => {
    // Prepare
    const md = await RawDiffClient.connect(sim.mdUrl, sim.token);
    md.autoPeek = true;
    md.peek();
    const start = tradingDayStartNs(cal, DAY);
    const end = tradingDayEndNs(cal, DAY) - 1n;
    const expected = market.dayTicks(MAIN, DAY);
    const ids: number[] = [];
    const datetimes: bigint[] = [];
    let maxRowsPerFrame = 0;

    // Act
    let req: Tree = {
      aid: 'set_chart',
      chart_id: 'GHT_dl_1',
      ins_list: MAIN,
      duration: 0,
      view_width: 2000,
      focus_datetime: start,
      focus_position: 0,
    };
    let done = false;
    while (!done) {
      const from = md.frames.length;
      md.send(req);
      const sent = req;
      await md.until(
        () => {
          const c = md.at('charts', 'GHT_dl_1') as Tree | undefined;
          const st = c?.state as Tree | undefined;
          return c?.ready === true && st && Object.entries(sent).every(([k, v]) => st[k] === v);
        },
        20_000,
        'chart page',
      );
      for (const f of md.frames.slice(from)) {
        let rows = 0;
        // Rows, not evictions: a replaced page's rows leave as null in the same frame.
        for (const p of f.data ?? []) {
          const data = ((p.ticks as Tree | undefined)?.[MAIN] as Tree | undefined)?.data as Tree | undefined;
          rows += Object.values(data ?? {}).filter((v) => v !== null).length;
        }
        maxRowsPerFrame = Math.max(maxRowsPerFrame, rows);
      }
      const c = md.at('charts', 'GHT_dl_1') as Tree;
      const left = Number(c.left_id);
      const right = Number(c.right_id);
      for (let id = Math.max(left, 0); id <= right; id++) {
        const row = md.at('ticks', MAIN, 'data', String(id)) as Tree | undefined;
        if (!row || (row.datetime as bigint) > end) {
          done = true;
          break;
        }
        ids.push(id);
        datetimes.push(row.datetime as bigint);
      }
      if (right >= Number(md.at('ticks', MAIN, 'last_id'))) done = true;
      req = {
        aid: 'set_chart',
        chart_id: 'GHT_dl_1',
        ins_list: MAIN,
        duration: 0,
        view_width: 2000,
        left_kline_id: right + 1,
      };
    }
    md.send({ aid: 'set_chart', chart_id: 'GHT_dl_1', ins_list: '', duration: 0, view_width: 2000 });
    await md.until(() => md.at('charts', 'GHT_dl_1') === undefined, 5000, 'release');
    const after = await stats(sim);
    md.close();

    // Assess
    expect(ids.length).toBe(expected.count);
    expect(ids[0]).toBe(expected.idBase);
    expect(ids.every((id, k) => k === 0 || id === (ids[k - 1] as number) + 1)).toBe(true);
    expect(datetimes[0]).toBe(expected.datetimeNs[0]);
    expect(datetimes.every((t) => tradingDayOf(cal, t, 'SHFE', 'cu').trading_day === DAY)).toBe(true);
    expect(maxRowsPerFrame).toBeLessThanOrEqual(2000);
    expect(after.connections.filter((c) => c.kind === 'md').every((c) => c.live_charts === 0)).toBe(true);
  });

  it('streams a live tick chart: the newest view_width rows, rolling with null evictions', async () => {
    // Prepare
    const md = await RawDiffClient.connect(sim.mdUrl, sim.token);
    md.autoPeek = true;
    md.peek();

    // Act
    md.send({ aid: 'set_chart', chart_id: 'GHT_rt_1', ins_list: MAIN, duration: 0, view_width: 3 });
    const first = await md.until(() => md.at('charts', 'GHT_rt_1', 'right_id') as number | undefined, 5000, 'window');
    await md.until(() => Number(md.at('charts', 'GHT_rt_1', 'right_id')) >= first + 2, 5000, 'rolling');
    md.close();

    // Assess
    const right = Number(md.at('charts', 'GHT_rt_1', 'right_id'));
    const left = Number(md.at('charts', 'GHT_rt_1', 'left_id'));
    expect(right - left).toBe(2);
    const data = md.at('ticks', MAIN, 'data') as Tree;
    expect(
      Object.keys(data)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([left, left + 1, left + 2]);
    expect(md.at('charts', 'GHT_rt_1', 'state', 'session_id')).toMatch(/^ghsim-md-/);
    expect(md.at('charts', 'GHT_rt_1', 'state', 'account_id')).toBe('');
  });

  it('serves 1-minute klines built from the ticks', async () => {
    // Prepare
    const md = await RawDiffClient.connect(sim.mdUrl, sim.token);
    md.autoPeek = true;
    md.peek();

    // Act
    md.send({ aid: 'set_chart', chart_id: 'k1', ins_list: MAIN, duration: 60_000_000_000, view_width: 30 });
    await md.until(() => md.at('charts', 'k1', 'ready') === true, 10_000, 'klines');
    md.close();

    // Assess
    const node = md.at('klines', MAIN, '60000000000') as Tree;
    const bars = Object.values(node.data as Tree) as Tree[];
    expect(bars.length).toBe(30);
    expect(bars.every((b) => Number(b.high) >= Number(b.low) && Number(b.volume) >= 0)).toBe(true);
    expect(typeof node.trading_day_start_id).toBe('number');
  });
});
