/** Key rules shared by the DIFF JSON parsers (`json.ts`, `json-exact.ts`). */

/** Keys whose integer values are epoch nanoseconds (or ns durations) and therefore always `bigint`. */
export const NS_KEYS: ReadonlySet<string> = new Set([
  'datetime',
  'insert_date_time',
  'trade_date_time',
  'expire_datetime',
  'focus_datetime',
  'trading_day_start',
  'trading_day_count',
]);

/** True when an integer under `key` must be a `bigint` (the listed ns keys and any `*_dt`). */
export function isNsKey(key: string): boolean {
  return NS_KEYS.has(key) || key.endsWith('_dt');
}

/** ±(2^53−1) as a bigint: integers beyond it cannot be a JS number exactly. */
export const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
