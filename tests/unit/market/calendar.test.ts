import { describe, expect, it } from 'vitest';
import {
  type CalendarData,
  calendarDisagreements,
  parseCalendarOverrides,
  parseRefreshedHolidays,
  shippedCalendar,
  TradingCalendar,
} from '#shared/domain/market/calendar/index.ts';
import { CalendarDataError, CalendarOutOfRangeError, InvalidDateError } from '#shared/errors/market.ts';

/** A small calendar for January 2025 with one holiday, Wednesday 2025-01-08. */
const january: CalendarData = {
  source: 'test',
  source_urls: [],
  covers: { from: '2025-01-01', to: '2025-01-31' },
  holidays: ['2025-01-01', '2025-01-08'],
};

describe('TradingCalendar', () => {
  it('treats weekdays that are not holidays as trading days', () => {
    // Prepare
    const cal = new TradingCalendar(january);

    // Act
    const days = ['2025-01-07', '2025-01-08', '2025-01-11'].map((d) => cal.isTradingDay(d));

    // Assess
    expect(days).toEqual([true, false, false]);
  });

  it('lists trading days inclusively, skipping weekends and holidays', () => {
    // Prepare
    const cal = new TradingCalendar(january);

    // Act
    const days = cal.tradingDays('2025-01-06', '2025-01-13');

    // Assess
    expect(days).toEqual(['2025-01-06', '2025-01-07', '2025-01-09', '2025-01-10', '2025-01-13']);
  });

  it('returns no trading days when from is after to', () => {
    // Act
    const days = new TradingCalendar(january).tradingDays('2025-01-10', '2025-01-06');

    // Assess
    expect(days).toEqual([]);
  });

  it('finds the next and previous trading day from any day, trading or not', () => {
    // Prepare
    const cal = new TradingCalendar(january);

    // Act
    const answers = [
      cal.nextTradingDay('2025-01-07'),
      cal.nextTradingDay('2025-01-10'),
      cal.nextTradingDay('2025-01-11'),
      cal.prevTradingDay('2025-01-09'),
      cal.prevTradingDay('2025-01-13'),
    ];

    // Assess
    expect(answers).toEqual(['2025-01-09', '2025-01-13', '2025-01-13', '2025-01-07', '2025-01-10']);
  });

  it('lists the shipped calendar days around 2026-01-10 as the acceptance case says', () => {
    // Prepare
    const cal = shippedCalendar();

    // Act
    const saturday = cal.isTradingDay('2026-01-10');
    const days = cal.tradingDays('2026-01-09', '2026-01-12');

    // Assess
    expect(saturday).toBe(false);
    expect(days).toEqual(['2026-01-09', '2026-01-12']);
  });

  it('refuses a date beyond its coverage with the documented message, never a weekday guess', () => {
    // Prepare
    const cal = shippedCalendar();

    // Act
    const act = () => cal.isTradingDay('2027-01-04');

    // Assess
    expect(act).toThrow(CalendarOutOfRangeError);
    expect(act).toThrow('calendar_out_of_range: 2027-01-04; run ghtrader data calendar --refresh or add an override');
  });

  it('refuses a date before its coverage', () => {
    // Act
    const act = () => shippedCalendar().isTradingDay('2009-12-31');

    // Assess
    expect(act).toThrow(CalendarOutOfRangeError);
  });

  it('names the first uncovered day when the next trading day lies beyond coverage', () => {
    // Prepare
    const cal = shippedCalendar();

    // Act
    const act = () => cal.nextTradingDay('2026-12-31');

    // Assess
    expect(act).toThrow('calendar_out_of_range: 2027-01-01;');
  });

  it('keeps each error code stable for API clients', () => {
    // Act
    let caught: unknown;
    try {
      shippedCalendar().isTradingDay('2027-01-04');
    } catch (err) {
      caught = err;
    }

    // Assess
    expect(caught).toMatchObject({ code: 'calendar_out_of_range', area: 'market', day: '2027-01-04' });
  });

  it.each([['2025-13-01'], ['2025-02-30'], ['20250101'], ['2025-1-1'], ['']])(
    'rejects the malformed date %j',
    (day) => {
      // Act
      const act = () => shippedCalendar().isTradingDay(day);

      // Assess
      expect(act).toThrow(InvalidDateError);
    },
  );

  it('refuses holiday data whose coverage ends before it starts', () => {
    // Act
    const act = () => new TradingCalendar({ ...january, covers: { from: '2025-01-31', to: '2025-01-01' } });

    // Assess
    expect(act).toThrow(CalendarDataError);
  });
});

describe('TradingCalendar overrides', () => {
  it('adds and removes holidays inside coverage (override beats shipped)', () => {
    // Prepare
    const cal = new TradingCalendar(january, { add_holidays: ['2025-01-09'], remove_holidays: ['2025-01-08'] });

    // Act
    const days = cal.tradingDays('2025-01-07', '2025-01-10');

    // Assess
    expect(days).toEqual(['2025-01-07', '2025-01-08', '2025-01-10']);
  });

  it('never opens a weekend, even when an override removes it as a holiday', () => {
    // Prepare
    const cal = new TradingCalendar(january, { remove_holidays: ['2025-01-11'] });

    // Act
    const open = cal.isTradingDay('2025-01-11');

    // Assess
    expect(open).toBe(false);
  });

  it('does not extend coverage through add_holidays alone', () => {
    // Prepare
    const cal = new TradingCalendar(january, { add_holidays: ['2025-02-03'] });

    // Act
    const act = () => cal.isTradingDay('2025-02-04');

    // Assess
    expect(act).toThrow(CalendarOutOfRangeError);
  });

  it('extends coverage to covers_to when the operator vouches for it', () => {
    // Prepare
    const cal = new TradingCalendar(january, { add_holidays: ['2025-02-03'], covers_to: '2025-02-28' });

    // Act
    const days = cal.tradingDays('2025-01-31', '2025-02-05');

    // Assess
    expect(cal.covers).toEqual({ from: '2025-01-01', to: '2025-02-28' });
    expect(days).toEqual(['2025-01-31', '2025-02-04', '2025-02-05']);
  });

  it('lists built-in exchange events and appends the overrides’ events', () => {
    // Prepare
    const cal = new TradingCalendar(january, {
      exchange_events: [
        {
          id: 'op_night_skip',
          exchange: 'SHFE',
          session: 'night',
          kind: 'skip',
          start_day: '2025-01-10',
          end_day: '2025-01-10',
        },
      ],
    });

    // Act
    const ids = cal.exchangeEvents().map((e) => e.id);

    // Assess
    expect(ids).toEqual(['shfe_2019_12_25_delay_open', 'shfe_covid_night_suspend', 'op_night_skip']);
  });

  it('lets an override event replace the built-in with the same id', () => {
    // Prepare
    const cal = new TradingCalendar(january, {
      exchange_events: [
        {
          id: 'shfe_covid_night_suspend',
          exchange: 'SHFE',
          session: 'night',
          kind: 'skip',
          start_day: '2020-02-03',
          end_day: '2020-02-07',
        },
      ],
    });

    // Act
    const covid = cal.exchangeEvents().filter((e) => e.id === 'shfe_covid_night_suspend');

    // Assess
    expect(covid).toHaveLength(1);
    expect(covid[0]?.end_day).toBe('2020-02-07');
  });
});

describe('TradingCalendar with a refreshed list', () => {
  const refreshed = { covers: { from: '2025-01-01', to: '2025-02-28' }, holidays: ['2025-01-09', '2025-02-03'] };

  it('uses refreshed holidays only after the shipped coverage', () => {
    // Prepare
    const cal = new TradingCalendar(january, undefined, refreshed);

    // Act
    const inside = cal.isTradingDay('2025-01-09');
    const after = cal.isTradingDay('2025-02-03');

    // Assess
    expect(inside).toBe(true);
    expect(after).toBe(false);
    expect(cal.covers.to).toBe('2025-02-28');
  });

  it('ignores a refreshed list that leaves a gap after the shipped coverage', () => {
    // Prepare
    const gapped = { covers: { from: '2025-03-01', to: '2025-12-31' }, holidays: [] };
    const cal = new TradingCalendar(january, undefined, gapped);

    // Act
    const act = () => cal.isTradingDay('2025-03-03');

    // Assess
    expect(act).toThrow(CalendarOutOfRangeError);
  });

  it('lets an override win over the refreshed list', () => {
    // Prepare
    const cal = new TradingCalendar(january, { remove_holidays: ['2025-02-03'] }, refreshed);

    // Act
    const open = cal.isTradingDay('2025-02-03');

    // Assess
    expect(open).toBe(true);
  });
});

describe('parseCalendarOverrides', () => {
  it('accepts the documented shape and the trading_day shorthand of an event', () => {
    // Act
    const o = parseCalendarOverrides({
      add_holidays: ['2026-02-13'],
      remove_holidays: [],
      exchange_events: [
        {
          id: 'x',
          exchange: 'SHFE',
          variety: 'cu',
          session: 'night',
          kind: 'shift_end',
          time: '24:00:00',
          trading_day: '2026-03-02',
        },
      ],
    });

    // Assess
    expect(o.exchange_events?.[0]).toMatchObject({ start_day: '2026-03-02', end_day: '2026-03-02', variety: 'cu' });
  });

  it.each([
    [{ add_holiday: ['2026-02-13'] }, 'an unknown key'],
    [{ add_holidays: ['2026-2-13'] }, 'a malformed date'],
    [
      {
        exchange_events: [
          {
            id: 'x',
            exchange: 'SHFE',
            session: 'night',
            kind: 'shift_start',
            start_day: '2026-01-05',
            end_day: '2026-01-05',
          },
        ],
      },
      'a shift without time',
    ],
    [
      {
        exchange_events: [
          { id: 'x', exchange: 'DCE', session: 'night', kind: 'skip', start_day: '2026-01-05', end_day: '2026-01-05' },
        ],
      },
      'another exchange',
    ],
    [
      {
        exchange_events: [
          { id: 'x', exchange: 'SHFE', session: 'night', kind: 'skip', start_day: '2026-01-06', end_day: '2026-01-05' },
        ],
      },
      'an inverted range',
    ],
    [[], 'a list instead of an object'],
  ] as [unknown, string][])('rejects %j (%s) with CalendarDataError', (json) => {
    // Act
    const act = () => parseCalendarOverrides(json);

    // Assess
    expect(act).toThrow(CalendarDataError);
  });
});

describe('parseRefreshedHolidays', () => {
  it('reads a bare list of ISO and compact dates, dropping and counting what it cannot read', () => {
    // Act
    const r = parseRefreshedHolidays(['2027-01-01', '20270211', 'soon', 42, '2027-01-02']);

    // Assess
    expect(r).toEqual({
      holidays: ['2027-01-01', '2027-02-11'],
      covers: { from: '2027-01-01', to: '2027-12-31' },
      dropped: 2,
      weekends_ignored: 1,
    });
  });

  it.each([
    [{ holidays: ['2027-01-01'] }],
    [{ holiday: ['2027-01-01'] }],
    [{ data: ['2027-01-01'] }],
    [{ '2027': ['2027-01-01'], note: 'x' }],
  ])('finds the list in %j', (json) => {
    // Act
    const r = parseRefreshedHolidays(json);

    // Assess
    expect(r.holidays).toEqual(['2027-01-01']);
  });

  it('concatenates an object of lists', () => {
    // Act
    const r = parseRefreshedHolidays({ '2026': ['2026-01-01'], '2027': [20270101] });

    // Assess
    expect(r.holidays).toEqual(['2026-01-01', '2027-01-01']);
    expect(r.covers).toEqual({ from: '2026-01-01', to: '2027-12-31' });
  });

  it.each([[null], ['2027-01-01'], [{ a: 1 }], [['x', 'y']]])('refuses %j, which holds no date', (json) => {
    // Act
    const act = () => parseRefreshedHolidays(json);

    // Assess
    expect(act).toThrow(CalendarDataError);
  });
});

describe('calendarDisagreements', () => {
  it('reports weekdays inside both coverages on which the lists differ', () => {
    // Prepare
    const refreshed = { covers: { from: '2025-01-01', to: '2025-12-31' }, holidays: ['2025-01-01', '2025-01-09'] };

    // Act
    const diff = calendarDisagreements(january, refreshed);

    // Assess
    expect(diff).toEqual([
      { date: '2025-01-08', shipped: 'holiday', refreshed: 'open' },
      { date: '2025-01-09', shipped: 'open', refreshed: 'holiday' },
    ]);
  });
});
