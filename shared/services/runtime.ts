/**
 * Composition of every adapter and service from one `AppConfig`: used by Lambda module scope, the local stack,
 * the CLI and the integration tests, so all of them run the same wiring.
 */
import os from 'node:os';
import path from 'node:path';
import type { AppConfig } from '../config.ts';
import { JobCounters } from '../domain/control/job-counters.ts';
import type { WorkerInfo } from '../domain/control/jobs.ts';
import type { SecretStore } from '../domain/control/secret-store.ts';
import type { ArtifactStore } from '../domain/data/artifacts.ts';
import { ulidGen } from '../domain/ids.ts';
import { systemClock } from '../domain/time.ts';
import { LocalArtifactStore } from '../infra/artifacts/local.ts';
import { DynamoAccountStateStore } from '../infra/aws/account-state.ts';
import { DynamoAuditLog } from '../infra/aws/audit-log.ts';
import { lookupQueueUrls, type QueueUrls } from '../infra/aws/bootstrap.ts';
import { type AwsClients, createAwsClients, secretsManagerClientFor } from '../infra/aws/clients.ts';
import { DynamoConfigStore } from '../infra/aws/config-store.ts';
import { DynamoDesiredStore } from '../infra/aws/desired-store.ts';
import { SqsJobQueue } from '../infra/aws/job-queue.ts';
import { DynamoJobStore } from '../infra/aws/job-store.ts';
import { DynamoLockStore } from '../infra/aws/lock-store.ts';
import { SecretsManagerSecretStore } from '../infra/aws/secret-store.ts';
import { DynamoSupervisorTelemetry } from '../infra/aws/supervisor-telemetry.ts';
import { FileSecretStore } from '../infra/local/secret-store.ts';
import { RedisJobEvents } from '../infra/redis/job-events.ts';
import { RedisWarmPath } from '../infra/redis/warm-path.ts';
import type { Logger } from '../log.ts';
import { AccountService } from './account-service.ts';
import { ConfigService } from './config-service.ts';
import { DesiredService } from './desired-service.ts';
import type { JobHandler, JobHandlers } from './job-handlers.ts';
import { JobLogs } from './job-log.ts';
import { JobRecovery } from './job-recovery.ts';
import { JobService } from './job-service.ts';
import { JobWorker } from './job-worker.ts';
import { LiveConfig } from './live-config.ts';
import { systemJobHandlers } from './system-jobs.ts';

export interface Runtime {
  config: AppConfig;
  log: Logger;
  /** Signs list cursors (control-chain §3.1); the services built on this runtime share it. */
  cursorSecret: string;
  clients: AwsClients;
  queueUrls: QueueUrls;
  store: DynamoJobStore;
  queue: SqsJobQueue;
  locks: DynamoLockStore;
  audit: DynamoAuditLog;
  warm: RedisWarmPath;
  events: RedisJobEvents;
  /** Where job logs (and, locally, the data chain's artifacts) live; null when this process has none. */
  artifacts: ArtifactStore | null;
  /** Job logs on `artifacts` (control-chain §4.6): written by this runtime's workers, read by `jobs`. */
  jobLogs: JobLogs | null;
  jobs: JobService;
  /** Config revisions (control-chain §5); `bootstrap()` puts the baseline revision. */
  configService: ConfigService;
  /**
   * The config head this process applies (control-chain §5.4), loaded before `createRuntime` returns: live keys are
   * read per use through it, `restart` keys once by the composition root.
   */
  live: LiveConfig;
  /** Desired gateway/strategy documents (control-chain §6.1) and the supervisors' telemetry (§6.2). */
  desiredStore: DynamoDesiredStore;
  desired: DesiredService;
  supervisorTelemetry: DynamoSupervisorTelemetry;
  /**
   * Broker-account secrets (control-chain §2): files under `$GHTRADER_HOME/secrets/accounts/` locally, AWS Secrets
   * Manager when `GHTRADER_ACCOUNT_SECRET_PREFIX` is set; null in a process that has neither (see `RuntimeOptions`).
   */
  secrets: SecretStore | null;
  /** Per-profile account state in TradingState (`account#<profile>`: the last verification). */
  accountStates: DynamoAccountStateStore;
  handlers: JobHandlers;
  /** Register more kinds' handlers (data chain, …) before workers start; a kind registered twice is an error. */
  addHandlers(more: JobHandlers): void;
  recovery: JobRecovery;
  hostId: string;
  /** A worker that stamps `runner` on the attempts it claims. */
  worker(runner: WorkerInfo['runner']): JobWorker;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Queue URLs when already known (bootstrap); else from config, else looked up by name. */
  queueUrls?: QueueUrls;
  /** Secret for list cursors; required unless config carries one. */
  cursorSecret?: string;
  /**
   * The artifact store of job logs: default the local one under `$GHTRADER_HOME/artifacts` (the data chain's root);
   * Lambda passes its S3 bucket, or null when the deployment names none.
   */
  artifacts?: ArtifactStore | null;
  /**
   * The broker-account secret store: default `secretStoreFor(config)`; Lambda passes the Secrets Manager store, or
   * null when the deployment names no prefix (its file system is read-only and per container).
   */
  secrets?: SecretStore | null;
}

/**
 * The secret store of a process: AWS Secrets Manager under `GHTRADER_ACCOUNT_SECRET_PREFIX` when it is set (a
 * deployed stage, or an operator's shell pointed at one), else one 0600 file per profile under the home.
 */
export function secretStoreFor(config: AppConfig): SecretStore {
  return config.accountSecretPrefix
    ? new SecretsManagerSecretStore(secretsManagerClientFor(config), config.accountSecretPrefix)
    : FileSecretStore.forHome(config.home);
}

export async function createRuntime(config: AppConfig, log: Logger, opts: RuntimeOptions = {}): Promise<Runtime> {
  const clients = createAwsClients(config);
  const queueUrls =
    opts.queueUrls ??
    (config.aws.jobsQueueUrl && config.aws.jobsDlqUrl
      ? { jobs: config.aws.jobsQueueUrl, jobsDlq: config.aws.jobsDlqUrl }
      : await lookupQueueUrls(clients.sqs, config.resourcePrefix));
  const cursorSecret = opts.cursorSecret ?? config.auth.cursorSecret;
  if (!cursorSecret) throw new Error('GHTRADER_CURSOR_SECRET is required (≥ 16 characters) to sign list cursors');
  const clock = systemClock;
  if (config.unknownEnvKeys.length > 0) {
    log.warn({ keys: config.unknownEnvKeys }, 'config.unknown_env_key');
  }
  const store = new DynamoJobStore(clients.doc, config.tables.jobs);
  const queue = new SqsJobQueue(clients.sqs, queueUrls.jobs, queueUrls.jobsDlq);
  const locks = new DynamoLockStore(clients.doc, config.tables.locks, clock);
  const warm = new RedisWarmPath({
    url: config.redis.url,
    prefix: config.redis.prefix,
    enabled: config.redis.enabled,
    log: log.child({ component: 'redis' }),
  });
  // Every stored entry goes out on `audit:updates` (operators' `audit` topic; the console's audit cache).
  const audit = new DynamoAuditLog(clients.doc, config.tables.audit, clock, ulidGen, (entry) =>
    warm.publish('audit:updates', entry),
  );
  const events = new RedisJobEvents(warm);
  const counters = new JobCounters();
  const artifacts =
    opts.artifacts === undefined ? new LocalArtifactStore(path.join(config.home, 'artifacts')) : opts.artifacts;
  const jobLogs = artifacts ? new JobLogs({ store: artifacts, clock }) : null;
  const configService = new ConfigService({
    store: new DynamoConfigStore(clients.doc, config.tables.config),
    audit,
    publish: (channel, message) => warm.publish(channel, message),
    clock,
    log: log.child({ component: 'config' }),
    env: config.env,
    cursorSecret,
  });
  const live = new LiveConfig({ configService, env: config.env, clock, log: log.child({ component: 'config' }) });
  const jobs = new JobService(
    {
      store,
      queue,
      audit,
      events,
      clock,
      ids: ulidGen,
      log: log.child({ component: 'jobs' }),
      cursorSecret,
      counters,
      logs: jobLogs,
      // Kinds that must not run beside a trading process are refused at submission while its lease is held.
      locks,
      // Each job records the config revision it was submitted under (control-chain §4.1).
      configHead: () => configService.current(),
    },
    {
      get progressStaleS() {
        return live.overProcess('GHTRADER_JOBS_PROGRESS_STALE_S', config.jobs.progressStaleS);
      },
    },
  );
  const handlers: Record<string, JobHandler> = {
    ...systemJobHandlers({ doc: clients.doc, tables: config.tables, queue, warm, audit, clock }),
  };
  const hostId = config.hostId ?? os.hostname();
  const desiredStore = new DynamoDesiredStore(clients.doc, config.tables.config);
  const supervisorTelemetry = new DynamoSupervisorTelemetry(clients.doc, config.tables.tradingState);
  const secrets = opts.secrets === undefined ? secretStoreFor(config) : opts.secrets;
  const accountStates = new DynamoAccountStateStore(clients.doc, config.tables.tradingState);
  const desired = new DesiredService({
    store: desiredStore,
    telemetry: supervisorTelemetry,
    configService,
    env: config.env,
    audit,
    warm,
    clock,
    log: log.child({ component: 'desired' }),
    hostId,
  });
  // The head this process starts with (revision 1 is put if the log is empty): `restart` keys are read from it now.
  await live.fresh();
  const recovery = new JobRecovery({
    store,
    queue,
    events,
    clock,
    log: log.child({ component: 'job-recovery' }),
    // The queue's redrive count is set where the queue is made (CDK, `ensureQueues`), so it stays the env value.
    settings: {
      leaseS: live.overProcess('GHTRADER_JOBS_LEASE_S', config.jobs.leaseS),
      maxReceiveCount: config.jobs.maxReceiveCount,
    },
  });
  return {
    config,
    log,
    cursorSecret,
    clients,
    queueUrls,
    store,
    queue,
    locks,
    audit,
    warm,
    events,
    artifacts,
    jobLogs,
    jobs,
    configService,
    live,
    desiredStore,
    desired,
    supervisorTelemetry,
    secrets,
    accountStates,
    handlers,
    addHandlers(more) {
      for (const [kind, h] of Object.entries(more)) {
        if (handlers[kind]) throw new Error(`job handler for ${kind} is registered twice`);
        handlers[kind] = h;
      }
    },
    recovery,
    hostId,
    worker: (runner) =>
      new JobWorker({
        store,
        queue,
        locks,
        events,
        handlers,
        clock,
        log: log.child({ component: 'jobs-worker' }),
        hostId,
        runner,
        counters,
        ...(jobLogs ? { jobLogs } : {}),
        ...(artifacts ? { artifacts } : {}),
        // A fresh read per claim: a revision written just before the job was submitted is the one it runs against.
        configHead: async () => {
          const { revision, config_hash, snapshot } = await configService.current(0);
          return { revision, config_hash, snapshot };
        },
        // `restart` keys (heartbeat, lease, cancel grace, retry delay) as this worker starts; lock waits live.
        settings: {
          heartbeatS: live.overProcess('GHTRADER_JOBS_HEARTBEAT_S', config.jobs.heartbeatS),
          leaseS: live.overProcess('GHTRADER_JOBS_LEASE_S', config.jobs.leaseS),
          cancelGraceS: live.overProcess('GHTRADER_JOBS_CANCEL_GRACE_S', config.jobs.cancelGraceS),
          retryDelayS: live.overProcess('GHTRADER_JOBS_RETRY_DELAY_S', config.jobs.retryDelayS),
          get lockWaitTimeoutS() {
            return live.overProcess('GHTRADER_LOCK_WAIT_TIMEOUT_S', config.jobs.lockWaitTimeoutS);
          },
          get lockPollIntervalS() {
            return live.overProcess('GHTRADER_LOCK_POLL_INTERVAL_S', config.jobs.lockPollIntervalS);
          },
          get sourceSlots() {
            return live.number('GHTRADER_MAX_PARALLEL_TQSDK_JOBS');
          },
          get progressEveryS() {
            return live.number('GHTRADER_PROGRESS_EVERY_S');
          },
          get progressEveryN() {
            return live.number('GHTRADER_PROGRESS_EVERY_N');
          },
        },
      }),
    async close() {
      live.close();
      await warm.close();
      secrets?.close();
      clients.destroy();
    },
  };
}

/**
 * The account service of a composition root over its runtime (the API, the console and `ghtrader accounts`):
 * `simulatorBrokerId` is the broker the local simulator serves when this process's DIFF connection points at it
 * (`ghtrader up`), else null.
 */
export function createAccountService(rt: Runtime, o: { simulatorBrokerId: string | null }): AccountService {
  return new AccountService({
    secrets: rt.secrets,
    states: rt.accountStates,
    env: rt.config.env,
    locks: rt.locks,
    jobs: rt.jobs,
    desired: rt.desired,
    telemetry: rt.supervisorTelemetry,
    audit: rt.audit,
    clock: systemClock,
    log: rt.log.child({ component: 'accounts' }),
    simulatorBrokerId: o.simulatorBrokerId,
  });
}
