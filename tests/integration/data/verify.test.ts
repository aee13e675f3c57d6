/**
 * `data.verify` (data-chain §6.8) on the real stack: a small dataset built by `data.schedule` + `data.main_l5` from the
 * simulator into DuckDB verifies as `match` and writes nothing; `--sample-days` and `--promote`; the build lock
 * refuses it; a schedule row edited under its old hash is a `mismatch`; schedule rows deleted before the first L5 day
 * under the old hash reconstruct from the provider (`match_after_prefix_reconstruction`, or `unverifiable` when the
 * provider disagrees); rows tampered in the store are counted (row hash, provenance, both L5 rules) and block
 * promotion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '#shared/domain/control/jobs.ts';
import { rowHashFnv1a64V1 } from '#shared/domain/data/row-hash.ts';
import { TABLES, TICK_NUMERIC_COLUMN_COUNT, TICK_NUMERIC_COLUMNS } from '#shared/domain/data/tick-columns.ts';
import { type Row, SchemaContractError } from '#shared/domain/data/tick-store.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import type { MarketDataSource } from '#shared/domain/market/ports.ts';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { silentLogger } from '#shared/log.ts';
import { runVerify } from '#shared/services/data/verify.ts';
import {
  build,
  createDataTestStack,
  type DataTestStack,
  expectRefusedDuringBuild,
  rewriteStoredDay,
  runJob,
} from './support.ts';

const CU = 'KQ.m@SHFE.cu';
const T = TABLES.ticksMainL5.name;
const S = TABLES.mainSchedule.name;
const B = TABLES.mainL5Builds.name;
const LOCK_KEY = `main_l5:symbol=${CU}`;
/** Simulator "now" is 2025-03-04 10:00 CST: 02-27, 02-28 and 03-03 are closed and get built; 03-04 is still trading. */
const START = '2025-02-27';
const ENV = {
  GHTRADER_L5_START_DATE: START,
  GHTRADER_MAIN_L5_DAYS_PER_JOB: '3',
  GHTRADER_MAIN_L5_MAX_CONCURRENCY: '2',
  GHTRADER_HEALTH_WAL_WAIT_S: '1',
  // The simulator injects provider outages on purpose (10–120 s); see main-l5-build.test.ts.
  GHTRADER_L5_VALIDATE_GAP_BLOCK_GT30: '50',
};

interface VerifyResult {
  ok: boolean;
  state: string;
  schedule_hash_check: string;
  rows_checked: number;
  row_hash_mismatches: number;
  provenance_errors: number;
  l5_any_depth_violations: number;
  l5_strict_violations: number;
  validation: { state: string; reason_code: string; action_hint: string; checked_days: number };
  issues: string[];
  days_total: number;
  days_checked: number;
  schedule: { reason: string; stored_hash: string | null; prefix_days: number };
  promoted_build_id: string | null;
  report_uri: string;
}

/** While set, the provider's continuous mapping names another contract (the prefix then rebuilds differently). */
let skewMapping = false;

function skewable(m: MarketDataSource): MarketDataSource {
  return new Proxy(m, {
    get(target, prop) {
      if (prop === 'continuousMapping') {
        return async (variety: string, from: string, to: string) => {
          const r = await target.continuousMapping(variety, from, to);
          return skewMapping ? r.map((o) => ({ ...o, underlying: 'SHFE.cu2612' })) : r;
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('data.verify on a simulator-built dataset', () => {
  let d: DataTestStack;
  let days: string[];
  let scheduleRows: Row[];

  const verify = async (params: Record<string, unknown> = {}): Promise<{ job: JobRecord; r: VerifyResult }> => {
    const job = await runJob(d, 'data.verify', { var: 'cu', ...params });
    return { job, r: job.result as VerifyResult };
  };
  const succeeded = async (params: Record<string, unknown> = {}): Promise<VerifyResult> => {
    const { job, r } = await verify(params);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    return r;
  };
  const rowsOf = async (ds: readonly string[]) => (await d.store.countByDay(T, CU, ds)).reduce((n, c) => n + c.rows, 0);

  beforeAll(async () => {
    d = await createDataTestStack({ env: ENV, wrapMarket: skewable });
    const sched = await runJob(d, 'data.schedule', { var: 'cu' });
    expect(sched.status, JSON.stringify(sched.error)).toBe('succeeded');
    const built = await build(d, { var: 'cu' });
    expect(built.item.status, JSON.stringify(built.item.summary)).toBe('promoted');
    days = (await d.store.countByDay(T, CU)).map((c) => c.trading_day);
    scheduleRows = await d.store.readRows(S, { exchange: 'SHFE', variety: 'cu' });
  }, 60_000);
  afterAll(async () => {
    await d?.close();
  });

  it('a freshly built dataset: match, every row checked, nothing written to the store', async () => {
    // Prepare
    const summaryBefore = await d.store.readRows(TABLES.validateSummary.name, { symbol: CU });
    const buildsBefore = await d.store.readRows(B, { symbol: CU });
    const lastValidation = async () => {
      const bytes = await d.ctx.artifacts.get(`reports/main_l5_validate/${CU}_latest.json`);
      return bytes === null ? null : new TextDecoder().decode(bytes);
    };
    const lastValidationBefore = await lastValidation();

    // Act
    const r = await succeeded();

    // Assess
    expect(days).toEqual(['2025-02-27', '2025-02-28', '2025-03-03']);
    expect(r).toMatchObject({
      ok: true,
      schedule_hash_check: 'match',
      rows_checked: await rowsOf(days),
      row_hash_mismatches: 0,
      provenance_errors: 0,
      l5_any_depth_violations: 0,
      l5_strict_violations: 0,
      days_total: 3,
      days_checked: 3,
      promoted_build_id: null,
    });
    expect(r.rows_checked).toBeGreaterThan(3000);
    expect(['ok', 'warn']).toContain(r.state);
    expect(r.validation).toMatchObject({ checked_days: 3 });
    expect(r.validation.state).toBe(r.state);
    expect(await d.store.readRows(TABLES.validateSummary.name, { symbol: CU })).toEqual(summaryBefore);
    expect(await d.store.readRows(B, { symbol: CU })).toEqual(buildsBefore);
    // The Data page's last validation is still the build's, not verify's read-only run.
    expect(lastValidationBefore).not.toBeNull();
    expect(await lastValidation()).toBe(lastValidationBefore);
    expect(await d.stack.rt.locks.holder(LOCK_KEY)).toBeNull();
    const report = JSON.parse(
      new TextDecoder().decode((await d.ctx.artifacts.get(`reports/main_l5_verify/${CU}_latest.json`)) ?? undefined),
    );
    expect(report).toMatchObject({ report_uri: r.report_uri, l5_rule: 'l5_any_depth_v1', row_hash_algo: 'fnv1a64_v1' });
  });

  it('--sample-days 2 checks the first and the last day; --promote appends one legacy_verified builds row', async () => {
    // Prepare
    const buildsBefore = await d.store.readRows(B, { symbol: CU });
    const first = days[0] as string;
    const last = days.at(-1) as string;

    // Act
    const r = await succeeded({ sample_days: 2, promote: true });

    // Assess
    expect(r).toMatchObject({ ok: true, days_checked: 2, rows_checked: await rowsOf([first, last]) });
    expect(r.validation.checked_days).toBe(2);
    expect(r.promoted_build_id).toMatch(/^[0-9a-f]{12}$/);
    const builds = await d.store.readRows(B, { symbol: CU });
    expect(builds).toHaveLength(buildsBefore.length + 1);
    expect(builds.at(-1)).toMatchObject({
      symbol: CU,
      build_id: r.promoted_build_id,
      mode: 'legacy_verified',
      status: 'promoted',
      l5_rule: 'l5_any_depth_v1',
      schedule_hash: r.schedule.stored_hash,
      aligned_start: first,
      covered_first_day: first,
      covered_last_day: last,
      rows_total: BigInt(await rowsOf(days)),
      days_written: 3n,
      report_uri: r.report_uri,
    });
  });

  it('refuses while a build holds main_l5:symbol=<alias>, naming the holder, and leaves the lock alone', async () => {
    // Act / Assess
    await expectRefusedDuringBuild(d, CU, () => verify({ promote: true }), 'build-job-9');
  });

  it('a schedule row edited under the old hash, rows starting at the configured start → mismatch (error)', async () => {
    // Prepare: the still-trading day's row names another contract (no ticks on it, so provenance is untouched)
    const open = scheduleRows.at(-1) as Row;
    expect(open.trading_day).toBe('2025-03-04');
    await d.store.writeRows(S, [{ ...open, main_contract: 'SHFE.cu2612' }]);
    const buildsBefore = await d.store.readRows(B, { symbol: CU });
    try {
      // Act
      const r = await succeeded({ promote: true });

      // Assess
      expect(r).toMatchObject({
        ok: false,
        state: 'error',
        schedule_hash_check: 'mismatch',
        schedule: { reason: 'recomputed_hash_differs' },
        provenance_errors: 0,
        row_hash_mismatches: 0,
        promoted_build_id: null,
      });
      expect(r.issues).toContain('schedule_mismatch');
      expect(await d.store.readRows(B, { symbol: CU })).toEqual(buildsBefore);
    } finally {
      await d.store.writeRows(S, [open]);
    }
  });

  it('schedule rows deleted before the first L5 day under the old hash → rebuilt from the provider', async () => {
    // Prepare: the predecessor's layout: no schedule row and no ticks for the first day, the hash kept
    const first = days[0] as string;
    await d.store.deleteRows(S, { exchange: 'SHFE', variety: 'cu', tradingDays: [first] });
    await d.store.deleteRows(T, { symbol: CU, tradingDays: [first] });
    days = days.slice(1);

    // Act
    const matched = await succeeded();
    skewMapping = true;
    const skewed = await succeeded().finally(() => {
      skewMapping = false;
    });

    // Assess
    expect(matched).toMatchObject({
      ok: true,
      schedule_hash_check: 'match_after_prefix_reconstruction',
      schedule: { reason: 'prefix_reconstruction_matches', prefix_days: 1 },
      rows_checked: await rowsOf(days),
      provenance_errors: 0,
      days_total: 2,
    });
    expect(skewed).toMatchObject({
      ok: true,
      state: 'warn',
      schedule_hash_check: 'unverifiable',
      schedule: { reason: 'prefix_reconstruction_differs', prefix_days: 1 },
    });
    expect(skewed.issues).toContain('schedule_unverifiable');
  });

  it('tampered rows are counted: a price changed under its old hash, empty provenance, thin books; no promotion', async () => {
    // Prepare: rewrite one day with row 10's last_price changed but its old row_hash kept
    const day = days[0] as string;
    const stored = await rewriteStoredDay(d, CU, day, (values) => {
      (values[0] as Float64Array)[10] = ((values[0] as Float64Array)[10] as number) + 1;
    });
    // ...and three extra rows with correct hashes: no provenance; levels 3–5 empty; levels 2–5 empty
    const extra = (k: number, prov: boolean, keepLevel: (level: number) => boolean): Row => {
      const ns = (stored.datetimeNs[20] as bigint) + BigInt(k) * 1_000_000n;
      const cells = TICK_NUMERIC_COLUMNS.map((_, c) => (stored.values[c] as Float64Array)[20] as number);
      for (let level = 2; level <= 5; level++) {
        if (!keepLevel(level)) for (let j = 0; j < 4; j++) cells[7 + 4 * (level - 1) + j] = 0;
      }
      expect(cells).toHaveLength(TICK_NUMERIC_COLUMN_COUNT);
      const row: Record<string, string | bigint | number | null> = {
        symbol: CU,
        datetime_ns: ns,
        trading_day: day,
        row_hash: rowHashFnv1a64V1(ns, cells),
        dataset_version: 'v2',
        ticks_kind: 'main_l5',
        underlying_contract: prov ? (stored.underlyingContract[0] as string) : null,
        segment_id: prov ? (stored.segmentId[0] as bigint) : null,
        schedule_hash: prov ? (stored.scheduleHash[0] as string) : null,
        ts: ns / 1000n,
      };
      TICK_NUMERIC_COLUMNS.forEach((c, i) => {
        row[c] = cells[i] as number;
      });
      return row;
    };
    await d.store.writeRows(T, [
      extra(1, false, () => true),
      extra(2, true, (level) => level === 2),
      extra(3, true, () => false),
    ]);
    const buildsBefore = await d.store.readRows(B, { symbol: CU });

    // Act
    const r = await succeeded({ promote: true });

    // Assess
    expect(r).toMatchObject({
      ok: false,
      state: 'error',
      schedule_hash_check: 'match_after_prefix_reconstruction',
      rows_checked: await rowsOf(days),
      row_hash_mismatches: 1,
      provenance_errors: 1,
      l5_any_depth_violations: 1,
      l5_strict_violations: 2,
      promoted_build_id: null,
    });
    expect(r.issues).toEqual(
      expect.arrayContaining([
        'row_hash_mismatch',
        'provenance_mismatch',
        'l5_any_depth_violation',
        'l5_strict_violation',
      ]),
    );
    expect(await d.store.readRows(B, { symbol: CU })).toEqual(buildsBefore);
  });

  it('fails fast on a tick table without the provenance columns (§1.5), and on a store without a schedule', async () => {
    // Prepare: a legacy tick table lacking segment_id and schedule_hash; a second store with no schedule rows
    const legacy = await openDuckDbTickStore({ path: ':memory:' });
    const empty = await openDuckDbTickStore({ path: ':memory:' });
    try {
      const partial = {
        ...TABLES.ticksMainL5,
        columns: TABLES.ticksMainL5.columns.filter((c) => c.name !== 'segment_id' && c.name !== 'schedule_hash'),
      };
      await legacy.executeDdl(legacy.dialect.createTable(partial));
      for (const t of Object.values(TABLES)) await empty.createTable(t);
      const deps = (store: typeof legacy) => ({
        store,
        locks: d.stack.rt.locks,
        calendar: shippedCalendar(),
        settings: { env: ENV },
        artifacts: d.ctx.artifacts,
        clock: d.ctx.clock,
        log: silentLogger(),
      });

      // Act
      const schema = await runVerify(deps(legacy), { variety: 'cu', jobId: 'verify-legacy-1' }).catch(
        (e: unknown) => e,
      );
      const noSchedule = await runVerify(deps(empty), { variety: 'cu', jobId: 'verify-empty-1' }).catch(
        (e: unknown) => e,
      );

      // Assess
      expect(schema).toBeInstanceOf(SchemaContractError);
      expect((schema as Error).message).toBe(
        'schema contract violation: table ghtrader_ticks_main_l5_v2 missing required columns [segment_id, schedule_hash]; run: ghtrader data migrate --apply',
      );
      expect(noSchedule).toMatchObject({ code: 'main_l5_verify_no_schedule' });
      expect((noSchedule as Error).message).toContain('run ghtrader data schedule --var cu first');
      expect(await d.stack.rt.locks.holder(LOCK_KEY)).toBeNull();
    } finally {
      await legacy.close();
      await empty.close();
    }
  });
});
