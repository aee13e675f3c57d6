/**
 * Endpoint discovery (market-protocol §1.2): the md URL from the name service, the trade URL from the broker JSON,
 * both skipped when `GHTRADER_DIFF_MD_URL` / `GHTRADER_DIFF_TD_URL` are set. Brokers whose `category` lacks `TQ`
 * and any URL scheme other than ws/wss (`sm*`, `zq*`, ...) are refused.
 */
import { AuthError, DiffConfigError, DiffHttpError } from '#shared/errors/diff.ts';
import type { TokenProvider } from './auth.ts';
import type { DiffConfig } from './config.ts';
import { type HttpResponse, httpJson } from './http.ts';

export interface DiscoveryOptions {
  retryDelayMs?: (attempt: number) => number;
}

/** GET with the bearer token, refreshing once on 401 (a second 401 is an `AuthError`). */
export async function authorizedGet(
  tokens: Pick<TokenProvider, 'accessToken' | 'onUnauthorized' | 'onAuthorized'>,
  url: string,
  cfg: DiffConfig,
  opts: DiscoveryOptions = {},
): Promise<HttpResponse> {
  let token = await tokens.accessToken();
  for (;;) {
    const res = await httpJson({ url, token, timeoutMs: cfg.httpTimeoutMs, retryDelayMs: opts.retryDelayMs });
    if (res.status !== 401) {
      tokens.onAuthorized();
      return res;
    }
    token = await tokens.onUnauthorized(url.split('?')[0] ?? url);
  }
}

function requireWsUrl(url: unknown, what: string): string {
  if (typeof url !== 'string') throw new DiffConfigError(`${what}: no URL in the answer`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DiffConfigError(`${what}: ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new DiffConfigError(`${what}: refusing URL scheme ${parsed.protocol} (only ws:// and wss:// are supported)`, {
      scheme: parsed.protocol,
    });
  }
  return url;
}

/** The md WebSocket URL: `GHTRADER_DIFF_MD_URL`, else `GET <ns>?stock=false&backtest=false` → `mdurl`. */
export async function discoverMdUrl(
  cfg: DiffConfig,
  tokens: TokenProvider,
  opts: DiscoveryOptions = {},
): Promise<string> {
  if (cfg.mdUrl !== undefined) return cfg.mdUrl;
  const url = new URL(cfg.nsUrl);
  url.searchParams.set('stock', 'false');
  url.searchParams.set('backtest', 'false');
  const res = await authorizedGet(tokens, url.toString(), cfg, opts);
  if (res.status !== 200) throw new DiffHttpError(`name service answered HTTP ${res.status}`, res.status);
  const body = res.body as { mdurl?: unknown } | null;
  return requireWsUrl(body?.mdurl, 'name service');
}

export interface BrokerInfo {
  broker_id: string;
  url: string;
  category: string[];
  broker_type: string | undefined;
}

/**
 * The trade WebSocket URL: `GHTRADER_DIFF_TD_URL`, else `GET <files>/<broker_id>.json?account_id=..&auth=<user>`.
 * `auth` is the Shinny user name (not a secret); no token is ever put in the URL.
 */
export async function discoverBroker(
  cfg: DiffConfig,
  tokens: TokenProvider,
  brokerId: string,
  accountId: string,
  opts: DiscoveryOptions = {},
): Promise<BrokerInfo> {
  if (cfg.tdUrl !== undefined) {
    return { broker_id: brokerId, url: cfg.tdUrl, category: ['TQ'], broker_type: undefined };
  }
  const url = new URL(`${cfg.filesUrl}/${encodeURIComponent(brokerId)}.json`);
  url.searchParams.set('account_id', accountId);
  const claims = await tokens.claims().catch((err: unknown) => {
    if (err instanceof AuthError) throw err;
    return undefined;
  });
  url.searchParams.set('auth', cfg.user ?? claims?.sub ?? '');
  const res = await authorizedGet(tokens, url.toString(), cfg, opts);
  if (res.status === 404)
    throw new DiffConfigError(`broker ${brokerId} is unknown to the files service`, { broker_id: brokerId });
  if (res.status !== 200) throw new DiffHttpError(`broker JSON answered HTTP ${res.status}`, res.status);
  const entry = (res.body as Record<string, unknown> | null)?.[brokerId] as Record<string, unknown> | undefined;
  if (entry === undefined || typeof entry !== 'object' || entry === null) {
    throw new DiffConfigError(`broker JSON has no entry for ${brokerId}`, { broker_id: brokerId });
  }
  const category = Array.isArray(entry.category)
    ? entry.category.filter((c): c is string => typeof c === 'string')
    : [];
  if (!category.includes('TQ')) {
    throw new DiffConfigError(`broker ${brokerId} does not support TQ (category ${JSON.stringify(category)})`, {
      broker_id: brokerId,
      category,
    });
  }
  return {
    broker_id: brokerId,
    url: requireWsUrl(entry.url, `broker ${brokerId}`),
    category,
    broker_type: typeof entry.broker_type === 'string' ? entry.broker_type : undefined,
  };
}

/** `"sim"` for a loopback URL (the simulator), else `"shinny"`; the gateway's live-trading gate reads it. */
export function endpointKind(url: string): 'sim' | 'shinny' {
  const host = new URL(url).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1' ? 'sim' : 'shinny';
}
