/**
 * Read model of the console's Data page (control-chain §8 `/v/{var}/data`; data-chain §4.4, §5.6, §6.5): the stored
 * roll schedule with its segments and rolls, coverage per trading day (rows from the tick store, judged against the
 * schedule's lineage and the validation summary), the last validation report, the last main_l5 build and the last
 * schedule run. Pure reads; the output is plain JSON (days as ISO strings, counts as numbers, instants as ISO UTC).
 *
 * Each section stands alone: `ok` with its data, `none` when the step has not run (or nothing is stored), `error`
 * when its read failed or its report is malformed. One broken section never hides the others, and nothing is
 * guessed: an error names the code and the reason.
 */
import * as z from 'zod';
import { type LockLister, type LockListing, mainL5LockKey } from '../../domain/control/locks.ts';
import type { ArtifactStore } from '../../domain/data/artifacts.ts';
import { type ScheduleRow, schedulePrefixHashes } from '../../domain/data/schedule.ts';
import { TABLES } from '../../domain/data/tick-columns.ts';
import type { DayProvenance, Row, TickStore } from '../../domain/data/tick-store.ts';
import type { TradingCalendar } from '../../domain/market/calendar/calendar.ts';
import type { Variety } from '../../domain/market/varieties.ts';
import { describeError, GhtraderError } from '../../errors/base.ts';
import { DataChainError } from '../../errors/data.ts';
import { loadMainSchedule, segmentsOf } from './schedule.ts';

const EXCHANGE = 'SHFE';
/** Rows of the report's `issues` list the page shows (the report already sorts them worst first). */
export const TOP_GAP_DAYS = 10;

export interface DataViewDeps {
  store: TickStore;
  artifacts: ArtifactStore;
  calendar: TradingCalendar;
  /**
   * The lease locks, to tell a build still finalizing (it writes its report first and its builds row last, §5.6) from
   * one whose finalize never completed. Without it the build section says it cannot tell.
   */
  locks?: LockLister;
}

export interface SectionError {
  code: string;
  message: string;
}

/** One part of the page: its data, "not run yet / nothing stored", or why it could not be read. */
export type Section<T> =
  | { status: 'ok'; data: T }
  | { status: 'none'; message: string }
  | { status: 'error'; error: SectionError };

export interface ScheduleSegment {
  segment_id: number;
  main_contract: string;
  first_day: string;
  last_day: string;
  days: number;
}

export interface ScheduleRoll {
  /** First trading day on the new contract (the switch takes effect at that day's open, night session included). */
  trading_day: string;
  from_contract: string;
  to_contract: string;
  segment_id: number;
}

export interface ScheduleView {
  schedule_hash: string;
  start: string;
  end: string;
  days: number;
  segments: ScheduleSegment[];
  rolls: ScheduleRoll[];
}

/** The last `data.schedule` run (`reports/main_schedule/<var>_latest.json`). */
export interface ScheduleRunView {
  created_at: string | null;
  relation: string | null;
  schedule_hash: string | null;
  start_date: string | null;
  start_date_source: string | null;
  end_date: string | null;
  as_of: string | null;
  rows: number | null;
  warnings: number;
  health_ok: boolean | null;
  health_problems: string[];
  report_uri: string;
}

/**
 * A day's coverage state. `complete`: ticks stored under a hash compatible with the schedule (and, when validated,
 * neither a missing day nor a > 30 s gap); `partial`: stored, but validation found a missing day or > 30 s gaps;
 * `invalid`: stored under an incompatible or missing `schedule_hash`, or on a day the schedule does not list;
 * `missing`: scheduled, nothing stored, on or before the last stored day; `pending`: scheduled, nothing stored, after
 * the last stored day (the next update builds it); `unscheduled`: a trading day inside the range with neither.
 */
export const DAY_STATES = ['complete', 'partial', 'invalid', 'missing', 'pending', 'unscheduled'] as const;
export type DayState = (typeof DAY_STATES)[number];

export interface DayValidation {
  missing_day: boolean;
  missing_seconds_ratio: number | null;
  gap_count_gt_30: number | null;
  max_gap_s: number | null;
}

export interface CoverageDay {
  trading_day: string;
  state: DayState;
  rows: number;
  main_contract: string | null;
  segment_id: number | null;
  /** Why a day is `invalid` or `partial`; null otherwise. */
  reason: string | null;
  /** The day's row in the validation summary, or null when it was never validated. */
  validation: DayValidation | null;
}

export interface CoverageView {
  /** Inclusive calendar range of `days`; every trading day inside it is listed (absent dates are non-trading). */
  first_day: string;
  last_day: string;
  counts: Record<DayState, number>;
  scheduled_days: number;
  stored_days: number;
  validated_days: number;
  rows_total: number;
  max_day_rows: number;
  /** Set when stored days could not be checked against a schedule (none stored, or unreadable). */
  note: string | null;
  days: CoverageDay[];
}

export interface GapDay {
  trading_day: string;
  underlying_contract: string | null;
  missing_day: boolean | null;
  missing_segments_total: number | null;
  gap_count_gt_30s: number | null;
  max_gap_s: number | null;
  missing_seconds_ratio: number | null;
  missing_half_seconds: number | null;
  ticks_outside_sessions_seconds: number | null;
}

/** The last validation report (`reports/main_l5_validate/<alias>_latest.json`), §6.5 semantics. */
export interface ValidationView {
  created_at: string | null;
  ok: boolean;
  state: 'ok' | 'warn' | 'error' | 'noop';
  overall_state: LayerState;
  engineering_state: LayerState;
  policy_state: LayerState;
  source_state: LayerState;
  reason_code: string;
  action_hint: string;
  checked_days: number;
  missing_days: number;
  missing_days_sample: string[];
  missing_seconds_ratio: number | null;
  range: { start: string | null; end: string | null };
  schedule_hash: string | null;
  issues_total: number;
  top_gap_days: GapDay[];
  report_uri: string;
}

export type LayerState = 'ok' | 'warn' | 'error';

/** The last main_l5 build: the newest `ghtrader_main_l5_builds_v2` row, with health from its report. */
export interface BuildView {
  build_id: string;
  status: string;
  mode: string;
  rows_total: number;
  days_written: number | null;
  covered_first_day: string | null;
  covered_last_day: string | null;
  aligned_start: string | null;
  schedule_hash: string | null;
  built_at: string | null;
  report_uri: string | null;
  /** Health errors from the build report; null when no report of this build could be read. */
  health_errors: string[] | null;
  validation_gate: { state: string | null; reason_code: string | null } | null;
  /** Why the report's details are absent (report missing, malformed, or of another build); null when present. */
  report_note: string | null;
}

export interface DataOverview {
  variety: Variety;
  symbol: string;
  schedule: Section<ScheduleView>;
  schedule_run: Section<ScheduleRunView>;
  coverage: Section<CoverageView>;
  validation: Section<ValidationView>;
  build: Section<BuildView>;
}

export const aliasOfVariety = (variety: Variety) => `KQ.m@${EXCHANGE}.${variety}`;

/** Artifact keys of the latest reports (data-chain §0: `reports/<step>/<name>_latest.json`). */
export function latestReportKeys(variety: Variety) {
  const alias = aliasOfVariety(variety);
  return {
    schedule: `reports/main_schedule/${variety}_latest.json`,
    build: `reports/main_l5/${alias}_latest.json`,
    validation: `reports/main_l5_validate/${alias}_latest.json`,
  } as const;
}

/** A report that exists but cannot be read as one: shown on the page, never a 500. */
export class ReportInvalidError extends DataChainError {
  constructor(uri: string, reason: string) {
    super('report_invalid', `report ${uri} is unreadable: ${reason}; rerun the step to replace it`, {
      details: { uri, reason },
    });
  }
}

function sectionError(err: unknown): SectionError {
  if (err instanceof GhtraderError) return { code: err.code, message: err.message };
  return { code: 'read_failed', message: err instanceof Error ? err.message : String(err) };
}

const decoder = new TextDecoder();

/** The parsed report at `key`, null when absent; invalid JSON or a schema mismatch is a `ReportInvalidError`. */
export async function readReport<S extends z.ZodType>(
  artifacts: ArtifactStore,
  key: string,
  schema: S,
): Promise<{ report: z.infer<S>; uri: string } | null> {
  const body = await artifacts.get(key);
  if (body === null) return null;
  const uri = artifacts.uri(key);
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(body));
  } catch (err) {
    throw new ReportInvalidError(uri, `not JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.map(String).join('.')}` : '';
    throw new ReportInvalidError(uri, `${issue?.message ?? 'does not match the report schema'}${where}`);
  }
  return { report: parsed.data, uri };
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number.NaN);
/** A LONG/DOUBLE cell as a number; NULL and NaN (no JSON form) as null. */
const numOrNull = (v: unknown): number | null => {
  const n = num(v);
  return Number.isFinite(n) ? n : null;
};
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** TIMESTAMP µs → ISO UTC. */
function microsIso(v: unknown): string | null {
  if (typeof v !== 'bigint') return null;
  return new Date(Number(v / 1000n)).toISOString();
}

// ---------------------------------------------------------------------------------------------------------------
// Schedule

function scheduleView(rows: readonly ScheduleRow[], hash: string): ScheduleView {
  const segments = segmentsOf(rows);
  const rolls: ScheduleRoll[] = [];
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1] as ScheduleSegment;
    const cur = segments[i] as ScheduleSegment;
    rolls.push({
      trading_day: cur.first_day,
      from_contract: prev.main_contract,
      to_contract: cur.main_contract,
      segment_id: cur.segment_id,
    });
  }
  const first = rows[0] as ScheduleRow;
  const last = rows[rows.length - 1] as ScheduleRow;
  return { schedule_hash: hash, start: first.trading_day, end: last.trading_day, days: rows.length, segments, rolls };
}

const ScheduleReportSchema = z
  .object({
    created_at: z.string().optional(),
    relation: z.string().optional(),
    schedule_hash: z.string().optional(),
    start_date: z.string().optional(),
    start_date_source: z.string().optional(),
    end_date: z.string().optional(),
    as_of: z.string().optional(),
    rows: z.number().optional(),
    warnings: z.array(z.unknown()).optional(),
    health: z
      .object({ ok: z.boolean().optional(), problems: z.array(z.string()).optional() })
      .loose()
      .optional(),
  })
  .loose();

/** The last `data.schedule` run's report as a section (`none` before the first run). */
export async function scheduleRunSection(deps: DataViewDeps, variety: Variety): Promise<Section<ScheduleRunView>> {
  const r = await readReport(deps.artifacts, latestReportKeys(variety).schedule, ScheduleReportSchema);
  if (r === null) return { status: 'none', message: `data.schedule has not run for ${variety} yet` };
  const { report } = r;
  return {
    status: 'ok',
    data: {
      created_at: report.created_at ?? null,
      relation: report.relation ?? null,
      schedule_hash: report.schedule_hash ?? null,
      start_date: report.start_date ?? null,
      start_date_source: report.start_date_source ?? null,
      end_date: report.end_date ?? null,
      as_of: report.as_of ?? null,
      rows: report.rows ?? null,
      warnings: report.warnings?.length ?? 0,
      health_ok: report.health?.ok ?? null,
      health_problems: report.health?.problems ?? [],
      report_uri: r.uri,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Coverage

function dayValidation(row: Row): DayValidation {
  return {
    missing_day: num(row.missing_day) > 0,
    missing_seconds_ratio: numOrNull(row.missing_seconds_ratio),
    gap_count_gt_30: numOrNull(row.gap_count_gt_30),
    max_gap_s: numOrNull(row.max_gap_s),
  };
}

function coverageView(
  calendar: TradingCalendar,
  schedule: readonly ScheduleRow[] | null,
  stored: readonly DayProvenance[],
  summary: readonly Row[],
): CoverageView | null {
  const scheduled = new Map((schedule ?? []).map((r) => [r.trading_day, r]));
  const provenance = new Map(stored.filter((d) => d.rows > 0).map((d) => [d.trading_day, d]));
  const validated = new Map(summary.map((r) => [String(r.trading_day), dayValidation(r)]));
  const compatible = new Set(schedule ? schedulePrefixHashes(schedule) : []);

  const listed = new Set<string>([...scheduled.keys(), ...provenance.keys()]);
  if (listed.size === 0) return null;
  const sorted = [...listed].sort();
  const first = sorted[0] as string;
  const last = sorted[sorted.length - 1] as string;
  // Every trading day of the range the calendar can answer for (days outside its coverage are listed only when
  // scheduled or stored).
  const from = first < calendar.covers.from ? calendar.covers.from : first;
  const to = last > calendar.covers.to ? calendar.covers.to : last;
  if (from <= to) for (const d of calendar.tradingDays(from, to)) listed.add(d);

  const storedDays = [...provenance.keys()].sort();
  const lastStored = storedDays[storedDays.length - 1] ?? null;
  const counts = Object.fromEntries(DAY_STATES.map((s) => [s, 0])) as Record<DayState, number>;
  let rowsTotal = 0;
  let maxRows = 0;
  const days: CoverageDay[] = [...listed].sort().map((day) => {
    const s = scheduled.get(day) ?? null;
    const p = provenance.get(day) ?? null;
    const v = validated.get(day) ?? null;
    let state: DayState;
    let reason: string | null = null;
    if (p) {
      rowsTotal += p.rows;
      maxRows = Math.max(maxRows, p.rows);
      const foreign = p.schedule_hashes.filter((h) => !compatible.has(h));
      if (schedule && !s) {
        state = 'invalid';
        reason = 'ticks stored on a day the schedule does not list';
      } else if (schedule && p.rows_without_hash > 0) {
        state = 'invalid';
        reason = `${p.rows_without_hash} rows without schedule_hash (legacy data without provenance); rebuild main_l5 with --full-rebuild`;
      } else if (schedule && foreign.length > 0) {
        state = 'invalid';
        reason = `schedule_hash ${foreign.join(', ')} is not compatible with the current schedule; rebuild main_l5`;
      } else if (v && (v.missing_day || (v.gap_count_gt_30 ?? 0) > 0)) {
        state = 'partial';
        reason = v.missing_day
          ? 'validation found no in-session tick'
          : `validation found ${v.gap_count_gt_30} gaps longer than 30 s`;
      } else {
        state = 'complete';
      }
    } else if (s) {
      state = lastStored !== null && day <= lastStored ? 'missing' : 'pending';
    } else {
      state = 'unscheduled';
    }
    counts[state]++;
    return {
      trading_day: day,
      state,
      rows: p?.rows ?? 0,
      main_contract: s?.main_contract ?? null,
      segment_id: s?.segment_id ?? null,
      reason,
      validation: v,
    };
  });
  return {
    first_day: days[0]?.trading_day ?? first,
    last_day: days[days.length - 1]?.trading_day ?? last,
    counts,
    scheduled_days: scheduled.size,
    stored_days: provenance.size,
    validated_days: days.filter((d) => d.validation !== null).length,
    rows_total: rowsTotal,
    max_day_rows: maxRows,
    note: schedule ? null : 'no readable schedule: stored days were not checked against schedule lineage',
    days,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

const LayerStateSchema = z.enum(['ok', 'warn', 'error']);
const optNum = z.number().nullable().optional();

const IssueSchema = z
  .object({
    trading_day: z.string(),
    underlying_contract: z.string().nullable().optional(),
    missing_day: z.boolean().nullable().optional(),
    missing_segments_total: optNum,
    gap_count_gt_30s: optNum,
    max_gap_s: optNum,
    missing_seconds_ratio: optNum,
    missing_half_seconds: optNum,
    ticks_outside_sessions_seconds: optNum,
  })
  .loose();

const ValidationReportSchema = z
  .object({
    created_at: z.string().optional(),
    ok: z.boolean(),
    state: z.enum(['ok', 'warn', 'error', 'noop']),
    overall_state: LayerStateSchema,
    engineering_state: LayerStateSchema,
    policy_state: LayerStateSchema,
    source_state: LayerStateSchema,
    reason_code: z.string(),
    action_hint: z.string(),
    checked_days: z.number(),
    missing_days: z.number(),
    missing_days_sample: z.array(z.string()).optional(),
    missing_seconds_ratio: z.number().nullable().optional(),
    start: z.string().nullable().optional(),
    end: z.string().nullable().optional(),
    start_date: z.string().nullable().optional(),
    end_date: z.string().nullable().optional(),
    schedule_hash: z.string().nullable().optional(),
    issues_total: z.number().optional(),
    issues: z.array(IssueSchema).optional(),
  })
  .loose();

/** The last validation report as a section, with its first `topGapDays` issues (worst first). */
export async function validationSection(
  deps: DataViewDeps,
  variety: Variety,
  topGapDays: number = TOP_GAP_DAYS,
): Promise<Section<ValidationView>> {
  const r = await readReport(deps.artifacts, latestReportKeys(variety).validation, ValidationReportSchema);
  if (r === null) return { status: 'none', message: `data.validate has not run for ${aliasOfVariety(variety)} yet` };
  const v = r.report;
  const issues = v.issues ?? [];
  return {
    status: 'ok',
    data: {
      created_at: v.created_at ?? null,
      ok: v.ok,
      state: v.state,
      overall_state: v.overall_state,
      engineering_state: v.engineering_state,
      policy_state: v.policy_state,
      source_state: v.source_state,
      reason_code: v.reason_code,
      action_hint: v.action_hint,
      checked_days: v.checked_days,
      missing_days: v.missing_days,
      missing_days_sample: v.missing_days_sample ?? [],
      missing_seconds_ratio: v.missing_seconds_ratio ?? null,
      range: { start: v.start ?? v.start_date ?? null, end: v.end ?? v.end_date ?? null },
      schedule_hash: v.schedule_hash ?? null,
      issues_total: v.issues_total ?? issues.length,
      top_gap_days: issues.slice(0, topGapDays).map((i) => ({
        trading_day: i.trading_day,
        underlying_contract: i.underlying_contract ?? null,
        missing_day: i.missing_day ?? null,
        missing_segments_total: i.missing_segments_total ?? null,
        gap_count_gt_30s: i.gap_count_gt_30s ?? null,
        max_gap_s: i.max_gap_s ?? null,
        missing_seconds_ratio: i.missing_seconds_ratio ?? null,
        missing_half_seconds: i.missing_half_seconds ?? null,
        ticks_outside_sessions_seconds: i.ticks_outside_sessions_seconds ?? null,
      })),
      report_uri: r.uri,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Build

const BuildReportSchema = z
  .object({
    build_id: z.string(),
    status: z.string().optional(),
    full_rebuild: z.boolean().optional(),
    update_mode: z.boolean().optional(),
    rows_total: z.number().optional(),
    covered_first_day: z.string().nullable().optional(),
    covered_last_day: z.string().nullable().optional(),
    aligned_start: z.string().nullable().optional(),
    schedule_hash: z.string().optional(),
    created_at: z.string().optional(),
    health: z.object({ ok: z.boolean().optional(), errors: z.array(z.string()) }).loose(),
    validation_gate: z
      .object({ state: z.string().nullable().optional(), reason_code: z.string().nullable().optional() })
      .loose()
      .nullable()
      .optional(),
  })
  .loose();
type BuildReport = z.infer<typeof BuildReportSchema>;

/**
 * Why a build report has no builds row: the build lock held by a live lease means a build (or a validation) of the
 * symbol is still running, and the row is written last; a free lock means that build's finalize never completed.
 */
async function finalizeState(deps: DataViewDeps, variety: Variety): Promise<string> {
  const key = mainL5LockKey(aliasOfVariety(variety));
  if (!deps.locks) return 'the finalize step is still running or did not complete (lock state not available here)';
  let held: LockListing | undefined;
  try {
    const page = await deps.locks.list({ prefix: key, limit: 10 });
    held = page.items.find((l) => l.key === key && !l.expired);
  } catch (err) {
    return `the finalize step is still running or did not complete (the lock ${key} could not be read: ${describeError(err)})`;
  }
  return held
    ? `still running: ${key} is held by ${held.owner} (the builds row is written last)`
    : `the finalize step did not complete (${key} is free); run \`ghtrader data main-l5 --var ${variety}\` again`;
}

async function buildSection(deps: DataViewDeps, variety: Variety): Promise<Section<BuildView>> {
  const alias = aliasOfVariety(variety);
  const rows = await deps.store.readRows(TABLES.mainL5Builds.name, { symbol: alias });
  const row = rows[rows.length - 1] ?? null;
  let report: { report: BuildReport; uri: string } | null = null;
  let reportError: SectionError | null = null;
  try {
    report = await readReport(deps.artifacts, latestReportKeys(variety).build, BuildReportSchema);
  } catch (err) {
    if (!(err instanceof ReportInvalidError) || row === null) throw err;
    // The builds row stands on its own; the unreadable report is named next to it.
    reportError = sectionError(err);
  }
  const gateOf = (r: BuildReport) =>
    r.validation_gate
      ? { state: r.validation_gate.state ?? null, reason_code: r.validation_gate.reason_code ?? null }
      : null;

  if (row === null) {
    if (report === null) return { status: 'none', message: `no main_l5 build of ${alias} yet` };
    // The report is written before the builds row (§5.6 step 6): a build whose row never landed.
    const r = report.report;
    return {
      status: 'ok',
      data: {
        build_id: r.build_id,
        status: r.status ?? 'unknown',
        mode: r.full_rebuild ? 'full_rebuild' : 'update',
        rows_total: r.rows_total ?? 0,
        days_written: null,
        covered_first_day: r.covered_first_day ?? null,
        covered_last_day: r.covered_last_day ?? null,
        aligned_start: r.aligned_start ?? null,
        schedule_hash: r.schedule_hash ?? null,
        built_at: r.created_at ?? null,
        report_uri: report.uri,
        health_errors: r.health.errors,
        validation_gate: gateOf(r),
        report_note: `no ${TABLES.mainL5Builds.name} row for build ${r.build_id}; ${await finalizeState(deps, variety)}`,
      },
    };
  }
  const buildId = String(row.build_id);
  const matching = report !== null && report.report.build_id === buildId ? report.report : null;
  let note: string | null = null;
  if (reportError) note = reportError.message;
  else if (report === null) note = 'the build report is missing';
  else if (!matching) {
    const other = report.report.build_id;
    note = rows.some((r) => String(r.build_id) === other)
      ? `the latest build report belongs to the earlier build ${other}; this build's report is missing`
      : `the latest build report belongs to build ${other}, which has no ${TABLES.mainL5Builds.name} row yet; ${await finalizeState(deps, variety)}`;
  }
  return {
    status: 'ok',
    data: {
      build_id: buildId,
      status: String(row.status),
      mode: String(row.mode),
      rows_total: numOrNull(row.rows_total) ?? 0,
      days_written: numOrNull(row.days_written),
      covered_first_day: str(row.covered_first_day),
      covered_last_day: str(row.covered_last_day),
      aligned_start: str(row.aligned_start),
      schedule_hash: str(row.schedule_hash),
      built_at: microsIso(row.ts),
      report_uri: str(row.report_uri),
      health_errors: matching ? matching.health.errors : null,
      validation_gate: matching ? gateOf(matching) : null,
      report_note: note,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------

/** Run a section read; any throw becomes the section's `error` (never a 500). */
export async function section<T>(read: () => Promise<Section<T>>): Promise<Section<T>> {
  try {
    return await read();
  } catch (err) {
    return { status: 'error', error: sectionError(err) };
  }
}

/** The stored schedule (rows and view) as a section; never throws. */
export function scheduleSection(
  deps: DataViewDeps,
  variety: Variety,
): Promise<Section<{ rows: readonly ScheduleRow[]; view: ScheduleView }>> {
  return section(async () => {
    const s = await loadMainSchedule(deps.store, variety);
    if (s === null) {
      return {
        status: 'none',
        message: `no main schedule stored for ${variety}; run data.schedule (ghtrader data schedule --var ${variety})`,
      };
    }
    return { status: 'ok', data: { rows: s.rows, view: scheduleView(s.rows, s.schedule_hash) } };
  });
}

/** Coverage per trading day judged against `sched` (the result of `scheduleSection`); never throws. */
export function coverageSection(
  deps: DataViewDeps,
  variety: Variety,
  sched: Section<{ rows: readonly ScheduleRow[] }>,
): Promise<Section<CoverageView>> {
  const alias = aliasOfVariety(variety);
  return section<CoverageView>(async () => {
    const [stored, summary] = [
      await deps.store.dayProvenance(TABLES.ticksMainL5.name, alias),
      await deps.store.readRows(TABLES.validateSummary.name, { symbol: alias }),
    ];
    const view = coverageView(deps.calendar, sched.status === 'ok' ? sched.data.rows : null, stored, summary);
    if (view === null) return { status: 'none', message: `no schedule and no stored ticks for ${alias}` };
    return { status: 'ok', data: view };
  });
}

/** Everything the Data page shows for one variety. Never throws for a missing or unreadable part: see `Section`. */
export async function dataOverview(deps: DataViewDeps, variety: Variety): Promise<DataOverview> {
  const alias = aliasOfVariety(variety);
  const [sched, scheduleRun, validation, build] = await Promise.all([
    scheduleSection(deps, variety),
    section(() => scheduleRunSection(deps, variety)),
    section(() => validationSection(deps, variety)),
    section(() => buildSection(deps, variety)),
  ]);
  const coverage = await coverageSection(deps, variety, sched);
  return {
    variety,
    symbol: alias,
    schedule: sched.status === 'ok' ? { status: 'ok', data: sched.data.view } : sched,
    schedule_run: scheduleRun,
    coverage,
    validation,
    build,
  };
}
