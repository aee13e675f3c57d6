/**
 * The jobs control chain in AWS: the jobs queue and its DLQ (from `QUEUES`), the jobs worker fed by the queue, the
 * jobs-dlq function fed by the DLQ, the reconciler on a one-minute schedule, and an alarm on DLQ depth. Also what the
 * worker's data jobs need besides QuestDB (which these stacks do not provision): the artifacts bucket and the secret
 * holding the Shinny DIFF credentials.
 */
import {
  ArnFormat,
  type CfnElement,
  Duration,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import {
  ACCOUNT_SECRET_PREFIX_ENV,
  accountSecretPrefix,
  MAX_JOB_TIMEOUT_S,
  QUEUES,
  TABLE_IDS,
  type TableId,
  tableEnvVar,
} from '#shared/infra/aws/definitions.ts';
import { AlarmTopic } from '../constructs/alarm-topic.ts';
import { ArtifactsBucket } from '../constructs/artifacts-bucket.ts';
import { GhtraderFunction } from '../constructs/ghtrader-function.ts';
import { JobQueues } from '../constructs/job-queues.ts';
import { QueueDepthAlarm } from '../constructs/queue-depth-alarm.ts';
import { grantSelftestProbe, grantTableAccess, type TableAccess } from '../constructs/table-access.ts';
import type { StageSettings } from '../stage-settings.ts';
import type { GhtraderTables } from './data-stores-stack.ts';

/**
 * The worker's access per table; tables not listed are reachable only through the selftest probe grant.
 * - jobs, locks: the job record (claim, heartbeat, progress, result, requeue) and the job's lease locks.
 * - tradingState, migrationLedger: for jobs that record component summaries and apply store migrations (today only
 *   system.selftest touches them).
 * - config: jobs read the desired configuration; changes go through the console, with an audit entry.
 * - audit: jobs append entries; selftest reads its own entry back. Nothing may change or delete one.
 * - users, commands, riskKill: not for jobs (identity, operator commands and risk-kill belong to the console and colo).
 */
const WORKER_TABLE_ACCESS: Partial<Record<TableId, TableAccess>> = {
  jobs: 'readWrite',
  locks: 'readWrite',
  tradingState: 'readWrite',
  migrationLedger: 'readWrite',
  config: 'read',
  audit: 'appendAndRead',
};

export interface JobsStackProps extends StackProps {
  settings: StageSettings;
  tables: GhtraderTables;
  /** Repository root, for bundling the handlers in `functions/`. */
  repoRoot: string;
}

/** The keys operators put in the DIFF credentials secret (its SecretString is a JSON object of these). */
export const DIFF_SECRET_KEYS = ['user', 'password', 'client_secret'] as const;

export class JobsStack extends Stack {
  readonly queues: JobQueues;
  /** Reports and artifacts of the data jobs (`GHTRADER_ARTIFACTS_BUCKET`). */
  readonly artifactsBucket: Bucket;
  /**
   * Read-only access to job log objects (`jobs/<job_id>/attempt-<n>/<seq>.ndjson`, written by the workers): the hosted
   * console's HTTP API attaches it for `GET /api/jobs/{id}/log` and `/log/download`.
   */
  readonly jobLogReadPolicy: ManagedPolicy;
  /** Server access logs of `artifactsBucket`. */
  readonly artifactsAccessLogs: Bucket;
  /** Shinny DIFF credentials (`GHTRADER_DIFF_SECRET_ID`), filled in by operators after deploy. */
  readonly diffSecret: Secret;
  readonly worker: GhtraderFunction;
  readonly dlqHandler: GhtraderFunction;
  readonly reconciler: GhtraderFunction;
  readonly dlqAlarm: QueueDepthAlarm;

  constructor(scope: Construct, id: string, props: JobsStackProps) {
    super(scope, id, props);
    const { settings, tables, repoRoot } = props;
    const name = (suffix: string) => `${settings.resourcePrefix}${suffix}`;

    this.queues = new JobQueues(this, 'Queues', { resourcePrefix: settings.resourcePrefix });
    const { jobs: jobsQueue, jobsDlq } = this.queues.queues;

    // What every handler reads through `loadConfig`: physical table names, queue URLs, and the prefix the CLI uses.
    const environment: Record<string, string> = {
      ...Object.fromEntries(TABLE_IDS.map((tableId) => [tableEnvVar(tableId), tables[tableId].table.tableName])),
      GHTRADER_RESOURCE_PREFIX: settings.resourcePrefix,
      GHTRADER_JOBS_QUEUE_URL: jobsQueue.queueUrl,
      GHTRADER_JOBS_DLQ_URL: jobsDlq.queueUrl,
      // The handlers' view of when SQS gives up must match the redrive policy built from the same definition.
      GHTRADER_JOBS_MAX_RECEIVE_COUNT: String(QUEUES.jobs.deadLetter.maxReceiveCount),
      ...(settings.redisUrl ? { REDIS_URL: settings.redisUrl } : { GHTRADER_REDIS_ENABLED: 'false' }),
    };
    const common = { repoRoot, environment, logRetention: settings.logRetention };

    const artifacts = new ArtifactsBucket(this, 'Artifacts', { accessLogRetentionDays: settings.logRetention });
    this.artifactsBucket = artifacts.bucket;
    this.jobLogReadPolicy = new ManagedPolicy(this, 'JobLogReadPolicy', {
      description: 'List and read job log objects under jobs/ of the artifacts bucket (the console reads job logs)',
      statements: [
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.artifactsBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': ['jobs/*'] } },
        }),
        new PolicyStatement({ actions: ['s3:GetObject'], resources: [this.artifactsBucket.arnForObjects('jobs/*')] }),
      ],
    });
    Validations.of(this.jobLogReadPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.artifactsBucket.node.defaultChild as CfnElement)}.Arn>/jobs/*]`,
      reason:
        'Job log keys embed run-time job ids and attempt numbers (jobs/<job_id>/attempt-<n>/<seq>.ndjson); the ' +
        'policy is read-only and limited to the jobs/ prefix',
    });
    this.artifactsAccessLogs = artifacts.accessLogs;
    this.diffSecret = new Secret(this, 'DiffCredentials', {
      secretName: name('diff-credentials'),
      description:
        'Shinny DIFF credentials of the ghtrader data jobs, read by the jobs worker. After deploy, operators replace ' +
        'the empty placeholders with the real values: SecretString is the JSON object ' +
        '{"user": "<DIFF user>", "password": "<DIFF password>", "client_secret": "<DIFF client secret>"}; ' +
        'the worker refuses empty values, so remove a key that is not used rather than leave it empty.',
      // Placeholders with the keys operators fill in. Never change them: a changed value in the template makes
      // CloudFormation overwrite the credentials operators put in the secret.
      secretObjectValue: Object.fromEntries(DIFF_SECRET_KEYS.map((key) => [key, SecretValue.unsafePlainText('')])),
      // Credentials typed in by an operator outlive the stack, like the tables and buckets.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.diffSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Third-party broker credentials (Shinny DIFF account): they are changed at Shinny by the operator, who then ' +
        'updates this secret; AWS has no way to rotate them, so there is no rotation Lambda',
    });

    // What the data jobs read (worker), or what tells the reconciler the data chain is on (it sweeps overdue builds).
    // Without questdbHttp the data chain is off in this deployment: data jobs fail with data_chain_not_configured.
    const dataEnvironment: Record<string, string> = {
      ...environment,
      GHTRADER_ARTIFACTS_BUCKET: this.artifactsBucket.bucketName,
      GHTRADER_DIFF_SECRET_ID: this.diffSecret.secretArn,
      ...(settings.questdbHttp ? { GHTRADER_QUESTDB_HTTP: settings.questdbHttp } : {}),
    };

    this.worker = new GhtraderFunction(this, 'JobsWorker', {
      ...common,
      // account.verify reads the broker-account secrets under this prefix (see grantAccountSecrets).
      environment: { ...dataEnvironment, [ACCOUNT_SECRET_PREFIX_ENV]: accountSecretPrefix(settings.stage) },
      entry: 'functions/jobs-worker.ts',
      functionName: name('jobs-worker'),
      description: 'Runs one job per SQS message from the jobs queue',
      // The longest job a Lambda may run; the queue's visibility timeout (definitions) is larger, as Lambda requires.
      timeout: Duration.seconds(MAX_JOB_TIMEOUT_S),
      memorySize: settings.workerMemoryMb,
    });
    this.worker.fn.addEventSource(
      new SqsEventSource(jobsQueue, {
        // One job per invocation: a job owns the whole timeout, and a failure retries only that job.
        batchSize: 1,
        reportBatchItemFailures: true,
        // Bounds how many jobs run at once, without reserving account concurrency.
        maxConcurrency: settings.jobsMaxConcurrency,
      }),
    );

    this.dlqHandler = new GhtraderFunction(this, 'JobsDlq', {
      ...common,
      entry: 'functions/jobs-dlq.ts',
      functionName: name('jobs-dlq'),
      description: 'Marks jobs whose messages exhausted maxReceiveCount as failed (dlq_exhausted)',
      timeout: Duration.seconds(60),
      memorySize: 256,
    });
    this.dlqHandler.fn.addEventSource(
      new SqsEventSource(jobsDlq, { batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 2 }),
    );

    this.reconciler = new GhtraderFunction(this, 'JobsReconciler', {
      ...common,
      environment: dataEnvironment,
      entry: 'functions/jobs-reconciler.ts',
      functionName: name('jobs-reconciler'),
      description:
        'Every minute: re-enqueues idle queued jobs and lost ones, fails or cancels abandoned ones, enqueues the ' +
        'finalize job of overdue builds',
      timeout: Duration.seconds(120),
      memorySize: 256,
    });
    new Rule(this, 'ReconcileEveryMinute', {
      ruleName: name('jobs-reconcile'),
      description: 'Runs the jobs reconciler once a minute',
      schedule: Schedule.rate(Duration.minutes(1)),
      // A missed run is covered by the next one a minute later; retrying a stale event would only pile up runs.
      targets: [new LambdaFunction(this.reconciler.fn, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });

    this.grantAccess(tables);
    this.grantAccountSecrets(settings.stage);

    const topic = new AlarmTopic(this, 'Alarms', { topicName: name('alarms'), email: settings.alarmEmail }).topic;
    this.dlqAlarm = new QueueDepthAlarm(this, 'JobsDlqDepth', {
      queue: jobsDlq,
      alarmName: name('jobs-dlq-depth'),
      description: `${QUEUES.jobsDlq.logicalName} holds messages the jobs-dlq function has not consumed: jobs that exhausted their retries are not being marked failed`,
      topic,
    });
  }

  /**
   * Least privilege per handler, following what the handlers call today (shared/services): item actions only (see
   * table-access.ts); the event sources add the SQS consume permissions (receive, delete, change visibility) on their
   * own queue. A handler that starts using another table or queue needs its grant here, or it fails in AWS only.
   */
  private grantAccess(tables: GhtraderTables): void {
    const { jobs: jobsQueue, jobsDlq } = this.queues.queues;

    const worker = this.worker.role;
    for (const tableId of TABLE_IDS) {
      const access = WORKER_TABLE_ACCESS[tableId];
      if (access) grantTableAccess(worker, tables[tableId], access);
      // system.selftest puts, reads back and deletes a probe item in every table but the audit log (where it appends
      // a real entry); tables the worker may not write get a grant limited to those probe items.
      if (access !== 'readWrite' && tableId !== 'audit') grantSelftestProbe(worker, tables[tableId]);
    }
    // Retryable failures and lock waits come back as delayed messages; selftest reads both queues' depths.
    jobsQueue.grantSendMessages(worker);
    this.grantQueueDepth(worker, jobsDlq.queueArn);
    this.grantDataChain(worker);

    // jobs-dlq: reads the job and marks it failed (dlq_exhausted), releasing its dedupe item. Nothing else.
    grantTableAccess(this.dlqHandler.role, tables.jobs, 'readWrite');

    // Reconciler: lists running and queued jobs (status index), fails or cancels abandoned ones, and re-enqueues
    // lost ones. Expired locks need no cleanup: every lease is checked in the condition expression of the next taker.
    // Overdue main_l5 builds are build items in the jobs table; their finalize job goes to the jobs queue. It reads
    // the data-chain variables only to know the chain is on: no bucket, no secret.
    grantTableAccess(this.reconciler.role, tables.jobs, 'readWrite');
    jobsQueue.grantSendMessages(this.reconciler.role);
  }

  /**
   * The data jobs' S3 and Secrets Manager access, following `S3ArtifactStore` and the Lambda data context:
   * - artifacts bucket: `PutObject` and `GetObject` on its objects, and `ListBucket` (ListObjectsV2) on the bucket,
   *   which also makes S3 answer a GetObject of a missing key with 404 (an absent artifact) instead of 403. No
   *   delete: nothing deletes artifacts, and versioning keeps what a put replaces.
   * - DIFF credentials secret: `GetSecretValue` on that secret only (read once per container).
   * The object grant is necessarily `<bucket arn>/*`, acknowledged for cdk-nag IAM5 on exactly that resource.
   */
  private grantDataChain(role: GhtraderFunction['role']): void {
    const bucket = this.artifactsBucket;
    Grant.addToPrincipal({ grantee: role, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
    Grant.addToPrincipal({
      grantee: role,
      actions: ['s3:GetObject', 's3:PutObject'],
      resourceArns: [bucket.arnForObjects('*')],
    });
    Grant.addToPrincipal({
      grantee: role,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.diffSecret.secretArn],
    });
    const bucketId = this.getLogicalId(bucket.node.defaultChild as CfnElement);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      reason:
        'Data jobs write and read report and artifact objects under keys they build at run time (per symbol, day ' +
        'and build); S3 object permissions can only name them by a key pattern, here every object of the artifacts ' +
        'bucket and of no other bucket',
    });
  }

  /**
   * `account.verify` logs in with a profile's credentials: `GetSecretValue` on the secrets under
   * `ghtrader/<stage>/accounts/` (the console's HTTP API writes them and cannot read them), nothing else of them.
   */
  private grantAccountSecrets(stage: string): void {
    const secrets = this.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${accountSecretPrefix(stage)}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // Its own statement (a Sid keeps CDK from merging it with the DIFF secret's grant of the same action).
    this.worker.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadAccountSecrets',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [secrets],
      }),
    );
    Validations.of(this.worker.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${accountSecretPrefix(stage)}*]`,
      reason:
        'account.verify reads the broker-account secret of the profile it checks; the secrets are named at run time ' +
        "(ghtrader/<stage>/accounts/<profile>, plus the random suffix AWS appends), and only this stage's are granted",
    });
  }

  /** `GetQueueAttributes` only: read a queue's depth counters, nothing else. */
  private grantQueueDepth(role: GhtraderFunction['role'], queueArn: string): void {
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['sqs:GetQueueAttributes'], resources: [queueArn] }));
  }
}
