/**
 * Every SQS queue of `QUEUES`, built in `QUEUE_IDS` order (dead-letter queues first, so a redrive target exists when
 * the queue that points at it is built). Visibility timeout, retention and redrive come from the definitions only.
 */
import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUE_IDS, QUEUES, type QueueDef, type QueueId, queueName } from '#shared/infra/aws/definitions.ts';

export interface JobQueuesProps {
  resourcePrefix: string;
}

export class JobQueues extends Construct {
  readonly queues: Record<QueueId, Queue>;

  constructor(scope: Construct, id: string, props: JobQueuesProps) {
    super(scope, id);
    const built: Partial<Record<QueueId, Queue>> = {};
    for (const queueId of QUEUE_IDS) {
      const def: QueueDef = QUEUES[queueId];
      const deadLetterQueue = def.deadLetter ? built[def.deadLetter.queue] : undefined;
      if (def.deadLetter && !deadLetterQueue) {
        throw new Error(
          `queue ${queueId} redrives to ${def.deadLetter.queue}, which QUEUE_IDS does not list before it; ` +
            'list dead-letter queues first in definitions.ts',
        );
      }
      const queue = new Queue(this, def.logicalName, {
        queueName: queueName(props.resourcePrefix, queueId),
        visibilityTimeout: Duration.seconds(def.visibilityTimeoutS),
        retentionPeriod: Duration.seconds(def.retentionS),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        ...(def.deadLetter && deadLetterQueue
          ? { deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: def.deadLetter.maxReceiveCount } }
          : {}),
      });
      built[queueId] = queue;
    }
    this.queues = built as Record<QueueId, Queue>;
  }
}
