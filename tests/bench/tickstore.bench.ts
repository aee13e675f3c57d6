/**
 * Tick-store write throughput (DuckDB, data-chain §1.3): `writeDay` of full main_l5 days (66,600 rows, the au/ag
 * ceiling at 2 ticks/s) into a file database, ~2 M rows in all, each day one transaction through the bulk path
 * (typed arrays -> DataChunk -> temp stage -> anti-join insert + read-back verify). Also times a rewrite of the same
 * days (all keys present: the idempotent path) and the stage load alone. Goal (issue): over 1,000,000 rows/s.
 * Prints one JSON object.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { machine, summarize } from './stats.ts';
import { benchDays, measureTickWrites } from './support/tickstore-writes.ts';

const DAYS = Number(process.env.BENCH_TICK_DAYS ?? 30);
const ROWS_PER_DAY = Number(process.env.BENCH_TICK_ROWS_PER_DAY ?? 66_600);
const GOAL_ROWS_PER_S = 1_000_000;

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
