/** Errors of the SHFE simulator (`colo/sim/`). */
import { GhtraderError, type GhtraderErrorOptions } from '#shared/errors/base.ts';

/** Base of every simulator error. */
export class SimError extends GhtraderError {
  readonly area = 'sim';
}

/** Options, config file or a fault body that does not validate; the CLI exits 2 on it. */
export class SimConfigError extends SimError {
  constructor(message: string, options: GhtraderErrorOptions = {}) {
    super('sim_config_invalid', message, options);
  }
}

/** A persisted account ledger that cannot be read back. */
export class LedgerCorruptError extends SimError {
  constructor(file: string, reason: string, options: GhtraderErrorOptions = {}) {
    super(
      'sim_ledger_corrupt',
      `account ledger ${file} is unreadable: ${reason}; move it away to start that account afresh`,
      {
        ...options,
        details: { ...options.details, file, reason },
      },
    );
  }
}
