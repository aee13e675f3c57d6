import { GhtraderError, type GhtraderErrorOptions } from './base.ts';

/**
 * Base of every data-chain error (row identity, main schedule, tick stores, builds). Subclasses carry a stable `code`
 * from the data-chain spec (`schedule_backward_roll`, `main_schedule_not_found`, …).
 */
export class DataChainError extends GhtraderError {
  readonly area = 'data';
}

/**
 * Input that contradicts the data chain's invariants (a roll back to an earlier contract, a mapping naming another
 * variety, a value that cannot be hashed). Never retried and never papered over: the step fails.
 */
export class DataIntegrityError extends DataChainError {}

/** A value the row hash `fnv1a64_v1` cannot take (wrong column count, `datetime_ns` outside int64). Fails the day. */
export class RowHashInputError extends DataIntegrityError {
  constructor(reason: string, options: GhtraderErrorOptions = {}) {
    super('row_hash_input', `cannot compute row_hash fnv1a64_v1: ${reason}`, {
      ...options,
      details: { ...options.details, reason },
    });
  }
}

/** A main switch that does not go to a strictly later delivery month (data-chain §4.2 rule 4). */
export class ScheduleBackwardRollError extends DataIntegrityError {
  constructor(
    from: { trading_day: string; main_contract: string },
    to: { trading_day: string; main_contract: string },
    options: GhtraderErrorOptions = {},
  ) {
    super(
      'schedule_backward_roll',
      `schedule_backward_roll: ${from.main_contract} (${from.trading_day}) -> ${to.main_contract} (${to.trading_day}); ` +
        'a roll must go to a strictly later delivery month',
      {
        ...options,
        details: {
          ...options.details,
          from_day: from.trading_day,
          from_contract: from.main_contract,
          to_day: to.trading_day,
          to_contract: to.main_contract,
        },
      },
    );
  }
}

/** A continuous-mapping observation whose underlying is not a contract of the schedule's exchange and variety. */
export class ScheduleForeignUnderlyingError extends DataIntegrityError {
  constructor(
    underlying: string,
    expected: { exchange: string; variety: string },
    tradingDay: string,
    options: GhtraderErrorOptions = {},
  ) {
    super(
      'schedule_foreign_underlying',
      `schedule_foreign_underlying: ${JSON.stringify(underlying)} on ${tradingDay} is not a ${expected.exchange}.${expected.variety} contract`,
      {
        ...options,
        details: { ...options.details, underlying, trading_day: tradingDay, ...expected },
      },
    );
  }
}

/** A schedule that cannot be built from its inputs (empty window, no observations, malformed row). */
export class ScheduleInputError extends DataChainError {
  constructor(reason: string, options: GhtraderErrorOptions = {}) {
    super('schedule_invalid', `invalid main schedule: ${reason}`, {
      ...options,
      details: { ...options.details, reason },
    });
  }
}

/** No schedule row at or before the requested trading day (data-chain §4.5). */
export class MainScheduleNotFoundError extends DataChainError {
  constructor(alias: string, tradingDay: string, options: GhtraderErrorOptions = {}) {
    super('main_schedule_not_found', `main_schedule_not_found: no ${alias} schedule row on or before ${tradingDay}`, {
      ...options,
      details: { ...options.details, alias, trading_day: tradingDay },
    });
  }
}
