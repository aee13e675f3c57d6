/**
 * Managed keys declared by the data chain (`data-chain.md`) and the trading chain (`trading-chain.md`), registered
 * with the type, default and bounds those specs state (control-chain §5.3, last rows). The control-chain keys live in
 * `config-registry.ts` (`CONTROL_KEYS`) and are not repeated here (the registry throws on duplicates).
 *
 * Where the data-chain code (`shared/domain/data/settings.ts` and its callers) and the spec disagree, the registry
 * follows the code, which is tested; each such entry says so. The code clamps out-of-range values, the registry rejects
 * them: the code's clamp floor/ceiling is used as the registry bound. Keys the code resolves through
 * `settingKeys(key, variety)` (`<KEY>_<VAR>` before `<KEY>`) declare `scopes: ['var']`.
 *
 * Deliberately NOT registered (env-only or deployment wiring, control-chain §5.2):
 * - `TQ_CONT_TABLE_URL`, `TQ_CHINESE_HOLIDAY_URL` (data-chain §4.1, §3.1): env-only (`TQ_` prefix, `_URL` suffix).
 * - `TQ_BROKER_ID`, `TQ_ACCOUNT_ID`, `TQ_ACCOUNT_PASSWORD` (+ `_<PROFILE>`), `TQSDK_USER`, `TQSDK_PASSWORD`
 *   (trading-chain §1): credentials, env-only.
 * - `GHTRADER_ZMQ_PUB_ENDPOINT`, `GHTRADER_ZMQ_ROUTER_ENDPOINT` (trading-chain §4): env-only (`_ENDPOINT` suffix).
 * - `GHTRADER_LIVE_ENABLED`, `GHTRADER_HOME`, `GHTRADER_TICKSTORE`, `GHTRADER_QUESTDB_HTTP`: env-only by name.
 * - `GHTRADER_TQ_ACCOUNT_PROFILES` (trading-chain §1): the set of accounts is deployment wiring tied to the env-only
 *   `TQ_*` credentials of each profile; a profile added in config without its credentials could not run.
 * - `GHTRADER_GATEWAY_METRICS_PORT`, `GHTRADER_STRATEGY_METRICS_PORT` (`GHTRADER_<COMPONENT>_METRICS_PORT`,
 *   trading-chain §13): a listening port is process wiring, like the ZMQ endpoints.
 * - `GHTRADER_DIFF_*` (market-protocol §1.2: `_AUTH_URL`, `_MD_URL`, `_TD_URL`, `_NS_URL`, `_FILES_URL`, `_USER`,
 *   `_PASSWORD`, `_CLIENT_SECRET`, `_TOKEN`, `_FRAME_LOG`, `_BACKOFF_BASE_MS`, `_RESYNC_TIMEOUT_S`,
 *   `_ORDER_ACK_TIMEOUT_S`, `_STALL_S`, `_READY_TIMEOUT_S`, `_HTTP_TIMEOUT_S`): DIFF connection settings, read once
 *   from the environment by `loadDiffConfig`. This includes `GHTRADER_DIFF_PAGE_TIMEOUT_S` (data-chain §5.2, default
 *   30): the code does not read that key at all — the page wait uses `GHTRADER_DIFF_READY_TIMEOUT_S` (default 60).
 * - Deployment wiring read by `shared/config.ts` / the composition roots: `GHTRADER_ARTIFACTS_BUCKET`,
 *   `GHTRADER_RESOURCE_PREFIX`, `GHTRADER_TABLE_<ID>` (table names), `GHTRADER_JOBS_QUEUE_URL` / `_DLQ_URL` (queues),
 *   `GHTRADER_REDIS_PREFIX`, `GHTRADER_REDIS_ENABLED`, `GHTRADER_CURSOR_SECRET`, `GHTRADER_LOG_STDOUT`,
 *   `GHTRADER_ACCOUNT_SECRET_PREFIX` (the Secrets Manager name prefix of broker-account secrets, set by CDK).
 */
import { bool, type ConfigKeyDef, float, int } from './config-keys.ts';

const VAR = { scopes: ['var'] } as const;

/** data-chain.md: storage (§1), schedule window (§4.1), main_l5 build (§5), L5 start probe (§5.7), validation (§6). */
const DATA_CHAIN_KEYS: readonly ConfigKeyDef[] = [
  // §1.1 / §1.3 QuestDB adapter: read from the environment when the adapter is built, hence `restart`.
  {
    key: 'GHTRADER_QDB_TICKS_PARTITION_BY',
    type: 'enum',
    default: 'DAY',
    // The adapter (and §1.1) accept the unit case-insensitively; the registry enum is exact, so both spellings.
    values: ['DAY', 'MONTH', 'YEAR', 'day', 'month', 'year'],
    apply: 'restart',
    description: 'partition unit of the QuestDB tick table (used when the table is created)',
  },
  // Spec: `=1`, no bounds; code (`parseRetryMax`): an integer 0..10.
  int('GHTRADER_QDB_ILP_RETRY_MAX', 1, 'retries of a QuestDB ILP request after a transport error', {
    min: 0,
    max: 10,
    apply: 'restart',
  }),
  // Resolved per variety by the main_l5 settings, unscoped by the schedule step; the QuestDB adapter's own
  // read-back wait reads the environment once at start.
  float('GHTRADER_HEALTH_WAL_WAIT_S', 30, 'how long a write waits for QuestDB to apply its WAL before read-back', {
    min: 1,
    ...VAR,
  }),

  // §4.1 schedule window start; the legacy unscoped key is the `<KEY>` fallback of `<KEY>_<VAR>`.
  {
    key: 'GHTRADER_L5_START_DATE',
    type: 'date',
    default: null,
    ...VAR,
    description: 'first trading day of the roll schedule (from `ghtrader data l5-start`); unset is an error',
  },
  float('GHTRADER_L5_START_TTL_S', 86_400, 'cache lifetime of the L5 start probe answer', { min: 60 }),

  // §5.1 planning and fan-out (resolved per variety).
  int('GHTRADER_MAIN_L5_DAYS_PER_JOB', 5, 'consecutive days per main_l5 day-batch child job', { min: 1, ...VAR }),
  int('GHTRADER_MAIN_L5_MAX_CONCURRENCY', 4, 'main_l5 day-batch jobs running at once (open provider connections)', {
    min: 1,
    ...VAR,
  }),
  // Spec states no bound; code clamps to ≥ 1.
  float(
    'GHTRADER_MAIN_L5_BUILD_DEADLINE_S',
    21_600,
    'after this long a sweeper finalizes an unfinished main_l5 build',
    {
      min: 1,
      ...VAR,
    },
  ),
  bool('GHTRADER_MAIN_L5_DAILY_AGG_AUTO_REFRESH', true, 'finalize refreshes the main_l5 daily aggregate table', VAR),

  // §5.5 provider retry, maintenance wait and circuit breaker (all resolved per variety). Where the spec states no
  // lower bound the code's clamp floor (0) is used.
  int('GHTRADER_TQ_RETRY_MAX', 3, 'provider errors retried per day before download_failed', { min: 0, ...VAR }),
  float('GHTRADER_TQ_RETRY_BASE_S', 10, 'provider retry backoff base', { min: 0, ...VAR }),
  // Code clamps to max(value, base); the registry rejects a value below the base.
  float('GHTRADER_TQ_RETRY_MAX_S', 300, 'provider retry backoff ceiling', {
    min: 0,
    minOf: { key: 'GHTRADER_TQ_RETRY_BASE_S', factor: 1 },
    ...VAR,
  }),
  float('GHTRADER_TQ_MAINTENANCE_WAIT_S', 2100, 'wait after a provider maintenance error (0 = treat as any error)', {
    min: 0,
    ...VAR,
  }),
  int('GHTRADER_TQ_MAINTENANCE_MAX_RETRIES', 3, 'maintenance waits per day before maintenance_retry_exhausted', {
    min: 0,
    ...VAR,
  }),
  float('GHTRADER_TQ_MAINTENANCE_MAX_TOTAL_WAIT_S', 7200, 'total maintenance wait per day before giving up', {
    min: 0,
    ...VAR,
  }),
  int('GHTRADER_TQ_TIMEOUT_RESET_AFTER', 2, 'timeout attempts before the DIFF session is reconnected', {
    min: 1,
    ...VAR,
  }),
  bool('GHTRADER_TQ_MAINTENANCE_CIRCUIT_ENABLED', true, 'per-build maintenance circuit breaker', VAR),
  int('GHTRADER_TQ_MAINTENANCE_CIRCUIT_THRESHOLD', 3, 'recorded failures that open the maintenance circuit', {
    min: 1,
    ...VAR,
  }),
  // Unset: the code derives max(60, GHTRADER_TQ_MAINTENANCE_WAIT_S).
  float(
    'GHTRADER_TQ_MAINTENANCE_CIRCUIT_COOLDOWN_S',
    null,
    'how long an open circuit stays open (unset = max(60, wait))',
    {
      min: 0,
      ...VAR,
    },
  ),

  // §6.1 validation lock wait (resolved without a variety).
  float(
    'GHTRADER_MAIN_L5_VALIDATE_LOCK_WAIT_TIMEOUT_S',
    3,
    'validation wait for the main_l5 build lock (no preemption)',
    {
      min: 0.1,
    },
  ),
  // §6.2 (new key; the other GHTRADER_L5_VALIDATE_* keys are in CONTROL_KEYS).
  float('GHTRADER_L5_VALIDATE_INVARIANT_BLOCK_RATE', 0.001, 'validation: field-invariant violation rate that blocks', {
    min: 0,
    max: 1,
    ...VAR,
  }),
];

/** trading-chain.md: leases (§2), hot path (§4–§5), state (§6), commands (§8), warm path (§13). */
const TRADING_CHAIN_KEYS: readonly ConfigKeyDef[] = [
  // §2. The spec states no bound: renewals every ttl/3 must land before the ttl − 5 s loss deadline (needs > 7.5 s).
  float('GHTRADER_LEASE_TTL_S', 30, 'trading lease length, renewed every third (≥ 10: spec states no bound)', {
    min: 10,
  }),
  // §4 heartbeat: default 1, min 0.1 (spec).
  float('GHTRADER_GATEWAY_HOT_PATH_HEARTBEAT_S', 1, 'gateway hot-path heartbeat interval (every mode)', { min: 0.1 }),
  // §4 ack timeout: the spec states no bound, only that it must exceed the worst-case handler latency.
  int('GHTRADER_STRATEGY_ACK_TIMEOUT_MS', 500, 'strategy wait for a set_targets ack (≥ 1: spec states no bound)', {
    min: 1,
  }),
  // §5: "> 1.5× heartbeat"; the heartbeat is in seconds, hence 1500 × it in ms (the registry checks ≥).
  int('GHTRADER_STRATEGY_HOT_PATH_TIMEOUT_MS', 2000, 'strategy: silence on SUB this long is a hot-path failure', {
    min: 1,
    minOf: { key: 'GHTRADER_GATEWAY_HOT_PATH_HEARTBEAT_S', factor: 1500 },
  }),
  float(
    'GHTRADER_GATEWAY_STRATEGY_STALE_S',
    5,
    'gateway: no strategy message this long is stale (≥ 1: spec states no bound)',
    {
      min: 1,
    },
  ),
  // §6.
  int('GHTRADER_GATEWAY_STATE_FLUSH_MIN_MS', 100, 'minimum interval between state writes (≥ 1: spec states no bound)', {
    min: 1,
  }),
  // §8 commands.
  float('GHTRADER_GATEWAY_CMD_MAX_AGE_S', 60, 'older commands are rejected stale_command (≥ 1: spec states no bound)', {
    min: 1,
  }),
  int('GHTRADER_GATEWAY_CMD_DEDUPE_MAX_IDS', 20_000, 'command ids kept in the dedupe set', { min: 1 }),
  float('GHTRADER_GATEWAY_CMD_DEDUPE_TTL_S', 86_400, 'a command id seen within this long is a duplicate', { min: 1 }),
  // §13 warm path.
  int(
    'GHTRADER_GATEWAY_REDIS_WRITE_FAIL_STREAK_DEGRADE',
    3,
    'failed Redis state writes in a row that degrade the warm path',
    {
      min: 1,
    },
  ),
];

/** The gateway and strategy runner that read the trading keys are not built yet (issue 6, the trading chain). */
const TRADING_NOT_BUILT = 'read by the account gateway and strategy runner, which this version does not have yet';

export const CHAIN_CONFIG_KEYS: readonly ConfigKeyDef[] = [
  ...DATA_CHAIN_KEYS,
  ...TRADING_CHAIN_KEYS.map((d) => ({ ...d, unused: TRADING_NOT_BUILT })),
];
