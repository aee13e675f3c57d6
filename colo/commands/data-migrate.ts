/**
 * `ghtrader data migrate [--apply] [--table T] [--retry-failed]` (data-chain §1.5, §10.2): without `--apply` a dry run
 * listing the exact SQL each migration would run; with it, the migrations are claimed in the DynamoDB ledger, run and
 * recorded. The only command that issues tick-store DDL (also run by `ghtrader up` and the deploy bootstrap). The
 * commander registration lives with the other `data` commands; this is the command body.
 */
import type { MigrationLedger } from '#shared/domain/data/migration-ledger.ts';
import type { TickStore } from '#shared/domain/data/tick-store.ts';
import { applyMigrations, type MigrateReport, planMigrations } from '#shared/services/data/migrate.ts';

export interface MigrateCommandDeps {
  store: TickStore;
  ledger: MigrationLedger;
}

export interface MigrateCommandOptions {
  apply: boolean;
  table?: string;
  retryFailed?: boolean;
  /** Job id (or `cli:<user>@<host>`) recorded as `applied_by`. */
  appliedBy: string;
}

/** Runs the dry run or the apply; the JSON is `{ok, mode, store_id, migrations[{id, table, status, sql, detail?}]}`. */
export function migrateCommand(deps: MigrateCommandDeps, opts: MigrateCommandOptions): Promise<MigrateReport> {
  const table = opts.table === undefined ? {} : { table: opts.table };
  if (!opts.apply) return planMigrations(deps.store, deps.ledger, table);
  return applyMigrations(deps.store, deps.ledger, {
    ...table,
    appliedBy: opts.appliedBy,
    retryFailed: opts.retryFailed ?? false,
  });
}
