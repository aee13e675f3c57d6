import { describe, expect, it } from 'vitest';
import { isTradingLockKey } from '#shared/domain/control/locks.ts';

describe('isTradingLockKey', () => {
  it.each([['trade:account=main'], ['trade:strategy:account=main'], ['trade:']])(
    'treats %s as a trading lock',
    (key) => {
      // Act
      const trading = isTradingLockKey(key);

      // Assess
      expect(trading).toBe(true);
    },
  );

  it.each([
    ['main_l5:symbol=KQ.m@SHFE.cu'],
    ['verify:account=main'],
    ['source:slot=1'],
    ['build:symbol=trade,ticks_kind=main_l5'],
    ['xtrade:account=main'],
    ['trade'],
  ])('does not treat %s as a trading lock', (key) => {
    // Act
    const trading = isTradingLockKey(key);

    // Assess
    expect(trading).toBe(false);
  });
});
