import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESM_REQUIRE_BANNER } from '#cdk/constructs/ghtrader-function.ts';
import { MAX_JOB_TIMEOUT_S, QUEUE_IDS, QUEUES, TABLE_IDS, tableEnvVar } from '#shared/infra/aws/definitions.ts';
import { removeOutputs, type SynthesizedApp, synthApp } from './synth-app.ts';

/** Budget of one minified function bundle: under 1 MB (decimal, the stricter reading). */
const BUNDLE_BUDGET_BYTES = 1_000_000;

describe('JobsStack', () => {
  let built: SynthesizedApp;
  let template: Template;
  let stack: Stack;

  /** The template's logical id of a construct's CloudFormation resource. */
  const logicalId = (construct: IConstruct): string => stack.getLogicalId(construct.node.defaultChild as CfnElement);

  beforeAll(() => {
    // One real synthesis with esbuild bundling of the three handlers, shared by every test of this file.
    built = synthApp();
    stack = built.jobs;
    template = Template.fromStack(stack);
  });

  afterAll(() => {
    removeOutputs(built);
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

  it('bundles each handler into one minified ESM file under 1 MB, with the require banner and no source map', () => {
    // Prepare
    const functions = [built.jobs.worker, built.jobs.dlqHandler, built.jobs.reconciler];

    // Act
    const bundles = functions.map((fn) => {
      const code = template.toJSON().Resources[logicalId(fn.fn)].Properties.Code as { S3Key: string };
      const file = path.join(built.outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs');
      return { file, bytes: existsSync(file) ? statSync(file).size : -1 };
    });

    // Assess
    for (const { file, bytes } of bundles) {
      expect(bytes, file).toBeGreaterThan(0);
      expect(bytes, file).toBeLessThan(BUNDLE_BUDGET_BYTES);
      const text = readFileSync(file, 'utf8');
      expect(text.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(text).not.toContain('sourceMappingURL');
      expect(existsSync(`${file}.map`)).toBe(false);
    }
  });
});
