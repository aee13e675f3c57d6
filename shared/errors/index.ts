export * from './base.ts';
export * from './control.ts';
