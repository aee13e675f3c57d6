/**
 * Adapter contract for every `TickStore` (data-chain §1.3–§1.5). DuckDB runs it in `duckdb.test.ts`; QuestDB will run
 * the same function when `GHTRADER_QUESTDB_HTTP` is set. Each test gets a fresh, empty store. Only port methods are
 * used here (no store-specific SQL); DDL comes from the store's own `dialect`.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rowHashAggregates } from '#shared/domain/data/row-hash.ts';
import { TABLES, type TableDef, TICK_NUMERIC_COLUMNS } from '#shared/domain/data/tick-columns.ts';
import {
  dayTsMicros,
  msToMicros,
  type ReadOnlyQueryOptions,
  type ReadOnlyQueryResult,
  type Row,
  SchemaContractError,
  type TickDayBatch,
  TickReadBuffers,
  type TickStore,
  TickStoreInputError,
} from '#shared/domain/data/tick-store.ts';
import { QueryNotAllowedError, QueryTimeoutError } from '#shared/errors/control.ts';
import {
  DAY_START_NS,
  mainL5BuildRow,
  makeDay,
  pick,
  rowOf,
  scheduleRow,
  UPDATED_AT_US,
  withHashes,
} from './fixtures.ts';

export interface ContractStore {
  store: TickStore;
  /** Makes the next write fail after its rows reached the store, before it commits (QuestDB: fail the ILP request). */
  failNextCommit: () => void;
  cleanup: () => Promise<void>;
  /**
   * Waits until every write to `table` is visible to reads (QuestDB applies WAL asynchronously). The suite awaits it
   * after each successful write before reading; stores whose writes are visible on return leave it undefined.
   */
  settle?: (table: string) => Promise<void>;
}

/** The store with `settle` awaited after every successful write, so a test reads what it wrote. */
function settling(inner: TickStore, settle: ((table: string) => Promise<void>) | undefined): TickStore {
  if (settle === undefined) return inner;
  const after = async <R>(table: string, write: Promise<R>): Promise<R> => {
    const out = await write;
    await settle(table);
    return out;
  };
  return {
    kind: inner.kind,
    storeId: inner.storeId,
    dialect: inner.dialect,
    executeDdl: (statements) => inner.executeDdl(statements),
    createTable: (table) => after(table.name, inner.createTable(table)),
    writeRows: (table, rows) => after(table, inner.writeRows(table, rows)),
    readRows: (table, filter, opts) => inner.readRows(table, filter, opts),
    readTickDay: (table, symbol, day) => inner.readTickDay(table, symbol, day),
    readTickValues: (table, symbol, day, buffers) => inner.readTickValues(table, symbol, day, buffers),
    dayProvenance: (table, symbol) => inner.dayProvenance(table, symbol),
    describeColumns: (table) => inner.describeColumns(table),
    assertRequiredColumns: (table) => inner.assertRequiredColumns(table),
    writeDay: (table, symbol, day, rows) => after(table, inner.writeDay(table, symbol, day, rows)),
    deleteRows: (table, scope) => after(table, inner.deleteRows(table, scope)),
    countByDay: (table, symbol, days) => inner.countByDay(table, symbol, days),
    rowHashAggregatesByDay: (table, symbol, days) => inner.rowHashAggregatesByDay(table, symbol, days),
    ...(inner.readOnlyQuery === undefined ? {} : { readOnlyQuery: inner.readOnlyQuery.bind(inner) }),
    ...(inner.catalog === undefined ? {} : { catalog: inner.catalog.bind(inner) }),
    close: () => inner.close(),
  };
}

/** The SQL explorer's read (control-chain §8); every adapter implements it. */
function explore(
  store: TickStore,
  sql: string,
  opts: ReadOnlyQueryOptions = { timeoutMs: 10_000, maxRows: 500 },
): Promise<ReadOnlyQueryResult> {
  if (store.readOnlyQuery === undefined) throw new Error(`${store.kind} store has no readOnlyQuery`);
  return store.readOnlyQuery(sql, opts);
}

/** `fn` rejects with `QueryNotAllowedError` (400 `query_not_allowed`). */
async function expectNotAllowed(fn: () => Promise<unknown>, sql: string): Promise<void> {
  const err = await fn().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, sql).toBeInstanceOf(QueryNotAllowedError);
  expect((err as QueryNotAllowedError).code, sql).toBe('query_not_allowed');
  expect((err as QueryNotAllowedError).status, sql).toBe(400);
}

const TICKS = TABLES.ticksMainL5;
const T = TICKS.name;
const CU = 'KQ.m@SHFE.cu';
const AU = 'KQ.m@SHFE.au';
const SCHEDULE = TABLES.mainSchedule;
const S = SCHEDULE.name;
const BUILDS = TABLES.mainL5Builds;
const B = BUILDS.name;
/** A build time: 2026-01-05 15:30:00 UTC in µs. */
const TS_BUILD = msToMicros(Date.UTC(2026, 0, 5, 15, 30));
const DAY_NS = 86_400_000_000_000n;

/** Order of rows `a`, `b` of a batch by `(datetime_ns, row_hash)`. */
function compareTick(day: TickDayBatch, a: number, b: number): number {
  const da = day.datetimeNs[a] as bigint;
  const db = day.datetimeNs[b] as bigint;
  if (da !== db) return da < db ? -1 : 1;
  const ha = day.rowHash[a] as bigint;
  const hb = day.rowHash[b] as bigint;
  return ha === hb ? 0 : ha < hb ? -1 : 1;
}

export function tickStoreContract(name: string, makeStore: () => Promise<ContractStore>): void {
  describe(`TickStore contract: ${name}`, () => {
    let ctx: ContractStore;
    let store: TickStore;

    beforeEach(async () => {
      ctx = await makeStore();
      store = settling(ctx.store, ctx.settle);
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    it('rewriting a day with the same rows inserts nothing and keeps the day count', async () => {
      // Prepare
      await store.createTable(TICKS);
      const day = makeDay(500);
      const first = await store.writeDay(T, CU, '2026-01-05', day);
      // Act
      const again = await store.writeDay(T, CU, '2026-01-05', day);
      // Assess
      expect(first).toMatchObject({ rowsSent: 500, distinctKeys: 500, inserted: 500, dayRows: 500 });
      expect(again).toMatchObject({ rowsSent: 500, distinctKeys: 500, inserted: 0, dayRows: 500 });
      expect(await store.countByDay(T, CU)).toEqual([{ trading_day: '2026-01-05', rows: 500 }]);
    });

    it('keeps two distinct ticks sharing a timestamp while an exact re-delivery collapses', async () => {
      // Prepare
      await store.createTable(TICKS);
      const base = makeDay(3);
      const twin = pick(base, [0, 1, 2]);
      twin.datetimeNs[1] = twin.datetimeNs[0] as bigint; // same instant as row 0 ...
      (twin.values[0] as Float64Array)[1] = 70_123; // ... but a different last_price
      const rows = withHashes(twin);
      const batch = pick(rows, [0, 1, 2, 0, 2]); // rows 0 and 2 delivered twice in the same batch
      // Act
      const written = await store.writeDay(T, CU, '2026-01-05', batch);
      const redelivered = await store.writeDay(T, CU, '2026-01-05', pick(rows, [1]));
      // Assess
      expect(rows.rowHash[0]).not.toBe(rows.rowHash[1]);
      expect(written).toMatchObject({ rowsSent: 5, distinctKeys: 3, inserted: 3, dayRows: 3 });
      expect(redelivered).toMatchObject({ inserted: 0, dayRows: 3 });
    });

    it('adds only the new ticks when a day is written again with more rows', async () => {
      // Prepare
      await store.createTable(TICKS);
      const full = makeDay(300);
      await store.writeDay(
        T,
        CU,
        '2026-01-05',
        pick(
          full,
          Array.from({ length: 200 }, (_, i) => i),
        ),
      );
      // Act
      const result = await store.writeDay(T, CU, '2026-01-05', full);
      // Assess
      expect(result).toMatchObject({ distinctKeys: 300, inserted: 100, dayRows: 300 });
    });

    it('deletes only the named symbol and trading days', async () => {
      // Prepare
      await store.createTable(TICKS);
      await store.writeDay(T, CU, '2026-01-05', makeDay(10));
      await store.writeDay(T, CU, '2026-01-06', makeDay(20, { startNs: 1_767_661_200_000_000_000n }));
      await store.writeDay(T, CU, '2026-01-07', makeDay(30, { startNs: 1_767_747_600_000_000_000n }));
      await store.writeDay(T, AU, '2026-01-06', makeDay(40, { priceOffset: 500 }));
      // Act
      const removed = await store.deleteRows(T, { symbol: CU, tradingDays: ['2026-01-06', '2026-01-07'] });
      // Assess
      expect(removed).toBe(50);
      expect(await store.countByDay(T, CU)).toEqual([{ trading_day: '2026-01-05', rows: 10 }]);
      expect(await store.countByDay(T, AU)).toEqual([{ trading_day: '2026-01-06', rows: 40 }]);
    });

    it('deletes every day of a symbol when no days are named, and nothing of another symbol', async () => {
      // Prepare
      await store.createTable(TICKS);
      await store.writeDay(T, CU, '2026-01-05', makeDay(10));
      await store.writeDay(T, AU, '2026-01-05', makeDay(15, { priceOffset: 500 }));
      // Act
      const removed = await store.deleteRows(T, { symbol: CU });
      // Assess
      expect(removed).toBe(10);
      expect(await store.countByDay(T, CU)).toEqual([]);
      expect(await store.countByDay(T, AU)).toEqual([{ trading_day: '2026-01-05', rows: 15 }]);
    });

    it('refuses a delete scoped by an empty day list instead of guessing', async () => {
      // Prepare
      await store.createTable(TICKS);
      await store.writeDay(T, CU, '2026-01-05', makeDay(10));
      // Act
      const attempt = store.deleteRows(T, { symbol: CU, tradingDays: [] });
      // Assess
      await expect(attempt).rejects.toThrow(/tradingDays must be non-empty/);
      expect(await store.countByDay(T, CU)).toEqual([{ trading_day: '2026-01-05', rows: 10 }]);
    });

    it('fails fast naming the table, the missing columns and the migrate command', async () => {
      // Prepare
      const legacy: TableDef = {
        ...TICKS,
        columns: TICKS.columns.filter((c) => c.name !== 'segment_id' && c.name !== 'schedule_hash'),
      };
      await store.createTable(legacy);
      // Act
      const attempt = store.writeDay(T, CU, '2026-01-05', makeDay(5));
      // Assess
      await expect(attempt).rejects.toBeInstanceOf(SchemaContractError);
      await expect(attempt).rejects.toThrow(
        'schema contract violation: table ghtrader_ticks_main_l5_v2 missing required columns [segment_id, schedule_hash]; run: ghtrader data migrate --apply',
      );
      await expect(store.assertRequiredColumns(TICKS)).rejects.toThrow(/missing required columns/);
      expect(await store.countByDay(T, CU)).toEqual([]);
    });

    it('reports every column as missing when the table does not exist', async () => {
      // Act
      const attempt = store.assertRequiredColumns(TABLES.dailyAgg);
      // Assess
      await expect(attempt).rejects.toThrow(
        /table ghtrader_main_l5_daily_agg_v2 missing required columns \[symbol, trading_day, .*, ts\]/,
      );
    });

    it('accepts a table created from the declared schema', async () => {
      // Prepare
      await store.createTable(TICKS);
      // Act
      const columns = await store.describeColumns(T);
      // Assess
      await expect(store.assertRequiredColumns(TICKS)).resolves.toBeUndefined();
      expect(columns.map((c) => c.name)).toEqual(TICKS.columns.map((c) => c.name));
    });

    it('leaves nothing of a batch that fails before it commits', async () => {
      // Prepare
      await store.createTable(TICKS);
      await store.writeDay(T, CU, '2026-01-05', makeDay(100));
      ctx.failNextCommit();
      // Act
      const attempt = store.writeDay(T, CU, '2026-01-05', makeDay(5000));
      // Assess
      await expect(attempt).rejects.toThrow(/injected/);
      expect(await store.countByDay(T, CU)).toEqual([{ trading_day: '2026-01-05', rows: 100 }]);
    });

    it('leaves nothing of a first write to an empty day that fails before it commits', async () => {
      // Prepare
      await store.createTable(TICKS);
      ctx.failNextCommit();
      // Act
      const attempt = store.writeDay(T, CU, '2026-01-05', makeDay(5000));
      // Assess: nothing stored, and the same batch then writes normally
      await expect(attempt).rejects.toThrow(/injected/);
      expect(await store.countByDay(T, CU)).toEqual([]);
      const again = await store.writeDay(T, CU, '2026-01-05', makeDay(5000));
      expect(again).toMatchObject({ inserted: 5000, dayRows: 5000 });
    });

    it('refuses a batch whose columns disagree in length before writing anything', async () => {
      // Prepare
      await store.createTable(TICKS);
      const day = makeDay(10);
      const broken = { ...day, values: day.values.map((v, i) => (i === 26 ? v.subarray(0, 9) : v)) };
      // Act
      const attempt = store.writeDay(T, CU, '2026-01-05', broken);
      // Assess
      await expect(attempt).rejects.toThrow(/numeric column 26 has 9 values for 10 rows/);
      expect(await store.countByDay(T, CU)).toEqual([]);
    });

    it('answers per-day row-hash aggregates equal to those computed from the rows sent', async () => {
      // Prepare
      await store.createTable(TICKS);
      const day5 = makeDay(1000);
      const day6 = makeDay(700, { startNs: 1_767_661_200_000_000_000n });
      await store.writeDay(T, CU, '2026-01-05', day5);
      await store.writeDay(T, CU, '2026-01-06', day6);
      // Act
      const aggs = await store.rowHashAggregatesByDay(T, CU);
      const only6 = await store.rowHashAggregatesByDay(T, CU, ['2026-01-06']);
      // Assess
      expect(aggs).toEqual([
        { trading_day: '2026-01-05', ...rowHashAggregates(day5.rowHash) },
        { trading_day: '2026-01-06', ...rowHashAggregates(day6.rowHash) },
      ]);
      expect(only6).toEqual([{ trading_day: '2026-01-06', ...rowHashAggregates(day6.rowHash) }]);
    });

    it('wraps the absolute-value sum like an int64 for a hash of -2^63', async () => {
      // Prepare
      await store.createTable(TICKS);
      const day = makeDay(2);
      const rows = { ...day, rowHash: BigInt64Array.from([-(2n ** 63n), 5n]) };
      await store.writeDay(T, CU, '2026-01-05', rows);
      // Act
      const [agg] = await store.rowHashAggregatesByDay(T, CU);
      // Assess
      expect(agg).toEqual({ trading_day: '2026-01-05', ...rowHashAggregates(rows.rowHash) });
      expect(agg?.abs_sum).toBe(-(2n ** 63n) + 5n);
    });
    describe('DDL through the dialect', () => {
      it('creates tables idempotently and keeps their rows when the DDL runs again', async () => {
        // Prepare
        await store.executeDdl(store.dialect.createTable(SCHEDULE));
        await store.writeRows(S, [scheduleRow('cu', '2026-01-05', 'SHFE.cu2602')]);
        // Act
        await store.executeDdl(store.dialect.createTable(SCHEDULE));
        await store.createTable(SCHEDULE);
        // Assess
        await expect(store.assertRequiredColumns(SCHEDULE)).resolves.toBeUndefined();
        expect((await store.describeColumns(S)).map((c) => c.name)).toEqual(SCHEDULE.columns.map((c) => c.name));
        expect(await store.readRows(S, {})).toHaveLength(1);
      });

      it('renames a legacy column so the required-column check passes', async () => {
        // Prepare
        const agg = TABLES.dailyAgg;
        const legacy: TableDef = {
          ...agg,
          columns: agg.columns.map((c) => (c.name === 'ticks_kind' ? { ...c, name: 'ticks_lake' } : c)),
        };
        await store.executeDdl(store.dialect.createTable(legacy));
        await expect(store.assertRequiredColumns(agg)).rejects.toThrow(/missing required columns \[ticks_kind\]/);
        // Act
        await store.executeDdl([store.dialect.renameColumn(agg.name, 'ticks_lake', 'ticks_kind')]);
        // Assess
        await expect(store.assertRequiredColumns(agg)).resolves.toBeUndefined();
      });

      it('refuses DDL naming a table outside the identifier rule', () => {
        // Act
        const attempt = () => store.dialect.renameColumn('t; DROP TABLE x', 'a', 'b');
        // Assess
        expect(attempt).toThrow(TickStoreInputError);
      });
    });

    describe('small tables (writeRows / readRows)', () => {
      it('upserts by dedup key: a rewritten day replaces its row and leaves the others', async () => {
        // Prepare
        await store.createTable(SCHEDULE);
        const days = ['2026-01-05', '2026-01-06', '2026-01-07'];
        await store.writeRows(
          S,
          days.map((d) => scheduleRow('cu', d, 'SHFE.cu2602')),
        );
        // Act
        const sent = await store.writeRows(S, [scheduleRow('cu', '2026-01-06', 'SHFE.cu2603', { segmentId: 1n })]);
        const rows = await store.readRows(S, { exchange: 'SHFE', variety: 'cu' });
        // Assess
        expect(sent).toBe(1);
        expect(rows.map((r) => [r.trading_day, r.main_contract, r.segment_id])).toEqual([
          ['2026-01-05', 'SHFE.cu2602', 0n],
          ['2026-01-06', 'SHFE.cu2603', 1n],
          ['2026-01-07', 'SHFE.cu2602', 0n],
        ]);
      });

      it('keeps the last of two rows sharing a key inside one batch', async () => {
        // Prepare
        await store.createTable(SCHEDULE);
        const batch = [scheduleRow('cu', '2026-01-05', 'SHFE.cu2602'), scheduleRow('cu', '2026-01-05', 'SHFE.cu2603')];
        // Act
        const sent = await store.writeRows(S, batch);
        // Assess
        expect(sent).toBe(2);
        expect((await store.readRows(S, {})).map((r) => r.main_contract)).toEqual(['SHFE.cu2603']);
      });

      it('appends to a table without dedup keys, even an identical row', async () => {
        // Prepare
        await store.createTable(BUILDS);
        const first = mainL5BuildRow(CU, 'b1', TS_BUILD);
        await store.writeRows(B, [first]);
        // Act
        await store.writeRows(B, [first, mainL5BuildRow(CU, 'b2', TS_BUILD + 1_000_000n)]);
        // Assess
        const rows = await store.readRows(B, { symbol: CU });
        expect(rows.map((r) => r.build_id)).toEqual(['b1', 'b1', 'b2']);
        expect(rows[0]).toEqual(first);
      });

      it('reads back typed values equal to the rows written', async () => {
        // Prepare
        await store.createTable(SCHEDULE);
        const row = scheduleRow('cu', '2026-01-05', 'SHFE.cu2602', { segmentId: -7n });
        await store.writeRows(S, [row]);
        // Act
        const [back] = await store.readRows(S, { variety: 'cu' });
        // Assess
        expect(back).toEqual(row);
        expect(typeof back?.segment_id).toBe('bigint');
        expect(back?.updated_at).toBe(UPDATED_AT_US);
        expect(back?.ts).toBe(dayTsMicros('2026-01-05'));
      });

      it('filters by exchange+variety, day range, day list, symbol and build id', async () => {
        // Prepare
        await store.createTable(SCHEDULE);
        await store.createTable(BUILDS);
        const cuDays = ['2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08'];
        await store.writeRows(S, [
          ...cuDays.map((d) => scheduleRow('cu', d, 'SHFE.cu2602')),
          scheduleRow('au', '2026-01-05', 'SHFE.au2602'),
          scheduleRow('au', '2026-01-06', 'SHFE.au2602'),
        ]);
        await store.writeRows(B, [
          mainL5BuildRow(CU, 'b1', TS_BUILD),
          mainL5BuildRow(AU, 'b2', TS_BUILD + 1n),
          mainL5BuildRow(CU, 'b3', TS_BUILD + 2n),
        ]);
        const days = (rows: Row[]) => rows.map((r) => `${r.variety}:${r.trading_day}`);
        // Act
        const cu = await store.readRows(S, { exchange: 'SHFE', variety: 'cu' });
        const range = await store.readRows(S, {
          variety: 'cu',
          tradingDayFrom: '2026-01-06',
          tradingDayTo: '2026-01-07',
        });
        const listed = await store.readRows(S, { variety: 'au', tradingDays: ['2026-01-06', '2026-01-09'] });
        const limited = await store.readRows(S, { variety: 'cu' }, { limit: 2 });
        const other = await store.readRows(S, { exchange: 'DCE', variety: 'cu' });
        const cuBuilds = await store.readRows(B, { symbol: CU });
        const oneBuild = await store.readRows(B, { symbol: CU, buildId: 'b3' });
        // Assess
        expect(days(cu)).toEqual(cuDays.map((d) => `cu:${d}`));
        expect(days(range)).toEqual(['cu:2026-01-06', 'cu:2026-01-07']);
        expect(days(listed)).toEqual(['au:2026-01-06']);
        expect(days(limited)).toEqual(['cu:2026-01-05', 'cu:2026-01-06']);
        expect(other).toEqual([]);
        expect(cuBuilds.map((r) => r.build_id)).toEqual(['b1', 'b3']);
        expect(oneBuild.map((r) => [r.build_id, r.rows_total, r.ts])).toEqual([['b3', 1000n, TS_BUILD + 2n]]);
      });

      it('refuses a filter on a column the table does not have', async () => {
        // Prepare
        await store.createTable(SCHEDULE);
        // Act
        const attempt = store.readRows(S, { symbol: CU });
        // Assess
        await expect(attempt).rejects.toBeInstanceOf(TickStoreInputError);
        await expect(attempt).rejects.toThrow(/symbol/);
      });

      it('rejects a wrongly typed value before writing any row of the batch', async () => {
        // Prepare
        await store.createTable(SCHEDULE);
        const good = scheduleRow('cu', '2026-01-05', 'SHFE.cu2602');
        const numberForLong = { ...scheduleRow('cu', '2026-01-06', 'SHFE.cu2602'), segment_id: 3 };
        const stringForLong = { ...scheduleRow('cu', '2026-01-06', 'SHFE.cu2602'), segment_id: '3' };
        const stringForTimestamp = { ...good, updated_at: '2026-01-05T12:00:00Z' };
        // Act
        const attempts = [
          store.writeRows(S, [good, numberForLong]),
          store.writeRows(S, [good, stringForLong]),
          store.writeRows(S, [stringForTimestamp]),
        ];
        // Assess
        await expect(attempts[0]).rejects.toThrow(/segment_id/);
        await expect(attempts[1]).rejects.toThrow(/segment_id/);
        await expect(attempts[2]).rejects.toThrow(/updated_at/);
        for (const a of attempts) await expect(a).rejects.toBeInstanceOf(TickStoreInputError);
        expect(await store.readRows(S, {})).toEqual([]);
      });

      it('rejects a row missing a declared column, naming it', async () => {
        // Prepare
        await store.createTable(SCHEDULE);
        const { main_contract: _dropped, ...partial } = scheduleRow('cu', '2026-01-06', 'SHFE.cu2602');
        // Act
        const attempt = store.writeRows(S, [scheduleRow('cu', '2026-01-05', 'SHFE.cu2602'), partial]);
        // Assess
        await expect(attempt).rejects.toBeInstanceOf(TickStoreInputError);
        await expect(attempt).rejects.toThrow(/main_contract/);
        expect(await store.readRows(S, {})).toEqual([]);
      });

      it('rejects a column the table does not have', async () => {
        // Prepare
        await store.createTable(SCHEDULE);
        const row = { ...scheduleRow('cu', '2026-01-05', 'SHFE.cu2602'), roll_reason: 'volume' };
        // Act
        const attempt = store.writeRows(S, [row]);
        // Assess
        await expect(attempt).rejects.toThrow(/roll_reason/);
        expect(await store.readRows(S, {})).toEqual([]);
      });

      it('fails fast with SchemaContractError when the real table lacks a required column', async () => {
        // Prepare
        const short: TableDef = { ...SCHEDULE, columns: SCHEDULE.columns.filter((c) => c.name !== 'schedule_hash') };
        await store.executeDdl(store.dialect.createTable(short));
        // Act
        const attempt = store.writeRows(S, [scheduleRow('cu', '2026-01-05', 'SHFE.cu2602')]);
        // Assess
        await expect(attempt).rejects.toBeInstanceOf(SchemaContractError);
        await expect(attempt).rejects.toThrow(
          'schema contract violation: table ghtrader_main_schedule_v2 missing required columns [schedule_hash]; run: ghtrader data migrate --apply',
        );
      });

      it('writes and reads a dynamic column that a migration added to the table', async () => {
        // Prepare
        const F = TABLES.features;
        await store.createTable(F);
        await store.executeDdl([store.dialect.addColumn(F.name, { name: 'f_spread', type: 'DOUBLE' })]);
        const dt = DAY_START_NS;
        const row = rowOf(F, {
          symbol: CU,
          datetime_ns: dt,
          trading_day: '2026-01-05',
          row_hash: 42n,
          ticks_kind: 'main_l5',
          dataset_version: 'v2',
          build_id: 'fb1',
          build_ts: TS_BUILD,
          schedule_hash: 'fedcba9876543210',
          underlying_contract: 'SHFE.cu2602',
          segment_id: 0n,
          ts: dt / 1000n,
          f_spread: 20.5,
        });
        // Act
        await store.writeRows(F.name, [row]);
        const back = await store.readRows(F.name, { symbol: CU, buildId: 'fb1' });
        const unknown = store.writeRows(F.name, [{ ...row, f_unknown: 1 }]);
        // Assess
        expect(back).toEqual([row]);
        await expect(unknown).rejects.toThrow(/f_unknown/);
      });

      it('round-trips exact float64 through a DOUBLE column', async () => {
        // Prepare
        const V = TABLES.validateSummary;
        await store.createTable(V);
        const row = rowOf(V, {
          symbol: CU,
          trading_day: '2026-01-05',
          two_plus_ratio: 0.1 + 0.2,
          missing_seconds_ratio: 69990.00000000001,
          updated_at: UPDATED_AT_US,
          ts: dayTsMicros('2026-01-05'),
        });
        await store.writeRows(V.name, [row]);
        // Act
        const [back] = await store.readRows(V.name, { symbol: CU });
        // Assess
        expect(back?.two_plus_ratio).toBe(0.30000000000000004);
        expect(back?.missing_seconds_ratio).toBe(69990.00000000001);
        expect(back?.missing_seconds_ratio).not.toBe(69990);
        expect(back).toEqual(row);
      });

      it('deletes schedule rows scoped by exchange+variety and days only', async () => {
        // Prepare
        await store.createTable(SCHEDULE);
        await store.writeRows(S, [
          scheduleRow('cu', '2026-01-05', 'SHFE.cu2602'),
          scheduleRow('cu', '2026-01-06', 'SHFE.cu2602'),
          scheduleRow('cu', '2026-01-07', 'SHFE.cu2602'),
          scheduleRow('au', '2026-01-06', 'SHFE.au2602'),
          scheduleRow('cu', '2026-01-06', 'INE.cu2602', { exchange: 'INE' }),
        ]);
        // Act
        const days = await store.deleteRows(S, { exchange: 'SHFE', variety: 'cu', tradingDays: ['2026-01-06'] });
        const all = await store.deleteRows(S, { exchange: 'SHFE', variety: 'au' });
        // Assess
        expect([days, all]).toEqual([1, 1]);
        const left = await store.readRows(S, {});
        expect(left.map((r) => `${r.exchange}.${r.variety}:${r.trading_day}`).sort()).toEqual([
          'INE.cu:2026-01-06',
          'SHFE.cu:2026-01-05',
          'SHFE.cu:2026-01-07',
        ]);
      });
    });

    describe('tick reads (readTickDay / dayProvenance)', () => {
      it('reads a day ordered by (datetime_ns, row_hash), two ticks sharing an instant included', async () => {
        // Prepare
        await store.createTable(TICKS);
        const base = makeDay(6);
        base.datetimeNs[3] = base.datetimeNs[2] as bigint;
        (base.values[0] as Float64Array)[3] = 71_111;
        const day = withHashes(base);
        await store.writeDay(T, CU, '2026-01-05', pick(day, [5, 3, 1, 4, 2, 0]));
        await store.writeDay(T, AU, '2026-01-05', makeDay(4, { priceOffset: 500 }));
        const order = [0, 1, 2, 3, 4, 5].sort((a, b) => compareTick(day, a, b));
        // Act
        const got = await store.readTickDay(T, CU, '2026-01-05');
        // Assess
        const want = pick(day, order);
        expect(got.datetimeNs).toEqual(want.datetimeNs);
        expect(got.rowHash).toEqual(want.rowHash);
        expect(got.values).toEqual(want.values);
        expect(got.underlyingContract).toEqual(Array(6).fill('SHFE.cu2602'));
        expect(got.scheduleHash).toEqual(Array(6).fill('0123456789abcdef'));
        expect(got.segmentId).toEqual(new BigInt64Array(6).fill(3n));
        expect(got.datetimeNs[2]).toBe(got.datetimeNs[3]);
        const slim = await store.readTickValues(T, CU, '2026-01-05');
        expect(slim).toEqual({ datetimeNs: want.datetimeNs, rowHash: want.rowHash, values: want.values });
      });

      it('reads per-row provenance when a day holds rows of two schedules, and nothing for an absent day', async () => {
        // Prepare
        await store.createTable(TICKS);
        const day = makeDay(8);
        const early = {
          ...pick(day, [0, 1, 2, 3]),
          scheduleHash: 'aaaaaaaaaaaaaaaa',
          underlyingContract: 'SHFE.cu2602',
        };
        const late = {
          ...pick(day, [4, 5, 6, 7]),
          scheduleHash: 'bbbbbbbbbbbbbbbb',
          underlyingContract: 'SHFE.cu2603',
          segmentId: 4n,
        };
        await store.writeDay(T, CU, '2026-01-05', late);
        await store.writeDay(T, CU, '2026-01-05', early);
        // Act
        const got = await store.readTickDay(T, CU, '2026-01-05');
        const none = await store.readTickDay(T, CU, '2026-01-06');
        // Assess
        expect(got.scheduleHash).toEqual([...Array(4).fill('aaaaaaaaaaaaaaaa'), ...Array(4).fill('bbbbbbbbbbbbbbbb')]);
        expect(got.underlyingContract).toEqual([...Array(4).fill('SHFE.cu2602'), ...Array(4).fill('SHFE.cu2603')]);
        expect([...got.segmentId]).toEqual([3n, 3n, 3n, 3n, 4n, 4n, 4n, 4n]);
        expect(got.datetimeNs).toEqual(day.datetimeNs);
        expect(none.datetimeNs).toHaveLength(0);
        expect(none.values).toHaveLength(TICK_NUMERIC_COLUMNS.length);
      });

      it('reads a day larger than one result chunk exactly, provenance changing inside it', async () => {
        // Prepare
        await store.createTable(TICKS);
        const n = 5000;
        const cut = 2047;
        const day = makeDay(n);
        const idx = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
        await store.writeDay(T, CU, '2026-01-05', {
          ...pick(day, idx(cut, n)),
          scheduleHash: 'bbbbbbbbbbbbbbbb',
          underlyingContract: 'SHFE.cu2603',
          segmentId: 4n,
        });
        await store.writeDay(T, CU, '2026-01-05', { ...pick(day, idx(0, cut)), scheduleHash: 'aaaaaaaaaaaaaaaa' });
        // Act
        const got = await store.readTickDay(T, CU, '2026-01-05');
        // Assess
        expect(got.datetimeNs).toEqual(day.datetimeNs);
        expect(got.rowHash).toEqual(day.rowHash);
        expect(got.values).toEqual(day.values);
        expect(got.scheduleHash).toEqual(idx(0, n).map((i) => (i < cut ? 'aaaaaaaaaaaaaaaa' : 'bbbbbbbbbbbbbbbb')));
        expect(got.underlyingContract).toEqual(idx(0, n).map((i) => (i < cut ? 'SHFE.cu2602' : 'SHFE.cu2603')));
        expect([...got.segmentId]).toEqual(idx(0, n).map((i) => (i < cut ? 3n : 4n)));
        const slim = await store.readTickValues(T, CU, '2026-01-05');
        expect(slim.datetimeNs).toEqual(day.datetimeNs);
        expect(slim.values).toEqual(day.values);
        expect((await store.readTickValues(T, CU, '2026-01-06')).datetimeNs).toHaveLength(0);
      });

      it('reads a day larger than the first read buffers (70,000 rows, stored in two writes out of order)', async () => {
        // Prepare
        await store.createTable(TICKS);
        const n = 70_000;
        const day = makeDay(n);
        const idx = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
        await store.writeDay(T, CU, '2026-01-05', pick(day, idx(40_000, n)));
        await store.writeDay(T, CU, '2026-01-05', pick(day, idx(0, 40_000)));
        await store.writeDay(T, CU, '2026-01-06', makeDay(10, { priceOffset: 7 }));
        const buffers = new TickReadBuffers();
        // Act: the small day first, so the big one outgrows the reused buffers.
        const small = await store.readTickValues(T, CU, '2026-01-06', buffers);
        expect(small.datetimeNs).toHaveLength(10);
        const slim = await store.readTickValues(T, CU, '2026-01-05', buffers);
        // Assess (byte comparison: a deep equal of 2 M cells takes seconds)
        const bytes = (a: BigInt64Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
        expect(slim.datetimeNs).toHaveLength(n);
        expect(bytes(slim.datetimeNs).equals(bytes(day.datetimeNs))).toBe(true);
        expect(bytes(slim.rowHash).equals(bytes(day.rowHash))).toBe(true);
        slim.values.forEach((v, k) => {
          expect(bytes(v).equals(bytes(day.values[k] as Float64Array)), TICK_NUMERIC_COLUMNS[k]).toBe(true);
        });
      });

      it('round-trips exact float64 through writeDay and readTickDay', async () => {
        // Prepare
        await store.createTable(TICKS);
        const base = makeDay(3);
        (base.values[0] as Float64Array)[0] = 0.1 + 0.2;
        (base.values[0] as Float64Array)[1] = 69990.00000000001;
        (base.values[7] as Float64Array)[2] = -0;
        const day = withHashes(base);
        await store.writeDay(T, CU, '2026-01-05', day);
        // Act
        const got = await store.readTickDay(T, CU, '2026-01-05');
        // Assess
        expect(got.values[0]?.[0]).toBe(0.30000000000000004);
        expect(got.values[0]?.[1]).toBe(69990.00000000001);
        expect(got.values[7]?.[2]).toBe(-0);
        expect(got.values).toEqual(day.values);
        expect(got.rowHash).toEqual(day.rowHash);
      });

      it('summarises each day: rows, sorted distinct schedule hashes and time bounds', async () => {
        // Prepare
        await store.createTable(TICKS);
        const d5 = makeDay(10);
        const d6 = makeDay(7, { startNs: DAY_START_NS + DAY_NS });
        await store.writeDay(T, CU, '2026-01-05', {
          ...pick(d5, [0, 1, 2, 3, 4, 5]),
          scheduleHash: 'ffff000000000000',
        });
        await store.writeDay(T, CU, '2026-01-05', { ...pick(d5, [6, 7, 8, 9]), scheduleHash: '1111000000000000' });
        await store.writeDay(T, CU, '2026-01-06', d6);
        await store.writeDay(T, AU, '2026-01-05', makeDay(3, { priceOffset: 500 }));
        // Act
        const prov = await store.dayProvenance(T, CU);
        // Assess
        expect(prov).toEqual([
          {
            trading_day: '2026-01-05',
            rows: 10,
            schedule_hashes: ['1111000000000000', 'ffff000000000000'],
            rows_without_hash: 0,
            first_datetime_ns: d5.datetimeNs[0],
            last_datetime_ns: d5.datetimeNs[9],
          },
          {
            trading_day: '2026-01-06',
            rows: 7,
            schedule_hashes: ['0123456789abcdef'],
            rows_without_hash: 0,
            first_datetime_ns: d6.datetimeNs[0],
            last_datetime_ns: d6.datetimeNs[6],
          },
        ]);
        expect(await store.dayProvenance(T, 'KQ.m@SHFE.ag')).toEqual([]);
      });
    });

    describe('readOnlyQuery (SQL explorer guard, control-chain §8)', () => {
      it('answers a SELECT over the tick table with typed, JSON-safe columns and rows', async () => {
        // Prepare
        await store.createTable(TICKS);
        const day = makeDay(5);
        await store.writeDay(T, CU, '2026-01-05', day);
        // Act
        const res = await explore(
          store,
          `SELECT symbol, trading_day, datetime_ns, last_price, ts FROM ${T} ORDER BY datetime_ns`,
        );
        // Assess
        expect(res.columns.map((c) => c.name)).toEqual(['symbol', 'trading_day', 'datetime_ns', 'last_price', 'ts']);
        for (const c of res.columns) expect(c.type).toMatch(/\w/);
        expect(res).toMatchObject({ row_count: 5, truncated: false });
        expect(res.rows).toHaveLength(5);
        expect(res.rows[0]).toEqual([
          CU,
          '2026-01-05',
          String(day.datetimeNs[0]),
          day.values[0]?.[0],
          '2026-01-05T01:00:00.000000Z',
        ]);
        expect(JSON.parse(JSON.stringify(res.rows))).toEqual(res.rows);
        expect(res.elapsed_ms).toBeGreaterThanOrEqual(0);
      });

      it('refuses every statement that is not one SELECT over catalog tables, and nothing changes', async () => {
        // Prepare
        await store.createTable(TICKS);
        await store.writeDay(T, CU, '2026-01-05', makeDay(20));
        const copyTarget = path.join(tmpdir(), `ghtrader-explorer-copy-${process.pid}.csv`);
        const attachTarget = path.join(tmpdir(), `ghtrader-explorer-attach-${process.pid}.db`);
        const statements = [
          `DELETE FROM ${T}`,
          `COPY ${T} TO '${copyTarget}'`,
          `SELECT 1; DROP TABLE ${T}`,
          `SELECT count(*) FROM ${T}; DELETE FROM ${T}`,
          "SELECT * FROM read_csv('/etc/passwd')",
          "SELECT * FROM '/etc/passwd'",
          `ATTACH '${attachTarget}' AS other`,
          'PRAGMA version',
          'SET threads = 1',
          'CREATE TABLE explorer_made (a DOUBLE)',
          `DROP TABLE ${T}`,
          `INSERT INTO ${T} SELECT * FROM ${T}`,
          `UPDATE ${T} SET last_price = 0`,
          `SELECT * FROM ${T} WHERE symbol = 'x') UNION ALL (SELECT * FROM ${T}`,
          '   ',
        ];
        if (store.kind === 'duckdb') {
          statements.push(
            'SELECT * FROM range(3)',
            "SELECT * FROM glob('/etc/*')",
            "SELECT * FROM read_parquet('/tmp/x.parquet')",
            "SELECT * FROM query('SELECT 1')",
            'SELECT * FROM duckdb_settings()',
            `SELECT * FROM ${T} WHERE symbol IN (SELECT column0 FROM read_csv('/etc/hosts'))`,
            "WITH x AS (SELECT * FROM read_text('/etc/hosts')) SELECT * FROM x",
            // A CTE name is in scope only where DuckDB resolves it: outside, the same name would be a file scan.
            `SELECT * FROM (WITH "/etc/hosts" AS (SELECT 1 AS a) SELECT a FROM "/etc/hosts") s, "/etc/hosts"`,
            `SUMMARIZE ${T}`,
            `EXPLAIN SELECT * FROM ${T}`,
            'CALL pragma_version()',
            'INSTALL httpfs',
          );
        }
        // Act + Assess
        for (const sql of statements) await expectNotAllowed(() => explore(store, sql), sql);
        expect(await store.countByDay(T, CU)).toEqual([{ trading_day: '2026-01-05', rows: 20 }]);
        expect(await store.describeColumns('explorer_made')).toEqual([]);
        expect(existsSync(copyTarget)).toBe(false);
        expect(existsSync(attachTarget)).toBe(false);
      });

      it('cuts a large result at maxRows with truncated:true (fetching one row more, never the whole result)', async () => {
        // Prepare
        await store.createTable(TICKS);
        const day = makeDay(1200);
        await store.writeDay(T, CU, '2026-01-05', day);
        const sql = `SELECT datetime_ns FROM ${T} ORDER BY datetime_ns`;
        // Act
        const cut = await explore(store, sql, { timeoutMs: 10_000, maxRows: 500 });
        const one = await explore(store, sql, { timeoutMs: 10_000, maxRows: 1 });
        const all = await explore(store, sql, { timeoutMs: 10_000, maxRows: 1200 });
        // Assess
        expect(cut).toMatchObject({ row_count: 500, truncated: true });
        expect(cut.rows).toHaveLength(500);
        expect(cut.rows[499]).toEqual([String(day.datetimeNs[499])]);
        expect(one).toMatchObject({ row_count: 1, truncated: true, rows: [[String(day.datetimeNs[0])]] });
        expect(all).toMatchObject({ row_count: 1200, truncated: false });
      });

      it('cancels a statement still running at the timeout with QueryTimeoutError, and keeps serving', async () => {
        // Prepare: 2,000 ticks cross-joined three times is 8·10⁹ rows, far beyond the timeout.
        await store.createTable(TICKS);
        await store.writeDay(T, CU, '2026-01-05', makeDay(2000));
        const timeoutMs = 400;
        const slow = `SELECT sum(a.last_price * b.bid_price1 + c.ask_price1) FROM ${T} a CROSS JOIN ${T} b CROSS JOIN ${T} c`;
        // Act
        const started = performance.now();
        const err = await explore(store, slow, { timeoutMs, maxRows: 10 }).then(
          () => null,
          (e: unknown) => e,
        );
        const took = performance.now() - started;
        // Assess
        expect(err).toBeInstanceOf(QueryTimeoutError);
        expect((err as QueryTimeoutError).code).toBe('query_timeout');
        expect(took).toBeLessThan(timeoutMs + 1000);
        const after = await explore(store, `SELECT count(*) AS n FROM ${T}`);
        expect(after.rows).toEqual([['2000']]);
        const write = await store.writeDay(T, CU, '2026-01-06', makeDay(3, { startNs: DAY_START_NS + DAY_NS }));
        expect(write).toMatchObject({ inserted: 3 });
      });

      it('lists the catalog tables with their columns', async () => {
        // Prepare
        await store.createTable(TICKS);
        await store.createTable(SCHEDULE);
        if (store.catalog === undefined) throw new Error(`${store.kind} store has no catalog`);
        // Act
        const tables = await store.catalog();
        // Assess
        const ticks = tables.find((t) => t.name === T);
        expect(ticks?.columns.map((c) => c.name)).toEqual(expect.arrayContaining(['symbol', 'datetime_ns', 'ts']));
        expect(tables.some((t) => t.name === S)).toBe(true);
      });
    });
  });
}
