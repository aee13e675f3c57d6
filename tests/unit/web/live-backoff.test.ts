import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from '#web/client/live.ts';

describe('live socket reconnect backoff', () => {
  it('waits 1 s doubling to a 30 s cap, plus up to 25 % jitter (control-chain §7 degraded mode)', () => {
    // Act
    const low = [0, 1, 2, 3, 4, 5, 6, 20].map((n) => reconnectDelayMs(n, () => 0));
    const high = [0, 5, 20].map((n) => reconnectDelayMs(n, () => 1));

    // Assess
    expect(low).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(high).toEqual([1_250, 37_500, 37_500]);
  });
});
