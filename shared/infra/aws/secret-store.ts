/**
 * `SecretStore` on AWS Secrets Manager (control-chain §2 "Broker accounts"): one secret per account profile named
 * `<prefix><profile>` with the prefix `ghtrader/<stage>/accounts/` (`accountSecretPrefix`, passed by CDK in
 * `GHTRADER_ACCOUNT_SECRET_PREFIX`). `SecretString` is the JSON `AccountSecret`; the secret's `Description` holds the
 * non-secret summary (broker id, masked account id, update time) as JSON, so `describe` and `list` answer from
 * `DescribeSecret` / `ListSecrets` without reading any value: the HTTP API's role may write secrets but never read
 * them (only the jobs worker has `GetSecretValue`).
 *
 * - `put`: `CreateSecret`; when it exists, `UpdateSecret` with the new value and summary in one call (so value and
 *   summary never disagree; `PutSecretValue` cannot change the description). Right after a forced delete AWS may
 *   still refuse to create the name for a moment; that is retried briefly.
 * - `delete`: `DeleteSecret` with `ForceDeleteWithoutRecovery`. No recovery window, on purpose: the audit log keeps who
 *   deleted which account and when, and the password is write-only anyway (nobody could read it back to "recover"
 *   it); a pending deletion would only block re-creating the profile for 7 to 30 days.
 * - `list`: `ListSecrets` filtered by the name prefix, every page (`NextToken`).
 * Every other service error becomes 503 `dependency_unavailable` naming the operation and the AWS error name.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type ListSecretsCommandOutput,
  type SecretsManagerClient,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { maskAccountId } from '../../domain/control/accounts.ts';
import {
  type AccountSecret,
  AccountSecretSchema,
  type AccountSecretSummary,
  AccountSecretSummarySchema,
  badSecretKeys,
  CANONICAL_PROFILE_RE,
  type SecretPutResult,
  type SecretStore,
} from '../../domain/control/secret-store.ts';
import { DependencyUnavailableError, SecretStoreInvalidError } from '../../errors/control.ts';
import { accountSecretName } from './definitions.ts';

/** The description's marker: secrets under the prefix without it were not written by ghtrader. */
const DESCRIPTION_KIND = 'ghtrader broker account';

const DescriptionSchema = AccountSecretSummarySchema.extend({ kind: z.literal(DESCRIPTION_KIND), v: z.literal(1) });

/** How often `put` retries a create refused because a just-deleted secret of that name is still being removed. */
const CREATE_AFTER_DELETE_TRIES = 5;
const CREATE_AFTER_DELETE_DELAY_MS = 250;

export class SecretsManagerSecretStore implements SecretStore {
  readonly kind = 'aws_secrets_manager' as const;

  constructor(
    private readonly client: SecretsManagerClient,
    /** `ghtrader/<stage>/accounts/`. */
    private readonly prefix: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!prefix.endsWith('/')) throw new RangeError(`secret name prefix must end with "/": ${prefix}`);
  }

  private name(profile: string): string {
    if (!CANONICAL_PROFILE_RE.test(profile)) {
      throw new RangeError(`not a canonical profile: ${JSON.stringify(profile)} (expected [a-z0-9_]{1,32})`);
    }
    return accountSecretName(this.prefix, profile);
  }

  async get(profile: string): Promise<AccountSecret | null> {
    const name = this.name(profile);
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
      return parseSecretString(name, profile, out.SecretString);
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return null;
      throw unavailable('GetSecretValue', err);
    }
  }

  async describe(profile: string): Promise<AccountSecretSummary | null> {
    const name = this.name(profile);
    try {
      const out = await this.client.send(new DescribeSecretCommand({ SecretId: name }));
      // A secret someone scheduled for deletion in the AWS console is gone as far as ghtrader is concerned.
      if (out.DeletedDate !== undefined) return null;
      return parseDescription(name, profile, out.Description);
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return null;
      throw unavailable('DescribeSecret', err);
    }
  }

  async list(): Promise<AccountSecretSummary[]> {
    const out: AccountSecretSummary[] = [];
    let token: string | undefined;
    do {
      let page: ListSecretsCommandOutput;
      try {
        page = await this.client.send(
          new ListSecretsCommand({
            // The name filter is a case-insensitive prefix match; the exact prefix is checked below.
            Filters: [{ Key: 'name', Values: [this.prefix] }],
            MaxResults: 100,
            ...(token ? { NextToken: token } : {}),
          }),
        );
      } catch (err) {
        throw unavailable('ListSecrets', err);
      }
      for (const s of page.SecretList ?? []) {
        const name = s.Name ?? '';
        if (!name.startsWith(this.prefix) || s.DeletedDate !== undefined) continue;
        const profile = name.slice(this.prefix.length);
        if (!CANONICAL_PROFILE_RE.test(profile)) throw new SecretStoreInvalidError(name, ['Name']);
        out.push(parseDescription(name, profile, s.Description));
      }
      token = page.NextToken;
    } while (token);
    return out.sort((a, b) => a.profile.localeCompare(b.profile));
  }

  async put(secret: AccountSecret): Promise<SecretPutResult> {
    const checked = AccountSecretSchema.parse(secret);
    const name = this.name(checked.profile);
    const value = JSON.stringify(checked);
    const description = JSON.stringify({
      kind: DESCRIPTION_KIND,
      v: 1,
      profile: checked.profile,
      broker_id: checked.broker_id,
      account_id_masked: maskAccountId(checked.account_id),
      updated_at: checked.updated_at,
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new CreateSecretCommand({ Name: name, SecretString: value, Description: description }));
        return { created: true, password_changed: true };
      } catch (err) {
        const e = errorName(err);
        if (e === 'ResourceExistsException') break;
        if (e === 'InvalidRequestException' && isPendingDeletion(err) && attempt < CREATE_AFTER_DELETE_TRIES) {
          await this.sleep(CREATE_AFTER_DELETE_DELAY_MS * attempt);
          continue;
        }
        throw unavailable('CreateSecret', err);
      }
    }
    try {
      await this.client.send(
        new UpdateSecretCommand({ SecretId: name, SecretString: value, Description: description }),
      );
    } catch (err) {
      throw unavailable('UpdateSecret', err);
    }
    // The writer may not read the stored value (write-only role), so an overwrite cannot be compared: say changed.
    return { created: false, password_changed: true };
  }

  /** Destroys the client (its keep-alive sockets); the store must not be used afterwards. */
  close(): void {
    this.client.destroy();
  }

  async delete(profile: string): Promise<boolean> {
    const name = this.name(profile);
    // A forced delete of a missing secret succeeds too (AWS does not report ResourceNotFound then): look first.
    if ((await this.describe(profile)) === null) return false;
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return false;
      throw unavailable('DeleteSecret', err);
    }
    return true;
  }
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

function isPendingDeletion(err: unknown): boolean {
  return err instanceof Error && /deletion|deleted/i.test(err.message);
}

function unavailable(operation: string, err: unknown): DependencyUnavailableError {
  return new DependencyUnavailableError(`AWS Secrets Manager (${operation}: ${errorName(err) || 'error'})`, {
    cause: err,
  });
}

function parseSecretString(name: string, profile: string, text: string | undefined): AccountSecret {
  let json: unknown;
  try {
    json = JSON.parse(text ?? '');
  } catch {
    throw new SecretStoreInvalidError(name, []);
  }
  const r = AccountSecretSchema.safeParse(json);
  if (!r.success) throw new SecretStoreInvalidError(name, badSecretKeys(r.error));
  if (r.data.profile !== profile) throw new SecretStoreInvalidError(name, ['profile']);
  return r.data;
}

function parseDescription(name: string, profile: string, text: string | undefined): AccountSecretSummary {
  let json: unknown;
  try {
    json = JSON.parse(text ?? '');
  } catch {
    throw new SecretStoreInvalidError(name, ['Description']);
  }
  const r = DescriptionSchema.safeParse(json);
  if (!r.success || r.data.profile !== profile) throw new SecretStoreInvalidError(name, ['Description']);
  const { kind: _kind, v: _v, ...summary } = r.data;
  return summary;
}
