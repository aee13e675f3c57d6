/**
 * DuckDB `TickStore` (`$GHTRADER_HOME/ticks.duckdb`, data-chain §1). One connection, operations serialised; one
 * writing process per file (§1.3): opening a file another process holds fails with `tick_store_owned`.
 *
 * `writeDay` bulk-loads the batch's varying columns (`datetime_ns`, `row_hash`, 27 DOUBLE) into a temp stage table
 * through `appendDataChunk`, copying each typed-array slice straight into the chunk's vector memory
 * (`copy_data_to_vector`, a memcpy; no per-value JS calls), then in ONE transaction inserts the batch's distinct dedup
 * keys that are absent from the table for that `(symbol, trading_day)` (anti-join), verifies that every key sent is
 * now present and commits. The per-day constants (symbol, trading_day, provenance) are bound parameters, never staged.
 *
 * `writeRows` (small tables) stages the batch through an appender into a temp table shaped like the target, then in
 * one transaction deletes the rows whose dedup key the batch carries and inserts the batch (upsert), or only inserts
 * (append-only tables). `readTickDay` copies each result chunk's vector memory into typed arrays; the per-row strings
 * come back only where they change (`lag` over the same order), so a day costs two string decodes, not 2 per row.
 * `readTickValues` streams the day in storage order (no sort, no materialised result) and sorts only a day found out
 * of order. Table columns are cached between DDL statements (this connection is the file's only writer).
 *
 * The SQL explorer (`readOnlyQuery`, `catalog`; control-chain §8) never touches the writer connection: it opens a
 * second connection of its own, checks each statement's parse tree from DuckDB's own parser (`json_serialize_sql`) against the catalog, and runs it inside
 * `BEGIN TRANSACTION READ ONLY` … `ROLLBACK`, interrupted at its timeout.
 */
import path from 'node:path';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBDateValue,
  DuckDBInstance,
  type DuckDBListValue,
  type DuckDBResult,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  type DuckDBValue,
} from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import type { RowHashAggregates } from '../../domain/data/row-hash.ts';
import {
  type ColumnDef,
  type ColumnType,
  type TableDef,
  TICK_NUMERIC_COLUMNS,
} from '../../domain/data/tick-columns.ts';
import { keysDistinctInOrder, microsOfNanos, orderTickValues } from '../../domain/data/tick-order.ts';
import {
  assertBatchShape,
  assertIdentifier,
  assertQueryOptions,
  assertTradingDay,
  type CatalogTable,
  type CellValue,
  type ColumnInfo,
  checkColumns,
  type DayCount,
  type DayProvenance,
  type DayRowHashAggregates,
  type DeleteScope,
  DUCKDB_TYPES,
  type QueryColumn,
  queryFailedError,
  type ReadOnlyQueryOptions,
  type ReadOnlyQueryResult,
  type Row,
  type RowFilter,
  SchemaContractError,
  type TickDayBatch,
  type TickDayRows,
  type TickDayValues,
  TickReadBuffers,
  type TickStore,
  type TickStoreDialect,
  TickStoreInputError,
  TickStoreVerifyError,
  tableDef,
  type WriteDayResult,
} from '../../domain/data/tick-store.ts';
import { QueryNotAllowedError, QueryTimeoutError } from '../../errors/control.ts';
import { DataChainError } from '../../errors/data.ts';

export interface DuckDbTickStoreOptions {
  /** Database file; `:memory:` for a throwaway store. */
  path: string;
  /**
   * `GHTRADER_HOME`: `storeId` is `duckdb:<path relative to it>` (the migration ledger key, §1.5). Without it the
   * file's base name is used.
   */
  storeIdBase?: string;
  /**
   * WAL size that triggers an automatic checkpoint (DuckDB `checkpoint_threshold`; default here 1GB, DuckDB's own is
   * 16MB, which is about one main_l5 day and made every commit re-compress the open row group).
   */
  checkpointThreshold?: string;
  /** Test seam: runs inside the write transaction after insert and verification, before COMMIT. */
  beforeCommit?: (info: { table: string; symbol: string; tradingDay: string }) => void | Promise<void>;
}

/** Another process holds the DuckDB file (§1.3: one writing process); submit the work as a job instead. */
export class TickStoreOwnedError extends DataChainError {
  constructor(file: string, pid: number | null, options: { cause?: unknown } = {}) {
    super(
      'tick_store_owned',
      `tick store ${file} is owned by ${pid === null ? 'another process' : `pid ${pid}`}; ` +
        'use `ghtrader jobs submit …` (or stop that process)',
      { details: { path: file, pid }, cause: options.cause },
    );
  }
}

const STAGE = '__ghtrader_tick_stage';
const ROWS_STAGE = '__ghtrader_rows_stage';
const CHUNK_ROWS = 2048;
const STAGE_COLUMNS = ['datetime_ns', 'row_hash', ...TICK_NUMERIC_COLUMNS] as const;
/** Columns `readTickDay` needs besides the 27 numeric ones. */
const TICK_DAY_COLUMNS = [
  'symbol',
  'trading_day',
  'datetime_ns',
  'row_hash',
  'underlying_contract',
  'segment_id',
  'schedule_hash',
];
/** `readRows` filter fields and the columns they address. */
const FILTER_COLUMNS = {
  symbol: 'symbol',
  exchange: 'exchange',
  variety: 'variety',
  buildId: 'build_id',
} as const;

const quote = (name: string) => `"${assertIdentifier(name)}"`;

/** DuckDB DDL (§1.1 type map). No key constraints: writers deduplicate (§1.3). */
export const DUCKDB_DIALECT: TickStoreDialect = Object.freeze({
  types: DUCKDB_TYPES,
  createTable(table: TableDef): string[] {
    const cols = table.columns.map((c) => `${assertIdentifier(c.name)} ${DUCKDB_TYPES[c.type]}`).join(', ');
    return [`CREATE TABLE IF NOT EXISTS ${quote(table.name)} (${cols})`];
  },
  addColumn(table: string, column: ColumnDef): string {
    return `ALTER TABLE ${quote(table)} ADD COLUMN IF NOT EXISTS ${assertIdentifier(column.name)} ${DUCKDB_TYPES[column.type]}`;
  },
  renameColumn(table: string, from: string, to: string): string {
    return `ALTER TABLE ${quote(table)} RENAME COLUMN ${assertIdentifier(from)} TO ${assertIdentifier(to)}`;
  },
});

/** `duckdb:<path relative to base>` (§1.5 ledger key); the base name without a base; `duckdb::memory:`. */
export function duckDbStoreId(file: string, base?: string): string {
  if (file === ':memory:') return 'duckdb::memory:';
  return `duckdb:${base === undefined ? path.basename(file) : path.relative(base, file)}`;
}

const LOCK_ERROR = /could not set lock on file|conflicting lock/i;

export async function openDuckDbTickStore(options: DuckDbTickStoreOptions): Promise<DuckDbTickStore> {
  const threshold = options.checkpointThreshold ?? '1GB';
  if (!/^\d+(\.\d+)?\s*[KMGT]?i?B$/i.test(threshold)) {
    throw new TickStoreInputError(`checkpointThreshold ${JSON.stringify(threshold)} is not a size like 1GB`);
  }
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(options.path);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (LOCK_ERROR.test(message)) {
      const pid = /\bPID (\d+)/i.exec(message)?.[1];
      throw new TickStoreOwnedError(options.path, pid === undefined ? null : Number(pid), { cause: err });
    }
    throw err;
  }
  try {
    const conn = await instance.connect();
    await conn.run(`SET checkpoint_threshold = '${threshold}'`);
    return new DuckDbTickStore(instance, conn, options);
  } catch (err) {
    instance.closeSync();
    throw err;
  }
}

/** Catalogue type of a real DuckDB column (for dynamic columns, which the catalogue does not declare). */
function columnTypeOf(storeType: string): ColumnType | undefined {
  switch (storeType.toUpperCase()) {
    case 'VARCHAR':
      return 'STRING';
    case 'BIGINT':
      return 'LONG';
    case 'DOUBLE':
      return 'DOUBLE';
    case 'TIMESTAMP':
      return 'TIMESTAMP';
    default:
      return undefined;
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `bigint ${value}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** §1.3 typed values only: the JS type a cell of `type` must have (or null), checked before any I/O. */
function checkCell(table: string, column: ColumnDef, value: CellValue, rowIndex: number): void {
  if (value === null) {
    if (column.name === 'ts') throw new TickStoreInputError(`row ${rowIndex}: ts of ${table} must not be null`);
    return;
  }
  let ok: boolean;
  let expected: string;
  switch (column.type) {
    case 'SYMBOL':
    case 'STRING':
      ok = typeof value === 'string';
      expected = 'a string';
      break;
    case 'LONG':
      ok = typeof value === 'bigint' && BigInt.asIntN(64, value) === value;
      expected = 'a bigint in int64 range';
      break;
    case 'TIMESTAMP':
      ok = typeof value === 'bigint' && BigInt.asIntN(64, value) === value;
      expected = 'a bigint of epoch microseconds';
      break;
    case 'DOUBLE':
      ok = typeof value === 'number';
      expected = 'a number';
      break;
  }
  if (!ok) {
    throw new TickStoreInputError(
      `row ${rowIndex}: column ${column.name} (${column.type}) of ${table} must be ${expected} or null, got ${describeValue(value)}`,
      { table, column: column.name, row: rowIndex },
    );
  }
}

function appendCell(appender: DuckDBAppender, type: ColumnType, value: CellValue): void {
  if (value === null) appender.appendNull();
  else if (type === 'DOUBLE') appender.appendDouble(value as number);
  else if (type === 'LONG') appender.appendBigInt(value as bigint);
  else if (type === 'TIMESTAMP') appender.appendTimestamp(new DuckDBTimestampValue(value as bigint));
  else appender.appendVarchar(value as string);
}

/** With dedup keys, the last row of each key wins inside a batch (upsert semantics, §1.3). */
function lastPerKey(def: TableDef, rows: readonly Row[]): readonly Row[] {
  if (def.dedupKeys.length === 0) return rows;
  const byKey = new Map<string, Row>();
  for (const row of rows) {
    const key = def.dedupKeys
      .map((k) => {
        const v = row[k] ?? null;
        return v === null ? 'null' : `${typeof v}:${String(v)}`;
      })
      .join('\u0000');
    byKey.delete(key);
    byKey.set(key, row);
  }
  return [...byKey.values()];
}

type CellReader = (value: DuckDBValue) => CellValue;

/** Typed values of a result column (§1.3): LONG→bigint, TIMESTAMP→bigint µs, DOUBLE→number, strings, NULL→null. */
function cellReader(table: string, column: string, typeId: DuckDBTypeId, typeName: string): CellReader {
  switch (typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UTINYINT:
      return (v) => (v === null ? null : BigInt(v as bigint | number));
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.FLOAT:
      return (v) => (v === null ? null : (v as number));
    case DuckDBTypeId.VARCHAR:
      return (v) => (v === null ? null : (v as string));
    case DuckDBTypeId.TIMESTAMP:
      return (v) => (v === null ? null : (v as DuckDBTimestampValue).micros);
    default:
      throw new SchemaContractError(
        table,
        [],
        [`${column}: ${typeName}, expected one of BIGINT, DOUBLE, VARCHAR, TIMESTAMP`],
      );
  }
}

function validityOf(vector: duckdb.Vector, rows: number): Uint8Array | null {
  // All-valid vectors have no validity mask (the binding answers null then, despite its declared type).
  return (duckdb.vector_get_validity(vector, Math.ceil(rows / 64) * 8) as Uint8Array | null) ?? null;
}

const isValid = (validity: Uint8Array, i: number) => ((validity[i >> 3] as number) & (1 << (i & 7))) !== 0;

/** Copy a DOUBLE column of a result chunk into `out` at `offset` (a memcpy); NULL reads as NaN. */
function copyDoubles(chunk: duckdb.DataChunk, column: number, rows: number, out: Float64Array, offset: number): void {
  const vector = duckdb.data_chunk_get_vector(chunk, column);
  const data = duckdb.vector_get_data(vector, rows * 8);
  out.set(new Float64Array(data.buffer, data.byteOffset, rows), offset);
  const validity = validityOf(vector, rows);
  if (validity === null) return;
  for (let i = 0; i < rows; i++) if (!isValid(validity, i)) out[offset + i] = Number.NaN;
}

/** Copy a BIGINT column of a result chunk into `out` at `offset`; NULL reads as `nullValue`, or fails the read. */
function copyBigInts(
  chunk: duckdb.DataChunk,
  column: number,
  rows: number,
  out: BigInt64Array,
  offset: number,
  nullValue: bigint | { readonly fail: string },
): void {
  const vector = duckdb.data_chunk_get_vector(chunk, column);
  const data = duckdb.vector_get_data(vector, rows * 8);
  out.set(new BigInt64Array(data.buffer, data.byteOffset, rows), offset);
  const validity = validityOf(vector, rows);
  if (validity === null) return;
  for (let i = 0; i < rows; i++) {
    if (isValid(validity, i)) continue;
    if (typeof nullValue !== 'bigint') {
      throw new TickStoreVerifyError(`stored row has NULL ${nullValue.fail}`, { column: nullValue.fail });
    }
    out[offset + i] = nullValue;
  }
}

/** A VARCHAR column whose NULL means "same as the previous row" (see `readTickDay`): decodes only the changes. */
function copyRunStrings(chunk: DuckDBDataChunk, column: number, rows: number, out: string[], offset: number): void {
  const validity = validityOf(duckdb.data_chunk_get_vector(chunk.chunk, column), rows);
  let prev = offset > 0 ? (out[offset - 1] as string) : '';
  for (let i = 0; i < rows; i++) {
    if (validity === null || isValid(validity, i)) prev = chunk.getColumnVector(column).getItem(i) as string;
    out[offset + i] = prev;
  }
}

/**
 * The columns a `writeRows` batch carries: every declared column, plus (tables with dynamic columns only) extra keys
 * that name real columns of the table. Every row must carry exactly that set with correctly typed values.
 */
function rowColumns(def: TableDef, real: readonly ColumnInfo[], rows: readonly Row[]): ColumnDef[] {
  const declared = new Set(def.columns.map((c) => c.name));
  const realTypes = new Map(real.map((c) => [c.name, c.storeType]));
  const columns: ColumnDef[] = [...def.columns];
  for (const key of Object.keys(rows[0] ?? {})) {
    if (declared.has(key)) continue;
    const storeType = realTypes.get(key);
    if (def.dynamicColumns === undefined || storeType === undefined) {
      throw new TickStoreInputError(`row 0 has column ${key}, which table ${def.name} does not have`, {
        table: def.name,
        column: key,
      });
    }
    const type = columnTypeOf(storeType);
    if (type === undefined) throw new SchemaContractError(def.name, [], [`${key}: ${storeType}`]);
    columns.push({ name: assertIdentifier(key), type });
  }
  rows.forEach((row, i) => {
    for (const c of columns) {
      if (!Object.hasOwn(row, c.name) || row[c.name] === undefined) {
        throw new TickStoreInputError(
          `row ${i} lacks column ${c.name} of ${def.name} (every column must be present; null for a missing value)`,
          { table: def.name, column: c.name, row: i },
        );
      }
      checkCell(def.name, c, row[c.name] as CellValue, i);
    }
    if (Object.keys(row).length !== columns.length) {
      const extra = Object.keys(row).find((k) => !columns.some((c) => c.name === k));
      throw new TickStoreInputError(`row ${i} has column ${extra}, which row 0 does not carry`, {
        table: def.name,
        column: extra,
        row: i,
      });
    }
  });
  return columns;
}

/**
 * A tick query's result → columnar values, chunk by chunk, without per-row objects: `datetime_ns`, `row_hash` and
 * the 27 numeric columns first; `extra(chunk, rows, offset)` copies any further columns of the same chunk.
 */
async function readTickChunks(
  result: DuckDBResult,
  n: number,
  extra?: (chunk: DuckDBDataChunk, rows: number, offset: number) => void,
): Promise<TickDayValues> {
  const datetimeNs = new BigInt64Array(n);
  const rowHash = new BigInt64Array(n);
  const values = TICK_NUMERIC_COLUMNS.map(() => new Float64Array(n));
  let offset = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const rows = chunk.rowCount;
    if (offset + rows > n) throw new TickStoreVerifyError(`result holds more than the ${n} rows it announced`);
    copyBigInts(chunk.chunk, 0, rows, datetimeNs, offset, { fail: 'datetime_ns' });
    copyBigInts(chunk.chunk, 1, rows, rowHash, offset, { fail: 'row_hash' });
    values.forEach((out, k) => {
      copyDoubles(chunk.chunk, 2 + k, rows, out, offset);
    });
    extra?.(chunk, rows, offset);
    offset += rows;
  }
  if (offset !== n) throw new TickStoreVerifyError(`read ${offset} rows of the ${n} the result announced`);
  return { datetimeNs, rowHash, values };
}

/**
 * Append `n` rows through `chunk`: each `[vector, source]` pair has its 8-byte values copied straight into the
 * vector's memory (`copy_data_to_vector`, a memcpy; no per-value JS calls), `CHUNK_ROWS` at a time; the chunk's other
 * vectors (constants) are left as they are. Flushes at the end.
 */
function appendColumns(
  appender: DuckDBAppender,
  chunk: DuckDBDataChunk,
  copies: readonly (readonly [duckdb.Vector, BigInt64Array | Float64Array])[],
  n: number,
): void {
  for (let off = 0; off < n; off += CHUNK_ROWS) {
    const len = Math.min(CHUNK_ROWS, n - off);
    for (const [vector, src] of copies) {
      duckdb.copy_data_to_vector(vector, 0, src.buffer as ArrayBuffer, src.byteOffset + off * 8, len * 8);
    }
    duckdb.data_chunk_set_size(chunk.chunk, len);
    appender.appendDataChunk(chunk);
  }
  appender.flushSync();
}

/**
 * A streamed tick query (row count unknown up front) → columnar values, copied chunk by chunk into `buffers` (grown
 * by doubling when a day outgrows them); the result is views of their first `n` rows.
 */
async function streamTickValues(result: DuckDBResult, buffers: TickReadBuffers): Promise<TickDayValues> {
  let n = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const rows = chunk.rowCount;
    buffers.reserve(n + rows, n);
    copyBigInts(chunk.chunk, 0, rows, buffers.datetimeNs, n, { fail: 'datetime_ns' });
    copyBigInts(chunk.chunk, 1, rows, buffers.rowHash, n, { fail: 'row_hash' });
    buffers.values.forEach((out, k) => {
      copyDoubles(chunk.chunk, 2 + k, rows, out, n);
    });
    n += rows;
  }
  return buffers.view(n);
}

/** Result of the `readTickDay` query → columnar `TickDayRows` (values, then segment and the run-coded strings). */
async function readTickColumns(result: DuckDBResult, n: number): Promise<TickDayRows> {
  const segmentId = new BigInt64Array(n);
  const underlyingContract = new Array<string>(n);
  const scheduleHash = new Array<string>(n);
  const segCol = 2 + TICK_NUMERIC_COLUMNS.length;
  const base = await readTickChunks(result, n, (chunk, rows, offset) => {
    copyBigInts(chunk.chunk, segCol, rows, segmentId, offset, -1n);
    copyRunStrings(chunk, segCol + 1, rows, underlyingContract, offset);
    copyRunStrings(chunk, segCol + 2, rows, scheduleHash, offset);
  });
  return { ...base, underlyingContract, segmentId, scheduleHash };
}

// ---------------------------------------------------------------- SQL explorer (control-chain §8 "Explorer guard")

/**
 * Table-reference kinds (DuckDB's `TableReferenceType`, as `json_serialize_sql` names them) an explorer statement may
 * contain. Every other kind is refused: TABLE_FUNCTION (`read_csv`, `read_parquet`, `glob`, `range`, `query`, …),
 * SHOW_REF (`DESCRIBE`, `SUMMARIZE`), COLUMN_DATA, DELIM_GET and whatever a later DuckDB adds.
 */
const EXPLORER_TABLE_REFS: ReadonlySet<string> = new Set([
  'BASE_TABLE',
  'JOIN',
  'SUBQUERY',
  'EMPTY',
  'EXPRESSION_LIST',
  'PIVOT',
]);

/** One table or view of the catalog (lower-cased: DuckDB resolves identifiers case-insensitively). */
interface ExplorerCatalogEntry {
  readonly database: string;
  readonly schema: string;
  readonly name: string;
}

type JsonNode = Record<string, unknown>;
const isJsonNode = (v: unknown): v is JsonNode => typeof v === 'object' && v !== null && !Array.isArray(v);
const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : '');

/**
 * The parse tree of `sql` from DuckDB's own parser (`json_serialize_sql`, the statement passed as a bound value):
 * exactly one statement, and a SELECT — `json_serialize_sql` serialises SELECT statements only and answers
 * "not implemented" for anything else (DELETE, COPY, ATTACH, PRAGMA, SET, CREATE, …, or a script with any of them).
 */
async function parseExplorerStatement(conn: DuckDBConnection, sql: string): Promise<JsonNode> {
  const reader = await conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
  const parsed = JSON.parse(String(reader.getRows()[0]?.[0] ?? '{}')) as {
    error?: boolean;
    error_type?: unknown;
    error_message?: unknown;
    statements?: unknown;
  };
  if (parsed.error === true) {
    const message = String(parsed.error_message ?? 'rejected by the parser');
    if (parsed.error_type === 'not implemented') {
      throw new QueryNotAllowedError('not_a_select', `only a single SELECT statement may run (DuckDB: ${message})`, {
        engine_message: message,
      });
    }
    throw new QueryNotAllowedError('parse_error', `DuckDB cannot parse the statement: ${message}`, {
      engine_message: message,
    });
  }
  const statements = Array.isArray(parsed.statements) ? parsed.statements : [];
  if (statements.length !== 1) {
    throw new QueryNotAllowedError(
      'statement_count',
      `exactly one SELECT statement may run, got ${statements.length} statements`,
      {
        statements: statements.length,
      },
    );
  }
  const first = statements[0];
  if (!isJsonNode(first) || !isJsonNode(first.node)) {
    throw new QueryNotAllowedError('parse_error', 'DuckDB returned no parse tree for the statement');
  }
  return first.node;
}

/** Every table and view the connection's catalog holds (base tables and views only: what a SELECT may name). */
async function explorerCatalog(conn: DuckDBConnection): Promise<ExplorerCatalogEntry[]> {
  const reader = await conn.runAndReadAll(
    `SELECT database_name, schema_name, table_name FROM duckdb_tables()
     UNION ALL SELECT database_name, schema_name, view_name FROM duckdb_views()`,
  );
  return reader.getRows().map(([database, schema, name]) => ({
    database: lower(database),
    schema: lower(schema),
    name: lower(name),
  }));
}

/**
 * A BASE_TABLE reference names a real table or view. Anything else would reach DuckDB's replacement scans, which read
 * files (`FROM 'x.csv'`) or remote objects: refused here, whatever the name looks like.
 */
function namesCatalogEntry(ref: JsonNode, catalog: readonly ExplorerCatalogEntry[]): boolean {
  const db = lower(ref.catalog_name);
  const schema = lower(ref.schema_name);
  const name = lower(ref.table_name);
  return catalog.some((e) => {
    if (e.name !== name) return false;
    if (db !== '') return e.database === db && e.schema === (schema === '' ? 'main' : schema);
    if (schema !== '') return e.schema === schema || (e.database === schema && e.schema === 'main');
    return e.schema === 'main' || e.schema === 'pg_catalog';
  });
}

/** A table-reference node (TableRef: `type`, `alias`, `sample`, no expression `class`, no query-node `modifiers`). */
const isTableRef = (n: JsonNode) =>
  typeof n.type === 'string' && 'sample' in n && 'alias' in n && !('class' in n) && !('modifiers' in n);

/**
 * Walk the whole parse tree (select list, FROM, WHERE, subqueries, CTEs, set operations, modifiers): every table
 * reference must be of an allowed kind, and every BASE_TABLE must be a CTE in scope or a catalog table/view. CTE scope
 * follows DuckDB: a CTE body sees the CTEs listed before it (and itself when recursive), the statement sees them all.
 */
function checkExplorerTree(node: unknown, scope: ReadonlySet<string>, catalog: readonly ExplorerCatalogEntry[]): void {
  if (Array.isArray(node)) {
    for (const child of node) checkExplorerTree(child, scope, catalog);
    return;
  }
  if (!isJsonNode(node)) return;
  let inner = scope;
  const cteMap = isJsonNode(node.cte_map) && Array.isArray(node.cte_map.map) ? node.cte_map.map : [];
  if (cteMap.length > 0) {
    const names = new Set(scope);
    for (const entry of cteMap) {
      if (!isJsonNode(entry)) continue;
      checkExplorerTree(entry.value, names, catalog);
      names.add(lower(entry.key));
    }
    inner = names;
  }
  if (node.type === 'RECURSIVE_CTE_NODE' && typeof node.cte_name === 'string') {
    inner = new Set([...inner, lower(node.cte_name)]);
  }
  if (isTableRef(node)) {
    const kind = String(node.type);
    if (kind === 'TABLE_FUNCTION') {
      const fn = isJsonNode(node.function) ? String(node.function.function_name ?? '?') : '?';
      throw new QueryNotAllowedError(
        'table_function',
        `table function ${fn}() is not allowed: read catalog tables or views only`,
        {
          function: fn,
        },
      );
    }
    if (!EXPLORER_TABLE_REFS.has(kind)) {
      throw new QueryNotAllowedError('table_reference', `a ${kind} table reference is not allowed`, { kind });
    }
    if (kind === 'BASE_TABLE') {
      const parts = [node.catalog_name, node.schema_name, node.table_name].filter((p) => typeof p === 'string' && p);
      const isCte =
        lower(node.catalog_name) === '' && lower(node.schema_name) === '' && inner.has(lower(node.table_name));
      if (!isCte && !namesCatalogEntry(node, catalog)) {
        const table = parts.join('.');
        throw new QueryNotAllowedError(
          'unknown_table',
          `${JSON.stringify(table)} is not a table or view of the store`,
          {
            table,
          },
        );
      }
      return;
    }
  }
  for (const [key, child] of Object.entries(node)) {
    if (key !== 'cte_map') checkExplorerTree(child, inner, catalog);
  }
}

/** Epoch microseconds → `YYYY-MM-DDTHH:MM:SS.ffffffZ`; null outside the range a JS Date holds. */
function isoFromMicros(us: bigint): string | null {
  const ms = us >= 0n ? us / 1000n : -((-us + 999n) / 1000n);
  if (ms > 8_640_000_000_000_000n || ms < -8_640_000_000_000_000n) return null;
  const frac = String(us - ms * 1000n).padStart(3, '0');
  return new Date(Number(ms)).toISOString().replace('Z', `${frac}Z`);
}

/** One result cell → a JSON-safe value (see `ReadOnlyQueryResult`). */
function explorerCell(v: DuckDBValue): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  let micros: bigint | null = null;
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue) micros = v.isFinite ? v.micros : null;
  else if (v instanceof DuckDBTimestampMillisecondsValue) micros = v.isFinite ? v.millis * 1000n : null;
  else if (v instanceof DuckDBTimestampSecondsValue) micros = v.isFinite ? v.seconds * 1_000_000n : null;
  else if (v instanceof DuckDBTimestampNanosecondsValue) {
    micros = v.isFinite ? (v.nanos >= 0n ? v.nanos / 1000n : -((-v.nanos + 999n) / 1000n)) : null;
  } else if (v instanceof DuckDBDateValue) return String(v);
  if (micros !== null) return isoFromMicros(micros) ?? String(v);
  return String(v);
}

export class DuckDbTickStore implements TickStore {
  readonly kind = 'duckdb' as const;
  readonly storeId: string;
  readonly dialect: TickStoreDialect = DUCKDB_DIALECT;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly columns = new Map<string, ColumnInfo[]>();
  /** The explorer's own read connection (never the writer's), opened on first use; statements run one at a time. */
  private explorerConn: DuckDBConnection | null = null;
  private explorerQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly options: DuckDbTickStoreOptions,
  ) {
    this.storeId = duckDbStoreId(options.path, options.storeIdBase);
  }

  /** Serialise every operation: one connection carries at most one transaction at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new TickStoreInputError('store is closed'));
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const out = await fn();
      await this.conn.run('COMMIT');
      return out;
    } catch (err) {
      await this.conn.run('ROLLBACK');
      throw err;
    }
  }

  async executeDdl(statements: readonly string[]): Promise<void> {
    return this.exclusive(async () => {
      if (statements.length === 0) return;
      try {
        await this.transaction(async () => {
          for (const sql of statements) await this.conn.run(sql);
        });
      } finally {
        this.columns.clear();
      }
    });
  }

  async createTable(table: TableDef): Promise<void> {
    return this.executeDdl(this.dialect.createTable(table));
  }

  describeColumns(table: string): Promise<ColumnInfo[]> {
    return this.exclusive(async () => [...(await this.describe(table))]);
  }

  /**
   * The real columns of `table`, cached until the next DDL: every schema change goes through `executeDdl` on this
   * connection, and no other process writes the file (§1.3), so the cache cannot go stale. Saves a catalogue query
   * (~5 ms) per day written or read.
   */
  private async describe(table: string): Promise<ColumnInfo[]> {
    const cached = this.columns.get(table);
    if (cached !== undefined) return cached;
    const real = await this.describeUncached(table);
    this.columns.set(table, real);
    return real;
  }

  private async describeUncached(table: string): Promise<ColumnInfo[]> {
    const reader = await this.conn.runAndReadAll(
      `SELECT column_name, data_type FROM information_schema.columns
       WHERE table_name = $1 AND table_schema = 'main' AND table_catalog = current_database()
       ORDER BY ordinal_position`,
      [assertIdentifier(table)],
    );
    return reader.getRows().map(([name, type]) => ({ name: String(name), storeType: String(type) }));
  }

  assertRequiredColumns(table: TableDef): Promise<void> {
    return this.exclusive(async () => checkColumns(table, await this.describe(table.name), DUCKDB_TYPES));
  }

  async writeRows(table: string, rows: readonly Row[]): Promise<number> {
    const def = tableDef(table);
    return this.exclusive(async () => {
      const real = await this.describe(def.name);
      checkColumns(def, real, DUCKDB_TYPES);
      if (rows.length === 0) return 0;
      const columns = rowColumns(def, real, rows);
      const batch = lastPerKey(def, rows);
      await this.stageRows(columns, batch);
      const list = columns.map((c) => c.name).join(', ');
      try {
        await this.transaction(async () => {
          if (def.dedupKeys.length > 0) {
            const same = def.dedupKeys.map((k) => `${def.name}.${k} IS NOT DISTINCT FROM s.${k}`).join(' AND ');
            await this.conn.run(`DELETE FROM ${def.name} WHERE EXISTS (SELECT 1 FROM ${ROWS_STAGE} s WHERE ${same})`);
          }
          const ins = await this.conn.run(`INSERT INTO ${def.name} (${list}) SELECT ${list} FROM ${ROWS_STAGE}`);
          if (ins.rowsChanged !== batch.length) {
            throw new TickStoreVerifyError(`inserted ${ins.rowsChanged} rows of ${batch.length} into ${def.name}`, {
              table: def.name,
            });
          }
        });
      } finally {
        await this.conn.run(`DROP TABLE IF EXISTS ${ROWS_STAGE}`);
      }
      return rows.length;
    });
  }

  /** Append the (validated) rows into a fresh temp table with the target's column types. */
  private async stageRows(columns: readonly ColumnDef[], rows: readonly Row[]): Promise<void> {
    const cols = columns.map((c) => `${c.name} ${DUCKDB_TYPES[c.type]}`).join(', ');
    await this.conn.run(`CREATE OR REPLACE TEMP TABLE ${ROWS_STAGE} (${cols})`);
    const appender = await this.conn.createAppender(ROWS_STAGE, 'main', 'temp');
    try {
      for (const row of rows) {
        for (const c of columns) appendCell(appender, c.type, row[c.name] as CellValue);
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  async readRows(table: string, filter: RowFilter, opts: { readonly limit?: number } = {}): Promise<Row[]> {
    const def = tableDef(table);
    const has = (c: string) => def.columns.some((x) => x.name === c);
    const where: string[] = [];
    const params: DuckDBValue[] = [];
    const bind = (v: DuckDBValue) => {
      params.push(v);
      return `$${params.length}`;
    };
    const need = (field: string, column: string) => {
      if (!has(column)) throw new TickStoreInputError(`cannot filter ${table} by ${field}: it has no ${column} column`);
      return column;
    };
    for (const [field, column] of Object.entries(FILTER_COLUMNS)) {
      const value = filter[field as keyof typeof FILTER_COLUMNS];
      if (value !== undefined) where.push(`${need(field, column)} = ${bind(value)}`);
    }
    if (filter.tradingDayFrom !== undefined) {
      where.push(`${need('tradingDayFrom', 'trading_day')} >= ${bind(assertTradingDay(filter.tradingDayFrom))}`);
    }
    if (filter.tradingDayTo !== undefined) {
      where.push(`${need('tradingDayTo', 'trading_day')} <= ${bind(assertTradingDay(filter.tradingDayTo))}`);
    }
    if (filter.tradingDays !== undefined) {
      need('tradingDays', 'trading_day');
      if (filter.tradingDays.length === 0) return [];
      where.push(`trading_day IN (${filter.tradingDays.map((d) => bind(assertTradingDay(d))).join(', ')})`);
    }
    const limit = opts.limit;
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw new TickStoreInputError(`limit ${limit} is not a non-negative integer`);
    }
    const sql =
      `SELECT * FROM ${def.name}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}` +
      ` ORDER BY ts${has('trading_day') ? ', trading_day' : ''}, rowid${limit === undefined ? '' : ` LIMIT ${limit}`}`;
    return this.exclusive(async () => {
      const result = await this.conn.run(sql, params);
      const names = result.columnNames();
      const readers = names.map((name, i) =>
        cellReader(def.name, name, result.columnTypeId(i), result.columnType(i).toString()),
      );
      const rows = await result.getRows();
      return rows.map((values) => {
        const row: Record<string, CellValue> = {};
        names.forEach((name, i) => {
          row[name] = (readers[i] as CellReader)(values[i] ?? null);
        });
        return row;
      });
    });
  }

  async readTickDay(table: string, symbol: string, tradingDay: string): Promise<TickDayRows> {
    const def = tableDef(table);
    if (![...TICK_DAY_COLUMNS, ...TICK_NUMERIC_COLUMNS].every((c) => def.columns.some((x) => x.name === c))) {
      throw new TickStoreInputError(`readTickDay supports the tick table only, not ${table}`, { table });
    }
    assertTradingDay(tradingDay);
    // Total order (rowid breaks exact ties); the provenance strings come back only where they change.
    const order = 'datetime_ns, row_hash, rowid';
    const changed = (c: string) =>
      `CASE WHEN ${c} IS NOT DISTINCT FROM lag(${c}) OVER w THEN NULL ELSE coalesce(${c}, '') END`;
    const sql = `SELECT datetime_ns, row_hash, ${TICK_NUMERIC_COLUMNS.join(', ')}, segment_id,
        ${changed('underlying_contract')}, ${changed('schedule_hash')}
      FROM ${def.name} WHERE symbol = $1 AND trading_day = $2
      WINDOW w AS (ORDER BY ${order}) ORDER BY ${order}`;
    return this.exclusive(async () => {
      checkColumns(def, await this.describe(def.name), DUCKDB_TYPES);
      const result = await this.conn.run(sql, [symbol, tradingDay]);
      return readTickColumns(result, result.rowCount);
    });
  }

  async readTickValues(
    table: string,
    symbol: string,
    tradingDay: string,
    buffers = new TickReadBuffers(),
  ): Promise<TickDayValues> {
    const def = tableDef(table);
    if (![...TICK_DAY_COLUMNS, ...TICK_NUMERIC_COLUMNS].every((c) => def.columns.some((x) => x.name === c))) {
      throw new TickStoreInputError(`readTickValues supports the tick table only, not ${table}`, { table });
    }
    assertTradingDay(tradingDay);
    // Streamed in storage order (DuckDB keeps insertion order; a day is written in download order), with no ORDER BY
    // and no materialised result: about half the cost of the sorted query. `orderTickValues` checks the order and
    // sorts only a day that is out of it (e.g. rows a later write appended).
    const sql = `SELECT datetime_ns, row_hash, ${TICK_NUMERIC_COLUMNS.join(', ')}
      FROM ${def.name} WHERE symbol = $1 AND trading_day = $2`;
    return this.exclusive(async () => {
      checkColumns(def, await this.describe(def.name), DUCKDB_TYPES);
      return orderTickValues(await streamTickValues(await this.conn.stream(sql, [symbol, tradingDay]), buffers));
    });
  }

  async dayProvenance(table: string, symbol: string): Promise<DayProvenance[]> {
    const def = tableDef(table);
    const needed = ['symbol', 'trading_day', 'datetime_ns', 'schedule_hash'];
    if (!needed.every((c) => def.columns.some((x) => x.name === c))) {
      throw new TickStoreInputError(`dayProvenance needs a tick-like table, not ${table}`, { table });
    }
    return this.exclusive(async () => {
      const reader = await this.conn.runAndReadAll(
        `SELECT trading_day, count(*),
           list(DISTINCT schedule_hash ORDER BY schedule_hash) FILTER (WHERE schedule_hash <> ''),
           count(*) FILTER (WHERE schedule_hash IS NULL OR schedule_hash = ''),
           min(datetime_ns), max(datetime_ns)
         FROM ${def.name} WHERE symbol = $1 GROUP BY trading_day ORDER BY trading_day`,
        [symbol],
      );
      return reader.getRows().map(([day, rows, hashes, without, first, last]) => {
        if (first === null || last === null) {
          throw new TickStoreVerifyError(`day ${String(day)} of ${symbol} has no datetime_ns`, { table, symbol });
        }
        return {
          trading_day: String(day),
          rows: Number(rows),
          schedule_hashes: hashes === null ? [] : (hashes as DuckDBListValue).items.map((h) => String(h)).sort(),
          rows_without_hash: Number(without),
          first_datetime_ns: BigInt(first as bigint),
          last_datetime_ns: BigInt(last as bigint),
        };
      });
    });
  }

  async writeDay(table: string, symbol: string, tradingDay: string, rows: TickDayBatch): Promise<WriteDayResult> {
    const def = tableDef(table);
    if (def.ts !== 'tick' || !def.columns.some((c) => c.name === 'underlying_contract')) {
      throw new TickStoreInputError(`writeDay supports the tick table only, not ${table}`, { table });
    }
    const n = assertBatchShape(symbol, tradingDay, rows);
    return this.exclusive(async () => {
      const real = await this.describe(def.name);
      checkColumns(def, real, DUCKDB_TYPES);
      const fresh = await this.appendFreshDay(def.name, real, symbol, tradingDay, rows, n);
      if (fresh !== null) return fresh;
      await this.stage(rows, n);
      const keyParams = {
        symbol,
        day: tradingDay,
        tk: rows.ticksKind,
        dv: rows.datasetVersion,
      };
      const dayFilter =
        'x.symbol = $symbol AND x.trading_day = $day AND x.ticks_kind = $tk AND x.dataset_version = $dv';
      const countDay = async () =>
        Number(
          (
            await this.conn.runAndReadAll(`SELECT count(*) FROM ${def.name} x WHERE ${dayFilter}`, keyParams)
          ).getRows()[0]?.[0] ?? Number.NaN,
        );
      const keys = await this.conn.runAndReadAll(
        `SELECT count(DISTINCT (datetime_ns // 1000, row_hash)) FROM ${STAGE}`,
      );
      const distinctKeys = Number(keys.getRows()[0]?.[0] ?? Number.NaN);
      // Exact re-deliveries inside the batch collapse first; the common duplicate-free batch skips that pass.
      const staged =
        distinctKeys < n
          ? `SELECT DISTINCT ON (ts, row_hash) make_timestamp(datetime_ns // 1000) AS ts, * FROM ${STAGE}`
          : `SELECT make_timestamp(datetime_ns // 1000) AS ts, * FROM ${STAGE}`;
      const { inserted, dayRows } = await this.transaction(async () => {
        const before = await countDay();
        const ins = await this.conn.run(
          `INSERT INTO ${def.name} (symbol, datetime_ns, trading_day, row_hash, ${TICK_NUMERIC_COLUMNS.join(', ')},
             dataset_version, ticks_kind, underlying_contract, segment_id, schedule_hash, ts)
           SELECT $symbol, s.datetime_ns, $day, s.row_hash, ${TICK_NUMERIC_COLUMNS.map((c) => `s.${c}`).join(', ')},
             $dv, $tk, $uc, $seg, $sh, s.ts
           FROM (${staged}) s
           WHERE NOT EXISTS (SELECT 1 FROM ${def.name} x WHERE ${dayFilter} AND x.ts = s.ts AND x.row_hash = s.row_hash)`,
          { ...keyParams, uc: rows.underlyingContract, seg: rows.segmentId, sh: rows.scheduleHash },
        );
        // Read back inside the transaction (§1.3): the day grew by exactly the rows inserted, and it holds at least
        // every distinct key sent (keys already present were not inserted again).
        const after = await countDay();
        if (after !== before + ins.rowsChanged || after < distinctKeys || ins.rowsChanged > distinctKeys) {
          throw new TickStoreVerifyError(
            `day holds ${after} rows after inserting ${ins.rowsChanged} onto ${before} (${distinctKeys} distinct keys sent)`,
            { table, symbol, trading_day: tradingDay },
          );
        }
        await this.options.beforeCommit?.({ table, symbol, tradingDay });
        return { inserted: ins.rowsChanged, dayRows: after };
      });
      await this.conn.run(`DROP TABLE IF EXISTS ${STAGE}`);
      return { table, symbol, tradingDay, rowsSent: n, distinctKeys, inserted, dayRows };
    });
  }

  /**
   * The common first write of a day: the day holds no rows and the batch's dedup keys are distinct and in order, so
   * the batch is appended straight into the table in one transaction (no stage, no anti-join; the per-day constants
   * are constant vectors), then verified by count. `null` when the day is not empty or the batch needs the general
   * path (duplicate keys, keys out of order, negative times, a column this path does not know).
   */
  private async appendFreshDay(
    table: string,
    real: readonly ColumnInfo[],
    symbol: string,
    tradingDay: string,
    rows: TickDayBatch,
    n: number,
  ): Promise<WriteDayResult | null> {
    const ts = microsOfNanos(rows.datetimeNs);
    if (ts === null || !keysDistinctInOrder(ts, rows.rowHash)) return null;
    const constants: Record<string, string | bigint> = {
      symbol,
      trading_day: tradingDay,
      dataset_version: rows.datasetVersion,
      ticks_kind: rows.ticksKind,
      underlying_contract: rows.underlyingContract,
      schedule_hash: rows.scheduleHash,
      segment_id: rows.segmentId,
    };
    const arrays: Record<string, BigInt64Array | Float64Array> = {
      datetime_ns: rows.datetimeNs,
      row_hash: rows.rowHash,
      ts,
    };
    TICK_NUMERIC_COLUMNS.forEach((c, k) => {
      arrays[c] = rows.values[k] as Float64Array;
    });
    if (!real.every((c) => c.name in constants || c.name in arrays)) return null;
    const dayRows = async () =>
      Number(
        (
          await this.conn.runAndReadAll(`SELECT count(*) FROM ${table} WHERE symbol = $1 AND trading_day = $2`, [
            symbol,
            tradingDay,
          ])
        ).getRows()[0]?.[0] ?? Number.NaN,
      );
    if ((await dayRows()) !== 0) return null;
    return this.transaction(async () => {
      const appender = await this.conn.createAppender(table);
      try {
        const chunk = DuckDBDataChunk.create(
          real.map((_, i) => appender.columnType(i)),
          CHUNK_ROWS,
        );
        const copies: [duckdb.Vector, BigInt64Array | Float64Array][] = [];
        real.forEach((c, i) => {
          const vector = duckdb.data_chunk_get_vector(chunk.chunk, i);
          const v = constants[c.name];
          if (v === undefined) copies.push([vector, arrays[c.name] as BigInt64Array | Float64Array]);
          else
            duckdb.vector_reference_value(
              vector,
              typeof v === 'bigint' ? duckdb.create_int64(v) : duckdb.create_varchar(v),
            );
        });
        appendColumns(appender, chunk, copies, n);
      } finally {
        appender.closeSync();
      }
      const after = await dayRows();
      if (after !== n) {
        throw new TickStoreVerifyError(`day holds ${after} rows after appending ${n} to an empty day`, {
          table,
          symbol,
          trading_day: tradingDay,
        });
      }
      await this.options.beforeCommit?.({ table, symbol, tradingDay });
      return { table, symbol, tradingDay, rowsSent: n, distinctKeys: n, inserted: n, dayRows: n };
    });
  }

  /** Bulk-load the varying columns into a fresh temp stage table (not part of the persistent data). */
  private async stage(rows: TickDayBatch, n: number): Promise<void> {
    const cols = STAGE_COLUMNS.map((c, i) => `${c} ${i < 2 ? 'BIGINT' : 'DOUBLE'}`).join(', ');
    await this.conn.run(`CREATE OR REPLACE TEMP TABLE ${STAGE} (${cols})`);
    const appender = await this.conn.createAppender(STAGE, 'main', 'temp');
    try {
      const types = STAGE_COLUMNS.map((_, i) => appender.columnType(i));
      const chunk = DuckDBDataChunk.create(types, CHUNK_ROWS);
      const sources: (BigInt64Array | Float64Array)[] = [rows.datetimeNs, rows.rowHash, ...rows.values];
      appendColumns(
        appender,
        chunk,
        sources.map((src, i) => [duckdb.data_chunk_get_vector(chunk.chunk, i), src]),
        n,
      );
    } finally {
      appender.closeSync();
    }
  }

  async deleteRows(table: string, scope: DeleteScope): Promise<number> {
    const def = tableDef(table);
    const has = (c: string) => def.columns.some((x) => x.name === c);
    const where: string[] = [];
    const params: DuckDBValue[] = [];
    const bind = (v: DuckDBValue) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (scope.symbol !== undefined) {
      if (!has('symbol') || scope.symbol.length === 0) throw new TickStoreInputError(`cannot scope ${table} by symbol`);
      where.push(`symbol = ${bind(scope.symbol)}`);
    } else {
      if (!has('exchange') || !has('variety') || !scope.exchange || !scope.variety) {
        throw new TickStoreInputError(`cannot scope ${table} by exchange + variety`);
      }
      where.push(`exchange = ${bind(scope.exchange)}`, `variety = ${bind(scope.variety)}`);
    }
    if (scope.tradingDays !== undefined) {
      if (scope.tradingDays.length === 0 || !has('trading_day')) {
        throw new TickStoreInputError(`tradingDays must be non-empty and ${table} must have trading_day`);
      }
      where.push(`trading_day IN (${scope.tradingDays.map((d) => bind(assertTradingDay(d))).join(', ')})`);
    }
    if (scope.buildId !== undefined) {
      if (!has('build_id')) throw new TickStoreInputError(`${table} has no build_id`);
      where.push(`build_id = ${bind(scope.buildId)}`);
    }
    return this.exclusive(() =>
      this.transaction(async () => {
        const res = await this.conn.run(`DELETE FROM ${def.name} WHERE ${where.join(' AND ')}`, params);
        return res.rowsChanged;
      }),
    );
  }

  private dayQuery(table: string, symbol: string, tradingDays: readonly string[] | undefined, select: string) {
    const def = tableDef(table);
    const params: DuckDBValue[] = [symbol];
    let dayFilter = '';
    if (tradingDays !== undefined) {
      if (tradingDays.length === 0) return null;
      dayFilter = ` AND trading_day IN (${tradingDays.map((d) => {
        params.push(assertTradingDay(d));
        return `$${params.length}`;
      })})`;
    }
    return this.exclusive(async () => {
      const reader = await this.conn.runAndReadAll(
        `SELECT trading_day, ${select} FROM ${def.name} WHERE symbol = $1${dayFilter} GROUP BY trading_day ORDER BY trading_day`,
        params,
      );
      return reader.getRows();
    });
  }

  async countByDay(table: string, symbol: string, tradingDays?: readonly string[]): Promise<DayCount[]> {
    const rows = (await this.dayQuery(table, symbol, tradingDays, 'count(*)')) ?? [];
    return rows.map(([day, n]) => ({ trading_day: String(day), rows: Number(n) }));
  }

  async rowHashAggregatesByDay(
    table: string,
    symbol: string,
    tradingDays?: readonly string[],
  ): Promise<DayRowHashAggregates[]> {
    // HUGEINT sums are exact; the int64 wrap-around of §2.2 is applied here (|−2^63| wraps to −2^63).
    const rows =
      (await this.dayQuery(
        table,
        symbol,
        tradingDays,
        'count(row_hash), min(row_hash), max(row_hash), sum(row_hash::HUGEINT), sum(abs(row_hash::HUGEINT))',
      )) ?? [];
    return rows.map(([day, n, min, max, sum, absSum]) => {
      const agg: RowHashAggregates =
        Number(n) === 0
          ? { rows: 0, min: null, max: null, sum: null, abs_sum: null }
          : {
              rows: Number(n),
              min: BigInt(min as bigint),
              max: BigInt(max as bigint),
              sum: BigInt.asIntN(64, BigInt(sum as bigint)),
              abs_sum: BigInt.asIntN(64, BigInt(absSum as bigint)),
            };
      return { trading_day: String(day), ...agg };
    });
  }

  /**
   * Run `fn` on the explorer connection, one statement at a time (opened on first use). External access is NOT turned
   * off: DuckDB only offers that instance-wide and one-way, which would also take file access (Parquet export) from
   * every other user of this store in the process. The guard is the engine's parse tree (one SELECT over catalog
   * tables and views, no table functions, no file paths as tables) inside a read-only transaction.
   */
  private explorerExclusive<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = async () => {
      if (this.closed) throw new TickStoreInputError('store is closed');
      this.explorerConn ??= await this.instance.connect();
      return fn(this.explorerConn);
    };
    const out = this.explorerQueue.then(run, run);
    this.explorerQueue = out.catch(() => undefined);
    return out;
  }

  /** Drop the explorer connection (after an interrupt or a failed cleanup); the next statement opens a fresh one. */
  private dropExplorerConn(): void {
    const conn = this.explorerConn;
    this.explorerConn = null;
    try {
      conn?.closeSync();
    } catch {
      // already closed
    }
  }

  /**
   * The SQL explorer's guarded read (control-chain §8): DuckDB's parser must yield exactly one SELECT whose every
   * table reference is a catalog table or view (`checkExplorerTree`); it then runs on the explorer's own connection
   * inside `BEGIN TRANSACTION READ ONLY` … `ROLLBACK`, streamed chunk by chunk until `maxRows + 1` rows, and is
   * interrupted (`duckdb_interrupt`) when `timeoutMs` — counted from the call, queueing included — runs out.
   */
  readOnlyQuery(sql: string, opts: ReadOnlyQueryOptions): Promise<ReadOnlyQueryResult> {
    assertQueryOptions(opts);
    const started = performance.now();
    return this.explorerExclusive(async (conn) => {
      const tree = await parseExplorerStatement(conn, sql);
      checkExplorerTree(tree, new Set(), await explorerCatalog(conn));
      const remaining = started + opts.timeoutMs - performance.now();
      if (remaining <= 0) throw new QueryTimeoutError(opts.timeoutMs);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        conn.interrupt();
      }, remaining);
      let clean = false;
      try {
        await conn.run('BEGIN TRANSACTION READ ONLY');
        const result = await conn.stream(sql);
        const columns: QueryColumn[] = result
          .columnNames()
          .map((name, i) => ({ name, type: result.columnType(i).toString() }));
        const rows: unknown[][] = [];
        while (rows.length <= opts.maxRows) {
          const chunk = await result.fetchChunk();
          if (chunk === null || chunk.rowCount === 0) break;
          for (const row of chunk.getRows()) {
            rows.push(row.map(explorerCell));
            if (rows.length > opts.maxRows) break;
          }
        }
        clearTimeout(timer);
        await conn.run('ROLLBACK');
        clean = true;
        const truncated = rows.length > opts.maxRows;
        if (truncated) rows.length = opts.maxRows;
        return {
          columns,
          rows,
          row_count: rows.length,
          truncated,
          elapsed_ms: Math.round(performance.now() - started),
        };
      } catch (err) {
        if (timedOut) throw new QueryTimeoutError(opts.timeoutMs);
        if (err instanceof QueryNotAllowedError || err instanceof QueryTimeoutError) throw err;
        const message = err instanceof Error ? err.message : String(err);
        // The binder's refusals (unknown column, a table function reached through a view, …) are the guard's too.
        if (/^(Binder|Catalog|Parser|Permission) Error/i.test(message)) {
          throw new QueryNotAllowedError('rejected_by_engine', `DuckDB refused the statement: ${message}`, {
            engine_message: message.slice(0, 2000),
          });
        }
        throw queryFailedError(message);
      } finally {
        clearTimeout(timer);
        if (!clean) {
          // After an interrupt the connection is replaced; otherwise end the read transaction (or replace it).
          if (timedOut) this.dropExplorerConn();
          else await conn.run('ROLLBACK').catch(() => this.dropExplorerConn());
        }
      }
    });
  }

  /** Tables and views of the store's own schema with their columns, read on the explorer connection. */
  catalog(): Promise<CatalogTable[]> {
    return this.explorerExclusive(async (conn) => {
      const reader = await conn.runAndReadAll(
        `SELECT t.table_name, t.table_type, c.column_name, c.data_type
         FROM information_schema.tables t
         JOIN information_schema.columns c
           ON c.table_catalog = t.table_catalog AND c.table_schema = t.table_schema AND c.table_name = t.table_name
         WHERE t.table_catalog = current_database() AND t.table_schema = 'main'
         ORDER BY t.table_name, c.ordinal_position`,
      );
      const tables = new Map<string, { name: string; kind: 'table' | 'view'; columns: QueryColumn[] }>();
      for (const [table, kind, column, type] of reader.getRows()) {
        const name = String(table);
        let entry = tables.get(name);
        if (entry === undefined) {
          entry = { name, kind: String(kind).toUpperCase() === 'VIEW' ? 'view' : 'table', columns: [] };
          tables.set(name, entry);
        }
        entry.columns.push({ name: String(column), type: String(type) });
      }
      return [...tables.values()];
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    this.explorerConn?.interrupt();
    await this.explorerQueue;
    this.dropExplorerConn();
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
