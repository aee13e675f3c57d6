/**
 * Provider check of missing segments (data-chain §6.3): with the underlying's own L5 ticks of the day in hand, a
 * segment is `provider_has_data` iff some tick lies in [start, end + 1 s), else `provider_missing`. Pure.
 */
import type { GapSegment } from './day-stats.ts';

export interface SegmentCheckResult {
  checked: number;
  provider_missing: number;
  provider_has_data: number;
}

/**
 * Marks (in place) up to `maxSegments` of `segments` from `tickNs` (epoch ns of the provider's L5 ticks, any order).
 * An empty `tickNs` marks every checked segment `provider_missing`.
 */
export function markSegments(
  segments: GapSegment[],
  tickNs: readonly bigint[],
  maxSegments: number,
): SegmentCheckResult {
  const sorted = [...tickNs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: SegmentCheckResult = { checked: 0, provider_missing: 0, provider_has_data: 0 };
  for (const seg of segments) {
    if (out.checked >= maxSegments) break;
    const from = BigInt(seg.start_s) * 1_000_000_000n;
    const to = BigInt(seg.end_s + 1) * 1_000_000_000n;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as bigint) < from) lo = mid + 1;
      else hi = mid;
    }
    const has = lo < sorted.length && (sorted[lo] as bigint) < to;
    seg.tqsdk_status = has ? 'provider_has_data' : 'provider_missing';
    out.checked++;
    if (has) out.provider_has_data++;
    else out.provider_missing++;
  }
  return out;
}
