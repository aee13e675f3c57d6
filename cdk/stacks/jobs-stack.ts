/**
 * The jobs control chain in AWS: the jobs queue and its DLQ (from `QUEUES`), the jobs worker fed by the queue, the
 * jobs-dlq function fed by the DLQ, the reconciler on a one-minute schedule, and an alarm on DLQ depth.
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { MAX_JOB_TIMEOUT_S, QUEUES, TABLE_IDS, tableEnvVar } from '#shared/infra/aws/definitions.ts';
import { AlarmTopic } from '../constructs/alarm-topic.ts';
import { GhtraderFunction } from '../constructs/ghtrader-function.ts';
import { JobQueues } from '../constructs/job-queues.ts';
import { QueueDepthAlarm } from '../constructs/queue-depth-alarm.ts';
import { grantTableAccess } from '../constructs/table-access.ts';
import type { StageSettings } from '../stage-settings.ts';
import type { GhtraderTables } from './data-stores-stack.ts';

export interface JobsStackProps extends StackProps {
  settings: StageSettings;
  tables: GhtraderTables;
  /** Repository root, for bundling the handlers in `functions/`. */
  repoRoot: string;
}

export class JobsStack extends Stack {
  readonly queues: JobQueues;
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

    this.worker = new GhtraderFunction(this, 'JobsWorker', {
      ...common,
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
      entry: 'functions/jobs-reconciler.ts',
      functionName: name('jobs-reconciler'),
      description: 'Every minute: re-enqueues lost queued jobs and fails jobs whose lease expired',
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

    const topic = new AlarmTopic(this, 'Alarms', { topicName: name('alarms'), email: settings.alarmEmail }).topic;
    this.dlqAlarm = new QueueDepthAlarm(this, 'JobsDlqDepth', {
      queue: jobsDlq,
      alarmName: name('jobs-dlq-depth'),
      description: `${QUEUES.jobsDlq.logicalName} holds messages the jobs-dlq function has not consumed: jobs that exhausted their retries are not being marked failed`,
      topic,
    });
  }

  /**
   * Least privilege per handler. Item actions only (see table-access.ts); the event sources add the SQS consume
   * permissions (receive, delete, change visibility) on their own queue.
   */
  private grantAccess(tables: GhtraderTables): void {
    const { jobs: jobsQueue, jobsDlq } = this.queues.queues;
    const worker = this.worker.role;
    // Worker: owns the job record (claim, heartbeat, progress, result) and the job's locks (lease, fence).
    grantTableAccess(worker, tables.jobs, 'readWrite');
    grantTableAccess(worker, tables.locks, 'readWrite');
    // Jobs read the desired configuration but never change it (config changes go through the console and audit).
    grantTableAccess(worker, tables.config, 'read');
    // Audit entries are appended, never read or changed, by jobs.
    grantTableAccess(worker, tables.audit, 'appendOnly');
    // Data-chain and system jobs record component summaries and apply store migrations.
    grantTableAccess(worker, tables.tradingState, 'readWrite');
    grantTableAccess(worker, tables.migrationLedger, 'readWrite');
    // The selftest job checks that identity items are readable; jobs never change users.
    grantTableAccess(worker, tables.users, 'read');
    // Retryable failures come back as a delayed message; the worker also reads both queues' depths for selftest.
    jobsQueue.grantSendMessages(worker);
    this.grantQueueDepth(worker, jobsDlq.queueArn);

    const dlq = this.dlqHandler.role;
    // jobs-dlq: marks the job failed (dlq_exhausted), releases the locks it held, and audits the failure.
    grantTableAccess(dlq, tables.jobs, 'readWrite');
    grantTableAccess(dlq, tables.locks, 'readWrite');
    grantTableAccess(dlq, tables.audit, 'appendOnly');

    const reconciler = this.reconciler.role;
    // Reconciler: finds queued jobs without a message and jobs with expired leases, re-enqueues or fails them, and
    // clears the expired locks, auditing each action.
    grantTableAccess(reconciler, tables.jobs, 'readWrite');
    grantTableAccess(reconciler, tables.locks, 'readWrite');
    grantTableAccess(reconciler, tables.audit, 'appendOnly');
    jobsQueue.grantSendMessages(reconciler);
  }

  /** `GetQueueAttributes` only: read a queue's depth counters, nothing else. */
  private grantQueueDepth(role: GhtraderFunction['role'], queueArn: string): void {
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['sqs:GetQueueAttributes'], resources: [queueArn] }));
  }
}
