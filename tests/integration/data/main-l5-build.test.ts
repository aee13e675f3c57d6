/**
 * The data chain end to end on the real simulator (issue 4 acceptance): `data.schedule` then `data.main_l5` through
 * SQS, the local runner and DuckDB; provenance on every row; a re-run is a no-op; a stored hash outside the schedule
 * lineage forces a rebuild of that symbol only; a maintenance window on two days is recorded as `transient_skipped`
 * and blocks promotion.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminal } from '#shared/domain/control/jobs.ts';
import { resolveMainL5Settings } from '#shared/domain/data/main-l5/settings.ts';
import { rowHashFnv1a64V1 } from '#shared/domain/data/row-hash.ts';
import { schedulePrefixHashes } from '#shared/domain/data/schedule.ts';
import { TABLES, TICK_NUMERIC_COLUMN_COUNT } from '#shared/domain/data/tick-columns.ts';
import type { MarketDataSource } from '#shared/domain/market/ports.ts';
import { systemCaller } from '#shared/services/auth-service.ts';
import { buildLockKey, sweepExpiredBuilds } from '#shared/services/data/main-l5.ts';
import { loadMainSchedule } from '#shared/services/data/schedule.ts';
import { waitFor } from '../support/stack.ts';
import { build, createDataTestStack, type DataTestStack, runJob } from './support.ts';

const CU = 'KQ.m@SHFE.cu';
const AU = 'KQ.m@SHFE.au';
const T = TABLES.ticksMainL5.name;

const BASE_ENV = {
  GHTRADER_L5_START_DATE: '2025-02-17',
  GHTRADER_MAIN_L5_DAYS_PER_JOB: '3',
  GHTRADER_MAIN_L5_MAX_CONCURRENCY: '2',
  GHTRADER_HEALTH_WAL_WAIT_S: '1',
  // The simulator injects provider outages on purpose (at most one per main contract-day, 10–120 s); the default
  // policy (no gap over 30 s) would block every build. Tolerating them here keeps the gate itself in the path.
  GHTRADER_L5_VALIDATE_GAP_BLOCK_GT30: '50',
};

describe('main_l5 build on the simulator', () => {
  let d: DataTestStack;
  beforeAll(async () => {
    d = await createDataTestStack({ env: BASE_ENV });
  }, 60_000);
  afterAll(async () => {
    await d?.close();
  });

  it('builds every scheduled day with provenance, then a re-run writes nothing', async () => {
    // Act
    const sched = await runJob(d, 'data.schedule', { var: 'cu' });
    expect(sched.status, JSON.stringify(sched.error)).toBe('succeeded');
    expect((sched.result as { relation: string }).relation).toBe('initial');
    const first = await build(d, { var: 'cu' });

    // Assert: promoted, every buildable day stored, each row's provenance equals the schedule row of its day
    expect(first.item.status, JSON.stringify(first.item.summary)).toBe('promoted');
    const schedule = await loadMainSchedule(d.store, 'cu');
    const days = (schedule?.rows ?? []).filter((r) => r.trading_day <= first.item.last_buildable_day);
    expect(days.length).toBeGreaterThanOrEqual(10);
    const counts = await d.store.countByDay(T, CU);
    expect(counts.map((c) => c.trading_day)).toEqual(days.map((r) => r.trading_day));
    for (const row of days) {
      const stored = await d.store.readTickDay(T, CU, row.trading_day);
      expect(stored.datetimeNs.length).toBeGreaterThan(1000);
      expect(new Set(stored.underlyingContract)).toEqual(new Set([row.main_contract]));
      expect(new Set(stored.scheduleHash)).toEqual(new Set([schedule?.schedule_hash]));
      expect(new Set(Array.from(stored.segmentId, Number))).toEqual(new Set([row.segment_id]));
      // Row hashes are the fnv1a64_v1 of the stored values.
      const i = Math.floor(stored.datetimeNs.length / 2);
      const values = Array.from({ length: TICK_NUMERIC_COLUMN_COUNT }, (_, c) => stored.values[c]?.[i] ?? Number.NaN);
      expect(rowHashFnv1a64V1(stored.datetimeNs[i] as bigint, values)).toBe(stored.rowHash[i]);
    }
    const buildRows = await d.store.readRows(TABLES.mainL5Builds.name, { symbol: CU });
    expect(buildRows.map((r) => r.status)).toEqual(['promoted']);

    // Act again: schedule unchanged, nothing left to build
    const again = await runJob(d, 'data.schedule', { var: 'cu' });
    expect((again.result as { relation: string }).relation).toBe('noop');
    const second = await build(d, { var: 'cu' });

    // Assert: a no-op build (no children, 0 rows) and identical stored counts
    expect(second.plan.result).toMatchObject({ mode: 'update', jobs_total: 0, days_total: 0 });
    expect(second.item.status).toBe('promoted');
    expect(second.item.summary).toMatchObject({ rows_total: 0 });
    expect(await d.store.countByDay(T, CU)).toEqual(counts);

    // Act: a standalone validation while the provider's current day is still trading
    const v = await runJob(d, 'data.validate', { var: 'cu' });

    // Assert: the open day is left out (not counted missing); every built day is checked
    const today = (schedule?.rows ?? []).at(-1)?.trading_day as string;
    expect(today > first.item.last_buildable_day).toBe(true);
    expect(v.result).toMatchObject({ open_days_excluded: [today], checked_days: days.length, missing_days: 0 });

    // Act: a config revision changes the cu gap threshold; the next validation job pins that revision
    const cli = systemCaller('cli', 'cli:test@host', 'req-main-l5-config');
    const set = await d.stack.rt.configService.set(cli, { values: { GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S_CU: 6 } });
    await runJob(d, 'data.validate', { var: 'cu' });

    // Assert: the report's policy says where the value came from, revision included
    const latest = await d.ctx.artifacts.get('reports/main_l5_validate/KQ.m@SHFE.cu_latest.json');
    const report = JSON.parse(Buffer.from(latest as Uint8Array).toString('utf8')) as {
      policy: { gap_threshold_s: number };
      policy_sources: { gap_threshold_s: string };
    };
    expect(report.policy.gap_threshold_s).toBe(6);
    expect(report.policy_sources.gap_threshold_s).toBe(
      `config:GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S_CU@${set.revision}`,
    );
  }, 180_000);

  it('a stored schedule_hash outside the lineage rebuilds that symbol only', async () => {
    // Prepare: another symbol's day, and one cu day stamped with a foreign hash
    const schedule = await loadMainSchedule(d.store, 'cu');
    const day = schedule?.rows[0]?.trading_day as string;
    const foreign = await d.store.readTickDay(T, CU, day);
    await d.store.writeDay(T, AU, day, {
      ticksKind: 'main_l5',
      datasetVersion: 'v2',
      underlyingContract: 'SHFE.au2504',
      segmentId: 0n,
      scheduleHash: '0123456789abcdef',
      datetimeNs: foreign.datetimeNs,
      rowHash: foreign.rowHash,
      values: foreign.values,
    });
    await d.store.deleteRows(T, { symbol: CU, tradingDays: [day] });
    await d.store.writeDay(T, CU, day, {
      ticksKind: 'main_l5',
      datasetVersion: 'v2',
      underlyingContract: foreign.underlyingContract[0] as string,
      segmentId: 0n,
      scheduleHash: 'deadbeefdeadbeef',
      datetimeNs: foreign.datetimeNs,
      rowHash: foreign.rowHash,
      values: foreign.values,
    });
    const auBefore = await d.store.countByDay(T, AU);

    // Act
    const { plan, item } = await build(d, { var: 'cu' });

    // Assert
    expect(plan.result).toMatchObject({ mode: 'full_rebuild', warnings: ['schedule_hash_mismatch'] });
    expect(item.status, JSON.stringify(item.summary)).toBe('promoted');
    expect(await d.store.countByDay(T, AU)).toEqual(auBefore);
    const hashes = await d.store.dayProvenance(T, CU);
    expect(new Set(hashes.flatMap((h) => h.schedule_hashes))).toEqual(new Set([schedule?.schedule_hash]));
    expect((plan.result as { days_total: number }).days_total).toBe(hashes.length);
  }, 180_000);
});

describe('main_l5 build after the schedule extends', () => {
  let d: DataTestStack;
  beforeAll(async () => {
    d = await createDataTestStack({ env: { ...BASE_ENV, GHTRADER_L5_START_DATE: '2025-02-24' } });
  }, 60_000);
  afterAll(async () => {
    await d?.close();
  });

  it('appends only the new days; the days already built keep their rows', async () => {
    // Prepare: a promoted build up to the simulator's last closed day
    expect((await runJob(d, 'data.schedule', { var: 'cu' })).status).toBe('succeeded');
    const first = await build(d, { var: 'cu' });
    expect(first.item.status, JSON.stringify(first.item.summary)).toBe('promoted');
    const before = await d.store.rowHashAggregatesByDay(T, CU);
    const lastBuilt = before.at(-1)?.trading_day as string;
    const firstHash = (await loadMainSchedule(d.store, 'cu'))?.schedule_hash;
    // The provider's clock moves three trading days on (a later simulator session)
    await d.restartSim({ start: '2025-03-07 10:00:00' });

    // Act
    const sched = await runJob(d, 'data.schedule', { var: 'cu' });
    const second = await build(d, { var: 'cu' });

    // Assess: an extension, built in update mode for the new days only
    expect(sched.result).toMatchObject({ relation: 'extension', rebuild_required: false });
    expect(second.plan.result).toMatchObject({ mode: 'update', days_total: 3 });
    expect(second.item.status, JSON.stringify(second.item.summary)).toBe('promoted');
    const after = await d.store.rowHashAggregatesByDay(T, CU);
    const newDays = after.filter((a) => a.trading_day > lastBuilt);
    expect(newDays.map((a) => a.trading_day)).toEqual(['2025-03-04', '2025-03-05', '2025-03-06']);
    expect(after.filter((a) => a.trading_day <= lastBuilt)).toEqual(before);
    expect(second.item.summary).toMatchObject({ rows_total: newDays.reduce((n, a) => n + a.rows, 0) });
    // New rows carry the extended schedule's hash; the old ones keep theirs (a prefix of the same lineage).
    const newHash = (await loadMainSchedule(d.store, 'cu'))?.schedule_hash;
    expect(newHash).not.toBe(firstHash);
    const provenance = await d.store.dayProvenance(T, CU);
    expect(provenance.map((p) => [p.trading_day, p.schedule_hashes])).toEqual(
      after.map((a) => [a.trading_day, [a.trading_day > lastBuilt ? newHash : firstHash]]),
    );
  }, 240_000);
});

describe('main_l5 build deadline', () => {
  let d: DataTestStack;
  beforeAll(async () => {
    d = await createDataTestStack({ env: { ...BASE_ENV, GHTRADER_L5_START_DATE: '2025-02-26' } });
  }, 60_000);
  afterAll(async () => {
    await d?.close();
  });

  it('finalizes a build past its deadline: unfinished days are not_attempted, the lock is released', async () => {
    // Prepare: a schedule, and a build whose only batch was handed out but never ran, deadline already passed
    expect((await runJob(d, 'data.schedule', { var: 'cu' })).status).toBe('succeeded');
    const schedule = await loadMainSchedule(d.store, 'cu');
    const row = schedule?.rows[0] as { trading_day: string; main_contract: string; segment_id: number };
    const got = await d.ctx.locks.acquire(buildLockKey('cu'), { ownerId: 'dead-parent', host: 'h', pid: 1 }, 60_000);
    if (!got.ok || !got.leases[0]) throw new Error('lock unexpectedly held');
    const s = resolveMainL5Settings(d.ctx.settings, 'cu');
    const now = Date.now();
    await d.ctx.builds.create({
      build_id: 'deadbeef0001',
      symbol: CU,
      variety: 'cu',
      parent_job_id: 'dead-parent',
      mode: 'update',
      schedule_hash: schedule?.schedule_hash as string,
      prefix_hashes: schedulePrefixHashes(schedule?.rows ?? []),
      warnings: [],
      batches: [{ segment_id: row.segment_id, underlying_contract: row.main_contract, days: [row.trading_day] }],
      batches_total: 1,
      next_batch: 1,
      children_total: 1,
      children_pending: 1,
      children_failed: 0,
      circuit_failures: 0,
      circuit_open_until: 0,
      lock: got.leases[0],
      settings: { ...s, sources: undefined, keys: undefined, config_snapshot: undefined, config_hash: undefined },
      config_snapshot: s.config_snapshot,
      config_hash: s.config_hash,
      created_at_ms: now - 10_000,
      deadline_ms: now - 1_000,
      status: 'building',
      last_buildable_day: row.trading_day,
    });

    // Act
    const swept = await sweepExpiredBuilds(d.ctx, 'test-sweeper');
    const item = await waitFor(
      async () => {
        const it = await d.ctx.builds.require('deadbeef0001');
        return ['promoted', 'rejected', 'failed'].includes(it.status) ? it : undefined;
      },
      60_000,
      'the swept build to finish',
      200,
    );

    // Assert
    expect(swept).toEqual(['deadbeef0001']);
    expect(item.status).toBe('rejected');
    expect((item.summary as { health: { errors: string[] } }).health.errors.join('; ')).toContain('not_attempted');
    // The build's status is written before its lock is released (finally), so the release may trail by a moment.
    await waitFor(
      async () => (await d.ctx.locks.holder(buildLockKey('cu'))) === null || undefined,
      10_000,
      'lock released',
    );
    expect(await d.ctx.builds.openBuildIds()).toEqual([]);
    expect(await sweepExpiredBuilds(d.ctx, 'test-sweeper')).toEqual([]);
  }, 120_000);
});

describe('main_l5 build through a maintenance window', () => {
  let d: DataTestStack;
  const down = new Set(['2025-02-19', '2025-02-20']);
  beforeAll(async () => {
    // The provider answers "maintenance" for two days (fault injection on top of the real simulator session).
    const wrap = (m: MarketDataSource): MarketDataSource =>
      Object.assign(Object.create(m) as MarketDataSource, {
        downloadTicks(symbol: string, tradingDay: string) {
          const iso = `${tradingDay.slice(0, 4)}-${tradingDay.slice(4, 6)}-${tradingDay.slice(6, 8)}`;
          if (down.has(iso)) {
            return (async function* () {
              yield* [];
              throw new Error('maintenance window: 系统运维中');
            })();
          }
          return m.downloadTicks(symbol, tradingDay);
        },
      });
    d = await createDataTestStack({
      env: {
        ...BASE_ENV,
        GHTRADER_L5_START_DATE: '2025-02-17',
        GHTRADER_TQ_MAINTENANCE_MAX_RETRIES: '0',
        GHTRADER_TQ_MAINTENANCE_CIRCUIT_ENABLED: 'false',
        GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE: '5',
      },
      sim: { start: '2025-02-24 10:00:00' },
      wrapMarket: wrap,
    });
  }, 60_000);
  afterAll(async () => {
    await d?.close();
  });

  it('records transient_skipped days with reasons and blocks promotion', async () => {
    // Act
    expect((await runJob(d, 'data.schedule', { var: 'cu' })).status).toBe('succeeded');
    const { item } = await build(d, { var: 'cu' });

    // Assert
    expect(item.status).toBe('rejected');
    const errors = (item.summary as { health: { errors: string[] } }).health.errors.join('; ');
    expect(errors).toContain('transient_skipped');
    expect(errors).toContain('2025-02-19');
    // The build item turns `rejected` inside finalize; the job record ends a moment later, when the handler throws.
    const finalize = await waitFor(
      async () => {
        const j = await d.stack.rt.jobs.get(item.finalize_job_id as string);
        return isTerminal(j.status) ? j : undefined;
      },
      30_000,
      'the finalize job to end',
      100,
    );
    expect(finalize.status).toBe('failed');
    expect(finalize.error?.message).toContain('main_l5 health check failed');
    const report = JSON.parse(
      Buffer.from((await d.ctx.artifacts.get(`reports/main_l5/${CU}_latest.json`)) as Uint8Array).toString('utf8'),
    );
    expect(
      report.skip_ledger.map((o: { day: string; class: string; reason: string }) => [o.day, o.class, o.reason]),
    ).toEqual([
      ['2025-02-19', 'transient_skipped', 'maintenance_retry_exhausted'],
      ['2025-02-20', 'transient_skipped', 'maintenance_retry_exhausted'],
    ]);
    expect(await d.store.countByDay(T, CU, ['2025-02-19', '2025-02-20'])).toEqual([]);
  }, 180_000);
});
