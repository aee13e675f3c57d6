import { describe, expect, it } from 'vitest';
import {
  type ClosablePosition,
  InsufficientPositionError,
  splitShfeClose,
} from '#shared/domain/trading/shfe-close-split.ts';

function position(p: Partial<ClosablePosition>): ClosablePosition {
  return {
    volume_long_today: 0,
    volume_long_his: 0,
    volume_long_frozen_today: 0,
    volume_long_frozen_his: 0,
    volume_short_today: 0,
    volume_short_his: 0,
    volume_short_frozen_today: 0,
    volume_short_frozen_his: 0,
    ...p,
  };
}

describe('splitShfeClose', () => {
  it('closes today first, then yesterday (2 his + 1 today, close 3)', () => {
    // Prepare
    const pos = position({ volume_long_today: 1, volume_long_his: 2 });

    // Act
    const legs = splitShfeClose(pos, 'long', 3);

    // Assess
    expect(legs).toEqual([
      { offset: 'CLOSETODAY', volume: 1 },
      { offset: 'CLOSE', volume: 2 },
    ]);
  });

  it('omits the zero-volume CLOSE leg when today covers the close', () => {
    // Act
    const legs = splitShfeClose(position({ volume_short_today: 5, volume_short_his: 5 }), 'short', 4);

    // Assess
    expect(legs).toEqual([{ offset: 'CLOSETODAY', volume: 4 }]);
  });

  it('omits the zero-volume CLOSETODAY leg when nothing was opened today', () => {
    // Act
    const legs = splitShfeClose(position({ volume_long_his: 3 }), 'long', 2);

    // Assess
    expect(legs).toEqual([{ offset: 'CLOSE', volume: 2 }]);
  });

  it('leaves frozen today volume out of the CLOSETODAY leg', () => {
    // Prepare
    const pos = position({ volume_long_today: 3, volume_long_frozen_today: 2, volume_long_his: 4 });

    // Act
    const legs = splitShfeClose(pos, 'long', 3);

    // Assess
    expect(legs).toEqual([
      { offset: 'CLOSETODAY', volume: 1 },
      { offset: 'CLOSE', volume: 2 },
    ]);
  });

  it('throws when today + his available is less than the volume', () => {
    // Prepare
    const pos = position({ volume_long_today: 1, volume_long_his: 2, volume_long_frozen_his: 1 });

    // Act
    const run = () => splitShfeClose(pos, 'long', 3);

    // Assess
    expect(run).toThrow(InsufficientPositionError);
  });

  it('refuses a volume that is not a positive integer', () => {
    // Act
    const run = () => splitShfeClose(position({ volume_long_today: 5 }), 'long', 1.5);

    // Assess
    expect(run).toThrow(RangeError);
  });
});
