/**
 * The secret store port (control-chain §2 "Broker accounts"): one secret per account profile holding its broker
 * credentials. Adapters: `shared/infra/local/secret-store.ts` (a 0600 JSON file per profile under
 * `$GHTRADER_HOME/secrets/accounts/`, the local stack) and `shared/infra/aws/secret-store.ts` (AWS Secrets Manager,
 * `ghtrader/<stage>/accounts/<profile>`).
 *
 * Passwords are write-only for everything but the broker login: `describe` and `list` return summaries (broker id,
 * masked account id) that an adapter can answer without reading a secret value, so a process allowed to write secrets
 * but not to read them (the HTTP API in AWS) can still list and manage accounts.
 */
import * as z from 'zod';
import { AccountIdSchema, AccountPasswordSchema, BrokerIdSchema, maskAccountId } from './accounts.ts';

/** A canonical profile (control-chain §1), as stored keys and file names use it. */
export const CANONICAL_PROFILE_RE = /^[a-z0-9_]{1,32}$/;

/** The stored secret of one profile (file content / Secrets Manager `SecretString`). */
export const AccountSecretSchema = z.strictObject({
  v: z.literal(1),
  profile: z.string().regex(CANONICAL_PROFILE_RE),
  broker_id: BrokerIdSchema,
  account_id: AccountIdSchema,
  password: AccountPasswordSchema,
  updated_at: z.string(),
});
export type AccountSecret = z.infer<typeof AccountSecretSchema>;

/** What may be read about a stored secret without its value. */
export const AccountSecretSummarySchema = z.strictObject({
  profile: z.string().regex(CANONICAL_PROFILE_RE),
  broker_id: z.string(),
  account_id_masked: z.string(),
  updated_at: z.string(),
});
export type AccountSecretSummary = z.infer<typeof AccountSecretSummarySchema>;

export interface SecretPutResult {
  /** No secret existed for the profile before. */
  created: boolean;
  /**
   * False only when the store could compare and the stored password is the same one. A store whose writer may not
   * read values (Secrets Manager under the API's write-only role) reports every overwrite as true.
   */
  password_changed: boolean;
}

/** Port: broker-account secrets, one per canonical profile. */
export interface SecretStore {
  /** `file` (local stack) or `aws_secrets_manager`; for messages, never a path or a value. */
  readonly kind: 'file' | 'aws_secrets_manager';
  /** The whole secret (password included), or null when none is stored. Only the broker login reads it. */
  get(profile: string): Promise<AccountSecret | null>;
  /** The summary of the stored secret, or null. Reads no secret value. */
  describe(profile: string): Promise<AccountSecretSummary | null>;
  /** Every stored profile's summary, sorted by profile. Reads no secret value. */
  list(): Promise<AccountSecretSummary[]>;
  /** Create or replace the profile's secret. */
  put(secret: AccountSecret): Promise<SecretPutResult>;
  /** Remove it at once; false when there was none. */
  delete(profile: string): Promise<boolean>;
  /** Release the adapter's connections (an SDK client's sockets); nothing to do for files. */
  close(): void;
}

/** The summary of a secret (`describe`, `list`). */
export function summaryOf(secret: AccountSecret): AccountSecretSummary {
  return {
    profile: secret.profile,
    broker_id: secret.broker_id,
    account_id_masked: maskAccountId(secret.account_id),
    updated_at: secret.updated_at,
  };
}

/** The keys a failed parse of a stored secret names (never its values): for `SecretStoreInvalidError`. */
export function badSecretKeys(error: z.ZodError): string[] {
  return [
    ...new Set(
      error.issues.flatMap((i) =>
        i.code === 'unrecognized_keys' ? i.keys : [i.path.length > 0 ? i.path.join('.') : i.code],
      ),
    ),
  ];
}
