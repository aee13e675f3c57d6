/** The real simulator and DIFF client behind a market feed, for the market-feed integration tests. */
import type { SimOptionsInput } from '#colo/sim/config.ts';
import { type SimulatorHandle, startSimulator } from '#colo/sim/server.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { systemClock } from '#shared/domain/time.ts';
import { DiffClient } from '#shared/infra/diff/client.ts';
import { loadDiffConfig } from '#shared/infra/diff/config.ts';
import { silentLogger } from '#shared/log.ts';
import { type FeedConnection, MarketFeed, type MarketFeedOptions } from '#shared/services/market-feed.ts';

export const ORIGIN = 'http://localhost';

/** A simulator on a random port: accelerated ×10 from Tuesday 2025-03-04 10:00 CST (inside the day session). */
export function startSim(over: SimOptionsInput = {}): Promise<SimulatorHandle> {
  return startSimulator(
    { port: 0, clock: 'accelerated', start: '2025-03-04 10:00:00', speed: 10, ...over },
    { log: silentLogger() },
  );
}

/** `open` for the feed: a fresh DIFF client per attempt, discovering md through the base URL `target()` names. */
export function simOpen(target: () => { url: string; token: string }): () => Promise<FeedConnection> {
  return async () => {
    const { url, token } = target();
    const client = new DiffClient({
      config: loadDiffConfig({
        GHTRADER_DIFF_AUTH_URL: url,
        GHTRADER_DIFF_NS_URL: `${url}/ns`,
        GHTRADER_DIFF_FILES_URL: url,
        GHTRADER_DIFF_TOKEN: token,
        GHTRADER_DIFF_BACKOFF_BASE_MS: '50',
        GHTRADER_DIFF_READY_TIMEOUT_S: '10',
        GHTRADER_DIFF_HTTP_TIMEOUT_S: '2',
      }),
      calendar: shippedCalendar(),
      httpRetryDelayMs: () => 20,
    });
    try {
      return { source: await client.openMarket(), close: () => client.close() };
    } catch (err) {
      await client.close();
      throw err;
    }
  };
}

export function startFeed(sim: SimulatorHandle, over: Partial<MarketFeedOptions> = {}): MarketFeed {
  const feed = new MarketFeed({
    open: simOpen(() => ({ url: sim.url, token: sim.token })),
    clock: systemClock,
    log: silentLogger(),
    windowSize: 60,
    tickViewWidth: 20,
    ...over,
  });
  feed.start();
  return feed;
}

/** Poll `fn` every 50 ms until it returns a value other than undefined, or fail after `timeoutMs`. */
export async function until<T>(fn: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The production web app on a real per-file stack, with the given market feed (or none). */
