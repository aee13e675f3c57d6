/** Validation of main_l5 datasets (data-chain §6): pure statistics, field quality, policy, states, rows. */
export * from './aggregate.ts';
export * from './contract-check.ts';
export * from './day-stats.ts';
export * from './field-quality.ts';
export * from './l5-rows.ts';
export * from './policy.ts';
export * from './provider-check.ts';
export * from './rows.ts';
export * from './states.ts';
export * from './tick-times.ts';
