/**
 * The local Lambda runner: what the SQS event source mapping does in AWS, on loopback. It long-polls the jobs
 * queue with `concurrency` pollers, invokes the same handler as Lambda with SQS-shaped events (batch size 1),
 * deletes the records the handler did not report as failures, leaves the failures for redelivery (their visibility
 * was set by the worker), polls the DLQ into the DLQ handler, and runs the reconciler on a timer.
 *
 * Backpressure: at most `concurrency` jobs run at once; further messages stay in the queue.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { ulid } from 'ulid';
import type { ComponentStatus } from '#shared/domain/control/status.ts';
import { describeError } from '#shared/errors/base.ts';
import type { Logger } from '#shared/log.ts';
import type { Runtime } from '#shared/services/runtime.ts';
import { createJobsDlqHandler } from './jobs-dlq.ts';
import { createJobsWorkerHandler, type SqsHandler } from './jobs-worker.ts';

export interface LocalRunnerOptions {
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  queueArn?: string;
  worker: SqsHandler;
  dlq: SqsHandler;
  reconcile: () => Promise<unknown>;
  reconcileIntervalS: number;
  concurrency: number;
  log: Logger;
  /** Long-poll wait per receive; short enough that stop() returns quickly. */
  waitTimeS?: number;
}

export class LocalLambdaRunner {
  private running = false;
  private loops: Promise<void>[] = [];
  private reconcileTimer: NodeJS.Timeout | null = null;
  private lastPollOkAt: string | null = null;
  private lastError = '';
  private inFlight = 0;
  private invocations = 0;

  constructor(private readonly opts: LocalRunnerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < this.opts.concurrency; i++)
      this.loops.push(this.pollLoop(this.opts.queueUrl, this.opts.worker, `jobs-${i}`));
    this.loops.push(this.pollLoop(this.opts.dlqUrl, this.opts.dlq, 'dlq'));
    this.reconcileTimer = setInterval(() => {
      this.opts.reconcile().catch((err) => this.opts.log.error({ err: describeError(err) }, 'runner.reconcile_failed'));
    }, this.opts.reconcileIntervalS * 1000);
  }

  /**
   * Stop polling and wait for in-flight invocations to return. Long polls are not aborted (an aborted receive can
   * still take a message and hide it for the queue's visibility timeout); they end within `waitTimeS`, and anything
   * they received after the stop is made visible again at once.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    await Promise.allSettled(this.loops);
    this.loops = [];
  }

  status(): ComponentStatus {
    const now = new Date().toISOString();
    if (!this.running)
      return { state: 'error', text: 'local runner stopped', error: 'runner_stopped', updated_at: now, stale: false };
    if (this.lastError)
      return {
        state: 'warn',
        text: `local runner: ${this.lastError}`,
        error: 'runner_poll_failed',
        updated_at: this.lastPollOkAt ?? now,
        stale: false,
      };
    return {
      state: 'ok',
      text: `local runner: ${this.inFlight}/${this.opts.concurrency} busy, ${this.invocations} invocations`,
      error: '',
      updated_at: this.lastPollOkAt ?? now,
      stale: false,
    };
  }

  private async pollLoop(queueUrl: string, handler: SqsHandler, name: string): Promise<void> {
    const { sqs, log } = this.opts;
    while (this.running) {
      let messages: Message[] = [];
      try {
        const r = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: this.opts.waitTimeS ?? 1,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        messages = r.Messages ?? [];
        this.lastPollOkAt = new Date().toISOString();
        this.lastError = '';
      } catch (err) {
        if (!this.running) break;
        this.lastError = err instanceof Error ? err.message : String(err);
        log.warn({ poller: name, err: describeError(err) }, 'runner.receive_failed');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (!this.running) {
        await this.giveBack(queueUrl, messages, name);
        break;
      }
      for (const m of messages) await this.invoke(queueUrl, handler, m, name);
    }
  }

  private async giveBack(queueUrl: string, messages: Message[], name: string): Promise<void> {
    for (const m of messages) {
      try {
        await this.opts.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        );
      } catch (err) {
        this.opts.log.warn(
          { poller: name, message_id: m.MessageId, err: describeError(err) },
          'runner.give_back_failed',
        );
      }
    }
  }

  private async invoke(queueUrl: string, handler: SqsHandler, m: Message, name: string): Promise<void> {
    const { sqs, log } = this.opts;
    const event: SQSEvent = { Records: [toRecord(m, this.opts.queueArn ?? queueUrl)] };
    const requestId = ulid();
    this.inFlight++;
    this.invocations++;
    try {
      const r = await handler(event, { awsRequestId: requestId });
      const failed = new Set(r.batchItemFailures.map((f) => f.itemIdentifier));
      if (!failed.has(m.MessageId ?? '')) {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
      }
    } catch (err) {
      // As in Lambda: an invocation error leaves the whole batch for redelivery after the visibility timeout.
      log.error(
        { poller: name, request_id: requestId, message_id: m.MessageId, err: describeError(err) },
        'runner.invocation_failed',
      );
    } finally {
      this.inFlight--;
    }
  }
}

function toRecord(m: Message, sourceArn: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: sourceArn,
    awsRegion: 'local',
  };
}

/** The local runner wired to a runtime: the same worker and DLQ handlers Lambda runs, plus the reconciler. */
export function createLocalRunner(
  rt: Runtime,
  opts: { concurrency?: number; reconcileIntervalS?: number; waitTimeS?: number; log?: Logger } = {},
): LocalLambdaRunner {
  const log = opts.log ?? rt.log;
  return new LocalLambdaRunner({
    sqs: rt.clients.sqs,
    queueUrl: rt.queueUrls.jobs,
    dlqUrl: rt.queueUrls.jobsDlq,
    worker: createJobsWorkerHandler(rt.worker('local')),
    dlq: createJobsDlqHandler(rt.recovery, log.child({ component: 'jobs-dlq' })),
    reconcile: () => rt.recovery.reconcile(),
    // `restart` keys: the config revision's value as this runner starts (else the process's env or default).
    reconcileIntervalS:
      opts.reconcileIntervalS ??
      rt.live.overProcess('GHTRADER_RECONCILE_INTERVAL_S', rt.config.jobs.reconcileIntervalS),
    concurrency:
      opts.concurrency ?? rt.live.overProcess('GHTRADER_RUNNER_CONCURRENCY', rt.config.jobs.runnerConcurrency),
    log: log.child({ component: 'local-runner' }),
    ...(opts.waitTimeS !== undefined ? { waitTimeS: opts.waitTimeS } : {}),
  });
}
