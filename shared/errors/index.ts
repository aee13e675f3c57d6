export * from './base.ts';
export * from './control.ts';
export * from './market.ts';
