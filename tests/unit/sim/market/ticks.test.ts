import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATOR_PARAMS } from '#colo/sim/market/index.ts';
import { CONTRACT_SPECS } from '#shared/domain/market/contracts.ts';
import { parseCst } from '#shared/domain/market/cst.ts';
import type { Variety } from '#shared/domain/market/varieties.ts';
import { cal, freshMarket, gridSlots, lvl, violations } from './support.ts';

const market = freshMarket(42);

/** Main contract-days around a holiday, a Friday/Monday pair and plain days, plus far and expiring months. */
const SAMPLES: { variety: Variety; day: string; pick: 'main' | 'first' | 'last' }[] = [
  { variety: 'cu', day: '2025-01-10', pick: 'main' },
  { variety: 'cu', day: '2025-01-13', pick: 'main' },
  { variety: 'au', day: '2025-02-05', pick: 'main' },
  { variety: 'ag', day: '2024-10-08', pick: 'main' },
  { variety: 'ag', day: '2024-06-12', pick: 'last' },
  { variety: 'cu', day: '2025-03-17', pick: 'first' },
  { variety: 'au', day: '2024-12-16', pick: 'first' },
];

const cases = SAMPLES.map(({ variety, day, pick }) => {
  const listed = market.listed(variety, day);
  const symbol = pick === 'main' ? market.mainContract(variety, day) : pick === 'first' ? listed[0] : listed.at(-1);
  if (symbol === undefined) throw new Error(`nothing listed for ${variety} on ${day}`);
  return { variety, day, symbol, label: `${symbol} ${day}` };
});

describe.each(cases)('ticks of $label', ({ variety, day, symbol }) => {
  const block = market.dayTicks(symbol, day);
  const stats = market.dayStats(symbol, day);
  const p = DEFAULT_GENERATOR_PARAMS.varieties[variety];
  const tick = CONTRACT_SPECS[variety].price_tick;
  const bandLo = Math.round(p.band[0] / tick);
  const bandHi = Math.round(p.band[1] / tick);
  const upper = Math.round(stats.upper_limit / tick);
  const lower = Math.round(stats.lower_limit / tick);

  it('has a tick in at least 97 % of the grid slots', () => {
    // Act
    const share = block.count / gridSlots(day, variety);

    // Assess
    expect(share).toBeGreaterThan(0.97);
    expect(share).toBeLessThanOrEqual(1);
  });

  it('keeps five finite levels per side with depth ≥ 1, asks strictly increasing, bids strictly decreasing', () => {
    // Act
    const bad = violations(block, (i) => {
      if ((lvl(block.askTicks, 0)[i] as number) <= (lvl(block.bidTicks, 0)[i] as number)) return true;
      for (let l = 0; l < 5; l++) {
        if ((lvl(block.askVol, l)[i] as number) < 1 || (lvl(block.bidVol, l)[i] as number) < 1) return true;
        if (l > 0 && (lvl(block.askTicks, l)[i] as number) <= (lvl(block.askTicks, l - 1)[i] as number)) return true;
        if (l > 0 && (lvl(block.bidTicks, l)[i] as number) >= (lvl(block.bidTicks, l - 1)[i] as number)) return true;
      }
      return false;
    });

    // Assess
    expect(bad).toEqual([]);
  });

  it('prints every price on the tick grid, inside the limits and the variety band', () => {
    // Prepare
    const rows = [0, 1, block.count >> 1, block.count - 1].map((i) => market.tickRow(block, i));
    const prices = rows.flatMap((r) => [r.last_price, r.highest, r.lowest, r.bid_price1, r.ask_price5, r.bid_price5]);

    // Act
    const offGrid = prices.filter((x) => Math.abs(x / tick - Math.round(x / tick)) >= 1e-6);
    const outside = violations(block, (i) => {
      const lo = lvl(block.bidTicks, 4)[i] as number;
      const hi = lvl(block.askTicks, 4)[i] as number;
      return lo < Math.max(lower, bandLo) || hi > Math.min(upper, bandHi);
    });

    // Assess
    expect(offGrid).toEqual([]);
    expect(outside).toEqual([]);
    expect(stats.highest).toBeLessThanOrEqual(stats.upper_limit);
    expect(stats.lowest).toBeGreaterThanOrEqual(stats.lower_limit);
  });

  it('keeps volume, amount and highest rising, lowest falling, last and average inside [lowest, highest]', () => {
    // Act
    const bad = violations(block, (i) => {
      const last = block.lastTicks[i] as number;
      const hi = block.highestTicks[i] as number;
      const lo = block.lowestTicks[i] as number;
      const avg = (block.amount[i] as number) / (block.volume[i] as number) / block.volumeMultiple / tick;
      if (last < lo || last > hi || avg < lo - 1e-9 || avg > hi + 1e-9) return true;
      if (i === 0) return false;
      return (
        (block.volume[i] as number) < (block.volume[i - 1] as number) ||
        (block.amount[i] as number) < (block.amount[i - 1] as number) ||
        hi < (block.highestTicks[i - 1] as number) ||
        lo > (block.lowestTicks[i - 1] as number)
      );
    });

    // Assess
    expect(bad).toEqual([]);
  });

  it('changes last_price only on trades, trades at bid1 or ask1, and moves OI by at most the traded lots', () => {
    // Prepare
    const preOi = stats.pre_open_interest;

    // Act
    const bad = violations(block, (i) => {
      const dv = (block.volume[i] as number) - (i === 0 ? 0 : (block.volume[i - 1] as number));
      const dOi = (block.openInterest[i] as number) - (i === 0 ? preOi : (block.openInterest[i - 1] as number));
      const last = block.lastTicks[i] as number;
      if (Math.abs(dOi) > dv) return true;
      if (dv > 0) return last !== lvl(block.bidTicks, 0)[i] && last !== lvl(block.askTicks, 0)[i];
      return last !== block.lastTicks[i - 1];
    });

    // Assess
    expect(bad).toEqual([]);
    expect(block.volume[0]).toBeGreaterThanOrEqual(1);
  });

  it('ends the day at the analytic volume and open interest, with settlement = final average on the tick', () => {
    // Prepare
    const flow = market.dayFlow(symbol, day);
    const n = block.count - 1;
    const finalAverage = (block.amount[n] as number) / (block.volume[n] as number) / block.volumeMultiple;

    // Assess
    expect(block.volume[n]).toBe(flow?.volume);
    expect(block.openInterest[n]).toBe(flow?.open_interest);
    expect(stats.volume).toBe(flow?.volume);
    expect(stats.settlement).toBeCloseTo(Math.round(finalAverage / tick) * tick, 6);
    expect(stats.close).toBeCloseTo((block.lastTicks[n] as number) * tick, 6);
  });

  it("starts from the previous trading day's close, settlement and final open interest", () => {
    // Prepare
    const prevDay = cal.prevTradingDay(day);

    // Act
    const prev = market.isListed(symbol, prevDay) ? market.dayStats(symbol, prevDay) : null;

    // Assess
    expect(prev).not.toBeNull();
    expect(stats.pre_close).toBe(prev?.close);
    expect(stats.pre_settlement).toBe(prev?.settlement);
    expect(stats.pre_open_interest).toBe(prev?.open_interest);
    const preTicks = Math.round(stats.pre_settlement / tick);
    expect(upper).toBe(Math.floor((preTicks * 108) / 100));
    expect(lower).toBe(Math.ceil((preTicks * 92) / 100));
  });
});

describe('day-cumulative fields across a trading-day boundary', () => {
  it('restart at the next trading day first tick', () => {
    // Prepare
    const symbol = market.mainContract('cu', '2025-01-13');
    const friday = market.dayTicks(symbol, '2025-01-10');
    const monday = market.dayTicks(symbol, '2025-01-13');
    const first = monday.lastTicks[0] as number;

    // Act
    const restarted = {
      volumeBelowFriday: (monday.volume[0] as number) < (friday.volume[friday.count - 1] as number),
      highest: monday.highestTicks[0],
      lowest: monday.lowestTicks[0],
      amount: monday.amount[0],
    };

    // Assess
    expect(restarted).toEqual({
      volumeBelowFriday: true,
      highest: first,
      lowest: first,
      amount: (monday.volume[0] as number) * first * monday.priceTick * monday.volumeMultiple,
    });
  });

  it('scales book depth with the OI share: far months are thin, the main is deep', () => {
    // Prepare
    const day = '2024-06-12';
    const main = market.dayTicks(market.mainContract('ag', day), day);
    const far = market.dayTicks(market.listed('ag', day).at(-1) as string, day);
    const mean = (c: Int32Array) => c.reduce((a, b) => a + b, 0) / c.length;

    // Act
    const depths = { main: mean(lvl(main.bidVol, 0)), far: mean(lvl(far.bidVol, 0)) };

    // Assess
    expect(depths.main).toBeGreaterThan(20);
    expect(depths.far).toBeLessThan(depths.main / 5);
  });

  it('opens every listed contract with a trade on the session open tick', () => {
    // Prepare
    const day = '2025-01-13';
    const open = parseCst('2025-01-10 21:00:00');

    // Act
    const firsts = market.listed('cu', day).map((symbol) => {
      const block = market.dayTicks(symbol, day);
      return { symbol, at: block.datetimeNs[0] === open, traded: (block.volume[0] ?? 0) >= 1 };
    });

    // Assess
    expect(firsts).toHaveLength(12);
    expect(firsts.filter((f) => !f.at || !f.traded)).toEqual([]);
  });

  it('starts a newly listed contract from zero open interest and the latent level', () => {
    // Prepare (cu2501 expires 2025-01-15, so cu2601 lists on 2025-01-16)
    const symbol = 'SHFE.cu2601';

    // Act
    const stats = market.dayStats(symbol, '2025-01-16');

    // Assess
    expect(stats.pre_open_interest).toBe(0);
    expect(stats.open_interest).toBeGreaterThan(0);
    expect(stats.pre_settlement).toBe(stats.pre_close);
    expect(Math.abs(stats.open - stats.pre_close) / stats.pre_close).toBeLessThan(0.02);
  });
});
