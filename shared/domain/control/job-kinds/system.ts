import * as z from 'zod';
import { defineJobKind } from './types.ts';

/** Writes and reads every store (DynamoDB tables, SQS, Redis) and reports what it found. */
export const systemSelftest = defineJobKind({
  kind: 'system.selftest',
  description: 'Round-trip every store (DynamoDB tables, SQS queues, Redis) and report latency and errors',
  params: z.object({}).strict(),
  locks: () => [],
  var: () => 'none',
  sourceBound: false,
  timeoutS: 120,
  submittable: true,
});

/** Sleeps with progress; used to exercise progress, cancellation and failure handling. */
export const systemSleep = defineJobKind({
  kind: 'system.sleep',
  description: 'Sleep for `seconds`, reporting progress; optionally fail at a fraction of the way (tests)',
  params: z
    .object({
      // The spec allows up to 3600 s; a Lambda attempt is capped at 900 s, so we cap at 840 s (60 s of margin).
      seconds: z.number().min(1).max(840),
      /** Throw once progress reaches this fraction (0 = at once). */
      fail_at_pct: z.number().min(0).max(1).optional(),
      /** Whether that failure is retryable (redelivered, then DLQ) or fails the job at once. */
      fail_retryable: z.boolean().default(true),
    })
    .strict(),
  locks: () => [],
  var: () => 'none',
  sourceBound: false,
  timeoutS: 900,
  submittable: true,
});
