/**
 * The provider session data jobs share in one process (§5.2): one DIFF client, opened on first use, dropped and
 * reopened on `reset()` (the §5.5 reconnect after a non-timeout failure). Concurrent callers share one opening.
 */
import type { TradingCalendar } from '../../domain/market/calendar/calendar.ts';
import type { MarketDataSource } from '../../domain/market/ports.ts';
import { DiffClient } from '../../infra/diff/client.ts';
import type { DiffConfig } from '../../infra/diff/config.ts';
import type { Logger } from '../../log.ts';
import type { MarketProvider } from './context.ts';

/** `config` is read at first use, so a process without provider settings fails the job that needs one, clearly. */
export function diffMarketProvider(config: () => DiffConfig, calendar: TradingCalendar, log: Logger): MarketProvider {
  let current: { client: DiffClient; source: Promise<MarketDataSource> } | null = null;
  const drop = async () => {
    const c = current;
    current = null;
    if (c) await c.client.close();
  };
  return {
    get() {
      if (!current) {
        const client = new DiffClient({ config: config(), calendar, logger: log });
        const source = client.openMarket().catch(async (err: unknown) => {
          if (current?.client === client) current = null;
          await client.close().catch((closeErr: unknown) => log.warn({ err: closeErr }, 'diff.close_failed'));
          throw err;
        });
        current = { client, source };
      }
      return current.source;
    },
    reset: drop,
    close: drop,
  };
}
