/**
 * Historical tick download (market-protocol §1.9), exactly:
 * 1. `set_chart` with `duration:0, view_width:2000, focus_datetime:<start_ns>, focus_position:0`;
 * 2. wait until state ⊇ request and ready; `left_id == -1` → the day has no data: finish with zero rows;
 * 3. walk ids from `max(left_id, 0)` to `right_id`; stop the whole download at the first row whose `datetime` > end or
 *    that is missing; emit the page (≤ 2,000 rows);
 * 4. otherwise resend the SAME chart_id with `view_width:2000, left_kline_id:<right_id + 1>` (focus fields removed)
 *    and continue at 2; also finish when `right_id == ticks/<sym>/last_id` after the walk;
 * 5. always release the chart with `ins_list:""` (also on error or when the consumer stops early).
 * Emitted ids increase by exactly one and every row's trading day (shared calendar) equals `tradingDay`; anything
 * else is a `DataIntegrityError`. Window: 18:00 CST of the previous trading day to 18:00 CST of `tradingDay` − 1 ns.
 *
 * Rows are emitted as received (NaN fields included): the data chain's validation gate judges values; dropping a
 * row here would break id contiguity.
 */
import type { TickRow } from '#shared/domain/market/ports.ts';
import { tradingDayEndNs, tradingDayOf, tradingDayStartNs } from '#shared/domain/market/sessions.ts';
import { parseAnySymbol } from '#shared/domain/market/symbols.ts';
import { DataIntegrityError, DiffConfigError } from '#shared/errors/diff.ts';
import { requireFeature } from './auth.ts';
import { type ChartRequest, rowOf } from './chart.ts';
import type { DiffMarket, MarketTokens } from './market.ts';
import { tickRowView } from './views.ts';

export const DOWNLOAD_PAGE = 2_000;

/** `YYYYMMDD` or `YYYY-MM-DD` → `YYYY-MM-DD` (the calendar's form). */
export function isoDay(day: string): string {
  if (/^\d{8}$/.test(day)) return `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(day)) return day;
  throw new DiffConfigError(`expected a trading day YYYYMMDD, found ${JSON.stringify(day)}`);
}

/** `YYYY-MM-DD` or `YYYYMMDD` → `YYYYMMDD` (the port's and the wire's form). */
export function compactDay(day: string): string {
  return isoDay(day).replaceAll('-', '');
}

export interface DownloadOptions {
  /** Deadline for each page's readiness (default: the client's ready timeout). */
  pageTimeoutMs?: number;
}

/** Pages of one contract-day's ticks; see the file comment for the exact algorithm. */
export async function* downloadTicks(
  market: DiffMarket,
  tokens: MarketTokens,
  symbol: string,
  tradingDay: string,
  pageTimeoutMs: number,
): AsyncGenerator<TickRow[], void, undefined> {
  requireFeature(await tokens.claims(), 'tq_dl');
  const day = isoDay(tradingDay);
  const compact = compactDay(day);
  const cal = market.calendar;
  const any = parseAnySymbol(symbol);
  const variety = any.kind === 'contract' ? any.contract.variety : any.variety;
  if (!cal.isTradingDay(day)) return;
  const startNs = tradingDayStartNs(cal, day);
  const endNs = tradingDayEndNs(cal, day) - 1n;

  const base: ChartRequest = { symbol, duration: 0n, viewWidth: DOWNLOAD_PAGE };
  const chart = market.setChart({ ...base, focusDatetime: startNs, focusPosition: 0 }, 'dl');
  let expectNext: number | undefined;
  try {
    for (;;) {
      const view = await market.wait(() => (chart.ready() ? chart.view() : undefined), {
        timeoutMs: pageTimeoutMs,
        what: `downloadTicks(${symbol}, ${compact}) page`,
        details: { symbol, trading_day: compact, chart_id: chart.chartId },
      });
      if (view === undefined || view.left_id === -1) return;
      const page: TickRow[] = [];
      let stop = false;
      const rows = chart.rows();
      for (let id = Math.max(view.left_id, 0); id <= view.right_id; id++) {
        const node = rowOf(rows, id);
        const row = node === undefined ? null : tickRowView(symbol, id, node, compact);
        if (row === null || row.datetime > endNs) {
          stop = true;
          break;
        }
        if (expectNext !== undefined && id !== expectNext) {
          throw new DataIntegrityError(`downloadTicks(${symbol}, ${compact}): expected id ${expectNext}, found ${id}`, {
            symbol,
            trading_day: compact,
            expected_id: expectNext,
            found_id: id,
          });
        }
        const td = tradingDayOf(cal, row.datetime, 'SHFE', variety).trading_day;
        if (td !== day) {
          throw new DataIntegrityError(
            `downloadTicks(${symbol}, ${compact}): tick ${id} belongs to trading day ${td}, not ${day}`,
            { symbol, trading_day: compact, id, row_trading_day: td },
          );
        }
        expectNext = id + 1;
        page.push(row);
      }
      if (page.length > 0) yield page;
      if (stop || view.right_id === chart.lastId()) return;
      chart.update({ ...base, leftKlineId: view.right_id + 1 });
    }
  } finally {
    chart.release();
  }
}
