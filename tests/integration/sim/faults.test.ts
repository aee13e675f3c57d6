import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimMarket } from '#colo/sim/market/index.ts';
import { type SimulatorHandle, startSimulator } from '#colo/sim/server.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { createLogger } from '#shared/log.ts';
import { RawDiffClient, type Tree } from './raw-diff-client.ts';

const log = createLogger({ service: 'ghsim-test', level: 'silent' });
const market = new SimMarket({ seed: 42, calendar: shippedCalendar() });
const MAIN = market.mainContract('cu', '2025-01-10');

describe('fault injection', () => {
  let sim: SimulatorHandle;
  const post = (body: unknown) =>
    fetch(`${sim.url}/admin/faults`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const clear = () =>
    fetch(`${sim.url}/admin/faults`, { method: 'DELETE', headers: { Authorization: `Bearer ${sim.token}` } });

  async function subscribed(): Promise<RawDiffClient> {
    const md = await RawDiffClient.connect(sim.mdUrl, sim.token);
    md.autoPeek = true;
    md.send({ aid: 'subscribe_quote', ins_list: MAIN });
    md.peek();
    await md.until(() => md.at('quotes', MAIN, 'datetime'), 5000, 'quote');
    return md;
  }

  beforeAll(async () => {
    sim = await startSimulator(
      { port: 0, clock: 'accelerated', start: '2025-01-10 10:00:00', speed: 4, maintenance: 'off' },
      { log },
    );
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('writes a bare NaN token into the next quote patch for bad_values "NaN-token"', async () => {
    // Prepare
    const md = await subscribed();
    const from = md.raw.length;

    // Act
    await post({ kind: 'bad_values', symbol: MAIN, fields: ['last_price'], value: 'NaN-token', count: 1 });
    await md.until(() => md.raw.slice(from).some((t) => t.includes('"last_price":NaN')), 5000, 'NaN token');
    md.close();

    // Assess
    const k = md.raw.findIndex((t, i) => i >= from && t.includes('"last_price":NaN'));
    const patch = md.frames[k]?.data?.find((p) => (p.quotes as Tree | undefined)?.[MAIN]);
    const quote = (patch?.quotes as Tree | undefined)?.[MAIN] as Tree | undefined;
    expect(Number.isNaN(quote?.last_price)).toBe(true);
    expect(md.raw.slice(from).filter((t) => t.includes('"last_price":NaN'))).toHaveLength(1);
  });

  it('sends "-" on the locked side with volume 0 and last_price at the limit under limit_lock up', async () => {
    // Prepare
    const md = await subscribed();

    // Act
    await post({ kind: 'limit_lock', symbol: MAIN, side: 'up', for_s: 30 });
    await md.until(() => md.at('quotes', MAIN, 'ask_price1') === '-', 5000, 'locked quote');
    await clear();
    md.close();

    // Assess
    const q = md.at('quotes', MAIN) as Tree;
    expect(q.ask_volume1).toBe(0);
    expect(q.last_price).toBe(q.upper_limit);
  });

  it('adds a 1–255 ns offset to tick datetimes under odd_ns', async () => {
    // Prepare
    const md = await subscribed();
    await post({ kind: 'odd_ns', on: true });

    // Act
    md.send({ aid: 'set_chart', chart_id: 'odd', ins_list: MAIN, duration: 0, view_width: 20 });
    await md.until(() => md.at('charts', 'odd', 'ready') === true, 5000, 'chart');
    await clear();
    md.close();

    // Assess
    const rows = Object.values(md.at('ticks', MAIN, 'data') as Tree) as Tree[];
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      const off = (r.datetime as bigint) % 500_000_000n;
      expect(off >= 1n && off <= 255n).toBe(true);
    }
  });

  it('stops quote patches during quote_stall while the socket stays up', async () => {
    // Prepare
    const md = await subscribed();
    await post({ kind: 'quote_stall', symbol: '*', for_s: 1.5 });
    await new Promise((r) => setTimeout(r, 200));
    const from = md.frames.length;

    // Act
    await new Promise((r) => setTimeout(r, 800));
    const during = md.frames.slice(from).filter((f) => f.data?.some((p) => p.quotes)).length;
    await md.until(() => md.frames.slice(from).some((f) => f.data?.some((p) => p.quotes)), 5000, 'quotes resume');
    md.close();

    // Assess
    expect(during).toBe(0);
    expect(md.closed).toBe(false);
  });

  it('pushes an unsolicited notify, and drops sockets abruptly or with a close frame', async () => {
    // Prepare
    const a = await subscribed();

    // Act
    await post({ kind: 'notify', level: 'WARNING', code: 7, content: 'hello' });
    await a.until(() => a.notifies().some((n) => n.code === 7), 5000, 'notify');
    await post({ kind: 'drop', socket: 'md', mode: 'abrupt' });
    await a.until(() => a.closed, 5000, 'abrupt drop');
    const b = await subscribed();
    await post({ kind: 'drop', socket: 'md', mode: 'close' });
    await b.until(() => b.closed, 5000, 'close drop');

    // Assess
    expect(a.notifies().find((n) => n.code === 7)).toMatchObject({ level: 'WARNING', content: 'hello' });
    expect(a.closeCode).toBe(1006);
    expect(b.closeCode).toBe(1001);
  });

  it('counts peeks, held peeks, subscriptions and bytes per connection in /admin/stats', async () => {
    // Prepare
    const md = await subscribed();
    md.peek();
    md.peek();

    // Act
    await new Promise((r) => setTimeout(r, 100));
    const stats = (await (
      await fetch(`${sim.url}/admin/stats`, { headers: { Authorization: `Bearer ${sim.token}` } })
    ).json()) as {
      connections: Tree[];
    };
    md.close();

    // Assess
    const mine = stats.connections.filter((c) => c.kind === 'md' && c.subscriptions === 1);
    expect(mine).toHaveLength(1);
    expect(Number(mine[0]?.peeks)).toBeGreaterThanOrEqual(3);
    expect(Number(mine[0]?.peeks_while_held)).toBeGreaterThanOrEqual(1);
    expect(Number(mine[0]?.bytes_sent)).toBeGreaterThan(0);
  });
});
