/**
 * Data-chain job kinds (data-chain §10.1). Handlers live in `shared/services/data/jobs.ts`. Locks the worker takes
 * are declared here; the main_l5 build lock `main_l5:symbol=<alias>` is taken by the build itself (it outlives the
 * planning job: children renew it and finalize releases it), and validation and verification check it without
 * preemption (§6.1, §6.8; field quality, §6.4, likewise).
 */
import * as z from 'zod';
import { isIsoDay } from '../../market/calendar/days.ts';
import { VarietySchema } from '../varieties.ts';
import { defineJobKind } from './types.ts';

const IsoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');

/** The lock a `data.schedule` job of `variety` holds (the only writer of that variety's schedule rows). */
export const scheduleLockKey = (variety: string) => `main_schedule:var=${variety}`;

/** The lock a `data.calendar` job holds (control-chain §4): one writer of the stored holiday list. */
export const CALENDAR_LOCK_KEY = 'calendar:exchange=SHFE';

export const dataCalendar = defineJobKind({
  kind: 'data.calendar',
  description:
    'Report the trading calendar every data job uses; with refresh, download the holiday list (TQ_CHINESE_HOLIDAY_URL) and store it',
  // No URL parameter: the worker fetches only the deployment's configured list (no caller-chosen addresses).
  params: z.object({ refresh: z.boolean().default(false) }).strict(),
  locks: () => [CALENDAR_LOCK_KEY],
  var: () => 'none',
  sourceBound: true,
  timeoutS: 120,
  submittable: true,
});

export const dataSchedule = defineJobKind({
  kind: 'data.schedule',
  description: 'Rebuild the main-contract roll schedule of a variety from the provider mapping (no-op when unchanged)',
  params: z.object({ var: VarietySchema }).strict(),
  locks: (p) => [scheduleLockKey(p.var)],
  var: (p) => p.var,
  sourceBound: true,
  timeoutS: 300,
  submittable: true,
});

export const dataMainL5 = defineJobKind({
  kind: 'data.main_l5',
  description: 'Plan a main_l5 build (update, or full rebuild) and fan out day-batch jobs; finalize promotes it',
  params: z
    .object({
      var: VarietySchema,
      full_rebuild: z.boolean().default(false),
      days_per_job: z.number().int().min(1).max(50).optional(),
      max_concurrency: z.number().int().min(1).max(32).optional(),
    })
    .strict(),
  locks: () => [],
  var: (p) => p.var,
  sourceBound: false,
  timeoutS: 300,
  submittable: true,
});

export const dataMainL5DayBatch = defineJobKind({
  kind: 'data.main_l5.day_batch',
  description: 'Download, filter, trim and write the main_l5 ticks of consecutive days of one segment (internal)',
  params: z
    .object({
      var: VarietySchema,
      build_id: z.string().regex(/^[0-9a-f]{12}$/),
      batch_index: z.number().int().min(0),
      /** Continuation state after a maintenance wait (§5.5 step 3). */
      cursor: z.number().int().min(0).default(0),
      maintenance_attempts: z.number().int().min(0).default(0),
      waited_s: z.number().min(0).default(0),
      not_before_ms: z.number().int().min(0).default(0),
      continuation: z.number().int().min(0).default(0),
    })
    .strict(),
  locks: () => [],
  var: (p) => p.var,
  sourceBound: true,
  timeoutS: 900,
  submittable: false,
});

export const dataMainL5Finalize = defineJobKind({
  kind: 'data.main_l5.finalize',
  description: 'Coverage, health, validation gate, daily aggregates and the builds row of a main_l5 build (internal)',
  params: z.object({ var: VarietySchema, build_id: z.string().regex(/^[0-9a-f]{12}$/) }).strict(),
  identity: (p) => ({ build_id: p.build_id }),
  locks: () => [],
  var: (p) => p.var,
  sourceBound: false,
  timeoutS: 900,
  submittable: false,
});

export const dataValidate = defineJobKind({
  kind: 'data.validate',
  description: 'Validate main_l5 ticks against sessions and policy; persist summary, gaps and field quality',
  params: z
    .object({
      var: VarietySchema,
      start: IsoDay.optional(),
      end: IsoDay.optional(),
      incremental: z.boolean().default(false),
      provider_check: z.boolean().default(true),
      gap_threshold_s: z.number().min(0.5).optional(),
      strict_ratio: z.number().min(0).max(1).optional(),
      max_segments_per_day: z.number().int().min(10).optional(),
    })
    .strict(),
  locks: () => [],
  var: (p) => p.var,
  sourceBound: true,
  timeoutS: 900,
  submittable: true,
});

export const dataVerify = defineJobKind({
  kind: 'data.verify',
  description:
    'Verify a (legacy) main_l5 dataset: schedule_hash, row hashes, provenance, L5 rule and validation; read-only unless promote',
  params: z
    .object({
      var: VarietySchema,
      /** Check N stored days (evenly spaced, first and last included) instead of every one. */
      sample_days: z.number().int().min(1).optional(),
      /** Append a `legacy_verified` builds row when the result is not `error`. */
      promote: z.boolean().default(false),
    })
    .strict(),
  // Like data.validate: the service checks `main_l5:symbol=<alias>` itself (a live build → refused, never preempted).
  locks: () => [],
  var: (p) => p.var,
  sourceBound: true,
  timeoutS: 900,
  submittable: true,
});

/** `YYYY-MM-DD` naming a real calendar day (`2025-02-30` is refused). */
const RealIsoDay = z.string().refine(isIsoDay, 'expected a real calendar day YYYY-MM-DD');

export const dataFieldQuality = defineJobKind({
  kind: 'data.field_quality',
  description:
    'Field quality of stored main_l5 ticks over a day range: L1/L5 null rates, book invariants, outliers, status and score; read-only',
  params: z
    .object({
      var: VarietySchema,
      /** First stored day to check (default: the first stored day). */
      start: RealIsoDay.optional(),
      /** Last stored day to check (default: the last stored day). */
      end: RealIsoDay.optional(),
    })
    .strict()
    .refine((p) => p.start === undefined || p.end === undefined || p.start <= p.end, {
      message: 'start must not be after end',
      path: ['start'],
    }),
  // Like data.validate: the service checks `main_l5:symbol=<alias>` itself (a live build → refused, never preempted).
  locks: () => [],
  var: (p) => p.var,
  sourceBound: false,
  timeoutS: 900,
  submittable: true,
});

export const dataMigrate = defineJobKind({
  kind: 'data.migrate',
  description: 'Plan (dry run) or apply the tick-store migrations on the DynamoDB ledger',
  params: z
    .object({
      apply: z.boolean().default(false),
      table: z.string().optional(),
      retry_failed: z.boolean().default(false),
    })
    .strict(),
  locks: () => [],
  var: () => 'none',
  sourceBound: false,
  timeoutS: 300,
  submittable: true,
});

export const dataL5Start = defineJobKind({
  kind: 'data.l5_start',
  description:
    'Probe the provider for the first trading day with true-L5 ticks of a variety (cached; --refresh probes)',
  params: z.object({ var: VarietySchema, refresh: z.boolean().default(false) }).strict(),
  locks: () => [],
  var: (p) => p.var,
  sourceBound: true,
  timeoutS: 900,
  submittable: true,
});

export const DATA_JOB_KINDS = [
  dataCalendar,
  dataSchedule,
  dataMainL5,
  dataMainL5DayBatch,
  dataMainL5Finalize,
  dataValidate,
  dataVerify,
  dataFieldQuality,
  dataMigrate,
  dataL5Start,
] as const;
