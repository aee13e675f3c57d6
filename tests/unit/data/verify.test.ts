import { describe, expect, it } from 'vitest';
import { rowHashFnv1a64V1 } from '#shared/domain/data/row-hash.ts';
import { type ScheduleRow, scheduleHash, schedulePrefixHashes } from '#shared/domain/data/schedule.ts';
import { TICK_NUMERIC_COLUMN_COUNT, TICK_NUMERIC_COLUMNS } from '#shared/domain/data/tick-columns.ts';
import type { TickDayRows } from '#shared/domain/data/tick-store.ts';
import {
  addDayCheck,
  checkSchedule,
  checkTickDay,
  emptyTotals,
  foldVerifyState,
  needsConfiguredStart,
  needsPrefixReconstruction,
  ProvenanceExpectations,
  reconstructWithPrefix,
  sampleDays,
  VerifyRequestSchema,
  worstState,
} from '#shared/domain/data/verify.ts';

/** The §4.3 vector: full hash f25225a1507bb808, prefixes 76ef5715bc2bd60d and d1316d4913c783dd. */
const FULL: ScheduleRow[] = [
  { trading_day: '2025-01-02', main_contract: 'SHFE.cu2501', segment_id: 0 },
  { trading_day: '2025-01-03', main_contract: 'SHFE.cu2501', segment_id: 0 },
  { trading_day: '2025-01-04', main_contract: 'SHFE.cu2502', segment_id: 1 },
];
const FULL_HASH = 'f25225a1507bb808';
const DAYS10 = Array.from({ length: 10 }, (_, i) => `2025-02-${String(i + 10).padStart(2, '0')}`);

describe('sampleDays', () => {
  it('keeps every day without N or when N covers them all', () => {
    // Act
    const all = sampleDays(DAYS10, undefined);
    const big = sampleDays(DAYS10, 10);
    const bigger = sampleDays(DAYS10, 50);

    // Assess
    expect(all).toEqual(DAYS10);
    expect(big).toEqual(DAYS10);
    expect(bigger).toEqual(DAYS10);
  });

  it('spaces N days evenly by index, first and last included', () => {
    // Act
    const one = sampleDays(DAYS10, 1);
    const two = sampleDays(DAYS10, 2);
    const three = sampleDays(DAYS10, 3);
    const four = sampleDays(DAYS10, 4);

    // Assess: indexes round(i·9/(n−1)), halves up
    expect(one).toEqual(['2025-02-10']);
    expect(two).toEqual(['2025-02-10', '2025-02-19']);
    expect(three).toEqual(['2025-02-10', '2025-02-15', '2025-02-19']);
    expect(four).toEqual(['2025-02-10', '2025-02-13', '2025-02-16', '2025-02-19']);
  });

  it('returns N distinct ascending days including both ends for every N < days', () => {
    // Prepare
    const days = Array.from({ length: 37 }, (_, i) => `d${String(i).padStart(3, '0')}`);

    for (let n = 2; n < days.length; n++) {
      // Act
      const s = sampleDays(days, n);

      // Assess
      expect(s).toHaveLength(n);
      expect(new Set(s).size).toBe(n);
      expect([...s].sort()).toEqual(s);
      expect(s[0]).toBe(days[0]);
      expect(s.at(-1)).toBe(days.at(-1));
    }
  });

  it('refuses a sample size below 1', () => {
    // Act
    const run = () => sampleDays(DAYS10, 0);

    // Assess
    expect(run).toThrow(RangeError);
  });
});

describe('checkSchedule (§6.8 step 2)', () => {
  it('match: the stored hash equals the recomputation', () => {
    // Act
    const { check, rows } = checkSchedule({
      stored: FULL,
      storedHashes: [FULL_HASH],
      configuredStart: null,
      prefix: null,
    });

    // Assess
    expect(check).toMatchObject({
      check: 'match',
      state: 'ok',
      reason: 'recomputed_hash_matches',
      stored_hash: FULL_HASH,
      recomputed_hash: FULL_HASH,
      reconstructed_hash: null,
      first_stored_day: '2025-01-02',
      stored_days: 3,
    });
    expect(rows).toEqual(FULL);
    expect(needsConfiguredStart(FULL, [FULL_HASH])).toBe(false);
  });

  it('mismatch: the hash differs and the stored rows start at the configured start', () => {
    // Prepare: a contract changed after hashing
    const tampered = FULL.map((r, i) => (i === 1 ? { ...r, main_contract: 'SHFE.cu2502', segment_id: 1 } : r));

    // Act
    const needs = needsPrefixReconstruction(tampered, [FULL_HASH], '2025-01-02');
    const { check } = checkSchedule({
      stored: tampered,
      storedHashes: [FULL_HASH],
      configuredStart: '2025-01-02',
      prefix: null,
    });

    // Assess
    expect(needs).toBe(false);
    expect(check).toMatchObject({ check: 'mismatch', state: 'error', reason: 'recomputed_hash_differs' });
  });

  it('mismatch: several stored hashes, or none well-formed', () => {
    // Act
    const mixed = checkSchedule({
      stored: FULL,
      storedHashes: [FULL_HASH, 'd1316d4913c783dd'],
      configuredStart: '2025-01-01',
      prefix: null,
    }).check;
    const empty = checkSchedule({ stored: FULL, storedHashes: [''], configuredStart: null, prefix: null }).check;

    // Assess
    expect(mixed).toMatchObject({ check: 'mismatch', reason: 'mixed_schedule_hash', stored_hash: null });
    expect(empty).toMatchObject({ check: 'mismatch', reason: 'schedule_hash_missing', stored_hash: null });
    expect(needsPrefixReconstruction(FULL, [FULL_HASH, 'd1316d4913c783dd'], '2025-01-01')).toBe(false);
  });

  it('mismatch: a stored row that cannot be rendered in the canonical bytes (no lineage either)', () => {
    // Prepare
    const bad = FULL.map((r, i) => (i === 0 ? { ...r, main_contract: 'cu2501' } : r));

    // Act
    const { check } = checkSchedule({ stored: bad, storedHashes: [FULL_HASH], configuredStart: null, prefix: null });
    const lineage = new ProvenanceExpectations(
      bad.map((r) => ({ ...r, schedule_hash: FULL_HASH })),
      bad,
    );

    // Assess
    expect(check).toMatchObject({ check: 'mismatch', reason: 'schedule_rows_invalid', recomputed_hash: null });
    expect(needsConfiguredStart(bad, [FULL_HASH])).toBe(false);
    expect(needsPrefixReconstruction(bad, [FULL_HASH], '2024-12-31')).toBe(false);
    expect(lineage.isLineageHash(FULL_HASH, 0)).toBe(false);
  });

  it('match_after_prefix_reconstruction: rows before the first L5 day deleted, old hash kept', () => {
    // Prepare: the predecessor kept only the last row (segment 1) under the full hash
    const stored = FULL.slice(2);
    const prefixDays = [
      { trading_day: '2025-01-02', main_contract: 'SHFE.cu2501' },
      { trading_day: '2025-01-03', main_contract: 'SHFE.cu2501' },
      // a day the provider returns at or after the first stored day is not part of the prefix
      { trading_day: '2025-01-04', main_contract: 'SHFE.cu2503' },
    ];

    // Act
    const needs = needsPrefixReconstruction(stored, [FULL_HASH], '2025-01-02');
    const { check, rows } = checkSchedule({
      stored,
      storedHashes: [FULL_HASH],
      configuredStart: '2025-01-02',
      prefix: { ok: true, days: prefixDays },
    });

    // Assess
    expect(needs).toBe(true);
    expect(check).toMatchObject({
      check: 'match_after_prefix_reconstruction',
      state: 'ok',
      reason: 'prefix_reconstruction_matches',
      stored_hash: FULL_HASH,
      reconstructed_hash: FULL_HASH,
      prefix_days: 2,
      configured_start: '2025-01-02',
    });
    expect(check.recomputed_hash).not.toBe(FULL_HASH);
    expect(rows).toEqual(FULL);
  });

  it('unverifiable: the rebuilt prefix does not reproduce the hash, or the provider failed', () => {
    // Prepare
    const stored = FULL.slice(1);
    const wrong = [{ trading_day: '2025-01-02', main_contract: 'SHFE.cu2502' }];

    // Act
    const differs = checkSchedule({
      stored,
      storedHashes: [FULL_HASH],
      configuredStart: '2025-01-02',
      prefix: { ok: true, days: wrong },
    }).check;
    const failed = checkSchedule({
      stored,
      storedHashes: [FULL_HASH],
      configuredStart: '2025-01-02',
      prefix: { ok: false, error: 'provider down' },
    }).check;
    const none = checkSchedule({
      stored,
      storedHashes: [FULL_HASH],
      configuredStart: '2025-01-02',
      prefix: { ok: true, days: [] },
    }).check;
    // Days before the configured start are not part of the rebuilt prefix.
    const early = checkSchedule({
      stored,
      storedHashes: [FULL_HASH],
      configuredStart: '2025-01-02',
      prefix: { ok: true, days: [{ trading_day: '2024-12-31', main_contract: 'SHFE.cu2501' }] },
    }).check;

    // Assess
    expect(differs).toMatchObject({
      check: 'unverifiable',
      state: 'warn',
      reason: 'prefix_reconstruction_differs',
      prefix_days: 1,
    });
    expect(differs.reconstructed_hash).not.toBe(FULL_HASH);
    expect(failed).toMatchObject({
      check: 'unverifiable',
      reason: 'prefix_unavailable',
      prefix_error: 'provider down',
    });
    expect(none).toMatchObject({ check: 'unverifiable', reason: 'no_prefix_days', prefix_days: 0 });
    expect(early).toMatchObject({ check: 'unverifiable', reason: 'no_prefix_days' });
  });

  it('reconstructWithPrefix numbers the prefix over prefix + stored days and keeps the stored rows as stored', () => {
    // Act
    const rows = reconstructWithPrefix(
      [
        { trading_day: '2025-01-03', main_contract: 'SHFE.cu2501' },
        { trading_day: '2025-01-02', main_contract: 'SHFE.cu2412' },
      ],
      [{ trading_day: '2025-01-06', main_contract: 'SHFE.cu2502', segment_id: 7 }],
    );

    // Assess
    expect(rows).toEqual([
      { trading_day: '2025-01-02', main_contract: 'SHFE.cu2412', segment_id: 0 },
      { trading_day: '2025-01-03', main_contract: 'SHFE.cu2501', segment_id: 1 },
      { trading_day: '2025-01-06', main_contract: 'SHFE.cu2502', segment_id: 7 },
    ]);
  });
});

/** A row of the 27 values: a full 5-level book unless `levels` says otherwise. */
function bookRow(i: number, levels: (level: number) => boolean = () => true): number[] {
  const last = 70_000 + i * 10;
  const row = [last, last, last + 50, last - 50, 100 + i, 1e6 + i, 200_000];
  for (let level = 1; level <= 5; level++) {
    const on = level === 1 || levels(level);
    row.push(on ? last - 10 * level : 0, on ? level : 0, on ? last + 10 * level : 0, on ? level + 1 : 0);
  }
  return row;
}

function day(
  rows: number[][],
  prov: { contract: string; segment: bigint; hash: string }[],
  hashes?: (bigint | null)[],
): TickDayRows {
  const n = rows.length;
  const datetimeNs = BigInt64Array.from(rows.map((_, i) => 1_736_900_000_000_000_000n + BigInt(i) * 500_000_000n));
  const values = Array.from({ length: TICK_NUMERIC_COLUMN_COUNT }, (_, c) =>
    Float64Array.from(rows.map((r) => r[c] as number)),
  );
  const rowHash = BigInt64Array.from(rows.map((r, i) => hashes?.[i] ?? rowHashFnv1a64V1(datetimeNs[i] as bigint, r)));
  return {
    datetimeNs,
    rowHash,
    values,
    underlyingContract: prov.slice(0, n).map((p) => p.contract),
    segmentId: BigInt64Array.from(prov.slice(0, n).map((p) => p.segment)),
    scheduleHash: prov.slice(0, n).map((p) => p.hash),
  };
}

describe('checkTickDay (§6.8 step 3)', () => {
  const stored = FULL.map((r) => ({ ...r, schedule_hash: FULL_HASH }));
  const expectations = new ProvenanceExpectations(stored, FULL);
  const ok = { contract: 'SHFE.cu2501', segment: 0n, hash: FULL_HASH };

  it('a clean day: every hash recomputes, provenance equals the schedule row, every row true-L5', () => {
    // Prepare
    const ticks = day([bookRow(0), bookRow(1), bookRow(2)], [ok, ok, ok]);

    // Act
    const c = checkTickDay('2025-01-03', ticks, expectations.of('2025-01-03'), expectations);

    // Assess
    expect(c).toMatchObject({
      trading_day: '2025-01-03',
      rows: 3,
      row_hash_mismatches: 0,
      provenance_errors: 0,
      lineage_hash_rows: 0,
      l5_any_depth_violations: 0,
      l5_strict_violations: 0,
      first_row_hash_mismatch: null,
      first_provenance_error: null,
    });
  });

  it('counts a changed price under its old hash, empty or foreign provenance and both L5 rules', () => {
    // Prepare
    const changed = bookRow(0);
    const originalHash = rowHashFnv1a64V1(1_736_900_000_000_000_000n, changed);
    changed[0] = (changed[0] as number) + 0.5; // last_price edited, row_hash left alone
    const partial = bookRow(3, (level) => level === 2); // levels 3–5 empty: legacy keeps it, strict does not
    const noDepth = bookRow(4, () => false); // levels 2–5 empty: fails the legacy rule too
    const ticks = day(
      [changed, bookRow(1), bookRow(2), partial, noDepth, bookRow(5)],
      [
        ok,
        { contract: '', segment: 0n, hash: FULL_HASH },
        { contract: 'SHFE.cu2501', segment: -1n, hash: '' },
        ok,
        ok,
        { contract: 'SHFE.cu2502', segment: 0n, hash: FULL_HASH },
      ],
      [originalHash],
    );

    // Act
    const c = checkTickDay('2025-01-03', ticks, expectations.of('2025-01-03'), expectations);

    // Assess
    expect(c).toMatchObject({
      rows: 6,
      row_hash_mismatches: 1,
      provenance_errors: 3,
      provenance: { no_schedule_row: 0, underlying_contract: 2, segment_id: 1, schedule_hash: 1 },
      l5_any_depth_violations: 1,
      l5_strict_violations: 2,
    });
    expect(c.first_row_hash_mismatch).toEqual({
      datetime_ns: '1736900000000000000',
      stored: String(originalHash),
      recomputed: String(rowHashFnv1a64V1(1_736_900_000_000_000_000n, changed)),
    });
    expect(c.first_provenance_error).toMatchObject({ underlying_contract: '', segment_id: '0' });
  });

  it('accepts a prefix hash covering the day as lineage, not a prefix that ends before it', () => {
    // Prepare: 2025-01-03 is day 2; prefixes of 2 and 3 rows cover it, the 1-row prefix does not
    const [p1, p2] = schedulePrefixHashes(FULL) as [string, string, string];
    const ticks = day(
      [bookRow(0), bookRow(1)],
      [
        { ...ok, hash: p2 },
        { ...ok, hash: p1 },
      ],
    );

    // Act
    const c = checkTickDay('2025-01-03', ticks, expectations.of('2025-01-03'), expectations);

    // Assess
    expect(c).toMatchObject({ lineage_hash_rows: 1, provenance_errors: 1, provenance: { schedule_hash: 1 } });
    expect(expectations.isLineageHash(p2, 1)).toBe(true);
    expect(expectations.isLineageHash(p1, 1)).toBe(false);
    expect(expectations.isLineageHash(scheduleHash(FULL), 2)).toBe(true);
  });

  it('a day without a schedule row: every row is a provenance error', () => {
    // Prepare
    const ticks = day([bookRow(0), bookRow(1)], [ok, ok]);

    // Act
    const c = checkTickDay('2025-01-06', ticks, expectations.of('2025-01-06'), expectations);

    // Assess
    expect(expectations.of('2025-01-06')).toBeNull();
    expect(c).toMatchObject({ provenance_errors: 2, provenance: { no_schedule_row: 2 } });
  });

  it('NaN cells hash as 0.0 (a NULL read back keeps the stored hash valid)', () => {
    // Prepare: the stored hash was computed with 0 where the store now reads NaN
    const zeroed = bookRow(0);
    zeroed[TICK_NUMERIC_COLUMNS.indexOf('average')] = 0;
    const hash = rowHashFnv1a64V1(1_736_900_000_000_000_000n, zeroed);
    const withNaN = [...zeroed];
    withNaN[TICK_NUMERIC_COLUMNS.indexOf('average')] = Number.NaN;

    // Act
    const c = checkTickDay('2025-01-03', day([withNaN], [ok], [hash]), expectations.of('2025-01-03'), expectations);

    // Assess
    expect(c.row_hash_mismatches).toBe(0);
  });

  it('adds days into totals and samples the days with problems', () => {
    // Prepare
    const clean = checkTickDay('2025-01-02', day([bookRow(0)], [ok]), expectations.of('2025-01-02'), expectations);
    const bad = checkTickDay(
      '2025-01-03',
      day([bookRow(0), bookRow(1)], [ok, ok], [1n]),
      expectations.of('2025-01-03'),
      expectations,
    );

    // Act
    const t = addDayCheck(addDayCheck(emptyTotals(), clean), bad);

    // Assess
    expect(t).toMatchObject({ days_checked: 2, rows_checked: 3, row_hash_mismatches: 1, problem_days_total: 1 });
    expect(t.problem_days.map((d) => d.trading_day)).toEqual(['2025-01-03']);
  });
});

describe('foldVerifyState', () => {
  const zero = { row_hash_mismatches: 0, provenance_errors: 0, l5_any_depth_violations: 0, l5_strict_violations: 0 };
  const match = { check: 'match', state: 'ok', reason: 'recomputed_hash_matches' } as const;
  const valOk = { state: 'ok', reason_code: 'quality_ok', action_hint: 'No action needed.' } as const;

  it('ok when every part is ok', () => {
    // Act
    const r = foldVerifyState({ schedule: match, totals: zero, validation: valOk });

    // Assess
    expect(r).toEqual({ state: 'ok', ok: true, issues: [] });
  });

  it('warn (still ok) for an unverifiable schedule, strict L5 violations or a validation warning', () => {
    // Act
    const r = foldVerifyState({
      schedule: { check: 'unverifiable', state: 'warn', reason: 'prefix_reconstruction_differs' },
      totals: { ...zero, l5_strict_violations: 4 },
      validation: { state: 'warn', reason_code: 'missing_half_seconds_info', action_hint: 'x' },
    });

    // Assess
    expect(r.state).toBe('warn');
    expect(r.ok).toBe(true);
    expect(r.issues.map((i) => i.code)).toEqual(['schedule_unverifiable', 'l5_strict_violation', 'validation_warn']);
  });

  it('error for any hash mismatch, provenance error, legacy-rule failure, schedule mismatch or validation error', () => {
    // Act
    const cases = [
      foldVerifyState({ schedule: match, totals: { ...zero, row_hash_mismatches: 1 }, validation: valOk }),
      foldVerifyState({ schedule: match, totals: { ...zero, provenance_errors: 1 }, validation: valOk }),
      foldVerifyState({ schedule: match, totals: { ...zero, l5_any_depth_violations: 1 }, validation: valOk }),
      foldVerifyState({
        schedule: { check: 'mismatch', state: 'error', reason: 'recomputed_hash_differs' },
        totals: zero,
        validation: valOk,
      }),
      foldVerifyState({
        schedule: match,
        totals: zero,
        validation: { state: 'error', reason_code: 'gap_gt30_block', action_hint: 'x' },
      }),
    ];

    // Assess
    expect(cases.map((c) => [c.state, c.ok])).toEqual(Array.from({ length: 5 }, () => ['error', false]));
    expect(cases.map((c) => c.issues[0]?.code)).toEqual([
      'row_hash_mismatch',
      'provenance_mismatch',
      'l5_any_depth_violation',
      'schedule_mismatch',
      'validation_error',
    ]);
  });

  it('worstState orders ok < warn < error', () => {
    // Assess
    expect(worstState([])).toBe('ok');
    expect(worstState(['ok', 'warn', 'ok'])).toBe('warn');
    expect(worstState(['warn', 'error', 'ok'])).toBe('error');
  });
});

describe('VerifyRequestSchema', () => {
  it('defaults promote to false and refuses a bad variety, sample size or unknown key', () => {
    // Act
    const parsed = VerifyRequestSchema.parse({ variety: 'cu', jobId: 'j1' });

    // Assess
    expect(parsed).toEqual({ variety: 'cu', jobId: 'j1', promote: false });
    expect(VerifyRequestSchema.safeParse({ variety: 'zn', jobId: 'j1' }).success).toBe(false);
    expect(VerifyRequestSchema.safeParse({ variety: 'cu', jobId: 'j1', sampleDays: 0 }).success).toBe(false);
    expect(VerifyRequestSchema.safeParse({ variety: 'cu', jobId: 'j1', sampleDays: 1.5 }).success).toBe(false);
    expect(VerifyRequestSchema.safeParse({ variety: 'cu', jobId: 'j1', extra: 1 }).success).toBe(false);
  });
});
