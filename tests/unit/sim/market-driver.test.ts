import { describe, expect, it } from 'vitest';
import { cstMidnightOf, inDailyMaintenance, MarketDriver, type Timer } from '#colo/sim/market-driver.ts';
import type { MarketPort, TickBlockView } from '#colo/sim/market-port.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { parseCst } from '#shared/domain/market/cst.ts';

const cal = shippedCalendar();
const S = 1_000_000_000n;

/** A stand-in market: on every trading day, ticks at 14:59:58, 14:59:59 and 21:00:00 of the night before. */
function standIn(): MarketPort {
  const block = (day: string): TickBlockView => {
    const prev = cal.prevTradingDay(day);
    const times = [parseCst(`${prev} 21:00:00`), parseCst(`${day} 14:59:58`), parseCst(`${day} 14:59:59`)];
    return { datetimeNs: BigInt64Array.from(times), count: times.length, idBase: 0 };
  };
  const none = (): never => {
    throw new Error('not used by the driver');
  };
  return {
    isListed: () => true,
    lastTradingDay: () => null,
    firstListedDay: () => '2024-01-02',
    listed: () => [],
    mainContract: none,
    continuousTable: none,
    dayTicks: (_s, day) => block(day),
    tickIdBase: () => 0,
    tickRow: none,
    quoteAt: () => null,
    dayFigures: none,
  };
}

describe('MarketDriver', () => {
  it('fires settlement at 18:00 and the maintenance window in time order between ticks', () => {
    // Prepare
    const events: string[] = [];
    const driver = new MarketDriver(
      {
        cal,
        market: standIn(),
        maintenanceDaily: true,
        onTick: (s, b, i) => events.push(`tick ${s} ${b.datetimeNs[i]}`),
        onInstant: () => undefined,
        onTimer: (t: Timer) => events.push(`${t.kind} ${t.ns}`),
      },
      parseCst('2025-01-10 14:59:57'),
    );
    driver.setInterest(new Set(['SHFE.cu2503']));

    // Act
    driver.advanceTo(parseCst('2025-01-10 21:00:00'));

    // Assess
    expect(events).toEqual([
      `tick SHFE.cu2503 ${parseCst('2025-01-10 14:59:58')}`,
      `tick SHFE.cu2503 ${parseCst('2025-01-10 14:59:59')}`,
      `settlement ${parseCst('2025-01-10 18:00:00')}`,
      `maintenance_start ${parseCst('2025-01-10 19:00:00')}`,
      `maintenance_end ${parseCst('2025-01-10 19:30:00')}`,
      `tick SHFE.cu2503 ${parseCst('2025-01-10 21:00:00')}`,
    ]);
    expect(driver.now).toBe(parseCst('2025-01-10 21:00:00'));
  });

  it('fires a timer before a tick at the same instant and never twice', () => {
    // Prepare
    const timers: Timer[] = [];
    const driver = new MarketDriver(
      {
        cal,
        market: standIn(),
        maintenanceDaily: false,
        onTick: () => undefined,
        onInstant: () => undefined,
        onTimer: (t) => timers.push(t),
      },
      parseCst('2025-01-10 17:00:00'),
    );

    // Act
    driver.advanceTo(parseCst('2025-01-10 18:00:00'));
    driver.advanceTo(parseCst('2025-01-10 18:30:00'));

    // Assess
    expect(timers).toEqual([{ kind: 'settlement', ns: parseCst('2025-01-10 18:00:00') }]);
  });

  it('settles Friday at 18:00 and next at Monday 18:00 (weekends belong to the next trading day)', () => {
    // Prepare
    const driver = new MarketDriver(
      {
        cal,
        market: standIn(),
        maintenanceDaily: false,
        onTick: () => undefined,
        onInstant: () => undefined,
        onTimer: () => undefined,
      },
      parseCst('2025-01-10 18:00:00'),
    );

    // Act
    const next = driver.nextTimerAfter(parseCst('2025-01-10 18:00:00'));

    // Assess
    expect(next).toEqual({ kind: 'settlement', ns: parseCst('2025-01-13 18:00:00') });
  });

  it('finds the next real tick of a contract across the evening', () => {
    // Prepare
    const driver = new MarketDriver(
      {
        cal,
        market: standIn(),
        maintenanceDaily: false,
        onTick: () => undefined,
        onInstant: () => undefined,
        onTimer: () => undefined,
      },
      parseCst('2025-01-10 15:00:00'),
    );
    driver.setInterest(new Set(['SHFE.cu2503']));

    // Act
    const t = driver.nextTickOf(new Set(['SHFE.cu2503']));

    // Assess
    expect(t).toBe(parseCst('2025-01-10 21:00:00'));
  });

  it('knows when a session is open and the next session open after an idle instant', () => {
    // Prepare
    const driver = new MarketDriver(
      {
        cal,
        market: standIn(),
        maintenanceDaily: false,
        onTick: () => undefined,
        onInstant: () => undefined,
        onTimer: () => undefined,
      },
      parseCst('2025-01-10 15:00:00'),
    );

    // Act
    const inside = driver.inAnySession(parseCst('2025-01-10 10:00:00'));
    const outside = driver.inAnySession(parseCst('2025-01-10 16:00:00'));
    const open = driver.nextSessionOpenAfter(parseCst('2025-01-10 16:00:00'));

    // Assess
    expect([inside, outside]).toEqual([true, false]);
    expect(open).toBe(parseCst('2025-01-10 21:00:00'));
  });

  it('places CST midnight and the 19:00–19:30 window', () => {
    // Act
    const mid = cstMidnightOf(parseCst('2025-01-10 23:59:59'));

    // Assess
    expect(mid).toBe(parseCst('2025-01-10'));
    expect(inDailyMaintenance(parseCst('2025-01-10 19:10:00'))).toBe(true);
    expect(inDailyMaintenance(parseCst('2025-01-10 19:30:00'))).toBe(false);
    expect(inDailyMaintenance(parseCst('2025-01-10 18:59:59') + S - 1n)).toBe(false);
  });
});
