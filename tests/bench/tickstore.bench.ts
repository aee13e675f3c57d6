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
import type { TickDayBatch } from '#shared/domain/data/tick-store.ts';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { DAY_START_NS, makeDay } from '#tests/integration/tickstore/fixtures.ts';
import { machine, summarize } from './stats.ts';

const DAYS = Number(process.env.BENCH_TICK_DAYS ?? 30);
const ROWS_PER_DAY = Number(process.env.BENCH_TICK_ROWS_PER_DAY ?? 66_600);
const GOAL_ROWS_PER_S = 1_000_000;
const DAY_NS = 86_400_000_000_000n;
const SYMBOL = 'KQ.m@SHFE.au';

function isoDay(i: number): string {
  return new Date(Date.UTC(2026, 0, 5 + i)).toISOString().slice(0, 10);
}

async function main(): Promise<void> {
  const days: TickDayBatch[] = [];
  for (let d = 0; d < DAYS; d++) days.push(makeDay(ROWS_PER_DAY, { startNs: DAY_START_NS + BigInt(d) * DAY_NS }));
  const dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-bench-tickstore-'));
  const file = path.join(dir, 'ticks.duckdb');
  const store = await openDuckDbTickStore({ path: file });
  try {
    const table = TABLES.ticksMainL5;
    await store.createTable(table);
    // Warm-up on another symbol so the first measured day does not pay for plan caches and allocator growth.
    await store.writeDay(table.name, 'KQ.m@SHFE.ag', '2026-01-02', makeDay(ROWS_PER_DAY));

    const firstMs: number[] = [];
    const t0 = performance.now();
    for (let d = 0; d < DAYS; d++) {
      const s = performance.now();
      const r = await store.writeDay(table.name, SYMBOL, isoDay(d), days[d] as TickDayBatch);
      if (r.inserted !== ROWS_PER_DAY) throw new Error(`day ${d}: inserted ${r.inserted}`);
      firstMs.push(performance.now() - s);
    }
    const firstS = (performance.now() - t0) / 1000;

    const rewriteMs: number[] = [];
    const t1 = performance.now();
    for (let d = 0; d < DAYS; d++) {
      const s = performance.now();
      const r = await store.writeDay(table.name, SYMBOL, isoDay(d), days[d] as TickDayBatch);
      if (r.inserted !== 0 || r.dayRows !== ROWS_PER_DAY) throw new Error(`day ${d}: rewrite changed the day`);
      rewriteMs.push(performance.now() - s);
    }
    const rewriteS = (performance.now() - t1) / 1000;

    const total = DAYS * ROWS_PER_DAY;
    const counted = (await store.countByDay(table.name, SYMBOL)).reduce((a, c) => a + c.rows, 0);
    if (counted !== total) throw new Error(`stored ${counted} rows, expected ${total}`);
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
