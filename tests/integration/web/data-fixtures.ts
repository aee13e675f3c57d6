/**
 * The cu dataset the Data page, dashboard and data API tests share, on a real in-memory DuckDB tick store and a
 * LocalArtifactStore: ten trading days 2026-01-05 … 2026-01-16 with a roll after day 5 (cu2602 -> cu2603), ticks on
 * days 0, 1, 2, 4 (current schedule hash) and 5 (a foreign hash), day 3 missing and days 6–9 pending; validation
 * rows for day 0 (clean) and day 4 (two gaps over 30 s); the last validation report (`gap_gt30_block`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeReport } from '#shared/domain/data/artifacts.ts';
import { scheduleHash } from '#shared/domain/data/schedule.ts';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import type { TickStore } from '#shared/domain/data/tick-store.ts';
import { ACTION_HINTS } from '#shared/domain/data/validation/states.ts';
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { cstMidnightNs } from '#shared/domain/market/cst.ts';
import { LocalArtifactStore } from '#shared/infra/artifacts/local.ts';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { loadDataCalendar } from '#shared/services/data/context.ts';
import { makeDay, rowOf, scheduleRow } from '../tickstore/fixtures.ts';

export const CU = 'KQ.m@SHFE.cu';
export const AU = 'KQ.m@SHFE.au';
export const FOREIGN_HASH = 'ffffffffffffffff';
export const HOUR_NS = 3_600_000_000_000n;
/** When the seeded reports were written. */
export const REPORT_AT = Date.UTC(2026, 0, 16, 10, 30);

export interface DataFixture {
  dir: string;
  store: TickStore;
  artifacts: LocalArtifactStore;
  calendar: TradingCalendar;
  /** The ten trading days. */
  days: string[];
  /** The schedule hash of the seeded schedule. */
  hash: string;
  close(): Promise<void>;
}

/** A fresh store with the data tables, an artifact store in a temp dir and the calendar; nothing seeded yet. */
export async function openDataFixture(name: string): Promise<DataFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), `ghtrader-${name}-`));
  const store = await openDuckDbTickStore({ path: ':memory:' });
  for (const t of [TABLES.mainSchedule, TABLES.ticksMainL5, TABLES.validateSummary, TABLES.mainL5Builds]) {
    await store.createTable(t);
  }
  const artifacts = new LocalArtifactStore(dir);
  const calendar = await loadDataCalendar(artifacts);
  return {
    dir,
    store,
    artifacts,
    calendar,
    days: calendar.tradingDays('2026-01-05', '2026-01-16'),
    hash: '',
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Seed the cu dataset described above; day 0 gets `day0Ticks` ticks from 09:00 CST. Sets `f.hash`. */
export async function seedCu(f: DataFixture, day0Ticks = 40): Promise<void> {
  const day = (i: number) => f.days[i] as string;
  const rows = f.days.map((d, i) => ({
    trading_day: d,
    main_contract: i < 6 ? 'SHFE.cu2602' : 'SHFE.cu2603',
    segment_id: i < 6 ? 0 : 1,
  }));
  const hash = scheduleHash(rows);
  f.hash = hash;
  await f.store.writeRows(
    TABLES.mainSchedule.name,
    rows.map((r) =>
      scheduleRow('cu', r.trading_day, r.main_contract, { segmentId: BigInt(r.segment_id), scheduleHash: hash }),
    ),
  );
  for (const [i, n, h] of [
    [0, day0Ticks, hash],
    [1, 20, hash],
    [2, 10, hash],
    [4, 30, hash],
    [5, 12, FOREIGN_HASH],
  ] as const) {
    await f.store.writeDay(TABLES.ticksMainL5.name, CU, day(i), {
      ...makeDay(n, { startNs: cstMidnightNs(day(i)) + 9n * HOUR_NS, underlyingContract: 'SHFE.cu2602' }),
      segmentId: 0n,
      scheduleHash: h,
    });
  }
  const summary = (d: string, gt30: bigint) =>
    rowOf(TABLES.validateSummary, {
      symbol: CU,
      trading_day: d,
      cadence_mode: 'fixed_0p5s',
      missing_day: 0n,
      missing_seconds_ratio: gt30 > 0n ? 0.02 : 0,
      gap_count_gt_30: gt30,
      max_gap_s: gt30 > 0n ? 95n : 3n,
      schedule_hash: hash,
      ts: BigInt(Date.parse(`${d}T00:00:00Z`)) * 1000n,
    });
  await f.store.writeRows(TABLES.validateSummary.name, [summary(day(0), 0n), summary(day(4), 2n)]);
  await writeReport(f.artifacts, 'main_l5_validate', CU, REPORT_AT, 'J3', {
    created_at: new Date(REPORT_AT).toISOString(),
    ok: false,
    state: 'error',
    overall_state: 'error',
    engineering_state: 'ok',
    policy_state: 'error',
    source_state: 'warn',
    reason_code: 'gap_gt30_block',
    action_hint: ACTION_HINTS.gap_gt30_block,
    checked_days: 5,
    missing_days: 1,
    missing_days_sample: [day(3)],
    missing_seconds_ratio: 0.01234,
    issues_total: 2,
    issues: [
      {
        trading_day: day(4),
        underlying_contract: 'SHFE.cu2602',
        missing_day: false,
        missing_segments_total: 7,
        gap_count_gt_30s: 2,
        max_gap_s: 95,
        missing_seconds_ratio: 0.02,
      },
      { trading_day: day(3), underlying_contract: 'SHFE.cu2602', missing_day: true, missing_segments_total: 2 },
    ],
  });
}
