/**
 * Read models of the data endpoints for quants and CI (control-chain §3.2): coverage per day, schedule, validation
 * summary and gap days, the latest reports, and chart ticks. Each function takes the raw query (validated here with
 * zod: bad input is a 400 `validation_failed` naming the parameter) and answers plain JSON.
 *
 * Report-backed answers follow the section contract of `data-view.ts`: `status: ok` with `data`, `none` with a
 * `message` when the step has not run, `error` with the read's code and reason; never a 500 for an absent or
 * unreadable report.
 */
import * as z from 'zod';
import { parseOrThrow } from '../../domain/control/validation.ts';
import { type Variety, VarietySchema } from '../../domain/control/varieties.ts';
import { TABLES } from '../../domain/data/tick-columns.ts';
import { FIELD_QUALITY_REPORT_STEP } from '../../domain/data/validation/field-quality-report.ts';
import type { TradingCalendar } from '../../domain/market/calendar/calendar.ts';
import { CST_OFFSET_S, cstDayOf, floorSeconds, SECONDS_PER_DAY } from '../../domain/market/cst.ts';
import { parseAnySymbol } from '../../domain/market/symbols.ts';
import {
  aliasOfVariety,
  type CoverageDay,
  coverageSection,
  type DataViewDeps,
  type DayState,
  type GapDay,
  latestReportKeys,
  readReport,
  type ScheduleRunView,
  type ScheduleView,
  type Section,
  type SectionError,
  scheduleRunSection,
  scheduleSection,
  section,
  type ValidationView,
  validationSection,
} from './data-view.ts';

// ---------------------------------------------------------------------------------------------------------------
// Query parameters

const MS_PER_DAY = 86_400_000;
const NS_PER_DAY = 86_400_000_000_000n;
const INT64_MAX = 9_223_372_036_854_775_807n;

/** §3.1 limits: the default, the clamp bounds. */
export const LIMITS = {
  coverageRangeDays: { def: 366, min: 1, max: 3650 },
  validationSummaryDays: { def: 30, min: 1, max: 3650 },
  reports: { def: 5, min: 1, max: 50 },
  gaps: { def: 500, min: 1, max: 10_000 },
  maxPoints: { def: 2000, min: 100, max: 10_000 },
} as const;

/** A numeric limit: absent -> default, an integer -> clamped silently, anything else -> 400 (§3.1). */
function limitParam(name: string, l: { def: number; min: number; max: number }) {
  return z
    .string()
    .regex(/^-?\d{1,12}$/, `${name} must be an integer (${l.min}..${l.max}, default ${l.def})`)
    .optional()
    .transform((v) => (v === undefined ? l.def : Math.min(l.max, Math.max(l.min, Number(v)))));
}

const varParam = VarietySchema.describe('var');
const DayParam = z.iso.date({ error: 'must be a date YYYY-MM-DD' });

const VarQuery = z.object({ var: varParam });

const CoverageQuery = z
  .object({ var: varParam, from: DayParam.optional(), to: DayParam.optional() })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    error: 'from must not be after to',
    path: ['from'],
  })
  .refine((q) => q.from === undefined || q.to === undefined || spanDays(q.from, q.to) <= LIMITS.coverageRangeDays.max, {
    error: `the range may span at most ${LIMITS.coverageRangeDays.max} days`,
    path: ['to'],
  });

const ValidationSummaryQuery = z.object({
  var: varParam,
  days: limitParam('days', LIMITS.validationSummaryDays),
});
const GapsQuery = z.object({ var: varParam, limit: limitParam('limit', LIMITS.gaps) });
const ReportsQuery = z.object({ var: varParam, limit: limitParam('limit', LIMITS.reports) });

const NsParam = z.string().transform((v, ctx) => {
  const ns = /^\d{1,19}$/.test(v) ? BigInt(v) : null;
  if (ns === null || ns > INT64_MAX) {
    ctx.addIssue({ code: 'custom', message: 'must be epoch nanoseconds as a decimal string (0..2^63-1)' });
    return z.NEVER;
  }
  return ns;
});

/** Longest chart range (§3.2: ≤ 7 days). */
export const MAX_TICK_RANGE_NS = 7n * NS_PER_DAY;

const TicksQuery = z
  .object({
    symbol: z.string().transform((s, ctx) => {
      try {
        return { text: s, parsed: parseAnySymbol(s) };
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a continuous alias KQ.m@SHFE.<cu|au|ag> or a contract SHFE.<cu|au|ag><YYMM>',
        });
        return z.NEVER;
      }
    }),
    from_ns: NsParam,
    to_ns: NsParam,
    max_points: limitParam('max_points', LIMITS.maxPoints),
  })
  .refine((q) => q.from_ns <= q.to_ns, { error: 'from_ns must not be after to_ns', path: ['from_ns'] })
  .refine((q) => q.to_ns - q.from_ns <= MAX_TICK_RANGE_NS, {
    error: 'the range may span at most 7 days (604800000000000 ns)',
    path: ['to_ns'],
  });

/** Calendar days from `from` to `to`, both included. */
function spanDays(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / MS_PER_DAY) + 1;
}

const addDays = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * MS_PER_DAY).toISOString().slice(0, 10);

type WithVar<T> = { var: Variety; symbol: string } & T;

// ---------------------------------------------------------------------------------------------------------------
// Coverage

/**
 * A day's status. The view's states pass through, plus `non_trading` for a weekend or holiday inside the listed
 * range. The view's `unscheduled` is NOT `non_trading`: it is a trading day with neither a schedule row nor ticks
 * (a hole in the schedule), so it keeps its own name.
 */
export type CoverageStatus = DayState | 'non_trading';

/** How a validated day fared: clean, `> 30 s` gaps found, or no in-session tick at all. */
export type DayValidationState = 'ok' | 'gap_gt30' | 'missing_day';

export interface CoverageApiDay {
  trading_day: string;
  status: CoverageStatus;
  rows: number;
  main_contract?: string;
  /** Longest gap in seconds the validation found (validated days only). */
  gap_s?: number;
  validation_state?: DayValidationState;
  /** Why the day is `invalid` or `partial`. */
  reason?: string;
}

export type CoverageResponse = WithVar<{
  /** The range answered (inclusive); null when nothing is listed. */
  from: string | null;
  to: string | null;
  status: 'ok' | 'none' | 'error';
  message?: string;
  error?: SectionError;
  days: CoverageApiDay[];
}>;

function apiDay(d: CoverageDay): CoverageApiDay {
  const out: CoverageApiDay = { trading_day: d.trading_day, status: d.state, rows: d.rows };
  if (d.main_contract !== null) out.main_contract = d.main_contract;
  if (d.validation) {
    if (d.validation.max_gap_s !== null) out.gap_s = d.validation.max_gap_s;
    out.validation_state = d.validation.missing_day
      ? 'missing_day'
      : (d.validation.gap_count_gt_30 ?? 0) > 0
        ? 'gap_gt30'
        : 'ok';
  }
  if (d.reason !== null) out.reason = d.reason;
  return out;
}

/** Non-trading dates of `[from, to]` the calendar can vouch for (inside its coverage). */
function nonTradingDays(calendar: TradingCalendar, from: string, to: string): string[] {
  const lo = from < calendar.covers.from ? calendar.covers.from : from;
  const hi = to > calendar.covers.to ? calendar.covers.to : to;
  const out: string[] = [];
  for (let d = lo; d <= hi; d = addDays(d, 1)) if (!calendar.isTradingDay(d)) out.push(d);
  return out;
}

/**
 * `GET /api/data/coverage?var&from&to`: the coverage view's days inside `[from, to]` (default: the 366 days ending at
 * the last listed day; `from` alone: 366 days from it; `to` alone: 366 days up to it), with weekends and holidays
 * inside the listed range as `non_trading`.
 */
export async function coverageDays(deps: DataViewDeps, query: unknown): Promise<CoverageResponse> {
  const q = parseOrThrow(CoverageQuery, query, 'coverage query');
  const variety = q.var;
  const head = { var: variety, symbol: aliasOfVariety(variety) };
  const sched = await scheduleSection(deps, variety);
  const cov = await coverageSection(deps, variety, sched);
  if (cov.status !== 'ok') return { ...head, from: q.from ?? null, to: q.to ?? null, ...cov, days: [] };
  const span = LIMITS.coverageRangeDays.def - 1;
  const to = q.to ?? (q.from !== undefined ? addDays(q.from, span) : cov.data.last_day);
  const from = q.from ?? addDays(to, -span);
  const listed = cov.data.days.filter((d) => d.trading_day >= from && d.trading_day <= to).map(apiDay);
  const lo = from > cov.data.first_day ? from : cov.data.first_day;
  const hi = to < cov.data.last_day ? to : cov.data.last_day;
  const closed: CoverageApiDay[] =
    lo <= hi
      ? nonTradingDays(deps.calendar, lo, hi).map((d) => ({ trading_day: d, status: 'non_trading', rows: 0 }))
      : [];
  const days = [...listed, ...closed].sort((a, b) => (a.trading_day < b.trading_day ? -1 : 1));
  return { ...head, from, to, status: 'ok', days };
}

// ---------------------------------------------------------------------------------------------------------------
// Schedule, validation

export type ScheduleResponse = WithVar<Section<ScheduleView> & { run: Section<ScheduleRunView> }>;

/** `GET /api/data/schedule?var`: the stored schedule (segments, rolls) and the last `data.schedule` run. */
export async function scheduleDetail(deps: DataViewDeps, query: unknown): Promise<ScheduleResponse> {
  const { var: variety } = parseOrThrow(VarQuery, query, 'schedule query');
  const [sched, run] = await Promise.all([
    scheduleSection(deps, variety),
    section(() => scheduleRunSection(deps, variety)),
  ]);
  const body: Section<ScheduleView> = sched.status === 'ok' ? { status: 'ok', data: sched.data.view } : sched;
  return { var: variety, symbol: aliasOfVariety(variety), ...body, run };
}

/** One validated trading day: its row in `ghtrader_main_l5_validate_summary_v2` (the newest when re-validated). */
export interface ValidatedDay {
  trading_day: string;
  missing_day: boolean;
  missing_seconds_ratio: number | null;
  gap_count_gt_30: number | null;
  max_gap_s: number | null;
  schedule_hash: string | null;
}

/** The newest `days` validated trading days (newest first) and what they add up to. */
export interface RecentValidation {
  /** The window asked for (after clamping): at most this many validated days are listed. */
  days: number;
  /** Oldest and newest listed day; null when no day was validated. */
  from: string | null;
  to: string | null;
  validated_days: number;
  /** Listed days with neither a missing day nor a gap over 30 s. */
  clean_days: number;
  /** Listed days with at least one gap over 30 s. */
  gap_days: number;
  /** Listed days without any in-session tick. */
  missing_days: number;
  /** Longest gap over the listed days, seconds. */
  max_gap_s: number | null;
  items: ValidatedDay[];
}

export type ValidationSummary = Omit<ValidationView, 'top_gap_days'>;
export type ValidationSummaryResponse = WithVar<
  { days: number } & Section<ValidationSummary & { recent: RecentValidation }>
>;

const cellNum = (v: unknown): number | null => {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  return Number.isFinite(n) ? n : null;
};
const cellBig = (v: unknown): bigint =>
  typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(Math.trunc(v)) : 0n;

/**
 * The newest `days` validated trading days of `symbol` from the per-day validation summary table (one row per day;
 * a re-validated day keeps its newest row), newest first, with their totals.
 */
async function recentValidation(deps: DataViewDeps, symbol: string, days: number): Promise<RecentValidation> {
  const rows = await deps.store.readRows(TABLES.validateSummary.name, { symbol });
  const newest = new Map<string, { ts: bigint; row: (typeof rows)[number] }>();
  for (const row of rows) {
    const day = typeof row.trading_day === 'string' ? row.trading_day : null;
    if (day === null) continue;
    const ts = cellBig(row.ts);
    const seen = newest.get(day);
    if (!seen || ts >= seen.ts) newest.set(day, { ts, row });
  }
  const items: ValidatedDay[] = [...newest.entries()]
    .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
    .slice(0, days)
    .map(([trading_day, { row }]) => ({
      trading_day,
      missing_day: (cellNum(row.missing_day) ?? 0) > 0,
      missing_seconds_ratio: cellNum(row.missing_seconds_ratio),
      gap_count_gt_30: cellNum(row.gap_count_gt_30),
      max_gap_s: cellNum(row.max_gap_s),
      schedule_hash: typeof row.schedule_hash === 'string' && row.schedule_hash !== '' ? row.schedule_hash : null,
    }));
  const gaps = items.map((d) => d.max_gap_s).filter((g): g is number => g !== null);
  const hasGap = (d: ValidatedDay) => (d.gap_count_gt_30 ?? 0) > 0;
  return {
    days,
    from: items.at(-1)?.trading_day ?? null,
    to: items[0]?.trading_day ?? null,
    validated_days: items.length,
    clean_days: items.filter((d) => !d.missing_day && !hasGap(d)).length,
    gap_days: items.filter(hasGap).length,
    missing_days: items.filter((d) => d.missing_day).length,
    max_gap_s: gaps.length > 0 ? Math.max(...gaps) : null,
    items,
  };
}

/**
 * `GET /api/data/validation/summary?var&days`: the last validation report's verdict, layer states and counts, plus
 * `recent`: the newest `days` validated trading days (default 30, clamped into 1..3650, §3.1) from the per-day
 * validation summary table.
 */
export async function validationSummary(deps: DataViewDeps, query: unknown): Promise<ValidationSummaryResponse> {
  const { var: variety, days } = parseOrThrow(ValidationSummaryQuery, query, 'validation summary query');
  const head = { var: variety, symbol: aliasOfVariety(variety), days };
  const s = await section<ValidationSummary & { recent: RecentValidation }>(async () => {
    const report = await validationSection(deps, variety, 0);
    if (report.status !== 'ok') return report;
    const { top_gap_days: _omitted, ...data } = report.data;
    return { status: 'ok', data: { ...data, recent: await recentValidation(deps, head.symbol, days) } };
  });
  return { ...head, ...s };
}

export interface GapDays {
  issues_total: number;
  /** The report's issue days, worst first, at most `limit`. */
  items: GapDay[];
  report_uri: string;
}
export type GapDaysResponse = WithVar<{ limit: number } & Section<GapDays>>;

/** `GET /api/data/validation/gaps?var&limit`: the last validation report's gap days, worst first. */
export async function validationGaps(deps: DataViewDeps, query: unknown): Promise<GapDaysResponse> {
  const { var: variety, limit } = parseOrThrow(GapsQuery, query, 'validation gaps query');
  const s = await section(() => validationSection(deps, variety, limit));
  const head = { var: variety, symbol: aliasOfVariety(variety), limit };
  if (s.status !== 'ok') return { ...head, ...s };
  const { issues_total, top_gap_days, report_uri } = s.data;
  return { ...head, status: 'ok', data: { issues_total, items: top_gap_days, report_uri } };
}

// ---------------------------------------------------------------------------------------------------------------
// Reports

export interface ReportRef {
  key: string;
  uri: string;
}

export interface StepReports {
  /** `reports/<step>/<name>_latest.json`, or null when the step has not run. */
  latest: ReportRef | null;
  /** The newest timestamped reports, newest first, at most `limit`. */
  history: ReportRef[];
}

export type ReportStep = keyof ReturnType<typeof latestReportKeys>;
export type ReportsResponse = WithVar<{ limit: number; steps: Record<ReportStep, Section<StepReports>> }>;

/** `GET /api/data/reports?var&limit`: per step (schedule, build, validation) the latest report and its history. */
export async function latestReports(deps: DataViewDeps, query: unknown): Promise<ReportsResponse> {
  const { var: variety, limit } = parseOrThrow(ReportsQuery, query, 'reports query');
  const keys = latestReportKeys(variety);
  const read = (latestKey: string) =>
    section<StepReports>(async () => {
      const slash = latestKey.lastIndexOf('/');
      const dir = latestKey.slice(0, slash + 1);
      const stem = latestKey.slice(slash + 1, -'latest.json'.length);
      // Listed by folder (a local store lists folders only, S3 any prefix), then by the report's name.
      const all = (await deps.artifacts.list(dir)).filter((k) => k.startsWith(`${dir}${stem}`));
      const ref = (key: string): ReportRef => ({ key, uri: deps.artifacts.uri(key) });
      const latest = all.includes(latestKey) ? ref(latestKey) : null;
      const history = all
        .filter((k) => k !== latestKey && /^\d{8}T\d{9}_[^/]+\.json$/.test(k.slice(dir.length + stem.length)))
        .sort()
        .reverse()
        .slice(0, limit)
        .map(ref);
      if (latest === null && history.length === 0) return { status: 'none', message: `no report under ${dir}${stem}*` };
      return { status: 'ok', data: { latest, history } };
    });
  const [schedule, build, validation] = await Promise.all([
    read(keys.schedule),
    read(keys.build),
    read(keys.validation),
  ]);
  return { var: variety, symbol: aliasOfVariety(variety), limit, steps: { schedule, build, validation } };
}

// ---------------------------------------------------------------------------------------------------------------
// Ticks

/** `[ts_ns, last, bid1, ask1, volume]`; a missing value is null. */
export type TickPoint = [string, number | null, number | null, number | null, number | null];

export interface TicksResponse {
  symbol: string;
  /**
   * The contract the points traded on: the requested contract, or for a continuous alias the underlying contract of
   * the last point (null when there are none).
   */
  exec_symbol: string | null;
  from_ns: string;
  to_ns: string;
  trading_days: string[];
  max_points: number;
  /** Points inside the range before downsampling. */
  total_points: number;
  downsampled: boolean;
  points: TickPoint[];
}

const COL = { last: 0, volume: 4, bid1: 7, ask1: 9 } as const;
const HOUR_18_S = 18 * 3600;

/**
 * The trading days whose spans (18:00 CST of the previous trading day to 18:00 CST of the day) meet `[from, to]`,
 * limited to the calendar's coverage.
 */
export function tradingDaysCovering(calendar: TradingCalendar, fromNs: bigint, toNs: bigint): string[] {
  const clockOf = (ns: bigint) =>
    (((floorSeconds(ns) + CST_OFFSET_S) % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;
  let lo = cstDayOf(fromNs);
  const hiDay = cstDayOf(toNs);
  // An instant at or after 18:00 belongs to the next trading day's span.
  if (clockOf(fromNs) >= HOUR_18_S) lo = addDays(lo, 1);
  const hi = clockOf(toNs) >= HOUR_18_S ? addDays(hiDay, 1) : hiDay;
  const { from: cFrom, to: cTo } = calendar.covers;
  const a = lo < cFrom ? cFrom : lo;
  const b = hi > cTo ? cTo : hi;
  if (a > b) return [];
  const days = calendar.tradingDays(a, b);
  // An instant on a weekend or holiday (or after 18:00 before one) falls in the span of the next trading day.
  if (b === hi && b < cTo && !calendar.isTradingDay(b)) days.push(calendar.nextTradingDay(b));
  return days;
}

/** `n` indices spread evenly over `[0, total)`, first and last included. */
export function evenIndices(total: number, n: number): number[] {
  if (total <= n) return Array.from({ length: total }, (_, i) => i);
  if (n === 1) return [total - 1];
  return Array.from({ length: n }, (_, i) => Math.round((i * (total - 1)) / (n - 1)));
}

const cell = (v: number | undefined): number | null => (v === undefined || Number.isNaN(v) ? null : v);

/**
 * `GET /api/data/ticks?symbol&from_ns&to_ns&max_points`: main_l5 ticks of `[from_ns, to_ns]` (≤ 7 days) for a
 * continuous alias, or the main_l5 ticks that traded `symbol` for a contract (the store keeps no raw table), evenly
 * downsampled to `max_points` keeping the first and the last. Unknown data is an empty `points`.
 */
export async function chartTicks(deps: DataViewDeps, query: unknown): Promise<TicksResponse> {
  const q = parseOrThrow(TicksQuery, query, 'ticks query');
  const sym = q.symbol.parsed;
  const variety = sym.kind === 'continuous' ? sym.variety : sym.contract.variety;
  const contract = sym.kind === 'contract' ? sym.contract.symbol : null;
  const days = tradingDaysCovering(deps.calendar, q.from_ns, q.to_ns);
  const alias = aliasOfVariety(variety);

  // Only the in-range rows' five fields are kept across days (a stored day is ~15 MB of columns).
  const chunks: { ts: BigInt64Array; cols: Float64Array[] }[] = [];
  let total = 0;
  let lastContract: string | null = null;
  for (const d of days) {
    const day = await deps.store.readTickDay(TABLES.ticksMainL5.name, alias, d);
    const rows: number[] = [];
    for (let r = 0; r < day.datetimeNs.length; r++) {
      const ts = day.datetimeNs[r] as bigint;
      if (ts < q.from_ns || ts > q.to_ns) continue;
      if (contract !== null && day.underlyingContract[r] !== contract) continue;
      rows.push(r);
    }
    if (rows.length === 0) continue;
    const ts = BigInt64Array.from(rows, (r) => day.datetimeNs[r] as bigint);
    const cols = [COL.last, COL.bid1, COL.ask1, COL.volume].map((c) =>
      Float64Array.from(rows, (r) => day.values[c]?.[r] ?? Number.NaN),
    );
    chunks.push({ ts, cols });
    total += rows.length;
    lastContract = day.underlyingContract[rows[rows.length - 1] as number] || null;
  }
  const keep = evenIndices(total, q.max_points);
  const points: TickPoint[] = [];
  let chunk = 0;
  let offset = 0;
  for (const i of keep) {
    while (i >= offset + (chunks[chunk]?.ts.length ?? Number.POSITIVE_INFINITY)) {
      offset += chunks[chunk]?.ts.length ?? 0;
      chunk++;
    }
    const c = chunks[chunk] as { ts: BigInt64Array; cols: Float64Array[] };
    const r = i - offset;
    const v = (k: number) => cell(c.cols[k]?.[r]);
    points.push([String(c.ts[r]), v(0), v(1), v(2), v(3)]);
  }
  return {
    symbol: q.symbol.text,
    exec_symbol: contract ?? lastContract,
    from_ns: String(q.from_ns),
    to_ns: String(q.to_ns),
    trading_days: days,
    max_points: q.max_points,
    total_points: total,
    downsampled: keep.length < total,
    points,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Readiness

const FieldQualityReportSchema = z
  .object({
    status: z.enum(['ok', 'warn', 'error']),
    score: z.number(),
    created_at: z.string().optional(),
    reasons: z
      .array(z.object({ code: z.string(), level: z.enum(['error', 'warn', 'info']), message: z.string() }).loose())
      .default([]),
  })
  .loose();

export type ReadinessState = 'ok' | 'warn' | 'error' | 'unknown';

export interface ReadinessLayer {
  layer: 'engineering' | 'policy' | 'source' | 'field_quality';
  state: ReadinessState;
  reason_code: string | null;
  /** What to run or fix, when the layer is not `ok`. */
  action_hint: string | null;
}

export type ReadinessResponse = WithVar<{
  /** The worst layer; `unknown` while a layer has never run (its action hint names the command). */
  state: ReadinessState;
  layers: ReadinessLayer[];
  validation: Section<ValidationSummary>;
  field_quality: Section<{
    status: 'ok' | 'warn' | 'error';
    score: number;
    created_at: string | null;
    report_uri: string;
  }>;
}>;

const RANK: Record<ReadinessState, number> = { ok: 0, unknown: 1, warn: 2, error: 3 };

/**
 * `GET /api/data/quality/readiness?var`: the layered readiness of a variety's main_l5 dataset (control-chain §8 Data
 * "readiness (layered states, reason_code, action_hint)"): the last validation's engineering, policy and source layers
 * and the last field-quality check, each with its state and what to do; the overall state is the worst layer. A layer
 * that never ran is `unknown` (never silently `ok`); an unreadable report is `error`.
 */
export async function dataReadiness(deps: DataViewDeps, query: unknown): Promise<ReadinessResponse> {
  const { var: variety } = parseOrThrow(VarQuery, query, 'readiness query');
  const symbol = aliasOfVariety(variety);
  const [v, fq] = await Promise.all([
    section(() => validationSection(deps, variety, 0)),
    section(async () => {
      const r = await readReport(
        deps.artifacts,
        `reports/${FIELD_QUALITY_REPORT_STEP}/${symbol}_latest.json`,
        FieldQualityReportSchema,
      );
      if (r === null) {
        return { status: 'none' as const, message: `data.field_quality has not run for ${symbol} yet` };
      }
      return {
        status: 'ok' as const,
        data: {
          status: r.report.status,
          score: r.report.score,
          created_at: r.report.created_at ?? null,
          report_uri: r.uri,
          reasons: r.report.reasons,
        },
      };
    }),
  ]);
  const layers: ReadinessLayer[] = [];
  if (v.status === 'ok') {
    const d = v.data;
    for (const [layer, state] of [
      ['engineering', d.engineering_state],
      ['policy', d.policy_state],
      ['source', d.source_state],
    ] as const) {
      layers.push({
        layer,
        state,
        reason_code: state === 'ok' ? null : d.reason_code,
        action_hint: state === 'ok' ? null : d.action_hint,
      });
    }
  } else {
    const unreadable = v.status === 'error';
    for (const layer of ['engineering', 'policy', 'source'] as const) {
      layers.push({
        layer,
        state: unreadable ? 'error' : 'unknown',
        reason_code: unreadable ? v.error.code : 'never_validated',
        action_hint: unreadable ? v.error.message : `run ghtrader data validate --var ${variety}`,
      });
    }
  }
  if (fq.status === 'ok') {
    const first = fq.data.reasons.find((r) => r.level === fq.data.status) ?? fq.data.reasons[0];
    layers.push({
      layer: 'field_quality',
      state: fq.data.status,
      reason_code: fq.data.status === 'ok' ? null : (first?.code ?? null),
      action_hint: fq.data.status === 'ok' ? null : (first?.message ?? null),
    });
  } else {
    const unreadable = fq.status === 'error';
    layers.push({
      layer: 'field_quality',
      state: unreadable ? 'error' : 'unknown',
      reason_code: unreadable ? fq.error.code : 'never_checked',
      action_hint: unreadable ? fq.error.message : `run ghtrader data field-quality --var ${variety}`,
    });
  }
  const state = layers.reduce<ReadinessState>((w, l) => (RANK[l.state] > RANK[w] ? l.state : w), 'ok');
  const validation: Section<ValidationSummary> =
    v.status === 'ok' ? { status: 'ok', data: (({ top_gap_days: _omit, ...rest }) => rest)(v.data) } : v;
  const fieldQuality: ReadinessResponse['field_quality'] =
    fq.status === 'ok'
      ? {
          status: 'ok',
          data: {
            status: fq.data.status,
            score: fq.data.score,
            created_at: fq.data.created_at,
            report_uri: fq.data.report_uri,
          },
        }
      : fq;
  return { var: variety, symbol, state, layers, validation, field_quality: fieldQuality };
}
