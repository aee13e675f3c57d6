import { describe, expect, it } from 'vitest';
import { SimClock } from '#colo/sim/clock.ts';

const S = 1_000_000_000n;

function wallAt(startNs: bigint) {
  let now = startNs;
  return {
    wall: () => now,
    advance: (ns: bigint) => {
      now += ns;
    },
  };
}

describe('SimClock', () => {
  it('follows the wall clock in realtime mode', () => {
    // Prepare
    const w = wallAt(1_700_000_000n * S);
    const clock = new SimClock({ mode: 'realtime', speed: 1, wall: w.wall });

    // Act
    w.advance(5n * S);

    // Assess
    expect(clock.now()).toBe(1_700_000_005n * S);
  });

  it('refuses a realtime clock at another speed', () => {
    // Act
    const make = () => new SimClock({ mode: 'realtime', speed: 2 });

    // Assess
    expect(make).toThrow(/speed 1/);
  });

  it('runs start + elapsed × speed in accelerated mode', () => {
    // Prepare
    const w = wallAt(1_000n * S);
    const clock = new SimClock({ mode: 'accelerated', speed: 60, startNs: 5_000n * S, wall: w.wall });

    // Act
    w.advance(2n * S);

    // Assess
    expect(clock.now()).toBe(5_120n * S);
  });

  it('jumps forward when skip-idle asks, and never backwards', () => {
    // Prepare
    const w = wallAt(0n);
    const clock = new SimClock({ mode: 'accelerated', speed: 1, startNs: 100n * S, wall: w.wall });

    // Act
    clock.skipTo(500n * S);
    clock.skipTo(200n * S);
    w.advance(1n * S);

    // Assess
    expect(clock.now()).toBe(501n * S);
  });

  it('moves only when advanced in replay mode, and stops at the end as finished', () => {
    // Prepare
    const w = wallAt(0n);
    const clock = new SimClock({ mode: 'replay', speed: 1, startNs: 10n * S, endNs: 20n * S, wall: w.wall });

    // Act
    w.advance(100n * S);
    const before = clock.now();
    clock.advanceReplay(15n * S);
    const mid = clock.now();
    const midFinished = clock.finished;
    clock.advanceReplay(99n * S);

    // Assess
    expect(before).toBe(10n * S);
    expect(mid).toBe(15n * S);
    expect(midFinished).toBe(false);
    expect(clock.now()).toBe(20n * S);
    expect(clock.finished).toBe(true);
  });

  it('reports mode, now as a decimal string, speed, trading day and finished', () => {
    // Prepare
    const clock = new SimClock({ mode: 'replay', speed: 1, startNs: 7n * S, endNs: 8n * S, wall: () => 0n });

    // Act
    const info = clock.info('2025-01-10');

    // Assess
    expect(info).toEqual({
      mode: 'replay',
      now_ns: (7n * S).toString(),
      speed: 1,
      trading_day: '2025-01-10',
      finished: false,
    });
  });
});
