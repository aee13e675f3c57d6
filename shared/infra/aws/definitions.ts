/**
 * The one declaration of every DynamoDB table and SQS queue. The CDK stacks (`cdk/`) and the local bootstrap
 * (`bootstrap.ts`) both build from these objects, so the local and cloud schemas cannot drift.
 *
 * Only features dynalite supports are declared: key schemas, GSIs (projection ALL), on-demand billing. TTL attributes
 * are applied by CDK only and are housekeeping; no code relies on TTL deletion for correctness.
 */

export type AttrType = 'S' | 'N';

export interface KeyAttr {
  name: string;
  type: AttrType;
}

export interface IndexDef {
  name: string;
  partitionKey: KeyAttr;
  sortKey?: KeyAttr;
}

export interface TableDef {
  /** Logical name; the physical name is `<resource prefix><logicalName>`. */
  logicalName: string;
  description: string;
  partitionKey: KeyAttr;
  sortKey?: KeyAttr;
  indexes: IndexDef[];
  /** Epoch-seconds attribute for DynamoDB TTL housekeeping (CDK only). */
  ttlAttribute?: string;
}

const S = (name: string): KeyAttr => ({ name, type: 'S' });
const N = (name: string): KeyAttr => ({ name, type: 'N' });

export const TABLES = {
  jobs: {
    logicalName: 'Jobs',
    description:
      'Job records keyed by job_id (ULID) plus dedupe items `dedupe#<key>`; GSIs by status, var, kind and creation time',
    partitionKey: S('job_id'),
    indexes: [
      { name: 'status-created_at', partitionKey: S('status'), sortKey: S('created_at') },
      { name: 'var-created_at', partitionKey: S('var'), sortKey: S('created_at') },
      { name: 'kind-created_at', partitionKey: S('kind'), sortKey: S('created_at') },
      { name: 'entity-created_at', partitionKey: S('entity'), sortKey: S('created_at') },
    ],
  },
  locks: {
    logicalName: 'Locks',
    description:
      'Lease locks `{key, owner_job_id, fence, expiresAt, shard}` and never-deleted fence counters `fence#<key>`; GSI: every lease (shard `all`, fence counters carry no shard) for `GET /api/locks`',
    partitionKey: S('key'),
    indexes: [{ name: 'shard-key', partitionKey: S('shard'), sortKey: S('key') }],
  },
  config: {
    logicalName: 'Config',
    description: 'Config revisions (pk `config`, numeric sort key revision) and desired-state documents',
    partitionKey: S('pk'),
    sortKey: N('revision'),
    indexes: [],
  },
  migrationLedger: {
    logicalName: 'MigrationLedger',
    description: 'One item per (store, table, migration): pk `<store_id>#<table>`, sk migration_id',
    partitionKey: S('pk'),
    sortKey: S('sk'),
    indexes: [],
  },
  audit: {
    logicalName: 'Audit',
    description: 'Append-only audit entries: pk `audit#<UTC day>`, sk `<ts>#<ulid>`; GSI by actor',
    partitionKey: S('pk'),
    sortKey: S('sk'),
    indexes: [{ name: 'actor-ts', partitionKey: S('actor_id'), sortKey: S('ts') }],
    ttlAttribute: 'expires_at_s',
  },
  tradingState: {
    logicalName: 'TradingState',
    description: 'Coarse component summaries, supervisor telemetry and broadcaster counters',
    partitionKey: S('pk'),
    sortKey: S('sk'),
    indexes: [],
  },
  commands: {
    logicalName: 'Commands',
    description: 'Operator commands per account profile (sk = command_id ULID, so a cursor is a sort-key bound)',
    partitionKey: S('account_profile'),
    sortKey: S('command_id'),
    indexes: [],
  },
  users: {
    logicalName: 'Users',
    description:
      'Identity: users, `username#<name>` uniqueness items, API tokens, sessions, one-time login tokens, rate-limit windows',
    partitionKey: S('pk'),
    indexes: [
      { name: 'type-created_at', partitionKey: S('item_type'), sortKey: S('created_at') },
      { name: 'owner-created_at', partitionKey: S('owner_id'), sortKey: S('created_at') },
    ],
    ttlAttribute: 'expires_at_s',
  },
  riskKill: {
    logicalName: 'RiskKill',
    description: 'Durable risk-kill state per account profile, revisioned with conditional writes',
    partitionKey: S('account_profile'),
    indexes: [],
  },
  wsConnections: {
    logicalName: 'WsConnections',
    description:
      'Open API Gateway WebSocket connections `{connection_id, user_id, role, topics[], expires_at}`; GSIs: every connection (shard `all`) for the broadcaster, per user for the socket limit',
    partitionKey: S('connection_id'),
    indexes: [
      { name: 'shard-connection_id', partitionKey: S('shard'), sortKey: S('connection_id') },
      { name: 'user-connected_at', partitionKey: S('user_id'), sortKey: S('connected_at') },
    ],
    ttlAttribute: 'expires_at_s',
  },
} as const satisfies Record<string, TableDef>;

export type TableId = keyof typeof TABLES;
export const TABLE_IDS = Object.keys(TABLES) as TableId[];

export interface QueueDef {
  logicalName: string;
  description: string;
  /** Must be ≥ the consuming Lambda's timeout (AWS requirement); workers extend it per message while they run. */
  visibilityTimeoutS: number;
  retentionS: number;
  /** The dead-letter queue this queue redrives to, and after how many receives. */
  deadLetter?: { queue: 'jobsDlq'; maxReceiveCount: number };
}

/** Lambda's longest job timeout (control-chain §4: `timeout_s` ≤ 900 on Lambda). */
export const MAX_JOB_TIMEOUT_S = 900;

export const QUEUES = {
  jobsDlq: {
    logicalName: 'jobs-dlq',
    description: 'Messages of jobs that exhausted maxReceiveCount; jobs-dlq marks each job failed (dlq_exhausted)',
    visibilityTimeoutS: 60,
    retentionS: 14 * 24 * 3600,
  },
  jobs: {
    logicalName: 'jobs',
    description: 'Job messages `{v:1, job_id, kind}`; params never travel in messages',
    visibilityTimeoutS: MAX_JOB_TIMEOUT_S + 60,
    retentionS: 4 * 24 * 3600,
    deadLetter: { queue: 'jobsDlq', maxReceiveCount: 3 },
  },
} as const satisfies Record<string, QueueDef>;

export type QueueId = keyof typeof QUEUES;
/** Creation order: dead-letter queues first, so a redrive target always exists. */
export const QUEUE_IDS: QueueId[] = ['jobsDlq', 'jobs'];

/** Physical table name for a resource prefix. */
export function tableName(prefix: string, id: TableId): string {
  return `${prefix}${TABLES[id].logicalName}`;
}

/** Physical queue name for a resource prefix. */
export function queueName(prefix: string, id: QueueId): string {
  return `${prefix}${QUEUES[id].logicalName}`;
}

/** Environment variable through which a deployed function learns a table's physical name. */
export function tableEnvVar(id: TableId): string {
  return `GHTRADER_TABLE_${id.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/**
 * Broker-account secrets in AWS Secrets Manager (control-chain §2): one secret per account profile, named
 * `ghtrader/<stage>/accounts/<profile>`. CDK derives the prefix from the stage, grants on it and passes it to the
 * functions in `ACCOUNT_SECRET_PREFIX_ENV`, the way tables get `tableName` and `tableEnvVar`; a process without that
 * variable keeps its secrets in files under `$GHTRADER_HOME/secrets/accounts/`.
 */
export function accountSecretPrefix(stage: string): string {
  return `ghtrader/${stage}/accounts/`;
}

/** Environment variable through which a deployed function learns the account secrets' name prefix. */
export const ACCOUNT_SECRET_PREFIX_ENV = 'GHTRADER_ACCOUNT_SECRET_PREFIX';

/** The secret name of one profile under a prefix. */
export function accountSecretName(prefix: string, profile: string): string {
  return `${prefix}${profile}`;
}

/**
 * Partition-key prefix of the probe items `system.selftest` writes, reads and deletes in every table. The CDK
 * grants on tables the worker otherwise must not touch (Users, Config, ...) are limited to this prefix.
 */
export const SELFTEST_KEY_PREFIX = 'selftest#';

/**
 * The header CloudFront adds to every request it forwards to the console's APIs, carrying `GHTRADER_ORIGIN_SECRET`
 * (the HTTP app and the WebSocket authorizer refuse requests without it). Defined here for CDK and the app alike.
 */
export const ORIGIN_SECRET_HEADER = 'x-ghtrader-origin';
