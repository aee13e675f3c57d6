import { describe, expect, it } from 'vitest';
import { shippedCalendar, TradingCalendar } from '#shared/domain/market/calendar/index.ts';
import {
  defaultTradingTime,
  formatCst,
  parseCst,
  type SessionWindow,
  sessionPlan,
  sessionWindows,
  type TradingTime,
  TradingTimeSchema,
  tradingTimeAt,
} from '#shared/domain/market/sessions.ts';
import { InvalidTradingTimeError, UnknownVarietyError } from '#shared/errors/market.ts';

const cal = shippedCalendar();

/** Windows as readable CST text: `night 2025-01-10 21:00:00..2025-01-11 01:00:00`. */
function text(ws: SessionWindow[]): string[] {
  const t = (s: number) => formatCst(BigInt(s) * 1_000_000_000n).slice(0, 19);
  return ws.map((w) => `${w.session} ${t(w.start_s)}..${t(w.end_s)}`);
}

describe('sessionWindows', () => {
  it('gives cu on a Monday Friday’s night (21:00–01:00) and the three day windows', () => {
    // Act
    const ws = sessionWindows(cal, '2025-01-13', 'cu');

    // Assess
    expect(text(ws)).toEqual([
      'night 2025-01-10 21:00:00..2025-01-11 01:00:00',
      'day 2025-01-13 09:00:00..2025-01-13 10:15:00',
      'day 2025-01-13 10:30:00..2025-01-13 11:30:00',
      'day 2025-01-13 13:30:00..2025-01-13 15:00:00',
    ]);
  });

  it('runs the au and ag nights until 02:30 the next calendar day', () => {
    // Act
    const au = sessionWindows(cal, '2025-01-14', 'au')[0];
    const ag = sessionWindows(cal, '2025-01-14', 'ag')[0];

    // Assess
    expect(text(au ? [au] : [])).toEqual(['night 2025-01-13 21:00:00..2025-01-14 02:30:00']);
    expect(text(ag ? [ag] : [])).toEqual(['night 2025-01-13 21:00:00..2025-01-14 02:30:00']);
  });

  it.each([
    ['2025-02-05', 'Spring Festival 2025'],
    ['2024-10-08', 'National Day 2024'],
    ['2020-02-03', 'the extended Spring Festival 2020'],
  ])('has no night window on %s, the first trading day after %s', (day) => {
    // Act
    const plan = sessionPlan(cal, day, 'cu');

    // Assess
    expect(plan.windows.map((w) => w.session)).toEqual(['day', 'day', 'day']);
    expect(plan.night_dropped).toBe('holiday_gap');
  });

  it('anchors the night after a holiday-free day on the previous trading day (2025-02-06 night starts 02-05 21:00)', () => {
    // Act
    const first = sessionWindows(cal, '2025-02-06', 'cu')[0];

    // Assess
    expect(first?.session).toBe('night');
    expect(first?.start_ns).toBe(parseCst('2025-02-05 21:00:00'));
  });

  it('delays the night open of trading day 2019-12-26 to 22:30 on 2019-12-25 and reports the event', () => {
    // Act
    const plan = sessionPlan(cal, '2019-12-26', 'cu');

    // Assess
    expect(text(plan.windows)[0]).toBe('night 2019-12-25 22:30:00..2019-12-26 01:00:00');
    expect(plan.applied_events).toEqual(['shfe_2019_12_25_delay_open']);
  });

  it('keeps the usual 21:00 open the day after the delayed open', () => {
    // Act
    const first = sessionWindows(cal, '2019-12-27', 'cu')[0];

    // Assess
    expect(first?.start_ns).toBe(parseCst('2019-12-26 21:00:00'));
  });

  it.each([['2020-02-04'], ['2020-03-16'], ['2020-04-30']])('suspends the night session on %s (COVID)', (day) => {
    // Act
    const plan = sessionPlan(cal, day, 'ag');

    // Assess
    expect(plan.windows.every((w) => w.session === 'day')).toBe(true);
    expect(plan.applied_events).toEqual(['shfe_covid_night_suspend']);
  });

  it('brings the night session back on 2020-05-07', () => {
    // Act
    const first = sessionWindows(cal, '2020-05-07', 'cu')[0];

    // Assess
    expect(first?.session).toBe('night');
    expect(first?.start_ns).toBe(parseCst('2020-05-06 21:00:00'));
  });

  it('makes bounds whole, inclusive seconds: end_ns is the last nanosecond of end_s', () => {
    // Act
    const close = sessionWindows(cal, '2025-01-13', 'cu')[3] as SessionWindow;

    // Assess
    expect(close.end_s).toBe(Number(parseCst('2025-01-13 15:00:00') / 1_000_000_000n));
    expect(close.end_ns).toBe(parseCst('2025-01-13 15:00:00.999999999'));
    expect(close.start_ns).toBe(BigInt(close.start_s) * 1_000_000_000n);
  });

  it('has no windows on a day that is not a trading day', () => {
    // Act
    const ws = sessionWindows(cal, '2025-01-11', 'cu');

    // Assess
    expect(ws).toEqual([]);
  });

  it('has day windows only before the variety’s night sessions began (au 2013-07-05 evening, cu 2013-12-20 evening)', () => {
    // Act
    const auBefore = sessionWindows(cal, '2013-07-05', 'au').map((w) => w.session);
    const auFirst = sessionWindows(cal, '2013-07-08', 'au')[0];
    const cuBefore = sessionWindows(cal, '2013-12-20', 'cu').map((w) => w.session);
    const cuFirst = sessionWindows(cal, '2013-12-23', 'cu')[0];

    // Assess
    expect(auBefore).toEqual(['day', 'day', 'day']);
    expect(auFirst?.start_ns).toBe(parseCst('2013-07-05 21:00:00'));
    expect(cuBefore).toEqual(['day', 'day', 'day']);
    expect(cuFirst?.start_ns).toBe(parseCst('2013-12-20 21:00:00'));
  });

  it('uses a provider trading_time as given, spilling night ends past midnight', () => {
    // Prepare
    const tt: TradingTime = { day: [['09:00:00', '11:30:00']], night: [['21:00:00', '02:30:00']] };

    // Act
    const ws = sessionWindows(cal, '2025-01-14', 'cu', tt);

    // Assess
    expect(text(ws)).toEqual([
      'night 2025-01-13 21:00:00..2025-01-14 02:30:00',
      'day 2025-01-14 09:00:00..2025-01-14 11:30:00',
    ]);
  });

  it('applies an operator shift_end to the last night window, reading 00:30:00 as after midnight', () => {
    // Prepare
    const withEvent = new TradingCalendar(
      { source: 't', source_urls: [], covers: { from: '2025-01-01', to: '2025-01-31' }, holidays: [] },
      {
        exchange_events: [
          {
            id: 'early_close',
            exchange: 'SHFE',
            variety: 'cu',
            session: 'night',
            kind: 'shift_end',
            time: '00:30:00',
            start_day: '2025-01-14',
            end_day: '2025-01-14',
          },
        ],
      },
    );

    // Act
    const cu = sessionPlan(withEvent, '2025-01-14', 'cu');
    const ag = sessionPlan(withEvent, '2025-01-14', 'ag');

    // Assess
    expect(text(cu.windows)[0]).toBe('night 2025-01-13 21:00:00..2025-01-14 00:30:00');
    expect(cu.applied_events).toEqual(['early_close']);
    expect(ag.applied_events).toEqual([]);
  });

  it('ignores a shift_start at or after the end of the first window', () => {
    // Prepare
    const withEvent = new TradingCalendar(
      { source: 't', source_urls: [], covers: { from: '2025-01-01', to: '2025-01-31' }, holidays: [] },
      {
        exchange_events: [
          {
            id: 'late',
            exchange: 'SHFE',
            session: 'day',
            kind: 'shift_start',
            time: '10:15:00',
            start_day: '2025-01-14',
            end_day: '2025-01-14',
          },
        ],
      },
    );

    // Act
    const plan = sessionPlan(withEvent, '2025-01-14', 'cu');

    // Assess
    expect(plan.applied_events).toEqual([]);
    expect(plan.windows[1]?.start_ns).toBe(parseCst('2025-01-14 09:00:00'));
  });

  it('refuses an unknown variety', () => {
    // Act
    const act = () => sessionWindows(cal, '2025-01-13', 'rb' as never);

    // Assess
    expect(act).toThrow(UnknownVarietyError);
  });

  it('refuses a malformed trading_time clock', () => {
    // Act
    const act = () => sessionWindows(cal, '2025-01-13', 'cu', { day: [['9:00', '10:15:00']], night: [] });

    // Assess
    expect(act).toThrow(InvalidTradingTimeError);
  });
});

describe('defaultTradingTime', () => {
  it('gives the spec’s SHFE defaults today', () => {
    // Act
    const cu = defaultTradingTime('cu', '2025-01-13');
    const au = defaultTradingTime('au', '2025-01-13');

    // Assess
    expect(cu).toEqual({
      day: [
        ['09:00:00', '10:15:00'],
        ['10:30:00', '11:30:00'],
        ['13:30:00', '15:00:00'],
      ],
      night: [['21:00:00', '25:00:00']],
    });
    expect(au.night).toEqual([['21:00:00', '26:30:00']]);
  });

  it('returns a copy the caller may change without changing the defaults', () => {
    // Prepare
    const tt = defaultTradingTime('ag', '2025-01-13');

    // Act
    tt.night.length = 0;

    // Assess
    expect(defaultTradingTime('ag', '2025-01-13').night).toHaveLength(1);
  });

  it('picks the latest version in effect from an appended history', () => {
    // Prepare
    const later: TradingTime = { day: [['09:00:00', '15:00:00']], night: [] };
    const history = [
      { effective_from: '2020-01-01', trading_time: defaultTradingTime('cu', '2025-01-13') },
      { effective_from: '2025-06-02', trading_time: later },
    ];

    // Act
    const before = tradingTimeAt(history, '2025-05-30');
    const after = tradingTimeAt(history, '2025-06-02');

    // Assess
    expect(before.night).toHaveLength(1);
    expect(after).toEqual(later);
  });
});

describe('TradingTimeSchema', () => {
  it('reads a provider trading_time without a night session as an empty night', () => {
    // Act
    const tt = TradingTimeSchema.parse({ day: [['09:00:00', '10:15:00']] });

    // Assess
    expect(tt.night).toEqual([]);
  });
});
