/**
 * The local `SecretStore` on a real file system (a temp home per file): modes 0700/0600 checked with `fs.stat`,
 * replace-by-rename (a new inode per write, no temp file left, a concurrent reader never sees a partial file),
 * created/password_changed, list, delete, and unreadable files reported without their contents.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { AccountSecret } from '#shared/domain/control/secret-store.ts';
import { SecretStoreInvalidError } from '#shared/errors/control.ts';
import { accountSecretsDir, FileSecretStore } from '#shared/infra/local/secret-store.ts';

const homes: string[] = [];
let home: string;
let store: FileSecretStore;

beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'ghtrader-secrets-'));
  homes.push(home);
  store = FileSecretStore.forHome(home);
});

afterAll(async () => {
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

const secret = (profile: string, over: Partial<AccountSecret> = {}): AccountSecret => ({
  v: 1,
  profile,
  broker_id: 'ghsim',
  account_id: 'acct12345678',
  password: 'first-password',
  updated_at: '2025-01-02T03:04:05.678Z',
  ...over,
});

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe('FileSecretStore', () => {
  it('writes <home>/secrets/accounts/<profile>.json with mode 0600 in a 0700 directory', async () => {
    // Act
    await store.put(secret('alt_01'));

    // Assess
    const dir = accountSecretsDir(home);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(path.join(dir, 'alt_01.json'))).toBe(0o600);
    expect(JSON.parse(await readFile(path.join(dir, 'alt_01.json'), 'utf8'))).toEqual(secret('alt_01'));
  });

  it('tightens a directory someone made with a looser mode', async () => {
    // Prepare
    const dir = accountSecretsDir(home);
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o755);

    // Act
    await store.put(secret('default'));

    // Assess
    expect(await mode(dir)).toBe(0o700);
  });

  it('replaces a secret by renaming a fresh file over it: new inode, still 0600, no temp file left', async () => {
    // Prepare
    await store.put(secret('default'));
    const file = path.join(accountSecretsDir(home), 'default.json');
    await chmod(file, 0o644);
    const before = await stat(file);

    // Act
    await store.put(secret('default', { password: 'second-password' }));

    // Assess
    const after = await stat(file);
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o600);
    expect(await readdir(accountSecretsDir(home))).toEqual(['default.json']);
    expect((await store.get('default'))?.password).toBe('second-password');
  });

  it('never lets a concurrent reader see a partial secret', async () => {
    // Prepare
    await store.put(secret('busy'));
    const long = (i: number) => `pw-${i}-${'x'.repeat(200)}`;
    let reading = true;
    const reads: Promise<number>[] = [];
    const reader = async () => {
      let n = 0;
      while (reading) {
        const s = await store.get('busy');
        expect(s?.password.startsWith('pw-') || s?.password === 'first-password').toBe(true);
        n++;
      }
      return n;
    };
    reads.push(reader(), reader());

    // Act
    for (let i = 0; i < 40; i++) await store.put(secret('busy', { password: long(i) }));
    reading = false;
    const counts = await Promise.all(reads);

    // Assess
    expect(counts.every((n) => n > 0)).toBe(true);
    expect((await store.get('busy'))?.password).toBe(long(39));
    expect((await readdir(accountSecretsDir(home))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('says whether a write created the secret and whether the password changed', async () => {
    // Act
    const first = await store.put(secret('p'));
    const same = await store.put(secret('p', { broker_id: 'other', updated_at: '2025-01-03T00:00:00.000Z' }));
    const changed = await store.put(secret('p', { password: 'another-password' }));

    // Assess
    expect(first).toEqual({ created: true, password_changed: true });
    expect(same).toEqual({ created: false, password_changed: false });
    expect(changed).toEqual({ created: false, password_changed: true });
  });

  it('lists summaries sorted by profile with the id masked and no password, skipping writes in progress', async () => {
    // Prepare
    await store.put(secret('zeta', { account_id: 'zz00112233' }));
    await store.put(secret('alpha', { account_id: 'abc' }));
    await writeFile(path.join(accountSecretsDir(home), 'alpha.json.1234.tmp'), '{"partial":', { mode: 0o600 });

    // Act
    const list = await store.list();

    // Assess
    expect(list).toEqual([
      { profile: 'alpha', broker_id: 'ghsim', account_id_masked: '***', updated_at: '2025-01-02T03:04:05.678Z' },
      { profile: 'zeta', broker_id: 'ghsim', account_id_masked: 'zz***33', updated_at: '2025-01-02T03:04:05.678Z' },
    ]);
    expect(JSON.stringify(list)).not.toContain('first-password');
  });

  it('answers an empty list and null for a home that never stored a secret', async () => {
    // Act
    const list = await store.list();
    const one = await store.get('default');

    // Assess
    expect(list).toEqual([]);
    expect(one).toBeNull();
  });

  it('deletes the file at once and reports whether there was one', async () => {
    // Prepare
    await store.put(secret('gone'));

    // Act
    const first = await store.delete('gone');
    const second = await store.delete('gone');

    // Assess
    expect([first, second]).toEqual([true, false]);
    expect(await store.get('gone')).toBeNull();
    expect(await readdir(accountSecretsDir(home))).toEqual([]);
  });

  it('reports an unreadable secret by file and key, never by its contents', async () => {
    // Prepare
    await store.put(secret('broken'));
    const file = path.join(accountSecretsDir(home), 'broken.json');
    await writeFile(file, JSON.stringify({ ...secret('broken'), password: '', extra: 'leak-me-not' }), { mode: 0o600 });

    // Act
    const err = await store.get('broken').catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(SecretStoreInvalidError);
    const e = err as SecretStoreInvalidError;
    expect(e.message).toContain('accounts/broken.json');
    expect(e.details.keys).toEqual(['password', 'extra']);
    expect(JSON.stringify({ m: e.message, d: e.details })).not.toContain('leak-me-not');
    expect(JSON.stringify({ m: e.message, d: e.details })).not.toContain('acct12345678');
  });

  it('refuses a profile that is not canonical instead of building a path from it', async () => {
    // Act
    const err = await store.get('../etc/passwd').catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(RangeError);
  });
});
