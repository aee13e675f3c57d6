import { describe, expect, it } from 'vitest';
import {
  AccountUpsertSchema,
  accountEnvNames,
  describeAccountConfiguration,
  knownAccountProfiles,
  maskAccountId,
  redactCredentials,
  resolveAccountCredentials,
} from '#shared/domain/control/accounts.ts';
import type { AccountSecret } from '#shared/domain/control/secret-store.ts';
import { zodIssues } from '#shared/domain/control/validation.ts';

const PASSWORD = 'Pw-0f-the-broker!';

/** A secret store holding `secrets` (the port's `get` only, as resolution uses it). */
function storeOf(...secrets: AccountSecret[]) {
  return { get: async (profile: string) => secrets.find((s) => s.profile === profile) ?? null };
}

const stored = (profile: string, over: Partial<AccountSecret> = {}): AccountSecret => ({
  v: 1,
  profile,
  broker_id: 'ghsim',
  account_id: 'stored123456',
  password: 'stored-password',
  updated_at: '2025-01-02T03:04:05.678Z',
  ...over,
});

describe('maskAccountId', () => {
  it.each([
    ['12345678', '12***78'],
    ['123456', '12***56'],
    ['ab@example.com', 'ab***om'],
    ['12345', '***'],
    ['ghsim', '***'],
    ['', '***'],
  ])('masks %j as %j (first two, ***, last two from 6 characters on)', (id, masked) => {
    // Act
    const out = maskAccountId(id);

    // Assess
    expect(out).toBe(masked);
  });

  it('never shows more than four characters of the id', () => {
    // Prepare
    const id = 'abcdefghijklmnopqrstuvwxyz';

    // Act
    const out = maskAccountId(id);

    // Assess
    expect(out.replace('***', '')).toHaveLength(4);
    expect(out).not.toContain('cdef');
  });
});

describe('AccountUpsertSchema', () => {
  it('canonicalises the profile with the one profile rule and trims broker and account ids', () => {
    // Act
    const r = AccountUpsertSchema.parse({
      profile: '  Alt-01 ',
      broker_id: ' ghsim ',
      account_id: ' 12345678 ',
      password: ' keeps spaces ',
    });

    // Assess
    expect(r).toEqual({ profile: 'alt_01', broker_id: 'ghsim', account_id: '12345678', password: ' keeps spaces ' });
  });

  it('accepts a broker id in Chinese, as DIFF broker lists name them', () => {
    // Act
    const r = AccountUpsertSchema.safeParse({ profile: 'p', broker_id: 'H海通期货', account_id: 'a1', password: 'x' });

    // Assess
    expect(r.success).toBe(true);
  });

  it.each([
    ['an empty password', { password: '' }, ['password']],
    ['a password over 256 characters', { password: 'x'.repeat(257) }, ['password']],
    ['a missing password', { password: undefined }, ['password']],
    ['a broker id with a space', { broker_id: 'gh sim' }, ['broker_id']],
    ['an account id with a slash', { account_id: 'a/b' }, ['account_id']],
    ['an account id over 64 characters', { account_id: 'a'.repeat(65) }, ['account_id']],
    ['a profile over 32 characters once canonical', { profile: 'p'.repeat(33) }, ['profile']],
    ['an unknown field', { note: 'x' }, []],
  ])('refuses %s', (_what, over, path) => {
    // Prepare
    const body = { profile: 'alt', broker_id: 'ghsim', account_id: 'acct1234', password: PASSWORD, ...over };

    // Act
    const r = AccountUpsertSchema.safeParse(body);

    // Assess
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(path);
  });

  it('never echoes the password or the account id in its messages', () => {
    // Prepare
    const secretLike = `${'é'.repeat(300)}${PASSWORD}`;

    // Act
    const r = AccountUpsertSchema.safeParse({
      profile: 'alt',
      broker_id: 'ghsim',
      account_id: 'bad id 998877',
      password: secretLike,
    });
    if (r.success) throw new Error('expected the upsert to be refused');
    const text = JSON.stringify(zodIssues(r.error));

    // Assess
    expect(r.error.issues.map((i) => i.path[0]).sort()).toEqual(['account_id', 'password']);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('998877');
  });
});

describe('credential resolution', () => {
  it('names TQ_* for default and TQ_*_<UPPER(p)> for other profiles', () => {
    // Act
    const names = [accountEnvNames('default'), accountEnvNames('alt_01')];

    // Assess
    expect(names).toEqual([
      { broker_id: 'TQ_BROKER_ID', account_id: 'TQ_ACCOUNT_ID', password: 'TQ_ACCOUNT_PASSWORD' },
      { broker_id: 'TQ_BROKER_ID_ALT_01', account_id: 'TQ_ACCOUNT_ID_ALT_01', password: 'TQ_ACCOUNT_PASSWORD_ALT_01' },
    ]);
  });

  it('takes the secret store before a complete environment', async () => {
    // Prepare
    const env = { TQ_BROKER_ID: 'envbroker', TQ_ACCOUNT_ID: 'env12345', TQ_ACCOUNT_PASSWORD: 'env-pw' };

    // Act
    const r = await resolveAccountCredentials('default', { secrets: storeOf(stored('default')), env });

    // Assess
    expect(r).toEqual({
      profile: 'default',
      configured: true,
      source: 'secret_store',
      credentials: { broker_id: 'ghsim', account_id: 'stored123456', password: 'stored-password' },
      missing: [],
    });
  });

  it('falls back to the environment of that profile only, and ignores other profiles’ variables', async () => {
    // Prepare
    const env = {
      TQ_BROKER_ID: 'default-broker',
      TQ_BROKER_ID_ALT: 'alt-broker',
      TQ_ACCOUNT_ID_ALT: 'alt12345',
      TQ_ACCOUNT_PASSWORD_ALT: 'alt-pw',
    };

    // Act
    const alt = await resolveAccountCredentials('alt', { secrets: storeOf(stored('other')), env });
    const def = await resolveAccountCredentials('default', { secrets: storeOf(), env });

    // Assess
    expect(alt).toMatchObject({
      configured: true,
      source: 'env',
      credentials: { broker_id: 'alt-broker', account_id: 'alt12345', password: 'alt-pw' },
    });
    expect(def).toEqual({
      profile: 'default',
      configured: false,
      source: 'env',
      credentials: null,
      missing: ['TQ_ACCOUNT_ID', 'TQ_ACCOUNT_PASSWORD'],
    });
  });

  it('reports source none with all three names when nothing is set; blank values count as unset', async () => {
    // Prepare
    const env = { TQ_BROKER_ID_ALT: '  ', TQ_ACCOUNT_PASSWORD_ALT: '' };

    // Act
    const r = await resolveAccountCredentials('alt', { secrets: null, env });

    // Assess
    expect(r).toEqual({
      profile: 'alt',
      configured: false,
      source: 'none',
      credentials: null,
      missing: ['TQ_BROKER_ID_ALT', 'TQ_ACCOUNT_ID_ALT', 'TQ_ACCOUNT_PASSWORD_ALT'],
    });
  });

  it('describes a configuration with the same precedence, the id masked and never a password', () => {
    // Prepare
    const env = { TQ_BROKER_ID: 'envbroker', TQ_ACCOUNT_ID: 'env1234567', TQ_ACCOUNT_PASSWORD: 'env-pw' };

    // Act
    const fromStore = describeAccountConfiguration(
      'default',
      { broker_id: 'ghsim', account_id_masked: 'st***56' },
      env,
    );
    const fromEnv = describeAccountConfiguration('default', null, env);
    const partial = describeAccountConfiguration('alt', null, { TQ_ACCOUNT_ID_ALT: 'abc' });

    // Assess
    expect(fromStore).toEqual({
      configured: true,
      source: 'secret_store',
      broker_id: 'ghsim',
      account_id_masked: 'st***56',
      missing: [],
    });
    expect(fromEnv).toEqual({
      configured: true,
      source: 'env',
      broker_id: 'envbroker',
      account_id_masked: 'en***67',
      missing: [],
    });
    expect(partial).toEqual({
      configured: false,
      source: 'env',
      broker_id: null,
      account_id_masked: '***',
      missing: ['TQ_BROKER_ID_ALT', 'TQ_ACCOUNT_PASSWORD_ALT'],
    });
    expect(JSON.stringify([fromStore, fromEnv, partial])).not.toContain('env-pw');
  });
});

describe('knownAccountProfiles', () => {
  it('is default plus GHTRADER_TQ_ACCOUNT_PROFILES, canonicalised and deduplicated, in order', () => {
    // Act
    const profiles = knownAccountProfiles({ GHTRADER_TQ_ACCOUNT_PROFILES: ' Alt-01, alt_01 ,DEFAULT,,Prod.Acct#1' });

    // Assess
    expect(profiles).toEqual(['default', 'alt_01', 'prod_acct_1']);
  });

  it('refuses an entry that is no valid profile, naming the variable', () => {
    // Act
    const run = () => knownAccountProfiles({ GHTRADER_TQ_ACCOUNT_PROFILES: `ok,${'x'.repeat(40)}` });

    // Assess
    expect(run).toThrow(/GHTRADER_TQ_ACCOUNT_PROFILES entry "x{40}"/);
  });
});

describe('redactCredentials', () => {
  it('replaces the account id by its mask and the password by ***, URL-encoded forms too', () => {
    // Prepare
    const creds = { account_id: 'user@corp.cn', password: 'p w&d' };
    const text = 'login of user@corp.cn refused; GET /b.json?account_id=user%40corp.cn&pw=p%20w%26d (p w&d)';

    // Act
    const out = redactCredentials(text, creds);

    // Assess
    expect(out).toBe('login of us***cn refused; GET /b.json?account_id=us***cn&pw=*** (***)');
  });
});
