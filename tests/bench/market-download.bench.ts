/**
 * History download bench (issue 3; market-protocol §1.9 `downloadTicks`, §2.3 generator): the real DIFF client
 * downloads whole contract-days of ticks from the simulator over a loopback WebSocket, for the cu, au and ag main
 * contracts on consecutive trading days (the first day of each variety is a warm-up and is dropped). Simulator and
 * client share this process, so a contract-day's time is end to end: generation on the simulator (cold cache), JSON
 * serialisation, WebSocket, the client's parse, merge and page walk.
 *
 * Correctness is checked on every contract-day against an independent `SimMarket` (same seed) in this process: ids
 * contiguous from the contract-day's id base, and the row count equal to `dayTicks(...).count`. The same reference
 * times its own generation of the contract-day (cold), which shows how much of the end-to-end time is the generator.
 *
 * Goal: one contract-day in under 2 s (every measured contract-day). Prints one JSON object; a missed goal is
 * reported (`meets_goal: false`) and still exits 0; errors exit 1.
 */

import { SimMarket } from '#colo/sim/market/index.ts';
import { startSimulator } from '#colo/sim/server.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import type { TickRow } from '#shared/domain/market/ports.ts';
import { VARIETIES } from '#shared/domain/market/varieties.ts';
import { silentLogger } from '#shared/log.ts';
import { machine, summarize } from './stats.ts';
import { benchClient } from './support/diff-client.ts';

const SEED = 42;
/** Sim "now": after the downloaded days, so all of them are history. */
const SIM_START = '2025-06-03 10:00:00';
/** Trading days per variety, the first a warm-up (4 keeps the bench under a minute at ~4 s per contract-day). */
const DAYS = Number(process.env.BENCH_DOWNLOAD_DAYS ?? 4);
const GOAL_MS = 2_000;

interface ContractDay {
  variety: string;
  symbol: string;
  trading_day: string;
  warmup: boolean;
  ticks: number;
  pages: number;
  max_page_rows: number;
  ms: number;
  first_page_ms: number;
  /** CPU (user + system) of this process, simulator and client together, during the download. */
  cpu_ms: number;
  /** The reference generator's cold time for the same contract-day (a lower bound of the simulator's share). */
  generate_ms: number;
  expected_ticks: number;
  problems: string[];
}

/**
 * Checks a download as its pages arrive, without keeping the rows (a real consumer writes each page away): ids
 * contiguous, every row of the requested symbol and trading day. The count and the first id are compared with the
 * generator's afterwards.
 */
class DownloadCheck {
  count = 0;
  firstId: number | undefined;
  readonly problems: string[] = [];
  private nextId: number | undefined;

  constructor(
    private readonly symbol: string,
    private readonly compact: string,
  ) {}

  page(rows: TickRow[]): void {
    for (const r of rows) {
      if (this.nextId !== undefined && r.id !== this.nextId && this.problems.length < 5) {
        this.problems.push(`expected id ${this.nextId}, found ${r.id}`);
      }
      if ((r.symbol !== this.symbol || r.trading_day !== this.compact) && this.problems.length < 5) {
        this.problems.push(`row ${r.id} is ${r.symbol} ${r.trading_day}, not ${this.symbol} ${this.compact}`);
      }
      this.firstId ??= r.id;
      this.nextId = r.id + 1;
      this.count++;
    }
  }

  against(idBase: number, expected: number): string[] {
    const out = [...this.problems];
    if (this.count !== expected) out.push(`expected ${expected} rows, found ${this.count}`);
    if (this.count > 0 && this.firstId !== idBase) out.push(`expected first id ${idBase}, found ${this.firstId}`);
    return out;
  }
}

async function main(): Promise<void> {
  const calendar = shippedCalendar();
  const days = calendar.tradingDays('2025-04-01', '2025-06-02').slice(-DAYS);
  const reference = new SimMarket({ seed: SEED, calendar, cacheSize: 1 });
  const sim = await startSimulator(
    { port: 0, seed: SEED, clock: 'accelerated', start: SIM_START, speed: 1, maintenance: 'off' },
    { log: silentLogger(), calendar },
  );
  const client = benchClient(sim);
  const results: ContractDay[] = [];
  try {
    const md = await client.openMarket();
    for (const variety of VARIETIES) {
      for (const [i, day] of days.entries()) {
        const symbol = reference.mainContract(variety, day);
        const compact = day.replaceAll('-', '');
        const check = new DownloadCheck(symbol, compact);
        let pages = 0;
        let maxPage = 0;
        let firstPageMs = Number.NaN;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        for await (const page of md.downloadTicks(symbol, compact)) {
          if (pages === 0) firstPageMs = performance.now() - t0;
          pages++;
          maxPage = Math.max(maxPage, page.length);
          check.page(page);
        }
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        // Outside the timed region: the reference generator (its own cache, so the simulator's stays cold).
        const g0 = performance.now();
        const block = reference.dayTicks(symbol, day);
        const generateMs = performance.now() - g0;
        const problems = check.against(reference.tickIdBase(symbol, day), block.count);
        if (maxPage > 2_000) problems.push(`a page of ${maxPage} rows (limit 2,000)`);
        results.push({
          variety,
          symbol,
          trading_day: compact,
          warmup: i === 0,
          ticks: check.count,
          pages,
          max_page_rows: maxPage,
          ms: Math.round(ms),
          first_page_ms: Math.round(firstPageMs),
          cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
          generate_ms: Math.round(generateMs),
          expected_ticks: block.count,
          problems,
        });
      }
    }
  } finally {
    await client.close();
    await sim.stop();
  }

  const measured = results.filter((r) => !r.warmup);
  const figuresOf = (set: ContractDay[]) => {
    const ticks = set.reduce((a, r) => a + r.ticks, 0);
    const ms = set.reduce((a, r) => a + r.ms, 0);
    const cpuMs = set.reduce((a, r) => a + r.cpu_ms, 0);
    return {
      contract_days: set.length,
      ticks_per_contract_day: summarize(set.map((r) => r.ticks)),
      ms_per_contract_day: summarize(set.map((r) => r.ms)),
      first_page_ms: summarize(set.map((r) => r.first_page_ms)),
      reference_generate_ms: summarize(set.map((r) => r.generate_ms)),
      pages_per_contract_day: summarize(set.map((r) => r.pages)),
      ms_per_page: summarize(set.map((r) => r.ms / r.pages)),
      ticks_per_s: Math.round((ticks / ms) * 1000),
      cpu_per_wall: Math.round((cpuMs / ms) * 100) / 100,
    };
  };
  const varieties: Record<string, unknown> = {};
  for (const v of VARIETIES) varieties[v] = figuresOf(measured.filter((r) => r.variety === v));
  const overall = figuresOf(measured);
  const worst = Math.max(...measured.map((r) => r.ms));
  const failures = results.filter((r) => r.problems.length > 0);
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'market-download',
        machine: machine(),
        comparison:
          `downloadTicks end to end (simulator in this process, cold generator cache, loopback WebSocket, real DIFF client) ` +
          `for the cu/au/ag main contracts on ${days[1]}..${days.at(-1)} (seed ${SEED}, ${days[0]} dropped as warm-up), ` +
          `against the goal of one contract-day in under ${GOAL_MS} ms`,
        setup: { seed: SEED, sim_clock: `accelerated from ${SIM_START} CST, speed 1`, trading_days: days },
        figures: { overall, varieties, contract_days: results },
        verified: failures.length === 0,
        verification:
          failures.length === 0
            ? `all ${results.length} contract-days: ids contiguous from the id base, counts equal dayTicks(...).count`
            : failures.map((r) => ({ symbol: r.symbol, trading_day: r.trading_day, problems: r.problems })),
        goal: { ms_per_contract_day_max: GOAL_MS, judged_on: 'the slowest measured contract-day' },
        meets_goal: worst < GOAL_MS,
      },
      null,
      2,
    )}\n`,
  );
}

try {
  await main();
} catch (err) {
  process.stderr.write(`market-download bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
