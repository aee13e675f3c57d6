/**
 * Calendar refresh (data-chain §3.1; job `data.calendar`, control-chain §4): GET the holiday list
 * (`TQ_CHINESE_HOLIDAY_URL`, default Shinny's), parse it leniently and store it as `calendar/refreshed.json` in the
 * artifact store, where every data job's calendar (`loadDataCalendar`) reads it; it is used only after the shipped
 * list's `covers.to`, and disagreements inside that range are reported, never applied. An unreachable or unusable
 * list is a warning, never a failure: the calendar in effect stays as it was. The CLI's `data calendar --refresh`
 * uses the same fetch and parse (`fetchHolidayList`).
 */
import type { ArtifactStore } from '../../domain/data/artifacts.ts';
import {
  type CalendarDisagreement,
  calendarDisagreements,
  parseRefreshedHolidays,
  type RefreshedCalendarFile,
  SHIPPED_CALENDAR_DATA,
  TradingCalendar,
} from '../../domain/market/calendar/index.ts';
import { loadCalendarFiles } from './context.ts';

/** Shinny's public holiday list (data-chain §3.1); `TQ_CHINESE_HOLIDAY_URL` replaces it. */
export const DEFAULT_HOLIDAY_URL = 'https://files.shinnytech.com/shinny_chinese_holiday.json';
export const REFRESH_TIMEOUT_MS = 15_000;
export const REFRESHED_CALENDAR_KEY = 'calendar/refreshed.json';

export interface HolidayFetchDeps {
  fetch: typeof fetch;
  now: () => Date;
  timeoutMs?: number;
}

/** The list at `url` as a refreshed-calendar file, or undefined with the reason appended to `warnings`. */
export async function fetchHolidayList(
  url: string,
  deps: HolidayFetchDeps,
  warnings: string[],
): Promise<RefreshedCalendarFile | undefined> {
  let json: unknown;
  try {
    const res = await deps.fetch(url, { signal: AbortSignal.timeout(deps.timeoutMs ?? REFRESH_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    json = await res.json();
  } catch (err) {
    warnings.push(`refresh_unreachable: ${url}: ${(err as Error).message}; kept the shipped calendar`);
    return undefined;
  }
  try {
    const parsed = parseRefreshedHolidays(json);
    if (parsed.dropped > 0) warnings.push(`refresh_items_dropped: ${parsed.dropped} unparsable items in ${url}`);
    return { source_url: url, fetched_at: deps.now().toISOString(), ...parsed };
  } catch (err) {
    warnings.push(`refresh_unusable: ${url}: ${(err as Error).message}; kept the shipped calendar`);
    return undefined;
  }
}

/** The `data.calendar` job's result (data-chain §10.2 `calendar`, without the CLI-only day views). */
export interface CalendarJobResult {
  ok: true;
  covers: { from: string; to: string };
  holidays_total: number;
  refreshed: boolean;
  refresh: {
    source_url: string;
    fetched_at: string;
    covers: { from: string; to: string };
    holidays_total: number;
  } | null;
  disagreements: CalendarDisagreement[];
  warnings: string[];
}

/**
 * Refresh the stored list when `refresh` is set, then report the calendar every data job now sees (a malformed
 * stored file is an error naming it, as for the data jobs).
 */
export async function runCalendarJob(
  deps: HolidayFetchDeps & { artifacts: ArtifactStore; holidayUrl: string },
  params: { refresh: boolean },
): Promise<CalendarJobResult> {
  const warnings: string[] = [];
  let refreshed = false;
  if (params.refresh) {
    const file = await fetchHolidayList(deps.holidayUrl, deps, warnings);
    if (file) {
      await deps.artifacts.put(REFRESHED_CALENDAR_KEY, JSON.stringify(file, null, 2));
      refreshed = true;
    }
  }
  const { overrides, refreshed: file } = await loadCalendarFiles(deps.artifacts);
  const cal = new TradingCalendar(SHIPPED_CALENDAR_DATA, overrides, file);
  const disagreements = file ? calendarDisagreements(SHIPPED_CALENDAR_DATA, file) : [];
  if (disagreements.length > 0) {
    warnings.push(
      `calendar_disagreements: ${disagreements.length} weekday(s) differ between the shipped and the refreshed list; the shipped list is kept`,
    );
  }
  return {
    ok: true,
    covers: cal.covers,
    holidays_total: cal.holidays().length,
    refreshed,
    refresh: file
      ? {
          source_url: file.source_url,
          fetched_at: file.fetched_at,
          covers: file.covers,
          holidays_total: file.holidays.length,
        }
      : null,
    disagreements,
    warnings,
  };
}
