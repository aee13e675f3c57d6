/**
 * The L5 start probe (data-chain §5.7) on the simulator: a provider whose ticks carry only level 1 before 2025-02-20
 * (levels 2–5 stripped on top of the real simulator session) reports 2025-02-20 from the first contract whose
 * window has L5, caches it, answers from the cache, and probes again with `refresh`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketDataSource, TickRow } from '#shared/domain/market/ports.ts';
import { createDataTestStack, type DataTestStack, runJob } from './support.ts';

const L5_FROM = '20250220';

function levelOneOnly(row: TickRow): TickRow {
  const out: Record<string, unknown> = { ...row };
  for (let level = 2; level <= 5; level++) {
    for (const f of ['bid_price', 'bid_volume', 'ask_price', 'ask_volume']) out[`${f}${level}`] = Number.NaN;
  }
  return out as unknown as TickRow;
}

describe('ghtrader data l5-start (job data.l5_start)', () => {
  let d: DataTestStack;
  beforeAll(async () => {
    const wrap = (m: MarketDataSource): MarketDataSource =>
      Object.assign(Object.create(m) as MarketDataSource, {
        downloadTicks(symbol: string, tradingDay: string) {
          const pages = m.downloadTicks(symbol, tradingDay);
          if (tradingDay >= L5_FROM) return pages;
          return (async function* () {
            for await (const page of pages) yield page.map(levelOneOnly);
          })();
        },
      });
    // Contracts expired before 2025-01-02 are not listed: fewer level-1-only contracts to probe past.
    d = await createDataTestStack({ env: {}, wrapMarket: wrap, sim: { historyFrom: '2025-01-02' } });
  }, 60_000);
  afterAll(async () => {
    await d?.close();
  });

  it('finds the first true-L5 day, caches it, and probes again on refresh', async () => {
    // Act
    const first = await runJob(d, 'data.l5_start', { var: 'cu' });
    const cached = await runJob(d, 'data.l5_start', { var: 'cu' });
    const refreshed = await runJob(d, 'data.l5_start', { var: 'cu', refresh: true });

    // Assess
    expect(first.status, JSON.stringify(first.error)).toBe('succeeded');
    expect(first.result).toMatchObject({
      ok: true,
      exchange: 'SHFE',
      var: 'cu',
      l5_start_date: '2025-02-20',
      source: 'probe',
      l5_rule: 'l5_levels_2_5_v2',
    });
    const r = first.result as { l5_start_contract: string; probes_total: number; contracts_checked: number };
    expect(r.l5_start_contract).toMatch(/^SHFE\.cu25\d{2}$/);
    expect(r.probes_total).toBeGreaterThan(r.contracts_checked);
    expect(cached.result).toEqual({ ...(first.result as object), source: 'cache' });
    expect(refreshed.result).toMatchObject({ source: 'probe', l5_start_date: '2025-02-20' });
  }, 180_000);
});
