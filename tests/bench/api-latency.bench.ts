/**
 * API latency (control-chain §12): p99 under 20 ms at 500 req/s. The production web app (@hono/node-server, the real
 * JobService, StatusService, ConfigService and AuthService on dynalite/fauxqs and the real Redis) with 1,000 jobs and
 * 50 config revisions seeded; one viewer logged in through `POST /api/auth/login`; then an open-loop load of
 * BENCH_API_RATE (500) requests/s for BENCH_API_SECONDS (60) with its session cookie, round-robin over
 * `GET /api/status`, `/api/jobs?limit=50`, `/api/trading/console/status`, `/api/config/effective` and
 * `/api/jobs/{id}/progress` (the goal's mix; the console status rests on desired state, the supervisors' records and
 * the risk-kill record until the trading chain's processes write state). Most seeded jobs have ended, and an ended
 * job's record is final (kept by the hot cache after its first read); the running and queued ones read the store
 * every ≤ 1 s, as a console polling a live job does.
 *
 * Open loop: request i is due at t0 + i / rate whatever earlier requests are doing, and its latency runs from that due
 * time to the last byte of the answer (so a stalled server cannot hide behind a stalled client). The load generator
 * runs in a worker thread (its own event loop); so do the emulators by default (BENCH_EMULATORS=worker: DynamoDB and
 * SQS are remote services in production, and dynalite's CPU would otherwise sit in the server's event loop);
 * BENCH_EMULATORS=inproc keeps them in the server's thread, as `ghtrader up` does (see `support/web-stack.ts`).
 * BENCH_API_WARMUP_S (5) of the same load run first and are not counted. The server-side view (the app's own
 * `/api/observability/runtime` histograms) is printed next to the client's. Prints one JSON object; goal: p99 < 20 ms
 * and zero 5xx.
 */
import http from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { machine, summarize } from './stats.ts';
import { emulatorsWorkerMain, isEmulatorsWorker, SEEDED_JOBS, startWebBench } from './support/web-stack.ts';

const RATE = Number(process.env.BENCH_API_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 60);
const WARMUP_S = Number(process.env.BENCH_API_WARMUP_S ?? 5);
const GOAL_P99_MS = 20;
/** A request without an answer this long is counted as an error (an overloaded server must not stall the run). */
const CLIENT_TIMEOUT_MS = 10_000;

const ENDPOINTS = [
  '/api/status',
  '/api/jobs?limit=50',
  '/api/trading/console/status',
  '/api/config/effective',
  '/api/jobs/{id}/progress',
] as const;

interface LoadData {
  role: 'load';
  port: number;
  cookie: string;
  rate: number;
  seconds: number;
  warmupS: number;
  progressIds: string[];
}

interface EndpointSamples {
  /** Due time -> last byte (open loop). */
  latency: number[];
  /** Actual send -> last byte. */
  service: number[];
  statuses: Record<string, number>;
  errors: number;
}

interface LoadReport {
  perEndpoint: Record<string, EndpointSamples>;
  /** Actual send time minus due time, per request: how far the generator fell behind its schedule. */
  lag: number[];
  sent: number;
  completed: number;
  elapsedMs: number;
  firstError: string | null;
}

// ---- load generator (worker thread) -------------------------------------------------------------------------------

async function runLoad(d: LoadData): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const interval = 1000 / d.rate;
  const phase = async (seconds: number, measure: boolean): Promise<LoadReport> => {
    const total = Math.round(seconds * d.rate);
    const perEndpoint: Record<string, EndpointSamples> = {};
    for (const e of ENDPOINTS) perEndpoint[e] = { latency: [], service: [], statuses: {}, errors: 0 };
    const lag: number[] = [];
    let completed = 0;
    let firstError: string | null = null;
    let i = 0;
    const t0 = performance.now() + 20;
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    const finish = () => {
      completed++;
      if (completed === total) resolveDone();
    };
    const fire = (n: number, due: number) => {
      const endpoint = ENDPOINTS[n % ENDPOINTS.length] as (typeof ENDPOINTS)[number];
      const path = endpoint.replace(
        '{id}',
        d.progressIds[Math.floor(n / ENDPOINTS.length) % d.progressIds.length] ?? '',
      );
      const sent = performance.now();
      const s = perEndpoint[endpoint] as EndpointSamples;
      if (measure) lag.push(sent - due);
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        if (measure) s.errors++;
        firstError ??= err.message;
        finish();
      };
      const req = http.get(
        { host: '127.0.0.1', port: d.port, path, agent, headers: { cookie: d.cookie, accept: 'application/json' } },
        (res) => {
          res.on('data', () => {});
          res.on('error', fail);
          res.on('end', () => {
            if (settled) return;
            settled = true;
            const end = performance.now();
            if (measure) {
              s.latency.push(end - due);
              s.service.push(end - sent);
              const k = String(res.statusCode ?? 0);
              s.statuses[k] = (s.statuses[k] ?? 0) + 1;
            }
            finish();
          });
        },
      );
      const timer = setTimeout(
        () => req.destroy(new Error(`no answer within ${CLIENT_TIMEOUT_MS} ms`)),
        CLIENT_TIMEOUT_MS,
      );
      req.on('close', () => clearTimeout(timer));
      req.on('error', fail);
    };
    const tick = () => {
      const now = performance.now();
      while (i < total && t0 + i * interval <= now) {
        fire(i, t0 + i * interval);
        i++;
      }
      if (i < total) setTimeout(tick, Math.max(0, t0 + i * interval - performance.now() - 0.5));
    };
    setTimeout(tick, 20);
    await done;
    return { perEndpoint, lag, sent: total, completed, elapsedMs: performance.now() - t0, firstError };
  };
  if (d.warmupS > 0) await phase(d.warmupS, false);
  const report = await phase(d.seconds, true);
  agent.destroy();
  parentPort?.postMessage({ report });
}

// ---- main -----------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const web = await startWebBench({ entry: new URL(import.meta.url) });
  const { origin, port } = web;
  let worker: Worker | null = null;
  try {
    const progressIds = web.jobIds;
    const cookie = await web.login('viewer');
    for (const e of ENDPOINTS) {
      const r = await fetch(`${origin}${e.replace('{id}', progressIds[0] ?? '')}`, { headers: { cookie } });
      if (r.status !== 200) throw new Error(`${e} answered ${r.status}: ${await r.text()}`);
    }

    const data: LoadData = { role: 'load', port, cookie, rate: RATE, seconds: SECONDS, warmupS: WARMUP_S, progressIds };
    const w = new Worker(new URL(import.meta.url), { workerData: data });
    worker = w;
    const report = await new Promise<LoadReport>((resolve, reject) => {
      w.on('message', (m: { report?: LoadReport }) => {
        if (m.report) resolve(m.report);
      });
      w.once('error', reject);
    });
    const runtime = (await (await fetch(`${origin}/api/observability/runtime`, { headers: { cookie } })).json()) as {
      routes: Record<string, unknown>;
    };

    const all: number[] = [];
    const allService: number[] = [];
    const statuses: Record<string, number> = {};
    let errors = 0;
    const perEndpoint: Record<string, unknown> = {};
    for (const [e, s] of Object.entries(report.perEndpoint)) {
      all.push(...s.latency);
      allService.push(...s.service);
      errors += s.errors;
      for (const [k, v] of Object.entries(s.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
      perEndpoint[e] = { latency_ms: summarize(s.latency), statuses: s.statuses, errors: s.errors };
    }
    const fivexx = Object.entries(statuses)
      .filter(([k]) => Number(k) >= 500)
      .reduce((n, [, v]) => n + v, 0);
    const lat = summarize(all);
    const serverRoutes = Object.fromEntries(
      [
        'GET /api/status',
        'GET /api/jobs',
        'GET /api/trading/console/status',
        'GET /api/config/effective',
        'GET /api/jobs/:id/progress',
      ].map((k) => [k, runtime.routes[k]]),
    );
    process.stdout.write(
      `${JSON.stringify(
        {
          bench: 'api-latency',
          machine: machine(),
          comparison: `one process: web app (@hono/node-server) + real services; emulators ${
            web.emulators === 'worker' ? 'in a worker thread' : 'in the server thread (as ghtrader up)'
          }; open-loop load generator (node:http keep-alive) in a worker thread; real Redis; logs silent`,
          emulators: web.emulators,
          seeded: { jobs: SEEDED_JOBS, config_revisions: web.headRevision, seed_ms: Math.round(web.seedMs) },
          rate_per_s: RATE,
          seconds: SECONDS,
          warmup_s: WARMUP_S,
          endpoints: ENDPOINTS,
          requests: { sent: report.sent, answered: all.length, errors_or_timeouts: errors },
          // Answers (any HTTP status) per second from the first due time to the last answer or timeout.
          achieved_rate_per_s: Math.round((all.length / (report.elapsedMs / 1000)) * 10) / 10,
          statuses,
          status_5xx: fivexx,
          latency_ms: lat,
          latency_from_send_ms: summarize(allService),
          generator_lag_ms: summarize(report.lag),
          per_endpoint: perEndpoint,
          server_side_runtime: serverRoutes,
          first_error: report.firstError,
          goal: { p99_ms: `< ${GOAL_P99_MS}`, status_5xx: 0 },
          meets_goal: lat.p99 < GOAL_P99_MS && fivexx === 0 && errors === 0,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await worker?.terminate();
    await web.close();
  }
}

if (isMainThread) await main();
else if (isEmulatorsWorker()) await emulatorsWorkerMain();
else await runLoad(workerData as LoadData);
