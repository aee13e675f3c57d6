/**
 * Errors of the market generator. They describe requests the generator cannot answer (a contract that is not
 * listed that day, a day before the generator's fixed epoch), never a failing dependency.
 */
import { GhtraderError, type GhtraderErrorOptions } from '#shared/errors/base.ts';

/** Base of every simulator market-generator error. */
export class SimMarketError extends GhtraderError {
  readonly area = 'sim';
}

/** The contract does not trade on that day (not yet listed, expired, or the day is not a trading day). */
export class ContractNotListedError extends SimMarketError {
  constructor(symbol: string, day: string, options: GhtraderErrorOptions = {}) {
    super('contract_not_listed', `expected ${symbol} to be listed on trading day ${day}, but it is not`, {
      ...options,
      details: { ...options.details, symbol, day },
    });
  }
}

/** A day before the generator epoch: prices are a walk from a fixed epoch and do not exist earlier. */
export class BeforeGeneratorEpochError extends SimMarketError {
  constructor(day: string, epoch: string, options: GhtraderErrorOptions = {}) {
    super('before_generator_epoch', `expected a trading day on or after the generator epoch ${epoch}, found ${day}`, {
      ...options,
      details: { ...options.details, day, epoch },
    });
  }
}

/** No listed contract satisfies the roll guard (≥ 10 trading days to expiry, not in its delivery month). */
export class NoEligibleMainError extends SimMarketError {
  constructor(variety: string, day: string, options: GhtraderErrorOptions = {}) {
    super(
      'no_eligible_main',
      `expected a listed ${variety} contract with ≥ 10 trading days to expiry outside its delivery month on ${day}, found none`,
      { ...options, details: { ...options.details, variety, day } },
    );
  }
}
