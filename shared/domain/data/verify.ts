/**
 * Verification of legacy main_l5 datasets (data-chain §6.8, `ghtrader data verify`, job `data.verify`): the pure
 * parts. The service (`shared/services/data/verify.ts`) reads and composes; everything here works on values.
 *
 * - Schedule check: the hash recomputed from the stored schedule rows equal to the stored `schedule_hash` → `match`;
 *   unequal while the first stored day lies after the configured start (the predecessor deleted the rows before the
 *   first L5 day but kept the old hash) → the provider's rebuilt prefix is put in front of the stored rows and the hash
 *   recomputed: equal → `match_after_prefix_reconstruction`, else `unverifiable` (warn); otherwise `mismatch` (error).
 * - Per day, over the store's column arrays: `fnv1a64_v1` recomputed for every row, provenance against the day's
 *   schedule row, the legacy rule `l5_any_depth_v1` (a failing row is an error) and the strict rule
 *   `l5_levels_2_5_v2` (failing rows are counted, a warning).
 * - Sampling (`--sample-days N`) and the fold of the parts into one state (ok < warn < error).
 */
import * as z from 'zod';
import { ScheduleInputError } from '../../errors/data.ts';
import { VarietySchema } from '../control/varieties.ts';
import { L5_RULE, LEGACY_L5_RULE } from './main-l5/l5-rule.ts';
import { LIMB_HI, LIMB_LO, RowHasher } from './main-l5/row-hasher.ts';
import { assignSegments, type ScheduleRow, scheduleHash, schedulePrefixHashes } from './schedule.ts';
import { TICK_NUMERIC_COLUMN_COUNT } from './tick-columns.ts';
import type { TickDayRows } from './tick-store.ts';
import { l5RowMask } from './validation/l5-rows.ts';

/** Report step and builds-row mode of a verification. */
export const VERIFY_REPORT_STEP = 'main_l5_verify';
export const LEGACY_VERIFIED_MODE = 'legacy_verified';

/** What the service is asked to do (the job's params, camel-cased). */
export const VerifyRequestSchema = z
  .object({
    variety: VarietySchema,
    jobId: z.string().min(1),
    /** Check only N stored days, evenly spaced, first and last included (`sampleDays`); absent = every day. */
    sampleDays: z.number().int().min(1).optional(),
    /** Append a `legacy_verified` builds row when the result is not `error`. */
    promote: z.boolean().default(false),
  })
  .strict();
export type VerifyRequest = z.input<typeof VerifyRequestSchema>;
export type VerifyParams = z.output<typeof VerifyRequestSchema>;

// ---------------------------------------------------------------------------------------------------------------
// States

export type VerifyState = 'ok' | 'warn' | 'error';
const RANK: Readonly<Record<VerifyState, number>> = { ok: 0, warn: 1, error: 2 };

/** The worst of `states` (ok < warn < error); `ok` for none. */
export function worstState(states: Iterable<VerifyState>): VerifyState {
  let worst: VerifyState = 'ok';
  for (const s of states) if (RANK[s] > RANK[worst]) worst = s;
  return worst;
}

// ---------------------------------------------------------------------------------------------------------------
// Sampling

/**
 * The days `--sample-days n` checks: `n` of `days` (ascending) evenly spaced by index, the first and the last always
 * included (index round(i·(len−1)/(n−1)) for i = 0…n−1; n = 1 → the first day). Every day when `n` is absent or
 * ≥ the number of days. Deterministic: the same stored days always give the same sample.
 */
export function sampleDays(days: readonly string[], n: number | undefined): string[] {
  if (n === undefined || n >= days.length) return [...days];
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`sample size must be a positive integer, got ${n}`);
  if (n === 1) return days.slice(0, 1);
  const last = days.length - 1;
  const out: string[] = [];
  // Integer rounding (half up) of i·last/(n−1); consecutive picks differ by ≥ 1 since last ≥ n − 1.
  for (let i = 0; i < n; i++) out.push(days[Math.floor((2 * i * last + (n - 1)) / (2 * (n - 1)))] as string);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Schedule check

export type ScheduleHashCheck = 'match' | 'match_after_prefix_reconstruction' | 'unverifiable' | 'mismatch';

export type ScheduleCheckReason =
  | 'recomputed_hash_matches'
  | 'prefix_reconstruction_matches'
  | 'schedule_rows_invalid'
  | 'schedule_hash_missing'
  | 'mixed_schedule_hash'
  | 'recomputed_hash_differs'
  | 'configured_start_unknown'
  | 'prefix_unavailable'
  | 'no_prefix_days'
  | 'prefix_reconstruction_differs';

/** The provider's rebuilt schedule before the first stored day (§4.2 expansion), or why it could not be had. */
export type PrefixSource =
  | { readonly ok: true; readonly days: readonly { trading_day: string; main_contract: string }[] }
  | { readonly ok: false; readonly error: string };

export interface ScheduleCheckInput {
  /** The stored schedule rows, ascending by day, at least one. */
  stored: readonly ScheduleRow[];
  /** The distinct `schedule_hash` values stamped on them. */
  storedHashes: readonly string[];
  /** `GHTRADER_L5_START_DATE[_<VAR>]`; needed only when the recomputed hash differs. */
  configuredStart: string | null;
  /** Needed only when `needsPrefixReconstruction` says so; null = not attempted. */
  prefix: PrefixSource | null;
}

export interface ScheduleCheck {
  check: ScheduleHashCheck;
  state: VerifyState;
  reason: ScheduleCheckReason;
  /** The stored hash (null when the rows carry none or several). */
  stored_hash: string | null;
  stored_hashes: string[];
  /** Recomputed over the stored rows (§4.3 canonical bytes); null when a row cannot be rendered (bad contract). */
  recomputed_hash: string | null;
  /** Recomputed over prefix + stored rows; null when no reconstruction was attempted. */
  reconstructed_hash: string | null;
  first_stored_day: string;
  last_stored_day: string;
  stored_days: number;
  configured_start: string | null;
  /** Days the reconstruction put in front of the stored rows. */
  prefix_days: number;
  prefix_error: string | null;
}

const HASH_RE = /^[0-9a-f]{16}$/;

export const SCHEDULE_CHECK_STATE: Readonly<Record<ScheduleHashCheck, VerifyState>> = {
  match: 'ok',
  match_after_prefix_reconstruction: 'ok',
  unverifiable: 'warn',
  mismatch: 'error',
};

/** `scheduleHash`, or null when a row cannot be rendered (a contract not `EXCHANGE.code`, a bad segment id). */
function hashOrNull(rows: readonly ScheduleRow[]): string | null {
  try {
    return scheduleHash(rows);
  } catch (err) {
    if (err instanceof ScheduleInputError) return null;
    throw err;
  }
}

/** The single well-formed stored hash, or null (none, several, or not 16 lowercase hex). */
function soleStoredHash(hashes: readonly string[]): string | null {
  return hashes.length === 1 && HASH_RE.test(hashes[0] as string) ? (hashes[0] as string) : null;
}

/**
 * Whether the service must rebuild the prefix from the provider: one well-formed stored hash, the recomputation
 * differs and the first stored day is after the configured start.
 */
export function needsPrefixReconstruction(
  stored: readonly ScheduleRow[],
  storedHashes: readonly string[],
  configuredStart: string,
): boolean {
  const hash = soleStoredHash(storedHashes);
  const first = stored[0];
  if (hash === null || first === undefined || first.trading_day <= configuredStart) return false;
  const recomputed = hashOrNull(stored);
  return recomputed !== null && recomputed !== hash;
}

/** Whether the configured start is needed at all (the recomputed hash differs from a sole well-formed stored hash). */
export function needsConfiguredStart(stored: readonly ScheduleRow[], storedHashes: readonly string[]): boolean {
  const hash = soleStoredHash(storedHashes);
  if (hash === null || stored.length === 0) return false;
  const recomputed = hashOrNull(stored);
  return recomputed !== null && recomputed !== hash;
}

/**
 * The full schedule the predecessor hashed: the provider's prefix days (those before the first stored day) with
 * segment ids assigned over prefix + stored days (§4.2 rule 5), followed by the stored rows exactly as stored.
 */
export function reconstructWithPrefix(
  prefix: readonly { trading_day: string; main_contract: string }[],
  stored: readonly ScheduleRow[],
): ScheduleRow[] {
  const first = stored[0]?.trading_day;
  const before = prefix
    .filter((d) => first === undefined || d.trading_day < first)
    .sort((a, b) => (a.trading_day < b.trading_day ? -1 : a.trading_day > b.trading_day ? 1 : 0));
  const numbered = assignSegments([...before, ...stored]);
  return [...numbered.slice(0, before.length), ...stored];
}

/**
 * Classify the stored schedule (§6.8 step 2). Returns the check and the rows provenance lineage is taken from: the
 * reconstructed schedule after a prefix match, else the stored rows.
 */
export function checkSchedule(input: ScheduleCheckInput): { check: ScheduleCheck; rows: ScheduleRow[] } {
  const { stored, storedHashes, configuredStart } = input;
  const first = stored[0];
  const last = stored[stored.length - 1];
  if (first === undefined || last === undefined) throw new RangeError('checkSchedule needs at least one stored row');
  const recomputed = hashOrNull(stored);
  const sole = soleStoredHash(storedHashes);
  const result = (
    check: ScheduleHashCheck,
    reason: ScheduleCheckReason,
    extra: Partial<Pick<ScheduleCheck, 'reconstructed_hash' | 'prefix_days' | 'prefix_error'>> = {},
  ): ScheduleCheck => ({
    check,
    state: SCHEDULE_CHECK_STATE[check],
    reason,
    stored_hash: sole,
    stored_hashes: [...storedHashes],
    recomputed_hash: recomputed,
    reconstructed_hash: extra.reconstructed_hash ?? null,
    first_stored_day: first.trading_day,
    last_stored_day: last.trading_day,
    stored_days: stored.length,
    configured_start: configuredStart,
    prefix_days: extra.prefix_days ?? 0,
    prefix_error: extra.prefix_error ?? null,
  });
  const rows = [...stored];
  if (recomputed === null) return { check: result('mismatch', 'schedule_rows_invalid'), rows };
  if (sole === null) {
    return {
      check: result('mismatch', storedHashes.length > 1 ? 'mixed_schedule_hash' : 'schedule_hash_missing'),
      rows,
    };
  }
  if (recomputed === sole) return { check: result('match', 'recomputed_hash_matches'), rows };
  if (configuredStart === null) return { check: result('mismatch', 'configured_start_unknown'), rows };
  if (first.trading_day <= configuredStart) return { check: result('mismatch', 'recomputed_hash_differs'), rows };

  const prefix = input.prefix;
  if (prefix === null || !prefix.ok) {
    const error = prefix === null ? 'prefix reconstruction not attempted' : prefix.error;
    return { check: result('unverifiable', 'prefix_unavailable', { prefix_error: error }), rows };
  }
  const full = reconstructWithPrefix(
    prefix.days.filter((d) => d.trading_day >= configuredStart),
    stored,
  );
  const prefixDays = full.length - stored.length;
  if (prefixDays === 0) return { check: result('unverifiable', 'no_prefix_days'), rows };
  const reconstructed = hashOrNull(full);
  if (reconstructed !== sole) {
    return {
      check: result('unverifiable', 'prefix_reconstruction_differs', {
        reconstructed_hash: reconstructed,
        prefix_days: prefixDays,
      }),
      rows,
    };
  }
  return {
    check: result('match_after_prefix_reconstruction', 'prefix_reconstruction_matches', {
      reconstructed_hash: reconstructed,
      prefix_days: prefixDays,
    }),
    rows: full,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Provenance expectations

/** A stored schedule row with the hash stamped on it. */
export interface StoredScheduleDay extends ScheduleRow {
  schedule_hash: string;
}

export interface DayExpectation {
  trading_day: string;
  main_contract: string;
  segment_id: number;
  schedule_hash: string;
  /** Position of the day in the lineage schedule; −1 when the day is not in it. */
  index: number;
}

/**
 * What each tick day's provenance must equal: its stored schedule row (`main_contract`, `segment_id`,
 * `schedule_hash`). A tick `schedule_hash` that is not the row's own but a prefix hash of the (verified) schedule
 * whose prefix includes the day is accepted as lineage (§4.3: rows written under an earlier, shorter version of the
 * same schedule stay valid) and counted separately.
 */
export class ProvenanceExpectations {
  private readonly byDay = new Map<string, DayExpectation>();
  /** Prefix hash → number of rows in that prefix. */
  private readonly prefixLength = new Map<string, number>();

  constructor(stored: readonly StoredScheduleDay[], lineageRows: readonly ScheduleRow[]) {
    const index = new Map(lineageRows.map((r, i) => [r.trading_day, i]));
    for (const r of stored) {
      this.byDay.set(r.trading_day, {
        trading_day: r.trading_day,
        main_contract: r.main_contract,
        segment_id: r.segment_id,
        schedule_hash: r.schedule_hash,
        index: index.get(r.trading_day) ?? -1,
      });
    }
    let prefixes: string[] = [];
    try {
      prefixes = schedulePrefixHashes(lineageRows);
    } catch (err) {
      // Rows that cannot be rendered have no lineage: only exact equality with the day's row is accepted.
      if (!(err instanceof ScheduleInputError)) throw err;
    }
    prefixes.forEach((h, i) => {
      if (!this.prefixLength.has(h)) this.prefixLength.set(h, i + 1);
    });
  }

  /** The day's expectation, or null when the stored schedule has no row for it. */
  of(day: string): DayExpectation | null {
    return this.byDay.get(day) ?? null;
  }

  /** Whether `hash` is a prefix hash of the lineage schedule covering the day at `index`. */
  isLineageHash(hash: string, index: number): boolean {
    const len = this.prefixLength.get(hash);
    return index >= 0 && len !== undefined && len > index;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Per-day tick checks

export interface DayCheck {
  trading_day: string;
  rows: number;
  row_hash_mismatches: number;
  /** Rows with at least one provenance problem (each row counted once). */
  provenance_errors: number;
  /** Rows per provenance problem (a row may count under several). */
  provenance: {
    no_schedule_row: number;
    underlying_contract: number;
    segment_id: number;
    schedule_hash: number;
  };
  /** Rows whose `schedule_hash` is a compatible prefix hash rather than the schedule row's own (accepted). */
  lineage_hash_rows: number;
  /** Rows failing the legacy rule `l5_any_depth_v1` (errors). */
  l5_any_depth_violations: number;
  /** Rows failing the strict rule `l5_levels_2_5_v2` (warnings; includes the legacy failures). */
  l5_strict_violations: number;
  /** The first row whose stored `row_hash` differs from the recomputation (int64 as strings). */
  first_row_hash_mismatch: { datetime_ns: string; stored: string; recomputed: string } | null;
  /** The first row with a provenance problem. */
  first_provenance_error: {
    datetime_ns: string;
    underlying_contract: string;
    segment_id: string;
    schedule_hash: string;
  } | null;
}

/**
 * Check one stored day (§6.8 step 3): recompute `fnv1a64_v1` of every row (32-bit-limb `RowHasher`, compared limb by
 * limb, no BigInt per row), check every row's provenance against `expected` (null = the schedule has no row for the
 * day: every row is a provenance error) and count the rows failing each L5 rule. `hasher` and `scratch` are reused
 * across days by the caller.
 */
export function checkTickDay(
  day: string,
  ticks: TickDayRows,
  expected: DayExpectation | null,
  lineage: Pick<ProvenanceExpectations, 'isLineageHash'>,
  hasher: RowHasher = new RowHasher(),
  scratch: Float64Array = new Float64Array(TICK_NUMERIC_COLUMN_COUNT),
): DayCheck {
  const n = ticks.datetimeNs.length;
  const out: DayCheck = {
    trading_day: day,
    rows: n,
    row_hash_mismatches: 0,
    provenance_errors: 0,
    provenance: { no_schedule_row: 0, underlying_contract: 0, segment_id: 0, schedule_hash: 0 },
    lineage_hash_rows: 0,
    l5_any_depth_violations: 0,
    l5_strict_violations: 0,
    first_row_hash_mismatch: null,
    first_provenance_error: null,
  };
  if (n === 0) return out;

  // Row hashes: stored int64s viewed as uint32 limbs.
  const storedLimbs = new Uint32Array(ticks.rowHash.buffer, ticks.rowHash.byteOffset, n * 2);
  const cols = ticks.values;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < TICK_NUMERIC_COLUMN_COUNT; c++) scratch[c] = (cols[c] as Float64Array)[r] as number;
    hasher.hash(ticks.datetimeNs[r] as bigint, scratch);
    if (hasher.hi !== storedLimbs[2 * r + LIMB_HI] || hasher.lo !== storedLimbs[2 * r + LIMB_LO]) {
      out.row_hash_mismatches++;
      out.first_row_hash_mismatch ??= {
        datetime_ns: String(ticks.datetimeNs[r]),
        stored: String(ticks.rowHash[r]),
        recomputed: String(hasher.value()),
      };
    }
  }

  // Provenance.
  const segment = expected === null ? -1n : BigInt(expected.segment_id);
  for (let r = 0; r < n; r++) {
    const contract = ticks.underlyingContract[r] ?? '';
    const seg = ticks.segmentId[r] as bigint;
    const hash = ticks.scheduleHash[r] ?? '';
    let bad = false;
    if (expected === null) {
      out.provenance.no_schedule_row++;
      bad = true;
    } else {
      if (contract === '' || contract !== expected.main_contract) {
        out.provenance.underlying_contract++;
        bad = true;
      }
      // −1 is how the store reads a NULL segment_id.
      if (seg < 0n || seg !== segment) {
        out.provenance.segment_id++;
        bad = true;
      }
      if (hash !== expected.schedule_hash) {
        if (hash !== '' && lineage.isLineageHash(hash, expected.index)) out.lineage_hash_rows++;
        else {
          out.provenance.schedule_hash++;
          bad = true;
        }
      }
    }
    if (bad) {
      out.provenance_errors++;
      out.first_provenance_error ??= {
        datetime_ns: String(ticks.datetimeNs[r]),
        underlying_contract: contract,
        segment_id: String(seg),
        schedule_hash: hash,
      };
    }
  }

  // L5 rules, column-wise.
  const legacy = l5RowMask(cols, n, LEGACY_L5_RULE);
  const strict = l5RowMask(cols, n, L5_RULE);
  for (let r = 0; r < n; r++) {
    if (legacy[r] === 0) out.l5_any_depth_violations++;
    if (strict[r] === 0) out.l5_strict_violations++;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Totals and the overall state

const SAMPLE_DAYS = 20;

export interface VerifyTotals {
  days_checked: number;
  rows_checked: number;
  row_hash_mismatches: number;
  provenance_errors: number;
  provenance: DayCheck['provenance'];
  lineage_hash_rows: number;
  l5_any_depth_violations: number;
  l5_strict_violations: number;
  /** Days with any count above zero (≤ 20, in day order), with their counts and first examples. */
  problem_days: DayCheck[];
  problem_days_total: number;
}

export function emptyTotals(): VerifyTotals {
  return {
    days_checked: 0,
    rows_checked: 0,
    row_hash_mismatches: 0,
    provenance_errors: 0,
    provenance: { no_schedule_row: 0, underlying_contract: 0, segment_id: 0, schedule_hash: 0 },
    lineage_hash_rows: 0,
    l5_any_depth_violations: 0,
    l5_strict_violations: 0,
    problem_days: [],
    problem_days_total: 0,
  };
}

/** Add one day's check into `t` (mutates and returns it). */
export function addDayCheck(t: VerifyTotals, d: DayCheck): VerifyTotals {
  t.days_checked++;
  t.rows_checked += d.rows;
  t.row_hash_mismatches += d.row_hash_mismatches;
  t.provenance_errors += d.provenance_errors;
  for (const k of Object.keys(t.provenance) as (keyof DayCheck['provenance'])[]) t.provenance[k] += d.provenance[k];
  t.lineage_hash_rows += d.lineage_hash_rows;
  t.l5_any_depth_violations += d.l5_any_depth_violations;
  t.l5_strict_violations += d.l5_strict_violations;
  if (
    d.row_hash_mismatches +
      d.provenance_errors +
      d.l5_any_depth_violations +
      d.l5_strict_violations +
      d.lineage_hash_rows >
    0
  ) {
    t.problem_days_total++;
    if (t.problem_days.length < SAMPLE_DAYS) t.problem_days.push(d);
  }
  return t;
}

export type VerifyIssueCode =
  | 'schedule_unverifiable'
  | 'schedule_mismatch'
  | 'row_hash_mismatch'
  | 'provenance_mismatch'
  | 'l5_any_depth_violation'
  | 'l5_strict_violation'
  | 'validation_warn'
  | 'validation_error';

export interface VerifyIssue {
  code: VerifyIssueCode;
  state: Exclude<VerifyState, 'ok'>;
  message: string;
}

export interface VerifyValidationPart {
  /** `ok` | `warn` | `error` (overall state of §6.5), or `error` when validation could not run. */
  state: VerifyState;
  reason_code: string;
  action_hint: string;
}

/**
 * Fold the parts into the overall state (worst of: schedule check, row hashes, provenance, legacy L5 rule — errors;
 * strict L5 rule — warning; validation's own overall state) with one issue per non-ok part.
 */
export function foldVerifyState(parts: {
  schedule: Pick<ScheduleCheck, 'check' | 'state' | 'reason'>;
  totals: Pick<
    VerifyTotals,
    'row_hash_mismatches' | 'provenance_errors' | 'l5_any_depth_violations' | 'l5_strict_violations'
  >;
  validation: VerifyValidationPart;
}): { state: VerifyState; ok: boolean; issues: VerifyIssue[] } {
  const { schedule, totals, validation } = parts;
  const issues: VerifyIssue[] = [];
  if (schedule.check === 'unverifiable') {
    issues.push({
      code: 'schedule_unverifiable',
      state: 'warn',
      message: `schedule_hash could not be confirmed (${schedule.reason})`,
    });
  } else if (schedule.check === 'mismatch') {
    issues.push({
      code: 'schedule_mismatch',
      state: 'error',
      message: `schedule_hash does not match the stored schedule rows (${schedule.reason})`,
    });
  }
  if (totals.row_hash_mismatches > 0) {
    issues.push({
      code: 'row_hash_mismatch',
      state: 'error',
      message: `${totals.row_hash_mismatches} rows whose row_hash is not fnv1a64_v1 of their values`,
    });
  }
  if (totals.provenance_errors > 0) {
    issues.push({
      code: 'provenance_mismatch',
      state: 'error',
      message: `${totals.provenance_errors} rows whose provenance is empty or differs from their day's schedule row`,
    });
  }
  if (totals.l5_any_depth_violations > 0) {
    issues.push({
      code: 'l5_any_depth_violation',
      state: 'error',
      message: `${totals.l5_any_depth_violations} rows fail the dataset's own rule ${LEGACY_L5_RULE}`,
    });
  }
  if (totals.l5_strict_violations > 0) {
    issues.push({
      code: 'l5_strict_violation',
      state: 'warn',
      message: `${totals.l5_strict_violations} rows fail the strict rule ${L5_RULE}`,
    });
  }
  if (validation.state !== 'ok') {
    issues.push({
      code: validation.state === 'error' ? 'validation_error' : 'validation_warn',
      state: validation.state,
      message: `validation ${validation.state}: ${validation.reason_code}; ${validation.action_hint}`,
    });
  }
  const state = worstState([schedule.state, ...issues.map((i) => i.state)]);
  return { state, ok: state !== 'error', issues };
}
