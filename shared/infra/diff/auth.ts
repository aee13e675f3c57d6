/**
 * Shinny authentication (market-protocol §1.3): OIDC password grant and refresh, JWT claims decoded without
 * verifying the signature, feature checks, grant info and account binding.
 *
 * Refresh policy: at 80% of the token lifetime (timer, unref'd) and once on an HTTP 401; a second consecutive 401 is
 * a fatal `AuthError`. A ready token (`GHTRADER_DIFF_TOKEN`) cannot be refreshed: its first 401 is fatal.
 * No token value ever reaches a log line or an error message.
 */
import * as z from 'zod';
import { AuthError, DiffConfigError, MissingFeatureError } from '#shared/errors/diff.ts';
import { type Logger, silentLogger } from '#shared/log.ts';
import type { DiffConfig } from './config.ts';
import { httpJson } from './http.ts';

const TOKEN_PATH = '/auth/realms/shinnytech/protocol/openid-connect/token';
const GRANT_PATH = '/auth/realms/shinnytech/rest/get-grant/tq';
const BIND_PATH = '/auth/realms/shinnytech/rest/update-grant-accounts/';

export const JwtClaimsSchema = z.object({
  sub: z.string().default(''),
  exp: z.number().optional(),
  grants: z
    .object({
      features: z.array(z.string()).default([]),
      accounts: z.array(z.string()).default([]),
    })
    .default({ features: [], accounts: [] }),
});
export type JwtClaims = z.infer<typeof JwtClaimsSchema>;

/** Decode a JWT's payload without verifying the signature (the server verifies it; we only read grants). */
export function decodeJwtClaims(token: string): JwtClaims {
  const parts = token.split('.');
  const payload = parts[1];
  if (parts.length < 2 || payload === undefined) throw new AuthError('the access token is not JWT-shaped');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch (err) {
    throw new AuthError('the access token payload is not base64url JSON', undefined, { cause: err });
  }
  const parsed = JwtClaimsSchema.safeParse(json);
  if (!parsed.success) throw new AuthError(`unexpected JWT claims: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Throw `MissingFeatureError` unless the claims grant `feature` (`futr`, `tq_dl`, ...). */
export function requireFeature(claims: JwtClaims, feature: string): void {
  if (!claims.grants.features.includes(feature)) throw new MissingFeatureError(feature, claims.grants.features);
}

/** Whether the claims allow trading `accountId` (`"*"` = any). */
export function accountGranted(claims: JwtClaims, accountId: string): boolean {
  return claims.grants.accounts.includes('*') || claims.grants.accounts.includes(accountId);
}

const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().optional(),
  expires_in: z.number().positive().optional(),
});

export interface GrantInfo {
  exp: number | undefined;
  daysleft: number | undefined;
  account_type: string | undefined;
}

export interface TokenProviderOptions {
  logger?: Logger;
  /** Retry delay for HTTP calls (tests shorten it). */
  retryDelayMs?: (attempt: number) => number;
}

/** Holds the current access token and refreshes it; one instance per process and Shinny user. */
export class TokenProvider {
  private access: string | undefined;
  private refreshToken: string | undefined;
  private claimsCache: JwtClaims | undefined;
  private timer: NodeJS.Timeout | undefined;
  private consecutive401 = 0;
  private readonly log: Logger;

  constructor(
    private readonly cfg: DiffConfig,
    private readonly options: TokenProviderOptions = {},
  ) {
    this.log = options.logger ?? silentLogger();
    if (cfg.token !== undefined) this.access = cfg.token;
  }

  /** True when the token was given ready-made (no OIDC calls, no refresh). */
  get isStatic(): boolean {
    return this.cfg.token !== undefined;
  }

  /** The current access token, obtaining one by password grant on first use. */
  async accessToken(): Promise<string> {
    if (this.access !== undefined) return this.access;
    await this.passwordGrant();
    if (this.access === undefined) throw new AuthError('the token endpoint returned no access_token');
    return this.access;
  }

  /** Claims of the current token. */
  async claims(): Promise<JwtClaims> {
    const token = await this.accessToken();
    if (this.claimsCache === undefined) this.claimsCache = decodeJwtClaims(token);
    return this.claimsCache;
  }

  /**
   * Report an HTTP 401 from a server. The first one refreshes (returns the new token); a second consecutive one,
   * or any 401 on a ready-made token, throws `AuthError`.
   */
  async onUnauthorized(where: string): Promise<string> {
    this.consecutive401++;
    if (this.isStatic || this.consecutive401 > 1) {
      throw new AuthError(
        `${where} refused the token (HTTP 401)${this.isStatic ? ' and it cannot be refreshed' : ''}`,
        401,
      );
    }
    await this.refresh();
    return this.accessToken();
  }

  /** Report that a server accepted the token (resets the 401 counter). */
  onAuthorized(): void {
    this.consecutive401 = 0;
  }

  /** `GET get-grant/tq`; warns when fewer than 30 days are left. */
  async grantInfo(): Promise<GrantInfo> {
    const res = await httpJson({
      url: `${this.cfg.authUrl}${GRANT_PATH}`,
      token: await this.accessToken(),
      timeoutMs: this.cfg.httpTimeoutMs,
      retryDelayMs: this.options.retryDelayMs,
    });
    if (res.status === 401 || res.status === 403) throw new AuthError('get-grant refused the token', res.status);
    const b = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as Record<string, unknown>;
    const info: GrantInfo = {
      exp: typeof b.exp === 'number' ? b.exp : undefined,
      daysleft: typeof b.daysleft === 'number' ? b.daysleft : undefined,
      account_type: typeof b.account_type === 'string' ? b.account_type : undefined,
    };
    if (info.daysleft !== undefined && info.daysleft < 30) {
      this.log.warn({ daysleft: info.daysleft }, 'Shinny grant expires in fewer than 30 days');
    }
    return info;
  }

  /** Bind a real broker account to the user when the token's `grants.accounts` lacks it, then refresh. */
  async ensureAccountGranted(accountId: string): Promise<void> {
    if (accountGranted(await this.claims(), accountId)) return;
    const res = await httpJson({
      method: 'PUT',
      url: `${this.cfg.authUrl}${BIND_PATH}${encodeURIComponent(accountId)}`,
      token: await this.accessToken(),
      timeoutMs: this.cfg.httpTimeoutMs,
      retryDelayMs: this.options.retryDelayMs,
    });
    if (res.status >= 400) throw new AuthError(`binding account ${accountId} failed (HTTP ${res.status})`, res.status);
    if (!this.isStatic) await this.refresh();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async passwordGrant(): Promise<void> {
    const { user, password, clientSecret } = this.cfg;
    if (user === undefined || password === undefined) {
      throw new DiffConfigError(
        'DIFF credentials missing: set GHTRADER_DIFF_TOKEN, or GHTRADER_DIFF_USER and GHTRADER_DIFF_PASSWORD',
      );
    }
    const form: Record<string, string> = { grant_type: 'password', username: user, password, client_id: 'shinny_tq' };
    if (clientSecret !== undefined) form.client_secret = clientSecret;
    await this.tokenCall(form, 'password grant');
  }

  private async refresh(): Promise<void> {
    if (this.refreshToken === undefined) {
      await this.passwordGrant();
      return;
    }
    const form: Record<string, string> = {
      grant_type: 'refresh_token',
      refresh_token: this.refreshToken,
      client_id: 'shinny_tq',
    };
    if (this.cfg.clientSecret !== undefined) form.client_secret = this.cfg.clientSecret;
    try {
      await this.tokenCall(form, 'refresh');
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      // An expired refresh token: fall back to the password grant once.
      await this.passwordGrant();
    }
  }

  private async tokenCall(form: Record<string, string>, what: string): Promise<void> {
    const res = await httpJson({
      method: 'POST',
      url: `${this.cfg.authUrl}${TOKEN_PATH}`,
      form,
      timeoutMs: this.cfg.httpTimeoutMs,
      retryDelayMs: this.options.retryDelayMs,
    });
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      throw new AuthError(`OIDC ${what} refused (HTTP ${res.status})`, res.status);
    }
    if (res.status >= 300) throw new AuthError(`OIDC ${what} failed (HTTP ${res.status})`, res.status);
    const parsed = TokenResponseSchema.safeParse(res.body);
    if (!parsed.success) throw new AuthError(`OIDC ${what}: unexpected answer (${parsed.error.issues[0]?.message})`);
    this.access = parsed.data.access_token;
    this.refreshToken = parsed.data.refresh_token ?? this.refreshToken;
    this.claimsCache = undefined;
    this.log.info({ expires_in: parsed.data.expires_in, grant: what }, 'DIFF access token obtained');
    if (this.timer) clearTimeout(this.timer);
    if (parsed.data.expires_in !== undefined) {
      this.timer = setTimeout(
        () => {
          this.refresh().catch((err: unknown) =>
            this.log.error({ err: (err as Error).message }, 'DIFF token refresh failed'),
          );
        },
        parsed.data.expires_in * 1000 * 0.8,
      );
      this.timer.unref();
    }
  }
}
