/**
 * Day outcomes, provider-error handling and the maintenance circuit breaker of main_l5 (data-chain §5.5), as pure
 * decisions: the child job asks `onProviderError` what to do after a failed provider call (re-enqueue through the
 * maintenance wait, back off and retry in-process, or record an outcome), keeps the returned state on its item and
 * feeds recorded failures to `circuitAfterFailure` on the parent. A handler never sleeps through maintenance.
 */
import * as z from 'zod';
import { GhtraderError } from '../../../errors/base.ts';
import { MainL5InputError } from './errors.ts';
import type { CircuitSettings, ProviderRetrySettings } from './settings.ts';
import type { ShapeCounts } from './shape.ts';

export const DAY_OUTCOME_CLASSES = ['written', 'provider_missing', 'transient_skipped', 'engineering_missing'] as const;
export type DayOutcomeClass = (typeof DAY_OUTCOME_CLASSES)[number];

/** The reasons of each class (§5.5 table). A written day has no reason (`null`, the table's "—"). */
export const REASONS_BY_CLASS = {
  written: [],
  provider_missing: ['provider_empty', 'no_l5_rows'],
  transient_skipped: ['maintenance_retry_exhausted', 'maintenance_wait_budget_exhausted', 'maintenance_circuit_open'],
  engineering_missing: ['no_rows_in_session', 'download_failed', 'write_failed', 'readback_mismatch', 'not_attempted'],
} as const satisfies Record<DayOutcomeClass, readonly string[]>;

export type ReasonOf<C extends DayOutcomeClass> = (typeof REASONS_BY_CLASS)[C][number];
export type ProviderMissingReason = ReasonOf<'provider_missing'>;
export type TransientSkippedReason = ReasonOf<'transient_skipped'>;
export type EngineeringMissingReason = ReasonOf<'engineering_missing'>;
export type DayOutcomeReason = ReasonOf<DayOutcomeClass>;

export const DAY_OUTCOME_REASONS: readonly DayOutcomeReason[] = DAY_OUTCOME_CLASSES.flatMap(
  (c) => REASONS_BY_CLASS[c] as readonly DayOutcomeReason[],
);

const CLASS_BY_REASON: ReadonlyMap<string, DayOutcomeClass> = new Map(
  DAY_OUTCOME_CLASSES.flatMap((c) => REASONS_BY_CLASS[c].map((r) => [r, c] as const)),
);

/** The class of a reason (`null` → `written`); throws `MainL5InputError` for an unknown reason. */
export function classOfReason(reason: DayOutcomeReason | null): DayOutcomeClass {
  if (reason === null) return 'written';
  const c = CLASS_BY_REASON.get(reason);
  if (c === undefined) throw new MainL5InputError(`unknown day outcome reason ${JSON.stringify(reason)}`);
  return c;
}

/** Only provider gaps count against `GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE`; everything else is never tolerated. */
export function isTolerableClass(c: DayOutcomeClass): boolean {
  return c === 'provider_missing';
}

/** Exactly one per scheduled day (§5.5); the skip ledger is the non-`written` ones sorted by day. */
export interface DayOutcome {
  day: string;
  underlying_contract: string;
  segment_id: number;
  schedule_hash: string;
  class: DayOutcomeClass;
  /** `null` iff `class` is `written`. */
  reason: DayOutcomeReason | null;
  rows_fetched: number;
  rows_l5: number;
  rows_in_session: number;
  rows_written: number;
  /** Provider calls made for the day (maintenance waits included). */
  attempts: number;
  /** Seconds spent in maintenance waits (re-enqueue delays). */
  wait_total_s: number;
  /** ISO-8601 UTC instant the parent's breaker stays open until, when it was open or opened by this day. */
  circuit_open_until?: string;
  /** The parent's breaker failure count after this day, when it recorded one. */
  circuit_failures?: number;
  /** The provider / write error message, for failed days. */
  error?: string;
  /** ISO-8601 UTC. */
  created_at: string;
}

const IsoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const Count = z.number().int().min(0);

/** Parses a stored outcome (child item, report) back; `class` must match `reason`. */
export const DayOutcomeSchema = z
  .object({
    day: IsoDay,
    underlying_contract: z.string(),
    segment_id: Count,
    schedule_hash: z.string(),
    class: z.enum(DAY_OUTCOME_CLASSES),
    reason: z.enum(DAY_OUTCOME_REASONS as [DayOutcomeReason, ...DayOutcomeReason[]]).nullable(),
    rows_fetched: Count,
    rows_l5: Count,
    rows_in_session: Count,
    rows_written: Count,
    attempts: Count,
    wait_total_s: z.number().min(0),
    circuit_open_until: z.string().optional(),
    circuit_failures: Count.optional(),
    error: z.string().optional(),
    created_at: z.string(),
  })
  .refine((o) => classOfReason(o.reason) === o.class, { message: 'class does not match reason' });

export interface MakeDayOutcomeInput {
  day: string;
  underlying_contract: string;
  segment_id: number | bigint;
  schedule_hash: string;
  /** `null` for a written day. */
  reason: DayOutcomeReason | null;
  counts?: Partial<ShapeCounts>;
  rows_written?: number;
  attempts?: number;
  wait_total_s?: number;
  /** Epoch ms; omitted when null/undefined. */
  circuit_open_until_ms?: number | null;
  circuit_failures?: number | null;
  error?: unknown;
  /** Epoch ms of the outcome. */
  now_ms: number;
}

/** A `DayOutcome` with its class derived from the reason (never set by hand). */
export function makeDayOutcome(input: MakeDayOutcomeInput): DayOutcome {
  const out: DayOutcome = {
    day: input.day,
    underlying_contract: input.underlying_contract,
    segment_id: Number(input.segment_id),
    schedule_hash: input.schedule_hash,
    class: classOfReason(input.reason),
    reason: input.reason,
    rows_fetched: input.counts?.rows_fetched ?? 0,
    rows_l5: input.counts?.rows_l5 ?? 0,
    rows_in_session: input.counts?.rows_in_session ?? 0,
    rows_written: input.rows_written ?? 0,
    attempts: input.attempts ?? 0,
    wait_total_s: input.wait_total_s ?? 0,
    created_at: new Date(input.now_ms).toISOString(),
  };
  if (input.circuit_open_until_ms !== undefined && input.circuit_open_until_ms !== null) {
    out.circuit_open_until = new Date(input.circuit_open_until_ms).toISOString();
  }
  if (input.circuit_failures !== undefined && input.circuit_failures !== null) {
    out.circuit_failures = input.circuit_failures;
  }
  if (input.error !== undefined) out.error = errorMessage(input.error);
  return out;
}

/**
 * The empty-day reason of a shaped day (§5.5 table): no ticks → `provider_empty`; ticks but none true-L5 →
 * `no_l5_rows`; true-L5 rows but none in D's windows → `no_rows_in_session`; `null` when rows remain to write.
 */
export function emptyDayReason(counts: ShapeCounts): 'provider_empty' | 'no_l5_rows' | 'no_rows_in_session' | null {
  if (counts.rows_fetched === 0) return 'provider_empty';
  if (counts.rows_l5 === 0) return 'no_l5_rows';
  if (counts.rows_in_session === 0) return 'no_rows_in_session';
  return null;
}

// ---- provider errors ----------------------------------------------------------------------------------------------

export type ProviderErrorKind = 'maintenance' | 'timeout' | 'other';

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  return String(err);
}

/** Texts an error exposes: message, code, string details (DIFF notify content included) and its cause chain. */
function errorTexts(err: unknown, out: string[], depth: number): void {
  if (depth > 8 || err === null || err === undefined) return;
  if (typeof err === 'string') {
    out.push(err);
    return;
  }
  if (typeof err !== 'object') {
    out.push(String(err));
    return;
  }
  const o = err as Record<string, unknown>;
  if (typeof o.message === 'string') out.push(o.message);
  if (err instanceof GhtraderError) {
    out.push(err.code);
    collectStrings(err.details, out, 0);
  }
  for (const k of ['notify', 'content', 'msg']) collectStrings(o[k], out, 0);
  if (!(err instanceof Error) && typeof o.message !== 'string') out.push(String(err));
  if ('cause' in o) errorTexts(o.cause, out, depth + 1);
}

function collectStrings(v: unknown, out: string[], depth: number): void {
  if (depth > 3 || v === null || v === undefined) return;
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) collectStrings(x, out, depth + 1);
  else if (typeof v === 'object') for (const x of Object.values(v)) collectStrings(x, out, depth + 1);
}

/**
 * §5.5: `maintenance` iff the message or the DIFF notify text contains "maintenance" (case-insensitive), 运维 or
 * 维护; else `timeout` iff it contains "timeout", "timed out" or 超时; else `other`. The error's cause chain,
 * code and string details count as its text.
 */
export function classifyProviderError(err: unknown): ProviderErrorKind {
  const texts: string[] = [];
  errorTexts(err, texts, 0);
  const text = texts.join('\n');
  const lower = text.toLowerCase();
  if (lower.includes('maintenance') || text.includes('运维') || text.includes('维护')) return 'maintenance';
  if (lower.includes('timeout') || lower.includes('timed out') || text.includes('超时')) return 'timeout';
  return 'other';
}

/** Per-day retry state; kept on the child item across re-enqueues (with the day cursor). */
export interface DayRetryState {
  /** Non-maintenance failures so far. */
  readonly attempts: number;
  /** Maintenance waits taken so far. */
  readonly maintenanceAttempts: number;
  /** Seconds of maintenance wait taken so far. */
  readonly waitedS: number;
}

export const INITIAL_DAY_RETRY_STATE: DayRetryState = Object.freeze({
  attempts: 0,
  maintenanceAttempts: 0,
  waitedS: 0,
});

export type ProviderErrorDecision =
  /** Re-enqueue the batch with `not_before = now + delayS` (the day cursor stays on this day). */
  | { action: 'requeue'; delayS: number; next: DayRetryState }
  /** Sleep `backoffS` in-process, recreate the DIFF session iff `reconnect`, call again. */
  | { action: 'retry'; backoffS: number; reconnect: boolean; next: DayRetryState }
  /** Give up on the day with this reason; on `countsAsCircuitFailure` record a breaker failure on the parent. */
  | {
      action: 'outcome';
      reason: 'maintenance_retry_exhausted' | 'maintenance_wait_budget_exhausted' | 'download_failed';
      countsAsCircuitFailure: boolean;
      next: DayRetryState;
    };

/**
 * §5.5 steps 3–4 after a failed provider call of `kind`:
 * - maintenance with wait > 0: maintenance attempts ≥ max retries → `maintenance_retry_exhausted`; remaining =
 *   max total − waited ≤ 0 → `maintenance_wait_budget_exhausted` (both count as breaker failures); else requeue
 *   after min(wait, remaining) with maintenance attempts + 1 and waited + that wait;
 * - anything else (maintenance with wait 0 included): attempts + 1; attempts > retry max → `download_failed`; else
 *   back off min(max_s, base·2^(attempts−1)) and reconnect unless it is a timeout and attempts < timeout_reset_after.
 */
export function onProviderError(
  state: DayRetryState,
  kind: ProviderErrorKind,
  settings: ProviderRetrySettings,
): ProviderErrorDecision {
  if (kind === 'maintenance' && settings.maintenanceWaitS > 0) {
    if (state.maintenanceAttempts >= settings.maintenanceMaxRetries) {
      return { action: 'outcome', reason: 'maintenance_retry_exhausted', countsAsCircuitFailure: true, next: state };
    }
    const remaining = settings.maintenanceMaxTotalWaitS - state.waitedS;
    if (remaining <= 0) {
      return {
        action: 'outcome',
        reason: 'maintenance_wait_budget_exhausted',
        countsAsCircuitFailure: true,
        next: state,
      };
    }
    const wait = Math.min(settings.maintenanceWaitS, remaining);
    return {
      action: 'requeue',
      delayS: wait,
      next: { ...state, maintenanceAttempts: state.maintenanceAttempts + 1, waitedS: state.waitedS + wait },
    };
  }
  const attempts = state.attempts + 1;
  const next = { ...state, attempts };
  if (attempts > settings.retryMax) {
    return { action: 'outcome', reason: 'download_failed', countsAsCircuitFailure: false, next };
  }
  const backoffS = Math.min(settings.retryMaxS, settings.retryBaseS * 2 ** (attempts - 1));
  const reconnect = !(kind === 'timeout' && attempts < settings.timeoutResetAfter);
  return { action: 'retry', backoffS, reconnect, next };
}

/** Provider calls a day has made under `state` (one per failure plus the current one). */
export function providerCalls(state: DayRetryState): number {
  return state.attempts + state.maintenanceAttempts + 1;
}

/** SQS `DelaySeconds` ceiling; a longer wait re-delays itself on early delivery. */
export const SQS_MAX_DELAY_S = 900;

/**
 * `DelaySeconds` for a message that must not run before `notBeforeMs`: 0 when due, else the remaining whole
 * seconds (rounded up) capped at 900. An early message re-sends itself with this delay without calling the provider.
 */
export function sqsDelaySeconds(notBeforeMs: number, nowMs: number): number {
  if (notBeforeMs <= nowMs) return 0;
  return Math.min(SQS_MAX_DELAY_S, Math.ceil((notBeforeMs - nowMs) / 1000));
}

// ---- circuit breaker (per build, on the parent item) ---------------------------------------------------------------

export interface CircuitState {
  readonly failures: number;
  /** Epoch ms the breaker stays open until; null when it never opened (or an expired state was cleared). */
  readonly openUntilMs: number | null;
}

/** §5.5 step 1: the breaker is open iff `circuit_open_until > now`. */
export function circuitOpen(openUntilMs: number | null | undefined, nowMs: number): boolean {
  return openUntilMs !== null && openUntilMs !== undefined && openUntilMs > nowMs;
}

/**
 * One recorded failure: failures + 1; if enabled, cooldown > 0 and failures ≥ threshold, `open_until =
 * max(open_until, now + cooldown)`.
 */
export function circuitAfterFailure(state: CircuitState, settings: CircuitSettings, nowMs: number): CircuitState {
  const failures = state.failures + 1;
  let openUntilMs = state.openUntilMs;
  if (settings.circuitEnabled && settings.circuitCooldownS > 0 && failures >= settings.circuitThreshold) {
    openUntilMs = Math.max(openUntilMs ?? Number.NEGATIVE_INFINITY, nowMs + settings.circuitCooldownS * 1000);
  }
  return { failures, openUntilMs };
}

/** A successful provider call: the failure counter resets and an expired open state is cleared. */
export function circuitAfterSuccess(state: CircuitState, nowMs: number): CircuitState {
  return { failures: 0, openUntilMs: circuitOpen(state.openUntilMs, nowMs) ? state.openUntilMs : null };
}
