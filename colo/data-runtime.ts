/**
 * The data chain inside `ghtrader up`: the DuckDB tick store under `$GHTRADER_HOME/ticks.duckdb` (this process is its
 * single writer), the DynamoDB migration ledger, the local artifact store, the provider session (the simulator, or
 * the DIFF endpoints from the environment) and the data job handlers registered on the runtime.
 *
 * Migrations: a fresh home (no tick-store file yet) is bootstrapped with `migrate --apply`; an existing store is only
 * checked (§1.5 fail-fast, no DDL) so a store that needs a migration stops `ghtrader up` with the message naming
 * `ghtrader data migrate --apply`.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { SettingLayers } from '#shared/domain/data/settings.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { systemClock } from '#shared/domain/time.ts';
import { describeError } from '#shared/errors/base.ts';
import { DynamoMigrationLedger } from '#shared/infra/aws/migration-ledger.ts';
import type { DiffConfig } from '#shared/infra/diff/config.ts';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import type { Logger } from '#shared/log.ts';
import { BuildItems } from '#shared/services/data/build-items.ts';
import type { DataContext } from '#shared/services/data/context.ts';
import { requireArtifacts } from '#shared/services/data/context.ts';
import { dataJobHandlers } from '#shared/services/data/jobs.ts';
import { sweepExpiredBuilds } from '#shared/services/data/main-l5.ts';
import { diffMarketProvider } from '#shared/services/data/market-provider.ts';
import { applyMigrations, assertTickStoreReady } from '#shared/services/data/migrate.ts';
import type { Runtime } from '#shared/services/runtime.ts';

const SWEEP_INTERVAL_MS = 60_000;

export interface LocalData {
  ctx: DataContext;
  /** What happened to the schema at start: bootstrapped (fresh store) or checked. */
  schema: 'bootstrapped' | 'checked';
  close(): Promise<void>;
}

export async function startLocalData(opts: {
  rt: Runtime;
  env: Record<string, string | undefined>;
  diffConfig: () => DiffConfig;
  log: Logger;
}): Promise<LocalData> {
  const { rt, log } = opts;
  const home = rt.config.home;
  const file = path.join(home, 'ticks.duckdb');
  const fresh = await access(file).then(
    () => false,
    () => true,
  );
  const store = await openDuckDbTickStore({ path: file, storeIdBase: home });
  try {
    const ledger = new DynamoMigrationLedger(rt.clients.doc, rt.config.tables.migrationLedger, systemClock);
    if (fresh) {
      const r = await applyMigrations(store, ledger, { appliedBy: 'ghtrader-up' });
      if (!r.ok)
        throw new Error(
          `tick store bootstrap failed: ${JSON.stringify(r.migrations.filter((m) => m.status === 'failed' || m.status === 'conflict'))}`,
        );
      log.info({ store: store.storeId, migrations: r.migrations.length }, 'up.tick_store_bootstrapped');
    }
    await assertTickStoreReady(store, ledger);
    const market = diffMarketProvider(opts.diffConfig, shippedCalendar(), log.child({ component: 'data-diff' }));
    const settings: SettingLayers = { env: opts.env };
    const ctx: DataContext = {
      store,
      ledger,
      locks: rt.locks,
      jobs: rt.jobs,
      market,
      artifacts: requireArtifacts(rt.artifacts),
      settings,
      configHead: () => rt.configService.current(),
      clock: systemClock,
      log: log.child({ component: 'data' }),
      builds: new BuildItems(rt.clients.doc, rt.config.tables.jobs),
      hostId: rt.hostId,
    };
    rt.addHandlers(dataJobHandlers(ctx));
    // §5.1 step 5: builds past their deadline are finalized (unfinished days become not_attempted).
    const sweeper = setInterval(() => {
      sweepExpiredBuilds(ctx, 'main-l5-sweeper').catch((err: unknown) =>
        log.error({ err: describeError(err) }, 'main_l5.sweep_failed'),
      );
    }, SWEEP_INTERVAL_MS);
    sweeper.unref();
    return {
      ctx,
      schema: fresh ? 'bootstrapped' : 'checked',
      async close() {
        clearInterval(sweeper);
        await market.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
