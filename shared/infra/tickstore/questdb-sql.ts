/**
 * Pure pieces of the QuestDB `TickStore` (data-chain §1): settings from the environment, the DDL dialect, strict SQL
 * literal quoting (QuestDB's `/exec` has no bind parameters), partition names and bounds for `DROP PARTITION LIST`,
 * the exact per-day row-hash aggregate query, the WAL poll schedule and the transport retry backoff. No I/O here.
 */

import type { RowHashAggregates } from '../../domain/data/row-hash.ts';
import type { ColumnDef, ColumnType, TableDef } from '../../domain/data/tick-columns.ts';
import { TABLE_NAMES } from '../../domain/data/tick-columns.ts';
import {
  assertIdentifier,
  assertTradingDay,
  type DeleteScope,
  type RowFilter,
  type TickStoreDialect,
  TickStoreInputError,
  TickStoreVerifyError,
} from '../../domain/data/tick-store.ts';
import { QueryNotAllowedError } from '../../errors/control.ts';
import { DataChainError } from '../../errors/data.ts';

/** Partition units the adapter creates and rewrites (§1.1). */
export const PARTITION_UNITS = ['DAY', 'MONTH', 'YEAR'] as const;
export type PartitionUnit = (typeof PARTITION_UNITS)[number];

export interface QuestDbSettings {
  /** `GHTRADER_QDB_TICKS_PARTITION_BY` ∈ {DAY, MONTH, YEAR}, case-insensitive; default DAY. */
  readonly ticksPartitionBy: PartitionUnit;
  /** `GHTRADER_HEALTH_WAL_WAIT_S`: how long a write waits for QuestDB to apply its WAL (default 30, min 1). */
  readonly walWaitS: number;
  /** `GHTRADER_QDB_ILP_RETRY_MAX`: retries of an ILP request after a transport error (default 1). */
  readonly ilpRetryMax: number;
}

/** A QuestDB setting that cannot be used as given: a startup error, never a silent fallback (§1.1). */
export class QuestDbConfigError extends DataChainError {
  constructor(key: string, value: string, expected: string) {
    super('questdb_config_invalid', `invalid ${key}=${JSON.stringify(value)}: expected ${expected}`, {
      details: { key, value, expected },
    });
  }
}

export function parsePartitionUnit(raw: string | undefined, key = 'GHTRADER_QDB_TICKS_PARTITION_BY'): PartitionUnit {
  if (raw === undefined || raw.trim() === '') return 'DAY';
  const unit = raw.trim().toUpperCase();
  if (!(PARTITION_UNITS as readonly string[]).includes(unit)) {
    throw new QuestDbConfigError(key, raw, 'one of DAY, MONTH, YEAR (case-insensitive)');
  }
  return unit as PartitionUnit;
}

export function parseWalWaitS(raw: string | undefined, key = 'GHTRADER_HEALTH_WAL_WAIT_S'): number {
  if (raw === undefined || raw.trim() === '') return 30;
  const s = Number(raw);
  if (!Number.isFinite(s) || s < 1) throw new QuestDbConfigError(key, raw, 'a number of seconds >= 1');
  return s;
}

export function parseRetryMax(raw: string | undefined, key = 'GHTRADER_QDB_ILP_RETRY_MAX'): number {
  if (raw === undefined || raw.trim() === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 10) throw new QuestDbConfigError(key, raw, 'an integer from 0 to 10');
  return n;
}

export function questDbSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): QuestDbSettings {
  return {
    ticksPartitionBy: parsePartitionUnit(env.GHTRADER_QDB_TICKS_PARTITION_BY),
    walWaitS: parseWalWaitS(env.GHTRADER_HEALTH_WAL_WAIT_S),
    ilpRetryMax: parseRetryMax(env.GHTRADER_QDB_ILP_RETRY_MAX),
  };
}

/** Store type names per catalogue type (§1.1). Newer QuestDB reports STRING columns as VARCHAR: both are accepted. */
export const QUESTDB_TYPES: Readonly<Record<ColumnType, string>> = {
  SYMBOL: 'SYMBOL',
  STRING: 'STRING',
  LONG: 'LONG',
  DOUBLE: 'DOUBLE',
  TIMESTAMP: 'TIMESTAMP',
};

/** Real QuestDB type names that satisfy a declared STRING column. */
export const QUESTDB_STRING_TYPES: readonly string[] = ['STRING', 'VARCHAR'];

/** The partition unit of a table: only the tick table follows `GHTRADER_QDB_TICKS_PARTITION_BY` (§1.1). */
export function partitionUnitFor(table: string, ticksPartitionBy: PartitionUnit): PartitionUnit {
  return table === TABLE_NAMES.ticksMainL5 ? ticksPartitionBy : 'DAY';
}

/**
 * `CREATE TABLE IF NOT EXISTS … TIMESTAMP(ts) PARTITION BY <unit> WAL [DEDUP UPSERT KEYS(…)]` — the QuestDB
 * CREATE TABLE grammar (questdb.com/docs/query/sql/create-table): DEDUP needs a WAL table and the designated
 * timestamp among the keys (docs: alter-table-enable-deduplication).
 */
export function createTableSql(def: TableDef, unit: PartitionUnit): string {
  const cols = def.columns.map((c) => `${assertIdentifier(c.name)} ${QUESTDB_TYPES[c.type]}`).join(', ');
  if (!def.columns.some((c) => c.name === 'ts' && c.type === 'TIMESTAMP')) {
    throw new TickStoreInputError(`table ${def.name} has no ts TIMESTAMP column`, { table: def.name });
  }
  // A legacy shape (e.g. `ticks_lake` before migration 0002 renames it) lacks a key column: the table gets the keys
  // it has, and writes stay refused until its UPSERT KEYS match the declaration (`assertDedupKeys`).
  const keys = def.dedupKeys.filter((k) => def.columns.some((c) => c.name === k));
  const dedup = keys.length === 0 ? '' : ` DEDUP UPSERT KEYS(${keys.map((k) => assertIdentifier(k)).join(', ')})`;
  if (keys.length > 0 && !keys.includes('ts')) {
    throw new TickStoreInputError(`dedup keys of ${def.name} must include ts`, { table: def.name });
  }
  return `CREATE TABLE IF NOT EXISTS ${assertIdentifier(def.name)} (${cols}) TIMESTAMP(ts) PARTITION BY ${unit} WAL${dedup}`;
}

export function questDbDialect(ticksPartitionBy: PartitionUnit): TickStoreDialect {
  return {
    types: QUESTDB_TYPES,
    createTable: (def: TableDef) => [createTableSql(def, partitionUnitFor(def.name, ticksPartitionBy))],
    addColumn: (table: string, column: ColumnDef) =>
      `ALTER TABLE ${assertIdentifier(table)} ADD COLUMN ${assertIdentifier(column.name)} ${QUESTDB_TYPES[column.type]}`,
    renameColumn: (table: string, from: string, to: string) =>
      `ALTER TABLE ${assertIdentifier(table)} RENAME COLUMN ${assertIdentifier(from)} TO ${assertIdentifier(to)}`,
  };
}

/**
 * A SQL string literal for a value that must be inlined (`/exec` takes the statement text only: questdb.com REST
 * docs, "no support for parameterized queries"). Single quotes are doubled; control characters and lone surrogates
 * are refused outright rather than escaped, so no value can change the statement's structure.
 */
export function sqlString(value: string): string {
  if (typeof value !== 'string') throw new TickStoreInputError(`expected a string value, got ${typeof value}`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) {
      throw new TickStoreInputError(`value ${JSON.stringify(value)} contains a control character`);
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = value.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
        throw new TickStoreInputError(`value ${JSON.stringify(value)} contains a lone surrogate`);
      }
      i++;
    }
  }
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlDay(day: string): string {
  return sqlString(assertTradingDay(day));
}

/** `'a', 'b'` for an IN list of trading days; an empty list is refused (never an always-false/true guess). */
export function sqlDayList(days: readonly string[]): string {
  if (days.length === 0) throw new TickStoreInputError('tradingDays must be non-empty');
  return [...new Set(days)].map(sqlDay).join(', ');
}

const US_PER_DAY = 86_400_000_000n;

/** A TIMESTAMP literal for epoch microseconds (`'2026-01-05T00:00:00.000000Z'`). */
export function sqlTimestamp(us: bigint): string {
  const ms = us / 1000n;
  const frac = us % 1000n;
  if (us < 0n) throw new TickStoreInputError(`timestamp ${us} is before 1970`);
  const iso = new Date(Number(ms)).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `'${iso.slice(0, -1)}${frac.toString().padStart(3, '0')}Z'`;
}

export interface Partition {
  /** Name for `ALTER TABLE … DROP PARTITION LIST '<name>'` (docs: alter-table-drop-partition, concept/partitions). */
  readonly name: string;
  /** Inclusive lower and exclusive upper bound of the partition's `ts`, epoch µs (UTC). */
  readonly loUs: bigint;
  readonly hiUs: bigint;
}

/** The partition holding a `ts` of `dayUs` (any instant of that UTC day) for a table partitioned by `unit`. */
export function partitionOf(dayUs: bigint, unit: PartitionUnit): Partition {
  const d = new Date(Number(dayUs / 1000n));
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const us = (ms: number) => BigInt(ms) * 1000n;
  const yyyy = String(y).padStart(4, '0');
  const mm = String(m + 1).padStart(2, '0');
  switch (unit) {
    case 'DAY': {
      const lo = us(Date.UTC(y, m, d.getUTCDate()));
      return { name: `${yyyy}-${mm}-${String(d.getUTCDate()).padStart(2, '0')}`, loUs: lo, hiUs: lo + US_PER_DAY };
    }
    case 'MONTH':
      return { name: `${yyyy}-${mm}`, loUs: us(Date.UTC(y, m, 1)), hiUs: us(Date.UTC(y, m + 1, 1)) };
    case 'YEAR':
      return { name: yyyy, loUs: us(Date.UTC(y, 0, 1)), hiUs: us(Date.UTC(y + 1, 0, 1)) };
  }
}

/** The distinct partitions of a set of `ts` days, in ascending order. */
export function partitionsOf(daysUs: readonly bigint[], unit: PartitionUnit): Partition[] {
  const byName = new Map<string, Partition>();
  for (const d of daysUs) {
    const p = partitionOf(d, unit);
    byName.set(p.name, p);
  }
  return [...byName.values()].sort((a, b) => (a.loUs < b.loUs ? -1 : a.loUs > b.loUs ? 1 : 0));
}

export function parseTablePartitionBy(table: string, raw: unknown): PartitionUnit {
  const unit = typeof raw === 'string' ? raw.toUpperCase() : '';
  if (!(PARTITION_UNITS as readonly string[]).includes(unit)) {
    throw new DataChainError(
      'questdb_partition_unsupported',
      `table ${table} is partitioned by ${String(raw)}; partition rewrites support DAY, MONTH and YEAR only`,
      { details: { table, partition_by: raw } },
    );
  }
  return unit as PartitionUnit;
}

/**
 * The statements of one partition rewrite (§1.4), in order. `scope` selects the rows to remove; the survivors of the
 * partition are the rows NOT in it. Survivors are copied into a non-WAL staging table (`BYPASS WAL`: populated synchronously by CREATE TABLE AS SELECT),
 * the partition is dropped, the survivors are inserted back. Counting and verification happen between the steps.
 */
export function partitionRewriteSql(
  table: string,
  staging: string,
  partition: Partition,
  scope: string,
  unit: PartitionUnit,
): { copy: string; drop: string; reinsert: string; dropStaging: string; inPartition: string } {
  assertIdentifier(table);
  assertIdentifier(staging);
  const inPartition = `ts >= ${sqlTimestamp(partition.loUs)} AND ts < ${sqlTimestamp(partition.hiUs)}`;
  return {
    copy: `CREATE TABLE ${staging} AS (SELECT * FROM ${table} WHERE ${inPartition} AND NOT (${scope})) TIMESTAMP(ts) PARTITION BY ${unit} BYPASS WAL`,
    drop: `ALTER TABLE ${table} DROP PARTITION LIST ${sqlString(partition.name)}`,
    reinsert: `INSERT INTO ${table} SELECT * FROM ${staging}`,
    dropStaging: `DROP TABLE ${staging}`,
    inPartition,
  };
}

const TWO_32 = 4_294_967_296n;
const INT64_MIN = -(1n << 63n);

/**
 * Per-day row-hash aggregates computed exactly by QuestDB without any int64 overflow: each LONG is split with
 * integer division and remainder by 2^32 (QuestDB's `/` on integers is integer division and `%` the remainder,
 * docs: operators/numeric), so `v = (v / 2^32)·2^32 + v % 2^32` and the partial sums stay below 2^63 for any day.
 * `count(row_hash)` counts non-null values (docs: aggregate `count(column_name)`): QuestDB stores LONG null as
 * -2^63, so a hash of exactly -2^63 reads as null; `count() - count(row_hash)` recovers how many there were.
 * The wrap-around sums of §2.2 are then formed client-side (`combineRowHashAggregates`) — chosen over fetching every
 * hash of every day: one small row per day crosses the wire and no aggregate relies on overflow behaviour.
 */
export function rowHashAggregatesSql(table: string, where: string): string {
  return (
    `SELECT trading_day, count() n, count(row_hash) nn, min(row_hash) mn, max(row_hash) mx, ` +
    `sum(row_hash / 4294967296) hi, sum(row_hash % 4294967296) lo, ` +
    `sum(abs(row_hash) / 4294967296) ahi, sum(abs(row_hash) % 4294967296) alo ` +
    `FROM ${assertIdentifier(table)} WHERE ${where} GROUP BY trading_day ORDER BY trading_day`
  );
}

/** One row of `rowHashAggregatesSql`; LONG nulls as `null`. */
export interface RawRowHashAggregates {
  readonly n: bigint;
  readonly nn: bigint;
  readonly mn: bigint | null;
  readonly mx: bigint | null;
  readonly hi: bigint | null;
  readonly lo: bigint | null;
  readonly ahi: bigint | null;
  readonly alo: bigint | null;
}

/** Min, max and wrap-around int64 sums of §2.2 from the split partial sums (see `rowHashAggregatesSql`). */
export function combineRowHashAggregates(raw: RawRowHashAggregates): RowHashAggregates {
  const rows = Number(raw.n);
  if (rows === 0) return { rows: 0, min: null, max: null, sum: null, abs_sum: null };
  const nulls = raw.n - raw.nn; // hashes equal to -2^63 (QuestDB's LONG null)
  const z = (v: bigint | null) => v ?? 0n;
  // |−2^63| wraps to −2^63 (§2.2), so each such hash adds −2^63 to both sums.
  const sum = BigInt.asIntN(64, z(raw.hi) * TWO_32 + z(raw.lo) + nulls * INT64_MIN);
  const absSum = BigInt.asIntN(64, z(raw.ahi) * TWO_32 + z(raw.alo) + nulls * INT64_MIN);
  const min = nulls > 0n ? INT64_MIN : raw.mn;
  const max = raw.nn > 0n ? raw.mx : INT64_MIN;
  if (min === null || max === null) {
    throw new DataChainError('questdb_aggregate_invalid', 'row-hash aggregates lack min/max for a non-empty day', {
      details: { rows },
    });
  }
  return { rows, min, max, sum, abs_sum: absSum };
}

/** §1.3 WAL poll: sleep min(2, max(0.5, remaining/2)) seconds between read-backs. */
export function walPollSleepS(remainingS: number): number {
  return Math.min(2, Math.max(0.5, remainingS / 2));
}

/** §1.3 ILP transport retry: wait min(2, 0.1·2^attempt) seconds before retry number `attempt` (0-based). */
export function retryBackoffS(attempt: number): number {
  return Math.min(2, 0.1 * 2 ** attempt);
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Call `probe` until it returns a value (not `undefined`) or `waitS` seconds have passed, sleeping per
 * `walPollSleepS` between calls; one last probe runs after the final sleep. `undefined` when the time ran out.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  waitS: number,
  clock: Clock = systemClock,
): Promise<T | undefined> {
  const deadline = clock.now() + waitS * 1000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    const remainingS = (deadline - clock.now()) / 1000;
    if (remainingS <= 0) return undefined;
    await clock.sleep(walPollSleepS(remainingS) * 1000);
  }
}

/** The writer locks a partition rewrite of `table` needs (§10.3). */
export function rewriteLocksFor(table: string): string {
  switch (table) {
    case TABLE_NAMES.mainSchedule:
      return 'every main_schedule:var=<v> lock';
    case TABLE_NAMES.features:
    case TABLE_NAMES.featureBuilds:
    case TABLE_NAMES.labels:
    case TABLE_NAMES.labelBuilds:
    case TABLE_NAMES.fillLabels:
    case TABLE_NAMES.fillLabelBuilds:
    case TABLE_NAMES.featureRegistry:
      return 'every build:symbol=<alias>,ticks_kind=main_l5 lock';
    default:
      return 'every main_l5:symbol=<alias> lock';
  }
}

/** Gap rows retired by a validation run (§1.4) are invisible to readers. */
export const LIVE_GAP_ROWS = "(tqsdk_status IS NULL OR tqsdk_status != 'superseded')";

/** Row conditions every reader of `table` applies (the superseded gap rows, §1.4). */
export function liveRowConditions(table: string): string[] {
  return table === TABLE_NAMES.validateGaps ? [LIVE_GAP_ROWS] : [];
}

/**
 * WHERE conditions of a `deleteRows` scope, validated like the DuckDB adapter's: a symbol or exchange + variety,
 * a non-empty day list when days are given, `build_id` only where the table has it.
 */
export function deleteScopeConditions(def: TableDef, scope: DeleteScope): string[] {
  const has = (c: string) => def.columns.some((x) => x.name === c);
  const where: string[] = [];
  if (scope.symbol !== undefined) {
    if (!has('symbol') || scope.symbol.length === 0)
      throw new TickStoreInputError(`cannot scope ${def.name} by symbol`);
    where.push(`symbol = ${sqlString(scope.symbol)}`);
  } else {
    if (!has('exchange') || !has('variety') || !scope.exchange || !scope.variety) {
      throw new TickStoreInputError(`cannot scope ${def.name} by exchange + variety`);
    }
    where.push(`exchange = ${sqlString(scope.exchange)}`, `variety = ${sqlString(scope.variety)}`);
  }
  if (scope.tradingDays !== undefined) {
    if (scope.tradingDays.length === 0 || !has('trading_day')) {
      throw new TickStoreInputError(`tradingDays must be non-empty and ${def.name} must have trading_day`);
    }
    where.push(`trading_day IN (${sqlDayList(scope.tradingDays)})`);
  }
  if (scope.buildId !== undefined) {
    if (!has('build_id')) throw new TickStoreInputError(`${def.name} has no build_id`);
    where.push(`build_id = ${sqlString(scope.buildId)}`);
  }
  return where;
}

/**
 * WHERE conditions of a `readRows` filter, or `null` when the filter matches nothing (an empty day list). Day
 * bounds compare the ISO strings (`trading_day` is a SYMBOL; QuestDB orders strings, not symbols, hence the cast:
 * questdb/questdb#3828).
 */
export function rowFilterConditions(def: TableDef, filter: RowFilter): string[] | null {
  const has = (c: string) => def.columns.some((x) => x.name === c);
  const need = (c: string, what: string) => {
    if (!has(c)) throw new TickStoreInputError(`${def.name} has no ${c}; cannot filter by ${what}`);
  };
  const where: string[] = [...liveRowConditions(def.name)];
  if (filter.symbol !== undefined) {
    need('symbol', 'symbol');
    where.push(`symbol = ${sqlString(filter.symbol)}`);
  }
  if (filter.exchange !== undefined) {
    need('exchange', 'exchange');
    where.push(`exchange = ${sqlString(filter.exchange)}`);
  }
  if (filter.variety !== undefined) {
    need('variety', 'variety');
    where.push(`variety = ${sqlString(filter.variety)}`);
  }
  if (filter.tradingDayFrom !== undefined) {
    need('trading_day', 'trading day');
    where.push(`cast(trading_day AS STRING) >= ${sqlDay(filter.tradingDayFrom)}`);
  }
  if (filter.tradingDayTo !== undefined) {
    need('trading_day', 'trading day');
    where.push(`cast(trading_day AS STRING) <= ${sqlDay(filter.tradingDayTo)}`);
  }
  if (filter.tradingDays !== undefined) {
    need('trading_day', 'trading day');
    if (filter.tradingDays.length === 0) return null;
    where.push(`trading_day IN (${sqlDayList(filter.tradingDays)})`);
  }
  if (filter.buildId !== undefined) {
    need('build_id', 'build id');
    where.push(`build_id = ${sqlString(filter.buildId)}`);
  }
  return where;
}

/**
 * The verdict on one day write (§1.3), QuestDB flavour: the write is one transaction that QuestDB deduplicates on
 * the UPSERT KEYS, so after it is applied the day must hold every distinct key sent (`after >= distinctKeys`) and
 * have grown by at most that many rows. Returns the rows inserted (`after - before`).
 */
export function dayWriteOutcome(
  before: number,
  after: number,
  distinctKeys: number,
  context: { table?: string; symbol?: string; trading_day?: string } = {},
): number {
  const inserted = after - before;
  if (after < distinctKeys || inserted < 0 || inserted > distinctKeys) {
    const where = Object.values(context).join(' ');
    throw new TickStoreVerifyError(
      `day holds ${after} rows after the write, ${before} before, ${distinctKeys} distinct keys sent${where ? ` (${where})` : ''}`,
      { ...context, before, after, distinct_keys: distinctKeys },
    );
  }
  return inserted;
}

/**
 * The SQL explorer's statement as the QuestDB adapter runs it (control-chain §8 "Explorer guard"): wrapped as
 * `SELECT * FROM (⏎<sql>⏎)`, so QuestDB's own parser must accept the text as a query — INSERT, UPDATE, DELETE, COPY,
 * DDL and every other non-query statement is a syntax error inside a subquery (then `EXPLAIN` refuses it before
 * anything runs). The text is only scanned for its statement structure, never for keywords: outside quotes and
 * comments its parentheses must balance (it cannot close the wrapper early) and no second statement may follow a `;`
 * (`/exec` takes one statement); one trailing `;` is dropped. Line breaks around it end a trailing `--` comment.
 */
export function explorerWrappedSql(sql: string): string {
  let depth = 0;
  let end = sql.length;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (c === "'" || c === '"') {
      // Quoted literal or identifier; a doubled quote is an escaped one.
      if (end !== n)
        throw new QueryNotAllowedError('statement_count', 'exactly one statement may run; text follows a ";"');
      let j = i + 1;
      for (;;) {
        if (j >= n)
          throw new QueryNotAllowedError('parse_error', `unterminated ${c === "'" ? 'string' : 'quoted name'}`);
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      i = j + 1;
    } else if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
    } else if (c === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) throw new QueryNotAllowedError('parse_error', 'unterminated /* comment');
      i = close + 2;
    } else if (c === ';') {
      if (end === n) end = i;
      i++;
    } else {
      if (end !== n && !/\s/.test(c)) {
        throw new QueryNotAllowedError('statement_count', 'exactly one statement may run; text follows a ";"');
      }
      if (c === '(') depth++;
      else if (c === ')' && --depth < 0) {
        throw new QueryNotAllowedError('parse_error', 'unbalanced parentheses: a ")" closes nothing');
      }
      i++;
    }
  }
  if (depth !== 0) throw new QueryNotAllowedError('parse_error', 'unbalanced parentheses: a "(" is never closed');
  const body = sql.slice(0, end);
  if (body.trim() === '') throw new QueryNotAllowedError('statement_count', 'the statement is empty');
  return `SELECT * FROM (\n${body}\n)`;
}
