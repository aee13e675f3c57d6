/**
 * Control-plane bench on the local stack (dynalite + fauxqs + the local Lambda runner, real Redis):
 *  - job submit -> running: wall time from calling `JobService.submit` to the worker's `started_at`, one
 *    `system.selftest` at a time on an idle runner (so it measures the path, not queueing behind other jobs);
 *  - lock acquire + release on dynalite (fence counter update + conditional put + conditional delete);
 *  - minified size of every Lambda bundle in dist/functions (budget: `bundleBudgetBytes`, 1 MB; jobs worker 1.5 MB).
 * Prints one JSON object. Run with `npm run bench` (builds first).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundleBudgetBytes } from '#cdk/constructs/ghtrader-function.ts';
import { createLocalRunner } from '#functions/local-runner.ts';
import { startEmulators } from '#shared/infra/local/emulators.ts';
import { silentLogger } from '#shared/log.ts';
import { machine, summarize } from './stats.ts';
import { startBenchRuntime } from './support/runtime.ts';

const JOB_SAMPLES = Number(process.env.BENCH_JOB_SAMPLES ?? 100);
const LOCK_SAMPLES = Number(process.env.BENCH_LOCK_SAMPLES ?? 1000);

async function main(): Promise<void> {
  const emu = await startEmulators();
  const log = silentLogger();
  const { rt } = await startBenchRuntime(emu, log);
  const runner = createLocalRunner(rt, { reconcileIntervalS: 60, log });
  runner.start();
  try {
    const ctx = { actor: { actor: 'bench', role: 'operator' as const }, requestId: 'bench-request-0001' };
    const latencies: number[] = [];
    for (let i = 0; i < JOB_SAMPLES + 5; i++) {
      const t0 = Date.now();
      const { job } = await rt.jobs.submit({ kind: 'system.selftest', params: {} }, ctx);
      let rec = job;
      while (rec.status !== 'succeeded' && rec.status !== 'failed') {
        await new Promise((r) => setTimeout(r, 5));
        rec = await rt.jobs.get(job.job_id);
      }
      if (rec.status !== 'succeeded' || !rec.started_at) throw new Error(`bench job ${job.job_id} ended ${rec.status}`);
      // The first few warm up connections and the JIT; they are not part of the figures.
      if (i >= 5) latencies.push(Date.parse(rec.started_at) - t0);
    }

    const lockTimes: number[] = [];
    const owner = { ownerId: 'bench', host: 'bench', pid: process.pid };
    for (let i = 0; i < LOCK_SAMPLES + 20; i++) {
      const t0 = performance.now();
      const r = await rt.locks.acquire(`bench:key=${i % 10}`, owner, 30_000);
      if (!r.ok || !r.leases[0]) throw new Error('bench lock unexpectedly held');
      if (!(await rt.locks.release(r.leases[0]))) throw new Error('bench lock release refused');
      if (i >= 20) lockTimes.push(performance.now() - t0);
    }

    const dist = path.resolve('dist', 'functions');
    const bundles = [];
    for (const name of (await readdir(dist)).sort()) {
      const file = path.join(dist, name, 'index.mjs');
      const bytes = (await stat(file)).size;
      bundles.push({
        name,
        bytes,
        gzip_bytes: gzipSync(await readFile(file)).length,
        budget_bytes: bundleBudgetBytes(name),
        within_budget: bytes < bundleBudgetBytes(name),
      });
    }

    process.stdout.write(
      `${JSON.stringify(
        {
          bench: 'control-plane',
          machine: machine(),
          comparison:
            'local stack (dynalite + fauxqs + local runner + real Redis) on this machine; budgets from issue 2',
          job_submit_to_running_ms: { ...summarize(latencies), kind: 'system.selftest', runner_wait_time_s: 1 },
          lock_acquire_release_ms: { ...summarize(lockTimes), store: 'dynalite' },
          lambda_bundles: bundles,
        },
        null,
        2,
      )}\n`,
    );
    if (bundles.some((b) => !b.within_budget)) process.exitCode = 1;
  } finally {
    await runner.stop();
    await rt.close();
    await emu.stop();
  }
}

await main();
