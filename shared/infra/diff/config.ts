/**
 * DIFF client configuration (market-protocol §1.2) from an environment record, validated with zod. The process
 * composition root calls `loadDiffConfig(process.env)` once; nothing in this folder reads `process.env` itself.
 * Credentials never appear in an error message or a log line: issues name the key, not the value.
 */
import * as z from 'zod';
import { DiffConfigError } from '#shared/errors/diff.ts';
import pkg from '../../../package.json' with { type: 'json' };

/** `ghtrader <version>`: the User-Agent of every HTTP call and WebSocket upgrade. */
export const USER_AGENT = `ghtrader ${pkg.version}`;

const httpUrl = z.url({ protocol: /^https?$/ });
const wsUrl = z.url({ protocol: /^wss?$/ });
const posNum = (min: number, max = Number.POSITIVE_INFINITY) =>
  z.coerce.number().refine((n) => Number.isFinite(n) && n >= min && n <= max, {
    message: `expected a number in [${min}, ${max}]`,
  });

export const DiffEnvSchema = z.object({
  GHTRADER_DIFF_AUTH_URL: httpUrl.default('https://auth.shinnytech.com'),
  GHTRADER_DIFF_MD_URL: wsUrl.optional(),
  GHTRADER_DIFF_TD_URL: wsUrl.optional(),
  GHTRADER_DIFF_NS_URL: httpUrl.default('https://api.shinnytech.com/ns'),
  GHTRADER_DIFF_FILES_URL: httpUrl.default('https://files.shinnytech.com'),
  GHTRADER_DIFF_USER: z.string().min(1).optional(),
  GHTRADER_DIFF_PASSWORD: z.string().min(1).optional(),
  GHTRADER_DIFF_CLIENT_SECRET: z.string().min(1).optional(),
  GHTRADER_DIFF_TOKEN: z.string().min(1).optional(),
  GHTRADER_DIFF_FRAME_LOG: z.string().min(1).optional(),
  /** Reconnect backoff base (spec: 10 s; tests 50 ms). */
  GHTRADER_DIFF_BACKOFF_BASE_MS: posNum(1, 600_000).default(10_000),
  /** Resync timeout escape (§1.11). */
  GHTRADER_DIFF_RESYNC_TIMEOUT_S: posNum(0.05, 3600).default(30),
  /** Pending-order ack timeout (§1.10). */
  GHTRADER_DIFF_ORDER_ACK_TIMEOUT_S: posNum(0.05, 600).default(5),
  /** Stall watchdog (§1.9). */
  GHTRADER_DIFF_STALL_S: posNum(0.05, 3600).default(30),
  /** Initial readiness and login deadline (§1.8). */
  GHTRADER_DIFF_READY_TIMEOUT_S: posNum(0.05, 3600).default(60),
  /** Per-call HTTP timeout (§1.2). */
  GHTRADER_DIFF_HTTP_TIMEOUT_S: posNum(0.05, 600).default(10),
});
export type DiffEnv = z.infer<typeof DiffEnvSchema>;

export interface DiffConfig {
  authUrl: string;
  mdUrl: string | undefined;
  tdUrl: string | undefined;
  nsUrl: string;
  filesUrl: string;
  user: string | undefined;
  password: string | undefined;
  clientSecret: string | undefined;
  token: string | undefined;
  frameLogPath: string | undefined;
  backoffBaseMs: number;
  resyncTimeoutMs: number;
  orderAckTimeoutMs: number;
  stallMs: number;
  readyTimeoutMs: number;
  httpTimeoutMs: number;
}

/** Build the DIFF configuration; blank values count as unset. Throws `DiffConfigError` naming the bad keys. */
export function loadDiffConfig(env: Record<string, string | undefined>): DiffConfig {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(DiffEnvSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') cleaned[key] = v.trim();
  }
  const parsed = DiffEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new DiffConfigError(`invalid DIFF configuration: ${issues.join('; ')}`, { issues });
  }
  const e = parsed.data;
  return {
    authUrl: e.GHTRADER_DIFF_AUTH_URL.replace(/\/+$/, ''),
    mdUrl: e.GHTRADER_DIFF_MD_URL,
    tdUrl: e.GHTRADER_DIFF_TD_URL,
    nsUrl: e.GHTRADER_DIFF_NS_URL,
    filesUrl: e.GHTRADER_DIFF_FILES_URL.replace(/\/+$/, ''),
    user: e.GHTRADER_DIFF_USER,
    password: e.GHTRADER_DIFF_PASSWORD,
    clientSecret: e.GHTRADER_DIFF_CLIENT_SECRET,
    token: e.GHTRADER_DIFF_TOKEN,
    frameLogPath: e.GHTRADER_DIFF_FRAME_LOG,
    backoffBaseMs: e.GHTRADER_DIFF_BACKOFF_BASE_MS,
    resyncTimeoutMs: e.GHTRADER_DIFF_RESYNC_TIMEOUT_S * 1000,
    orderAckTimeoutMs: e.GHTRADER_DIFF_ORDER_ACK_TIMEOUT_S * 1000,
    stallMs: e.GHTRADER_DIFF_STALL_S * 1000,
    readyTimeoutMs: e.GHTRADER_DIFF_READY_TIMEOUT_S * 1000,
    httpTimeoutMs: e.GHTRADER_DIFF_HTTP_TIMEOUT_S * 1000,
  };
}

/**
 * The configuration pointing at our simulator (base URL + dev token) through AUTH/NS/FILES discovery, as in
 * production; other `GHTRADER_DIFF_*` tunables from `env` apply, credentials and fixed MD/TD URLs do not.
 */
export function simDiffConfig(
  sim: { url: string; token: string },
  env: Record<string, string | undefined> = {},
): DiffConfig {
  return loadDiffConfig({
    ...env,
    GHTRADER_DIFF_AUTH_URL: sim.url,
    GHTRADER_DIFF_NS_URL: `${sim.url}/ns`,
    GHTRADER_DIFF_FILES_URL: sim.url,
    GHTRADER_DIFF_TOKEN: sim.token,
    GHTRADER_DIFF_MD_URL: undefined,
    GHTRADER_DIFF_TD_URL: undefined,
    GHTRADER_DIFF_USER: undefined,
    GHTRADER_DIFF_PASSWORD: undefined,
  });
}
