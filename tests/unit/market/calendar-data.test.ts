import { describe, expect, it } from 'vitest';
import { dayNumber, isIsoDay, isWeekendNum } from '#shared/domain/market/calendar/days.ts';
import { SHIPPED_CALENDAR_DATA, shippedCalendar } from '#shared/domain/market/calendar/index.ts';

const data = SHIPPED_CALENDAR_DATA;

describe('the shipped holiday list', () => {
  it('covers 2010-01-01 through 2026-12-31 and names its sources', () => {
    // Assess
    expect(data.covers).toEqual({ from: '2010-01-01', to: '2026-12-31' });
    expect(data.source.length).toBeGreaterThan(0);
    expect(data.source_urls).toContain('https://files.shinnytech.com/shinny_chinese_holiday.json');
  });

  it('is sorted ascending with no duplicates', () => {
    // Act
    const sorted = [...new Set(data.holidays)].sort();

    // Assess
    expect(data.holidays).toEqual(sorted);
  });

  it('holds only valid dates that are weekdays inside its coverage', () => {
    // Act
    const bad = data.holidays.filter(
      (d) => !isIsoDay(d) || isWeekendNum(dayNumber(d)) || d < data.covers.from || d > data.covers.to,
    );

    // Assess
    expect(bad).toEqual([]);
  });

  it('lists between 15 and 25 weekday closures in every covered year', () => {
    // Prepare
    const perYear = new Map<string, number>();
    for (const d of data.holidays) perYear.set(d.slice(0, 4), (perYear.get(d.slice(0, 4)) ?? 0) + 1);

    // Assess
    for (let y = 2010; y <= 2026; y++) {
      const n = perYear.get(String(y)) ?? 0;
      expect(n, `year ${y}`).toBeGreaterThanOrEqual(15);
      expect(n, `year ${y}`).toBeLessThanOrEqual(25);
    }
  });

  it.each([
    ['2020-01-31', 'the 2020 Spring Festival extension'],
    ['2015-09-03', 'the 2015 anniversary holiday'],
    ['2015-09-04', 'the 2015 anniversary swap day'],
    ['2024-02-09', 'Spring Festival Eve 2024'],
    ['2025-01-28', 'Spring Festival 2025, first day'],
    ['2025-01-29', 'Spring Festival 2025'],
    ['2025-01-30', 'Spring Festival 2025'],
    ['2025-01-31', 'Spring Festival 2025'],
    ['2025-02-03', 'Spring Festival 2025'],
    ['2025-02-04', 'Spring Festival 2025, last day'],
    ['2024-10-01', 'National Day 2024'],
    ['2024-10-02', 'National Day 2024'],
    ['2024-10-03', 'National Day 2024'],
    ['2024-10-04', 'National Day 2024'],
    ['2024-10-07', 'National Day 2024'],
    ['2026-02-23', 'Spring Festival 2026, last day'],
  ])('closes the exchanges on %s (%s)', (day) => {
    // Act
    const open = shippedCalendar().isTradingDay(day);

    // Assess
    expect(open).toBe(false);
  });

  it.each([
    ['2020-02-03', 'the reopening after the 2020 extension'],
    ['2025-02-05', 'the reopening after Spring Festival 2025'],
    ['2024-10-08', 'the reopening after National Day 2024'],
    ['2024-02-08', 'the last day before Spring Festival 2024'],
    ['2025-01-27', 'the last day before Spring Festival 2025'],
  ])('opens the exchanges on %s (%s)', (day) => {
    // Act
    const open = shippedCalendar().isTradingDay(day);

    // Assess
    expect(open).toBe(true);
  });

  it.each([
    ['2025-01-26', 'a Sunday worked in lieu before Spring Festival 2025'],
    ['2025-02-08', 'a Saturday worked in lieu after Spring Festival 2025'],
    ['2024-10-12', 'a Saturday worked in lieu after National Day 2024'],
  ])('never trades on a make-up working weekend day such as %s (%s)', (day) => {
    // Act
    const open = shippedCalendar().isTradingDay(day);

    // Assess
    expect(open).toBe(false);
  });
});
