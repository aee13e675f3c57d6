/**
 * Text of the Market page, shared by the server render (`pages/market.tsx`) and the browser client
 * (`client/market.ts`) so the first paint and every poll read the same. Pure; no DOM, no imports at run time.
 * Exchange time is Asia/Shanghai (UTC+8, no DST), computed by fixed offset, never from the viewer's time zone.
 */
import type { MarketPointJson } from '../routes/api-market.ts';

const CST_OFFSET_MS = 8 * 3_600_000;

/** A price with the contract's decimals, or an em dash when the provider had none. */
export function fmtPrice(v: number | null | undefined, decs: number): string {
  return v === null || v === undefined ? '—' : v.toFixed(decs);
}

/** A volume or open interest (lots), grouped by thousands, or an em dash. */
export function fmtLots(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : Math.round(v).toLocaleString('en-US');
}

/** Epoch ms of a decimal epoch-ns string. */
export function nsToMs(ns: string): number {
  return Number(BigInt(ns) / 1_000_000n);
}

/** `HH:MM:SS.mmm` exchange time of a decimal epoch-ns string. */
export function cstClock(ns: string): string {
  return cstClockOfMs(nsToMs(ns));
}

/** `HH:MM:SS.mmm` exchange time of epoch milliseconds. */
export function cstClockOfMs(ms: number): string {
  const d = new Date(ms + CST_OFFSET_MS);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
}

/** The chart's text alternative: last, min and max of the last price over the window, and its time span. */
export function chartSummary(points: readonly MarketPointJson[], decs: number): string {
  const lasts = points.map((p) => p[1]).filter((v): v is number => v !== null);
  const first = points[0];
  const newest = points[points.length - 1];
  if (lasts.length === 0 || !first || !newest) return 'No ticks yet.';
  const last = lasts[lasts.length - 1] as number;
  const span = `${cstClock(first[0])}–${cstClock(newest[0])} CST`;
  return (
    `Last price ${fmtPrice(last, decs)}; min ${fmtPrice(Math.min(...lasts), decs)}, ` +
    `max ${fmtPrice(Math.max(...lasts), decs)} over the last ${points.length} ticks (${span}).`
  );
}
