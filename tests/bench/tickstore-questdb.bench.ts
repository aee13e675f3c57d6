/**
 * QuestDB tick-store write throughput (data-chain §1.3). Always measures, with no server, how fast one full main_l5
 * day (66,600 rows, the au/ag ceiling at 2 ticks/s) is encoded into one ILP body (protocol v2 binary doubles, the
 * default, and v1 text). With `GHTRADER_QUESTDB_HTTP` set it also times `writeDay` of 30 such days (one ILP request
 * per day + WAL wait + count read-back each) and a rewrite of the same days (all keys present). That run DROPS and
 * recreates `ghtrader_ticks_main_l5_v2` on the server: use a throwaway instance. Setup notes reference: the official
 * client's per-row API ~30,000 rows/s; one ILP text body per batch POSTed to /write ~60,000 rows/s end to end.
 * Prints one JSON object.
 */
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import type { TickDayBatch } from '#shared/domain/data/tick-store.ts';
import { openQuestDbTickStore } from '#shared/infra/tickstore/questdb.ts';
import { QuestDbHttp } from '#shared/infra/tickstore/questdb-http.ts';
import { encodeTickDayIlp, type IlpVersion, truncateToMicros } from '#shared/infra/tickstore/questdb-ilp.ts';
import { makeDay } from '#tests/integration/tickstore/fixtures.ts';
import { machine, summarize } from './stats.ts';
import { BENCH_SYMBOL, benchDays, measureTickWrites } from './support/tickstore-writes.ts';

const URL_ENV = process.env.GHTRADER_QUESTDB_HTTP;
const DAYS = Number(process.env.BENCH_QDB_DAYS ?? 30);
const ROWS_PER_DAY = Number(process.env.BENCH_TICK_ROWS_PER_DAY ?? 66_600);
const ENCODE_REPS = 5;
const SYMBOL = BENCH_SYMBOL;
const TABLE = TABLES.ticksMainL5;

/** Median rows/s of encoding one day `ENCODE_REPS` times (after one warm-up), and the body size. */
function encodeRate(day: TickDayBatch, version: IlpVersion): { rowsPerS: number; ms: number[]; bytes: number } {
  const run = () => {
    const tsUs = truncateToMicros(day.datetimeNs);
    return encodeTickDayIlp({ table: TABLE.name, symbol: SYMBOL, tradingDay: '2026-01-05', batch: day, tsUs }, version);
  };
  const bytes = run().length;
  const ms: number[] = [];
  for (let i = 0; i < ENCODE_REPS; i++) {
    const t = performance.now();
    run();
    ms.push(performance.now() - t);
  }
  const median = summarize(ms).p50;
  return { rowsPerS: Math.round(ROWS_PER_DAY / (median / 1000)), ms, bytes };
}

async function writeBench(url: string) {
  const days = benchDays(DAYS, ROWS_PER_DAY);
  const http = new QuestDbHttp({ baseUrl: url, retryMax: 1 });
  await http.exec(`DROP TABLE IF EXISTS ${TABLE.name}`);
  const store = await openQuestDbTickStore({ httpUrl: url, env: process.env });
  try {
    await store.createTable(TABLE);
    const { rowsTotal: total, firstS, firstMs, rewriteS, rewriteMs } = await measureTickWrites(store, days);
    return {
      server: url,
      store_id: store.storeId,
      rows_total: total,
      days: DAYS,
      write_rows_per_s: Math.round(total / firstS),
      write_s: Math.round(firstS * 1000) / 1000,
      write_day_ms: summarize(firstMs),
      rewrite_same_rows_per_s: Math.round(total / rewriteS),
      rewrite_day_ms: summarize(rewriteMs),
    };
  } finally {
    await store.close();
    await http.exec(`DROP TABLE IF EXISTS ${TABLE.name}`);
  }
}

async function main(): Promise<void> {
  const day = makeDay(ROWS_PER_DAY);
  const v2 = encodeRate(day, 2);
  const v1 = encodeRate(day, 1);
  const encode = {
    ilp_encode_rows_per_s: v2.rowsPerS,
    ilp_encode: {
      rows_per_day: ROWS_PER_DAY,
      v2_binary_doubles: { rows_per_s: v2.rowsPerS, day_ms: summarize(v2.ms), body_bytes: v2.bytes },
      v1_text: { rows_per_s: v1.rowsPerS, day_ms: summarize(v1.ms), body_bytes: v1.bytes },
    },
  };
  const out = URL_ENV
    ? {
        name: 'tickstore-questdb',
        machine: machine(),
        comparison:
          'QuestDB over HTTP, one ILP request (one transaction) per (symbol, trading_day), WAL wait + count read-back; ' +
          'setup-notes reference: per-row client ~30,000 rows/s, one ILP text body per batch ~60,000 rows/s',
        ...encode,
        figures: await writeBench(URL_ENV),
      }
    : {
        name: 'tickstore-questdb',
        skipped: 'set GHTRADER_QUESTDB_HTTP to measure QuestDB write throughput',
        machine: machine(),
        ...encode,
      };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

await main();
