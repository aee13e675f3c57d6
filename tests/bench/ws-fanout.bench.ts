/**
 * WebSocket fan-out (control-chain §12, issue 7): 200 authenticated clients subscribed to `gateway:default`, 10 state
 * updates per second for BENCH_WS_SECONDS (default 60) published to the real Redis, through the real `ghtrader up`
 * wiring (`/ws` on @hono/node-ws, one PSUBSCRIBE, the hub; `startWebBench` with `realtime`), measured publish ->
 * receipt at every client. The clients run in a worker thread (their own event loop, the same clock) so their parsing
 * does not sit in the server's loop. Goal: p99 under 50 ms. Prints one JSON object.
 */
import { isMainThread, Worker } from 'node:worker_threads';
import type { NodeRealtime } from '#web/realtime/node.ts';
import { machine, summarize } from './stats.ts';
import { emulatorsWorkerMain, isEmulatorsWorker, startWebBench } from './support/web-stack.ts';

const CLIENTS = Number(process.env.BENCH_WS_CLIENTS ?? 200);
const SECONDS = Number(process.env.BENCH_WS_SECONDS ?? 60);
const RATE_HZ = 10;
const GOAL_P99_MS = 50;

/** The client side, run as an eval'd CommonJS worker: open N sockets, subscribe, record publish -> receipt. */
const CLIENT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const WebSocket = require('ws');
const { url, cookies, origin, n } = workerData;
const now = () => performance.timeOrigin + performance.now();
const latencies = [];
let received = 0, subscribed = 0, closed = 0;
const sockets = [];
for (let i = 0; i < n; i++) {
  const ws = new WebSocket(url, { headers: { cookie: cookies[i % cookies.length], origin } });
  sockets.push(ws);
  ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', topics: ['gateway:default'] })));
  ws.on('message', (data) => {
    const t = now();
    const m = JSON.parse(String(data));
    if (m.type === 'subscribed') { if (++subscribed === n) parentPort.postMessage({ ready: true }); return; }
    if (m.type === 'gateway.state' && m.payload && typeof m.payload.sent_at_ms === 'number') {
      received++;
      latencies.push(t - m.payload.sent_at_ms);
    }
  });
  ws.on('close', (code) => { closed++; if (code !== 1000 && code !== 1005) parentPort.postMessage({ error: 'socket closed ' + code }); });
  ws.on('error', (e) => parentPort.postMessage({ error: String(e) }));
}
parentPort.on('message', (msg) => {
  if (msg === 'report') {
    parentPort.postMessage({ report: { received, closed, latencies } });
    for (const ws of sockets) ws.close();
  }
});
`;

async function main(): Promise<void> {
  const web = await startWebBench({ entry: new URL(import.meta.url), seed: false, realtime: true });
  const realtime = web.realtime as NodeRealtime;
  const rt = web.rt;
  const origin = web.origin;
  let worker: Worker | null = null;
  try {
    // 200 clients as 20 operators with 10 tabs each (the hub allows 10 sockets per user).
    const cookies: string[] = [];
    for (let u = 0; u < Math.ceil(CLIENTS / 10); u++) cookies.push(await web.login('operator'));
    const deadline = Date.now() + 10_000;
    while (!realtime.feed.current().up) {
      if (Date.now() > deadline) throw new Error('the realtime feed did not subscribe within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }

    const w = new Worker(CLIENT_WORKER, {
      eval: true,
      workerData: { url: `${origin.replace('http', 'ws')}/ws`, cookies, origin, n: CLIENTS },
    });
    worker = w;
    await new Promise<void>((resolve, reject) => {
      setTimeout(() => reject(new Error(`${CLIENTS} clients did not all subscribe within 30 s`)), 30_000).unref();
      w.on('message', (m: { ready?: boolean; error?: string }) => {
        if (m.ready) resolve();
        if (m.error) reject(new Error(m.error));
      });
      w.once('error', reject);
    });

    // A gateway state of about 1 KiB, published at 10 Hz.
    const positions = Object.fromEntries(
      ['SHFE.cu2602', 'SHFE.au2602', 'SHFE.ag2602'].map((s) => [
        s,
        { long_today: 1, short_today: 0, float_profit: 12.5 },
      ]),
    );
    const updates = SECONDS * RATE_HZ;
    const t0 = performance.now();
    for (let i = 0; i < updates; i++) {
      const due = t0 + (i * 1000) / RATE_HZ;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      rt.warm.publish('gateway:updates:default', {
        sent_at_ms: performance.timeOrigin + performance.now(),
        state_revision: i + 1,
        mode: 'sim',
        positions,
        orders: Array.from({ length: 5 }, (_, k) => ({ order_id: `o${k}`, volume_left: k, limit_price: 75_000 + k })),
        pad: 'x'.repeat(400),
      });
    }
    await new Promise((r) => setTimeout(r, 1_000));
    const report = await new Promise<{ received: number; closed: number; latencies: number[] }>((resolve) => {
      w.on('message', (m: { report?: { received: number; closed: number; latencies: number[] } }) => {
        if (m.report) resolve(m.report);
      });
      w.postMessage('report');
    });
    const lat = summarize(report.latencies);
    const expected = updates * CLIENTS;
    process.stdout.write(
      `${JSON.stringify(
        {
          bench: 'ws-fanout',
          machine: machine(),
          comparison:
            'one process: web app + /ws hub (@hono/node-ws) + one Redis PSUBSCRIBE; clients in a worker thread; publish via real Redis',
          clients: CLIENTS,
          seconds: SECONDS,
          updates_per_s: RATE_HZ,
          deliveries_expected: expected,
          deliveries_received: report.received,
          latency_ms: lat,
          hub: realtime.hub.stats(),
          goal: { p99_ms: `< ${GOAL_P99_MS}` },
          meets_goal: report.received === expected && lat.p99 < GOAL_P99_MS,
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
