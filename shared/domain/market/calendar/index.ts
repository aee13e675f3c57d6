export * from './calendar.ts';
export * from './days.ts';
export * from './exchange-events.ts';
export * from './overrides.ts';
export * from './refresh.ts';
