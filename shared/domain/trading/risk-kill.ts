/**
 * The durable risk kill (trading-chain §7.3): `ACTIVE --kill(trigger)--> KILLED --reset_risk_kill--> ACTIVE`, one
 * record per account profile with a revision every write is conditional on. Pure: the transitions and the record's
 * schema; `RiskKillStore` is the port (DynamoDB `RiskKill` table). Only the gateway writes (kills and resets); the
 * console and the CLI read it and send commands. No record means ACTIVE at revision 0.
 *
 * Instants are epoch-ns `bigint`s in memory and decimal strings when stored.
 */
import * as z from 'zod';
import { parseOrThrow } from '../control/validation.ts';

export const RISK_KILL_STATES = ['ACTIVE', 'KILLED'] as const;
export type RiskKillState = (typeof RISK_KILL_STATES)[number];

export const RISK_KILL_TRIGGERS = [
  'max_daily_loss',
  'max_drawdown_from_peak',
  'kill_file',
  'operator',
  'repeated_rejects',
  'lease_lost',
] as const;
export type RiskKillTrigger = (typeof RISK_KILL_TRIGGERS)[number];

const NsString = z.string().regex(/^\d{1,19}$/, 'expected epoch nanoseconds as a decimal string');

/** The stored record (strings for instants). */
export const RiskKillRecordWireSchema = z.object({
  account_profile: z.string().regex(/^[a-z0-9_]{1,32}$/),
  state: z.enum(RISK_KILL_STATES),
  revision: z.number().int().min(1),
  trigger: z.enum(RISK_KILL_TRIGGERS).nullable(),
  reason: z.string().max(1000),
  details: z.record(z.string(), z.unknown()),
  killed_at_ns: NsString.nullable(),
  killed_by: z.string().max(200).nullable(),
  reset_at_ns: NsString.nullable(),
  reset_by: z.string().max(200).nullable(),
  reset_note: z.string().max(1000).nullable(),
  /** The fencing token of the gateway lease the write was made under (trading-chain §2). */
  fence: z.number().int().min(0),
});
export type RiskKillRecordWire = z.infer<typeof RiskKillRecordWireSchema>;

export type RiskKillRecord = Omit<RiskKillRecordWire, 'killed_at_ns' | 'reset_at_ns'> & {
  killed_at_ns: bigint | null;
  reset_at_ns: bigint | null;
};

export function parseRiskKillRecord(input: unknown, what = 'risk-kill record'): RiskKillRecord {
  const w = parseOrThrow(RiskKillRecordWireSchema, input, what);
  return {
    ...w,
    killed_at_ns: w.killed_at_ns === null ? null : BigInt(w.killed_at_ns),
    reset_at_ns: w.reset_at_ns === null ? null : BigInt(w.reset_at_ns),
  };
}

export function riskKillToWire(r: RiskKillRecord): RiskKillRecordWire {
  return {
    ...r,
    killed_at_ns: r.killed_at_ns === null ? null : r.killed_at_ns.toString(),
    reset_at_ns: r.reset_at_ns === null ? null : r.reset_at_ns.toString(),
  };
}

/** True when the record says KILLED (no record: not killed). */
export function isKilled(r: RiskKillRecord | null): boolean {
  return r?.state === 'KILLED';
}

export interface KillInput {
  trigger: RiskKillTrigger;
  reason: string;
  details?: Record<string, unknown>;
  at_ns: bigint;
  by: string;
  fence: number;
}

/** The record after a kill, or null when already KILLED (a kill while KILLED is a no-op). */
export function applyKill(profile: string, prev: RiskKillRecord | null, k: KillInput): RiskKillRecord | null {
  if (isKilled(prev)) return null;
  return {
    account_profile: profile,
    state: 'KILLED',
    revision: (prev?.revision ?? 0) + 1,
    trigger: k.trigger,
    reason: k.reason,
    details: k.details ?? {},
    killed_at_ns: k.at_ns,
    killed_by: k.by,
    reset_at_ns: prev?.reset_at_ns ?? null,
    reset_by: prev?.reset_by ?? null,
    reset_note: prev?.reset_note ?? null,
    fence: k.fence,
  };
}

export interface ResetInput {
  at_ns: bigint;
  /** Must be a non-empty operator name (`issued_by` of the command). */
  by: string;
  note: string;
  fence: number;
}

/**
 * The record after `reset_risk_kill`: KILLED(r) -> ACTIVE(r+1), keeping what was killed for the record. Resetting an
 * ACTIVE profile changes nothing (`was_killed: false`, `next: null`).
 */
export function applyReset(
  profile: string,
  prev: RiskKillRecord | null,
  r: ResetInput,
): { was_killed: boolean; next: RiskKillRecord | null } {
  if (r.by.trim() === '') throw new Error('reset_risk_kill needs a non-empty issued_by');
  if (!prev || !isKilled(prev)) return { was_killed: false, next: null };
  return {
    was_killed: true,
    next: {
      ...prev,
      account_profile: profile,
      state: 'ACTIVE',
      revision: prev.revision + 1,
      reset_at_ns: r.at_ns,
      reset_by: r.by,
      reset_note: r.note,
      fence: r.fence,
    },
  };
}

/**
 * Port: the durable record. `put` writes `next` only if the stored revision is `next.revision - 1` (or there is none
 * and `next.revision` is 1); false on a conflict (re-read and re-apply).
 */
export interface RiskKillStore {
  get(profile: string): Promise<RiskKillRecord | null>;
  put(next: RiskKillRecord): Promise<boolean>;
}
