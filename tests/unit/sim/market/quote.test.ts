import { describe, expect, it } from 'vitest';
import { parseCst } from '#shared/domain/market/cst.ts';
import { cal, freshMarket } from './support.ts';

const market = freshMarket(42);
const DAY = '2025-01-14';
const SYMBOL = market.mainContract('cu', DAY);

describe('quoteAt', () => {
  it('mirrors the last tick at or before the instant, with "-" close and settlement before 15:00', () => {
    // Prepare
    const ns = parseCst(`${DAY} 10:00:00.250`);
    const block = market.dayTicks(SYMBOL, DAY);
    let i = block.count - 1;
    while ((block.datetimeNs[i] as bigint) > ns) i--;
    const row = market.tickRow(block, i);
    const stats = market.dayStats(SYMBOL, DAY);

    // Act
    const q = market.quoteAt(SYMBOL, ns);

    // Assess
    expect(q).toMatchObject({
      instrument_id: SYMBOL,
      trading_day: DAY,
      datetime: row.datetime,
      last_price: row.last_price,
      bid_price1: row.bid_price1,
      ask_volume5: row.ask_volume5,
      volume: row.volume,
      open_interest: row.open_interest,
      open: stats.open,
      close: '-',
      settlement: '-',
      pre_close: stats.pre_close,
      pre_settlement: stats.pre_settlement,
      pre_open_interest: stats.pre_open_interest,
      upper_limit: stats.upper_limit,
      lower_limit: stats.lower_limit,
    });
  });

  it('shows the close and settlement as numbers from 15:00', () => {
    // Prepare
    const stats = market.dayStats(SYMBOL, DAY);

    // Act
    const q = market.quoteAt(SYMBOL, parseCst(`${DAY} 15:00:00`));

    // Assess
    expect(q?.close).toBe(stats.close);
    expect(q?.settlement).toBe(stats.settlement);
    expect(q?.volume).toBe(stats.volume);
  });

  it("shows the previous trading day's final state between 18:00 and the night open", () => {
    // Prepare
    const stats = market.dayStats(SYMBOL, DAY);

    // Act
    const q = market.quoteAt(SYMBOL, parseCst(`${DAY} 20:30:00`));

    // Assess
    expect(q?.trading_day).toBe(DAY);
    expect(q?.close).toBe(stats.close);
    expect(q?.open_interest).toBe(stats.open_interest);
  });

  it('returns ranges over a night that crosses midnight and the next day', () => {
    // Prepare
    const next = cal.nextTradingDay(DAY);

    // Act
    const ranges = market.ticksBetween(SYMBOL, parseCst(`${DAY} 14:59:59`), parseCst(`${next} 09:00:00`));
    const first = ranges[0];
    const second = ranges[1];

    // Assess
    expect(ranges).toHaveLength(2);
    expect(first?.block.tradingDay).toBe(DAY);
    expect((first?.to ?? 0) - (first?.from ?? 0)).toBe(3);
    expect(second?.block.tradingDay).toBe(next);
    expect(second?.from).toBe(0);
    expect(second?.block.datetimeNs[(second?.to ?? 1) - 1]).toBe(parseCst(`${next} 09:00:00`));
  });
});
