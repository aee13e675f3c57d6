/**
 * Finalize of a main_l5 build (data-chain §5.6 steps 1–3 and the messages of steps 4 and 6): coverage against the
 * schedule, the aligned start, missing-day classes from the day outcomes, tolerance, health errors and the skip
 * ledger. Pure: the caller queries covered days, the first stored day and the stored hashes directly from the tick
 * table (typed values, no cache) and collects the outcomes from the children.
 */
import { MainL5InputError } from './errors.ts';
import { DAY_OUTCOME_CLASSES, type DayOutcome, type DayOutcomeClass, type DayOutcomeReason } from './outcomes.ts';
import type { PlanScheduleRow } from './plan.ts';

/** Samples list the first 8 days (§5.6.3). */
export const SAMPLE_DAYS = 8;

export interface BuildHealthInput {
  /** Every schedule row of [schedule start, end], ascending (the pinned schedule). */
  readonly scheduleDays: readonly PlanScheduleRow[];
  /** Distinct `trading_day` of stored rows in [schedule start, end] under compatible hashes. */
  readonly coveredDays: ReadonlySet<string>;
  /** Trading day of the symbol's first stored tick (any hash); null when nothing is stored. */
  readonly firstStoredDay: string | null;
  /** Outcomes recorded by the children; for a day recorded twice the latest `created_at` wins. */
  readonly outcomes: readonly DayOutcome[];
  /** Resolved `GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE[_<VAR>]`. */
  readonly tolerance: number;
  /** Distinct non-empty `schedule_hash` values of the symbol's stored rows after the build. */
  readonly storedHashes: readonly string[];
  /** prefixHashes of the pinned schedule. */
  readonly prefixHashes: readonly string[];
  /** The `schedule_hash` pinned at planning. */
  readonly pinnedHash: string;
  /** prefixHashes of the schedule as stored now (re-read at finalize). */
  readonly currentPrefixHashes: readonly string[];
  /** Children that ended `failed`. */
  readonly failedChildren: number;
  /** ISO-8601 `created_at` of the outcomes finalize synthesizes (`not_attempted`, `readback_mismatch`). */
  readonly now?: string;
}

export interface SegmentMissing {
  segment_id: number;
  underlying_contract: string;
  missing_days: number;
  total_days: number;
}

export interface BuildHealth {
  /** Trading day of the first stored tick (null when nothing is stored). */
  aligned_start: string | null;
  expected_days: number;
  expected_days_sample: string[];
  covered_days: number;
  covered_days_sample: string[];
  covered_first_day: string | null;
  covered_last_day: string | null;
  missing_days: number;
  missing_days_sample: string[];
  provider_missing_days: number;
  provider_missing_days_sample: string[];
  transient_skipped_days: number;
  transient_skipped_days_sample: string[];
  engineering_missing_days: number;
  engineering_missing_days_sample: string[];
  missing_by_segment: SegmentMissing[];
  missing_days_tolerance: number;
  tolerated_provider_missing_days: number;
  provider_missing_days_excess: number;
  /** Health errors of §5.6.3 (validation-gate errors are appended by the caller). */
  errors: string[];
  /** Non-`written` outcomes sorted by day (synthesized ones included). */
  skip_ledger: DayOutcome[];
  skip_ledger_total: number;
  skip_ledger_by_reason: Record<string, number>;
  skip_ledger_by_class: Record<string, number>;
}

function latestByDay(outcomes: readonly DayOutcome[]): Map<string, DayOutcome> {
  const byDay = new Map<string, DayOutcome>();
  for (const o of outcomes) {
    const prev = byDay.get(o.day);
    if (prev === undefined || o.created_at >= prev.created_at) byDay.set(o.day, o);
  }
  return byDay;
}

function countBy<T extends string>(items: readonly T[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const k of items) counts.set(k, (counts.get(k) ?? 0) + 1);
  const out: Record<string, number> = {};
  for (const k of [...counts.keys()].sort()) out[k] = counts.get(k) as number;
  return out;
}

function describeCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

const sample = (days: readonly string[]): string[] => days.slice(0, SAMPLE_DAYS);

/**
 * §5.6 steps 1–3. Missing = expected − covered, each missing day taking the class of its outcome
 * (`engineering_missing/not_attempted` if none; a `written` outcome for an uncovered day becomes
 * `engineering_missing/readback_mismatch`). Days before `aligned_start` leave the expected set only if their class
 * is `provider_missing`. Health errors: any engineering_missing, any transient_skipped (never tolerated), provider
 * missing above the tolerance, stored hashes outside the pinned lineage, failed children, and
 * `schedule_changed_during_build` when the pinned hash is no longer a prefix of the current schedule.
 */
export function computeBuildHealth(input: BuildHealthInput): BuildHealth {
  const tolerance = input.tolerance;
  if (!Number.isSafeInteger(tolerance) || tolerance < 0) {
    throw new MainL5InputError(`missing-days tolerance must be an integer ≥ 0, got ${String(tolerance)}`);
  }
  if (!Number.isSafeInteger(input.failedChildren) || input.failedChildren < 0) {
    throw new MainL5InputError(`failed children must be an integer ≥ 0, got ${String(input.failedChildren)}`);
  }
  const now = input.now ?? new Date().toISOString();
  const byDay = latestByDay(input.outcomes);
  const alignedStart = input.firstStoredDay;

  /** The outcome in effect per scheduled day that is not covered (synthesized where needed). */
  const effective = new Map<string, DayOutcome>();
  const synthesize = (row: PlanScheduleRow, reason: DayOutcomeReason, base?: DayOutcome): DayOutcome => ({
    day: row.trading_day,
    underlying_contract: base?.underlying_contract ?? row.main_contract,
    segment_id: base?.segment_id ?? Number(row.segment_id),
    schedule_hash: base?.schedule_hash ?? input.pinnedHash,
    class: 'engineering_missing',
    reason,
    rows_fetched: base?.rows_fetched ?? 0,
    rows_l5: base?.rows_l5 ?? 0,
    rows_in_session: base?.rows_in_session ?? 0,
    rows_written: base?.rows_written ?? 0,
    attempts: base?.attempts ?? 0,
    wait_total_s: base?.wait_total_s ?? 0,
    ...(base?.circuit_open_until === undefined ? {} : { circuit_open_until: base.circuit_open_until }),
    ...(base?.circuit_failures === undefined ? {} : { circuit_failures: base.circuit_failures }),
    error:
      reason === 'not_attempted'
        ? 'no outcome recorded for this scheduled day'
        : 'outcome was written but no stored rows under a compatible schedule_hash were found',
    created_at: now,
  });

  const expected: PlanScheduleRow[] = [];
  const covered: string[] = [];
  const missing: string[] = [];
  const missingByClass: Record<DayOutcomeClass, string[]> = {
    written: [],
    provider_missing: [],
    transient_skipped: [],
    engineering_missing: [],
  };
  const segments = new Map<number, SegmentMissing>();
  let prev: string | null = null;
  for (const row of input.scheduleDays) {
    if (prev !== null && row.trading_day <= prev) {
      throw new MainL5InputError(`schedule is not in ascending trading_day order at ${row.trading_day}`);
    }
    prev = row.trading_day;
    const day = row.trading_day;
    const isCovered = input.coveredDays.has(day);
    let outcome: DayOutcome | undefined;
    if (!isCovered) {
      const recorded = byDay.get(day);
      if (recorded === undefined) outcome = synthesize(row, 'not_attempted');
      else if (recorded.class === 'written') outcome = synthesize(row, 'readback_mismatch', recorded);
      else outcome = recorded;
      effective.set(day, outcome);
      // Alignment never hides a failure: only provider gaps before the first stored tick leave the expected set.
      if (alignedStart !== null && day < alignedStart && outcome.class === 'provider_missing') continue;
    }
    expected.push(row);
    const segmentId = Number(row.segment_id);
    let seg = segments.get(segmentId);
    if (seg === undefined) {
      seg = { segment_id: segmentId, underlying_contract: row.main_contract, missing_days: 0, total_days: 0 };
      segments.set(segmentId, seg);
    }
    seg.total_days++;
    if (isCovered) {
      covered.push(day);
      continue;
    }
    seg.missing_days++;
    missing.push(day);
    missingByClass[(outcome as DayOutcome).class].push(day);
  }

  const providerMissing = missingByClass.provider_missing;
  const transient = missingByClass.transient_skipped;
  const engineering = missingByClass.engineering_missing;
  const tolerated = Math.min(tolerance, providerMissing.length);
  const excess = providerMissing.length - tolerated;

  const ledgerByDay = new Map<string, DayOutcome>();
  for (const o of byDay.values()) if (o.class !== 'written') ledgerByDay.set(o.day, o);
  for (const o of effective.values()) ledgerByDay.set(o.day, o);
  const ledger = [...ledgerByDay.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));

  const reasonsOf = (days: readonly string[]) =>
    countBy(days.map((d) => (effective.get(d) as DayOutcome).reason ?? 'written'));
  const errors: string[] = [];
  if (engineering.length > 0) {
    errors.push(
      `engineering_missing_days=${engineering.length} (${describeCounts(reasonsOf(engineering))}) ` +
        `sample=[${sample(engineering).join(', ')}]`,
    );
  }
  if (transient.length > 0) {
    const openUntil = transient
      .map((d) => effective.get(d)?.circuit_open_until)
      .filter((v): v is string => v !== undefined)
      .sort()
      .at(-1);
    const after = openUntil === undefined ? 'the maintenance window' : `circuit_open_until=${openUntil}`;
    errors.push(
      `transient_skipped_days=${transient.length} (${describeCounts(reasonsOf(transient))}) ` +
        `sample=[${sample(transient).join(', ')}]; transient skips are never tolerated: ` +
        `rerun ghtrader data main-l5 --update after ${after}`,
    );
  }
  if (excess > 0) {
    errors.push(
      `provider_missing_days=${providerMissing.length} exceeds missing_days_tolerance=${tolerance} ` +
        `(excess=${excess}; ${describeCounts(reasonsOf(providerMissing))}) sample=[${sample(providerMissing).join(', ')}]`,
    );
  }
  const lineage = new Set(input.prefixHashes);
  const foreign = [...new Set(input.storedHashes)].filter((h) => !lineage.has(h)).sort();
  if (foreign.length > 0) {
    errors.push(
      `stored schedule_hash set is not within the prefixHashes of ${input.pinnedHash}: incompatible [${foreign.join(', ')}]`,
    );
  }
  if (input.failedChildren > 0) errors.push(`failed_children=${input.failedChildren}`);
  if (!input.currentPrefixHashes.includes(input.pinnedHash)) {
    errors.push(
      `schedule_changed_during_build: pinned schedule_hash ${input.pinnedHash} is not a prefix of the current schedule; ` +
        'rerun ghtrader data main-l5',
    );
  }

  const ledgerClasses = ledger.map((o) => o.class);
  const byClass: Record<string, number> = {};
  for (const c of DAY_OUTCOME_CLASSES) {
    const n = ledgerClasses.filter((x) => x === c).length;
    if (n > 0) byClass[c] = n;
  }

  return {
    aligned_start: alignedStart,
    expected_days: expected.length,
    expected_days_sample: sample(expected.map((r) => r.trading_day)),
    covered_days: covered.length,
    covered_days_sample: sample(covered),
    covered_first_day: covered[0] ?? null,
    covered_last_day: covered.at(-1) ?? null,
    missing_days: missing.length,
    missing_days_sample: sample(missing),
    provider_missing_days: providerMissing.length,
    provider_missing_days_sample: sample(providerMissing),
    transient_skipped_days: transient.length,
    transient_skipped_days_sample: sample(transient),
    engineering_missing_days: engineering.length,
    engineering_missing_days_sample: sample(engineering),
    missing_by_segment: [...segments.values()].sort((a, b) => a.segment_id - b.segment_id),
    missing_days_tolerance: tolerance,
    tolerated_provider_missing_days: tolerated,
    provider_missing_days_excess: excess,
    errors,
    skip_ledger: ledger,
    skip_ledger_total: ledger.length,
    skip_ledger_by_reason: countBy(ledger.map((o) => o.reason ?? 'written')),
    skip_ledger_by_class: byClass,
  };
}

// ---- gate, status and failure messages ----------------------------------------------------------------------------

export interface ValidationGateReport {
  readonly state: string;
  readonly reason_code: string;
  readonly action_hint: string;
  readonly report_uri: string;
}

/** §5.6.4: the health error of a validation gate that ended `error`. */
export function validationGateError(report: ValidationGateReport): string {
  return (
    `validation_state=${report.state} reason_code=${report.reason_code} ` +
    `action_hint=${report.action_hint} report_uri=${report.report_uri}`
  );
}

/** §5.6.4: the health error of a validation run that threw. */
export function validationRuntimeError(err: unknown): string {
  return `validation_runtime_error: ${err instanceof Error ? err.message : String(err)}`;
}

export type ValidationGateDecision =
  | { enabled: false; run: false }
  | { enabled: true; run: false; checked: false; state: 'skipped'; reason_code: 'preexisting_health_errors' }
  | { enabled: true; run: true };

/** §5.6.4: the gate runs only when `enforce_health`, and is skipped (`preexisting_health_errors`) after health errors. */
export function validationGateDecision(
  enforceHealth: boolean,
  healthErrors: readonly string[],
): ValidationGateDecision {
  if (!enforceHealth) return { enabled: false, run: false };
  if (healthErrors.length > 0) {
    return { enabled: true, run: false, checked: false, state: 'skipped', reason_code: 'preexisting_health_errors' };
  }
  return { enabled: true, run: true };
}

export type DailyAggSkipState = 'disabled_by_config' | 'skipped/blocked_by_health_errors' | 'skipped/no_days_written';

/** §5.6.5: why the daily-agg refresh does not run, or null when it should (then its state is `ok` or it failed). */
export function dailyAggSkipState(
  enabled: boolean,
  healthErrors: readonly string[],
  daysWritten: number,
): DailyAggSkipState | null {
  if (!enabled) return 'disabled_by_config';
  if (healthErrors.length > 0) return 'skipped/blocked_by_health_errors';
  if (daysWritten <= 0) return 'skipped/no_days_written';
  return null;
}

/** §5.6.6: `promoted` iff there is no health error. */
export function buildStatus(errors: readonly string[]): 'promoted' | 'rejected' {
  return errors.length === 0 ? 'promoted' : 'rejected';
}

/** §5.6.6: the failure of an enforced build with health errors. */
export function healthFailureMessage(errors: readonly string[]): string {
  return `main_l5 health check failed: ${errors.join('; ')}`;
}
