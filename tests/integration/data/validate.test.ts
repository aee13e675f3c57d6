/**
 * The main_l5 validation gate (data-chain §6) on a DuckDB store, the real DynamoDB lock store and a local artifact
 * store: Monday incremental after Friday (item 5), clear-then-write persistence (item 16), the build lock (item 17),
 * persisted rows read back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rowHashFnv1a64V1 } from '#shared/domain/data/row-hash.ts';
import { type ScheduleRow, scheduleHash } from '#shared/domain/data/schedule.ts';
import { TABLES, TICK_NUMERIC_COLUMN_COUNT } from '#shared/domain/data/tick-columns.ts';
import { dayTsMicros, type Row, type TickDayBatch, type TickStore } from '#shared/domain/data/tick-store.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { parseCst, sessionWindows } from '#shared/domain/market/sessions.ts';
import { LocalArtifactStore } from '#shared/infra/artifacts/local.ts';
import { type DuckDbTickStore, openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { silentLogger } from '#shared/log.ts';
import {
  MainL5BuildInProgressError,
  runValidation,
  type ValidateDeps,
  type ValidateRequest,
} from '#shared/services/data/validate.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';

const CU = 'KQ.m@SHFE.cu';
const LOCK_KEY = `main_l5:symbol=${CU}`;
const DAYS = ['2025-01-08', '2025-01-09', '2025-01-10', '2025-01-13'];
const SCHEDULE: ScheduleRow[] = DAYS.map((d) => ({ trading_day: d, main_contract: 'SHFE.cu2502', segment_id: 0 }));
const HASH = scheduleHash(SCHEDULE);
const calendar = shippedCalendar();
const NOW_MS = Date.UTC(2025, 0, 13, 10, 0, 0);

/** Ticks every `spacingS` seconds through each of D's windows (both boundary seconds included), minus `skip`. */
function dayTicks(day: string, spacingS: number, skip?: { from: string; to: string }): TickDayBatch {
  const secs: number[] = [];
  const skipFrom = skip ? Number(parseCst(skip.from) / 1_000_000_000n) : 0;
  const skipTo = skip ? Number(parseCst(skip.to) / 1_000_000_000n) : -1;
  for (const w of sessionWindows(calendar, day, 'cu')) {
    for (let s = w.start_s; s <= w.end_s; s += spacingS) if (s < skipFrom || s > skipTo) secs.push(s);
    if (secs.at(-1) !== w.end_s) secs.push(w.end_s);
  }
  const n = secs.length;
  const datetimeNs = new BigInt64Array(n);
  const rowHash = new BigInt64Array(n);
  const values = Array.from({ length: TICK_NUMERIC_COLUMN_COUNT }, () => new Float64Array(n));
  const row = new Float64Array(TICK_NUMERIC_COLUMN_COUNT);
  for (let r = 0; r < n; r++) {
    datetimeNs[r] = BigInt(secs[r] as number) * 1_000_000_000n + 250_000_000n;
    const last = 75_000 + (r % 7) * 10;
    row.set([last, last, last + 100, last - 100, r + 1, (r + 1) * last * 5, 200_000]);
    for (let level = 0; level < 5; level++) {
      row.set([last - 10 * (level + 1), 1 + level, last + 10 * (level + 1), 2 + level], 7 + 4 * level);
    }
    for (let c = 0; c < TICK_NUMERIC_COLUMN_COUNT; c++) (values[c] as Float64Array)[r] = row[c] as number;
    rowHash[r] = rowHashFnv1a64V1(datetimeNs[r], row);
  }
  return {
    ticksKind: 'main_l5',
    datasetVersion: 'v2',
    underlyingContract: 'SHFE.cu2502',
    segmentId: 0n,
    scheduleHash: HASH,
    datetimeNs,
    rowHash,
    values,
  };
}

async function freshStore(): Promise<DuckDbTickStore> {
  const store = await openDuckDbTickStore({ path: ':memory:' });
  for (const t of [
    TABLES.ticksMainL5,
    TABLES.mainSchedule,
    TABLES.validateSummary,
    TABLES.validateGaps,
    TABLES.tickGaps,
    TABLES.fieldQuality,
  ]) {
    await store.createTable(t);
  }
  await store.writeRows(
    TABLES.mainSchedule.name,
    SCHEDULE.map(
      (r): Row => ({
        exchange: 'SHFE',
        variety: 'cu',
        trading_day: r.trading_day,
        main_contract: r.main_contract,
        segment_id: BigInt(r.segment_id),
        schedule_hash: HASH,
        updated_at: 1n,
        ts: dayTsMicros(r.trading_day),
      }),
    ),
  );
  return store;
}

/** Delegates everything; records the order of gap clears and writes; can fail writes to one table. */
function recordingStore(inner: TickStore, failWritesTo?: string): { store: TickStore; calls: string[] } {
  const calls: string[] = [];
  const store: TickStore = {
    kind: inner.kind,
    storeId: inner.storeId,
    dialect: inner.dialect,
    executeDdl: (s) => inner.executeDdl(s),
    createTable: (t) => inner.createTable(t),
    writeRows: async (table, rows) => {
      calls.push(`write:${table}`);
      if (table === failWritesTo) throw new Error('injected: disk full');
      return inner.writeRows(table, rows);
    },
    readRows: (t, f, o) => inner.readRows(t, f, o),
    readTickDay: (t, s, d) => inner.readTickDay(t, s, d),
    readTickValues: (t, s, d) => inner.readTickValues(t, s, d),
    dayProvenance: (t, s) => inner.dayProvenance(t, s),
    describeColumns: (t) => inner.describeColumns(t),
    assertRequiredColumns: (t) => inner.assertRequiredColumns(t),
    writeDay: (t, s, d, b) => inner.writeDay(t, s, d, b),
    deleteRows: async (table, scope) => {
      calls.push(`delete:${table}`);
      return inner.deleteRows(table, scope);
    },
    countByDay: (t, s, d) => inner.countByDay(t, s, d),
    rowHashAggregatesByDay: (t, s, d) => inner.rowHashAggregatesByDay(t, s, d),
    close: () => inner.close(),
  };
  return { store, calls };
}

describe('runValidation (§6) on DuckDB + DynamoDB locks', () => {
  let stack: TestStack;
  let dir: string;
  let store: DuckDbTickStore;
  let artifacts: LocalArtifactStore;

  beforeAll(async () => {
    stack = await createTestStack();
    dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-validate-'));
  });
  afterAll(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    store = await freshStore();
    artifacts = new LocalArtifactStore(await mkdtemp(path.join(dir, 'artifacts-')));
  });
  afterEach(async () => {
    await store.close();
  });

  const deps = (over: Partial<ValidateDeps> = {}, env: Record<string, string> = {}): ValidateDeps => ({
    store,
    locks: stack.rt.locks,
    calendar,
    settings: { env },
    artifacts,
    clock: { nowMs: () => NOW_MS },
    log: silentLogger(),
    ...over,
  });
  const request = (over: Partial<ValidateRequest> = {}): ValidateRequest => ({
    variety: 'cu',
    jobId: 'validate-job-1',
    providerCheck: false,
    ...over,
  });

  it('item 5: Monday incremental after Friday keeps Friday night in session; rows read back', async () => {
    // Prepare: Wed–Fri stored and validated through Friday.
    for (const d of DAYS.slice(0, 3)) await store.writeDay(TABLES.ticksMainL5.name, CU, d, dayTicks(d, 2));
    const env = { GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S: '30' };
    const first = await runValidation(deps({}, env), request({ end: '2025-01-10' }));
    // Monday arrives, with its Friday-night prints (2025-01-10 21:00 – 2025-01-11 01:00 CST).
    const monday = dayTicks('2025-01-13', 2);
    expect(monday.datetimeNs[0]).toBe(parseCst('2025-01-10 21:00:00.250'));
    await store.writeDay(TABLES.ticksMainL5.name, CU, '2025-01-13', monday);

    // Act
    const r = await runValidation(deps({}, env), request({ incremental: true, jobId: 'validate-job-2' }));

    // Assess
    expect(first).toMatchObject({ checked_days: 3, schedule_start: '2025-01-08', schedule_end: '2025-01-10' });
    expect(r).toMatchObject({
      checked_days: 1,
      schedule_start: '2025-01-13',
      schedule_end: '2025-01-13',
      last_validated_day: '2025-01-10',
      ticks_outside_sessions_seconds_total: 0,
      engineering_state: 'ok',
      missing_days: 0,
      gap_count_gt_30s: 0,
      overall_state: 'ok',
      state: 'ok',
      ok: true,
      reason_code: 'quality_ok',
      aligned_start: '2025-01-08',
      schedule_hash: HASH,
    });
    expect(r.expected_seconds_total).toBe(4 * 3600 + 1 + (75 + 60 + 90) * 60 + 3);
    const summaries = await store.readRows(TABLES.validateSummary.name, { symbol: CU });
    expect(summaries.map((s) => s.trading_day)).toEqual(DAYS);
    const mondayRow = summaries[3] as Row;
    expect(mondayRow).toMatchObject({
      cadence_mode: 'event',
      missing_day: 0n,
      gap_count_gt_30: 0n,
      schedule_hash: HASH,
      ts: dayTsMicros('2025-01-13'),
      updated_at: BigInt(NOW_MS) * 1000n,
    });
    const tickGaps = await store.readRows(TABLES.tickGaps.name, { symbol: CU });
    expect(tickGaps).toHaveLength(4);
    expect(tickGaps[3]).toMatchObject({
      trading_day: '2025-01-13',
      tick_count_actual: mondayRow.seconds_with_ticks,
      tick_count_expected_max: mondayRow.expected_seconds,
      median_interval_ms: 2000n,
      critical_gaps_count: 0n,
    });
    const quality = await store.readRows(TABLES.fieldQuality.name, { symbol: CU, tradingDays: ['2025-01-13'] });
    expect(quality[0]).toMatchObject({ rows_total: BigInt(monday.datetimeNs.length), bid_ask_cross_violations: 0n });
    const latest = await artifacts.get(`reports/main_l5_validate/${CU}_latest.json`);
    expect(JSON.parse(new TextDecoder().decode(latest ?? new Uint8Array()))).toMatchObject({
      reason_code: 'quality_ok',
      report_uri: r.report_uri,
    });
    expect(r.report_uri).toContain('validate-job-2');
    expect(await stack.rt.locks.holder(LOCK_KEY)).toBeNull();

    // Act: nothing new → no-op.
    const noop = await runValidation(deps({}, env), request({ incremental: true, jobId: 'validate-job-3' }));

    // Assess
    expect(noop).toMatchObject({
      ok: true,
      state: 'noop',
      engineering_state: 'ok',
      source_state: 'ok',
      policy_state: 'ok',
      overall_state: 'ok',
      reason_code: 'noop_up_to_date',
      checked_days: 0,
      missing_days: 0,
    });
  });

  it('persists gap rows of a >30 s gap and blocks with gap_gt30_block; a missing day warns the source layer', async () => {
    // Prepare: 01-08 and 01-09 stored, 01-09 with a 40-s hole at 10:00; 01-10 has no ticks at all.
    await store.writeDay(TABLES.ticksMainL5.name, CU, '2025-01-08', dayTicks('2025-01-08', 2));
    await store.writeDay(
      TABLES.ticksMainL5.name,
      CU,
      '2025-01-09',
      dayTicks('2025-01-09', 2, { from: '2025-01-09 10:00:00', to: '2025-01-09 10:00:39' }),
    );

    // Act
    const r = await runValidation(deps(), request({ end: '2025-01-10' }));

    // Assess
    expect(r).toMatchObject({
      checked_days: 3,
      missing_days: 1,
      missing_days_sample: ['2025-01-10'],
      // the 41-s hole, plus the four empty windows of the missing day
      gap_count_gt_30s: 5,
      policy_state: 'error',
      source_state: 'warn',
      overall_state: 'error',
      ok: false,
      state: 'error',
      reason_code: 'gap_gt30_block',
    });
    const gaps = await store.readRows(TABLES.validateGaps.name, { symbol: CU });
    const day9 = gaps.filter((g) => g.trading_day === '2025-01-09');
    expect(day9).toHaveLength(1);
    expect(day9[0]).toMatchObject({
      session: 'day',
      duration_s: 41n,
      tqsdk_status: 'unchecked',
      schedule_hash: HASH,
      start_ts: (parseCst('2025-01-09 09:59:59') / 1000n) as bigint,
    });
    expect(day9[0]?.ts).toBe(day9[0]?.start_ts);
    expect(gaps.filter((g) => g.trading_day === '2025-01-10').length).toBeGreaterThan(0);
    expect(r.persist).toMatchObject({ summary_rows_upserted: 3, tick_gap_rows_upserted: 3, batches: 1 });
    expect(r.persist.gap_rows_inserted).toBe(gaps.length);
  });

  it('item 16: a failing summary write → "summary persist failed", gap rows cleared first, no gap/tick-gap rows', async () => {
    // Prepare: a stale gap row from an earlier run on 01-09 must be gone afterwards.
    await store.writeDay(TABLES.ticksMainL5.name, CU, '2025-01-09', dayTicks('2025-01-09', 20));
    const start = parseCst('2025-01-09 10:00:00') / 1000n;
    await store.writeRows(TABLES.validateGaps.name, [
      {
        symbol: CU,
        trading_day: '2025-01-09',
        session: 'day',
        start_ts: start,
        end_ts: start + 9_000_000n,
        duration_s: 10n,
        tqsdk_status: 'unchecked',
        schedule_hash: HASH,
        updated_at: 1n,
        ts: start,
      },
    ]);
    const { store: failing, calls } = recordingStore(store, TABLES.validateSummary.name);

    // Act
    const run = runValidation(deps({ store: failing }), request({ start: '2025-01-09', end: '2025-01-10' }));

    // Assess
    await expect(run).rejects.toThrow(/main_l5_validate summary persist failed: injected: disk full/);
    expect(calls).toEqual([`delete:${TABLES.validateGaps.name}`, `write:${TABLES.validateSummary.name}`]);
    expect(await store.readRows(TABLES.validateGaps.name, { symbol: CU })).toEqual([]);
    expect(await store.readRows(TABLES.tickGaps.name, { symbol: CU })).toEqual([]);
    expect(await store.readRows(TABLES.validateSummary.name, { symbol: CU })).toEqual([]);
    expect(await stack.rt.locks.holder(LOCK_KEY)).toBeNull();
  });

  it('item 17: a live build holding main_l5:symbol=KQ.m@SHFE.cu → MainL5BuildInProgressError naming its job id', async () => {
    // Prepare
    await store.writeDay(TABLES.ticksMainL5.name, CU, '2025-01-08', dayTicks('2025-01-08', 20));
    const held = await stack.rt.locks.acquire(LOCK_KEY, { ownerId: 'build-job-7', host: 'h', pid: 1 }, 60_000);
    if (!held.ok) throw new Error('expected to hold the build lock');
    try {
      // Act
      const refused = await runValidation(deps(), request({ end: '2025-01-08' })).then(
        () => null,
        (err: unknown) => err,
      );
      // The build's own finalize passes the lock it holds and runs.
      const gate = await runValidation(
        deps(),
        request({
          end: '2025-01-08',
          heldBuildLockOwner: 'build-job-7',
          jobId: 'finalize-job-7',
          days: ['2025-01-08'],
        }),
      );

      // Assess
      expect(refused).toBeInstanceOf(MainL5BuildInProgressError);
      expect((refused as Error).message).toBe(
        'main-l5 build in progress for KQ.m@SHFE.cu (job_id=build-job-7). Please retry after it finishes.',
      );
      expect(gate.checked_days).toBe(1);
      expect((await stack.rt.locks.holder(LOCK_KEY))?.owner).toBe('build-job-7');
    } finally {
      await stack.rt.locks.release(held.leases[0] as NonNullable<(typeof held.leases)[0]>);
    }
  });

  it('refuses a schedule with mixed hashes', async () => {
    // Prepare
    await store.writeRows(TABLES.mainSchedule.name, [
      {
        exchange: 'SHFE',
        variety: 'cu',
        trading_day: '2025-01-14',
        main_contract: 'SHFE.cu2502',
        segment_id: 0n,
        schedule_hash: 'ffffffffffffffff',
        updated_at: 1n,
        ts: dayTsMicros('2025-01-14'),
      },
    ]);

    // Act
    const run = runValidation(deps(), request());

    // Assess
    await expect(run).rejects.toThrow(/mixed schedule_hash/);
    expect(await stack.rt.locks.holder(LOCK_KEY)).toBeNull();
  });
});
