/** Lambda handler of the jobs DLQ: each message's job is marked `failed` with `dlq_exhausted`. */
import type { SQSBatchResponse } from 'aws-lambda';
import { describeError } from '#shared/errors/base.ts';
import type { Logger } from '#shared/log.ts';
import type { JobRecovery } from '#shared/services/job-recovery.ts';
import type { SqsHandler } from './jobs-worker.ts';
import { lambdaRuntime } from './lambda-runtime.ts';

export function createJobsDlqHandler(recovery: JobRecovery, log: Logger): SqsHandler {
  return async (event) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        await recovery.processDeadLetter(record.body, record.messageId);
      } catch (err) {
        // A store outage: leave the message in the DLQ for the next delivery.
        log.error({ message_id: record.messageId, err: describeError(err) }, 'job.dlq_processing_failed');
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

export const handler: SqsHandler = async (event, context) => {
  const rt = await lambdaRuntime('jobs-dlq');
  return createJobsDlqHandler(rt.recovery, rt.log)(event, context);
};
