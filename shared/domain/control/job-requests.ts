/** Boundary schemas of the job API (HTTP bodies, query strings, CLI flags). */
import * as z from 'zod';
import { type JobStatus, JobStatusSchema } from './jobs.ts';
import { JobVarSchema } from './varieties.ts';

/** `POST /api/jobs`: unknown fields (`argv`, `command`, …) are rejected, never ignored. */
export const SubmitJobRequestSchema = z
  .object({
    kind: z.string().min(1).max(100),
    params: z.record(z.string(), z.unknown()).default({}),
    note: z.string().max(500).optional(),
  })
  .strict();
export type SubmitJobRequest = z.infer<typeof SubmitJobRequestSchema>;

export const JOBS_LIMIT = { default: 100, min: 1, max: 500 } as const;

/** Numeric limits clamp silently into [min, max]; a non-numeric limit is a 400. */
export function clampedLimit(bounds: { default: number; min: number; max: number }) {
  return z
    .string()
    .regex(/^-?\d+$/, 'expected an integer')
    .transform((s) => Math.min(bounds.max, Math.max(bounds.min, Number.parseInt(s, 10))))
    .optional()
    .transform((n) => n ?? bounds.default);
}

export const ListJobsQuerySchema = z
  .object({
    status: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (!s) return undefined;
        const parts = s
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
        const out: JobStatus[] = [];
        for (const p of parts) {
          const r = JobStatusSchema.safeParse(p);
          if (!r.success) {
            ctx.addIssue({
              code: 'custom',
              message: `unknown status ${JSON.stringify(p)}; expected one of ${JobStatusSchema.options.join(', ')}`,
            });
            return z.NEVER;
          }
          out.push(r.data);
        }
        return [...new Set(out)];
      }),
    kind: z.string().min(1).max(100).optional(),
    var: JobVarSchema.optional(),
    q: z.string().min(1).max(100).optional(),
    limit: clampedLimit(JOBS_LIMIT),
    cursor: z.string().min(1).max(2000).optional(),
  })
  .strict();
export type ListJobsQuery = z.infer<typeof ListJobsQuerySchema>;

export const CancelJobRequestSchema = z.object({ reason: z.string().max(500).optional() }).strict();
