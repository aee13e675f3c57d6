/** `MarketPort` over the generator's `SimMarket` (the one place that knows its exact shapes). */
import { formatCst } from '#shared/domain/market/cst.ts';
import type { Variety } from '#shared/domain/market/varieties.ts';
import { SymbolParseError } from '#shared/errors/market.ts';
import type { SimMarket } from './market/index.ts';
import type { DayFigures, LiveQuote, MarketPort, TickBlockView, TickRow } from './market-port.ts';

/** Run `fn`; a symbol the generator cannot parse answers `fallback` (the caller's "unknown symbol"). */
function orUnknown<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SymbolParseError) return fallback;
    throw err;
  }
}

export class SimMarketAdapter implements MarketPort {
  constructor(readonly market: SimMarket) {}

  isListed(symbol: string, day: string): boolean {
    return orUnknown(() => this.market.isListed(symbol, day), false);
  }

  lastTradingDay(symbol: string): string | null {
    return orUnknown(() => this.market.universe.contract(symbol).lastDay, null);
  }

  firstListedDay(symbol: string): string | null {
    return orUnknown(() => this.market.universe.contract(symbol).firstDay, null);
  }

  listed(variety: Variety, day: string): string[] {
    return this.market.listed(variety, day);
  }

  mainContract(variety: Variety, day: string): string {
    return this.market.mainContract(variety, day);
  }

  continuousTable(from: string, to: string): Record<string, [number, string][]> {
    return this.market.continuousTable(from, to);
  }

  dayTicks(symbol: string, day: string): TickBlockView {
    return this.market.dayTicks(symbol, day);
  }

  tickIdBase(symbol: string, day: string): number {
    return this.market.tickIdBase(symbol, day);
  }

  tickRow(block: TickBlockView, i: number): TickRow {
    // Blocks handed out by `dayTicks` are the generator's own `TickBlock`s.
    const { id: _id, ...row } = this.market.tickRow(block as Parameters<SimMarket['tickRow']>[0], i);
    return row;
  }

  quoteAt(symbol: string, ns: bigint): LiveQuote | null {
    const q = orUnknown(() => this.market.quoteAt(symbol, ns), null);
    if (q === null) return null;
    const { trading_day: _day, datetime, ...rest } = q;
    return { ...rest, datetime: formatCst(datetime) };
  }

  dayFigures(symbol: string, day: string): DayFigures {
    const s = this.market.dayStats(symbol, day);
    return {
      open: s.open,
      highest: s.highest,
      lowest: s.lowest,
      close: s.close,
      settlement: s.settlement,
      volume: s.volume,
      open_interest: s.open_interest,
      pre_open_interest: s.pre_open_interest,
    };
  }
}
