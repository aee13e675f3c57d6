export * from './base.ts';
export * from './control.ts';
export * from './data.ts';
export * from './market.ts';
