/**
 * Tick-store migrations on the DynamoDB ledger (data-chain §1.5): dry-run planning, `--apply`, and the required-column
 * fail-fast every process, data job and write batch runs first.
 *
 * `applyMigrations` is the only code that issues DDL (through `store.executeDdl`). Migrations run in ledger order
 * (all `0001` items, then all `0002`, …); each `(store, table, migration)` is claimed with the ledger's conditional put
 * before anything runs, re-planned against the columns read after the claim, executed, verified (a re-plan must now be
 * `not_needed`) and finished by an owner-checked update to `applied` or `failed`. A plan with nothing to do is still
 * recorded as `applied` (action `not_needed`) so the ledger tells the table is ready.
 *
 * Concurrency: a run that finds a migration claimed by another live run WAITS (polling the claim) until the owner
 * finishes, then reports `already_applied` (or `failed` when the owner failed it); an abandoned claim is taken over once
 * its lease expires. So when `applyMigrations` returns ok, the store is migrated, whichever run did the work.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MigrationLedger, MigrationRecord } from '../../domain/data/migration-ledger.ts';
import {
  CATALOGUE_TABLES,
  MIGRATIONS,
  type Migration,
  MigrationNotReadyError,
  type MigrationPlan,
  sqlSha256,
} from '../../domain/data/migrations.ts';
import type { TableDef } from '../../domain/data/tick-columns.ts';
import {
  type ColumnInfo,
  SchemaContractError,
  type TickStore,
  TickStoreInputError,
  tableDef,
} from '../../domain/data/tick-store.ts';
import { DataChainError } from '../../errors/data.ts';

export type MigrationReportStatus = 'pending' | 'not_needed' | 'applied' | 'already_applied' | 'failed' | 'conflict';

export interface MigrationReportEntry {
  id: string;
  table: string;
  status: MigrationReportStatus;
  /** The SQL planned (dry run) or executed (apply); empty when nothing runs. */
  sql: string[];
  detail?: string;
}

export interface MigrateReport {
  /** False iff some migration is `failed` or `conflict` (a dry run: would fail). */
  ok: boolean;
  mode: 'dry_run' | 'apply';
  store_id: string;
  migrations: MigrationReportEntry[];
}

export interface ApplyMigrationsOptions {
  /** One catalogue table only. */
  table?: string;
  /** Re-claim migrations the ledger holds as `failed`. */
  retryFailed?: boolean;
  /** Job id recorded as `applied_by` (the claim owner). */
  appliedBy: string;
  /** Claim lease; another run may take a migration over once it expires. */
  leaseMs?: number;
  /** How often a run waiting for another run's live claim re-checks it. */
  pollMs?: number;
}

export const DEFAULT_MIGRATION_LEASE_MS = 10 * 60_000;
export const DEFAULT_MIGRATION_POLL_MS = 250;

/** The ledger no longer lets this run finish a migration it claimed: its lease expired and another run took over. */
export class MigrationClaimLostError extends DataChainError {
  constructor(storeId: string, table: string, migrationId: string, owner: string) {
    super(
      'migration_claim_lost',
      `migration ${migrationId} on ${table} of ${storeId}: claim by ${owner} was lost (lease expired and another run ` +
        'took over); inspect the ledger and run: ghtrader data migrate',
      { details: { store_id: storeId, table, migration_id: migrationId, owner } },
    );
  }
}

interface TableState {
  readonly def: TableDef;
  columns: readonly ColumnInfo[];
  readonly records: ReadonlyMap<string, MigrationRecord>;
  /** Id of the migration that failed for this table in this run; later ones are not attempted. */
  blockedBy?: string;
}

function selectTables(table: string | undefined): readonly TableDef[] {
  return table === undefined ? CATALOGUE_TABLES : [tableDef(table)];
}

async function loadStates(
  store: TickStore,
  ledger: MigrationLedger,
  tables: readonly TableDef[],
): Promise<TableState[]> {
  return Promise.all(
    tables.map(async (def) => {
      const [columns, records] = await Promise.all([
        store.describeColumns(def.name),
        ledger.list(store.storeId, def.name),
      ]);
      return { def, columns, records: new Map(records.map((r) => [r.migration_id, r])) };
    }),
  );
}

function report(mode: MigrateReport['mode'], storeId: string, migrations: MigrationReportEntry[]): MigrateReport {
  const ok = migrations.every((m) => m.status !== 'failed' && m.status !== 'conflict');
  return { ok, mode, store_id: storeId, migrations };
}

function describeClaim(r: MigrationRecord): string {
  return `claimed by ${r.applied_by} since ${r.started_at}, lease until ${r.lease_until}`;
}

/** Dry run: the SQL each migration would run, from the real columns and the ledger. No DDL, no ledger write. */
export async function planMigrations(
  store: TickStore,
  ledger: MigrationLedger,
  opts: { table?: string } = {},
): Promise<MigrateReport> {
  const states = await loadStates(store, ledger, selectTables(opts.table));
  const out: MigrationReportEntry[] = [];
  for (const m of MIGRATIONS) {
    for (const st of states) {
      if (!m.appliesTo(st.def)) continue;
      const entry = { id: m.id, table: st.def.name };
      const rec = st.records.get(m.id);
      const plan = m.plan(st.def, st.columns, store.dialect);
      // Later migrations of the table are planned against the shape this one leaves behind.
      st.columns = plan.columnsAfter;
      if (rec?.status === 'applied') {
        out.push({ ...entry, status: 'already_applied', sql: [], detail: rec.detail });
      } else if (rec?.status === 'pending') {
        out.push({ ...entry, status: 'pending', sql: [...plan.sql], detail: describeClaim(rec) });
      } else if (rec?.status === 'failed') {
        out.push({
          ...entry,
          status: 'failed',
          sql: [...plan.sql],
          detail: `failed by ${rec.applied_by}: ${rec.detail}; retry with --retry-failed`,
        });
      } else if (plan.status === 'needed') {
        out.push({ ...entry, status: 'pending', sql: [...plan.sql], detail: plan.detail });
      } else {
        out.push({ ...entry, status: plan.status, sql: [], detail: plan.detail });
      }
    }
  }
  return report('dry_run', store.storeId, out);
}

/** `ghtrader data migrate --apply`: claim, run, verify and record every migration still to do. */
export async function applyMigrations(
  store: TickStore,
  ledger: MigrationLedger,
  opts: ApplyMigrationsOptions,
): Promise<MigrateReport> {
  if (opts.appliedBy.length === 0) throw new TickStoreInputError('migrate: appliedBy (job id) is required');
  const leaseMs = opts.leaseMs ?? DEFAULT_MIGRATION_LEASE_MS;
  const pollMs = opts.pollMs ?? DEFAULT_MIGRATION_POLL_MS;
  if (!(leaseMs > 0) || !(pollMs > 0)) {
    throw new TickStoreInputError(`migrate: leaseMs and pollMs must be positive, got ${leaseMs} and ${pollMs}`);
  }
  const run: Runner = { store, ledger, owner: opts.appliedBy, retryFailed: opts.retryFailed ?? false, leaseMs, pollMs };
  const states = await loadStates(store, ledger, selectTables(opts.table));
  const out: MigrationReportEntry[] = [];
  for (const m of MIGRATIONS) {
    for (const st of states) {
      if (!m.appliesTo(st.def)) continue;
      if (st.blockedBy !== undefined) {
        out.push({
          id: m.id,
          table: st.def.name,
          status: 'pending',
          sql: [],
          detail: `not attempted: ${st.blockedBy} did not complete`,
        });
        continue;
      }
      const entry = await applyOne(run, st, m);
      if (entry.status === 'failed' || entry.status === 'conflict') st.blockedBy = m.id;
      out.push(entry);
    }
  }
  return report('apply', store.storeId, out);
}

interface Runner {
  readonly store: TickStore;
  readonly ledger: MigrationLedger;
  readonly owner: string;
  readonly retryFailed: boolean;
  readonly leaseMs: number;
  readonly pollMs: number;
}

async function applyOne(run: Runner, st: TableState, m: Migration): Promise<MigrationReportEntry> {
  const { store, ledger, owner } = run;
  const table = st.def.name;
  const entry = { id: m.id, table };
  const failedEntry = (r: MigrationRecord): MigrationReportEntry => ({
    ...entry,
    status: 'failed',
    sql: [],
    detail: `failed by ${r.applied_by}: ${r.detail}; retry with --retry-failed`,
  });
  const known = st.records.get(m.id);
  if (known?.status === 'applied') return { ...entry, status: 'already_applied', sql: [], detail: known.detail };
  if (known?.status === 'failed' && !run.retryFailed) return failedEntry(known);

  for (;;) {
    const planned = m.plan(st.def, st.columns, store.dialect);
    const claimedSha = sqlSha256(planned.sql);
    const claim = await ledger.claim(store.storeId, table, m.id, {
      owner,
      sqlSha256: claimedSha,
      action: planned.status === 'not_needed' ? 'not_needed' : m.action,
      leaseMs: run.leaseMs,
      retryFailed: run.retryFailed,
    });
    if (!claim.claimed) {
      const cur = claim.current;
      if (cur?.status === 'applied') {
        st.columns = await store.describeColumns(table);
        return { ...entry, status: 'already_applied', sql: [], detail: `${cur.detail} (by ${cur.applied_by})` };
      }
      if (cur?.status === 'failed') return failedEntry(cur);
      // Pending under another run's live lease (or gone in between): wait for the owner, then look again.
      if (cur !== null) await sleep(run.pollMs);
      st.columns = await store.describeColumns(table);
      continue;
    }

    // Ours. Plan again from the columns as they are now (a run whose lease we took over may have changed them).
    st.columns = await store.describeColumns(table);
    const plan = m.plan(st.def, st.columns, store.dialect);
    const sha = sqlSha256(plan.sql);
    const shaNote = sha === claimedSha ? '' : ` (columns changed before the claim; executed sql_sha256 ${sha})`;
    const finish = async (status: 'applied' | 'failed', detail: string) => {
      const done =
        status === 'applied'
          ? await ledger.markApplied(store.storeId, table, m.id, owner, detail)
          : await ledger.markFailed(store.storeId, table, m.id, owner, detail);
      if (!done) throw new MigrationClaimLostError(store.storeId, table, m.id, owner);
    };
    if (plan.status === 'conflict') {
      await finish('failed', plan.detail);
      return { ...entry, status: 'conflict', sql: [], detail: plan.detail };
    }
    if (plan.status === 'not_needed') {
      const detail = `not_needed: ${plan.detail}`;
      await finish('applied', detail);
      return { ...entry, status: 'not_needed', sql: [], detail };
    }
    const executed = await execute(run, st, m, plan);
    if (executed.error !== undefined) {
      await finish('failed', executed.error);
      return { ...entry, status: 'failed', sql: [...plan.sql], detail: executed.error };
    }
    const detail = `${plan.detail}${shaNote}`;
    await finish('applied', detail);
    return { ...entry, status: 'applied', sql: [...plan.sql], detail };
  }
}

/** Run the plan's DDL and verify it took effect; an error becomes the ledger's `failed` detail. */
async function execute(run: Runner, st: TableState, m: Migration, plan: MigrationPlan): Promise<{ error?: string }> {
  try {
    await run.store.executeDdl(plan.sql);
  } catch (err) {
    st.columns = await run.store.describeColumns(st.def.name);
    return { error: `DDL failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  st.columns = await run.store.describeColumns(st.def.name);
  const after = m.plan(st.def, st.columns, run.store.dialect);
  if (after.status !== 'not_needed') {
    return { error: `DDL ran but the migration is still ${after.status}: ${after.detail}` };
  }
  return {};
}

/**
 * §1.5 fail-fast (process start, every data job, every write batch): for each table, the ledger holds no pending or
 * failed migration and the real columns match the declaration (names and types). Throws `MigrationNotReadyError`
 * (naming the migrations and the command) or `SchemaContractError` (`schema contract violation: table T missing
 * required columns [a, b]; run: ghtrader data migrate --apply`) for the first table, in the given order, that is not
 * ready. Reads only: never issues DDL, never writes the ledger.
 */
export async function assertTickStoreReady(
  store: TickStore,
  ledger: MigrationLedger,
  tables: readonly TableDef[] = CATALOGUE_TABLES,
): Promise<void> {
  const problems = await Promise.all(
    tables.map(async (def): Promise<DataChainError | null> => {
      const records = await ledger.list(store.storeId, def.name);
      const pending = records.filter((r) => r.status === 'pending').map((r) => r.migration_id);
      const failed = records
        .filter((r) => r.status === 'failed')
        .map((r) => ({ id: r.migration_id, detail: r.detail }));
      if (pending.length > 0 || failed.length > 0) {
        return new MigrationNotReadyError(store.storeId, def.name, pending, failed);
      }
      try {
        await store.assertRequiredColumns(def);
      } catch (err) {
        if (err instanceof SchemaContractError) return err;
        throw err;
      }
      return null;
    }),
  );
  const first = problems.find((p) => p !== null);
  if (first) throw first;
}
