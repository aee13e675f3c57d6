/**
 * The one tick-store write measurement both stores' benches use (data-chain §1.3), so DuckDB and QuestDB figures are
 * comparable: `days` full main_l5 days written once (every row new), then rewritten (every key present: the
 * idempotent path), each `writeDay` timed, and the stored count checked. A warm-up day on another symbol comes first
 * so the first measured day does not pay for plan caches and allocator growth.
 */
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import type { TickDayBatch, TickStore } from '#shared/domain/data/tick-store.ts';
import { DAY_START_NS, makeDay } from '#tests/integration/tickstore/fixtures.ts';

export const BENCH_SYMBOL = 'KQ.m@SHFE.au';
const DAY_NS = 86_400_000_000_000n;

export function benchDay(i: number): string {
  return new Date(Date.UTC(2026, 0, 5 + i)).toISOString().slice(0, 10);
}

/** `days` synthetic days of `rowsPerDay` rows, one calendar day apart. */
export function benchDays(days: number, rowsPerDay: number): TickDayBatch[] {
  return Array.from({ length: days }, (_, d) => makeDay(rowsPerDay, { startNs: DAY_START_NS + BigInt(d) * DAY_NS }));
}

export interface WriteFigures {
  rowsTotal: number;
  firstS: number;
  firstMs: number[];
  rewriteS: number;
  rewriteMs: number[];
}

/** Write then rewrite `days` into the tick table of `store` (already created); throws when a day is off. */
export async function measureTickWrites(store: TickStore, days: readonly TickDayBatch[]): Promise<WriteFigures> {
  const table = TABLES.ticksMainL5.name;
  const rowsPerDay = days[0]?.datetimeNs.length ?? 0;
  await store.writeDay(table, 'KQ.m@SHFE.ag', '2026-01-02', makeDay(rowsPerDay));
  const pass = async (expectInserted: number): Promise<{ s: number; ms: number[] }> => {
    const ms: number[] = [];
    const t0 = performance.now();
    for (const [d, day] of days.entries()) {
      const s = performance.now();
      const r = await store.writeDay(table, BENCH_SYMBOL, benchDay(d), day);
      if (r.inserted !== expectInserted || r.dayRows !== rowsPerDay) {
        throw new Error(`day ${d}: inserted ${r.inserted} (expected ${expectInserted}), day rows ${r.dayRows}`);
      }
      ms.push(performance.now() - s);
    }
    return { s: (performance.now() - t0) / 1000, ms };
  };
  const first = await pass(rowsPerDay);
  const rewrite = await pass(0);
  const rowsTotal = days.length * rowsPerDay;
  const counted = (await store.countByDay(table, BENCH_SYMBOL)).reduce((a, c) => a + c.rows, 0);
  if (counted !== rowsTotal) throw new Error(`stored ${counted} rows, expected ${rowsTotal}`);
  return { rowsTotal, firstS: first.s, firstMs: first.ms, rewriteS: rewrite.s, rewriteMs: rewrite.ms };
}
