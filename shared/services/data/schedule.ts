/**
 * Job `data.schedule` (data-chain §4): recompute the main-contract roll schedule of a variety from the provider's
 * continuous mapping, classify it against the stored one (noop / initial / extension / rewrite), persist it (upsert
 * every row with the new hash, delete days that left the window), run the health gate against the stored rows and
 * write the report. Runs under the worker-held lock `main_schedule:var=<v>`.
 */

import type { LockStore } from '../../domain/control/locks.ts';
import type { ArtifactStore } from '../../domain/data/artifacts.ts';
import { writeReport } from '../../domain/data/artifacts.ts';
import {
  buildMainSchedule,
  classifyScheduleChange,
  type MainSchedule,
  type ScheduleRow,
  scheduleHash,
} from '../../domain/data/schedule.ts';
import {
  type Resolved,
  resolveBoolean,
  resolveDate,
  resolveNumber,
  type SettingLayers,
} from '../../domain/data/settings.ts';
import { TABLES } from '../../domain/data/tick-columns.ts';
import { dayTsMicros, msToMicros, type Row, type TickStore } from '../../domain/data/tick-store.ts';
import type { TradingCalendar } from '../../domain/market/calendar/calendar.ts';
import { cstDayOf } from '../../domain/market/cst.ts';
import type { MarketDataSource } from '../../domain/market/ports.ts';
import type { SessionVersion } from '../../domain/market/sessions.ts';
import type { Variety } from '../../domain/market/varieties.ts';
import { DataChainError } from '../../errors/data.ts';
import { recordObservedSessions } from './sessions.ts';

export const SCHEDULE_TABLE = TABLES.mainSchedule;
const EXCHANGE = 'SHFE';

export class ScheduleHealthError extends DataChainError {
  constructor(problems: string[]) {
    super('main_schedule_health_failed', `main schedule health check failed: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
}

export interface ScheduleDeps {
  store: TickStore;
  market: MarketDataSource;
  /** For the `calendar/sessions.json` append (one writer across varieties). */
  locks: LockStore;
  calendar: TradingCalendar;
  settings: SettingLayers;
  artifacts: ArtifactStore;
  clock: { nowMs(): number };
  /** Sleep between WAL polls (tests shorten it). */
  sleep?: (ms: number) => Promise<void>;
}

export interface ScheduleReport {
  ok: boolean;
  created_at: string;
  exchange: string;
  variety: Variety;
  symbol: string;
  start_date: string;
  start_date_source: string;
  end_date: string;
  as_of: string;
  rows: number;
  schedule_hash: string;
  previous_hash: string | null;
  relation: 'initial' | 'noop' | 'extension' | 'rewrite';
  rebuild_required: boolean;
  distinct_main_contracts: string[];
  segments: { segment_id: number; main_contract: string; first_day: string; last_day: string; days: number }[];
  observations: number;
  warnings: unknown[];
  rows_upserted: number;
  rows_deleted: number;
  health: { enforced: boolean; checked: boolean; ok: boolean; problems: string[] };
  /** §3.2: the main contract's `trading_time` on the last scheduled day against the session version in effect. */
  sessions: SessionsCheck;
  /** True when this run appended a session version to `calendar/sessions.json`. */
  sessions_changed: boolean;
  report_uri: string;
}

export type SessionsCheck =
  | {
      checked: false;
      reason: 'empty_schedule' | 'contract_not_listed' | 'provider_has_no_trading_time';
      contract?: string;
    }
  | {
      checked: true;
      contract: string;
      observed_day: string;
      change: 'none' | 'appended' | 'conflict';
      in_effect_from: string;
      /** The appended version, or the observed one a conflict refused. */
      version?: SessionVersion;
    };

/**
 * §3.2: compare the provider's `trading_time` of the last scheduled day's main contract with the session version in
 * effect that day; a difference appends a version from that day (`calendar/sessions.json`), never rewriting earlier
 * days. A conflict (a version already starts on or after that day) is reported as a warning, nothing written.
 */
async function checkProviderSessions(
  deps: Pick<ScheduleDeps, 'market' | 'artifacts' | 'locks'>,
  variety: Variety,
  schedule: MainSchedule,
  jobId: string,
): Promise<SessionsCheck> {
  const last = schedule.rows[schedule.rows.length - 1];
  if (last === undefined) return { checked: false, reason: 'empty_schedule' };
  // Expired contracts included: the provider may list by its own clock, and the main contract of the last scheduled
  // day is what was observed, whether or not it has expired since.
  const contract = (await deps.market.listContracts(variety, { includeExpired: true })).find(
    // The contract service names instruments `SHFE.cu2504`; a bare `cu2504` is qualified with its exchange.
    (c) =>
      (c.instrument_id.includes('.') ? c.instrument_id : `${c.exchange_id}.${c.instrument_id}`) === last.main_contract,
  );
  if (contract === undefined) return { checked: false, reason: 'contract_not_listed', contract: last.main_contract };
  if (contract.trading_time === null) {
    return { checked: false, reason: 'provider_has_no_trading_time', contract: last.main_contract };
  }
  const obs = await recordObservedSessions(deps, variety, last.trading_day, contract.trading_time, jobId);
  return {
    checked: true,
    contract: last.main_contract,
    observed_day: last.trading_day,
    change: obs.change,
    in_effect_from: obs.in_effect.effective_from,
    ...(obs.change === 'appended'
      ? { version: obs.version }
      : obs.change === 'conflict'
        ? { version: obs.observed }
        : {}),
  };
}

/** The window start (§4.1): `GHTRADER_L5_START_DATE_<VAR>` → `GHTRADER_L5_START_DATE`, else an error saying so. */
export function resolveScheduleStart(layers: SettingLayers, variety: Variety): Resolved<string> {
  const r = resolveDate(layers, { key: 'GHTRADER_L5_START_DATE' }, variety);
  if (!r) {
    throw new DataChainError(
      'l5_start_date_unset',
      `no schedule start for ${variety}: set GHTRADER_L5_START_DATE_${variety.toUpperCase()} (or GHTRADER_L5_START_DATE) to the first L5 day; ghtrader data l5-start --var ${variety} finds it`,
    );
  }
  return r;
}

/** The stored schedule of a variety, ordered by day, with its hash set. */
export async function readStoredSchedule(
  store: TickStore,
  variety: Variety,
): Promise<{ rows: ScheduleRow[]; hashes: string[] }> {
  const stored = await store.readRows(SCHEDULE_TABLE.name, { exchange: EXCHANGE, variety });
  const rows = stored
    .map((r) => ({
      trading_day: String(r.trading_day),
      main_contract: String(r.main_contract),
      segment_id: Number(r.segment_id as bigint),
    }))
    .sort((a, b) => (a.trading_day < b.trading_day ? -1 : a.trading_day > b.trading_day ? 1 : 0));
  const hashes = [...new Set(stored.map((r) => String(r.schedule_hash)))].sort();
  return { rows, hashes };
}

/** The stored schedule as a `MainSchedule` (for builds and resolution); null when nothing is stored. */
export async function loadMainSchedule(store: TickStore, variety: Variety): Promise<MainSchedule | null> {
  const { rows, hashes } = await readStoredSchedule(store, variety);
  if (rows.length === 0) return null;
  if (hashes.length !== 1) {
    throw new DataChainError(
      'main_schedule_mixed_hash',
      `stored schedule of ${variety} carries ${hashes.length} schedule_hash values (${hashes.join(', ')}); run ghtrader data schedule --var ${variety}`,
    );
  }
  const hash = hashes[0] as string;
  if (scheduleHash(rows) !== hash) {
    throw new DataChainError(
      'main_schedule_hash_mismatch',
      `stored schedule of ${variety}: schedule_hash ${hash} does not match its rows (recomputed ${scheduleHash(rows)}); run ghtrader data schedule --var ${variety}`,
    );
  }
  const first = rows[0] as ScheduleRow;
  const last = rows[rows.length - 1] as ScheduleRow;
  return {
    exchange: EXCHANGE,
    variety,
    alias: `KQ.m@${EXCHANGE}.${variety}`,
    start: first.trading_day,
    end: last.trading_day,
    rows,
    schedule_hash: hash,
  };
}

const compact = (d: string) => d.replaceAll('-', '');
const iso = (d: string) => (d.includes('-') ? d : `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`);

export async function runSchedule(
  deps: ScheduleDeps,
  req: { variety: Variety; jobId: string },
): Promise<ScheduleReport> {
  const { store, calendar, settings } = deps;
  const variety = req.variety;
  const nowMs = deps.clock.nowMs();
  const start = resolveScheduleStart(settings, variety);
  const enforce = resolveBoolean(
    settings,
    { key: 'GHTRADER_MAIN_SCHEDULE_ENFORCE_HEALTH', default: true, fallbacks: ['GHTRADER_PIPELINE_ENFORCE_HEALTH'] },
    variety,
  );
  const walWaitS = resolveNumber(settings, { key: 'GHTRADER_HEALTH_WAL_WAIT_S', default: 30, min: 1 }).value;
  await store.assertRequiredColumns(SCHEDULE_TABLE);

  // The provider vouches for days up to the latest trading day ≤ today (CST); the mapping never goes past it.
  // "Today" on both the wall clock and the provider's (the simulator may run in the past): the earlier one.
  const wallNs = BigInt(nowMs) * 1_000_000n;
  const providerNs = (await deps.market.marketNow?.()) ?? wallNs;
  const today = cstDayOf(providerNs < wallNs ? providerNs : wallNs);
  const lastDay = calendar.isTradingDay(today) ? today : calendar.prevTradingDay(today);
  if (lastDay < start.value) {
    throw new DataChainError(
      'schedule_window_empty',
      `schedule start ${start.value} is after the last trading day ${lastDay}`,
    );
  }
  const observed = await deps.market.continuousMapping(variety, compact(start.value), compact(lastDay));
  const observations = observed.map((o) => ({ trading_day: iso(o.trading_day), underlying: o.underlying }));
  const asOf =
    observations.length > 0 ? (observations[observations.length - 1] as { trading_day: string }).trading_day : lastDay;
  const built = buildMainSchedule({
    calendar,
    mapping: { exchange: EXCHANGE, variety, observations, as_of: asOf },
    start: start.value,
    today,
  });
  const next = built.schedule;
  const stored = await readStoredSchedule(store, variety);
  const storedHash = stored.hashes.length === 1 ? (stored.hashes[0] as string) : stored.hashes.length === 0 ? null : '';
  const change = classifyScheduleChange({ rows: stored.rows, schedule_hash: storedHash }, next);

  let deleted = 0;
  if (change.relation !== 'noop') {
    const rows: Row[] = change.upsert.map((r) => ({
      exchange: EXCHANGE,
      variety,
      trading_day: r.trading_day,
      main_contract: r.main_contract,
      segment_id: BigInt(r.segment_id),
      schedule_hash: next.schedule_hash,
      updated_at: msToMicros(nowMs),
      ts: dayTsMicros(r.trading_day),
    }));
    await store.writeRows(SCHEDULE_TABLE.name, rows);
    if (change.delete_days.length > 0) {
      deleted = await store.deleteRows(SCHEDULE_TABLE.name, {
        exchange: EXCHANGE,
        variety,
        tradingDays: change.delete_days,
        lockOwner: req.jobId, // the job runner holds main_schedule:var=<v> for this job
      });
    }
  }

  const health = { enforced: enforce.value, checked: false, ok: true, problems: [] as string[] };
  if (enforce.value) {
    health.checked = true;
    health.problems = await scheduleHealth(deps, variety, next, walWaitS);
    health.ok = health.problems.length === 0;
  }

  const sessions = await checkProviderSessions(deps, variety, next, req.jobId);
  const warnings: unknown[] = [...built.warnings];
  if (sessions.checked && sessions.change === 'conflict') {
    warnings.push({
      code: 'sessions_conflict',
      message: `provider trading_time of ${sessions.contract} on ${sessions.observed_day} differs from the session version in effect, but a version already starts on or after that day; nothing appended (past days are never rewritten)`,
      observed: sessions.version,
    });
  }

  const segments = segmentsOf(next.rows);
  const report: Omit<ScheduleReport, 'report_uri'> = {
    ok: health.ok,
    created_at: new Date(nowMs).toISOString(),
    exchange: EXCHANGE,
    variety,
    symbol: next.alias,
    start_date: start.value,
    start_date_source: start.source,
    end_date: next.end,
    as_of: asOf,
    rows: next.rows.length,
    schedule_hash: next.schedule_hash,
    previous_hash: change.previous_hash,
    relation: change.relation,
    rebuild_required: change.rebuild_required,
    distinct_main_contracts: [...new Set(next.rows.map((r) => r.main_contract))],
    segments,
    observations: observations.length,
    warnings,
    rows_upserted: change.upsert.length,
    rows_deleted: deleted,
    health,
    sessions,
    sessions_changed: sessions.checked && sessions.change === 'appended',
  };
  const uri = await writeReport(deps.artifacts, 'main_schedule', variety, nowMs, req.jobId, report);
  if (!health.ok) throw new ScheduleHealthError(health.problems);
  return { ...report, report_uri: uri };
}

export function segmentsOf(rows: readonly ScheduleRow[]): ScheduleReport['segments'] {
  const out: ScheduleReport['segments'] = [];
  for (const r of rows) {
    const last = out[out.length - 1];
    if (last && last.segment_id === r.segment_id) {
      last.last_day = r.trading_day;
      last.days++;
    } else {
      out.push({
        segment_id: r.segment_id,
        main_contract: r.main_contract,
        first_day: r.trading_day,
        last_day: r.trading_day,
        days: 1,
      });
    }
  }
  return out;
}

/**
 * §4.4 health gate: poll (WAL) until the stored count equals the expected count, then compare the stored rows with
 * the schedule: same ordered days, contracts, segments, one hash equal to the new one, and that hash recomputed from
 * the stored rows. Returns the problems (empty = healthy).
 */
export async function scheduleHealth(
  deps: Pick<ScheduleDeps, 'store' | 'clock' | 'sleep'>,
  variety: Variety,
  next: MainSchedule,
  walWaitS: number,
): Promise<string[]> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = deps.clock.nowMs() + walWaitS * 1000;
  let stored = await readStoredSchedule(deps.store, variety);
  for (;;) {
    const remainingS = (deadline - deps.clock.nowMs()) / 1000;
    if (stored.rows.length === next.rows.length || remainingS <= 0) break;
    await sleep(Math.min(2, Math.max(0.5, remainingS / 2)) * 1000);
    stored = await readStoredSchedule(deps.store, variety);
  }
  const problems: string[] = [];
  if (stored.rows.length !== next.rows.length) {
    problems.push(`rows mismatch (expected=${next.rows.length}, actual=${stored.rows.length})`);
    return problems;
  }
  const days = (rows: readonly ScheduleRow[]) => rows.map((r) => r.trading_day).join(',');
  if (days(stored.rows) !== days(next.rows)) problems.push('trading_day coverage mismatch');
  if (stored.rows.map((r) => r.main_contract).join(',') !== next.rows.map((r) => r.main_contract).join(',')) {
    problems.push('main_contract sequence mismatch');
  }
  if (stored.rows.map((r) => r.segment_id).join(',') !== next.rows.map((r) => r.segment_id).join(',')) {
    problems.push('segment_id sequence mismatch');
  }
  if (
    stored.hashes.length !== 1 ||
    stored.hashes[0] !== next.schedule_hash ||
    scheduleHash(stored.rows) !== next.schedule_hash
  ) {
    problems.push(
      `schedule_hash mismatch (expected=${next.schedule_hash}, stored=[${stored.hashes.join(', ')}], recomputed=${scheduleHash(stored.rows)})`,
    );
  }
  return problems;
}
