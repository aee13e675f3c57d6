/** main_l5 domain logic (data-chain §5): rule, shaping, settings, planning, outcomes, finalize. */
export * from './build-id.ts';
export * from './errors.ts';
export * from './finalize.ts';
export * from './l5-rule.ts';
export * from './outcomes.ts';
export * from './plan.ts';
export * from './settings.ts';
export * from './shape.ts';
