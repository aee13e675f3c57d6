/**
 * Live-stream CPU bench (issue 3; market-protocol §1.9 quotes and set_chart tails, §2.3 cadence): the real DIFF
 * client subscribes quotes for every listed cu, au and ag contract (~30 symbols, 2 ticks/s each inside a session)
 * plus `subscribeTicks` on the three main contracts, and drains every stream, while the simulator runs in a separate
 * process (`ghtrader sim serve`, accelerated clock at speed 1 placed inside the 2025-03-04 day session) so that this
 * process's CPU is the client's alone. The simulator's CPU over the same window is read from `/proc/<pid>/stat`.
 *
 * Goal: the client below 10% of one core. Prints one JSON object; a missed goal is reported (`meets_goal: false`)
 * and still exits 0; errors exit 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimMarket } from '#colo/sim/market/index.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import type { MarketNotice, QuoteEvent, Subscription, TickRow } from '#shared/domain/market/ports.ts';
import { VARIETIES } from '#shared/domain/market/varieties.ts';
import { machine } from './stats.ts';
import { benchClient } from './support/diff-client.ts';
import { ensureBuilt, processCpuMs, type SimProcess, spawnSim } from './support/sim-process.ts';

const SEED = 42;
const DAY = '2025-03-04';
/** Inside the 09:00–10:15 day session; the run ends long before 10:15. */
const SIM_START = `${DAY} 10:00:00`;
const DURATION_S = Number(process.env.BENCH_STREAM_S ?? 30);
/** After every stream delivered its first data: lets the initial snapshots and the sim's day generation settle. */
const SETTLE_S = 3;
const GOAL_CPU_PCT = 10;
const TICKS_PER_S_PER_CONTRACT = 2;
/**
 * The event-loop delay histogram samples with a timer of this period and its values include the period. Coarse on
 * purpose: with a 1 ms timer the client CPU measured here read ~2.8% instead of ~1.3%.
 */
const ELD_RESOLUTION_MS = 20;

interface Counters {
  quoteEvents: number;
  ticks: number;
  tickOrderBreaks: number;
  dataErrors: number;
}

/** Drain a subscription until it ends, calling `each` per item. */
async function drain<T>(sub: Subscription<T>, each: (item: T) => void): Promise<void> {
  for await (const item of sub) each(item);
}

async function main(): Promise<void> {
  ensureBuilt();
  const home = mkdtempSync(path.join(tmpdir(), 'ght-bench-stream-'));
  let sim: SimProcess | undefined;
  try {
    sim = await spawnSim([
      '--home',
      home,
      '--seed',
      String(SEED),
      '--clock',
      'accelerated',
      '--start',
      SIM_START,
      '--speed',
      '1',
      '--maintenance',
      'off',
    ]);
    // The mains and the expected listing from an independent generator (same seed); dropped before measuring.
    let reference: SimMarket | undefined = new SimMarket({ seed: SEED, calendar: shippedCalendar(), cacheSize: 1 });
    const mains = VARIETIES.map((v) => (reference as SimMarket).mainContract(v, DAY));
    const expectedListed = VARIETIES.flatMap((v) => (reference as SimMarket).listed(v, DAY));
    reference = undefined;

    const client = benchClient(sim);
    try {
      const md = await client.openMarket();
      const symbols: string[] = [];
      for (const v of VARIETIES) for (const c of await md.listContracts(v)) symbols.push(c.symbol);
      const listingMatches =
        symbols.length === expectedListed.length && expectedListed.every((s) => symbols.includes(s));

      const c: Counters = { quoteEvents: 0, ticks: 0, tickOrderBreaks: 0, dataErrors: 0 };
      const quoted = new Set<string>();
      const ticked = new Set<string>();
      const lastId = new Map<string, number>();
      const onNotice = (n: MarketNotice) => {
        if (n.kind === 'data_error') c.dataErrors++;
      };
      const quotes = md.subscribeQuotes(symbols);
      quotes.onNotice(onNotice);
      const tickSubs = mains.map((m) => md.subscribeTicks(m));
      for (const t of tickSubs) t.onNotice(onNotice);
      const consumers = [
        drain(quotes, (e: QuoteEvent) => {
          c.quoteEvents++;
          quoted.add(e.symbol);
        }),
        ...tickSubs.map((t) =>
          drain(t, (r: TickRow) => {
            c.ticks++;
            ticked.add(r.symbol);
            const prev = lastId.get(r.symbol);
            if (prev !== undefined && r.id <= prev) c.tickOrderBreaks++;
            lastId.set(r.symbol, r.id);
          }),
        ),
      ];

      // Wait for every stream's first data, then let the start-up burst settle.
      const deadline = Date.now() + 30_000;
      while (quoted.size < symbols.length || ticked.size < mains.length) {
        if (Date.now() > deadline) {
          throw new Error(
            `expected data on ${symbols.length} quote and ${mains.length} tick streams within 30 s, found ${quoted.size} and ${ticked.size}`,
          );
        }
        await sleep(50);
      }
      await sleep(SETTLE_S * 1000);

      // Measure.
      const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
      const heap0 = process.memoryUsage();
      const start = { ...c };
      const simCpu0 = processCpuMs(sim.pid);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      eld.enable();
      await sleep(DURATION_S * 1000);
      eld.disable();
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const simCpu1 = processCpuMs(sim.pid);
      const heap1 = process.memoryUsage();
      const exited = sim.exited();
      if (exited !== undefined)
        throw new Error(`expected the simulator to run through the bench, found exit ${JSON.stringify(exited)}`);

      await quotes.close();
      for (const t of tickSubs) await t.close();
      await Promise.all(consumers);

      const perS = (n: number) => Math.round((n / wallMs) * 1000 * 10) / 10;
      const pct = (ms: number) => Math.round((ms / wallMs) * 1000) / 10;
      const clientCpuMs = (cpu.user + cpu.system) / 1000;
      const lag = (ns: number) => Math.max(0, Math.round((ns / 1e6 - ELD_RESOLUTION_MS) * 100) / 100);
      const clientPct = pct(clientCpuMs);
      const quoteEvents = c.quoteEvents - start.quoteEvents;
      const ticks = c.ticks - start.ticks;
      process.stdout.write(
        `${JSON.stringify(
          {
            bench: 'market-stream',
            machine: machine(),
            comparison:
              `client process CPU (process.cpuUsage) while streaming quotes of every listed cu/au/ag contract and the ` +
              `tick tails of the three mains for ${DURATION_S} s from a separate simulator process (seed ${SEED}, ` +
              `accelerated clock at speed 1 from ${SIM_START} CST), against the goal of < ${GOAL_CPU_PCT}% of one core`,
            setup: {
              seed: SEED,
              sim_clock: `accelerated from ${SIM_START} CST, speed 1`,
              quote_symbols: symbols,
              tick_symbols: mains,
              listing_matches_generator: listingMatches,
            },
            figures: {
              duration_s: Math.round(wallMs / 100) / 10,
              symbols_subscribed: { quotes: symbols.length, ticks: mains.length },
              client_cpu_pct_of_one_core: clientPct,
              client_cpu_ms: { user: Math.round(cpu.user / 1000), system: Math.round(cpu.system / 1000) },
              client_cpu_us_per_event:
                quoteEvents + ticks > 0 ? Math.round((clientCpuMs * 1000) / (quoteEvents + ticks)) : null,
              sim_cpu_pct_of_one_core: simCpu0 !== null && simCpu1 !== null ? pct(simCpu1 - simCpu0) : null,
              quote_events_per_s: perS(quoteEvents),
              quote_events_per_s_expected: symbols.length * TICKS_PER_S_PER_CONTRACT,
              ticks_per_s: perS(ticks),
              ticks_per_s_expected: mains.length * TICKS_PER_S_PER_CONTRACT,
              tick_order_breaks: c.tickOrderBreaks,
              data_errors: c.dataErrors - start.dataErrors,
              event_loop_delay_beyond_20ms_timer_ms: {
                p50: lag(eld.percentile(50)),
                p99: lag(eld.percentile(99)),
                max: lag(eld.max),
              },
              heap_used_mib: {
                start: Math.round(heap0.heapUsed / 2 ** 20),
                end: Math.round(heap1.heapUsed / 2 ** 20),
              },
              rss_mib: Math.round(heap1.rss / 2 ** 20),
            },
            goal: { client_cpu_pct_of_one_core_below: GOAL_CPU_PCT },
            meets_goal: clientPct < GOAL_CPU_PCT,
          },
          null,
          2,
        )}\n`,
      );
    } finally {
      await client.close();
    }
  } finally {
    await sim?.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`market-stream bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
