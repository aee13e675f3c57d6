/**
 * The simulator's deterministic SHFE market generator (market-protocol §2.2–2.3): `SimMarket` plus the shapes
 * and helpers the simulator server uses.
 */
export { BeforeGeneratorEpochError, ContractNotListedError, SimMarketError } from './errors.ts';
export {
  DEFAULT_GENERATOR_PARAMS,
  type GeneratorParams,
  GeneratorParamsSchema,
  type VarietyParams,
} from './params.ts';
export { lowerBound } from './quote.ts';
export { rowHash, ticksToWirePrice } from './rows.ts';
export {
  DEFAULT_CACHE_SIZE,
  DEFAULT_HISTORY_FROM,
  GENERATOR_EPOCH,
  SimMarket,
  type SimMarketOptions,
} from './sim-market.ts';
export type { DayStats, SimQuoteLive, SimTickRow, TickBlock } from './types.ts';
