/**
 * `ghtrader data calendar`: the trading calendar and session windows as the whole system sees them (data-chain §3,
 * §10.2). Reads the operator overrides `$GHTRADER_HOME/artifacts/calendar/overrides.json` and a stored refresh
 * `artifacts/calendar/refreshed.json` when present; `--refresh` downloads the holiday list (15 s timeout; an
 * unreachable URL is a warning, not a failure). Exit 0 ok (also with warnings), 2 bad input, 1 failure.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '#shared/config.ts';
import {
  type CalendarOverrides,
  calendarDisagreements,
  dayNumber,
  parseCalendarOverrides,
  type RefreshedCalendarFile,
  RefreshedCalendarFileSchema,
  SHIPPED_CALENDAR_DATA,
  TradingCalendar,
} from '#shared/domain/market/calendar/index.ts';
import { CST_OFFSET_S, clock, SECONDS_PER_DAY } from '#shared/domain/market/cst.ts';
import { type SessionWindow, sessionPlan } from '#shared/domain/market/sessions.ts';
import { parseVariety, VARIETIES, type Variety } from '#shared/domain/market/varieties.ts';
import { MarketError } from '#shared/errors/market.ts';
import {
  type CalendarJobResult,
  DEFAULT_HOLIDAY_URL,
  fetchHolidayList,
} from '#shared/services/data/calendar-refresh.ts';
import { allowApi } from '../api-client.ts';
import { CliUsageError, homeEnv, reportError } from '../cli-support.ts';
import { calendarJobViaApi, registerDataJobs } from './data-jobs.ts';

export interface CalendarCommandOptions {
  start?: string;
  end?: string;
  check?: string;
  sessions?: boolean;
  var?: string;
  refresh?: boolean;
  url?: string;
}

export interface CalendarCommandDeps {
  /** `$GHTRADER_HOME`, resolved. */
  home: string;
  /** URL used by `--refresh` when `--url` is not given. */
  holidayUrl: string;
  fetch: typeof fetch;
  now: () => Date;
  timeoutMs?: number;
}

export interface WindowView {
  session: 'day' | 'night';
  start_cst: string;
  end_cst: string;
  start_utc: string;
  end_utc: string;
  start_s: number;
  end_s: number;
  /** Epoch ns as decimal strings; `end_ns` is the last nanosecond inside (bounds are inclusive whole seconds). */
  start_ns: string;
  end_ns: string;
}

export interface DaySessionsView {
  trading_day: string;
  var: Variety;
  windows: WindowView[];
  applied_events: string[];
  night_dropped: 'holiday_gap' | null;
}

/** The `data.calendar` job's answer (`refreshed`: this run downloaded and stored a new list), plus the day views. */
export interface CalendarReport extends CalendarJobResult {
  overrides: { path: string; present: boolean };
  trading_days?: string[];
  sessions?: DaySessionsView[];
  day?: {
    date: string;
    is_trading_day: boolean;
    prev: string;
    next: string;
    windows: (WindowView & { var: Variety })[];
  };
}

function calendarDir(home: string): string {
  return path.join(home, 'artifacts', 'calendar');
}

async function readJsonIfPresent(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliUsageError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Write-then-rename so a reader never sees half a file. */
async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, 'utf8');
  await rename(tmp, file);
}

function iso(n: number): string {
  return new Date(n * 1000).toISOString().replace('.000Z', 'Z');
}

function cstText(s: number): string {
  const local = s + CST_OFFSET_S;
  const dayNum = Math.floor(local / SECONDS_PER_DAY);
  return `${new Date(dayNum * SECONDS_PER_DAY * 1000).toISOString().slice(0, 10)} ${clock(local - dayNum * SECONDS_PER_DAY)}`;
}

function windowView(w: SessionWindow): WindowView {
  return {
    session: w.session,
    start_cst: cstText(w.start_s),
    end_cst: cstText(w.end_s),
    start_utc: iso(w.start_s),
    end_utc: iso(w.end_s),
    start_s: w.start_s,
    end_s: w.end_s,
    start_ns: String(w.start_ns),
    end_ns: String(w.end_ns),
  };
}

/** Validate the flags before any I/O so bad input exits 2 without side effects. */
function validate(o: CalendarCommandOptions): { start?: string; end?: string; variety?: Variety } {
  const start = o.start ?? o.end;
  const end = o.end ?? o.start;
  if (start !== undefined) dayNumber(start);
  if (end !== undefined) dayNumber(end);
  if (o.check !== undefined) dayNumber(o.check);
  if (start !== undefined && end !== undefined && start > end) {
    throw new CliUsageError(`--start ${start} is after --end ${end}`);
  }
  const variety = o.var === undefined ? undefined : parseVariety(o.var);
  if (o.sessions && variety === undefined) throw new CliUsageError('--sessions needs --var cu|au|ag');
  if (o.sessions && start === undefined) throw new CliUsageError('--sessions needs --start and --end');
  return {
    ...(start === undefined ? {} : { start }),
    ...(end === undefined ? {} : { end }),
    ...(variety ? { variety } : {}),
  };
}

/** Everything `ghtrader data calendar` does, minus printing; throws on bad input. */
export async function runCalendarCommand(
  o: CalendarCommandOptions,
  deps: CalendarCommandDeps,
): Promise<CalendarReport> {
  const { start, end, variety } = validate(o);
  const warnings: string[] = [];
  const dir = calendarDir(deps.home);
  const overridesPath = path.join(dir, 'overrides.json');
  const refreshedPath = path.join(dir, 'refreshed.json');

  const overridesJson = await readJsonIfPresent(overridesPath);
  let overrides: CalendarOverrides | undefined;
  if (overridesJson !== undefined) {
    try {
      overrides = parseCalendarOverrides(overridesJson);
    } catch (err) {
      throw new CliUsageError(`${overridesPath}: ${(err as Error).message}`);
    }
  }

  let refreshedFile: RefreshedCalendarFile | undefined;
  let refreshed = false;
  if (o.refresh) {
    const url = o.url ?? deps.holidayUrl;
    refreshedFile = await fetchHolidayList(url, deps, warnings);
    if (refreshedFile) {
      await writeJsonAtomic(refreshedPath, refreshedFile);
      refreshed = true;
    }
  }
  if (!refreshedFile) {
    const stored = await readJsonIfPresent(refreshedPath);
    if (stored !== undefined) {
      const r = RefreshedCalendarFileSchema.safeParse(stored);
      if (r.success) refreshedFile = r.data;
      else warnings.push(`refreshed_file_invalid: ${refreshedPath} ignored; run ghtrader data calendar --refresh`);
    }
  }

  const cal = new TradingCalendar(SHIPPED_CALENDAR_DATA, overrides, refreshedFile);
  const report: CalendarReport = {
    ok: true,
    covers: cal.covers,
    holidays_total: cal.holidays().length,
    refreshed,
    refresh: refreshedFile
      ? {
          source_url: refreshedFile.source_url,
          fetched_at: refreshedFile.fetched_at,
          covers: refreshedFile.covers,
          holidays_total: refreshedFile.holidays.length,
        }
      : null,
    disagreements: refreshedFile ? calendarDisagreements(SHIPPED_CALENDAR_DATA, refreshedFile) : [],
    overrides: { path: overridesPath, present: overrides !== undefined },
    warnings,
  };
  if (report.disagreements.length > 0) {
    warnings.push(
      `calendar_disagreements: ${report.disagreements.length} weekday(s) differ between the shipped and the refreshed list; the shipped list is kept`,
    );
  }

  if (start !== undefined && end !== undefined) {
    report.trading_days = cal.tradingDays(start, end);
    if (o.sessions && variety) {
      report.sessions = report.trading_days.map((d) => {
        const plan = sessionPlan(cal, d, variety);
        return {
          trading_day: d,
          var: variety,
          windows: plan.windows.map(windowView),
          applied_events: plan.applied_events,
          night_dropped: plan.night_dropped,
        };
      });
    }
  }
  if (o.check !== undefined) {
    const date = o.check;
    const vars = variety ? [variety] : [...VARIETIES];
    report.day = {
      date,
      is_trading_day: cal.isTradingDay(date),
      prev: cal.prevTradingDay(date),
      next: cal.nextTradingDay(date),
      windows: vars.flatMap((v) => sessionPlan(cal, date, v).windows.map((w) => ({ var: v, ...windowView(w) }))),
    };
  }
  return report;
}

/** The human-readable rendering of a report. */
export function renderCalendarText(r: CalendarReport): string {
  const lines = [`calendar covers ${r.covers.from}..${r.covers.to}; ${r.holidays_total} weekday holidays`];
  if (r.refresh)
    lines.push(
      `refreshed list: ${r.refresh.source_url} (${r.refresh.fetched_at}), covers ${r.refresh.covers.from}..${r.refresh.covers.to}`,
    );
  if (r.overrides.present) lines.push(`overrides: ${r.overrides.path}`);
  for (const d of r.disagreements) lines.push(`disagreement ${d.date}: shipped ${d.shipped}, refreshed ${d.refreshed}`);
  if (r.sessions) {
    for (const s of r.sessions) {
      const notes = [...s.applied_events, ...(s.night_dropped ? [`no night (${s.night_dropped})`] : [])];
      lines.push(`${s.trading_day} ${s.var}${notes.length ? `  [${notes.join(', ')}]` : ''}`);
      for (const w of s.windows) {
        lines.push(`  ${w.session.padEnd(5)} ${w.start_cst} – ${w.end_cst} CST   ${w.start_utc} – ${w.end_utc}`);
      }
    }
  } else if (r.trading_days) {
    lines.push(...r.trading_days);
    lines.push(`(${r.trading_days.length} trading days)`);
  }
  if (r.day) {
    const d = r.day;
    lines.push(`${d.date}: ${d.is_trading_day ? 'trading day' : 'closed'}; prev ${d.prev}, next ${d.next}`);
    for (const w of d.windows) lines.push(`  ${w.var} ${w.session.padEnd(5)} ${w.start_cst} – ${w.end_cst} CST`);
  }
  return lines.join('\n');
}

/** Market errors are all bad input: exit 2 with their stable code; everything else goes to `reportError`. */
function fail(err: unknown, json: boolean): never {
  if (!(err instanceof MarketError)) reportError(err, json);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ error: { code: err.code, message: err.message, details: err.details } })}\n`,
    );
  } else {
    process.stderr.write(`ghtrader: ${err.message}\n`);
  }
  process.exit(2);
}

export function registerData(program: Command): void {
  const data = program
    .command('data')
    .description('data-chain steps: calendar, schedule, main_l5, validation, migrations');
  const g = (): { home?: string; json?: boolean; api?: string } => program.opts();

  data
    .command('calendar')
    .description('trading days and session windows from the shipped calendar, refresh and overrides')
    .option('--start <date>', 'first day, YYYY-MM-DD')
    .option('--end <date>', 'last day, YYYY-MM-DD (inclusive)')
    .option('--check <date>', 'show one day: trading or not, previous and next trading day, windows')
    .option('--sessions', 'print each trading day’s session windows (needs --var)')
    .option('--var <var>', 'cu, au or ag')
    .option('--refresh', 'download the holiday list and store it for dates after the shipped coverage')
    .option('--url <url>', 'holiday list URL for --refresh')
    .action(async (o: CalendarCommandOptions) => {
      const json = Boolean(g().json);
      try {
        const api = g().api;
        if (api !== undefined) {
          // Through the API: the stage's own calendar, refreshed from its TQ_CHINESE_HOLIDAY_URL by a data.calendar job.
          const local = (['start', 'end', 'check', 'sessions', 'var', 'url'] as const).filter(
            (k) => o[k] !== undefined,
          );
          if (local.length > 0) {
            throw new CliUsageError(
              `--${local[0]} is not available with --api: only --refresh (or nothing, to report the calendar) goes through the data.calendar job`,
            );
          }
          const r = await calendarJobViaApi(api, o.refresh === true);
          process.stdout.write(json ? `${JSON.stringify(r)}\n` : `${renderCalendarJob(r)}\n`);
          return;
        }
        const env = homeEnv(g().home);
        const config = loadConfig(env);
        const report = await runCalendarCommand(o, {
          home: config.home,
          holidayUrl: env.TQ_CHINESE_HOLIDAY_URL || DEFAULT_HOLIDAY_URL,
          fetch: globalThis.fetch,
          now: () => new Date(),
        });
        process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${renderCalendarText(report)}\n`);
        if (!json) for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
      } catch (err) {
        fail(err, json);
      }
    });

  registerDataJobs(data, g);
  allowApi(...data.commands.filter((c) => c.name() === 'calendar'));
}

/** The text of a `data.calendar` job's result (`data calendar --api`). */
function renderCalendarJob(r: Record<string, unknown>): string {
  const covers = r.covers as { from: string; to: string };
  const refresh = r.refresh as { source_url: string; fetched_at: string } | null;
  const lines = [`calendar covers ${covers.from}..${covers.to}; ${String(r.holidays_total)} weekday holidays`];
  if (refresh)
    lines.push(`refreshed list: ${refresh.source_url} (${refresh.fetched_at})${r.refreshed ? ', stored now' : ''}`);
  for (const w of (r.warnings as string[] | undefined) ?? []) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
