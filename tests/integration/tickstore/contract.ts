/**
 * Adapter contract for every `TickStore` (data-chain §1.3–§1.5). DuckDB runs it in `duckdb.test.ts`; QuestDB will run
 * the same function when `GHTRADER_QUESTDB_HTTP` is set. Each test gets a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rowHashAggregates } from '#shared/domain/data/row-hash.ts';
import { TABLES, type TableDef } from '#shared/domain/data/tick-columns.ts';
import { SchemaContractError, type TickStore } from '#shared/domain/data/tick-store.ts';
import { makeDay, pick, withHashes } from './fixtures.ts';

export interface ContractStore {
  store: TickStore;
  /** Makes the next write fail after its rows reached the store, before it commits (QuestDB: fail the ILP request). */
  failNextCommit: () => void;
  cleanup: () => Promise<void>;
}

const TICKS = TABLES.ticksMainL5;
const T = TICKS.name;
const CU = 'KQ.m@SHFE.cu';
const AU = 'KQ.m@SHFE.au';

export function tickStoreContract(name: string, makeStore: () => Promise<ContractStore>): void {
  describe(`TickStore contract: ${name}`, () => {
    let ctx: ContractStore;
    let store: TickStore;

    beforeEach(async () => {
      ctx = await makeStore();
      store = ctx.store;
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
  });
}
