/**
 * The registry of job kinds: a closed set. Later issues add the model kinds here.
 */
import type { z } from 'zod';
import { ACCOUNT_JOB_KINDS } from './account.ts';
import { DATA_JOB_KINDS } from './data.ts';
import { systemSelftest, systemSleep } from './system.ts';
import type { JobKindDef } from './types.ts';

export type { JobKindDef } from './types.ts';
export { defineJobKind } from './types.ts';

const ALL: JobKindDef[] = [
  systemSelftest,
  systemSleep,
  ...DATA_JOB_KINDS,
  ...ACCOUNT_JOB_KINDS,
] as unknown as JobKindDef[];

function registry(kinds: JobKindDef[]): ReadonlyMap<string, JobKindDef> {
  const map = new Map<string, JobKindDef>();
  for (const k of kinds) {
    if (map.has(k.kind)) throw new Error(`job kind ${k.kind} is declared twice`);
    map.set(k.kind, k);
  }
  return map;
}

export const JOB_KINDS: ReadonlyMap<string, JobKindDef> = registry(ALL);

/** The kind definition, or undefined for a kind that does not exist. */
export function findJobKind(kind: string): JobKindDef<z.ZodType> | undefined {
  return JOB_KINDS.get(kind);
}
