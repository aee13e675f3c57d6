/**
 * Broker accounts (control-chain §2 "Broker accounts", trading-chain §1 "Credentials"): the upsert request, the masking
 * rule for account ids, which profiles are known, and where a profile's credentials come from.
 *
 * Credentials are resolved in this order: the `SecretStore` (written by `ghtrader accounts upsert` and
 * `POST /api/accounts/upsert`), then the environment (`TQ_BROKER_ID`, `TQ_ACCOUNT_ID`, `TQ_ACCOUNT_PASSWORD` for
 * `default`; the same names with `_<UPPER(p)>` for profile `p`). A stored secret is always complete; an environment
 * with only some of the three is reported with the names of the missing variables, never their values.
 *
 * Passwords are write-only: no function here returns one except `resolveAccountCredentials`, whose only caller is the
 * code that logs in to the broker. Account ids leave this module masked (`maskAccountId`).
 */
import * as z from 'zod';
import { ProfileSchema } from './desired.ts';
import type { AccountSecret, SecretStore } from './secret-store.ts';

/** A broker id as the DIFF broker list spells it (`ghsim`, `simnow`, `H海通期货`): letters, digits, `_ . -`. */
export const BrokerIdSchema = z
  .string({ error: 'broker_id is required (e.g. ghsim)' })
  .trim()
  .regex(/^[\p{L}\p{N}_.-]{1,64}$/u, 'broker_id: 1..64 letters, digits, "_", "." or "-"');

/** A broker account id (the DIFF `user_name`): ASCII letters, digits and `_ . @ -`. Never echoed in a message. */
export const AccountIdSchema = z
  .string({ error: 'account_id is required' })
  .trim()
  .regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'account_id: 1..64 ASCII letters, digits, "_", ".", "@" or "-"');

/** The broker password: kept exactly as given (no trimming), never echoed in a message. */
export const AccountPasswordSchema = z
  .string({ error: 'password is required' })
  .min(1, 'password must not be empty')
  .max(256, 'password: at most 256 characters');

/** `POST /api/accounts/upsert`, `ghtrader accounts upsert`: the whole credential set of one profile. */
export const AccountUpsertSchema = z.strictObject({
  profile: ProfileSchema,
  broker_id: BrokerIdSchema,
  account_id: AccountIdSchema,
  password: AccountPasswordSchema,
});
export type AccountUpsert = z.infer<typeof AccountUpsertSchema>;

/** `POST /api/accounts/delete`. */
export const AccountDeleteSchema = z.strictObject({ profile: ProfileSchema });

/** Body of `POST /api/accounts/{profile}/verify` (all optional; the profile is the path). */
export const AccountVerifyRequestSchema = z.strictObject({
  timeout_s: z.number().int().min(1).max(60).optional(),
});

/**
 * The account id as it may be shown anywhere (console, API, logs, audit, job results): `ab***yz` when it has at least
 * 6 characters (first two, `***`, last two; trading-chain §2's "first2+***+last2" is the same rule), else `***`.
 *
 * @example maskAccountId('12345678') // '12***78'
 * @example maskAccountId('ghsim') // '***'
 */
export function maskAccountId(accountId: string): string {
  const chars = [...accountId];
  if (chars.length < 6) return '***';
  return `${chars.slice(0, 2).join('')}***${chars.slice(-2).join('')}`;
}

/** Where a profile's credentials come from. */
export const CREDENTIAL_SOURCES = ['secret_store', 'env', 'none'] as const;
export type CredentialSource = (typeof CREDENTIAL_SOURCES)[number];

/** The three environment variables of a profile: unsuffixed for `default`, `_<UPPER(p)>` for any other. */
export function accountEnvNames(profile: string): { broker_id: string; account_id: string; password: string } {
  const suffix = profile === 'default' ? '' : `_${profile.toUpperCase()}`;
  return {
    broker_id: `TQ_BROKER_ID${suffix}`,
    account_id: `TQ_ACCOUNT_ID${suffix}`,
    password: `TQ_ACCOUNT_PASSWORD${suffix}`,
  };
}

type Env = Readonly<Record<string, string | undefined>>;

/** What the environment holds for a profile: the values present (blank = unset) and the names missing. */
function fromEnv(profile: string, env: Env) {
  const names = accountEnvNames(profile);
  const value = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v;
  };
  const broker = value(names.broker_id)?.trim();
  const account = value(names.account_id)?.trim();
  const password = value(names.password);
  const missing = [
    ...(broker === undefined ? [names.broker_id] : []),
    ...(account === undefined ? [names.account_id] : []),
    ...(password === undefined ? [names.password] : []),
  ];
  return { broker, account, password, missing };
}

/** A profile's credentials for the broker login; the only value in ghtrader that carries a password. */
export interface AccountCredentials {
  broker_id: string;
  account_id: string;
  password: string;
}

/** The outcome of credential resolution: complete credentials and their source, or what is missing. */
export type ResolvedAccount =
  | { profile: string; configured: true; source: 'secret_store' | 'env'; credentials: AccountCredentials; missing: [] }
  | { profile: string; configured: false; source: 'env' | 'none'; credentials: null; missing: string[] };

/**
 * The credentials of `profile`: the secret store first, then the environment. `source: "env"` with `configured:
 * false` means some of the three variables are set (`missing` names the others); `"none"`: no secret and no variable.
 * With no secret store in the process (`secrets: null`) only the environment is looked at.
 */
export async function resolveAccountCredentials(
  profile: string,
  deps: { secrets: Pick<SecretStore, 'get'> | null; env: Env },
): Promise<ResolvedAccount> {
  const stored: AccountSecret | null = deps.secrets ? await deps.secrets.get(profile) : null;
  if (stored) {
    const { broker_id, account_id, password } = stored;
    return {
      profile,
      configured: true,
      source: 'secret_store',
      credentials: { broker_id, account_id, password },
      missing: [],
    };
  }
  const e = fromEnv(profile, deps.env);
  if (e.broker !== undefined && e.account !== undefined && e.password !== undefined) {
    return {
      profile,
      configured: true,
      source: 'env',
      credentials: { broker_id: e.broker, account_id: e.account, password: e.password },
      missing: [],
    };
  }
  return {
    profile,
    configured: false,
    source: e.missing.length < 3 ? 'env' : 'none',
    credentials: null,
    missing: e.missing,
  };
}

/** What may be shown about a profile's credentials (never the password, the id masked). */
export interface AccountConfiguration {
  configured: boolean;
  source: CredentialSource;
  broker_id: string | null;
  account_id_masked: string | null;
  /** Names of the missing environment variables when the environment is incomplete; else empty. */
  missing: string[];
}

/**
 * The same precedence as `resolveAccountCredentials`, from the stored secret's summary (which a process that may not
 * read secret values, like the HTTP API in AWS, still gets) and the environment.
 */
export function describeAccountConfiguration(
  profile: string,
  stored: { broker_id: string; account_id_masked: string } | null,
  env: Env,
): AccountConfiguration {
  if (stored) {
    return {
      configured: true,
      source: 'secret_store',
      broker_id: stored.broker_id,
      account_id_masked: stored.account_id_masked,
      missing: [],
    };
  }
  const e = fromEnv(profile, env);
  const configured = e.missing.length === 0;
  return {
    configured,
    source: e.missing.length < 3 ? 'env' : 'none',
    broker_id: e.broker ?? null,
    account_id_masked: e.account === undefined ? null : maskAccountId(e.account),
    missing: e.missing,
  };
}

const PROFILE_LIST_KEY = 'GHTRADER_TQ_ACCOUNT_PROFILES';

/**
 * `default` plus the profiles of `GHTRADER_TQ_ACCOUNT_PROFILES` (CSV, canonicalised, deduplicated; trading-chain §1),
 * in that order. An entry that does not canonicalise to a valid profile (more than 32 characters) is an error naming
 * the variable, not a profile silently left out.
 */
export function knownAccountProfiles(env: Env): string[] {
  const listed = (env[PROFILE_LIST_KEY] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const r = ProfileSchema.safeParse(s);
      if (!r.success) {
        throw new Error(
          `${PROFILE_LIST_KEY} entry ${JSON.stringify(s)} is not a valid profile: ${r.error.issues[0]?.message ?? 'invalid'}`,
        );
      }
      return r.data;
    });
  return [...new Set(['default', ...listed])];
}

/** The last verification of a profile, persisted in TradingState (`account#<profile>`). */
export const LastVerifySchema = z.object({
  ok: z.boolean(),
  verified_at: z.string(),
  /** `"<code>: <message>"` when not ok (account id masked), else null. */
  error: z.string().nullable(),
  /** The `account.verify` job; null for `ghtrader account verify` (run inline, no job record). */
  job_id: z.string().nullable(),
});
export type LastVerify = z.infer<typeof LastVerifySchema>;

/** Port: per-profile account state (adapter `shared/infra/aws/account-state.ts`, TradingState). */
export interface AccountStateStore {
  lastVerify(profile: string): Promise<LastVerify | null>;
  /** Store `v` unless a verification with a later `verified_at` is stored already (then false). */
  recordVerify(profile: string, v: LastVerify): Promise<boolean>;
}

/** Account numbers and counts of a verification: never positions, orders or the account id themselves. */
export interface AccountSnapshotSummary {
  trading_day: string;
  currency: string | null;
  balance: number | null;
  available: number | null;
  margin: number | null;
  frozen_margin: number | null;
  float_profit: number | null;
  position_profit: number | null;
  close_profit: number | null;
  commission: number | null;
  pre_balance: number | null;
  static_balance: number | null;
  risk_ratio: number | null;
  /** Positions with a non-zero long or short volume. */
  positions: number;
  orders: number;
  /** Orders still ALIVE. */
  orders_alive: number;
  trades: number;
}

/** What `account.verify` and `ghtrader account verify` answer (trading-chain §2). */
export interface AccountVerifyResult {
  profile: string;
  /** True when the broker accepted the login and sent the account snapshot. */
  ok: boolean;
  configured: boolean;
  source: CredentialSource;
  verified_at: string;
  error: string | null;
  broker_id: string | null;
  account_id_masked: string | null;
  snapshot: AccountSnapshotSummary | null;
}

/**
 * `text` with every occurrence of the raw account id replaced by its mask and of the password by `***`: for messages
 * of lower layers (discovery URLs, login refusals) that name them. Longest first, so neither hides part of the other.
 */
export function redactCredentials(text: string, c: Pick<AccountCredentials, 'account_id' | 'password'>): string {
  const pairs: [string, string][] = [
    [c.password, '***'],
    [c.account_id, maskAccountId(c.account_id)],
    [encodeURIComponent(c.password), '***'],
    [encodeURIComponent(c.account_id), maskAccountId(c.account_id)],
  ];
  let out = text;
  for (const [raw, masked] of pairs.filter(([raw]) => raw !== '').sort((a, b) => b[0].length - a[0].length)) {
    out = out.split(raw).join(masked);
  }
  return out;
}
