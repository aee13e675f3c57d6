/**
 * A data-chain test stack: the real job stack (dynalite, fauxqs, Redis, local runner) from `createTestStack`, a
 * DuckDB tick store (or the one `openStore` opens), a local artifact store and the real SHFE simulator as the provider, with the data job handlers
 * registered exactly as `ghtrader up` registers them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { SimOptionsInput } from '#colo/sim/config.ts';
import { type SimulatorHandle, startSimulator } from '#colo/sim/server.ts';
import { isTerminal, type JobRecord } from '#shared/domain/control/jobs.ts';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import type { TickDayRows, TickStore } from '#shared/domain/data/tick-store.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import type { MarketDataSource } from '#shared/domain/market/ports.ts';
import { systemClock } from '#shared/domain/time.ts';
import { LocalArtifactStore } from '#shared/infra/artifacts/local.ts';
import { DynamoMigrationLedger } from '#shared/infra/aws/migration-ledger.ts';
import { simDiffConfig } from '#shared/infra/diff/config.ts';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { silentLogger } from '#shared/log.ts';
import { type BuildItem, BuildItems } from '#shared/services/data/build-items.ts';
import type { DataContext, MarketProvider } from '#shared/services/data/context.ts';
import { dataJobHandlers } from '#shared/services/data/jobs.ts';
import { diffMarketProvider } from '#shared/services/data/market-provider.ts';
import { applyMigrations } from '#shared/services/data/migrate.ts';
import { createTestStack, type TestStack, waitFor } from '../support/stack.ts';

export interface DataTestStack {
  stack: TestStack;
  /** The current simulator (replaced by `restartSim`). */
  sim: SimulatorHandle;
  store: TickStore;
  ctx: DataContext;
  dir: string;
  /** Stop the simulator and start another with `sim` options (e.g. a later start); the provider reconnects to it. */
  restartSim(sim: SimOptionsInput): Promise<void>;
  close(): Promise<void>;
}

export interface DataTestOptions {
  env: Record<string, string>;
  sim?: SimOptionsInput;
  /** The tick store, opened in the stack's temp dir (default: a DuckDB file there). */
  openStore?: (dir: string) => Promise<TickStore>;
  /** Wrap the provider (fault injection on top of the real simulator session). */
  wrapMarket?: (m: MarketDataSource) => MarketDataSource;
}

export async function createDataTestStack(opts: DataTestOptions): Promise<DataTestStack> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-data-'));
  const startSim = (o: SimOptionsInput | undefined) =>
    startSimulator(
      { port: 0, clock: 'accelerated', start: '2025-03-04 10:00:00', speed: 1, ...o },
      { log: silentLogger() },
    );
  let sim = await startSim(opts.sim);
  const stack = await createTestStack({ env: opts.env });
  const store = opts.openStore
    ? await opts.openStore(dir)
    : await openDuckDbTickStore({ path: path.join(dir, 'ticks.duckdb'), storeIdBase: dir });
  const ledger = new DynamoMigrationLedger(stack.rt.clients.doc, stack.config.tables.migrationLedger, systemClock);
  await applyMigrations(store, ledger, { appliedBy: 'test' });
  const diff = diffMarketProvider(() => simDiffConfig(sim), shippedCalendar(), silentLogger());
  const wrap = opts.wrapMarket;
  const market: MarketProvider = wrap
    ? {
        get: async () => wrap(await diff.get()),
        lease: async () => {
          const l = await diff.lease();
          return { source: wrap(l.source), release: (o) => l.release(o) };
        },
        reset: diff.reset,
        close: diff.close,
      }
    : diff;
  const ctx: DataContext = {
    store,
    ledger,
    locks: stack.rt.locks,
    jobs: stack.rt.jobs,
    market,
    artifacts: new LocalArtifactStore(path.join(dir, 'artifacts')),
    settings: { env: opts.env },
    // Every job pins the newest config revision (no 5 s cache here, so a test's set applies to its next job).
    configHead: () => stack.rt.configService.current(0),
    clock: systemClock,
    log: silentLogger(),
    builds: new BuildItems(stack.rt.clients.doc, stack.config.tables.jobs),
    hostId: 'test-host',
  };
  stack.rt.addHandlers(dataJobHandlers(ctx));
  stack.startRunner();
  const d: DataTestStack = {
    stack,
    sim,
    store,
    ctx,
    dir,
    async restartSim(o) {
      await sim.stop();
      sim = await startSim(o);
      d.sim = sim;
      await market.reset();
    },
    async close() {
      await stack.close();
      await market.close();
      await store.close();
      await sim.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return d;
}

const SYS = { actor: { actor: 'test', role: 'admin' as const }, requestId: 'test', actorType: 'system' as const };

/** Submit a job as the system admin and wait until it ends. */
export async function runJob(d: DataTestStack, kind: string, params: Record<string, unknown>): Promise<JobRecord> {
  const r = await d.stack.rt.jobs.submit({ kind, params }, SYS);
  return waitFor(
    async () => {
      const j = await d.stack.rt.jobs.get(r.job.job_id);
      return isTerminal(j.status) ? j : undefined;
    },
    60_000,
    `${kind} to end`,
    200,
  );
}

/** Plan a main_l5 build (`data.main_l5` with `params`) and wait until the build itself ends. */
export async function build(
  d: DataTestStack,
  params: Record<string, unknown>,
): Promise<{ plan: JobRecord; item: BuildItem }> {
  const plan = await runJob(d, 'data.main_l5', params);
  expect(plan.status, JSON.stringify(plan.error)).toBe('succeeded');
  const buildId = (plan.result as { build_id: string }).build_id;
  const item = await waitFor(
    async () => {
      const it = await d.ctx.builds.require(buildId);
      return ['promoted', 'rejected', 'failed'].includes(it.status) ? it : undefined;
    },
    120_000,
    `build ${buildId} to finish`,
    250,
  );
  return { plan, item };
}

/**
 * While another job (`owner`) holds `main_l5:symbol=<symbol>`, `act` (a read-only step: validate, verify, field
 * quality) must fail naming that job and leave the lock with it.
 */
export async function expectRefusedDuringBuild(
  d: DataTestStack,
  symbol: string,
  act: () => Promise<{ job: JobRecord }>,
  owner = 'build-job-7',
): Promise<void> {
  const key = `main_l5:symbol=${symbol}`;
  const held = await d.stack.rt.locks.acquire(key, { ownerId: owner, host: 'h', pid: 1 }, 60_000);
  if (!held.ok) throw new Error('expected to hold the build lock');
  try {
    const { job } = await act();
    expect(job.status).toBe('failed');
    expect(job.error?.message).toBe(
      `main-l5 build in progress for ${symbol} (job_id=${owner}). Please retry after it finishes.`,
    );
    expect((await d.stack.rt.locks.holder(key))?.owner).toBe(owner);
  } finally {
    await d.stack.rt.locks.release(held.leases[0] as NonNullable<(typeof held.leases)[0]>);
  }
}

/**
 * Replace a stored main_l5 day of `symbol` by the same rows with `mutate` applied to copies of its 27 numeric columns,
 * keeping every row's provenance and stored `row_hash` (so a changed cell no longer matches its hash). Returns the day
 * as it was read.
 */
export async function rewriteStoredDay(
  d: DataTestStack,
  symbol: string,
  day: string,
  mutate: (values: Float64Array[]) => void,
): Promise<TickDayRows> {
  const table = TABLES.ticksMainL5.name;
  const stored = await d.store.readTickDay(table, symbol, day);
  const values = stored.values.map((c) => Float64Array.from(c));
  mutate(values);
  await d.store.deleteRows(table, { symbol, tradingDays: [day] });
  await d.store.writeDay(table, symbol, day, {
    ticksKind: 'main_l5',
    datasetVersion: 'v2',
    underlyingContract: stored.underlyingContract[0] as string,
    segmentId: stored.segmentId[0] as bigint,
    scheduleHash: stored.scheduleHash[0] as string,
    datetimeNs: stored.datetimeNs,
    rowHash: stored.rowHash,
    values,
  });
  return stored;
}
