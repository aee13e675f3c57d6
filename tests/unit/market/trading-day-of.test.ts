import { describe, expect, it } from 'vitest';
import { shippedCalendar, TradingCalendar } from '#shared/domain/market/calendar/index.ts';
import {
  parseCst,
  sessionWindows,
  type TradingTime,
  tradingDayEndNs,
  tradingDayOf,
  tradingDayStartNs,
} from '#shared/domain/market/sessions.ts';
import type { Variety } from '#shared/domain/market/varieties.ts';
import {
  CalendarOutOfRangeError,
  InvalidTradingTimeError,
  NotATradingDayError,
  UnsupportedExchangeError,
} from '#shared/errors/market.ts';

const cal = shippedCalendar();
const at = (cst: string, v: Variety = 'cu') => tradingDayOf(cal, parseCst(cst), 'SHFE', v);

describe('tradingDayOf', () => {
  it.each([
    ['2025-01-10 21:00:00', 'cu', '2025-01-13', true, 'night'],
    ['2025-01-10 22:00:00', 'cu', '2025-01-13', true, 'night'],
    ['2025-01-11 01:30:00', 'ag', '2025-01-13', true, 'night'],
    ['2025-01-11 01:30:00', 'au', '2025-01-13', true, 'night'],
    ['2025-01-11 01:30:00', 'cu', '2025-01-13', false, null],
    ['2025-01-13 09:00:00', 'cu', '2025-01-13', true, 'day'],
    ['2025-01-13 15:00:00.500', 'cu', '2025-01-13', true, 'day'],
    ['2025-01-13 15:00:01', 'cu', '2025-01-13', false, null],
    ['2025-01-13 10:20:00', 'cu', '2025-01-13', false, null],
  ] as const)('puts %s (%s) in trading day %s, in session %s (%s)', (cst, v, day, inSession, session) => {
    // Act
    const r = at(cst, v);

    // Assess
    expect(r).toEqual({ trading_day: day, in_session: inSession, session });
  });

  it.each([
    ['2025-01-10 16:00:00', '2025-01-10', 'a Friday afternoon after the close'],
    ['2025-01-10 17:59:59.999999999', '2025-01-10', 'the last instant before 18:00'],
    ['2025-01-10 18:00:00', '2025-01-13', '18:00 on Friday'],
    ['2025-01-10 19:00:00', '2025-01-13', 'a Friday evening before the night open'],
    ['2025-01-12 12:00:00', '2025-01-13', 'a Sunday'],
    ['2025-01-29 10:00:00', '2025-02-05', 'a Spring Festival holiday'],
    ['2025-01-27 22:00:00', '2025-02-05', 'the evening before Spring Festival (no night session)'],
  ])('maps %s outside every window to %s (%s)', (cst, day) => {
    // Act
    const r = at(cst);

    // Assess
    expect(r).toEqual({ trading_day: day, in_session: false, session: null });
  });

  it('agrees with the windows: every window bound is in session, one second outside is not', () => {
    // Prepare
    const days = cal.tradingDays('2024-09-02', '2024-10-18');
    const mismatches: string[] = [];

    // Act
    for (const d of days) {
      for (const v of ['cu', 'au', 'ag'] as const) {
        for (const w of sessionWindows(cal, d, v)) {
          for (const [ns, expected] of [
            [w.start_ns, true],
            [w.end_ns, true],
            [w.start_ns - 1n, false],
            [w.end_ns + 1n, false],
          ] as const) {
            const r = tradingDayOf(cal, ns, 'SHFE', v);
            const inside = r.trading_day === d && r.in_session;
            if (inside !== expected) mismatches.push(`${d} ${v} ${ns}`);
          }
        }
      }
    }

    // Assess
    expect(mismatches).toEqual([]);
  });

  it('tiles time: span ends equal the next span starts', () => {
    // Prepare
    const days = cal.tradingDays('2025-01-20', '2025-02-10');

    // Act
    const gaps = days.slice(1).filter((d, i) => tradingDayStartNs(cal, d) !== tradingDayEndNs(cal, days[i] as string));

    // Assess
    expect(gaps).toEqual([]);
  });

  it('starts a trading day at 18:00 of the previous trading day and ends it at 18:00 of the day', () => {
    // Act
    const start = tradingDayStartNs(cal, '2025-02-05');
    const end = tradingDayEndNs(cal, '2025-02-05');

    // Assess
    expect(start).toBe(parseCst('2025-01-27 18:00:00'));
    expect(end).toBe(parseCst('2025-02-05 18:00:00'));
  });

  it('refuses a span for a day that is not a trading day', () => {
    // Act
    const act = () => tradingDayStartNs(cal, '2025-01-11');

    // Assess
    expect(act).toThrow(NotATradingDayError);
  });

  it('gives the same answer for instants that alternate between spans and varieties (cache safety)', () => {
    // Prepare
    const instants = ['2025-01-10 22:00:00', '2025-01-14 02:00:00', '2025-01-11 01:30:00', '2025-01-13 09:30:00'];

    // Act
    const first = instants.flatMap((t) => [at(t, 'cu'), at(t, 'ag')]);
    const again = instants.flatMap((t) => [at(t, 'cu'), at(t, 'ag')]);

    // Assess
    expect(again).toEqual(first);
    expect(first[5]).toEqual({ trading_day: '2025-01-13', in_session: true, session: 'night' });
  });

  it('keeps caches apart per calendar', () => {
    // Prepare
    const ns = parseCst('2025-01-09 10:00:00');
    const other = new TradingCalendar({
      source: 't',
      source_urls: [],
      covers: { from: '2025-01-01', to: '2025-01-31' },
      holidays: ['2025-01-09'],
    });

    // Act
    const shipped = tradingDayOf(cal, ns, 'SHFE', 'cu');
    const closed = tradingDayOf(other, ns, 'SHFE', 'cu');

    // Assess
    expect(shipped).toEqual({ trading_day: '2025-01-09', in_session: true, session: 'day' });
    expect(closed).toEqual({ trading_day: '2025-01-10', in_session: false, session: null });
  });

  it('uses a provider trading_time when given, separately from the defaults', () => {
    // Prepare
    const tt: TradingTime = { day: [['09:00:00', '15:00:00']], night: [] };
    const ns = parseCst('2025-01-13 10:20:00');

    // Act
    const custom = tradingDayOf(cal, ns, 'SHFE', 'cu', tt);
    const defaults = tradingDayOf(cal, ns, 'SHFE', 'cu');

    // Assess
    expect(custom.in_session).toBe(true);
    expect(defaults.in_session).toBe(false);
  });

  it('refuses an instant beyond the calendar’s coverage', () => {
    // Act
    const act = () => at('2027-01-04 10:00:00');

    // Assess
    expect(act).toThrow(CalendarOutOfRangeError);
  });

  it('refuses an evening whose next trading day lies beyond coverage', () => {
    // Act
    const act = () => at('2026-12-31 21:00:00');

    // Assess
    expect(act).toThrow('calendar_out_of_range: 2027-01-01;');
  });

  it('refuses an exchange other than SHFE', () => {
    // Act
    const act = () => tradingDayOf(cal, parseCst('2025-01-13 10:00:00'), 'DCE' as 'SHFE', 'cu');

    // Assess
    expect(act).toThrow(UnsupportedExchangeError);
  });
});

describe('tradingDayOf with a trading_time that leaves the span', () => {
  it('refuses a night that opens before 18:00 rather than giving two answers', () => {
    // Prepare
    const tt: TradingTime = { day: [['09:00:00', '15:00:00']], night: [['17:00:00', '23:00:00']] };

    // Act
    const act = () => tradingDayOf(cal, parseCst('2025-01-13 10:00:00'), 'SHFE', 'cu', tt);

    // Assess
    expect(act).toThrow(InvalidTradingTimeError);
  });
});
