import { describe, expect, it } from 'vitest';
import {
  isAnyDepthL5,
  isAnyDepthL5Row,
  isTrueL5,
  isTrueL5Row,
  L5_RULE,
  LEGACY_L5_RULE,
  l5RowPredicate,
} from '#shared/domain/data/main-l5/l5-rule.ts';
import { TICK_NUMERIC_COLUMNS, type TickNumericColumn } from '#shared/domain/data/tick-columns.ts';

type Row = Partial<Record<TickNumericColumn, number>>;
const positional = (r: Row): Float64Array => Float64Array.from(TICK_NUMERIC_COLUMNS, (c) => r[c] ?? 0);
const accessor = (r: Row) => (c: TickNumericColumn) => r[c] ?? Number.NaN;

function fullBook(): Row {
  const r: Row = { last_price: 70000, volume: 10 };
  for (let i = 1; i <= 5; i++) {
    r[`bid_price${i}` as TickNumericColumn] = 70000 - 10 * i;
    r[`bid_volume${i}` as TickNumericColumn] = i;
    r[`ask_price${i}` as TickNumericColumn] = 70000 + 10 * i;
    r[`ask_volume${i}` as TickNumericColumn] = i;
  }
  return r;
}

describe('true-L5 rule (data-chain §5.3, §11 item 13)', () => {
  it('has the spec rule ids', () => {
    expect(L5_RULE).toBe('l5_levels_2_5_v2');
    expect(LEGACY_L5_RULE).toBe('l5_any_depth_v1');
  });

  it('bid_price2 = [0, 1, 0], all else 0: legacy [F, T, F], strict [F, F, F]', () => {
    // Prepare
    const rows: Row[] = [{ bid_price2: 0 }, { bid_price2: 1 }, { bid_price2: 0 }];

    // Act
    const legacy = rows.map((r) => isAnyDepthL5Row(positional(r)));
    const strict = rows.map((r) => isTrueL5Row(positional(r)));
    const legacyAcc = rows.map((r) => isAnyDepthL5(accessor(r)));
    const strictAcc = rows.map((r) => isTrueL5(accessor(r)));

    // Assess
    expect(legacy).toEqual([false, true, false]);
    expect(strict).toEqual([false, false, false]);
    expect(legacyAcc).toEqual(legacy);
    expect(strictAcc).toEqual(strict);
  });

  it('a full book is true-L5 under both rules', () => {
    const r = fullBook();
    expect(isTrueL5Row(positional(r))).toBe(true);
    expect(isTrueL5(accessor(r))).toBe(true);
    expect(isAnyDepthL5Row(positional(r))).toBe(true);
  });

  it('a limit-up row with an empty ask side and bid levels 1-5 is strictly true-L5', () => {
    // Prepare
    const r = fullBook();
    for (let i = 1; i <= 5; i++) {
      r[`ask_price${i}` as TickNumericColumn] = Number.NaN;
      r[`ask_volume${i}` as TickNumericColumn] = 0;
    }

    // Act + Assess
    expect(isTrueL5Row(Float64Array.from(TICK_NUMERIC_COLUMNS, (c) => r[c] ?? 0))).toBe(true);
    expect(isTrueL5(accessor(r))).toBe(true);
  });

  it.each([
    ['level 3 missing on both sides', { bid_price3: 0, ask_price3: Number.NaN }],
    ['level 5 bid price without volume and ask absent', { bid_volume5: 0, ask_price5: Number.NaN }],
    ['level 4 bid volume NaN, ask volume 0', { bid_volume4: Number.NaN, ask_volume4: 0 }],
    ['level 2 negative prices', { bid_price2: -1, ask_price2: -1 }],
  ])('rejects a book with %s', (_label, patch) => {
    // Prepare
    const r = { ...fullBook(), ...patch };

    // Act + Assess
    expect(isTrueL5Row(positional(r))).toBe(false);
    expect(isTrueL5(accessor(r))).toBe(false);
  });

  it('ignores level 1 (an L1-only row is not L5 under either rule)', () => {
    const r: Row = { bid_price1: 1, bid_volume1: 1, ask_price1: 2, ask_volume1: 1 };
    expect(isTrueL5Row(positional(r))).toBe(false);
    expect(isAnyDepthL5Row(positional(r))).toBe(false);
  });

  it('maps rule ids to predicates and refuses a wrong value count', () => {
    expect(l5RowPredicate(L5_RULE)).toBe(isTrueL5Row);
    expect(l5RowPredicate(LEGACY_L5_RULE)).toBe(isAnyDepthL5Row);
    expect(() => isTrueL5Row(new Float64Array(26))).toThrow(/expected 27 values/);
  });
});
