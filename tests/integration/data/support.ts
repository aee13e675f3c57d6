/**
 * A data-chain test stack: the real job stack (dynalite, fauxqs, Redis, local runner) from `createTestStack`, a
 * DuckDB tick store, a local artifact store and the real SHFE simulator as the provider, with the data job handlers
 * registered exactly as `ghtrader up` registers them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SimOptionsInput } from '#colo/sim/config.ts';
import { type SimulatorHandle, startSimulator } from '#colo/sim/server.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import type { MarketDataSource } from '#shared/domain/market/ports.ts';
import { systemClock } from '#shared/domain/time.ts';
import { LocalArtifactStore } from '#shared/infra/artifacts/local.ts';
import { DynamoMigrationLedger } from '#shared/infra/aws/migration-ledger.ts';
import { simDiffConfig } from '#shared/infra/diff/config.ts';
import { type DuckDbTickStore, openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { silentLogger } from '#shared/log.ts';
import { BuildItems } from '#shared/services/data/build-items.ts';
import type { DataContext, MarketProvider } from '#shared/services/data/context.ts';
import { dataJobHandlers } from '#shared/services/data/jobs.ts';
import { diffMarketProvider } from '#shared/services/data/market-provider.ts';
import { applyMigrations } from '#shared/services/data/migrate.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';

export interface DataTestStack {
  stack: TestStack;
  sim: SimulatorHandle;
  store: DuckDbTickStore;
  ctx: DataContext;
  dir: string;
  close(): Promise<void>;
}

export interface DataTestOptions {
  env: Record<string, string>;
  sim?: SimOptionsInput;
  /** Wrap the provider (fault injection on top of the real simulator session). */
  wrapMarket?: (m: MarketDataSource) => MarketDataSource;
}

export async function createDataTestStack(opts: DataTestOptions): Promise<DataTestStack> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-data-'));
  const sim = await startSimulator(
    { port: 0, clock: 'accelerated', start: '2025-03-04 10:00:00', speed: 1, ...opts.sim },
    { log: silentLogger() },
  );
  const stack = await createTestStack({ env: opts.env });
  const store = await openDuckDbTickStore({ path: path.join(dir, 'ticks.duckdb'), storeIdBase: dir });
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
    clock: systemClock,
    log: silentLogger(),
    builds: new BuildItems(stack.rt.clients.doc, stack.config.tables.jobs),
    hostId: 'test-host',
  };
  stack.rt.addHandlers(dataJobHandlers(ctx));
  stack.startRunner();
  return {
    stack,
    sim,
    store,
    ctx,
    dir,
    async close() {
      await stack.close();
      await market.close();
      await store.close();
      await sim.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
