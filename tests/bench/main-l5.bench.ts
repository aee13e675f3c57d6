import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSimulator } from '#colo/sim/server.ts';
import { createLocalRunner } from '#functions/local-runner.ts';
import { isTerminal } from '#shared/domain/control/jobs.ts';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { systemClock } from '#shared/domain/time.ts';
import { LocalArtifactStore } from '#shared/infra/artifacts/local.ts';
import { DynamoMigrationLedger } from '#shared/infra/aws/migration-ledger.ts';
import { simDiffConfig } from '#shared/infra/diff/config.ts';
import { startEmulators } from '#shared/infra/local/emulators.ts';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { silentLogger } from '#shared/log.ts';
import { BuildItems } from '#shared/services/data/build-items.ts';
import type { DataContext } from '#shared/services/data/context.ts';
import { dataJobHandlers } from '#shared/services/data/jobs.ts';
import { diffMarketProvider } from '#shared/services/data/market-provider.ts';
import { applyMigrations } from '#shared/services/data/migrate.ts';
import { runValidation } from '#shared/services/data/validate.ts';
import { machine } from './stats.ts';
import { startBenchRuntime } from './support/runtime.ts';
import { ensureBuilt, processCpuMs, spawnSim } from './support/sim-process.ts';

const DAYS = Number(process.env.BENCH_MAIN_L5_DAYS ?? 60);
const START = process.env.BENCH_MAIN_L5_START ?? '2025-03-03';
const YEAR_TICKS = 15_000_000;
/** Day batches in flight (`max_concurrency`, one DIFF session each); the default is the setting's default. */
const CONCURRENCY = Number(process.env.BENCH_MAIN_L5_CONCURRENCY ?? 4);
const YEAR_DAYS = 245;

async function main(): Promise<void> {
  if (process.env.BENCH_MAIN_L5_SIM !== 'inproc') ensureBuilt();
  const cal = shippedCalendar();
  const days = cal.tradingDays(START, '2026-12-31').slice(0, DAYS + 1);
  const simDay = days[DAYS] as string; // the sim runs on the day after the last built one
  const dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-bench-l5-'));
  const emu = await startEmulators();
  // The provider is remote in production: by default the simulator runs in its own process (BENCH_MAIN_L5_SIM=inproc
  // keeps it in this one, sharing the event loop with the client, the runner and DuckDB).
  const sim =
    process.env.BENCH_MAIN_L5_SIM === 'inproc'
      ? await startSimulator(
          { port: 0, clock: 'accelerated', start: `${simDay} 10:00:00`, speed: 1 },
          { log: silentLogger() },
        )
      : await spawnSim(['--clock', 'accelerated', '--start', `${simDay} 10:00:00`]);
  const { config, env, rt } = await startBenchRuntime(emu, silentLogger(), {
    GHTRADER_L5_START_DATE: START,
    // The simulator's deliberate outages (≤ 1 per main contract-day) would otherwise reject the build.
    GHTRADER_L5_VALIDATE_GAP_BLOCK_GT30: String(DAYS * 2),
  });
  const store = await openDuckDbTickStore({ path: path.join(dir, 'ticks.duckdb'), storeIdBase: dir });
  const ledger = new DynamoMigrationLedger(rt.clients.doc, config.tables.migrationLedger, systemClock);
  await applyMigrations(store, ledger, { appliedBy: 'bench' });
  const market = diffMarketProvider(() => simDiffConfig(sim), cal, silentLogger());
  const ctx: DataContext = {
    store,
    ledger,
    locks: rt.locks,
    jobs: rt.jobs,
    market,
    artifacts: new LocalArtifactStore(path.join(dir, 'artifacts')),
    settings: { env },
    clock: systemClock,
    log: silentLogger(),
    builds: new BuildItems(rt.clients.doc, config.tables.jobs),
    hostId: 'bench',
  };
  rt.addHandlers(dataJobHandlers(ctx));
  const runner = createLocalRunner(rt, { concurrency: CONCURRENCY + 2, waitTimeS: 1, log: silentLogger() });
  runner.start();
  const sys = { actor: { actor: 'bench', role: 'admin' as const }, requestId: 'bench', actorType: 'system' as const };
  const waitJob = async (jobId: string) => {
    for (;;) {
      const j = await rt.jobs.get(jobId);
      if (isTerminal(j.status)) return j;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    const t0 = performance.now();
    const sched = await waitJob(
      (await rt.jobs.submit({ kind: 'data.schedule', params: { var: 'cu' } }, sys)).job.job_id,
    );
    if (sched.status !== 'succeeded') throw new Error(`schedule failed: ${JSON.stringify(sched.error)}`);
    const tSched = performance.now();
    // CPU of both processes over the build: with 2 cores shared by the simulator and the client, their summed CPU per
    // row bounds the rate any client optimisation can reach.
    const simPid = 'pid' in sim ? sim.pid : null;
    const simCpu0 = simPid === null ? null : processCpuMs(simPid);
    const cpu0 = process.cpuUsage();
    const plan = await waitJob(
      (await rt.jobs.submit({ kind: 'data.main_l5', params: { var: 'cu', max_concurrency: CONCURRENCY } }, sys)).job
        .job_id,
    );
    if (plan.status !== 'succeeded') throw new Error(`main_l5 plan failed: ${JSON.stringify(plan.error)}`);
    const buildId = (plan.result as { build_id: string }).build_id;
    let item = await ctx.builds.require(buildId);
    while (!['promoted', 'rejected', 'failed'].includes(item.status)) {
      await new Promise((r) => setTimeout(r, 200));
      item = await ctx.builds.require(buildId);
    }
    const tBuild = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const simCpu1 = simPid === null ? null : processCpuMs(simPid);
    const summary = item.summary as {
      rows_total: number;
      days_total: number;
      status: string;
      health?: { errors: string[] };
    };
    const perDay = (await store.countByDay(TABLES.ticksMainL5.name, 'KQ.m@SHFE.cu')).map((c) => c.rows);
    const buildS = (tBuild - tSched) / 1000;
    const rowsPerS = summary.rows_total / buildS;

    const v0 = performance.now();
    const v = await runValidation(
      {
        store,
        locks: rt.locks,
        calendar: cal,
        settings: { env },
        artifacts: ctx.artifacts,
        clock: systemClock,
        log: silentLogger(),
      },
      { variety: 'cu', jobId: 'bench-validate', providerCheck: false },
    );
    const validateS = (performance.now() - v0) / 1000;

    const r0 = performance.now();
    let readRows = 0;
    for (const d of (await store.countByDay(TABLES.ticksMainL5.name, 'KQ.m@SHFE.cu')).map((c) => c.trading_day)) {
      readRows += (await store.readTickDay(TABLES.ticksMainL5.name, 'KQ.m@SHFE.cu', d)).datetimeNs.length;
    }
    const readS = (performance.now() - r0) / 1000;

    process.stdout.write(
      `${JSON.stringify(
        {
          bench: 'main-l5',
          machine: machine(),
          comparison: `cu from the simulator (${process.env.BENCH_MAIN_L5_SIM === 'inproc' ? 'in process' : 'own process'}) over DIFF → SQS/local runner day batches (max_concurrency ${CONCURRENCY}, one DIFF session each) → DuckDB, finalize + validation gate included; goals from issue 4`,
          days: summary.days_total,
          status: summary.status,
          rows_total: summary.rows_total,
          schedule_s: Number(((tSched - t0) / 1000).toFixed(2)),
          build_s: Number(buildS.toFixed(2)),
          build_rows_per_s: Math.round(rowsPerS),
          build_projected_year_s: Math.round(YEAR_TICKS / rowsPerS),
          build_goal_year_s: 180,
          build_client_cpu_us_per_row: Number((((cpu.user + cpu.system) / summary.rows_total) as number).toFixed(2)),
          build_sim_cpu_us_per_row:
            simCpu0 === null || simCpu1 === null
              ? null
              : Number((((simCpu1 - simCpu0) * 1000) / summary.rows_total).toFixed(2)),
          validate_s: Number(validateS.toFixed(2)),
          validate_ms_per_day: Math.round((validateS * 1000) / summary.days_total),
          validate_projected_year_s: Number(((validateS / summary.days_total) * YEAR_DAYS).toFixed(1)),
          validate_goal_year_s: 15,
          validate_state: v.state,
          validate_reason_code: v.reason_code,
          health_errors: summary.health?.errors ?? [],
          rows_per_day: { min: Math.min(...perDay), max: Math.max(...perDay), days: perDay.length },
          tick_read_rows_per_s: Math.round(readRows / readS),
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await runner.stop();
    await rt.close();
    await market.close();
    await store.close();
    await sim.stop();
    await emu.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
