import { describe, expect, it } from 'vitest';
import {
  EMPTY_SESSIONS_FILE,
  observeSessions,
  SessionsFileSchema,
  sameTradingTime,
  sessionHistory,
} from '#shared/domain/market/session-versions.ts';
import { DEFAULT_SESSION_VERSIONS, type TradingTime } from '#shared/domain/market/sessions.ts';

const DAY: [string, string][] = [
  ['09:00:00', '10:15:00'],
  ['10:30:00', '11:30:00'],
  ['13:30:00', '15:00:00'],
];
const CU_NOW: TradingTime = { day: DAY, night: [['21:00:00', '25:00:00']] };
const CU_LATER_NIGHT: TradingTime = { day: DAY, night: [['21:00:00', '26:00:00']] };

describe('session versions observed from the provider (§3.2)', () => {
  it('changes nothing when the provider agrees with the version in effect, whatever the range order', () => {
    // Act
    const obs = observeSessions(EMPTY_SESSIONS_FILE, 'cu', '2025-03-03', {
      day: [...DAY].reverse(),
      night: CU_NOW.night,
    });
    // Assess
    expect(obs).toMatchObject({ change: 'none', in_effect: { effective_from: '2013-12-23' } });
    expect(sameTradingTime(CU_NOW, { day: [...DAY].reverse(), night: CU_NOW.night })).toBe(true);
    expect(sameTradingTime(CU_NOW, CU_LATER_NIGHT)).toBe(false);
  });

  it('appends a version from the observed day when the provider differs, leaving earlier days as they were', () => {
    // Act
    const obs = observeSessions(EMPTY_SESSIONS_FILE, 'cu', '2025-03-03', CU_LATER_NIGHT);
    // Assess
    expect(obs.change).toBe('appended');
    if (obs.change !== 'appended') return;
    expect(obs.version).toEqual({ effective_from: '2025-03-03', trading_time: CU_LATER_NIGHT });
    expect(obs.file).toEqual({ version: 1, varieties: { cu: [obs.version] } });
    expect(SessionsFileSchema.parse(obs.file)).toEqual(obs.file);
    const history = sessionHistory('cu', obs.file);
    expect(history.map((v) => v.effective_from)).toEqual(['1990-01-01', '2013-12-23', '2025-03-03']);
    expect(sessionHistory('au', obs.file)).toEqual(DEFAULT_SESSION_VERSIONS.au);
    // The same observation again is no change; going back to the old sessions later is a new version.
    expect(observeSessions(obs.file, 'cu', '2025-03-04', CU_LATER_NIGHT).change).toBe('none');
    const back = observeSessions(obs.file, 'cu', '2025-04-01', CU_NOW);
    expect(back.change).toBe('appended');
  });

  it('reports a conflict instead of rewriting a day that already has a later or same-day version', () => {
    // Prepare
    const first = observeSessions(EMPTY_SESSIONS_FILE, 'cu', '2025-03-03', CU_LATER_NIGHT);
    if (first.change !== 'appended') throw new Error('expected an appended version');
    // Act
    const same = observeSessions(first.file, 'cu', '2025-03-03', CU_NOW);
    const earlier = observeSessions(first.file, 'cu', '2025-02-03', CU_LATER_NIGHT);
    // Assess
    expect(same).toMatchObject({ change: 'conflict', latest_effective_from: '2025-03-03' });
    expect(earlier).toMatchObject({ change: 'conflict', in_effect: { effective_from: '2013-12-23' } });
  });

  it('refuses a sessions file whose versions are not strictly ascending or that names an unknown variety', () => {
    const v = { effective_from: '2025-03-03', trading_time: CU_NOW };
    expect(SessionsFileSchema.safeParse({ version: 1, varieties: { cu: [v, v] } }).success).toBe(false);
    expect(SessionsFileSchema.safeParse({ version: 1, varieties: { zn: [v] } }).success).toBe(false);
    expect(SessionsFileSchema.safeParse({ version: 2, varieties: {} }).success).toBe(false);
  });
});
