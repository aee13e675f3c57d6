/**
 * Lambda handler of the jobs queue (SQS event source, batch size 1, `reportBatchItemFailures`). The local runner
 * invokes `createJobsWorkerHandler` with the same kind of event, so both places run this exact code.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { JobWorker } from '#shared/services/job-worker.ts';
import { lambdaAccountHandlers } from './lambda-accounts.ts';
import { lambdaDataHandlers } from './lambda-data.ts';
import { lambdaRuntime } from './lambda-runtime.ts';

export type SqsHandler = (event: SQSEvent, context: Pick<Context, 'awsRequestId'>) => Promise<SQSBatchResponse>;

/** Process each record; records the worker wants redelivered are reported as batch item failures. */
export function createJobsWorkerHandler(worker: JobWorker): SqsHandler {
  return async (event, context) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const disposition = await worker.process({
        messageId: record.messageId,
        body: record.body,
        receiptHandle: record.receiptHandle,
        requestId: context.awsRequestId,
      });
      if (disposition === 'retry') batchItemFailures.push({ itemIdentifier: record.messageId });
    }
    return { batchItemFailures };
  };
}

export const handler: SqsHandler = async (event, context) => {
  // The data kinds run here too (QuestDB, S3, the DIFF secret; see lambda-data.ts), or fail naming what is missing;
  // so does account.verify (the account secrets and the DIFF secret; see lambda-accounts.ts).
  const rt = await lambdaRuntime('jobs-worker', (r) => {
    r.addHandlers(lambdaDataHandlers(r, process.env, r.log));
    r.addHandlers(lambdaAccountHandlers(r, process.env));
  });
  return createJobsWorkerHandler(rt.worker('lambda'))(event, context);
};
