/**
 * The L5 start probe (data-chain §5.7, job `data.l5_start`, `ghtrader data l5-start`): the first trading day on
 * which the provider has true-L5 ticks of a variety, found by downloading probe days (see `domain/data/l5-start.ts`).
 * The answer is cached in the artifact store for `GHTRADER_L5_START_TTL_S` (default 86,400 s, at least 60); the
 * operator copies it into `GHTRADER_L5_START_DATE_<VAR>`.
 */
import * as z from 'zod';
import { type ArtifactStore, assertArtifactKey } from '../../domain/data/artifacts.ts';
import { firstL5Day, probeContracts } from '../../domain/data/l5-start.ts';
import { L5_RULE } from '../../domain/data/main-l5/l5-rule.ts';
import { resolveNumber, type SettingLayers } from '../../domain/data/settings.ts';
import { isL5Record } from '../../domain/data/validation/l5-rows.ts';
import type { TradingCalendar } from '../../domain/market/calendar/calendar.ts';
import { cstDayOf } from '../../domain/market/cst.ts';
import { type Variety, VarietySchema } from '../../domain/market/varieties.ts';
import { DataChainError } from '../../errors/data.ts';
import type { Logger } from '../../log.ts';
import type { MarketProvider } from './context.ts';

const EXCHANGE = 'SHFE';

export interface L5StartReport {
  ok: boolean;
  exchange: string;
  var: Variety;
  l5_start_date: string | null;
  l5_start_contract: string | null;
  source: 'probe' | 'cache';
  created_at: string;
  cached_at_unix: number | null;
  contracts_checked: number;
  probes_total: number;
  l5_rule: string;
}

export interface L5StartDeps {
  market: MarketProvider;
  calendar: TradingCalendar;
  artifacts: ArtifactStore;
  settings: SettingLayers;
  clock: { nowMs(): number };
  log: Logger;
}

const CachedSchema = z.object({
  ok: z.literal(true),
  exchange: z.string(),
  var: VarietySchema,
  l5_start_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  l5_start_contract: z.string().min(1),
  source: z.enum(['probe', 'cache']),
  created_at: z.string(),
  cached_at_unix: z.number(),
  contracts_checked: z.number().int(),
  probes_total: z.number().int(),
  l5_rule: z.string(),
});

function parseCached(body: Uint8Array, uri: string): L5StartReport {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = CachedSchema.safeParse(json);
  if (!parsed.success) {
    throw new DataChainError(
      'l5_start_cache_invalid',
      `the cached L5 start ${uri} is not a probe result; probe again with ghtrader data l5-start --refresh`,
      { details: { uri } },
    );
  }
  return parsed.data;
}

export const l5StartCacheKey = (variety: Variety) => assertArtifactKey(`cache/l5_start/${variety}.json`);

/** The cached answer when younger than the TTL and not `refresh`, else a fresh probe (cached when it found a day). */
export async function runL5Start(
  deps: L5StartDeps,
  req: { variety: Variety; refresh: boolean },
): Promise<L5StartReport> {
  const nowMs = deps.clock.nowMs();
  const ttlS = resolveNumber(deps.settings, { key: 'GHTRADER_L5_START_TTL_S', default: 86_400, min: 60 }).value;
  const key = l5StartCacheKey(req.variety);
  if (!req.refresh) {
    const body = await deps.artifacts.get(key);
    if (body !== null) {
      const cached = parseCached(body, deps.artifacts.uri(key));
      if (cached.cached_at_unix !== null && nowMs / 1000 - cached.cached_at_unix < ttlS) {
        return { ...cached, source: 'cache' };
      }
    }
  }

  const market = await deps.market.get();
  // The requested end: the last trading day by the earlier of the wall clock and the provider's (a simulator may run
  // in the past).
  const wallNs = BigInt(nowMs) * 1_000_000n;
  const providerNs = (await market.marketNow?.()) ?? wallNs;
  const today = cstDayOf(providerNs < wallNs ? providerNs : wallNs);
  const cal = deps.calendar;
  const endDay = cal.isTradingDay(today) ? today : cal.prevTradingDay(today);
  const contracts = probeContracts(
    await market.listContracts(req.variety, { includeExpired: true }),
    endDay,
    cal.covers.from,
    (c) => (c.expire_datetime === null ? null : cstDayOf(c.expire_datetime)),
  );

  let probes = 0;
  let checked = 0;
  let found: { day: string; contract: string } | null = null;
  for (const c of contracts) {
    checked++;
    const days = cal.tradingDays(c.window_start, c.window_end);
    const r = await firstL5Day(days, (day) => hasTrueL5(deps.market, c.symbol, day));
    probes += r.probes;
    deps.log.info({ contract: c.symbol, probes: r.probes, first: r.day }, 'l5_start.contract_probed');
    if (r.day !== null) {
      found = { day: r.day, contract: c.symbol };
      break;
    }
  }
  const report: L5StartReport = {
    ok: found !== null,
    exchange: EXCHANGE,
    var: req.variety,
    l5_start_date: found?.day ?? null,
    l5_start_contract: found?.contract ?? null,
    source: 'probe',
    created_at: new Date(nowMs).toISOString(),
    cached_at_unix: found ? Math.floor(nowMs / 1000) : null,
    contracts_checked: checked,
    probes_total: probes,
    l5_rule: L5_RULE,
  };
  if (found) await deps.artifacts.put(key, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** Whether the provider has at least one true-L5 tick of `symbol` on `day` (stops at the first one). */
async function hasTrueL5(market: MarketProvider, symbol: string, day: string): Promise<boolean> {
  const lease = await market.lease();
  let found = false;
  try {
    for await (const page of lease.source.downloadTicks(symbol, day.replaceAll('-', ''))) {
      if (page.some((row) => isL5Record(row, L5_RULE))) {
        found = true;
        break; // leaving the loop releases the chart
      }
    }
  } catch (err) {
    // A session that failed mid-download is not reused.
    await lease.release({ discard: true });
    throw err;
  }
  await lease.release();
  return found;
}
