/** Errors of the main_l5 domain logic (data-chain §5); each carries a stable `code`. */
import type { GhtraderErrorOptions } from '../../../errors/base.ts';
import { DataChainError, DataIntegrityError } from '../../../errors/data.ts';

/** A caller handed the main_l5 logic an input it cannot honour (bad batch size, unsorted schedule, unknown rule). */
export class MainL5InputError extends DataChainError {
  constructor(reason: string, options: GhtraderErrorOptions = {}) {
    super('main_l5_invalid_input', `main_l5: ${reason}`, { ...options, details: { ...options.details, reason } });
  }
}

/** A provider row that cannot be shaped into a stored tick (no int64 `datetime`). Fails the day, never skipped. */
export class MainL5ShapeError extends DataIntegrityError {
  constructor(tradingDay: string, reason: string, options: GhtraderErrorOptions = {}) {
    super('main_l5_shape_failed', `main_l5 shaping of ${tradingDay} failed: ${reason}`, {
      ...options,
      details: { ...options.details, trading_day: tradingDay, reason },
    });
  }
}

/** An enforced build finished with health errors (§5.6.6); the message is `main_l5 health check failed: …`. */
export class MainL5HealthError extends DataChainError {
  readonly errors: readonly string[];
  constructor(errors: readonly string[], options: GhtraderErrorOptions = {}) {
    super('main_l5_health_failed', `main_l5 health check failed: ${errors.join('; ')}`, {
      ...options,
      details: { ...options.details, errors: [...errors] },
    });
    this.errors = [...errors];
  }
}
