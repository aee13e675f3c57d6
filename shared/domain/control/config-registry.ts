/**
 * The managed config key registry (control-chain §5.2–§5.3): every key the Config Service may store, with its type,
 * default, bounds, scopes and how a change applies, plus the env-only rules. Pure: `ConfigStore.set`, the resolver,
 * the CLI, the API and the Config page all classify and parse keys through this one module, so they cannot disagree.
 */

import { bool, type ConfigKeyDef, type ConfigValue, float, int } from './config-keys.ts';
import { CHAIN_CONFIG_KEYS } from './config-registry-chains.ts';

export type { ConfigKeyDef, ConfigScope, ConfigType, ConfigValue } from './config-keys.ts';

const VARS = ['CU', 'AU', 'AG'] as const;
const SESSIONS = ['DAY', 'NIGHT'] as const;

// Why some §5.3 keys are read by no code of this version (`ConfigKeyDef.unused`).
const MAIN_L5_FAN_OUT =
  'main_l5 runs its day batches as jobs: GHTRADER_MAIN_L5_MAX_CONCURRENCY bounds them (and the open provider ' +
  'connections), GHTRADER_MAX_PARALLEL_TQSDK_JOBS bounds source-bound jobs overall';
const NO_POOLS =
  'no process keeps a worker pool: a job runs in one runner slot (GHTRADER_RUNNER_CONCURRENCY locally, one Lambda ' +
  'invocation in AWS) and source-bound work is bounded by GHTRADER_MAX_PARALLEL_TQSDK_JOBS';
const NO_QDB_PG =
  'the QuestDB adapter speaks HTTP only (ILP writes, /exec reads) and opens no PG-wire connections to budget';

/** The control-chain §5.3 keys; the data- and trading-chain keys come from `config-registry-chains.ts`. */
const CONTROL_KEYS: readonly ConfigKeyDef[] = [
  int('GHTRADER_MAX_PARALLEL_TQSDK_JOBS', 4, 'concurrent source-bound jobs (slot leases)', { min: 1 }),
  bool(
    'GHTRADER_PIPELINE_ENFORCE_HEALTH',
    true,
    'a data step refuses (health_gate_blocked) when its upstream gate is not ok',
    { scopes: ['var'] },
  ),
  bool('GHTRADER_MAIN_SCHEDULE_ENFORCE_HEALTH', true, 'per-step override of the health gate: the roll schedule', {
    scopes: ['var'],
  }),
  bool('GHTRADER_MAIN_L5_ENFORCE_HEALTH', true, 'per-step override of the health gate: main_l5 promotion', {
    scopes: ['var'],
  }),
  float('GHTRADER_LOCK_WAIT_TIMEOUT_S', 120, 'lock wait before lock_timeout', { min: 1, max: 86400 }),
  float('GHTRADER_LOCK_POLL_INTERVAL_S', 1.0, 'lock retry interval', { min: 0.1 }),
  float('GHTRADER_JOBS_HEARTBEAT_S', 5, 'worker heartbeat', { min: 1, max: 60, apply: 'restart' }),
  float('GHTRADER_JOBS_LEASE_S', 30, 'job lease (at least 3 heartbeats)', {
    minOf: { key: 'GHTRADER_JOBS_HEARTBEAT_S', factor: 3 },
    apply: 'restart',
  }),
  float('GHTRADER_JOBS_CANCEL_GRACE_S', 8, 'cancel grace before a running job is abandoned', {
    min: 1,
    max: 60,
    apply: 'restart',
  }),
  float('GHTRADER_JOBS_PROGRESS_STALE_S', 45, 'progress older than this is stale', { min: 5 }),
  float('GHTRADER_PROGRESS_EVERY_S', 15, 'progress log cadence (seconds)', { min: 0.1 }),
  int('GHTRADER_PROGRESS_EVERY_N', 25, 'progress log cadence (items)', { min: 1 }),
  float('GHTRADER_JOBS_RETRY_DELAY_S', 10, 'a retryable failure comes back after this × attempt seconds', {
    min: 0,
    max: 300,
  }),
  int('GHTRADER_RUNNER_CONCURRENCY', 4, 'jobs the local runner runs at once', { min: 1, max: 64, apply: 'restart' }),
  float('GHTRADER_RECONCILE_INTERVAL_S', 60, 'job reconciler interval', { min: 0.5, max: 3600, apply: 'restart' }),
  int('GHTRADER_MAIN_L5_TOTAL_WORKERS', 0, 'main_l5 fan-out across segments (0 = auto)', {
    min: 0,
    unused: MAIN_L5_FAN_OUT,
  }),
  int('GHTRADER_MAIN_L5_SEGMENT_WORKERS', 0, 'main_l5 fan-out within a segment (0 = auto)', {
    min: 0,
    unused: MAIN_L5_FAN_OUT,
  }),
  int('GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE', 0, 'tolerated missing days in a main_l5 build', {
    min: 0,
    scopes: ['var'],
  }),
  bool('GHTRADER_MAIN_L5_STRICT_PROVENANCE', true, 'rows without provenance fail the build', {
    unused:
      'provenance is always strict: every main_l5 row is written with underlying_contract, segment_id and ' +
      'schedule_hash, and a table or row without them fails (data-chain §1.5, §7.3: there is no non-strict mode)',
  }),
  int('GHTRADER_WORKERS_GLOBAL_MAX', 128, 'worker cap per process', { min: 1, apply: 'restart', unused: NO_POOLS }),
  int('GHTRADER_DIAGNOSE_MAX_WORKERS', 32, 'worker cap: diagnostics', { min: 1, unused: NO_POOLS }),
  int('GHTRADER_DOWNLOAD_MAX_WORKERS', 16, 'worker cap: downloads', { min: 1, unused: NO_POOLS }),
  int('GHTRADER_QUERY_MAX_WORKERS', 64, 'worker cap: queries', { min: 1, unused: NO_POOLS }),
  int('GHTRADER_INDEX_BOOTSTRAP_WORKERS', 32, 'worker cap: index bootstrap', { min: 1, unused: NO_POOLS }),
  int('GHTRADER_QDB_PG_NET_CONNECTION_LIMIT', 512, 'QuestDB PG connection budget', { min: 1, unused: NO_QDB_PG }),
  int('GHTRADER_QDB_CONN_RESERVE', 32, 'QuestDB connections kept in reserve', { min: 0, unused: NO_QDB_PG }),
  int('GHTRADER_DOWNLOAD_QDB_CONN_BUDGET', 0, 'QuestDB connections for downloads (0 = derived)', {
    min: 0,
    unused: NO_QDB_PG,
  }),
  float('GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S', 5.0, 'a gap is longer than this many seconds', {
    min: 0.5,
    scopes: ['var', 'session'],
  }),
  int('GHTRADER_L5_VALIDATE_MAX_SEGMENTS_PER_DAY', 200, 'validation budget: segments per day', {
    min: 10,
    scopes: ['var'],
  }),
  bool('GHTRADER_L5_VALIDATE_TQ_CHECK', true, 'cross-check the source during validation', { scopes: ['var'] }),
  int('GHTRADER_L5_VALIDATE_TQ_CHECK_MAX_DAYS', 2, 'source cross-check: days', { min: 0, scopes: ['var'] }),
  int('GHTRADER_L5_VALIDATE_TQ_CHECK_MAX_SEGMENTS', 8, 'source cross-check: segments', { min: 0, scopes: ['var'] }),
  float('GHTRADER_L5_VALIDATE_STRICT_RATIO', null, 'validation gate: strict ratio', {
    min: 0,
    max: 1,
    scopes: ['var'],
  }),
  float('GHTRADER_L5_VALIDATE_MISSING_HALF_INFO_RATIO', null, 'validation gate: missing half-second info ratio', {
    min: 0,
    max: 1,
    scopes: ['var'],
  }),
  float('GHTRADER_L5_VALIDATE_MISSING_HALF_BLOCK_RATIO', null, 'validation gate: missing half-second block ratio', {
    min: 0,
    max: 1,
    scopes: ['var'],
  }),
  int('GHTRADER_L5_VALIDATE_GAP_BLOCK_GT30', null, 'validation gate: gaps over 30 s that block', {
    min: 0,
    scopes: ['var'],
  }),
  float('GHTRADER_L5_VALIDATE_SEGMENTS_WARN_AVG_PER_DAY', null, 'validation: warn above this average', {
    min: 0,
    scopes: ['var'],
  }),
  int('GHTRADER_L5_VALIDATE_SOURCE_MISSING_DAYS_TOLERANCE', null, 'validation: tolerated source-missing days', {
    min: 0,
    scopes: ['var'],
  }),
  float('GHTRADER_L5_VALIDATE_OUTSIDE_SESSIONS_BLOCK_S', null, 'validation: seconds outside sessions that block', {
    min: 0,
    scopes: ['var'],
  }),
  int('GHTRADER_L5_VALIDATE_REPORT_MAX_DAYS', null, 'validation report size: days', { min: 1, scopes: ['var'] }),
  int('GHTRADER_L5_VALIDATE_REPORT_MAX_EVENTS', null, 'validation report size: events', { min: 1, scopes: ['var'] }),
  int('GHTRADER_L5_VALIDATE_REPORT_SEGMENTS_SAMPLE', null, 'validation report size: sampled segments', {
    min: 0,
    scopes: ['var'],
  }),
  bool('GHTRADER_L5_VALIDATE_SOURCE_BLOCKING', false, 'source problems block promotion', { scopes: ['var'] }),
  bool('GHTRADER_L5_VALIDATE_REPORT_INCLUDE_SEGMENTS', false, 'validation report lists segments', { scopes: ['var'] }),
  int('GHTRADER_RISK_MAX_ABS_POSITION_CAP', 10, 'ceiling for desired max_abs_position', { min: 0 }),
  int('GHTRADER_RISK_MAX_ORDER_SIZE_CAP', 10, 'ceiling for desired max_order_size', { min: 1 }),
  int('GHTRADER_RISK_MAX_OPS_PER_SEC_CAP', 20, 'ceiling for desired max_ops_per_sec', { min: 1 }),
  bool('GHTRADER_RISK_REQUIRE_DAILY_LOSS_FOR_LIVE', true, 'live_trade needs max_daily_loss'),
  float('GHTRADER_SUPERVISOR_POLL_S', 2, 'supervisor reconcile tick', { min: 0.5, max: 30 }),
  float('GHTRADER_SUPERVISOR_STOP_GRACE_S', 30, 'SIGTERM wait before stop_timeout', { min: 1, max: 120 }),
  float('GHTRADER_SUPERVISOR_BACKOFF_BASE_S', 2, 'crash backoff base', { min: 0.5 }),
  float('GHTRADER_SUPERVISOR_BACKOFF_MAX_S', 60, 'crash backoff ceiling', {
    minOf: { key: 'GHTRADER_SUPERVISOR_BACKOFF_BASE_S', factor: 1 },
  }),
  float('GHTRADER_SUPERVISOR_STABLE_AFTER_S', 60, 'a process up this long resets its backoff', { min: 5 }),
  int('GHTRADER_SUPERVISOR_CRASH_BUDGET', 5, 'crashes within the window before crash_loop', { min: 1 }),
  float('GHTRADER_SUPERVISOR_CRASH_WINDOW_S', 600, 'crash budget window', { min: 60 }),
  float('GHTRADER_SUPERVISOR_HEARTBEAT_STALE_S', 15, 'heartbeat older than this is degraded', { min: 2 }),
  float('GHTRADER_SUPERVISOR_HUNG_RESTART_S', 0, 'restart a hung process after this long (0 = never)', { min: 0 }),
  float('GHTRADER_CONSOLE_STALE_S', 30, 'console stale age', { min: 5 }),
  int('GHTRADER_CONSOLE_CACHE_MS', 1000, 'console hot-read cache lifetime (0 = off)', {
    min: 0,
    max: 1000,
    apply: 'restart',
  }),
  int('GHTRADER_SLO_QUEUE_WARN', 64, 'SLO: queue depth warning', { min: 1 }),
  int('GHTRADER_SLO_QUEUE_CRIT', 128, 'SLO: queue depth error', {
    minOf: { key: 'GHTRADER_SLO_QUEUE_WARN', factor: 1 },
  }),
  int('GHTRADER_SLO_SUPERVISOR_TICK_FAIL_CRIT', 10, 'SLO: supervisor tick failures that are an error', { min: 1 }),
  float('GHTRADER_SLO_QUEUE_AGE_WARN_S', 300, 'SLO: oldest queued job age warning', { min: 10 }),
  float('GHTRADER_SLO_MODEL_MAX_AGE_H', 48, 'SLO: newest model older than this is stale', { min: 1 }),
  bool('GHTRADER_SLO_REQUIRE_TICKSTORE', true, 'SLO: tick store down is an error'),
  bool('GHTRADER_SLO_REQUIRE_REDIS', false, 'SLO: Redis down is an error'),
  int('GHTRADER_WS_CLIENT_QUEUE_MAX', 256, 'WebSocket per-client queue', { min: 16, max: 4096 }),
  float('GHTRADER_WS_LAG_CLOSE_S', 30, 'close a WebSocket client lagging this long', { min: 5 }),
  int('GHTRADER_EXPLORER_STATEMENT_TIMEOUT_MS', 5000, 'explorer statement timeout', { min: 100, max: 30000 }),
  int('GHTRADER_EXPLORER_MAX_ROWS', 500, 'explorer row cap', { min: 1, max: 500 }),
  float('GHTRADER_SESSION_IDLE_S', 7200, 'session idle expiry', { min: 60 }),
  float('GHTRADER_SESSION_MAX_S', 43200, 'session absolute expiry', { min: 300 }),
  int('GHTRADER_LOGIN_MAX_FAILURES', 5, 'failed logins per user per window', { min: 1 }),
  float('GHTRADER_LOGIN_WINDOW_S', 900, 'login rate-limit window', { min: 60 }),
  {
    key: 'GHTRADER_LOG_LEVEL',
    type: 'enum',
    default: 'info',
    values: ['debug', 'info', 'warn', 'error'],
    description: 'log level',
  },
];

/** Every managed key, by base key (scoped variants are resolved by `classifyConfigKey`). */
export const CONFIG_REGISTRY: ReadonlyMap<string, ConfigKeyDef> = buildRegistry([
  ...CONTROL_KEYS,
  ...CHAIN_CONFIG_KEYS,
]);

function buildRegistry(defs: readonly ConfigKeyDef[]): Map<string, ConfigKeyDef> {
  const m = new Map<string, ConfigKeyDef>();
  for (const d of defs) {
    if (m.has(d.key)) throw new Error(`config registry declares ${d.key} twice`);
    m.set(d.key, d);
  }
  return m;
}

const ENV_ONLY_PREFIXES = ['TQ_', 'TQSDK_', 'AWS_', 'GHTRADER_JOB_'] as const;
const ENV_ONLY_SUFFIXES = ['_PASSWORD', '_SECRET', '_TOKEN', '_URL', '_ENDPOINT'] as const;
const ENV_ONLY_KEYS: ReadonlySet<string> = new Set([
  'GHTRADER_LIVE_ENABLED',
  'GHTRADER_HOME',
  'GHTRADER_HOST_ID',
  'GHTRADER_TICKSTORE',
  'GHTRADER_QUESTDB_HTTP',
  'GHTRADER_TRUSTED_PROXY_HOPS',
  'REDIS_URL',
]);

/**
 * Deployment wiring and connection settings read from the environment by their own process code (table names, the
 * DIFF connection and its timeouts, the artifacts bucket, metrics ports, test switches): not managed, not refused, and
 * not reported as unknown at startup.
 */
const DEPLOY_ENV_PREFIXES = ['GHTRADER_TABLE_', 'GHTRADER_DIFF_', 'GHTRADER_TEST_'] as const;
const DEPLOY_ENV_KEYS: ReadonlySet<string> = new Set([
  'GHTRADER_ARTIFACTS_BUCKET',
  // The jobs queue's redrive policy: part of the queue (CDK sets it from `definitions.ts`, the local stack at each start
  // from env), so a config revision could never apply it; the DLQ handler reads the same env value.
  'GHTRADER_JOBS_MAX_RECEIVE_COUNT',
  'GHTRADER_LOG_STDOUT',
  'GHTRADER_TQ_ACCOUNT_PROFILES',
  'GHTRADER_GATEWAY_METRICS_PORT',
  'GHTRADER_STRATEGY_METRICS_PORT',
]);

export function isDeployEnvKey(key: string): boolean {
  return DEPLOY_ENV_KEYS.has(key) || DEPLOY_ENV_PREFIXES.some((p) => key.startsWith(p));
}

/** Keys retired from the registry (control-chain §5.3): they classify as `unmanaged` like any unknown key. */
export const RETIRED_CONFIG_KEYS: readonly string[] = [
  'GHTRADER_LOCK_FORCE_CANCEL_ON_TIMEOUT',
  'GHTRADER_LOCK_PREEMPT_GRACE_S',
  'GHTRADER_GATEWAY_SUPERVISOR_POLL_SECONDS',
  'GHTRADER_STRATEGY_SUPERVISOR_POLL_SECONDS',
  'GHTRADER_SLO_GPU_MIN',
  'GHTRADER_SLO_REQUIRE_QUESTDB',
  'GHTRADER_CONFIG_ALLOW_LEGACY_ENV',
];

/** True for keys that live only in the environment (never stored, never listed with values). */
export function isEnvOnlyKey(key: string): boolean {
  return (
    ENV_ONLY_KEYS.has(key) ||
    ENV_ONLY_PREFIXES.some((p) => key.startsWith(p)) ||
    ENV_ONLY_SUFFIXES.some((s) => key.endsWith(s))
  );
}

export type KeyClass =
  | { readonly kind: 'env_only' }
  | { readonly kind: 'unmanaged' }
  | {
      readonly kind: 'managed';
      readonly def: ConfigKeyDef;
      readonly variety?: (typeof VARS)[number];
      readonly session?: (typeof SESSIONS)[number];
    };

/** Classify a key: env-only first, then managed (scoped variants included), else unmanaged (retired keys too). */
export function classifyConfigKey(key: string): KeyClass {
  if (isEnvOnlyKey(key)) return { kind: 'env_only' };
  const exact = CONFIG_REGISTRY.get(key);
  if (exact) return { kind: 'managed', def: exact };
  let base = key;
  let session: (typeof SESSIONS)[number] | undefined;
  let variety: (typeof VARS)[number] | undefined;
  for (const s of SESSIONS) {
    if (base.endsWith(`_${s}`)) {
      session = s;
      base = base.slice(0, -(s.length + 1));
      break;
    }
  }
  for (const v of VARS) {
    if (base.endsWith(`_${v}`)) {
      variety = v;
      base = base.slice(0, -(v.length + 1));
      break;
    }
  }
  const def = CONFIG_REGISTRY.get(base);
  if (!def || (session === undefined && variety === undefined)) return { kind: 'unmanaged' };
  const scopes = def.scopes ?? [];
  if (session !== undefined && !scopes.includes('session')) return { kind: 'unmanaged' };
  if (variety !== undefined && !scopes.includes('var')) return { kind: 'unmanaged' };
  return {
    kind: 'managed',
    def,
    ...(variety === undefined ? {} : { variety }),
    ...(session === undefined ? {} : { session }),
  };
}

/** Candidate keys for a lookup, most specific first: `K_<VAR>_<SESSION>`, `K_<SESSION>`, `K_<VAR>`, `K`. */
export function scopedCandidates(def: ConfigKeyDef, variety?: string, session?: string): string[] {
  const scopes = def.scopes ?? [];
  const v = variety && scopes.includes('var') ? variety.toUpperCase() : undefined;
  const s = session && scopes.includes('session') ? session.toUpperCase() : undefined;
  const out: string[] = [];
  if (v && s) out.push(`${def.key}_${v}_${s}`);
  if (s) out.push(`${def.key}_${s}`);
  if (v) out.push(`${def.key}_${v}`);
  out.push(def.key);
  return out;
}

export type ParsedValue = { ok: true; normalised: string; value: ConfigValue } | { ok: false; message: string };

function describeType(def: ConfigKeyDef): string {
  const bounds: string[] = [];
  if (def.min !== undefined) bounds.push(`≥ ${def.min}`);
  if (def.max !== undefined) bounds.push(`≤ ${def.max}`);
  if (def.minOf) bounds.push(`≥ ${def.minOf.factor === 1 ? '' : `${def.minOf.factor}×`}${def.minOf.key}`);
  const base =
    def.type === 'int'
      ? 'an integer'
      : def.type === 'float'
        ? 'a number'
        : def.type === 'bool'
          ? 'true or false'
          : def.type === 'enum'
            ? `one of ${(def.values ?? []).join(', ')}`
            : def.type === 'date'
              ? 'a date YYYY-MM-DD'
              : 'a string';
  return bounds.length > 0 ? `${base} ${bounds.join(' and ')}` : base;
}

/** The expected type and bounds of a key, in words (error messages, the schema endpoint). */
export function expectedOf(def: ConfigKeyDef): string {
  return describeType(def);
}

/**
 * Parse a value for `def` from text (env, CLI) or JSON (API): the normalised string (bool `true`/`false`, numbers
 * `String(n)`) or a message naming the expected type and bounds. Relations to other keys are checked separately.
 */
export function parseConfigValue(def: ConfigKeyDef, input: unknown): ParsedValue {
  const fail = (): ParsedValue => ({
    ok: false,
    message: `expected ${describeType(def)}, got ${JSON.stringify(input)}`,
  });
  switch (def.type) {
    case 'int':
    case 'float': {
      let n: number;
      if (typeof input === 'number') n = input;
      else if (
        typeof input === 'string' &&
        input.trim() !== '' &&
        /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(input.trim())
      )
        n = Number(input.trim());
      else return fail();
      if (!Number.isFinite(n) || (def.type === 'int' && !Number.isInteger(n))) return fail();
      if ((def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max)) return fail();
      return { ok: true, normalised: String(n), value: n };
    }
    case 'bool': {
      if (typeof input === 'boolean') return { ok: true, normalised: String(input), value: input };
      if (typeof input !== 'string') return fail();
      const t = input.trim().toLowerCase();
      if (t === 'true' || t === '1' || t === 'yes' || t === 'on') return { ok: true, normalised: 'true', value: true };
      if (t === 'false' || t === '0' || t === 'no' || t === 'off')
        return { ok: true, normalised: 'false', value: false };
      return fail();
    }
    case 'enum': {
      if (typeof input !== 'string' || !(def.values ?? []).includes(input.trim())) return fail();
      return { ok: true, normalised: input.trim(), value: input.trim() };
    }
    case 'date': {
      if (typeof input !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(input.trim())) return fail();
      const t = input.trim();
      if (new Date(`${t}T00:00:00Z`).toISOString().slice(0, 10) !== t) return fail();
      return { ok: true, normalised: t, value: t };
    }
    case 'string': {
      if (typeof input !== 'string' || input.trim() === '') return fail();
      return { ok: true, normalised: input.trim(), value: input.trim() };
    }
  }
}

/** The typed value of a normalised string already accepted by `parseConfigValue`. */
export function typedValue(def: ConfigKeyDef, normalised: string): ConfigValue {
  if (def.type === 'int' || def.type === 'float') return Number(normalised);
  if (def.type === 'bool') return normalised === 'true';
  return normalised;
}
