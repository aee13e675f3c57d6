/**
 * Which stored rows count for validation (data-chain §6.3 "rows of the dataset's L5 rule only"): the rule a dataset
 * was built with, `l5_levels_2_5_v2` (§5.3) for ghtrader builds, `l5_any_depth_v1` for legacy datasets (§6.8).
 * The rules are those of `main-l5/l5-rule.ts`, applied column-wise here (one pass per day, no row copies).
 */
import { isAnyDepthL5, isTrueL5, L5_RULE, type L5RuleId } from '../main-l5/l5-rule.ts';
import { TICK_NUMERIC_COLUMNS, type TickNumericColumn } from '../tick-columns.ts';

export type { L5RuleId } from '../main-l5/l5-rule.ts';

const col = (name: (typeof TICK_NUMERIC_COLUMNS)[number]): number => TICK_NUMERIC_COLUMNS.indexOf(name);

/** Column indexes of levels 2..5: [bid_price, bid_volume, ask_price, ask_volume] per level. */
const LEVELS_2_5: readonly (readonly [number, number, number, number])[] = [2, 3, 4, 5].map(
  (i) =>
    [
      col(`bid_price${i}` as never),
      col(`bid_volume${i}` as never),
      col(`ask_price${i}` as never),
      col(`ask_volume${i}` as never),
    ] as const,
);

/**
 * 1 for each row its rule keeps, else 0. `l5_levels_2_5_v2`: for every level 2..5, (bid price > 0 and bid volume > 0)
 * or (ask price > 0 and ask volume > 0). `l5_any_depth_v1`: any of the 16 level-2..5 cells > 0.
 */
export function l5RowMask(values: readonly Float64Array[], rows: number, rule: L5RuleId): Uint8Array {
  const mask = new Uint8Array(rows);
  if (rule === L5_RULE) {
    // Start with every row kept; each level clears the rows where neither side is complete.
    mask.fill(1);
    for (const [bpI, bvI, apI, avI] of LEVELS_2_5) {
      const bp = values[bpI] as Float64Array;
      const bv = values[bvI] as Float64Array;
      const ap = values[apI] as Float64Array;
      const av = values[avI] as Float64Array;
      for (let r = 0; r < rows; r++) {
        if (!(((bp[r] as number) > 0 && (bv[r] as number) > 0) || ((ap[r] as number) > 0 && (av[r] as number) > 0))) {
          mask[r] = 0;
        }
      }
    }
    return mask;
  }
  for (const cells of LEVELS_2_5) {
    for (const i of cells) {
      const c = values[i] as Float64Array;
      for (let r = 0; r < rows; r++) if ((c[r] as number) > 0) mask[r] = 1;
    }
  }
  return mask;
}

/** The same rule on one row given by column name (a provider `TickRow`); absent or NaN cells are absent. */
export function isL5Record(row: object, rule: L5RuleId): boolean {
  const get = (c: TickNumericColumn): number => (row as Record<string, number>)[c] as number;
  return rule === L5_RULE ? isTrueL5(get) : isAnyDepthL5(get);
}
