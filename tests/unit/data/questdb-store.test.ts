/**
 * What the QuestDB store decides before it talks to the server: configuration errors at construction, its identity
 * and dialect, and the refusals that must happen with no request sent. Behaviour against a real server is the
 * contract suite in tests/integration/tickstore/questdb.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import { DataChainError } from '#shared/errors/data.ts';
import { lastPerKey, openQuestDbTickStore, type QuestDbTickStoreOptions } from '#shared/infra/tickstore/questdb.ts';
import { QuestDbConfigError } from '#shared/infra/tickstore/questdb-sql.ts';
import { mainL5BuildRow, makeDay, scheduleRow } from '#tests/integration/tickstore/fixtures.ts';

const T = TABLES.ticksMainL5.name;

/** A fetch that records every call and never answers: these tests must not reach the network. */
function noNetwork(): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  const fake = (async (input: string | URL | Request) => {
    calls.push(String(input));
    throw new Error('no request expected');
  }) as typeof fetch;
  return { fetch: fake, calls };
}

function open(extra: Partial<QuestDbTickStoreOptions> = {}) {
  const net = noNetwork();
  return {
    net,
    store: openQuestDbTickStore({ httpUrl: 'http://127.0.0.1:9000', env: {}, fetch: net.fetch, ...extra }),
  };
}

describe('QuestDB tick store set-up', () => {
  it('fails at start-up on an unknown tick partition unit', async () => {
    // Act
    const attempt = openQuestDbTickStore({
      httpUrl: 'http://127.0.0.1:9000',
      env: { GHTRADER_QDB_TICKS_PARTITION_BY: 'Hour' },
    });
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(QuestDbConfigError);
    await expect(attempt).rejects.toThrow(/GHTRADER_QDB_TICKS_PARTITION_BY="Hour"/);
  });

  it('refuses a WAL wait below one second from the option or the environment', async () => {
    // Act
    const option = open({ walWaitS: 0.2 }).store;
    const env = open({ env: { GHTRADER_HEALTH_WAL_WAIT_S: '0' } }).store;
    // Assess
    await expect(option).rejects.toThrow(/walWaitS must be a number of seconds >= 1/);
    await expect(env).rejects.toThrow(/GHTRADER_HEALTH_WAL_WAIT_S/);
  });

  it('identifies itself as questdb:<host:port> and uses the configured tick partition unit', async () => {
    // Prepare
    const store = await open({ env: { GHTRADER_QDB_TICKS_PARTITION_BY: 'month' }, walWaitS: 5 }).store;
    const noPort = await openQuestDbTickStore({ httpUrl: 'http://qdb.internal', env: {} });
    // Act
    const [ddl] = store.dialect.createTable(TABLES.ticksMainL5);
    // Assess
    expect(store.kind).toBe('questdb');
    expect(store.storeId).toBe('questdb:127.0.0.1:9000');
    expect(noPort.storeId).toBe('questdb:qdb.internal:80');
    expect(ddl).toContain(
      'PARTITION BY MONTH WAL DEDUP UPSERT KEYS(ts, symbol, ticks_kind, dataset_version, row_hash)',
    );
    expect(store.settings).toEqual({ ticksPartitionBy: 'MONTH', walWaitS: 5, ilpRetryMax: 1 });
  });
});

describe('QuestDB tick store refusals before any request', () => {
  it('refuses a partition rewrite without proof of the writer locks, naming the locks', async () => {
    // Prepare
    const { store, net } = open();
    // Act
    const attempt = (await store).deleteRows(T, { symbol: 'KQ.m@SHFE.cu', tradingDays: ['2026-01-06'] });
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(DataChainError);
    await expect(attempt).rejects.toMatchObject({ code: 'questdb_rewrite_refused' });
    await expect(attempt).rejects.toThrow(/must hold every main_l5:symbol=<alias> lock/);
    expect(net.calls).toEqual([]);
  });

  it('refuses when the rewrite guard rejects, with the guard reason', async () => {
    // Prepare
    const seen: string[] = [];
    const { store, net } = open({
      rewriteGuard: async (table) => {
        seen.push(table);
        throw new Error('lock main_schedule:var=cu is held by job J9');
      },
    });
    // Act
    const attempt = (await store).deleteRows(TABLES.mainSchedule.name, { exchange: 'SHFE', variety: 'cu' });
    // Assess
    await expect(attempt).rejects.toThrow('lock main_schedule:var=cu is held by job J9');
    expect(seen).toEqual([TABLES.mainSchedule.name]);
    expect(net.calls).toEqual([]);
  });

  it('gives back what the guard took when the rewrite ends, also when it fails', async () => {
    // Prepare: the guard passes; the rewrite's first request fails (no network here)
    const events: string[] = [];
    const { store, net } = open({
      rewriteGuard: async (table, scope) => {
        events.push(`guard ${table} ${JSON.stringify(scope)}`);
        return async () => {
          events.push('release');
        };
      },
    });
    // Act
    const attempt = (await store).deleteRows(T, { symbol: 'KQ.m@SHFE.cu' });
    // Assess
    await expect(attempt).rejects.toThrow(/no request expected/);
    expect(events).toEqual([`guard ${T} {"symbol":"KQ.m@SHFE.cu"}`, 'release']);
    expect(net.calls.length).toBeGreaterThan(0);
  });

  it('refuses an unscoped or empty-day delete before consulting the guard', async () => {
    // Prepare
    let guarded = 0;
    const { store, net } = open({
      rewriteGuard: async () => {
        guarded++;
        return async () => undefined;
      },
    });
    const s = await store;
    // Act
    const emptyDays = s.deleteRows(T, { symbol: 'KQ.m@SHFE.cu', tradingDays: [] });
    const noBuild = s.deleteRows(T, { symbol: 'KQ.m@SHFE.cu', buildId: 'b1' });
    const gaps = s.supersedeGapRows('KQ.m@SHFE.cu', []);
    // Assess
    await expect(emptyDays).rejects.toThrow(/tradingDays must be non-empty/);
    await expect(noBuild).rejects.toThrow(/has no build_id/);
    await expect(gaps).rejects.toThrow(/tradingDays must be non-empty/);
    expect(guarded).toBe(0);
    expect(net.calls).toEqual([]);
  });

  it('refuses a malformed day batch or a non-tick table before writing', async () => {
    // Prepare
    const { store, net } = open();
    const s = await store;
    const day = makeDay(4);
    const broken = { ...day, rowHash: day.rowHash.subarray(0, 3) };
    // Act
    const shape = s.writeDay(T, 'KQ.m@SHFE.cu', '2026-01-05', broken);
    const badDay = s.writeDay(T, 'KQ.m@SHFE.cu', '2026-1-5', day);
    const notTicks = s.writeDay(TABLES.dailyAgg.name, 'KQ.m@SHFE.cu', '2026-01-05', day);
    // Assess
    await expect(shape).rejects.toThrow('tick store: row_hash has 3 values for 4 rows');
    await expect(badDay).rejects.toThrow(/is not YYYY-MM-DD/);
    await expect(notTicks).rejects.toThrow(/writeDay supports the tick table only/);
    expect(net.calls).toEqual([]);
  });

  it('answers empty day lists without a query and refuses work once closed', async () => {
    // Prepare
    const { store, net } = open();
    const s = await store;
    // Act
    const counts = await s.countByDay(T, 'KQ.m@SHFE.cu', []);
    const aggs = await s.rowHashAggregatesByDay(T, 'KQ.m@SHFE.cu', []);
    const rows = await s.readRows(TABLES.dailyAgg.name, { symbol: 'KQ.m@SHFE.cu', tradingDays: [] });
    await s.close();
    const afterClose = s.countByDay(T, 'KQ.m@SHFE.cu');
    // Assess
    expect([counts, aggs, rows]).toEqual([[], [], []]);
    await expect(afterClose).rejects.toThrow(/store is closed/);
    expect(net.calls).toEqual([]);
  });
});

describe('rows sharing a dedup key inside one writeRows batch', () => {
  it('keep only the last one per key, in batch order, for tables with keys', () => {
    // Prepare
    const a5 = scheduleRow('cu', '2026-01-05', 'SHFE.cu2602');
    const a6 = scheduleRow('cu', '2026-01-06', 'SHFE.cu2602');
    const b5 = scheduleRow('cu', '2026-01-05', 'SHFE.cu2603');
    const au5 = scheduleRow('au', '2026-01-05', 'SHFE.au2602');
    // Act
    const kept = lastPerKey(TABLES.mainSchedule, [a5, a6, au5, b5]);
    // Assess
    expect(kept).toEqual([a6, au5, b5]);
  });

  it('keep every row of an append-only table, identical ones included', () => {
    // Prepare
    const row = mainL5BuildRow('KQ.m@SHFE.cu', 'b1', 1n);
    // Act
    const kept = lastPerKey(TABLES.mainL5Builds, [row, row]);
    // Assess
    expect(kept).toEqual([row, row]);
  });
});
