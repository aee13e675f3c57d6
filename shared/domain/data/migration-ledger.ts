/**
 * Migration ledger (data-chain §1.5): one record per `(store, table, migration_id)`. A migration is claimed by a
 * conditional write (free, failed with an explicit retry, or pending with an expired lease), run, then finished by a
 * conditional update that requires the claimer to still own the pending record: each migration is applied once per
 * store. Adapter: `shared/infra/aws/migration-ledger.ts` (DynamoDB).
 */
import * as z from 'zod';

export const MIGRATION_STATUSES = ['pending', 'applied', 'failed'] as const;
export const MigrationStatusSchema = z.enum(MIGRATION_STATUSES);
export type MigrationStatus = z.infer<typeof MigrationStatusSchema>;

export const MigrationRecordSchema = z.object({
  /** `duckdb:<home-relative path>` or `questdb:<host:port>`. */
  store_id: z.string().min(1),
  table: z.string().min(1),
  migration_id: z.string().min(1),
  status: MigrationStatusSchema,
  action: z.string(),
  /** Free text; the error message when `failed`. */
  detail: z.string(),
  sql_sha256: z.string(),
  /** Job id of the claimer (the owner while pending). */
  applied_by: z.string().min(1),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  /** ISO-8601 UTC; a pending record whose lease is in the past may be taken over. */
  lease_until: z.string(),
});
export type MigrationRecord = z.infer<typeof MigrationRecordSchema>;

export interface ClaimOptions {
  /** Job id that will run the migration; `markApplied`/`markFailed` require it. */
  owner: string;
  sqlSha256: string;
  action: string;
  leaseMs: number;
  /** Take over a `failed` record (never an `applied` one). */
  retryFailed: boolean;
}

export type ClaimResult =
  | { claimed: true; record: MigrationRecord }
  | { claimed: false; current: MigrationRecord | null };

export interface MigrationLedgerStatus {
  store_id: string;
  table: string;
  /** True iff no migration of the table is pending or failed. */
  ready: boolean;
  applied: string[];
  pending: string[];
  failed: string[];
}

/** Port: the migration ledger. */
export interface MigrationLedger {
  /** Claim a migration; a refusal carries the record that blocked it (null if it vanished in between). */
  claim(storeId: string, table: string, migrationId: string, opts: ClaimOptions): Promise<ClaimResult>;
  /** pending → applied, only by the owner; false (nothing written) when the claim was lost. */
  markApplied(storeId: string, table: string, migrationId: string, owner: string, detail: string): Promise<boolean>;
  /** pending → failed with the error in `detail`, only by the owner; false (nothing written) when the claim was lost. */
  markFailed(storeId: string, table: string, migrationId: string, owner: string, error: string): Promise<boolean>;
  /** All records of one store table, ordered by migration id. */
  list(storeId: string, table: string): Promise<MigrationRecord[]>;
  status(storeId: string, table: string): Promise<MigrationLedgerStatus>;
}

export function migrationLedgerPk(storeId: string, table: string): string {
  return `${storeId}#${table}`;
}

export function summarizeMigrations(storeId: string, table: string, records: MigrationRecord[]): MigrationLedgerStatus {
  const pick = (s: MigrationStatus) => records.filter((r) => r.status === s).map((r) => r.migration_id);
  const pending = pick('pending');
  const failed = pick('failed');
  return {
    store_id: storeId,
    table,
    ready: pending.length === 0 && failed.length === 0,
    applied: pick('applied'),
    pending,
    failed,
  };
}
