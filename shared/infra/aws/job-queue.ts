import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { JobQueue } from '../../domain/control/job-queue.ts';
import type { JobMessage } from '../../domain/control/jobs.ts';

/** SQS allows visibility timeouts up to 12 h and delays up to 15 min. */
const MAX_VISIBILITY_S = 43_200;
const MAX_DELAY_S = 900;

/** `JobQueue` on SQS (fauxqs locally, SQS in AWS). */
export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly dlqUrl: string,
  ) {}

  async send(message: JobMessage, delayS = 0): Promise<string> {
    const r = await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: Math.min(MAX_DELAY_S, Math.max(0, Math.ceil(delayS))),
      }),
    );
    if (!r.MessageId) throw new Error(`SendMessage to ${this.queueUrl} returned no MessageId`);
    return r.MessageId;
  }

  async changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.min(MAX_VISIBILITY_S, Math.max(0, Math.ceil(seconds))),
      }),
    );
  }

  async depth(): Promise<{ visible: number; inFlight: number; dlqVisible: number }> {
    const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] as const;
    const [q, d] = await Promise.all([
      this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: [...names] })),
      this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.dlqUrl, AttributeNames: [...names] })),
    ]);
    return {
      visible: Number(q.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(q.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      dlqVisible: Number(d.Attributes?.ApproximateNumberOfMessages ?? 0),
    };
  }
}
