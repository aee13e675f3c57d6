import type { JobMessage } from './jobs.ts';

/** Port: the job queue (SQS). Messages carry only `{v, job_id, kind}`. */
export interface JobQueue {
  /** Send a message; `delayS` postpones its first delivery (0..900). Returns the message id. */
  send(message: JobMessage, delayS?: number): Promise<string>;
  /** Make a received message invisible for `seconds` more (the worker's lease), or visible again after it. */
  changeVisibility(receiptHandle: string, seconds: number): Promise<void>;
  /** Approximate visible/in-flight depth of the jobs queue and its DLQ, for status pages. */
  depth(): Promise<{ visible: number; inFlight: number; dlqVisible: number }>;
}
