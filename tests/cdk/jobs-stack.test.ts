import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACCESS_LOG_PREFIX,
  INCOMPLETE_UPLOAD_DAYS,
  NONCURRENT_VERSION_DAYS,
} from '#cdk/constructs/artifacts-bucket.ts';
import { bundleBudgetBytes, ESM_REQUIRE_BANNER, type GhtraderFunction } from '#cdk/constructs/ghtrader-function.ts';
import { MAX_JOB_TIMEOUT_S, QUEUE_IDS, QUEUES, TABLE_IDS, tableEnvVar } from '#shared/infra/aws/definitions.ts';
import { removeOutputs, SKIP_BUNDLING, type SynthesizedApp, synthApp } from './synth-app.ts';

const QUESTDB_HTTP = 'http://questdb.internal:9000';

/** What both buckets share: every public access blocked, SSE-S3 encryption. */
const PRIVATE_SSE_S3 = {
  PublicAccessBlockConfiguration: {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  },
  BucketEncryption: {
    ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
  },
};

/** The data-chain variables of one function's environment, `undefined` where a variable is not set. */
function dataChainEnv(app: SynthesizedApp, fn: GhtraderFunction): Record<string, unknown> {
  const id = app.jobs.getLogicalId(fn.fn.node.defaultChild as CfnElement);
  const vars = Template.fromStack(app.jobs).toJSON().Resources[id].Properties.Environment.Variables;
  return {
    GHTRADER_ARTIFACTS_BUCKET: vars.GHTRADER_ARTIFACTS_BUCKET,
    GHTRADER_DIFF_SECRET_ID: vars.GHTRADER_DIFF_SECRET_ID,
    GHTRADER_QUESTDB_HTTP: vars.GHTRADER_QUESTDB_HTTP,
  };
}

describe('JobsStack', () => {
  let built: SynthesizedApp;
  let template: Template;
  let stack: Stack;
  let withQuestDb: SynthesizedApp | undefined;

  /** The template's logical id of a construct's CloudFormation resource. */
  const logicalId = (construct: IConstruct): string => stack.getLogicalId(construct.node.defaultChild as CfnElement);

  beforeAll(() => {
    // One real synthesis with esbuild bundling of the three handlers, shared by every test of this file. Only the
    // jobs stack is bundled: console-stack.test.ts bundles (and checks) the console's handlers.
    built = synthApp({ 'aws:cdk:bundling-stacks': ['ghtrader-*-jobs'] });
    stack = built.jobs;
    template = Template.fromStack(stack);
  });

  afterAll(() => {
    removeOutputs(built, withQuestDb);
  });

  it.each(QUEUE_IDS)('builds the %s queue with the visibility timeout and retention of its definition', (queueId) => {
    // Prepare
    const def = QUEUES[queueId];

    // Act
    const props = {
      QueueName: `${built.settings.resourcePrefix}${def.logicalName}`,
      VisibilityTimeout: def.visibilityTimeoutS,
      MessageRetentionPeriod: def.retentionS,
      SqsManagedSseEnabled: true,
    };

    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', props);
  });

  it('redrives the jobs queue to the DLQ after the maxReceiveCount of the definition (3)', () => {
    // Prepare
    const dlqId = logicalId(built.jobs.queues.queues.jobsDlq);

    // Act
    const redrive = { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 3 };

    // Assess
    expect(QUEUES.jobs.deadLetter.maxReceiveCount).toBe(3);
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: `${built.settings.resourcePrefix}${QUEUES.jobs.logicalName}`,
      RedrivePolicy: redrive,
    });
  });

  it('refuses non-TLS access to every queue', () => {
    // Prepare
    const denyInsecure = Match.objectLike({
      Effect: 'Deny',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });

    // Act
    const policies = template.findResources('AWS::SQS::QueuePolicy', {
      Properties: { PolicyDocument: { Statement: Match.arrayWith([denyInsecure]) } },
    });

    // Assess
    expect(Object.keys(policies)).toHaveLength(QUEUE_IDS.length);
  });

  it('runs the worker on nodejs22.x arm64 for at most MAX_JOB_TIMEOUT_S, within the queue visibility timeout', () => {
    // Prepare
    const id = logicalId(built.jobs.worker.fn);

    // Act
    const fn = template.toJSON().Resources[id];

    // Assess
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: MAX_JOB_TIMEOUT_S,
    });
    expect(QUEUES.jobs.visibilityTimeoutS).toBeGreaterThanOrEqual(fn.Properties.Timeout);
  });

  it('feeds the worker one message at a time from the jobs queue and reports batch item failures', () => {
    // Prepare
    const queueId = logicalId(built.jobs.queues.queues.jobs);

    // Act
    const props = {
      FunctionName: { Ref: logicalId(built.jobs.worker.fn) },
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: built.settings.jobsMaxConcurrency },
    };

    // Assess
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', props);
  });

  it('feeds the jobs-dlq function from the DLQ, one message at a time', () => {
    // Prepare
    const dlqId = logicalId(built.jobs.queues.queues.jobsDlq);

    // Act
    const props = {
      FunctionName: { Ref: logicalId(built.jobs.dlqHandler.fn) },
      EventSourceArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    };

    // Assess
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', props);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: `${built.settings.resourcePrefix}jobs-dlq`,
      Timeout: 60,
    });
  });

  it('runs the reconciler every minute from a schedule rule', () => {
    // Prepare
    const reconcilerId = logicalId(built.jobs.reconciler.fn);

    // Act
    const props = {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [reconcilerId, 'Arn'] } })],
    };

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', props);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: `${built.settings.resourcePrefix}jobs-reconciler`,
      Timeout: 120,
    });
  });

  it('alarms to the alarm topic as soon as one message is visible on the DLQ', () => {
    // Prepare
    const dlqId = logicalId(built.jobs.queues.queues.jobsDlq);

    // Act
    const props = {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('^AlarmsTopic') })],
    };

    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', props);
  });

  it('gives the worker every table name and both queue URLs in its environment', () => {
    // Prepare
    const fn = template.toJSON().Resources[logicalId(built.jobs.worker.fn)];

    // Act
    const names = Object.keys(fn.Properties.Environment.Variables as Record<string, unknown>);

    // Assess
    expect(names).toEqual(
      expect.arrayContaining([...TABLE_IDS.map(tableEnvVar), 'GHTRADER_JOBS_QUEUE_URL', 'GHTRADER_JOBS_DLQ_URL']),
    );
    expect(fn.Properties.Environment.Variables).toMatchObject({
      GHTRADER_JOBS_QUEUE_URL: { Ref: logicalId(built.jobs.queues.queues.jobs) },
      GHTRADER_JOBS_DLQ_URL: { Ref: logicalId(built.jobs.queues.queues.jobsDlq) },
      GHTRADER_RESOURCE_PREFIX: built.settings.resourcePrefix,
      GHTRADER_JOBS_MAX_RECEIVE_COUNT: '3',
    });
  });

  it('builds the artifacts bucket private, TLS-only, SSE-S3 encrypted, versioned and logging to its log bucket', () => {
    // Prepare
    const bucketId = logicalId(built.jobs.artifactsBucket);
    const logsId = logicalId(built.jobs.artifactsAccessLogs);

    // Act
    const bucket = template.toJSON().Resources[bucketId];

    // Assess
    expect(bucket.Properties).toMatchObject({
      ...PRIVATE_SSE_S3,
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: logsId }, LogFilePrefix: ACCESS_LOG_PREFIX },
      LifecycleConfiguration: {
        Rules: [
          expect.objectContaining({
            Status: 'Enabled',
            NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_VERSION_DAYS },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: INCOMPLETE_UPLOAD_DAYS },
          }),
        ],
      },
    });
    // CloudFormation names it: no fixed name to collide with a retained bucket of an earlier stack.
    expect(bucket.Properties.BucketName).toBeUndefined();
  });

  it('builds the access log bucket private, SSE-S3 encrypted, with logs expiring after logRetentionDays', () => {
    // Prepare
    const logsId = logicalId(built.jobs.artifactsAccessLogs);

    // Act
    const logs = template.toJSON().Resources[logsId];

    // Assess
    expect(logs.Properties).toMatchObject({
      ...PRIVATE_SSE_S3,
      LifecycleConfiguration: {
        Rules: [expect.objectContaining({ Status: 'Enabled', ExpirationInDays: built.settings.logRetention })],
      },
    });
    expect(logs.Properties.BucketName).toBeUndefined();
  });

  it('refuses non-TLS access to both buckets and lets only S3 log delivery for the artifacts bucket write logs', () => {
    // Prepare
    const bucketId = logicalId(built.jobs.artifactsBucket);
    const logsId = logicalId(built.jobs.artifactsAccessLogs);
    const denyInsecure = Match.objectLike({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    const logDelivery = Match.objectLike({
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Action: 's3:PutObject',
      Condition: Match.objectLike({ ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } } }),
    });

    // Act
    const policyOf = (id: string) =>
      Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: id } } }));

    // Assess
    expect(policyOf(bucketId)).toHaveLength(1);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: [denyInsecure] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsId },
      PolicyDocument: { Statement: Match.arrayEquals([denyInsecure, logDelivery]) },
    });
    expect(policyOf(logsId)).toHaveLength(1);
  });

  it('retains both buckets and the DIFF secret when the stack is deleted, with no auto-delete custom resource', () => {
    // Prepare
    const ids = [built.jobs.artifactsBucket, built.jobs.artifactsAccessLogs, built.jobs.diffSecret].map(logicalId);

    // Act
    const resources = template.toJSON().Resources;
    const policies = ids.map((id) => [resources[id].DeletionPolicy, resources[id].UpdateReplacePolicy]);

    // Assess
    expect(policies).toEqual(ids.map(() => ['Retain', 'Retain']));
    expect(Object.keys(template.findResources('Custom::S3AutoDeleteObjects'))).toEqual([]);
  });

  it('creates the DIFF credentials secret with empty placeholders for the keys operators fill in, and no rotation', () => {
    // Prepare
    const secretId = logicalId(built.jobs.diffSecret);

    // Act
    const secret = template.toJSON().Resources[secretId];

    // Assess
    expect(secret.Type).toBe('AWS::SecretsManager::Secret');
    expect(secret.Properties.Name).toBe(`${built.settings.resourcePrefix}diff-credentials`);
    expect(JSON.parse(secret.Properties.SecretString)).toEqual({ user: '', password: '', client_secret: '' });
    expect(secret.Properties.Description).toContain(
      '{"user": "<DIFF user>", "password": "<DIFF password>", "client_secret": "<DIFF client secret>"}',
    );
    expect(secret.Properties.GenerateSecretString).toBeUndefined();
    expect(Object.keys(template.findResources('AWS::SecretsManager::RotationSchedule'))).toEqual([]);
  });

  it('gives the worker and the reconciler the artifacts bucket and the DIFF secret, and no QuestDB URL by default', () => {
    // Prepare
    const expected = {
      GHTRADER_ARTIFACTS_BUCKET: { Ref: logicalId(built.jobs.artifactsBucket) },
      GHTRADER_DIFF_SECRET_ID: { Ref: logicalId(built.jobs.diffSecret) },
      GHTRADER_QUESTDB_HTTP: undefined,
    };

    // Act
    const envs = [built.jobs.worker, built.jobs.reconciler, built.jobs.dlqHandler].map((fn) => dataChainEnv(built, fn));

    // Assess
    expect(built.settings.questdbHttp).toBeUndefined();
    expect(envs).toEqual([
      expected,
      expected,
      { GHTRADER_ARTIFACTS_BUCKET: undefined, GHTRADER_DIFF_SECRET_ID: undefined, GHTRADER_QUESTDB_HTTP: undefined },
    ]);
  });

  it('passes questdbHttp to the worker and the reconciler as GHTRADER_QUESTDB_HTTP, not to the jobs-dlq function', () => {
    // Prepare
    const app = synthApp({ ...SKIP_BUNDLING, questdbHttp: QUESTDB_HTTP });
    withQuestDb = app;

    // Act
    const envs = [app.jobs.worker, app.jobs.reconciler, app.jobs.dlqHandler].map((fn) => dataChainEnv(app, fn));

    // Assess
    expect(envs.map((env) => env.GHTRADER_QUESTDB_HTTP)).toEqual([QUESTDB_HTTP, QUESTDB_HTTP, undefined]);
    expect(envs.map((env) => env.GHTRADER_ARTIFACTS_BUCKET === undefined)).toEqual([false, false, true]);
  });

  it('bundles each handler into one minified ESM file within its budget, with the require banner and no source map', () => {
    // Prepare
    const functions = [
      ['jobs-worker', built.jobs.worker],
      ['jobs-dlq', built.jobs.dlqHandler],
      ['jobs-reconciler', built.jobs.reconciler],
    ] as const;

    // Act
    const bundles = functions.map(([handler, fn]) => {
      const code = template.toJSON().Resources[logicalId(fn.fn)].Properties.Code as { S3Key: string };
      const file = path.join(built.outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs');
      return { handler, file, bytes: existsSync(file) ? statSync(file).size : -1 };
    });

    // Assess
    for (const { handler, file, bytes } of bundles) {
      expect(bytes, file).toBeGreaterThan(0);
      expect(bytes, `${handler}: ${file}`).toBeLessThan(bundleBudgetBytes(handler));
      const text = readFileSync(file, 'utf8');
      expect(text.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(text).not.toContain('sourceMappingURL');
      expect(existsSync(`${file}.map`)).toBe(false);
    }
  });
});
