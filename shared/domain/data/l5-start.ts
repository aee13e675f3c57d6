/**
 * The L5 start probe (data-chain §5.7), pure parts: which contracts to probe in which order, over which window of
 * trading days, and the search for the first day with a true-L5 row (the caller downloads). Contracts are ordered by
 * the date their `YYMM` implies (`yy < 70` ⇒ 20yy; unparsable ⇒ 2099-01-01; the provider sends no open date), each
 * probed over [max(2010-01-01, Jan 1 of end − 3 y, the calendar's first day), expiry or the requested end]: the last
 * day first (no L5 there ⇒ the next contract), then a binary search for the first day with L5. First hit wins.
 */
import type { ContractInfo } from '../market/ports.ts';

export const L5_START_EARLIEST = '2010-01-01';
const NO_DATE = '2099-01-01';

/** `SHFE.cu2505` / `cu2505` → `2025-05-01`; null when the symbol ends in no `YYMM`. */
export function yymmDate(symbol: string): string | null {
  const m = /(\d{2})(\d{2})$/.exec(symbol);
  if (!m) return null;
  const yy = Number(m[1]);
  const mm = Number(m[2]);
  if (mm < 1 || mm > 12) return null;
  return `${yy < 70 ? 2000 + yy : 1900 + yy}-${String(mm).padStart(2, '0')}-01`;
}

export interface ProbeContract {
  /** `SHFE.cu2505`. */
  symbol: string;
  order_date: string;
  window_start: string;
  window_end: string;
}

/**
 * The contracts to probe, in order, each with its window (ISO days). `expiryDay` maps a contract to the CST day of
 * its expiry (null when unknown); `endDay` is the requested end (the last day that may be probed); `earliest` is the
 * first day the calendar covers. Contracts whose window is empty are left out.
 */
export function probeContracts(
  contracts: readonly ContractInfo[],
  endDay: string,
  earliest: string,
  expiryDay: (c: ContractInfo) => string | null,
): ProbeContract[] {
  const out: ProbeContract[] = [];
  for (const c of contracts) {
    const symbol = c.instrument_id.includes('.') ? c.instrument_id : `${c.exchange_id}.${c.instrument_id}`;
    const expiry = expiryDay(c);
    const windowEnd = expiry !== null && expiry < endDay ? expiry : endDay;
    const threeYears = `${Number(windowEnd.slice(0, 4)) - 3}-01-01`;
    const windowStart = [L5_START_EARLIEST, threeYears, earliest].sort().at(-1) as string;
    if (windowStart > windowEnd) continue;
    out.push({ symbol, order_date: yymmDate(symbol) ?? NO_DATE, window_start: windowStart, window_end: windowEnd });
  }
  return out.sort((a, b) =>
    a.order_date !== b.order_date ? (a.order_date < b.order_date ? -1 : 1) : a.symbol < b.symbol ? -1 : 1,
  );
}

/**
 * The first of `days` (ascending) for which `hasL5` holds, assuming once a contract has L5 it keeps it: the last day
 * first (false ⇒ null), then a binary search. `probes` counts the calls.
 */
export async function firstL5Day(
  days: readonly string[],
  hasL5: (day: string) => Promise<boolean>,
): Promise<{ day: string | null; probes: number }> {
  let probes = 0;
  const probe = async (i: number) => {
    probes++;
    return hasL5(days[i] as string);
  };
  if (days.length === 0) return { day: null, probes };
  let hi = days.length - 1; // known to have L5
  if (!(await probe(hi))) return { day: null, probes };
  let lo = -1; // known to have none (or before the window)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await probe(mid)) hi = mid;
    else lo = mid;
  }
  return { day: days[hi] as string, probes };
}
