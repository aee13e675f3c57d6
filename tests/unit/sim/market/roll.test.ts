import { describe, expect, it } from 'vitest';
import { SimMarket } from '#colo/sim/market/index.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { lastTradingDay } from '#shared/domain/market/contracts.ts';
import { parseContractSymbol } from '#shared/domain/market/symbols.ts';
import { VARIETIES, type Variety } from '#shared/domain/market/varieties.ts';

const cal = shippedCalendar();
const FROM = '2024-01-01';
const TO = '2025-12-31';
const DAYS = cal.tradingDays(FROM, TO);

interface Switch {
  day: string;
  prevDay: string;
  from: string;
  to: string;
}

function schedule(market: SimMarket, variety: Variety): { mains: string[]; switches: Switch[] } {
  const mains = DAYS.map((d) => market.mainContract(variety, d));
  const switches: Switch[] = [];
  let prev = market.mainContract(variety, cal.prevTradingDay(FROM));
  let prevDay = cal.prevTradingDay(FROM);
  DAYS.forEach((d, i) => {
    const m = mains[i] as string;
    if (m !== prev) switches.push({ day: d, prevDay, from: prev, to: m });
    prev = m;
    prevDay = d;
  });
  return { mains, switches };
}

function expiry(symbol: string): string {
  return lastTradingDay(cal, parseContractSymbol(symbol));
}

function monthKey(yyyyMmDd: string): number {
  return Number(yyyyMmDd.slice(0, 4)) * 12 + Number(yyyyMmDd.slice(5, 7)) - 1;
}

function deliveryKey(symbol: string): number {
  const c = parseContractSymbol(symbol);
  return c.year * 12 + c.month - 1;
}

function switchesIn(switches: Switch[], year: string): Switch[] {
  return switches.filter((s) => s.day.startsWith(year));
}

describe.each([1, 42])('main-contract schedule 2024–2025, seed %i', (seed) => {
  const market = new SimMarket({ seed, calendar: cal });

  describe.each(VARIETIES)('%s', (variety) => {
    const { mains, switches } = schedule(market, variety);

    it('picks a listed contract with ≥ 10 trading days to expiry, outside its delivery month, every day', () => {
      // Act
      const bad = DAYS.filter((d, i) => {
        const m = mains[i] as string;
        const toExpiry = cal.tradingDays(d, expiry(m)).length - 1;
        return !market.listed(variety, d).includes(m) || toExpiry < 10 || deliveryKey(m) === monthKey(d);
      });

      // Assess
      expect(bad).toEqual([]);
    });

    it('only moves to later-expiring contracts and never returns to a former main', () => {
      // Prepare
      const seen = new Set<string>();

      // Act
      const returns = switches.filter((s) => {
        seen.add(s.from);
        return seen.has(s.to) || expiry(s.to) <= expiry(s.from);
      });

      // Assess
      expect(switches.length).toBeGreaterThan(0);
      expect(returns).toEqual([]);
    });

    it("switches only to the previous day's largest OI and largest volume", () => {
      // Act
      const mismatched = switches.filter((s) => {
        const flows = market.listed(variety, s.prevDay).map((sym) => ({ sym, f: market.dayFlow(sym, s.prevDay) }));
        const byOi = [...flows].sort((a, b) => (b.f?.open_interest ?? 0) - (a.f?.open_interest ?? 0))[0]?.sym;
        const byVolume = [...flows].sort((a, b) => (b.f?.volume ?? 0) - (a.f?.volume ?? 0))[0]?.sym;
        return byOi !== s.to || byVolume !== s.to;
      });

      // Assess
      expect(mismatched).toEqual([]);
      expect(market.forcedRolls(variety)).toEqual([]);
    });

    it('matches the continuous table entry for every trading day', () => {
      // Act
      const table = market.continuousTable(FROM, TO)[`SHFE.${variety}`];

      // Assess
      expect(table?.map(([d]) => d)).toEqual(DAYS.map((d) => Number(d.replaceAll('-', ''))));
      expect(table?.map(([, s]) => s)).toEqual(mains);
    });
  });

  it.each(['2024', '2025'])('rolls cu 10–14 times in %s, each to a contract 1–3 months ahead', (year) => {
    // Prepare
    const { switches } = schedule(market, 'cu');

    // Act
    const inYear = switchesIn(switches, year);
    const ahead = inYear.map((s) => deliveryKey(s.to) - monthKey(s.day));

    // Assess
    expect(inYear.length).toBeGreaterThanOrEqual(10);
    expect(inYear.length).toBeLessThanOrEqual(14);
    expect(ahead.every((a) => a >= 1 && a <= 3)).toBe(true);
  });

  it.each([
    ['au', '2024'],
    ['au', '2025'],
    ['ag', '2024'],
    ['ag', '2025'],
  ] as const)(
    'keeps %s on June or December contracts, rolling twice in %s 4–7 weeks before expiry',
    (variety, year) => {
      // Prepare
      const { mains, switches } = schedule(market, variety);

      // Act
      const inYear = switchesIn(switches, year);
      const months = new Set(mains.map((m) => parseContractSymbol(m).month));
      const weeksBefore = inYear.map((s) => (Date.parse(expiry(s.from)) - Date.parse(s.day)) / (7 * 86_400_000));

      // Assess
      expect([...months].sort((a, b) => a - b)).toEqual([6, 12]);
      expect(inYear).toHaveLength(2);
      expect(weeksBefore.every((w) => w >= 4 && w <= 7)).toBe(true);
    },
  );
});
