/**
 * The Data page's coverage calendar as a plain model (years -> months -> day cells), shared by the server render
 * (`web/pages/data.tsx`) and the client refresh (`web/client/data.ts`) so both draw the same cells. Every state has
 * its own glyph and text (never colour alone); stored days also carry an intensity level by row count.
 */
import type { CoverageDay, CoverageView, DataOverview, DayState, Section } from '#shared/services/data/data-view.ts';

export type CellState = DayState | 'non_trading' | 'outside';

export const CELL_STATES: Readonly<Record<CellState, { glyph: string; text: string }>> = {
  complete: { glyph: '■', text: 'complete' },
  partial: { glyph: '◐', text: 'partial (gaps found by validation)' },
  invalid: { glyph: '⚠', text: 'invalid (schedule lineage)' },
  missing: { glyph: '✖', text: 'scheduled, no ticks stored' },
  pending: { glyph: '◷', text: 'scheduled, not built yet' },
  unscheduled: { glyph: '?', text: 'trading day outside the schedule' },
  non_trading: { glyph: '·', text: 'no trading' },
  outside: { glyph: '', text: 'outside the range' },
};

/** Legend order (the states a trading day can have, then non-trading). */
export const LEGEND: readonly CellState[] = [
  'complete',
  'partial',
  'invalid',
  'missing',
  'pending',
  'unscheduled',
  'non_trading',
];

export interface HeatCell {
  day: string;
  state: CellState;
  glyph: string;
  /** Intensity 1–4 by rows relative to the busiest day; 0 for days without ticks. */
  level: number;
  /** Accessible name and tooltip: day, state, rows. Empty for `outside` cells (hidden from assistive tech). */
  label: string;
}

export interface HeatMonth {
  /** `YYYY-MM`. */
  month: string;
  label: string;
  /** Weekday column of the 1st (0 = Monday … 6 = Sunday). */
  offset: number;
  cells: HeatCell[];
}

export interface HeatYear {
  year: string;
  months: HeatMonth[];
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const MS_PER_DAY = 86_400_000;

const isoOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const msOf = (day: string) => Date.parse(`${day}T00:00:00Z`);

/** `12345` -> `12,345` (fixed grouping, independent of the viewer's locale). */
export function fmtCount(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function cellLabel(d: CoverageDay): string {
  const parts = [`${d.trading_day}: ${CELL_STATES[d.state].text}`, `${fmtCount(d.rows)} rows`];
  if (d.main_contract) parts.push(d.main_contract);
  if (d.reason) parts.push(d.reason);
  return parts.join(', ');
}

function level(rows: number, max: number): number {
  if (rows <= 0 || max <= 0) return 0;
  return Math.min(4, Math.max(1, Math.ceil((rows / max) * 4)));
}

/** Whole calendar months from the first to the last listed day; dates not listed inside the range are non-trading. */
export function heatMap(cov: CoverageView): HeatYear[] {
  const byDay = new Map(cov.days.map((d) => [d.trading_day, d]));
  const years: HeatYear[] = [];
  const first = msOf(cov.first_day);
  const last = msOf(cov.last_day);
  const start = new Date(first);
  let y = start.getUTCFullYear();
  let m = start.getUTCMonth();
  const endDate = new Date(last);
  const endKey = endDate.getUTCFullYear() * 12 + endDate.getUTCMonth();
  while (y * 12 + m <= endKey) {
    const monthStart = Date.UTC(y, m, 1);
    const daysInMonth = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    const cells: HeatCell[] = [];
    for (let i = 0; i < daysInMonth; i++) {
      const ms = monthStart + i * MS_PER_DAY;
      const day = isoOf(ms);
      const d = byDay.get(day);
      if (d) {
        cells.push({
          day,
          state: d.state,
          glyph: CELL_STATES[d.state].glyph,
          level: level(d.rows, cov.max_day_rows),
          label: cellLabel(d),
        });
      } else if (ms < first || ms > last) {
        cells.push({ day, state: 'outside', glyph: '', level: 0, label: '' });
      } else {
        cells.push({
          day,
          state: 'non_trading',
          glyph: CELL_STATES.non_trading.glyph,
          level: 0,
          label: `${day}: no trading`,
        });
      }
    }
    const month: HeatMonth = {
      month: `${y}-${String(m + 1).padStart(2, '0')}`,
      label: `${MONTHS[m]} ${y}`,
      offset: (new Date(monthStart).getUTCDay() + 6) % 7,
      cells,
    };
    const year = years[years.length - 1];
    if (year && year.year === String(y)) year.months.push(month);
    else years.push({ year: String(y), months: [month] });
    m++;
    if (m === 12) {
      m = 0;
      y++;
    }
  }
  return years;
}

/** The heat map's text alternative: range and the count per state. */
export function coverageSummary(cov: CoverageView): string {
  const parts = LEGEND.filter((s) => s !== 'non_trading' && cov.counts[s as DayState] > 0).map(
    (s) => `${cov.counts[s as DayState]} ${CELL_STATES[s].text}`,
  );
  return (
    `${cov.first_day} to ${cov.last_day}: ${cov.scheduled_days} scheduled days, ${cov.stored_days} with ticks ` +
    `(${fmtCount(cov.rows_total)} rows), ${cov.validated_days} validated. ${parts.join('; ')}.`
  );
}

/** Days worth a look (everything but complete), for the table view. */
export function problemDays(cov: CoverageView): CoverageDay[] {
  return cov.days.filter((d) => d.state !== 'complete');
}

/** What the client compares on refresh to say "newer results are available". */
export function overviewSignature(o: DataOverview): string {
  const part = <T>(s: Section<T>, pick: (d: T) => string | null) =>
    s.status === 'ok' ? (pick(s.data) ?? '') : s.status;
  return [
    part(o.schedule, (d) => d.schedule_hash),
    part(o.schedule_run, (d) => d.created_at),
    part(o.validation, (d) => d.created_at),
    part(o.build, (d) => d.build_id),
  ].join('|');
}
