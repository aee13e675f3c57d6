/**
 * The true-L5 row filter of main_l5 (data-chain §5.3). A row is true-L5 iff for **every** level i ∈ {2,3,4,5}
 * (`bid_price{i}` > 0 and `bid_volume{i}` > 0) or (`ask_price{i}` > 0 and `ask_volume{i}` > 0); NaN (and any
 * non-number) is absent. "Either side" keeps limit-up / limit-down ticks, where one side of the book is legitimately
 * empty. The predecessor's `l5_any_depth_v1` kept a row when **any** of the 16 level-2..5 cells was > 0; it is kept
 * here only to verify legacy datasets with their own rule (§6.8), never to build.
 */
import { TICK_NUMERIC_COLUMN_COUNT, type TickNumericColumn } from '../tick-columns.ts';
import { MainL5InputError } from './errors.ts';

/** Rule id of the strict filter; recorded on every `ghtrader_main_l5_builds_v2` row. */
export const L5_RULE = 'l5_levels_2_5_v2';
/** Rule id of the predecessor's permissive filter (legacy datasets only). */
export const LEGACY_L5_RULE = 'l5_any_depth_v1';

export type L5RuleId = typeof L5_RULE | typeof LEGACY_L5_RULE;
export const L5_RULES: readonly L5RuleId[] = [L5_RULE, LEGACY_L5_RULE];

/**
 * Positions (in §2.1 / `TICK_NUMERIC_COLUMNS` order) of level i's `bid_price`, `bid_volume`, `ask_price`,
 * `ask_volume`: 7 + 4·(i − 1) + {0, 1, 2, 3}.
 */
function levelBase(level: number): number {
  return 7 + 4 * (level - 1);
}

const positive = (v: number): boolean => v > 0; // NaN > 0 is false: absent

/**
 * Strict rule `l5_levels_2_5_v2` over a row of the 27 numeric values in `TICK_NUMERIC_COLUMNS` order (a scratch
 * `Float64Array` on the hot path). Values must be numbers; NaN is absent.
 */
export function isTrueL5Row(values: ArrayLike<number>): boolean {
  if (values.length !== TICK_NUMERIC_COLUMN_COUNT)
    throw new MainL5InputError(`expected 27 values, got ${values.length}`);
  for (let level = 2; level <= 5; level++) {
    const b = levelBase(level);
    const bid = positive(values[b] as number) && positive(values[b + 1] as number);
    const ask = positive(values[b + 2] as number) && positive(values[b + 3] as number);
    if (!bid && !ask) return false;
  }
  return true;
}

/** Legacy rule `l5_any_depth_v1` over a row in `TICK_NUMERIC_COLUMNS` order: any level-2..5 cell > 0. */
export function isAnyDepthL5Row(values: ArrayLike<number>): boolean {
  if (values.length !== TICK_NUMERIC_COLUMN_COUNT)
    throw new MainL5InputError(`expected 27 values, got ${values.length}`);
  for (let i = levelBase(2); i < TICK_NUMERIC_COLUMN_COUNT; i++) if (positive(values[i] as number)) return true;
  return false;
}

const SIDES = ['bid', 'ask'] as const;

function cell(get: (col: TickNumericColumn) => number, col: TickNumericColumn): boolean {
  const v = get(col);
  return typeof v === 'number' && v > 0;
}

/** Strict rule `l5_levels_2_5_v2` over a row given by an accessor (`null`/`undefined`/NaN read as absent). */
export function isTrueL5(get: (col: TickNumericColumn) => number): boolean {
  for (const level of [2, 3, 4, 5] as const) {
    const ok = SIDES.some((side) => cell(get, `${side}_price${level}`) && cell(get, `${side}_volume${level}`));
    if (!ok) return false;
  }
  return true;
}

/** Legacy rule `l5_any_depth_v1` over a row given by an accessor (SQL twin: `OR` of `coalesce(col, 0) > 0`). */
export function isAnyDepthL5(get: (col: TickNumericColumn) => number): boolean {
  for (const level of [2, 3, 4, 5] as const) {
    for (const side of SIDES) {
      if (cell(get, `${side}_price${level}`) || cell(get, `${side}_volume${level}`)) return true;
    }
  }
  return false;
}

/** The positional predicate of a rule id (verification of legacy data uses the rule recorded with it). */
export function l5RowPredicate(rule: L5RuleId): (values: ArrayLike<number>) => boolean {
  if (rule === L5_RULE) return isTrueL5Row;
  if (rule === LEGACY_L5_RULE) return isAnyDepthL5Row;
  throw new MainL5InputError(`unknown l5 rule ${JSON.stringify(rule)}`);
}
