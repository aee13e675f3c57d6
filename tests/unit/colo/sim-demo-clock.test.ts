import { describe, expect, it } from 'vitest';
import { DEMO_LEAD_S, shiftedSimStart } from '#colo/sim-demo-clock.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { formatCst, parseCst } from '#shared/domain/market/cst.ts';

const CAL = shippedCalendar();

/** The start as CST text (seconds), for readable expectations. */
function startAt(nowCst: string): { start: string; rule: string; window: string; day: string } {
  const s = shiftedSimStart(CAL, parseCst(nowCst));
  return {
    start: formatCst(s.startNs).slice(0, 19),
    rule: s.rule,
    window: `${formatCst(s.window.start_ns).slice(0, 16)}..${formatCst(s.window.end_ns).slice(0, 16)}`,
    day: s.tradingDay,
  };
}

describe('shiftedSimStart (the demo clock rule of ghtrader up)', () => {
  it('keeps the wall clock when now lies inside a session', () => {
    // Act
    const s = shiftedSimStart(CAL, parseCst('2025-03-04 10:00:00.250'));

    // Assess
    expect(s.rule).toBe('in_session');
    expect(s.startNs).toBe(parseCst('2025-03-04 10:00:00.250'));
    expect(s.tradingDay).toBe('2025-03-04');
  });

  it('starts 30 minutes before the close of the session that ended last, in every break of a trading day', () => {
    // Act
    const morningBreak = startAt('2025-03-04 10:20:00');
    const lunch = startAt('2025-03-04 12:00:00');
    const afterClose = startAt('2025-03-04 16:20:00');
    const evening = startAt('2025-03-04 19:10:00');

    // Assess
    expect(DEMO_LEAD_S).toBe(1800);
    expect(morningBreak).toMatchObject({ start: '2025-03-04 09:45:00', rule: 'last_session' });
    expect(lunch).toMatchObject({ start: '2025-03-04 11:00:00', window: '2025-03-04 10:30..2025-03-04 11:30' });
    expect(afterClose).toMatchObject({ start: '2025-03-04 14:30:00', day: '2025-03-04' });
    // After 18:00 the trading day is the next one, whose sessions have not begun: the rule walks back a day.
    expect(evening).toMatchObject({ start: '2025-03-04 14:30:00', day: '2025-03-04' });
  });

  it("uses cu's night window, so au and ag also trade at the start, when only au and ag are open", () => {
    // Act: 01:30 is inside the au/ag night (to 02:30) but after cu's (to 01:00).
    const s = startAt('2025-03-05 01:30:00');

    // Assess
    expect(s).toMatchObject({ start: '2025-03-05 00:30:00', window: '2025-03-04 21:00..2025-03-05 01:00' });
  });

  it('replays the Friday night session on a Saturday morning and the last day session before a holiday', () => {
    // Act
    const saturday = startAt('2025-03-08 07:16:00');
    const nationalDay = startAt('2025-10-05 12:00:00');

    // Assess
    expect(saturday).toMatchObject({ start: '2025-03-08 00:30:00', day: '2025-03-10' });
    // The night before the first trading day after the holiday is dropped: the last session is 30 Sep's close.
    expect(nationalDay).toMatchObject({ start: '2025-09-30 14:30:00', day: '2025-09-30' });
  });

  it('starts at the same instant anywhere inside one closed period', () => {
    // Act
    const a = shiftedSimStart(CAL, parseCst('2025-03-04 15:00:01'));
    const b = shiftedSimStart(CAL, parseCst('2025-03-04 20:59:59'));

    // Assess
    expect(a.startNs).toBe(b.startNs);
  });

  it("falls back to the last covered trading day's close past the calendar's coverage, and refuses before it", () => {
    // Act
    const past = startAt('2027-03-01 10:00:00');
    const before = () => shiftedSimStart(CAL, parseCst('2009-06-01 10:00:00'));

    // Assess
    expect(past).toMatchObject({ start: '2026-12-31 14:30:00', rule: 'last_session', day: '2026-12-31' });
    expect(before).toThrow(/calendar_out_of_range/);
  });
});
