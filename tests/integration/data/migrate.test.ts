import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateCommand } from '#colo/commands/data-migrate.ts';
import type { MigrationLedger } from '#shared/domain/data/migration-ledger.ts';
import { MigrationNotReadyError } from '#shared/domain/data/migrations.ts';
import { TABLES, type TableDef, TICK_NUMERIC_COLUMN_COUNT } from '#shared/domain/data/tick-columns.ts';
import { DUCKDB_TYPES, SchemaContractError, type TickStore } from '#shared/domain/data/tick-store.ts';
import { DynamoMigrationLedger } from '#shared/infra/aws/migration-ledger.ts';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import {
  applyMigrations,
  assertTickStoreReady,
  type MigrateReport,
  planMigrations,
} from '#shared/services/data/migrate.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';

const TICKS = TABLES.ticksMainL5.name;
/** 14 tables created by 0001, 10 renames checked by 0002, one each of 0003, 0004, 0005. */
const LEDGER_ITEMS = 14 + 10 + 1 + 1 + 1;

interface Instrumented {
  store: TickStore;
  /** Every statement that reached `executeDdl` / `createTable`, in order. */
  ddl: string[];
  failDdl?: (sql: string) => boolean;
}

/**
 * An in-memory DuckDB store with its own ledger identity (all in-memory stores share `duckdb::memory:`) whose DDL
 * entry points are recorded, and can be made to fail.
 */
async function openStore(): Promise<Instrumented> {
  const inner = await openDuckDbTickStore({ path: ':memory:' });
  const storeId = `duckdb:test-${randomBytes(4).toString('hex')}.duckdb`;
  const out: Instrumented = { store: inner, ddl: [] };
  out.store = new Proxy(inner as TickStore, {
    get(target, prop) {
      if (prop === 'storeId') return storeId;
      if (prop === 'executeDdl') {
        return async (statements: readonly string[]) => {
          out.ddl.push(...statements);
          const bad = statements.find((s) => out.failDdl?.(s));
          if (bad !== undefined) throw new Error(`injected failure on ${bad}`);
          return target.executeDdl(statements);
        };
      }
      if (prop === 'createTable') {
        return async (def: TableDef) => {
          out.ddl.push(`createTable ${def.name}`);
          return target.createTable(def);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return out;
}

/** A hand-written CREATE TABLE: the declaration minus `drop`, with columns renamed by `rename` and extra `add`. */
function createSql(def: TableDef, opts: { drop?: string[]; rename?: Record<string, string>; add?: string[] } = {}) {
  const cols = def.columns
    .filter((c) => !opts.drop?.includes(c.name))
    .map((c) => `${opts.rename?.[c.name] ?? c.name} ${DUCKDB_TYPES[c.type]}`);
  return `CREATE TABLE ${def.name} (${[...cols, ...(opts.add ?? [])].join(', ')})`;
}

const statuses = (r: MigrateReport, table: string) =>
  Object.fromEntries(r.migrations.filter((m) => m.table === table).map((m) => [m.id, m.status]));

describe('tick-store migrations on DuckDB and the DynamoDB ledger', () => {
  let stack: TestStack;
  let ledger: MigrationLedger;
  const opened: TickStore[] = [];
  const open = async () => {
    const s = await openStore();
    opened.push(s.store);
    return s;
  };
  beforeAll(async () => {
    stack = await createTestStack();
    ledger = new DynamoMigrationLedger(stack.rt.clients.doc, stack.config.tables.migrationLedger);
  });
  afterAll(async () => {
    for (const s of opened) await s.close();
    await stack?.close();
  });

  it('§11.18: a tick table without segment_id fails readiness with the §1.5 message and no DDL; apply fixes it', async () => {
    // Prepare
    const { store, ddl } = await open();
    await store.executeDdl([createSql(TABLES.ticksMainL5, { drop: ['segment_id', 'schedule_hash'] })]);
    ddl.length = 0;
    const columnsBefore = await store.describeColumns(TICKS);

    // Act
    const refused = await assertTickStoreReady(store, ledger).then(
      () => null,
      (err: unknown) => err,
    );
    const refusedTickOnly = await assertTickStoreReady(store, ledger, [TABLES.ticksMainL5]).catch((e: unknown) => e);
    const write = await store
      .writeDay(TICKS, 'KQ.m@SHFE.cu', '2025-01-02', {
        ticksKind: 'main_l5',
        datasetVersion: 'v2',
        underlyingContract: 'SHFE.cu2502',
        segmentId: 0n,
        scheduleHash: 'f25225a1507bb808',
        datetimeNs: BigInt64Array.of(1_735_779_600_000_000_000n),
        rowHash: BigInt64Array.of(1n),
        values: Array.from({ length: TICK_NUMERIC_COLUMN_COUNT }, () => Float64Array.of(1)),
      })
      .catch((e: unknown) => e);
    const dryRun = await planMigrations(store, ledger);
    const ddlDuringChecks = [...ddl];
    const columnsAfterChecks = await store.describeColumns(TICKS);
    const ledgerAfterChecks = await ledger.list(store.storeId, TICKS);
    const applied = await applyMigrations(store, ledger, { appliedBy: 'job-118' });

    // Assess
    const message =
      'schema contract violation: table ghtrader_ticks_main_l5_v2 missing required columns [segment_id, schedule_hash]; ' +
      'run: ghtrader data migrate --apply';
    expect(refused).toBeInstanceOf(SchemaContractError);
    expect((refused as Error).message).toBe(message);
    expect(refusedTickOnly).toBeInstanceOf(SchemaContractError);
    expect((refusedTickOnly as Error).message).toBe(message);
    expect(write).toBeInstanceOf(SchemaContractError);
    expect((write as Error).message).toBe(message);
    expect(ddlDuringChecks).toEqual([]);
    expect(columnsAfterChecks).toEqual(columnsBefore);
    expect(ledgerAfterChecks).toEqual([]);
    expect(dryRun.migrations.find((m) => m.table === TICKS && m.id === '0003_tick_provenance_columns')).toEqual({
      id: '0003_tick_provenance_columns',
      table: TICKS,
      status: 'pending',
      sql: [
        'ALTER TABLE "ghtrader_ticks_main_l5_v2" ADD COLUMN IF NOT EXISTS segment_id BIGINT',
        'ALTER TABLE "ghtrader_ticks_main_l5_v2" ADD COLUMN IF NOT EXISTS schedule_hash VARCHAR',
      ],
      detail: 'add columns [segment_id, schedule_hash]',
    });
    expect(applied.ok).toBe(true);
    expect(statuses(applied, TICKS)).toEqual({
      '0001_create_v2_tables': 'not_needed',
      '0002_rename_legacy_columns': 'not_needed',
      '0003_tick_provenance_columns': 'applied',
    });
    expect(ddl).toContain('ALTER TABLE "ghtrader_ticks_main_l5_v2" ADD COLUMN IF NOT EXISTS segment_id BIGINT');
    expect(ddl.filter((s) => s.includes(TICKS))).toHaveLength(2);
    await expect(assertTickStoreReady(store, ledger)).resolves.toBeUndefined();
    const records = await ledger.list(store.storeId, TICKS);
    expect(records.map((r) => [r.migration_id, r.status, r.action, r.applied_by])).toEqual([
      ['0001_create_v2_tables', 'applied', 'not_needed', 'job-118'],
      ['0002_rename_legacy_columns', 'applied', 'not_needed', 'job-118'],
      ['0003_tick_provenance_columns', 'applied', 'add_columns', 'job-118'],
    ]);
  });

  it('dry-runs a fresh store with the exact SQL, writing neither the store nor the ledger', async () => {
    // Prepare
    const { store, ddl } = await open();

    // Act
    const report = await migrateCommand({ store, ledger }, { apply: false, appliedBy: 'job-dry' });

    // Assess
    expect(report).toMatchObject({ ok: true, mode: 'dry_run', store_id: store.storeId });
    expect(report.migrations).toHaveLength(LEDGER_ITEMS);
    const creates = report.migrations.filter((m) => m.status === 'pending');
    expect(creates.map((m) => m.id).sort()).toEqual([
      ...Array.from({ length: 14 }, () => '0001_create_v2_tables'),
      '0005_create_main_l5_builds',
    ]);
    expect(creates.find((m) => m.table === TICKS)?.sql).toEqual([
      `CREATE TABLE IF NOT EXISTS "${TICKS}" (${TABLES.ticksMainL5.columns.map((c) => `${c.name} ${DUCKDB_TYPES[c.type]}`).join(', ')})`,
    ]);
    expect(report.migrations.filter((m) => m.status === 'not_needed')).toHaveLength(LEDGER_ITEMS - 15);
    expect(ddl).toEqual([]);
    expect(await store.describeColumns(TICKS)).toEqual([]);
    expect(await ledger.list(store.storeId, TICKS)).toEqual([]);
  });

  it('two concurrent applies: each migration is applied exactly once, the other run reports already_applied', async () => {
    // Prepare: one store object shared by both runs (one DuckDB writer per file).
    const { store, ddl } = await open();

    // Act
    const [a, b] = await Promise.all([
      applyMigrations(store, ledger, { appliedBy: 'job-a', pollMs: 20 }),
      applyMigrations(store, ledger, { appliedBy: 'job-b', pollMs: 20 }),
    ]);
    const ddlAfterRace = ddl.length;
    const again = await migrateCommand({ store, ledger }, { apply: true, appliedBy: 'job-c' });

    // Assess
    expect(a.ok && b.ok).toBe(true);
    expect(a.migrations).toHaveLength(LEDGER_ITEMS);
    expect(b.migrations).toHaveLength(LEDGER_ITEMS);
    const runs = new Map<string, string[]>();
    for (const m of [...a.migrations, ...b.migrations]) {
      const key = `${m.table}/${m.id}`;
      runs.set(key, [...(runs.get(key) ?? []), m.status].sort());
    }
    expect(runs.size).toBe(LEDGER_ITEMS);
    for (const [key, s] of runs) {
      expect([key, s.length, s.filter((x) => x === 'already_applied').length]).toEqual([key, 2, 1]);
    }
    expect(ddlAfterRace).toBe(15);
    expect(again.migrations.every((m) => m.status === 'already_applied')).toBe(true);
    expect(ddl).toHaveLength(ddlAfterRace);
    for (const def of Object.values(TABLES)) {
      const records = await ledger.list(store.storeId, def.name);
      expect(
        records.every((r) => r.status === 'applied' && (r.applied_by === 'job-a' || r.applied_by === 'job-b')),
      ).toBe(true);
    }
    await expect(assertTickStoreReady(store, ledger)).resolves.toBeUndefined();
  });

  it('renames legacy columns, keeping the data', async () => {
    // Prepare
    const { store } = await open();
    const legacy = { ticks_kind: 'ticks_lake', dataset_version: 'lake_version' };
    await store.executeDdl([
      createSql(TABLES.dailyAgg, { rename: legacy }),
      `INSERT INTO ${TABLES.dailyAgg.name} (symbol, trading_day, ticks_lake, lake_version, rows_total)
       VALUES ('KQ.m@SHFE.cu', '2025-01-02', 'main_l5', 'v2', 7)`,
    ]);

    // Act
    const report = await applyMigrations(store, ledger, { table: TABLES.dailyAgg.name, appliedBy: 'job-rename' });
    const rows = await store.readRows(TABLES.dailyAgg.name, { symbol: 'KQ.m@SHFE.cu' });

    // Assess
    expect(report.migrations).toEqual([
      expect.objectContaining({ id: '0001_create_v2_tables', status: 'not_needed' }),
      {
        id: '0002_rename_legacy_columns',
        table: TABLES.dailyAgg.name,
        status: 'applied',
        sql: [
          `ALTER TABLE "${TABLES.dailyAgg.name}" RENAME COLUMN ticks_lake TO ticks_kind`,
          `ALTER TABLE "${TABLES.dailyAgg.name}" RENAME COLUMN lake_version TO dataset_version`,
        ],
        detail: 'rename ticks_lake → ticks_kind, lake_version → dataset_version',
      },
    ]);
    expect(rows).toEqual([expect.objectContaining({ ticks_kind: 'main_l5', dataset_version: 'v2', rows_total: 7n })]);
    await expect(assertTickStoreReady(store, ledger, [TABLES.dailyAgg])).resolves.toBeUndefined();
  });

  it('reports old+new columns as a conflict, records it failed, and retries only with retryFailed', async () => {
    // Prepare
    const { store, ddl } = await open();
    await store.executeDdl([createSql(TABLES.ticksMainL5, { drop: ['segment_id'], add: ['ticks_lake VARCHAR'] })]);
    ddl.length = 0;
    const only = { table: TICKS };

    // Act
    const dry = await planMigrations(store, ledger, only);
    const first = await applyMigrations(store, ledger, { ...only, appliedBy: 'job-1' });
    const notReady = await assertTickStoreReady(store, ledger, [TABLES.ticksMainL5]).catch((e: unknown) => e);
    const plain = await applyMigrations(store, ledger, { ...only, appliedBy: 'job-2' });
    await store.executeDdl([`ALTER TABLE ${TICKS} DROP COLUMN ticks_lake`]);
    const retried = await applyMigrations(store, ledger, { ...only, appliedBy: 'job-3', retryFailed: true });

    // Assess
    expect(dry.ok).toBe(false);
    expect(statuses(dry, TICKS)['0002_rename_legacy_columns']).toBe('conflict');
    expect(first.ok).toBe(false);
    expect(first.migrations).toEqual([
      expect.objectContaining({ id: '0001_create_v2_tables', status: 'not_needed' }),
      expect.objectContaining({
        id: '0002_rename_legacy_columns',
        status: 'conflict',
        sql: [],
        detail: expect.stringContaining('has both ticks_lake and ticks_kind'),
      }),
      expect.objectContaining({
        id: '0003_tick_provenance_columns',
        status: 'pending',
        detail: 'not attempted: 0002_rename_legacy_columns did not complete',
      }),
    ]);
    expect(notReady).toBeInstanceOf(MigrationNotReadyError);
    expect((notReady as Error).message).toMatch(
      /table ghtrader_ticks_main_l5_v2 of duckdb:test-\w+\.duckdb has failed migrations \[0002_rename_legacy_columns: .*has both ticks_lake and ticks_kind.*\]; run: ghtrader data migrate --apply --retry-failed$/,
    );
    expect(statuses(plain, TICKS)).toMatchObject({ '0002_rename_legacy_columns': 'failed' });
    expect(ddl.filter((s) => s.startsWith('ALTER TABLE "'))).toEqual([
      `ALTER TABLE "${TICKS}" ADD COLUMN IF NOT EXISTS segment_id BIGINT`,
    ]);
    expect(retried.ok).toBe(true);
    expect(statuses(retried, TICKS)).toEqual({
      '0001_create_v2_tables': 'already_applied',
      '0002_rename_legacy_columns': 'not_needed',
      '0003_tick_provenance_columns': 'applied',
    });
    await expect(assertTickStoreReady(store, ledger, [TABLES.ticksMainL5])).resolves.toBeUndefined();
  });

  it('records a failing DDL as failed with its error and names it at readiness', async () => {
    // Prepare
    const s = await open();
    s.failDdl = (sql) => sql.includes(TABLES.fillLabelBuilds.name);
    const only = { table: TABLES.fillLabelBuilds.name };

    // Act
    const failed = await applyMigrations(s.store, ledger, { ...only, appliedBy: 'job-x' });
    const notReady = await assertTickStoreReady(s.store, ledger, [TABLES.fillLabelBuilds]).catch((e: unknown) => e);
    s.failDdl = undefined;
    const retried = await applyMigrations(s.store, ledger, { ...only, appliedBy: 'job-y', retryFailed: true });

    // Assess
    expect(failed.ok).toBe(false);
    expect(failed.migrations[0]).toMatchObject({
      id: '0001_create_v2_tables',
      status: 'failed',
      detail: expect.stringMatching(/^DDL failed: injected failure on CREATE TABLE/),
    });
    expect(failed.migrations.slice(1).map((m) => m.status)).toEqual(['pending', 'pending']);
    expect(notReady).toBeInstanceOf(MigrationNotReadyError);
    expect((notReady as Error).message).toContain(`table ${TABLES.fillLabelBuilds.name}`);
    expect(statuses(retried, TABLES.fillLabelBuilds.name)).toEqual({
      '0001_create_v2_tables': 'applied',
      '0002_rename_legacy_columns': 'not_needed',
      '0004_fill_builds_row_hash_algo': 'not_needed',
    });
  });

  it('takes over a claim whose owner never finished once its lease expires', async () => {
    // Prepare
    const { store } = await open();
    const id = '0005_create_main_l5_builds';
    const table = TABLES.mainL5Builds.name;
    const abandoned = await ledger.claim(store.storeId, table, id, {
      owner: 'job-dead',
      sqlSha256: '00',
      action: 'create_table',
      leaseMs: 300,
      retryFailed: false,
    });
    const dry = await planMigrations(store, ledger, { table });
    const notReady = await assertTickStoreReady(store, ledger, [TABLES.mainL5Builds]).catch((e: unknown) => e);

    // Act
    const report = await applyMigrations(store, ledger, { table, appliedBy: 'job-live', pollMs: 50 });

    // Assess
    expect(abandoned.claimed).toBe(true);
    expect(dry.migrations).toEqual([
      expect.objectContaining({ id, status: 'pending', detail: expect.stringContaining('claimed by job-dead') }),
    ]);
    expect((notReady as Error).message).toContain(`pending migrations [${id}]; run: ghtrader data migrate --apply`);
    expect(report.migrations).toEqual([expect.objectContaining({ id, status: 'applied' })]);
    expect(await ledger.list(store.storeId, table)).toEqual([
      expect.objectContaining({ status: 'applied', applied_by: 'job-live' }),
    ]);
  });
});
