/**
 * Job kinds that exist only in the worker's unit tests: the real registry is closed and its system kinds take no
 * locks, so these give the worker's lock decisions something to decide about.
 */
import * as z from 'zod';
// From types.ts, not the registry: the worker test mocks the registry module and imports this file from the mock.
import { defineJobKind, type JobKindDef } from '#shared/domain/control/job-kinds/types.ts';
import { VarietySchema } from '#shared/domain/control/varieties.ts';

const LockedParamsSchema = z.object({ var: VarietySchema }).strict();

/** The `main_l5` lock of the variety, as `data.main_l5` takes it. */
const mainL5Locks = (p: z.infer<typeof LockedParamsSchema>) => [`main_l5:symbol=KQ.m@SHFE.${p.var}`];

const locked = defineJobKind({
  kind: 'test.locked',
  description: 'Holds the main_l5 lock of its variety (waits for it with the default lock wait)',
  params: LockedParamsSchema,
  locks: mainL5Locks,
  var: (p) => p.var,
  sourceBound: false,
  timeoutS: 60,
  submittable: true,
});

const lockedNoWait = defineJobKind({ ...locked, kind: 'test.locked_no_wait', lockWaitS: 0 });

const trading = defineJobKind({
  kind: 'test.trading',
  description: 'A kind that wrongly asks for a trading lock',
  params: LockedParamsSchema,
  locks: () => ['trade:account=main'],
  var: (p) => p.var,
  sourceBound: false,
  timeoutS: 60,
  submittable: true,
});

/** Source-bound (a DIFF session): one of the source slot leases, and no lock of its own. */
const source = defineJobKind({
  kind: 'test.source',
  description: 'Takes a source slot only',
  params: LockedParamsSchema,
  locks: () => [],
  var: (p) => p.var,
  sourceBound: true,
  timeoutS: 60,
  submittable: true,
});

/** Source-bound and holding the main_l5 lock, as a schedule rebuild holds its schedule lock. */
const sourceLocked = defineJobKind({ ...locked, kind: 'test.source_locked', sourceBound: true });

/** No locks; its handler reports progress (the progress log cadence). */
const progress = defineJobKind({ ...source, kind: 'test.progress', sourceBound: false });

export const testKinds: ReadonlyMap<string, JobKindDef> = new Map(
  ([locked, lockedNoWait, trading, source, sourceLocked, progress] as unknown as JobKindDef[]).map((k) => [k.kind, k]),
);
