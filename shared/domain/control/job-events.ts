import type { JobProgress, JobSummary } from './jobs.ts';

export type JobEvent =
  | { type: 'job.status'; job: JobSummary }
  | { type: 'job.progress'; job_id: string; kind: string; var: string | null; progress: JobProgress };

/** Port: fire-and-forget publication of job events (Redis pub/sub). A failed publish never fails the job. */
export interface JobEvents {
  publish(event: JobEvent): void;
}
