/**
 * Tick-store write throughput (DuckDB, data-chain §1.3): `writeDay` of full main_l5 days (66,600 rows, the au/ag
 * ceiling at 2 ticks/s) into a file database, ~2 M rows in all, each day one transaction through the bulk path
 * (typed arrays -> DataChunk -> temp stage -> anti-join insert + read-back verify). Also times a rewrite of the same
 * days (all keys present: the idempotent path). Goal (issue): over 1,000,000 rows/s.
 *
 * For scale it also measures the engine's own ceiling on this machine: the same days appended by the raw DuckDB
 * appender (typed arrays copied into DataChunk vectors, constants as constant vectors) into a bare table with the
 * same 37 columns, one COMMIT per day, with no key check, no verification and no store code at all.
 * Prints one JSON object.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBDataChunk, DuckDBInstance } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { TABLES, TICK_NUMERIC_COLUMNS } from '#shared/domain/data/tick-columns.ts';
import type { TickDayBatch } from '#shared/domain/data/tick-store.ts';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { machine, summarize } from './stats.ts';
import { BENCH_SYMBOL, benchDay, benchDays, measureTickWrites } from './support/tickstore-writes.ts';

const DAYS = Number(process.env.BENCH_TICK_DAYS ?? 30);
const ROWS_PER_DAY = Number(process.env.BENCH_TICK_ROWS_PER_DAY ?? 66_600);
const GOAL_ROWS_PER_S = 1_000_000;

/** Rows/s of the bare DuckDB appender for `days` (see the file comment), in a file of its own. */
async function engineCeiling(dir: string, days: readonly TickDayBatch[]): Promise<number> {
  const instance = await DuckDBInstance.create(path.join(dir, 'ceiling.duckdb'));
  const conn = await instance.connect();
  try {
    await conn.run(`SET checkpoint_threshold = '1GB'`);
    const numeric = TICK_NUMERIC_COLUMNS.map((c) => `${c} DOUBLE`).join(', ');
    await conn.run(
      `CREATE TABLE t (symbol VARCHAR, datetime_ns BIGINT, trading_day VARCHAR, row_hash BIGINT, ${numeric},
        dataset_version VARCHAR, ticks_kind VARCHAR, underlying_contract VARCHAR, segment_id BIGINT,
        schedule_hash VARCHAR, ts TIMESTAMP)`,
    );
    let rows = 0;
    const t0 = performance.now();
    for (const [d, day] of days.entries()) {
      const arrays = [day.datetimeNs, day.rowHash, ...day.values, day.datetimeNs]; // ts: any int64 column will do
      await conn.run('BEGIN');
      const appender = await conn.createAppender('t');
      const types = Array.from({ length: appender.columnCount }, (_, i) => appender.columnType(i));
      const chunk = DuckDBDataChunk.create(types, 2048);
      const constants: [number, duckdb.Value][] = [
        [0, duckdb.create_varchar(BENCH_SYMBOL)],
        [2, duckdb.create_varchar(benchDay(d))],
        [31, duckdb.create_varchar('v2')],
        [32, duckdb.create_varchar('main_l5')],
        [33, duckdb.create_varchar(day.underlyingContract)],
        [34, duckdb.create_int64(day.segmentId)],
        [35, duckdb.create_varchar(day.scheduleHash)],
      ];
      for (const [i, v] of constants) duckdb.vector_reference_value(duckdb.data_chunk_get_vector(chunk.chunk, i), v);
      const copies = [1, 3, ...TICK_NUMERIC_COLUMNS.map((_, k) => 4 + k), 36].map(
        (col, k) =>
          [duckdb.data_chunk_get_vector(chunk.chunk, col), arrays[k] as BigInt64Array | Float64Array] as const,
      );
      const n = day.datetimeNs.length;
      for (let off = 0; off < n; off += 2048) {
        const len = Math.min(2048, n - off);
        for (const [vec, src] of copies) {
          duckdb.copy_data_to_vector(vec, 0, src.buffer as ArrayBuffer, src.byteOffset + off * 8, len * 8);
        }
        duckdb.data_chunk_set_size(chunk.chunk, len);
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
      appender.closeSync();
      await conn.run('COMMIT');
      rows += n;
    }
    return Math.round(rows / ((performance.now() - t0) / 1000));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function main(): Promise<void> {
  const days = benchDays(DAYS, ROWS_PER_DAY);
  const dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-bench-tickstore-'));
  const file = path.join(dir, 'ticks.duckdb');
  const store = await openDuckDbTickStore({ path: file });
  try {
    const table = TABLES.ticksMainL5;
    await store.createTable(table);
    const { rowsTotal: total, firstS, firstMs, rewriteS, rewriteMs } = await measureTickWrites(store, days);
    const c0 = performance.now();
    await store.close(); // checkpoints the WAL into the database file
    const closeS = (performance.now() - c0) / 1000;
    const rowsPerS = Math.round(total / firstS);
    const ceiling = await engineCeiling(dir, days);
    process.stdout.write(
      `${JSON.stringify(
        {
          bench: 'tickstore',
          machine: machine(),
          comparison:
            'DuckDB file store, @duckdb/node-api 1.5.5-r.5, one writeDay (one transaction) per (symbol, trading_day); ' +
            'setup-notes reference: DataChunk setItem ~470,000 rows/s, row appender ~310,000 rows/s (append only)',
          figures: {
            rows_total: total,
            days: DAYS,
            rows_per_day: ROWS_PER_DAY,
            columns_per_row: table.columns.length,
            first_write_rows_per_s: rowsPerS,
            first_write_s: Math.round(firstS * 1000) / 1000,
            first_write_day_ms: summarize(firstMs),
            rewrite_same_rows_per_s: Math.round(total / rewriteS),
            rewrite_day_ms: summarize(rewriteMs),
            close_checkpoint_s: Math.round(closeS * 1000) / 1000,
            first_write_incl_checkpoint_rows_per_s: Math.round(total / (firstS + closeS)),
            engine_ceiling_bare_appender_rows_per_s: ceiling,
            db_file_bytes: (await stat(file)).size,
          },
          goal: { first_write_rows_per_s: `> ${GOAL_ROWS_PER_S}` },
          meets_goal: rowsPerS > GOAL_ROWS_PER_S,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
