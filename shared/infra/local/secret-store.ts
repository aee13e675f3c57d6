/**
 * `SecretStore` on the local file system (the local stack, `ghtrader up`): one JSON file per account profile,
 * `$GHTRADER_HOME/secrets/accounts/<profile>.json`, mode 0600 in a directory of mode 0700 (re-applied on every write,
 * so a directory made earlier with a looser mode is tightened). A write goes to a temp file created 0600 beside the
 * target and is renamed over it, so a reader sees the old or the new secret, never a partial one. The file holds the
 * password in clear: the protection is the file mode and the host, as for `~/.aws/credentials`.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type AccountSecret,
  AccountSecretSchema,
  type AccountSecretSummary,
  badSecretKeys,
  CANONICAL_PROFILE_RE,
  type SecretPutResult,
  type SecretStore,
  summaryOf,
} from '../../domain/control/secret-store.ts';
import { SecretStoreInvalidError } from '../../errors/control.ts';
import { readTextIfExists } from './files.ts';

const SUFFIX = '.json';

/** `$GHTRADER_HOME/secrets/accounts`. */
export function accountSecretsDir(home: string): string {
  return path.join(home, 'secrets', 'accounts');
}

export class FileSecretStore implements SecretStore {
  readonly kind = 'file' as const;

  constructor(private readonly dir: string) {}

  /** The store of a home (`$GHTRADER_HOME/secrets/accounts`). */
  static forHome(home: string): FileSecretStore {
    return new FileSecretStore(accountSecretsDir(home));
  }

  private file(profile: string): string {
    if (!CANONICAL_PROFILE_RE.test(profile)) {
      throw new RangeError(`not a canonical profile: ${JSON.stringify(profile)} (expected [a-z0-9_]{1,32})`);
    }
    return path.join(this.dir, `${profile}${SUFFIX}`);
  }

  async get(profile: string): Promise<AccountSecret | null> {
    const text = await readTextIfExists(this.file(profile));
    return text === null ? null : parseSecret(text, profile);
  }

  async describe(profile: string): Promise<AccountSecretSummary | null> {
    const secret = await this.get(profile);
    return secret ? summaryOf(secret) : null;
  }

  async list(): Promise<AccountSecretSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    // Temp files of a write in progress end in `.tmp`; anything else here is a secret and must parse.
    const profiles = names
      .filter((n) => n.endsWith(SUFFIX))
      .map((n) => n.slice(0, -SUFFIX.length))
      .sort();
    const out: AccountSecretSummary[] = [];
    for (const profile of profiles) {
      if (!CANONICAL_PROFILE_RE.test(profile)) throw new SecretStoreInvalidError(`accounts/${profile}${SUFFIX}`, []);
      const summary = await this.describe(profile);
      if (summary) out.push(summary);
    }
    return out;
  }

  async put(secret: AccountSecret): Promise<SecretPutResult> {
    const checked = AccountSecretSchema.parse(secret);
    const file = this.file(checked.profile);
    const before = await this.get(checked.profile);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    const tmp = `${file}.${randomUUID()}.tmp`;
    try {
      // `wx`: a fresh file, created with mode 0600 (never an existing file's looser mode).
      await writeFile(tmp, `${JSON.stringify(checked)}\n`, { mode: 0o600, flag: 'wx' });
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return {
      created: before === null,
      password_changed: before === null || !sameText(before.password, checked.password),
    };
  }

  close(): void {
    // No handle is kept open between calls.
  }

  async delete(profile: string): Promise<boolean> {
    const file = this.file(profile);
    try {
      await rm(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}

/** Constant-time comparison of two passwords (their lengths are not secret here: both are in this process). */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Parse a stored file; errors name the file and the bad keys, never a value. */
function parseSecret(text: string, profile: string): AccountSecret {
  const where = `accounts/${profile}${SUFFIX}`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SecretStoreInvalidError(where, []);
  }
  const r = AccountSecretSchema.safeParse(json);
  if (!r.success) {
    throw new SecretStoreInvalidError(where, badSecretKeys(r.error));
  }
  if (r.data.profile !== profile) throw new SecretStoreInvalidError(where, ['profile']);
  return r.data;
}
