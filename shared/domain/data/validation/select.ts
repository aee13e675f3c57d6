/**
 * Order statistics without sorting (validation §6.3/§6.4 per-day medians and percentiles): a day has ~55,000 ticks and
 * a year ~245 days, so the per-day sorts were a visible share of the validation time.
 */

/**
 * Median of `xs` (no NaN in it): the value a sorted copy holds at the middle (the mean of the two middle values for
 * an even count), found by selection in linear time instead of sorting. NaN when `xs` is empty.
 */
export function median(xs: Float64Array): number {
  const n = xs.length;
  if (n === 0) return Number.NaN;
  const s = xs.slice();
  const m = n >> 1;
  select(s, m);
  if (n % 2 === 1) return s[m] as number;
  // After selecting m, s[0..m) holds the m smallest values: the lower middle is their maximum.
  let lower = s[0] as number;
  for (let i = 1; i < m; i++) if ((s[i] as number) > lower) lower = s[i] as number;
  return (lower + (s[m] as number)) / 2;
}

/**
 * Rearrange `a[from..to]` so that `a[k]` holds the value a sorted copy would hold there, with smaller-or-equal values
 * before it and greater-or-equal after (Hoare selection, linear on average). No NaN in the range.
 */
export function select(a: Float64Array, k: number, from = 0, to = a.length - 1): void {
  let lo = from;
  let hi = to;
  while (hi > lo) {
    // Median of three as pivot keeps sorted and reversed inputs linear.
    const mid = (lo + hi) >> 1;
    const x = a[lo] as number;
    const y = a[mid] as number;
    const z = a[hi] as number;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/**
 * The values a sorted copy of `a` would hold at `ranks` (ascending indexes), found by successive selections; `a` is
 * rearranged. Each selection narrows the next to the part right of the previous rank.
 */
export function selectRanks(a: Float64Array, ranks: readonly number[]): number[] {
  const out: number[] = [];
  let from = 0;
  for (const k of ranks) {
    if (k < from - 1 || k >= a.length) throw new RangeError(`rank ${k} out of order or out of [0, ${a.length})`);
    if (k >= from) {
      select(a, k, from);
      from = k + 1;
    }
    out.push(a[k] as number);
  }
  return out;
}
