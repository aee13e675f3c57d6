/**
 * Continuous (main-contract) mapping (market-protocol §1.9). History comes from `GET <files>/continuous_table.json`
 * (`{"SHFE.cu": [[20250102, "SHFE.cu2503"], ...], ...}`), read as a step function over the shared calendar (the file
 * may list every day or only the changes); the current trading day comes from `KQ.m@SHFE.<var>` `underlying_symbol`.
 * An underlying of another variety, or a return to an earlier main, is a `DataIntegrityError`. The file is cached
 * for at most one hour.
 */
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { tradingDayOf } from '#shared/domain/market/sessions.ts';
import { parseContractSymbol } from '#shared/domain/market/symbols.ts';
import { parseVariety } from '#shared/domain/market/varieties.ts';
import { DataIntegrityError, DiffHttpError } from '#shared/errors/diff.ts';
import type { TokenProvider } from './auth.ts';
import type { DiffConfig } from './config.ts';
import { authorizedGet } from './discovery.ts';
import { compactDay, isoDay } from './download.ts';

export type ContinuousTable = Record<string, [string, string][]>;

const CACHE_MS = 3_600_000;

export class ContinuousTableSource {
  private cached: { at: number; table: ContinuousTable } | undefined;

  constructor(
    private readonly cfg: DiffConfig,
    private readonly tokens: Pick<TokenProvider, 'accessToken' | 'onUnauthorized' | 'onAuthorized'>,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The table, from cache when younger than one hour. Days are `YYYY-MM-DD`. */
  async table(): Promise<ContinuousTable> {
    const now = this.nowMs();
    if (this.cached && now - this.cached.at < CACHE_MS) return this.cached.table;
    const res = await authorizedGet(this.tokens, `${this.cfg.filesUrl}/continuous_table.json`, this.cfg);
    if (res.status !== 200) throw new DiffHttpError(`continuous_table.json answered HTTP ${res.status}`, res.status);
    const table = parseContinuousTable(res.body);
    this.cached = { at: now, table };
    return table;
  }
}

/** Validate the file's shape; entries become `[YYYY-MM-DD, underlying]`, sorted by day. */
export function parseContinuousTable(body: unknown): ContinuousTable {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DataIntegrityError('continuous_table.json is not an object');
  }
  const out: ContinuousTable = {};
  for (const [key, entries] of Object.entries(body)) {
    if (!Array.isArray(entries)) throw new DataIntegrityError(`continuous_table.json: ${key} is not a list`);
    const rows: [string, string][] = [];
    for (const e of entries) {
      const day = Array.isArray(e) ? e[0] : undefined;
      const sym = Array.isArray(e) ? e[1] : undefined;
      const dayText = typeof day === 'number' || typeof day === 'bigint' ? String(day) : day;
      if (typeof dayText !== 'string' || !/^\d{8}$/.test(dayText) || typeof sym !== 'string') {
        throw new DataIntegrityError(`continuous_table.json: bad entry under ${key}: ${JSON.stringify(String(e))}`);
      }
      rows.push([isoDay(dayText), sym]);
    }
    rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    out[key] = rows;
  }
  return out;
}

/**
 * The mapping for `[fromDay, toDay]` (trading days only, `YYYYMMDD` out). `today` = the current trading day and its
 * live underlying (from `KQ.m@` `underlying_symbol`), used for days past the table's last entry.
 */
export function continuousMappingFrom(
  cal: TradingCalendar,
  table: ContinuousTable,
  varietyText: string,
  fromDay: string,
  toDay: string,
  today?: { trading_day: string; underlying: string },
): { trading_day: string; underlying: string }[] {
  const variety = parseVariety(varietyText);
  const key = `SHFE.${variety}`;
  const entries = [...(table[key] ?? [])];
  if (today !== undefined) {
    const t = isoDay(today.trading_day);
    const last = entries[entries.length - 1];
    if (last === undefined || last[0] < t) entries.push([t, today.underlying]);
  }
  checkSequence(key, entries, variety);
  const out: { trading_day: string; underlying: string }[] = [];
  let i = -1;
  for (const day of cal.tradingDays(isoDay(fromDay), isoDay(toDay))) {
    while (i + 1 < entries.length && (entries[i + 1]?.[0] ?? '') <= day) i++;
    const e = entries[i];
    if (e === undefined) {
      throw new DataIntegrityError(`continuous mapping: no entry for ${key} on or before ${day}`, { variety, day });
    }
    // The step function never extends past the current trading day into the future.
    if (today !== undefined && day > isoDay(today.trading_day)) {
      throw new DataIntegrityError(`continuous mapping: ${day} is after the current trading day ${today.trading_day}`, {
        variety,
        day,
      });
    }
    out.push({ trading_day: compactDay(day), underlying: e[1] });
  }
  return out;
}

function checkSequence(key: string, entries: [string, string][], variety: string): void {
  const seen = new Set<string>();
  let current: string | undefined;
  for (const [day, sym] of entries) {
    let v: string;
    try {
      v = parseContractSymbol(sym).variety;
    } catch {
      throw new DataIntegrityError(`continuous mapping: ${key} on ${day} maps to ${sym}, not a contract`, { day, sym });
    }
    if (v !== variety) {
      throw new DataIntegrityError(`continuous mapping: ${key} on ${day} maps to ${sym} of another variety`, {
        day,
        sym,
      });
    }
    if (sym === current) continue;
    if (seen.has(sym)) {
      throw new DataIntegrityError(`continuous mapping: ${key} returns to an earlier main ${sym} on ${day}`, {
        day,
        sym,
      });
    }
    seen.add(sym);
    current = sym;
  }
}

/** The trading day (`YYYY-MM-DD`) containing `ns` for a variety (shared calendar). */
export function currentTradingDay(cal: TradingCalendar, ns: bigint, variety: string): string {
  return tradingDayOf(cal, ns, 'SHFE', parseVariety(variety)).trading_day;
}
