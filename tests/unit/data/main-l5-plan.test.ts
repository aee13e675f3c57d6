import { describe, expect, it } from 'vitest';
import { isBuildId, newBuildId } from '#shared/domain/data/main-l5/build-id.ts';
import { MainL5InputError } from '#shared/domain/data/main-l5/errors.ts';
import { decideMode, planBatches } from '#shared/domain/data/main-l5/plan.ts';
import { type ScheduleRow, scheduleHash, schedulePrefixHashes } from '#shared/domain/data/schedule.ts';
import type { DayProvenance } from '#shared/domain/data/tick-store.ts';

/** The §4.3 vector schedule. */
const SCHEDULE: ScheduleRow[] = [
  { trading_day: '2025-01-02', main_contract: 'SHFE.cu2501', segment_id: 0 },
  { trading_day: '2025-01-03', main_contract: 'SHFE.cu2501', segment_id: 0 },
  { trading_day: '2025-01-04', main_contract: 'SHFE.cu2502', segment_id: 1 },
];
const PREFIX = schedulePrefixHashes(SCHEDULE);

function stored(day: string, hashes: string[], rowsWithoutHash = 0): DayProvenance {
  return {
    trading_day: day,
    rows: 100,
    schedule_hashes: hashes,
    rows_without_hash: rowsWithoutHash,
    first_datetime_ns: 0n,
    last_datetime_ns: 0n,
  };
}

describe('decideMode + planBatches (data-chain §5.1, §11 items 8-9)', () => {
  it('uses the §4.3 lineage', () => {
    expect(PREFIX).toEqual(['76ef5715bc2bd60d', 'd1316d4913c783dd', 'f25225a1507bb808']);
    expect(scheduleHash(SCHEDULE)).toBe('f25225a1507bb808');
  });

  it.each([
    ['the current hash', 'f25225a1507bb808'],
    ['the 1-row prefix hash', '76ef5715bc2bd60d'],
  ])('updates when day 1 is stored under %s: children cover days 2-3 only', (_label, hash) => {
    // Act
    const decision = decideMode({ fullRebuild: false, stored: [stored('2025-01-02', [hash])], prefixHashes: PREFIX });
    const batches = planBatches(SCHEDULE, decision.storedDays, 5);

    // Assess
    expect(decision.mode).toBe('update');
    expect(decision.warning).toBeUndefined();
    expect([...decision.storedDays]).toEqual(['2025-01-02']);
    expect(batches).toEqual([
      { segment_id: 0, underlying_contract: 'SHFE.cu2501', days: ['2025-01-03'] },
      { segment_id: 1, underlying_contract: 'SHFE.cu2502', days: ['2025-01-04'] },
    ]);
    expect(batches.flatMap((b) => b.days)).toHaveLength(2);
  });

  it('fully rebuilds with warning schedule_hash_mismatch when a stored hash is outside prefixHashes', () => {
    // Act
    const decision = decideMode({
      fullRebuild: false,
      stored: [stored('2025-01-02', ['0123456789abcdef'])],
      prefixHashes: new Set(PREFIX),
    });
    const batches = planBatches(SCHEDULE, decision.storedDays, 5);

    // Assess
    expect(decision.mode).toBe('full_rebuild');
    expect(decision.warning).toBe('schedule_hash_mismatch');
    expect(decision.storedDays.size).toBe(0);
    expect(decision.storedHashes).toEqual(['0123456789abcdef']);
    expect(batches.flatMap((b) => b.days)).toEqual(['2025-01-02', '2025-01-03', '2025-01-04']);
  });

  it('fully rebuilds when a stored day has rows without a hash, even if its other rows are compatible', () => {
    const decision = decideMode({
      fullRebuild: false,
      stored: [stored('2025-01-02', ['76ef5715bc2bd60d'], 3)],
      prefixHashes: PREFIX,
    });
    expect(decision.mode).toBe('full_rebuild');
    expect(decision.warning).toBe('schedule_hash_mismatch');
    expect(decision.daysWithoutHash).toEqual(['2025-01-02']);
  });

  it('rebuilds everything without a warning on --full-rebuild, and updates from nothing when nothing is stored', () => {
    const full = decideMode({
      fullRebuild: true,
      stored: [stored('2025-01-02', [PREFIX[2] as string])],
      prefixHashes: PREFIX,
    });
    const empty = decideMode({ fullRebuild: false, stored: [], prefixHashes: PREFIX });
    expect(full).toMatchObject({ mode: 'full_rebuild', storedDays: new Set() });
    expect(full.warning).toBeUndefined();
    expect(empty).toMatchObject({ mode: 'update', storedDays: new Set() });
    expect(empty.warning).toBeUndefined();
  });

  it('groups consecutive scheduled days per segment into batches of at most daysPerJob', () => {
    // Prepare: 7 days of segment 0, a stored day in the middle, then 2 days of segment 1.
    const days = ['01-06', '01-07', '01-08', '01-09', '01-10', '01-13', '01-14', '01-15', '01-16'].map(
      (d) => `2025-${d}`,
    );
    const schedule = days.map((trading_day, i) => ({
      trading_day,
      main_contract: i < 7 ? 'SHFE.cu2502' : 'SHFE.cu2503',
      segment_id: i < 7 ? 0n : 1n,
    }));

    // Act
    const batches = planBatches(schedule, new Set(['2025-01-09']), 2);

    // Assess
    expect(batches).toEqual([
      { segment_id: 0, underlying_contract: 'SHFE.cu2502', days: ['2025-01-06', '2025-01-07'] },
      { segment_id: 0, underlying_contract: 'SHFE.cu2502', days: ['2025-01-08'] },
      { segment_id: 0, underlying_contract: 'SHFE.cu2502', days: ['2025-01-10', '2025-01-13'] },
      { segment_id: 0, underlying_contract: 'SHFE.cu2502', days: ['2025-01-14'] },
      { segment_id: 1, underlying_contract: 'SHFE.cu2503', days: ['2025-01-15', '2025-01-16'] },
    ]);
  });

  it('returns no batches when every day is stored', () => {
    expect(planBatches(SCHEDULE, new Set(SCHEDULE.map((r) => r.trading_day)), 5)).toEqual([]);
  });

  it('refuses an unsorted schedule and a days-per-job below 1', () => {
    expect(() => planBatches([...SCHEDULE].reverse(), new Set(), 5)).toThrow(MainL5InputError);
    expect(() => planBatches(SCHEDULE, new Set(), 0)).toThrow(/days per job/);
  });
});

describe('newBuildId (data-chain §5.1.1)', () => {
  it('is the first 12 lowercase hex of the UUID', () => {
    expect(newBuildId(() => '3F2504E0-4F89-41D3-9A0C-0305E82C3301')).toBe('3f2504e04f89');
    expect(isBuildId(newBuildId(() => crypto.randomUUID()))).toBe(true);
  });

  it('refuses a non-UUID', () => {
    expect(() => newBuildId(() => 'not-a-uuid')).toThrow(MainL5InputError);
  });
});
