import { GhtraderError, type GhtraderErrorOptions } from './base.ts';

/**
 * Base of every market-knowledge error (calendar, sessions, symbols, contracts). All of them describe bad or
 * unsupported input rather than a failing dependency, so the CLI maps them to exit 2.
 */
export class MarketError extends GhtraderError {
  readonly area = 'market';
}

/** A date the calendar has no data for; never answered with a weekday guess (data-chain §3.1). */
export class CalendarOutOfRangeError extends MarketError {
  readonly day: string;
  constructor(day: string, covers: { from: string; to: string }, options: GhtraderErrorOptions = {}) {
    super(
      'calendar_out_of_range',
      `calendar_out_of_range: ${day}; run ghtrader data calendar --refresh or add an override`,
      { ...options, details: { ...options.details, day, covers_from: covers.from, covers_to: covers.to } },
    );
    this.day = day;
  }
}

/** Holiday data, overrides or a refreshed list that do not have the expected shape. */
export class CalendarDataError extends MarketError {
  constructor(what: string, reason: string, options: GhtraderErrorOptions = {}) {
    super('calendar_data_invalid', `invalid ${what}: ${reason}`, {
      ...options,
      details: { ...options.details, what, reason },
    });
  }
}

/** A trading day, calendar date or exchange-time string that is not what the function expects. */
export class InvalidDateError extends MarketError {
  constructor(value: unknown, expected: string, options: GhtraderErrorOptions = {}) {
    super('invalid_date', `expected ${expected}, found ${JSON.stringify(String(value))}`, {
      ...options,
      details: { ...options.details, value: String(value), expected },
    });
  }
}

/** A variety ghtrader does not know (only cu, au, ag). */
export class UnknownVarietyError extends MarketError {
  constructor(variety: unknown, options: GhtraderErrorOptions = {}) {
    super('unknown_variety', `unknown variety ${JSON.stringify(String(variety))}; expected one of cu, au, ag`, {
      ...options,
      details: { ...options.details, variety: String(variety) },
    });
  }
}

/** A symbol that is neither a canonical contract (`SHFE.cu2502`) nor a continuous alias (`KQ.m@SHFE.cu`). */
export class SymbolParseError extends MarketError {
  constructor(symbol: unknown, expected: string, options: GhtraderErrorOptions = {}) {
    super('symbol_parse', `expected ${expected}, found ${JSON.stringify(String(symbol))}`, {
      ...options,
      details: { ...options.details, symbol: String(symbol), expected },
    });
  }
}

/** A `trading_time` table (provider or default) that cannot be turned into session windows. */
export class InvalidTradingTimeError extends MarketError {
  constructor(reason: string, options: GhtraderErrorOptions = {}) {
    super('invalid_trading_time', `invalid trading_time: ${reason}`, {
      ...options,
      details: { ...options.details, reason },
    });
  }
}

/** A function that needs a trading day (for example the 18:00-to-18:00 span) was given a closed day. */
export class NotATradingDayError extends MarketError {
  constructor(day: string, options: GhtraderErrorOptions = {}) {
    super('not_a_trading_day', `expected a trading day, found ${day} (weekend or exchange holiday)`, {
      ...options,
      details: { ...options.details, day },
    });
  }
}

/** Only SHFE is supported. */
export class UnsupportedExchangeError extends MarketError {
  constructor(exchange: unknown, options: GhtraderErrorOptions = {}) {
    super('unsupported_exchange', `unsupported exchange ${JSON.stringify(String(exchange))}; expected SHFE`, {
      ...options,
      details: { ...options.details, exchange: String(exchange) },
    });
  }
}
