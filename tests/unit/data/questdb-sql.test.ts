import { describe, expect, it } from 'vitest';
import { rowHashAggregates } from '#shared/domain/data/row-hash.ts';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import { TickStoreInputError, TickStoreVerifyError } from '#shared/domain/data/tick-store.ts';
import {
  type Clock,
  combineRowHashAggregates,
  createTableSql,
  dayWriteOutcome,
  deleteScopeConditions,
  parsePartitionUnit,
  partitionOf,
  partitionRewriteSql,
  partitionsOf,
  pollUntil,
  QuestDbConfigError,
  questDbDialect,
  questDbSettingsFromEnv,
  type RawRowHashAggregates,
  retryBackoffS,
  rewriteLocksFor,
  rowFilterConditions,
  rowHashAggregatesSql,
  sqlDayList,
  sqlString,
  sqlTimestamp,
  walPollSleepS,
} from '#shared/infra/tickstore/questdb-sql.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TWO_32 = 2n ** 32n;

describe('QuestDB settings from the environment', () => {
  it('defaults to DAY partitions, a 30 s WAL wait and one transport retry', () => {
    // Act
    const settings = questDbSettingsFromEnv({});
    // Assess
    expect(settings).toEqual({ ticksPartitionBy: 'DAY', walWaitS: 30, ilpRetryMax: 1 });
  });

  it('reads the tick partition unit case-insensitively', () => {
    // Act
    const units = ['month', ' Year ', 'DAY'].map((v) => parsePartitionUnit(v));
    // Assess
    expect(units).toEqual(['MONTH', 'YEAR', 'DAY']);
  });

  it('refuses any other partition unit instead of falling back', () => {
    // Act
    const attempt = () => questDbSettingsFromEnv({ GHTRADER_QDB_TICKS_PARTITION_BY: 'week' });
    // Assess
    expect(attempt).toThrow(QuestDbConfigError);
    expect(attempt).toThrow(
      'invalid GHTRADER_QDB_TICKS_PARTITION_BY="week": expected one of DAY, MONTH, YEAR (case-insensitive)',
    );
  });

  it('refuses a WAL wait below one second or not a number', () => {
    // Act
    const tooShort = () => questDbSettingsFromEnv({ GHTRADER_HEALTH_WAL_WAIT_S: '0.5' });
    const notNumber = () => questDbSettingsFromEnv({ GHTRADER_HEALTH_WAL_WAIT_S: 'soon' });
    // Assess
    expect(tooShort).toThrow(/GHTRADER_HEALTH_WAL_WAIT_S="0.5": expected a number of seconds >= 1/);
    expect(notNumber).toThrow(QuestDbConfigError);
    expect(questDbSettingsFromEnv({ GHTRADER_HEALTH_WAL_WAIT_S: '1' }).walWaitS).toBe(1);
  });

  it('reads the ILP retry count as a small non-negative integer', () => {
    // Act
    const zero = questDbSettingsFromEnv({ GHTRADER_QDB_ILP_RETRY_MAX: '0' });
    const bad = () => questDbSettingsFromEnv({ GHTRADER_QDB_ILP_RETRY_MAX: '1.5' });
    // Assess
    expect(zero.ilpRetryMax).toBe(0);
    expect(bad).toThrow(/GHTRADER_QDB_ILP_RETRY_MAX/);
  });
});

describe('QuestDB DDL', () => {
  it('creates the tick table as a WAL table with its unit and the dedup keys', () => {
    // Act
    const sql = createTableSql(TABLES.ticksMainL5, 'MONTH');
    // Assess
    expect(sql).toMatch(
      /^CREATE TABLE IF NOT EXISTS ghtrader_ticks_main_l5_v2 \(symbol SYMBOL, datetime_ns LONG, trading_day SYMBOL, row_hash LONG, last_price DOUBLE, /,
    );
    expect(sql).toMatch(
      /segment_id LONG, schedule_hash SYMBOL, ts TIMESTAMP\) TIMESTAMP\(ts\) PARTITION BY MONTH WAL DEDUP UPSERT KEYS\(ts, symbol, ticks_kind, dataset_version, row_hash\)$/,
    );
  });

  it('creates append-only tables without DEDUP and STRING columns as STRING', () => {
    // Act
    const sql = createTableSql(TABLES.featureBuilds, 'DAY');
    // Assess
    expect(sql).toContain('factors STRING');
    expect(sql.endsWith('TIMESTAMP(ts) PARTITION BY DAY WAL')).toBe(true);
  });

  it('gives a legacy shape lacking a key column the keys it has', () => {
    // Prepare: daily agg before migration 0002 renamed ticks_lake to ticks_kind
    const agg = TABLES.dailyAgg;
    const legacy = {
      ...agg,
      columns: agg.columns.map((c) => (c.name === 'ticks_kind' ? { ...c, name: 'ticks_lake' } : c)),
    };
    // Act
    const sql = createTableSql(legacy, 'DAY');
    // Assess
    expect(sql).toContain('ticks_lake SYMBOL');
    expect(sql.endsWith('DEDUP UPSERT KEYS(ts, symbol, trading_day, dataset_version)')).toBe(true);
  });

  it('partitions only the tick table by GHTRADER_QDB_TICKS_PARTITION_BY', () => {
    // Prepare
    const dialect = questDbDialect('YEAR');
    // Act
    const [ticks] = dialect.createTable(TABLES.ticksMainL5);
    const [agg] = dialect.createTable(TABLES.dailyAgg);
    // Assess
    expect(ticks).toContain('PARTITION BY YEAR WAL');
    expect(agg).toContain(
      'PARTITION BY DAY WAL DEDUP UPSERT KEYS(ts, symbol, trading_day, ticks_kind, dataset_version)',
    );
  });

  it('adds and renames columns and refuses identifiers outside the allowed pattern', () => {
    // Prepare
    const dialect = questDbDialect('DAY');
    // Act
    const add = dialect.addColumn('ghtrader_ticks_main_l5_v2', { name: 'segment_id', type: 'LONG' });
    const rename = dialect.renameColumn('ghtrader_ticks_main_l5_v2', 'ticks_lake', 'ticks_kind');
    const bad = () => dialect.addColumn('t; DROP TABLE x', { name: 'c', type: 'LONG' });
    // Assess
    expect(add).toBe('ALTER TABLE ghtrader_ticks_main_l5_v2 ADD COLUMN segment_id LONG');
    expect(rename).toBe('ALTER TABLE ghtrader_ticks_main_l5_v2 RENAME COLUMN ticks_lake TO ticks_kind');
    expect(bad).toThrow(TickStoreInputError);
    expect(dialect.types.STRING).toBe('STRING');
  });
});

describe('SQL literals for /exec (no bind parameters)', () => {
  it('doubles single quotes so a value cannot end its literal', () => {
    // Act
    const sql = sqlString("KQ.m@SHFE.cu' OR '1'='1");
    // Assess
    expect(sql).toBe("'KQ.m@SHFE.cu'' OR ''1''=''1'");
  });

  it('refuses control characters and lone surrogates, accepts other Unicode', () => {
    // Act
    const newline = () => sqlString('a\nb');
    const nul = () => sqlString('a\u0000');
    const lone = () => sqlString('a\ud800b');
    // Assess
    expect(newline).toThrow(/control character/);
    expect(nul).toThrow(/control character/);
    expect(lone).toThrow(/lone surrogate/);
    expect(sqlString('沪铜 😀')).toBe("'沪铜 😀'");
  });

  it('accepts only ISO trading days in day lists and refuses an empty list', () => {
    // Act
    const list = sqlDayList(['2026-01-05', '2026-01-06', '2026-01-05']);
    const injected = () => sqlDayList(["2026-01-05' OR '1'='1"]);
    const empty = () => sqlDayList([]);
    // Assess
    expect(list).toBe("'2026-01-05', '2026-01-06'");
    expect(injected).toThrow(/is not YYYY-MM-DD/);
    expect(empty).toThrow(/tradingDays must be non-empty/);
  });

  it('renders epoch microseconds as a UTC timestamp literal with six fraction digits', () => {
    // Act
    const midnight = sqlTimestamp(1_767_571_200_000_000n);
    const fraction = sqlTimestamp(1_767_571_200_123_456n);
    // Assess
    expect(midnight).toBe("'2026-01-05T00:00:00.000000Z'");
    expect(fraction).toBe("'2026-01-05T00:00:00.123456Z'");
  });
});

describe('partitions for DROP PARTITION LIST', () => {
  const dec31 = BigInt(Date.UTC(2025, 11, 31, 13, 0)) * 1000n;

  it('names DAY, MONTH and YEAR partitions as QuestDB does and bounds them', () => {
    // Act
    const day = partitionOf(dec31, 'DAY');
    const month = partitionOf(dec31, 'MONTH');
    const year = partitionOf(dec31, 'YEAR');
    // Assess
    expect(day).toEqual({
      name: '2025-12-31',
      loUs: BigInt(Date.UTC(2025, 11, 31)) * 1000n,
      hiUs: BigInt(Date.UTC(2026, 0, 1)) * 1000n,
    });
    expect(month).toEqual({
      name: '2025-12',
      loUs: BigInt(Date.UTC(2025, 11, 1)) * 1000n,
      hiUs: BigInt(Date.UTC(2026, 0, 1)) * 1000n,
    });
    expect(year.name).toBe('2025');
    expect(year.hiUs).toBe(BigInt(Date.UTC(2026, 0, 1)) * 1000n);
  });

  it('collapses days into distinct partitions in ascending order', () => {
    // Prepare
    const jan5 = BigInt(Date.UTC(2026, 0, 5)) * 1000n;
    const jan6 = BigInt(Date.UTC(2026, 0, 6)) * 1000n;
    // Act
    const months = partitionsOf([jan6, dec31, jan5], 'MONTH');
    const days = partitionsOf([jan6, jan5, jan6], 'DAY');
    // Assess
    expect(months.map((p) => p.name)).toEqual(['2025-12', '2026-01']);
    expect(days.map((p) => p.name)).toEqual(['2026-01-05', '2026-01-06']);
  });

  it('plans a rewrite: copy survivors, drop the partition, re-insert, drop the staging table', () => {
    // Prepare
    const p = partitionOf(BigInt(Date.UTC(2026, 0, 6)) * 1000n, 'DAY');
    // Act
    const sql = partitionRewriteSql('t1', 't1__keep_J1', p, "symbol = 'A'", 'DAY');
    // Assess
    expect(sql.copy).toBe(
      "CREATE TABLE t1__keep_J1 AS (SELECT * FROM t1 WHERE ts >= '2026-01-06T00:00:00.000000Z' AND ts < '2026-01-07T00:00:00.000000Z' AND NOT (symbol = 'A')) TIMESTAMP(ts) PARTITION BY DAY BYPASS WAL",
    );
    expect(sql.drop).toBe("ALTER TABLE t1 DROP PARTITION LIST '2026-01-06'");
    expect(sql.reinsert).toBe('INSERT INTO t1 SELECT * FROM t1__keep_J1');
    expect(sql.dropStaging).toBe('DROP TABLE t1__keep_J1');
  });
});

/** What QuestDB computes for `rowHashAggregatesSql` (Java long `/` and `%` truncate like BigInt; -2^63 is null). */
function serverAggregates(hashes: readonly bigint[]): RawRowHashAggregates {
  const live = hashes.filter((h) => h !== INT64_MIN);
  const sum = (xs: bigint[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0n));
  const abs = live.map((h) => (h < 0n ? -h : h));
  const parts = {
    hi: sum(live.map((h) => h / TWO_32)),
    lo: sum(live.map((h) => h % TWO_32)),
    ahi: sum(abs.map((h) => h / TWO_32)),
    alo: sum(abs.map((h) => h % TWO_32)),
  };
  for (const v of Object.values(parts)) {
    if (v !== null && (v < INT64_MIN || v > INT64_MAX)) throw new Error(`partial sum ${v} overflows int64`);
  }
  return {
    n: BigInt(hashes.length),
    nn: BigInt(live.length),
    mn: live.length === 0 ? null : live.reduce((a, b) => (a < b ? a : b)),
    mx: live.length === 0 ? null : live.reduce((a, b) => (a > b ? a : b)),
    ...parts,
  };
}

describe('exact row-hash aggregates from 2^32-split partial sums', () => {
  it('asks QuestDB for counts, min/max and split sums per day', () => {
    // Act
    const sql = rowHashAggregatesSql('ghtrader_ticks_main_l5_v2', "symbol = 'A'");
    // Assess
    expect(sql).toBe(
      'SELECT trading_day, count() n, count(row_hash) nn, min(row_hash) mn, max(row_hash) mx, sum(row_hash / 4294967296) hi, sum(row_hash % 4294967296) lo, sum(abs(row_hash) / 4294967296) ahi, sum(abs(row_hash) % 4294967296) alo ' +
        "FROM ghtrader_ticks_main_l5_v2 WHERE symbol = 'A' GROUP BY trading_day ORDER BY trading_day",
    );
  });

  it('equals the wrap-around aggregates of §2.2 for random and extreme hashes', () => {
    // Prepare
    let x = 0x9e3779b97f4a7c15n;
    const next = () => {
      x = BigInt.asUintN(64, x * 6364136223846793005n + 1442695040888963407n);
      return BigInt.asIntN(64, x);
    };
    const days = [
      Array.from({ length: 1000 }, next),
      [INT64_MAX, INT64_MAX, INT64_MAX, -5n],
      [INT64_MIN, 5n],
      [INT64_MIN, INT64_MIN, INT64_MIN],
      [-(2n ** 62n), -(2n ** 62n), -(2n ** 62n), 7n],
    ];
    // Act
    const combined = days.map((d) => combineRowHashAggregates(serverAggregates(d)));
    // Assess
    expect(combined).toEqual(days.map((d) => rowHashAggregates(BigInt64Array.from(d))));
    expect(combined[2]?.abs_sum).toBe(INT64_MIN + 5n);
  });

  it('keeps every partial sum inside int64 for a full day of extreme hashes', () => {
    // Prepare
    const day = Array.from({ length: 66_600 }, (_, i) => (i % 2 === 0 ? INT64_MAX : INT64_MIN + 1n));
    // Act
    const raw = serverAggregates(day);
    // Assess
    expect(combineRowHashAggregates(raw)).toEqual(rowHashAggregates(BigInt64Array.from(day)));
  });
});

describe('WAL wait and retry schedules (§1.3)', () => {
  it('sleeps min(2, max(0.5, remaining/2)) seconds between read-backs', () => {
    // Act
    const sleeps = [30, 4, 3, 1.2, 0.4].map(walPollSleepS);
    // Assess
    expect(sleeps).toEqual([2, 2, 1.5, 0.6, 0.5]);
  });

  it('backs off min(2, 0.1·2^attempt) seconds before a retry', () => {
    // Act
    const waits = [0, 1, 4, 5, 9].map(retryBackoffS);
    // Assess
    expect(waits).toEqual([0.1, 0.2, 1.6, 2, 2]);
  });

  function fakeClock(): Clock & { sleeps: number[] } {
    let now = 0;
    const sleeps: number[] = [];
    return {
      sleeps,
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    };
  }

  it('polls until the deadline with the schedule and probes once more after the last sleep', async () => {
    // Prepare
    const clock = fakeClock();
    let probes = 0;
    // Act
    const out = await pollUntil(
      async () => {
        probes++;
        return undefined;
      },
      5,
      clock,
    );
    // Assess
    expect(out).toBeUndefined();
    expect(clock.sleeps).toEqual([2000, 1500, 750, 500, 500]);
    expect(probes).toBe(6);
  });

  it('returns the first value a probe yields', async () => {
    // Prepare
    const clock = fakeClock();
    let probes = 0;
    // Act
    const out = await pollUntil(async () => (++probes === 3 ? 'applied' : undefined), 30, clock);
    // Assess
    expect(out).toBe('applied');
    expect(clock.sleeps).toEqual([2000, 2000]);
  });
});

describe('scopes and filters', () => {
  it('scopes deletes like the DuckDB adapter and refuses what it cannot scope', () => {
    // Act
    const ticks = deleteScopeConditions(TABLES.ticksMainL5, { symbol: 'A', tradingDays: ['2026-01-06'] });
    const schedule = deleteScopeConditions(TABLES.mainSchedule, { exchange: 'SHFE', variety: 'cu' });
    const build = deleteScopeConditions(TABLES.features, { symbol: 'A', buildId: 'b1' });
    // Assess
    expect(ticks).toEqual(["symbol = 'A'", "trading_day IN ('2026-01-06')"]);
    expect(schedule).toEqual(["exchange = 'SHFE'", "variety = 'cu'"]);
    expect(build).toEqual(["symbol = 'A'", "build_id = 'b1'"]);
    expect(() => deleteScopeConditions(TABLES.ticksMainL5, { symbol: 'A', tradingDays: [] })).toThrow(
      /tradingDays must be non-empty/,
    );
    expect(() => deleteScopeConditions(TABLES.ticksMainL5, { symbol: 'A', buildId: 'b' })).toThrow(/has no build_id/);
    expect(() => deleteScopeConditions(TABLES.mainSchedule, { symbol: 'A' })).toThrow(/cannot scope/);
  });

  it('filters reads, compares day bounds as strings and hides superseded gap rows', () => {
    // Act
    const gaps = rowFilterConditions(TABLES.validateGaps, {
      symbol: 'A',
      tradingDayFrom: '2026-01-05',
      tradingDayTo: '2026-01-09',
    });
    const none = rowFilterConditions(TABLES.dailyAgg, { symbol: 'A', tradingDays: [] });
    // Assess
    expect(gaps).toEqual([
      "(tqsdk_status IS NULL OR tqsdk_status != 'superseded')",
      "symbol = 'A'",
      "cast(trading_day AS STRING) >= '2026-01-05'",
      "cast(trading_day AS STRING) <= '2026-01-09'",
    ]);
    expect(none).toBeNull();
    expect(() => rowFilterConditions(TABLES.dailyAgg, { buildId: 'x' })).toThrow(/has no build_id/);
  });

  it('names the writer locks a partition rewrite needs per table (§10.3)', () => {
    // Act
    const locks = [TABLES.ticksMainL5, TABLES.mainSchedule, TABLES.features].map((t) => rewriteLocksFor(t.name));
    // Assess
    expect(locks).toEqual([
      'every main_l5:symbol=<alias> lock',
      'every main_schedule:var=<v> lock',
      'every build:symbol=<alias>,ticks_kind=main_l5 lock',
    ]);
  });
});

describe('day write verdict', () => {
  it('counts inserted rows as the growth of the day', () => {
    // Act
    const fresh = dayWriteOutcome(0, 500, 500);
    const more = dayWriteOutcome(200, 300, 300);
    const same = dayWriteOutcome(300, 300, 200);
    // Assess
    expect([fresh, more, same]).toEqual([500, 100, 0]);
  });

  it('fails when rows are missing or more rows arrived than distinct keys were sent', () => {
    // Act
    const missing = () => dayWriteOutcome(0, 499, 500, { table: 't', symbol: 'A', trading_day: '2026-01-05' });
    const duplicated = () => dayWriteOutcome(100, 700, 500);
    // Assess
    expect(missing).toThrow(TickStoreVerifyError);
    expect(missing).toThrow('day holds 499 rows after the write, 0 before, 500 distinct keys sent (t A 2026-01-05)');
    expect(duplicated).toThrow(/700 rows after the write, 100 before/);
  });
});
