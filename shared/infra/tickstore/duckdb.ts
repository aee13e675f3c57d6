/**
 * DuckDB `TickStore` (`$GHTRADER_HOME/ticks.duckdb`, data-chain §1). One connection, operations serialised.
 *
 * `writeDay` bulk-loads the batch's varying columns (`datetime_ns`, `row_hash`, 27 DOUBLE) into a temp stage table
 * through `appendDataChunk`, copying each typed-array slice straight into the chunk's vector memory
 * (`copy_data_to_vector`, a memcpy; no per-value JS calls), then in ONE transaction inserts the batch's distinct dedup
 * keys that are absent from the table for that `(symbol, trading_day)` (anti-join), verifies that every key sent is
 * now present and commits. The per-day constants (symbol, trading_day, provenance) are bound parameters, never staged.
 */
import { type DuckDBConnection, DuckDBDataChunk, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import type { RowHashAggregates } from '../../domain/data/row-hash.ts';
import { type TableDef, TICK_NUMERIC_COLUMNS } from '../../domain/data/tick-columns.ts';
import {
  assertBatchShape,
  assertIdentifier,
  assertTradingDay,
  type ColumnInfo,
  checkColumns,
  type DayCount,
  type DayRowHashAggregates,
  type DeleteScope,
  DUCKDB_TYPES,
  type TickDayBatch,
  type TickStore,
  TickStoreInputError,
  TickStoreVerifyError,
  tableDef,
  type WriteDayResult,
} from '../../domain/data/tick-store.ts';

export interface DuckDbTickStoreOptions {
  /** Database file; `:memory:` for a throwaway store. */
  path: string;
  /**
   * WAL size that triggers an automatic checkpoint (DuckDB `checkpoint_threshold`; default here 1GB, DuckDB's own is
   * 16MB, which is about one main_l5 day and made every commit re-compress the open row group).
   */
  checkpointThreshold?: string;
  /** Test seam: runs inside the write transaction after insert and verification, before COMMIT. */
  beforeCommit?: (info: { table: string; symbol: string; tradingDay: string }) => void | Promise<void>;
}

const STAGE = '__ghtrader_tick_stage';
const CHUNK_ROWS = 2048;
const STAGE_COLUMNS = ['datetime_ns', 'row_hash', ...TICK_NUMERIC_COLUMNS] as const;

export async function openDuckDbTickStore(options: DuckDbTickStoreOptions): Promise<DuckDbTickStore> {
  const instance = await DuckDBInstance.create(options.path);
  const conn = await instance.connect();
  const threshold = options.checkpointThreshold ?? '1GB';
  if (!/^\d+(\.\d+)?\s*[KMGT]?i?B$/i.test(threshold)) {
    throw new TickStoreInputError(`checkpointThreshold ${JSON.stringify(threshold)} is not a size like 1GB`);
  }
  await conn.run(`SET checkpoint_threshold = '${threshold}'`);
  return new DuckDbTickStore(instance, conn, options);
}

export class DuckDbTickStore implements TickStore {
  readonly kind = 'duckdb' as const;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly options: DuckDbTickStoreOptions,
  ) {}

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

  createTable(table: TableDef): Promise<void> {
    return this.exclusive(async () => {
      const cols = table.columns.map((c) => `${assertIdentifier(c.name)} ${DUCKDB_TYPES[c.type]}`).join(', ');
      await this.conn.run(`CREATE TABLE IF NOT EXISTS ${assertIdentifier(table.name)} (${cols})`);
    });
  }

  describeColumns(table: string): Promise<ColumnInfo[]> {
    return this.exclusive(() => this.describe(table));
  }

  private async describe(table: string): Promise<ColumnInfo[]> {
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

  async writeDay(table: string, symbol: string, tradingDay: string, rows: TickDayBatch): Promise<WriteDayResult> {
    const def = tableDef(table);
    if (def.ts !== 'tick' || !def.columns.some((c) => c.name === 'underlying_contract')) {
      throw new TickStoreInputError(`writeDay supports the tick table only, not ${table}`, { table });
    }
    const n = assertBatchShape(symbol, tradingDay, rows);
    return this.exclusive(async () => {
      checkColumns(def, await this.describe(def.name), DUCKDB_TYPES);
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

  /** Bulk-load the varying columns into a fresh temp stage table (not part of the persistent data). */
  private async stage(rows: TickDayBatch, n: number): Promise<void> {
    const cols = STAGE_COLUMNS.map((c, i) => `${c} ${i < 2 ? 'BIGINT' : 'DOUBLE'}`).join(', ');
    await this.conn.run(`CREATE OR REPLACE TEMP TABLE ${STAGE} (${cols})`);
    const appender = await this.conn.createAppender(STAGE, 'main', 'temp');
    try {
      const types = STAGE_COLUMNS.map((_, i) => appender.columnType(i));
      const chunk = DuckDBDataChunk.create(types, CHUNK_ROWS);
      const sources: (BigInt64Array | Float64Array)[] = [rows.datetimeNs, rows.rowHash, ...rows.values];
      const vectors = sources.map((_, i) => duckdb.data_chunk_get_vector(chunk.chunk, i));
      for (let off = 0; off < n; off += CHUNK_ROWS) {
        const len = Math.min(CHUNK_ROWS, n - off);
        for (let i = 0; i < sources.length; i++) {
          const src = sources[i] as BigInt64Array | Float64Array;
          const vec = vectors[i] as duckdb.Vector;
          duckdb.copy_data_to_vector(vec, 0, src.buffer as ArrayBuffer, src.byteOffset + off * 8, len * 8);
        }
        duckdb.data_chunk_set_size(chunk.chunk, len);
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
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

  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
