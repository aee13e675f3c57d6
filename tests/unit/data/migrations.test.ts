import { describe, expect, it } from 'vitest';
import {
  CATALOGUE_TABLES,
  MIGRATIONS,
  MigrationNotReadyError,
  migrationsFor,
  sqlSha256,
} from '#shared/domain/data/migrations.ts';
import { TABLES, type TableDef } from '#shared/domain/data/tick-columns.ts';
import { type ColumnInfo, DUCKDB_TYPES, type TickStoreDialect } from '#shared/domain/data/tick-store.ts';

/** A dialect whose statements are easy to read back in assertions. */
const dialect: TickStoreDialect = {
  createTable: (t) => [
    `CREATE TABLE ${t.name} (${t.columns.map((c) => `${c.name} ${DUCKDB_TYPES[c.type]}`).join(', ')})`,
    ...(t.dedupKeys.length > 0 ? [`DEDUP ${t.name} (${t.dedupKeys.join(', ')})`] : []),
  ],
  addColumn: (table, c) => `ALTER TABLE ${table} ADD COLUMN ${c.name} ${DUCKDB_TYPES[c.type]}`,
  renameColumn: (table, from, to) => `ALTER TABLE ${table} RENAME COLUMN ${from} TO ${to}`,
  types: DUCKDB_TYPES,
};

const real = (t: TableDef, opts: { drop?: string[]; add?: ColumnInfo[]; rename?: Record<string, string> } = {}) =>
  [
    ...t.columns
      .filter((c) => !opts.drop?.includes(c.name))
      .map((c) => ({ name: opts.rename?.[c.name] ?? c.name, storeType: DUCKDB_TYPES[c.type] })),
    ...(opts.add ?? []),
  ] satisfies ColumnInfo[];

function migration(id: string) {
  const m = MIGRATIONS.find((x) => x.id === id);
  if (!m) throw new Error(`no migration ${id}`);
  return m;
}

describe('the migration list', () => {
  it('is the ordered list of §1.5', () => {
    // Act
    const ids = MIGRATIONS.map((m) => m.id);

    // Assess
    expect(ids).toEqual([
      '0001_create_v2_tables',
      '0002_rename_legacy_columns',
      '0003_tick_provenance_columns',
      '0004_fill_builds_row_hash_algo',
      '0005_create_main_l5_builds',
    ]);
    expect([...ids].sort()).toEqual(ids);
  });

  it('creates each catalogue table exactly once (main_l5_builds by 0005, every other by 0001)', () => {
    // Act
    const creators = CATALOGUE_TABLES.map((t) =>
      migrationsFor(t)
        .filter((m) => m.action === 'create_table')
        .map((m) => m.id),
    );

    // Assess
    expect(CATALOGUE_TABLES).toHaveLength(15);
    CATALOGUE_TABLES.forEach((t, i) => {
      expect(creators[i]).toEqual([
        t.name === 'ghtrader_main_l5_builds_v2' ? '0005_create_main_l5_builds' : '0001_create_v2_tables',
      ]);
    });
  });

  it('renames on tables declaring ticks_kind or dataset_version only, and adds columns where §1.5 says', () => {
    // Act
    const concerned = (id: string) =>
      CATALOGUE_TABLES.filter((t) => migration(id).appliesTo(t))
        .map((t) => t.name)
        .sort();

    // Assess
    expect(concerned('0002_rename_legacy_columns')).toEqual(
      [
        'ghtrader_ticks_main_l5_v2',
        'ghtrader_tick_gaps_v2',
        'ghtrader_field_quality_v2',
        'ghtrader_main_l5_daily_agg_v2',
        'ghtrader_features_v2',
        'ghtrader_feature_builds_v2',
        'ghtrader_labels_v2',
        'ghtrader_label_builds_v2',
        'ghtrader_fill_labels_v2',
        'ghtrader_fill_label_builds_v2',
      ].sort(),
    );
    expect(concerned('0003_tick_provenance_columns')).toEqual(['ghtrader_ticks_main_l5_v2']);
    expect(concerned('0004_fill_builds_row_hash_algo')).toEqual(['ghtrader_fill_label_builds_v2']);
  });
});

describe('0001_create_v2_tables', () => {
  const m = migration('0001_create_v2_tables');

  it('plans the dialect CREATE with dedup keys for an absent table and projects the full shape', () => {
    // Act
    const plan = m.plan(TABLES.ticksMainL5, [], dialect);

    // Assess
    expect(plan.status).toBe('needed');
    expect(plan.sql).toEqual(dialect.createTable(TABLES.ticksMainL5));
    expect(plan.sql[1]).toBe('DEDUP ghtrader_ticks_main_l5_v2 (ts, symbol, ticks_kind, dataset_version, row_hash)');
    expect(plan.columnsAfter).toEqual(real(TABLES.ticksMainL5));
  });

  it('leaves an existing table alone, whatever its columns', () => {
    // Act
    const plan = m.plan(TABLES.ticksMainL5, real(TABLES.ticksMainL5, { drop: ['segment_id'] }), dialect);

    // Assess
    expect(plan).toMatchObject({ status: 'not_needed', sql: [] });
  });
});

describe('0002_rename_legacy_columns', () => {
  const m = migration('0002_rename_legacy_columns');

  it('renames both legacy columns in place', () => {
    // Prepare
    const cols = real(TABLES.dailyAgg, { rename: { ticks_kind: 'ticks_lake', dataset_version: 'lake_version' } });

    // Act
    const plan = m.plan(TABLES.dailyAgg, cols, dialect);

    // Assess
    expect(plan.status).toBe('needed');
    expect(plan.sql).toEqual([
      'ALTER TABLE ghtrader_main_l5_daily_agg_v2 RENAME COLUMN ticks_lake TO ticks_kind',
      'ALTER TABLE ghtrader_main_l5_daily_agg_v2 RENAME COLUMN lake_version TO dataset_version',
    ]);
    expect(plan.columnsAfter).toEqual(real(TABLES.dailyAgg));
  });

  it('reports a conflict, with no SQL, when the legacy and the current name are both present', () => {
    // Prepare
    const cols = real(TABLES.ticksMainL5, {
      rename: { dataset_version: 'lake_version' },
      add: [{ name: 'ticks_lake', storeType: 'VARCHAR' }],
    });

    // Act
    const plan = m.plan(TABLES.ticksMainL5, cols, dialect);

    // Assess
    expect(plan.status).toBe('conflict');
    expect(plan.sql).toEqual([]);
    expect(plan.detail).toContain('has both ticks_lake and ticks_kind');
    expect(plan.detail).not.toContain('lake_version and');
    expect(plan.columnsAfter).toEqual(cols);
  });

  it('has nothing to do without legacy columns or without the table', () => {
    // Act
    const current = m.plan(TABLES.ticksMainL5, real(TABLES.ticksMainL5), dialect);
    const absent = m.plan(TABLES.ticksMainL5, [], dialect);

    // Assess
    expect(current).toMatchObject({ status: 'not_needed', sql: [] });
    expect(absent).toMatchObject({ status: 'not_needed', sql: [] });
  });
});

describe('0003_tick_provenance_columns and 0004_fill_builds_row_hash_algo', () => {
  it('adds only the missing provenance columns with their declared types', () => {
    // Prepare
    const cols = real(TABLES.ticksMainL5, { drop: ['segment_id', 'schedule_hash'] });

    // Act
    const plan = migration('0003_tick_provenance_columns').plan(TABLES.ticksMainL5, cols, dialect);

    // Assess
    expect(plan.status).toBe('needed');
    expect(plan.sql).toEqual([
      'ALTER TABLE ghtrader_ticks_main_l5_v2 ADD COLUMN segment_id BIGINT',
      'ALTER TABLE ghtrader_ticks_main_l5_v2 ADD COLUMN schedule_hash VARCHAR',
    ]);
    expect(plan.detail).toBe('add columns [segment_id, schedule_hash]');
    expect(plan.columnsAfter.map((c) => c.name).sort()).toEqual(TABLES.ticksMainL5.columns.map((c) => c.name).sort());
  });

  it('adds row_hash_algo to the fill-label builds table and is a no-op when present', () => {
    // Prepare
    const m = migration('0004_fill_builds_row_hash_algo');

    // Act
    const needed = m.plan(TABLES.fillLabelBuilds, real(TABLES.fillLabelBuilds, { drop: ['row_hash_algo'] }), dialect);
    const done = m.plan(TABLES.fillLabelBuilds, real(TABLES.fillLabelBuilds), dialect);

    // Assess
    expect(needed.sql).toEqual(['ALTER TABLE ghtrader_fill_label_builds_v2 ADD COLUMN row_hash_algo VARCHAR']);
    expect(done).toMatchObject({ status: 'not_needed', sql: [] });
  });
});

describe('0005_create_main_l5_builds', () => {
  it('creates the builds table when absent, without a dedup statement (append-only)', () => {
    // Act
    const plan = migration('0005_create_main_l5_builds').plan(TABLES.mainL5Builds, [], dialect);

    // Assess
    expect(plan.status).toBe('needed');
    expect(plan.sql).toHaveLength(1);
    expect(plan.sql[0]).toMatch(/^CREATE TABLE ghtrader_main_l5_builds_v2 \(symbol VARCHAR, /);
  });
});

describe('sqlSha256 and MigrationNotReadyError', () => {
  it('hashes the statements in order', () => {
    // Act
    const ab = sqlSha256(['A', 'B']);

    // Assess
    expect(ab).toMatch(/^[0-9a-f]{64}$/);
    expect(sqlSha256(['A', 'B'])).toBe(ab);
    expect(sqlSha256(['B', 'A'])).not.toBe(ab);
    expect(sqlSha256([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('names the migrations and the command to run', () => {
    // Act
    const failed = new MigrationNotReadyError(
      'duckdb:ticks.duckdb',
      'ghtrader_ticks_main_l5_v2',
      [],
      [{ id: '0002_rename_legacy_columns', detail: 'both' }],
    );
    const pending = new MigrationNotReadyError('duckdb:ticks.duckdb', 'ghtrader_ticks_main_l5_v2', ['0003_x'], []);

    // Assess
    expect(failed.message).toBe(
      'schema migration not complete: table ghtrader_ticks_main_l5_v2 of duckdb:ticks.duckdb has failed migrations ' +
        '[0002_rename_legacy_columns: both]; run: ghtrader data migrate --apply --retry-failed',
    );
    expect(pending.message).toContain('pending migrations [0003_x]; run: ghtrader data migrate --apply');
    expect(pending.code).toBe('migration_not_ready');
  });
});
