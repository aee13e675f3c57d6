/**
 * The ordered tick-store migrations (data-chain §1.5), as pure plans. Each migration concerns some catalogue tables
 * and plans, from a table's real columns and the store's DDL dialect, the exact SQL it would run (shown by a dry run,
 * hashed into the ledger as `sql_sha256`). Only `ghtrader data migrate --apply` (`shared/services/data/migrate.ts`)
 * executes a plan; writers never do. A plan never guesses: a table holding both a legacy and a current column name is
 * a `conflict` that the migrator records as failed and reports.
 */
import { DataChainError } from '../../errors/data.ts';
import { sha256Hex } from '../control/canonical-json.ts';
import { type ColumnDef, TABLE_NAMES, TABLES, type TableDef } from './tick-columns.ts';
import type { ColumnInfo, TickStoreDialect } from './tick-store.ts';

/** The command every schema error points to (§1.5). */
export const MIGRATE_COMMAND = 'ghtrader data migrate --apply';

export type MigrationPlanStatus = 'needed' | 'not_needed' | 'conflict';

export interface MigrationPlan {
  readonly status: MigrationPlanStatus;
  /** Statements to run, in order; empty unless `needed`. */
  readonly sql: readonly string[];
  /** Why: the columns added / renamed, or why nothing (or nothing safe) can be done. */
  readonly detail: string;
  /**
   * The table's columns once `sql` has run (the input unchanged unless `needed`), so a dry run can plan the next
   * migration of the table against the shape this one leaves behind.
   */
  readonly columnsAfter: readonly ColumnInfo[];
}

export interface Migration {
  /** `NNNN_snake_name`; the ledger's sort key, applied in ascending order. */
  readonly id: string;
  /** Ledger `action` when the plan is `needed` (`create_table`, `rename_columns`, `add_columns`). */
  readonly action: string;
  readonly description: string;
  /** Whether the migration concerns this catalogue table (one ledger item per concerned table). */
  appliesTo(table: TableDef): boolean;
  plan(table: TableDef, realColumns: readonly ColumnInfo[], dialect: TickStoreDialect): MigrationPlan;
}

/** Legacy → current column names (§1.5 `0002_rename_legacy_columns`). */
export const LEGACY_COLUMN_RENAMES: readonly { readonly from: string; readonly to: string }[] = Object.freeze([
  Object.freeze({ from: 'ticks_lake', to: 'ticks_kind' }),
  Object.freeze({ from: 'lake_version', to: 'dataset_version' }),
]);

/** `sql_sha256` of a plan: SHA-256 (hex) over the statements joined by `;\n` (empty plan → hash of ''). */
export function sqlSha256(sql: readonly string[]): string {
  return sha256Hex(sql.join(';\n'));
}

const declares = (table: TableDef, column: string) => table.columns.some((c) => c.name === column);
const toInfo = (c: ColumnDef, dialect: TickStoreDialect): ColumnInfo => ({
  name: c.name,
  storeType: dialect.types[c.type],
});

function unchanged(status: 'not_needed' | 'conflict', detail: string, real: readonly ColumnInfo[]): MigrationPlan {
  return { status, sql: [], detail, columnsAfter: real };
}

/** A migration creating tables that do not exist yet, with their full current shape and dedup keys. */
function createTables(id: string, description: string, appliesTo: (t: TableDef) => boolean): Migration {
  return {
    id,
    action: 'create_table',
    description,
    appliesTo,
    plan(table, real, dialect) {
      if (real.length > 0) return unchanged('not_needed', `table ${table.name} exists`, real);
      return {
        status: 'needed',
        sql: dialect.createTable(table),
        detail: `create table ${table.name} (${table.columns.length} columns${
          table.dedupKeys.length > 0 ? `, dedup keys ${table.dedupKeys.join(', ')}` : ''
        })`,
        columnsAfter: table.columns.map((c) => toInfo(c, dialect)),
      };
    },
  };
}

/** A migration adding declared columns missing from an existing table (declaration order, declared types). */
function addColumns(id: string, description: string, tableName: string, columns: readonly string[]): Migration {
  return {
    id,
    action: 'add_columns',
    description,
    appliesTo: (t) => t.name === tableName,
    plan(table, real, dialect) {
      if (real.length === 0) return unchanged('not_needed', `table ${table.name} does not exist`, real);
      const present = new Set(real.map((c) => c.name));
      const missing = table.columns.filter((c) => columns.includes(c.name) && !present.has(c.name));
      if (missing.length === 0) return unchanged('not_needed', `columns [${columns.join(', ')}] present`, real);
      return {
        status: 'needed',
        sql: missing.map((c) => dialect.addColumn(table.name, c)),
        detail: `add columns [${missing.map((c) => c.name).join(', ')}]`,
        columnsAfter: [...real, ...missing.map((c) => toInfo(c, dialect))],
      };
    },
  };
}

const renameLegacyColumns: Migration = {
  id: '0002_rename_legacy_columns',
  action: 'rename_columns',
  description: 'rename ticks_lake → ticks_kind and lake_version → dataset_version',
  appliesTo: (t) => LEGACY_COLUMN_RENAMES.some((r) => declares(t, r.to)),
  plan(table, real, dialect) {
    if (real.length === 0) return unchanged('not_needed', `table ${table.name} does not exist`, real);
    const present = new Set(real.map((c) => c.name));
    const renames = LEGACY_COLUMN_RENAMES.filter((r) => declares(table, r.to) && present.has(r.from));
    const conflicts = renames.filter((r) => present.has(r.to));
    if (conflicts.length > 0) {
      return unchanged(
        'conflict',
        `table ${table.name} has both ${conflicts.map((r) => `${r.from} and ${r.to}`).join(', and both ')}; ` +
          'reconcile the data and drop the legacy column by hand, then retry the failed migration',
        real,
      );
    }
    if (renames.length === 0) return unchanged('not_needed', 'no legacy columns', real);
    const rename = new Map(renames.map((r) => [r.from, r.to]));
    return {
      status: 'needed',
      sql: renames.map((r) => dialect.renameColumn(table.name, r.from, r.to)),
      detail: `rename ${renames.map((r) => `${r.from} → ${r.to}`).join(', ')}`,
      columnsAfter: real.map((c) => ({ name: rename.get(c.name) ?? c.name, storeType: c.storeType })),
    };
  },
};

/** The migrations, in the order they are applied (§1.5). */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  createTables(
    '0001_create_v2_tables',
    'create the v2 catalogue tables with their dedup keys',
    // ghtrader_main_l5_builds_v2 is new in ghtrader and created by 0005.
    (t) => t.name !== TABLE_NAMES.mainL5Builds,
  ),
  renameLegacyColumns,
  addColumns(
    '0003_tick_provenance_columns',
    'add underlying_contract, segment_id, schedule_hash to the tick table',
    TABLE_NAMES.ticksMainL5,
    ['underlying_contract', 'segment_id', 'schedule_hash'],
  ),
  addColumns(
    '0004_fill_builds_row_hash_algo',
    'add row_hash_algo to the fill-label builds table',
    TABLE_NAMES.fillLabelBuilds,
    ['row_hash_algo'],
  ),
  createTables(
    '0005_create_main_l5_builds',
    'create ghtrader_main_l5_builds_v2',
    (t) => t.name === TABLE_NAMES.mainL5Builds,
  ),
]);

/** The catalogue tables, in catalogue order. */
export const CATALOGUE_TABLES: readonly TableDef[] = Object.freeze(Object.values(TABLES));

/** Migrations concerning `table`, in order. */
export function migrationsFor(table: TableDef): Migration[] {
  return MIGRATIONS.filter((m) => m.appliesTo(table));
}

/**
 * A table whose ledger holds a pending (in flight or abandoned) or failed migration (§1.5 fail-fast). Names the
 * migration and the command that resolves it.
 */
export class MigrationNotReadyError extends DataChainError {
  constructor(
    storeId: string,
    table: string,
    pending: readonly string[],
    failed: readonly { readonly id: string; readonly detail: string }[],
  ) {
    const parts: string[] = [];
    if (failed.length > 0) {
      parts.push(`failed migrations [${failed.map((f) => (f.detail ? `${f.id}: ${f.detail}` : f.id)).join('; ')}]`);
    }
    if (pending.length > 0) parts.push(`pending migrations [${pending.join(', ')}]`);
    const command = failed.length > 0 ? `${MIGRATE_COMMAND} --retry-failed` : MIGRATE_COMMAND;
    super(
      'migration_not_ready',
      `schema migration not complete: table ${table} of ${storeId} has ${parts.join(' and ')}; run: ${command}`,
      { details: { store_id: storeId, table, pending: [...pending], failed: failed.map((f) => f.id) } },
    );
  }
}
