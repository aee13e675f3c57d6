/**
 * Market-generator bench (market-protocol §2.3 "Performance", §2.9 item 27): one contract-day in ≤ 300 ms on one
 * core. For each variety it generates the main contract on consecutive trading days with a cold block cache
 * (each day's slot grid and variety path are built too, as on a first request), then a second listed contract
 * of the same days (grid and path already cached, the cost per extra contract when the simulator streams every
 * listed contract). Reports ms per contract-day and ticks generated per second. Prints one JSON object.
 */
import { SimMarket } from '#colo/sim/market/index.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { VARIETIES } from '#shared/domain/market/varieties.ts';
import { machine, summarize } from './stats.ts';

const DAYS = Number(process.env.BENCH_SIM_DAYS ?? 20);
const WARMUP_DAYS = 3;
const BUDGET_MS = 300;

function main(): void {
  const calendar = shippedCalendar();
  const days = calendar.tradingDays('2025-03-03', '2025-12-31').slice(0, DAYS + WARMUP_DAYS);
  const market = new SimMarket({ seed: 42, calendar, cacheSize: 1 });
  const results: Record<string, unknown> = {};
  let worstP90 = 0;
  for (const variety of VARIETIES) {
    const cold: number[] = [];
    const extra: number[] = [];
    let ticks = 0;
    let genMs = 0;
    for (const [i, day] of days.entries()) {
      const main = market.mainContract(variety, day);
      // Tick-id prefix sums are a one-time cost per contract, not part of a contract-day.
      market.tickIdBase(main, day);
      const t0 = performance.now();
      const block = market.dayTicks(main, day);
      const t1 = performance.now();
      const other = market.listed(variety, day).find((s) => s !== main) as string;
      market.tickIdBase(other, day);
      const t2 = performance.now();
      market.dayTicks(other, day);
      const t3 = performance.now();
      if (i < WARMUP_DAYS) continue;
      cold.push(t1 - t0);
      extra.push(t3 - t2);
      ticks += block.count;
      genMs += t1 - t0;
    }
    const coldSummary = summarize(cold);
    worstP90 = Math.max(worstP90, coldSummary.p90);
    results[variety] = {
      main_contract_day_ms: coldSummary,
      extra_contract_same_day_ms: summarize(extra),
      ticks_per_contract_day: Math.round(ticks / cold.length),
      ticks_per_s: Math.round((ticks / genMs) * 1000),
    };
  }
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'sim-generator',
        machine: machine(),
        comparison: `main contract-days ${days[WARMUP_DAYS]}..${days.at(-1)} (seed 42, ${WARMUP_DAYS} warm-up days dropped), one core, budget ${BUDGET_MS} ms per contract-day (market-protocol §2.3)`,
        budget_ms: BUDGET_MS,
        within_budget: worstP90 <= BUDGET_MS,
        varieties: results,
      },
      null,
      2,
    )}\n`,
  );
  if (worstP90 > BUDGET_MS) process.exitCode = 1;
}

main();
