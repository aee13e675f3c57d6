/**
 * The `TickStore` port (data-chain §1): one schema in DuckDB and QuestDB, insert-if-absent writes of one
 * `(symbol, trading_day)` batch as one atomic write (§1.3), symbol- and partition-scoped deletes (§1.4) and the
 * required-column fail-fast (§1.5). Rows travel columnar (typed arrays), never as one object per tick.
 */
import { ValidationFailedError } from '../../errors/control.ts';
import { DataChainError } from '../../errors/data.ts';
import type { RowHashAggregates } from './row-hash.ts';
import {
  type ColumnDef,
  type ColumnType,
  TABLES,
  type TableDef,
  TICK_NUMERIC_COLUMN_COUNT,
  type TicksKind,
} from './tick-columns.ts';

/** Raised when a store's real columns do not match the declared schema (§1.5). Never swallowed by a writer. */
export class SchemaContractError extends DataChainError {
  constructor(table: string, missing: readonly string[], mismatched: readonly string[] = []) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing required columns [${missing.join(', ')}]`);
    if (mismatched.length > 0) parts.push(`columns with wrong types [${mismatched.join(', ')}]`);
    super(
      'schema_contract_violation',
      `schema contract violation: table ${table} ${parts.join(' and ')}; run: ghtrader data migrate --apply`,
      { details: { table, missing: [...missing], mismatched: [...mismatched] } },
    );
  }
}

/** A tick-store request that cannot be honoured as asked (bad batch shape, unknown table, unscoped delete). */
export class TickStoreInputError extends DataChainError {
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super('tick_store_input', `tick store: ${reason}`, { details: { ...details, reason } });
  }
}

/** A write whose read-back disagrees with what was sent (§1.3): the batch is rolled back / reported, never kept. */
export class TickStoreVerifyError extends DataChainError {
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super('tick_store_verify', `tick store verification failed: ${reason}`, { details: { ...details, reason } });
  }
}

/**
 * One `(symbol, trading_day)` of ticks, column by column. `values[i]` is the i-th numeric column of §2.1 (27 in
 * all); every array has `datetimeNs.length` entries. A missing value is NaN (QuestDB stores DOUBLE null as NaN; the
 * row hash reads both as 0.0). The per-day provenance is constant for the batch: one main contract per day.
 */
export interface TickDayBatch {
  readonly ticksKind: TicksKind;
  /** Always `'v2'` today (§0); kept explicit so a writer never invents it. */
  readonly datasetVersion: 'v2';
  readonly underlyingContract: string;
  readonly segmentId: bigint;
  readonly scheduleHash: string;
  readonly datetimeNs: BigInt64Array;
  /** `fnv1a64_v1` of each row (computed by the caller with `row-hash.ts`). */
  readonly rowHash: BigInt64Array;
  readonly values: readonly Float64Array[];
}

export interface WriteDayResult {
  readonly table: string;
  readonly symbol: string;
  readonly tradingDay: string;
  /** Rows in the batch, duplicates included. */
  readonly rowsSent: number;
  /** Distinct dedup keys in the batch (exact re-deliveries collapse). */
  readonly distinctKeys: number;
  /** Rows that were absent and are now stored. */
  readonly inserted: number;
  /** Rows of the day (symbol, trading_day, ticks_kind, dataset_version) after the write, read back. */
  readonly dayRows: number;
}

/** `symbol` for tick-like and per-day tables, `exchange` + `variety` for the main schedule (§1.4). */
export type DeleteScope = (
  | { readonly symbol: string; readonly exchange?: never; readonly variety?: never }
  | { readonly symbol?: never; readonly exchange: string; readonly variety: string }
) & {
  readonly tradingDays?: readonly string[];
  readonly buildId?: string;
  /**
   * Owner id (the job id) of the writer lock the caller holds for this delete (§10.3). A QuestDB partition rewrite
   * refuses without it or when the lock is held by someone else; DuckDB deletes need no lock proof.
   */
  readonly lockOwner?: string;
};

export interface ColumnInfo {
  readonly name: string;
  /** The store's own type name (`VARCHAR`, `BIGINT`, … in DuckDB). */
  readonly storeType: string;
}

export interface DayCount {
  readonly trading_day: string;
  readonly rows: number;
}

export interface DayRowHashAggregates extends RowHashAggregates {
  readonly trading_day: string;
}

/**
 * One cell of a small-table row, typed by its column type (§1.3 "typed values only"): SYMBOL / STRING → `string`,
 * LONG → `bigint`, DOUBLE → `number` (NaN allowed), TIMESTAMP → `bigint` epoch **microseconds** (UTC). `null` is a
 * missing value. Never a string standing in for a number or a date.
 */
export type CellValue = string | bigint | number | null;
export type Row = Readonly<Record<string, CellValue>>;

/**
 * Which rows of a table a read addresses. `symbol` or `exchange`+`variety` (schedule) scope it; day bounds are
 * inclusive ISO strings compared as strings; all given conditions must hold.
 */
export interface RowFilter {
  readonly symbol?: string;
  readonly exchange?: string;
  readonly variety?: string;
  readonly tradingDayFrom?: string;
  readonly tradingDayTo?: string;
  readonly tradingDays?: readonly string[];
  readonly buildId?: string;
}

/** One stored day's tick values, columnar, ordered by `(datetime_ns, row_hash)`. */
export interface TickDayValues {
  readonly datetimeNs: BigInt64Array;
  readonly rowHash: BigInt64Array;
  /** The 27 numeric columns of §2.1 in order; NULL reads as NaN. */
  readonly values: readonly Float64Array[];
}

/**
 * Caller-owned column buffers that `readTickValues` may read into, reused day after day: a year is ~245 reads of
 * ~15 MB of columns each, and allocating them afresh made the garbage collector the largest cost of validation.
 * A result read into buffers is made of views of them: it stays valid only until the next read into the same buffers.
 */
export class TickReadBuffers {
  datetimeNs = new BigInt64Array(0);
  rowHash = new BigInt64Array(0);
  values: Float64Array[] = Array.from({ length: TICK_NUMERIC_COLUMN_COUNT }, () => new Float64Array(0));

  get capacity(): number {
    return this.datetimeNs.length;
  }

  /** Make room for at least `rows` rows (growing by doubling), keeping the first `keep` rows. */
  reserve(rows: number, keep: number): void {
    if (rows <= this.capacity) return;
    const cap = Math.max(rows, this.capacity * 2, 65_536);
    const grow = <A extends BigInt64Array | Float64Array>(from: A, to: A): A => {
      (to as Float64Array).set(from.subarray(0, keep) as Float64Array);
      return to;
    };
    this.datetimeNs = grow(this.datetimeNs, new BigInt64Array(cap));
    this.rowHash = grow(this.rowHash, new BigInt64Array(cap));
    this.values = this.values.map((v) => grow(v, new Float64Array(cap)));
  }

  /** The first `n` rows as a day (views of the buffers). */
  view(n: number): TickDayValues {
    return {
      datetimeNs: this.datetimeNs.subarray(0, n),
      rowHash: this.rowHash.subarray(0, n),
      values: this.values.map((v) => v.subarray(0, n)),
    };
  }
}

/** One stored day of a tick-like table with its provenance, columnar, ordered by `(datetime_ns, row_hash)`. */
export interface TickDayRows extends TickDayValues {
  /** Per row (normally one value for the whole day); `''` when NULL in a legacy row. */
  readonly underlyingContract: readonly string[];
  /** Per row; `-1n` when NULL in a legacy row. */
  readonly segmentId: BigInt64Array;
  readonly scheduleHash: readonly string[];
}

/** What is stored for one day of one symbol in a tick-like table (§5.1 update planning, §5.6 coverage). */
export interface DayProvenance {
  readonly trading_day: string;
  readonly rows: number;
  /** Distinct non-empty `schedule_hash` values of the day, sorted. */
  readonly schedule_hashes: readonly string[];
  /** Rows whose `schedule_hash` is NULL or empty (legacy data without provenance). */
  readonly rows_without_hash: number;
  readonly first_datetime_ns: bigint;
  readonly last_datetime_ns: bigint;
}

/**
 * The store's DDL dialect (§1.5). Migrations build their `plan()` SQL from it; only `executeDdl` runs it, and only
 * `ghtrader data migrate --apply` (also run by `ghtrader up` and the deploy bootstrap) calls that.
 */
export interface TickStoreDialect {
  /** Statements creating the table with its dedup keys (QuestDB: `PARTITION BY … WAL DEDUP UPSERT KEYS(…)`). */
  createTable(table: TableDef): string[];
  addColumn(table: string, column: ColumnDef): string;
  renameColumn(table: string, from: string, to: string): string;
  /** Store type names per catalogue type (§1.1). */
  readonly types: Readonly<Record<ColumnType, string>>;
}

/** One column of a read-only query result or of the catalog: its name and the store's own type name. */
export interface QueryColumn {
  readonly name: string;
  readonly type: string;
}

/** Bounds of one explorer statement (control-chain §8): cancelled at `timeoutMs`, at most `maxRows` rows returned. */
export interface ReadOnlyQueryOptions {
  readonly timeoutMs: number;
  readonly maxRows: number;
}

/**
 * A read-only query's answer, JSON-safe: 64-bit integers and decimals as decimal strings, timestamps as ISO-8601 UTC
 * strings (`…T…Z`, microseconds), dates as `YYYY-MM-DD`, NaN/±Infinity as strings, NULL as null, anything else
 * (lists, structs, intervals, …) as the store's text rendering. `truncated` is true when the statement had more than
 * `maxRows` rows (the store fetched `maxRows + 1` to know).
 */
export interface ReadOnlyQueryResult {
  readonly columns: QueryColumn[];
  readonly rows: unknown[][];
  readonly row_count: number;
  readonly truncated: boolean;
  readonly elapsed_ms: number;
}

/** One table or view the explorer may read, with its columns in declaration order. */
export interface CatalogTable {
  readonly name: string;
  readonly kind: 'table' | 'view';
  readonly columns: QueryColumn[];
}

export interface TickStore {
  readonly kind: 'duckdb' | 'questdb';
  /**
   * Ledger identity of the store (§1.5): `duckdb:<home-relative path>` or `questdb:<host:port>`. The migration
   * ledger keys its items on it, so one ledger serves several stores.
   */
  readonly storeId: string;
  readonly dialect: TickStoreDialect;
  /** Run DDL produced by a migration plan; no writer ever calls this (§1.5). */
  executeDdl(statements: readonly string[]): Promise<void>;
  /** DDL for one catalogue table (migration `0001_create_v2_tables`); only `ghtrader data migrate --apply` calls it. */
  createTable(table: TableDef): Promise<void>;
  /**
   * Small tables (§1.3): with dedup keys, upsert by key (DuckDB: delete matching keys + insert in one transaction;
   * QuestDB: DEDUP UPSERT KEYS); without, append. Every row must carry every declared column (`ts` included; use
   * `null` for a missing value). Checks required columns first. Returns the number of rows sent.
   */
  writeRows(table: string, rows: readonly Row[]): Promise<number>;
  /** Rows of a table matching `filter` with typed values, ordered by `ts` then `trading_day` (when present). */
  readRows(table: string, filter: RowFilter, opts?: { readonly limit?: number }): Promise<Row[]>;
  /** One stored day of a tick-like table, ordered by `(datetime_ns, row_hash)`. */
  readTickDay(table: string, symbol: string, tradingDay: string): Promise<TickDayRows>;
  /**
   * The same day without provenance columns (validation's hot path: a year is read day by day). With `buffers` the
   * store may read into them (see `TickReadBuffers`: the result is then valid until the next read into them).
   */
  readTickValues(table: string, symbol: string, tradingDay: string, buffers?: TickReadBuffers): Promise<TickDayValues>;
  /** Per trading day of one symbol in a tick-like table: counts, hashes and time bounds, ascending by day. */
  dayProvenance(table: string, symbol: string): Promise<DayProvenance[]>;
  /** The table's real columns in declaration order; empty when the table does not exist. */
  describeColumns(table: string): Promise<ColumnInfo[]>;
  /** Compare real columns (names and types) with the declaration; throws `SchemaContractError` on any gap. */
  assertRequiredColumns(table: TableDef): Promise<void>;
  /** Insert-if-absent of one day as one atomic write (§1.3); checks required columns first and verifies after. */
  writeDay(table: string, symbol: string, tradingDay: string, rows: TickDayBatch): Promise<WriteDayResult>;
  /** Scoped delete in one transaction (§1.4); returns the number of rows removed. */
  deleteRows(table: string, scope: DeleteScope): Promise<number>;
  /** Rows per trading day of one symbol (all days, or only `tradingDays`), ascending by day. */
  countByDay(table: string, symbol: string, tradingDays?: readonly string[]): Promise<DayCount[]>;
  /** Per-day row-hash aggregates (§2.2) for cross-store comparison, ascending by day. */
  rowHashAggregatesByDay(
    table: string,
    symbol: string,
    tradingDays?: readonly string[],
  ): Promise<DayRowHashAggregates[]>;
  /**
   * The SQL explorer's guarded read (control-chain §8 "Explorer guard", never a keyword filter): the store's own
   * parser must accept `sql` as exactly one SELECT reading only catalog tables or views (no table functions, no file
   * or network access); it runs on a connection other than the writer's, read-only, is cancelled at `timeoutMs`
   * (`QueryTimeoutError`) and returns at most `maxRows` rows. A statement refused by the guard or by the engine's
   * compiler is `QueryNotAllowedError`; one that fails while running is `validation_failed` (the engine's message).
   * Optional on the port only so that hand-written test doubles need not implement it; both adapters do.
   */
  readOnlyQuery?(sql: string, opts: ReadOnlyQueryOptions): Promise<ReadOnlyQueryResult>;
  /** The tables and views `readOnlyQuery` may read, by name, with their columns (read off the writer's path). */
  catalog?(): Promise<CatalogTable[]>;
  close(): Promise<void>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** §0: interpolated identifiers match `^[A-Za-z_][A-Za-z0-9_]*$`; anything else is refused. */
export function assertIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new TickStoreInputError(`identifier ${JSON.stringify(name)} is not allowed`);
  return name;
}

export function assertTradingDay(day: string): string {
  if (!ISO_DAY.test(day)) throw new TickStoreInputError(`trading_day ${JSON.stringify(day)} is not YYYY-MM-DD`);
  return day;
}

/** The catalogue entry of a v2 table name; unknown names are refused. */
export function tableDef(name: string): TableDef {
  for (const def of Object.values(TABLES)) if (def.name === name) return def;
  throw new TickStoreInputError(`unknown table ${JSON.stringify(name)}`, { table: name });
}

/** Shape check of a batch before any I/O: 27 columns, equal lengths, non-empty provenance. */
export function assertBatchShape(symbol: string, tradingDay: string, rows: TickDayBatch): number {
  if (symbol.length === 0) throw new TickStoreInputError('symbol is empty');
  assertTradingDay(tradingDay);
  const n = rows.datetimeNs.length;
  if (rows.rowHash.length !== n) {
    throw new TickStoreInputError(`row_hash has ${rows.rowHash.length} values for ${n} rows`);
  }
  if (rows.values.length !== TICK_NUMERIC_COLUMN_COUNT) {
    throw new TickStoreInputError(`expected ${TICK_NUMERIC_COLUMN_COUNT} numeric columns, got ${rows.values.length}`);
  }
  rows.values.forEach((col, i) => {
    if (col.length !== n) throw new TickStoreInputError(`numeric column ${i} has ${col.length} values for ${n} rows`);
  });
  if (rows.datasetVersion !== 'v2') throw new TickStoreInputError(`dataset_version ${rows.datasetVersion} is not v2`);
  if (rows.underlyingContract.length === 0 || rows.scheduleHash.length === 0) {
    throw new TickStoreInputError('underlying_contract and schedule_hash are required');
  }
  return n;
}

/** Store type names per catalogue type, DuckDB flavour (§1.1). */
export const DUCKDB_TYPES: Readonly<Record<ColumnType, string>> = {
  SYMBOL: 'VARCHAR',
  STRING: 'VARCHAR',
  LONG: 'BIGINT',
  DOUBLE: 'DOUBLE',
  TIMESTAMP: 'TIMESTAMP',
};

/** Missing and mistyped columns of `real` against the declaration, or a `SchemaContractError`. */
export function checkColumns(
  table: TableDef,
  real: readonly ColumnInfo[],
  typeName: Readonly<Record<ColumnType, string>>,
): void {
  const byName = new Map(real.map((c) => [c.name, c.storeType.toUpperCase()]));
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const c of table.columns) {
    const got = byName.get(c.name);
    if (got === undefined) missing.push(c.name);
    else if (got !== typeName[c.type]) mismatched.push(`${c.name}: ${got}, expected ${typeName[c.type]}`);
  }
  if (missing.length > 0 || mismatched.length > 0) throw new SchemaContractError(table.name, missing, mismatched);
}

/** §1.1: the designated `ts` of a per-day table is the trading day at 00:00 UTC, in microseconds. */
export function dayTsMicros(tradingDay: string): bigint {
  assertTradingDay(tradingDay);
  return BigInt(Date.parse(`${tradingDay}T00:00:00Z`)) * 1000n;
}

/** Epoch milliseconds → TIMESTAMP microseconds (for `updated_at`, `build_ts`, …). */
export function msToMicros(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * 1000n;
}

/** `readOnlyQuery` bounds are positive integers (the web route clamps them first; anything else is a caller bug). */
export function assertQueryOptions(opts: ReadOnlyQueryOptions): void {
  if (!Number.isSafeInteger(opts.timeoutMs) || opts.timeoutMs < 1) {
    throw new TickStoreInputError(`timeoutMs ${opts.timeoutMs} is not a positive integer`);
  }
  if (!Number.isSafeInteger(opts.maxRows) || opts.maxRows < 1) {
    throw new TickStoreInputError(`maxRows ${opts.maxRows} is not a positive integer`);
  }
}

/** A guarded statement that failed while running (a cast, a division, …): bad input, with the engine's message. */
export function queryFailedError(message: string): ValidationFailedError {
  const text = message.slice(0, 2000);
  return new ValidationFailedError(`query failed: ${text}`, [{ path: ['sql'], code: 'query_failed', message: text }]);
}
