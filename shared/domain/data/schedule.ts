/**
 * Main-contract roll schedule (data-chain §4): the provider's continuous-mapping observations expanded over the
 * trading calendar into one row per trading day (a step function), `segment_id`s, the predecessor-compatible
 * `schedule_hash` with its prefix lineage, change classification and alias resolution. Pure: the caller supplies
 * the observations, the window and the calendar, and persists what `classifyScheduleChange` says.
 */
import { createHash } from 'node:crypto';
import {
  MainScheduleNotFoundError,
  ScheduleBackwardRollError,
  ScheduleForeignUnderlyingError,
  ScheduleInputError,
} from '../../errors/data.ts';
import { SymbolParseError } from '../../errors/market.ts';
import { sha256Hex } from '../control/canonical-json.ts';
import type { TradingCalendar } from '../market/calendar/calendar.ts';
import { isIsoDay } from '../market/calendar/days.ts';
import { type ContractSymbol, continuousSymbol, parseAnySymbol, parseContractSymbol } from '../market/symbols.ts';
import type { Variety } from '../market/varieties.ts';

/** Exchange prefixes kept as given when normalising an underlying (§4.2 rule 1); any other prefix is replaced. */
export const KNOWN_EXCHANGES = ['SHFE', 'DCE', 'CZCE', 'CFFEX', 'INE', 'GFEX'] as const;

/** One continuous-mapping observation: on `trading_day` the alias pointed at `underlying`. */
export interface MappingObservation {
  trading_day: string;
  underlying: string;
}

/** What `MarketDataSource.continuousMapping(exchange, variety)` returns (§4.1). */
export interface ContinuousMapping {
  exchange: string;
  variety: Variety;
  observations: readonly MappingObservation[];
  /** The last trading day the source vouches for; the schedule never extends past it. */
  as_of: string;
}

export interface ScheduleRow {
  trading_day: string;
  main_contract: string;
  segment_id: number;
}

export interface MainSchedule {
  exchange: string;
  variety: Variety;
  /** The continuous alias and dataset `symbol`, `KQ.m@SHFE.cu`. */
  alias: string;
  start: string;
  end: string;
  rows: readonly ScheduleRow[];
  schedule_hash: string;
}

export interface ScheduleWarning {
  code: 'intraday_alias_change';
  trading_day: string;
  /** The first observation of the day, which is the one in effect. */
  kept: string;
  /** A later, different observation of the same day; it takes effect only through a later day's observation. */
  ignored: string;
}

/**
 * Normalise an observed underlying to `EXCHANGE.<lower-alnum>` (§4.2 rule 1): `cu2502` and `SHFE.CU2502` →
 * `SHFE.cu2502`. The exchange prefix is kept when it is a known exchange, else `exchange` is used.
 */
export function normaliseUnderlying(raw: string, exchange: string): string {
  const text = String(raw).trim();
  const dot = text.indexOf('.');
  const prefix = dot >= 0 ? text.slice(0, dot).toUpperCase() : '';
  const code = (dot >= 0 ? text.slice(dot + 1) : text).toLowerCase().replace(/[^a-z0-9]/g, '');
  const ex = (KNOWN_EXCHANGES as readonly string[]).includes(prefix) ? prefix : exchange.toUpperCase();
  return `${ex}.${code}`;
}

/** Normalised contract of an observation, refused unless it belongs to `exchange`/`variety`. */
function observedContract(o: MappingObservation, exchange: string, variety: Variety): ContractSymbol {
  const symbol = normaliseUnderlying(o.underlying, exchange);
  let contract: ContractSymbol;
  try {
    contract = parseContractSymbol(symbol);
  } catch (err) {
    if (err instanceof SymbolParseError) {
      throw new ScheduleForeignUnderlyingError(String(o.underlying), { exchange, variety }, o.trading_day, {
        cause: err,
      });
    }
    throw err;
  }
  if (contract.exchange !== exchange.toUpperCase() || contract.variety !== variety) {
    throw new ScheduleForeignUnderlyingError(String(o.underlying), { exchange, variety }, o.trading_day);
  }
  return contract;
}

interface EffectiveObservation {
  trading_day: string;
  contract: ContractSymbol;
}

/**
 * Observations sorted by trading day with one per day: the first seen wins (§4.2 rule 3), a later different value
 * becomes an `intraday_alias_change` warning.
 */
function effectiveObservations(
  mapping: Pick<ContinuousMapping, 'exchange' | 'variety' | 'observations'>,
  warnings: ScheduleWarning[],
): EffectiveObservation[] {
  const byDay = new Map<string, EffectiveObservation>();
  for (const o of mapping.observations) {
    if (!isIsoDay(o.trading_day)) {
      throw new ScheduleInputError(
        `observation trading_day ${JSON.stringify(String(o.trading_day))} is not YYYY-MM-DD`,
      );
    }
    const contract = observedContract(o, mapping.exchange, mapping.variety);
    const first = byDay.get(o.trading_day);
    if (first === undefined) byDay.set(o.trading_day, { trading_day: o.trading_day, contract });
    else if (first.contract.symbol !== contract.symbol) {
      warnings.push({
        code: 'intraday_alias_change',
        trading_day: o.trading_day,
        kept: first.contract.symbol,
        ignored: contract.symbol,
      });
    }
  }
  return [...byDay.values()].sort((a, b) =>
    a.trading_day < b.trading_day ? -1 : a.trading_day > b.trading_day ? 1 : 0,
  );
}

/**
 * The window's last day (§4.1): the latest trading day ≤ `today` and ≤ `as_of`. Throws `ScheduleInputError` when
 * it falls before `start`.
 */
export function scheduleWindowEnd(calendar: TradingCalendar, start: string, today: string, asOf: string): string {
  for (const [name, v] of [
    ['start', start],
    ['today', today],
    ['as_of', asOf],
  ] as const) {
    if (!isIsoDay(v)) throw new ScheduleInputError(`${name} ${JSON.stringify(String(v))} is not YYYY-MM-DD`);
  }
  const cap = today < asOf ? today : asOf;
  const end = calendar.isTradingDay(cap) ? cap : calendar.prevTradingDay(cap);
  if (end < start) throw new ScheduleInputError(`window end ${end} is before start ${start}`);
  return end;
}

/** `segment_id` = 0 on the first row, +1 whenever `main_contract` differs from the previous row (§4.2 rule 5). */
export function assignSegments(days: readonly { trading_day: string; main_contract: string }[]): ScheduleRow[] {
  let segment = 0;
  return days.map((d, i) => {
    if (i > 0 && d.main_contract !== days[i - 1]?.main_contract) segment++;
    return { trading_day: d.trading_day, main_contract: d.main_contract, segment_id: segment };
  });
}

/** Fails with `schedule_backward_roll` unless every switch goes to a strictly later delivery month (§4.2 rule 4). */
export function assertForwardRolls(rows: readonly ScheduleRow[]): void {
  for (let i = 1; i < rows.length; i++) {
    const prev = rows[i - 1] as ScheduleRow;
    const row = rows[i] as ScheduleRow;
    if (row.main_contract === prev.main_contract) continue;
    const a = parseContractSymbol(prev.main_contract);
    const b = parseContractSymbol(row.main_contract);
    if (b.year * 12 + b.month <= a.year * 12 + a.month) throw new ScheduleBackwardRollError(prev, row);
  }
}

export interface BuildScheduleInput {
  calendar: TradingCalendar;
  mapping: ContinuousMapping;
  /** Window start (`GHTRADER_L5_START_DATE[_<VAR>]`, resolved by the caller). */
  start: string;
  /** Today's date in CST; the window never extends past it. */
  today: string;
}

export interface BuiltSchedule {
  schedule: MainSchedule;
  warnings: ScheduleWarning[];
}

/**
 * Expand the mapping over the calendar's trading days in [start, end] (§4.2): each day takes the latest observation
 * on or before it (observations before the window carry forward), days before the first observation are omitted.
 * Throws `ScheduleInputError` (no observations, no days), `ScheduleForeignUnderlyingError`, `ScheduleBackwardRollError`.
 */
export function buildMainSchedule(input: BuildScheduleInput): BuiltSchedule {
  const { calendar, mapping, start, today } = input;
  const exchange = mapping.exchange.toUpperCase();
  const end = scheduleWindowEnd(calendar, start, today, mapping.as_of);
  const warnings: ScheduleWarning[] = [];
  const obs = effectiveObservations({ ...mapping, exchange }, warnings);
  if (obs.length === 0)
    throw new ScheduleInputError(`no continuous-mapping observations for ${exchange}.${mapping.variety}`);

  const days = calendar.tradingDays(start, end);
  const expanded: { trading_day: string; main_contract: string }[] = [];
  let next = 0;
  let current: string | undefined;
  for (const day of days) {
    while (next < obs.length && (obs[next] as EffectiveObservation).trading_day <= day) {
      current = (obs[next] as EffectiveObservation).contract.symbol;
      next++;
    }
    if (current !== undefined) expanded.push({ trading_day: day, main_contract: current });
  }
  if (expanded.length === 0) {
    throw new ScheduleInputError(`no trading day in [${start}, ${end}] has a main contract observed on or before it`);
  }
  const rows = assignSegments(expanded);
  assertForwardRolls(rows);
  return {
    schedule: {
      exchange,
      variety: mapping.variety,
      alias: continuousSymbol(mapping.variety),
      start,
      end,
      rows,
      schedule_hash: scheduleHash(rows),
    },
    warnings,
  };
}

const SCHEDULE_HEADER = 'date,main_contract,segment_id\n';
const CONTRACT_RE = /^[A-Z]+\.[a-z0-9]+$/;

function scheduleLine(row: ScheduleRow): string {
  if (!isIsoDay(row.trading_day)) {
    throw new ScheduleInputError(
      `schedule row trading_day ${JSON.stringify(String(row.trading_day))} is not YYYY-MM-DD`,
    );
  }
  if (!CONTRACT_RE.test(row.main_contract)) {
    throw new ScheduleInputError(
      `main_contract ${JSON.stringify(String(row.main_contract))} does not match ${CONTRACT_RE}`,
    );
  }
  if (!Number.isSafeInteger(row.segment_id) || row.segment_id < 0) {
    throw new ScheduleInputError(`segment_id ${String(row.segment_id)} is not a non-negative integer`);
  }
  return `${row.trading_day},${row.main_contract},${row.segment_id}\n`;
}

/** The canonical bytes `schedule_hash` is taken over (§4.3): header, then one LF-terminated line per row. */
export function scheduleCanonicalText(rows: readonly ScheduleRow[]): string {
  return SCHEDULE_HEADER + rows.map(scheduleLine).join('');
}

/** `schedule_hash` = first 16 lowercase hex of SHA-256 over `scheduleCanonicalText(rows)` (§4.3). */
export function scheduleHash(rows: readonly ScheduleRow[]): string {
  return sha256Hex(scheduleCanonicalText(rows), 16);
}

/** The `schedule_hash` of every non-empty prefix of `rows`, shortest first, in one pass (§4.3 lineage). */
export function schedulePrefixHashes(rows: readonly ScheduleRow[]): string[] {
  const h = createHash('sha256').update(SCHEDULE_HEADER, 'utf8');
  return rows.map((row) => {
    h.update(scheduleLine(row), 'utf8');
    return h.copy().digest('hex').slice(0, 16);
  });
}

/** Whether rows stamped with `storedHash` stay valid under `rows` (the stored hash is one of its prefix hashes). */
export function isScheduleHashCompatible(storedHash: string, rows: readonly ScheduleRow[]): boolean {
  return schedulePrefixHashes(rows).includes(storedHash);
}

/** How a recomputed schedule relates to the stored one (§4.4). */
export type ScheduleRelation = 'initial' | 'noop' | 'extension' | 'rewrite';

export interface StoredSchedule {
  rows: readonly ScheduleRow[];
  /** The hash stamped on the stored rows; null when nothing is stored. */
  schedule_hash: string | null;
}

export interface ScheduleChange {
  relation: ScheduleRelation;
  previous_hash: string | null;
  schedule_hash: string;
  /** Rows to upsert (every row of the new schedule unless `noop`: each carries the new hash). */
  upsert: readonly ScheduleRow[];
  /** Stored days that left the schedule and must be deleted. */
  delete_days: string[];
  /** Days in the new schedule that were not stored. */
  appended_days: string[];
  /** Data derived under the stored hash (main_l5 ticks, features, …) is invalid and must be rebuilt. */
  rebuild_required: boolean;
}

function sameRows(a: readonly ScheduleRow[], b: readonly ScheduleRow[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((r, i) => {
    const o = b[i] as ScheduleRow;
    return r.trading_day === o.trading_day && r.main_contract === o.main_contract && r.segment_id === o.segment_id;
  });
}

/**
 * Classify the recomputed schedule against the stored one (§4.4): `noop` (same hash and rows: nothing to write),
 * `initial` (nothing stored), `extension` (stored hash is a prefix hash: rows only appended, derived data stays
 * valid) or `rewrite` (anything else: derived data must be rebuilt).
 */
export function classifyScheduleChange(stored: StoredSchedule | null, next: MainSchedule): ScheduleChange {
  const previous = stored?.schedule_hash ?? null;
  const storedRows = stored?.rows ?? [];
  const nextDays = new Set(next.rows.map((r) => r.trading_day));
  const storedDays = new Set(storedRows.map((r) => r.trading_day));
  const base = {
    previous_hash: previous,
    schedule_hash: next.schedule_hash,
    delete_days: storedRows.filter((r) => !nextDays.has(r.trading_day)).map((r) => r.trading_day),
    appended_days: next.rows.filter((r) => !storedDays.has(r.trading_day)).map((r) => r.trading_day),
  };
  if (previous === null && storedRows.length === 0) {
    return { ...base, relation: 'initial', upsert: next.rows, rebuild_required: false };
  }
  if (previous === next.schedule_hash && sameRows(storedRows, next.rows)) {
    return { ...base, relation: 'noop', upsert: [], delete_days: [], appended_days: [], rebuild_required: false };
  }
  if (previous !== null && isScheduleHashCompatible(previous, next.rows)) {
    return { ...base, relation: 'extension', upsert: next.rows, rebuild_required: false };
  }
  return { ...base, relation: 'rewrite', upsert: next.rows, rebuild_required: true };
}

export interface MainContractResolution {
  main_contract: string;
  segment_id: number;
  schedule_hash: string;
  /** The schedule row's trading day. */
  schedule_day: string;
  /** Trading days between that row and the requested day; 0 when exact. Trading callers treat > 0 as unconfirmed. */
  carried_days: number;
}

/**
 * The latest row with `trading_day ≤ day` (§4.5). Throws `MainScheduleNotFoundError` (`main_schedule_not_found`)
 * when there is none. `day` must be an ISO date the calendar covers.
 */
export function resolveMainContract(
  schedule: MainSchedule,
  day: string,
  calendar: TradingCalendar,
): MainContractResolution {
  if (!isIsoDay(day)) throw new ScheduleInputError(`trading day ${JSON.stringify(String(day))} is not YYYY-MM-DD`);
  const rows = schedule.rows;
  let lo = 0;
  let hi = rows.length; // first index with trading_day > day
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((rows[mid] as ScheduleRow).trading_day <= day) lo = mid + 1;
    else hi = mid;
  }
  const row = rows[lo - 1];
  if (row === undefined) throw new MainScheduleNotFoundError(schedule.alias, day);
  const carried = row.trading_day === day ? 0 : calendar.tradingDays(row.trading_day, day).length - 1;
  return {
    main_contract: row.main_contract,
    segment_id: row.segment_id,
    schedule_hash: schedule.schedule_hash,
    schedule_day: row.trading_day,
    carried_days: carried,
  };
}

/** Resolves continuous aliases (`KQ.m@SHFE.cu`) to their underlying contract for a trading day. */
export class MainScheduleResolver {
  private readonly byAlias = new Map<string, MainSchedule>();

  constructor(
    schedules: Iterable<MainSchedule>,
    private readonly calendar: TradingCalendar,
  ) {
    for (const s of schedules) this.byAlias.set(s.alias, s);
  }

  /** The full §4.5 answer for `alias` on `tradingDay`. */
  resolveDetail(alias: string, tradingDay: string): MainContractResolution {
    const parsed = parseAnySymbol(alias);
    if (parsed.kind !== 'continuous') throw new SymbolParseError(alias, 'a continuous alias KQ.m@SHFE.<cu|au|ag>');
    const schedule = this.byAlias.get(alias);
    if (schedule === undefined) throw new MainScheduleNotFoundError(alias, tradingDay);
    return resolveMainContract(schedule, tradingDay, this.calendar);
  }

  /** The underlying contract `alias` maps to on `tradingDay`, e.g. `SHFE.cu2502`. */
  resolve(alias: string, tradingDay: string): string {
    return this.resolveDetail(alias, tradingDay).main_contract;
  }
}
