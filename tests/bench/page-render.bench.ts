/**
 * Page render (control-chain §12): p95 under 30 ms per page route, read from each page's `Server-Timing: render;dur=`
 * (handler start -> HTML string: data loads included) over BENCH_PAGE_RENDERS (200) warm renders per page route for
 * cu, one request at a time. The production web app on dynalite/fauxqs and the real Redis (see `support/web-stack.ts`,
 * emulators in a worker thread by default), 1,000 jobs and 50 config revisions seeded, the data chain's stores present
 * (in-memory DuckDB, migrated, no data: every Data and Explorer section renders its empty state); no market feed (the
 * Market page renders its "feed off" state). An admin session (every page, Audit included). BENCH_PAGE_WARMUP (10)
 * renders per page come first and are not counted. Prints one JSON object.
 */
import { isMainThread } from 'node:worker_threads';
import { machine, summarize } from './stats.ts';
import { emulatorsWorkerMain, isEmulatorsWorker, SEEDED_JOBS, startWebBench } from './support/web-stack.ts';

const RENDERS = Number(process.env.BENCH_PAGE_RENDERS ?? 200);
const WARMUP = Number(process.env.BENCH_PAGE_WARMUP ?? 10);
const GOAL_P95_MS = 30;

const SERVER_TIMING_RE = /(?:^|,)\s*render;dur=([0-9.]+)/;

async function main(): Promise<void> {
  const web = await startWebBench({ entry: new URL(import.meta.url), data: true });
  try {
    const cookie = await web.login('admin');
    const jobId = web.jobIds[web.jobIds.length - 1] as string;
    const pages: [route: string, path: string, auth: boolean][] = [
      ['/login', '/login', false],
      ['/v/:var/dashboard', '/v/cu/dashboard', true],
      ['/v/:var/market', '/v/cu/market', true],
      ['/v/:var/data', '/v/cu/data', true],
      ['/v/:var/jobs', '/v/cu/jobs', true],
      ['/v/:var/jobs/:id', `/v/cu/jobs/${jobId}`, true],
      ['/v/:var/system', '/v/cu/system', true],
      ['/v/:var/config', '/v/cu/config', true],
      ['/v/:var/audit', '/v/cu/audit', true],
      ['/v/:var/explorer', '/v/cu/explorer', true],
      ['/v/:var/models', '/v/cu/models', true],
      ['/v/:var/trading', '/v/cu/trading', true],
    ];
    const results: Record<string, unknown> = {};
    const p95s: number[] = [];
    for (const [route, path, auth] of pages) {
      const render: number[] = [];
      const total: number[] = [];
      for (let i = 0; i < WARMUP + RENDERS; i++) {
        const t0 = performance.now();
        const res = await fetch(`${web.origin}${path}`, { headers: auth ? { cookie } : {}, redirect: 'manual' });
        await res.text();
        const elapsed = performance.now() - t0;
        if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
        const dur = SERVER_TIMING_RE.exec(res.headers.get('server-timing') ?? '')?.[1];
        if (dur === undefined) throw new Error(`${path} sent no Server-Timing render duration`);
        if (i < WARMUP) continue;
        render.push(Number(dur));
        total.push(elapsed);
      }
      const r = summarize(render);
      const p95 = percentile(render, 0.95);
      p95s.push(p95);
      results[`PAGE ${route}`] = {
        path,
        render_ms: { n: r.n, p50: r.p50, p95, p99: r.p99, max: r.max, mean: r.mean },
        client_total_ms: summarize(total),
        meets_goal: p95 < GOAL_P95_MS,
      };
    }
    process.stdout.write(
      `${JSON.stringify(
        {
          bench: 'page-render',
          machine: machine(),
          comparison: `one process: web app (@hono/node-server) + real services, DuckDB in memory; emulators ${
            web.emulators === 'worker' ? 'in a worker thread' : 'in the server thread (as ghtrader up)'
          }; sequential requests from the same process; real Redis; logs silent`,
          emulators: web.emulators,
          seeded: { jobs: SEEDED_JOBS, config_revisions: web.headRevision, seed_ms: Math.round(web.seedMs) },
          variety: 'cu',
          renders_per_page: RENDERS,
          warmup_per_page: WARMUP,
          pages: results,
          worst_p95_ms: Math.max(...p95s),
          goal: { render_p95_ms: `< ${GOAL_P95_MS}` },
          meets_goal: p95s.every((p) => p < GOAL_P95_MS),
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await web.close();
  }
}

/** Nearest-rank percentile, two decimals (`summarize` has no p95). */
function percentile(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  const v = s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
  return Math.round(v * 100) / 100;
}

if (isMainThread) await main();
else if (isEmulatorsWorker()) await emulatorsWorkerMain();
