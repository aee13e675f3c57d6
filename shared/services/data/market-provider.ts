/**
 * Provider sessions of the data jobs in one process (§5.1 step 4, §5.2). One shared session answers short calls
 * (continuous mapping, the provider clock); downloads lease a session of their own from a pool of at most `size`
 * sessions, because one DIFF connection carries one tick download at a time (concurrent charts on a connection cut
 * each other short). A lease released with `discard` closes its session: the §5.5 reconnect after a non-timeout
 * failure. Sessions open on first use; concurrent callers of `get()` share one opening.
 */
import type { TradingCalendar } from '../../domain/market/calendar/calendar.ts';
import type { MarketDataSource } from '../../domain/market/ports.ts';
import { DiffClient } from '../../infra/diff/client.ts';
import type { DiffConfig } from '../../infra/diff/config.ts';
import type { Logger } from '../../log.ts';
import type { MarketProvider, SessionLease } from './context.ts';

interface Session {
  client: DiffClient;
  source: MarketDataSource;
}

/** `config` is read at first use, so a process without provider settings fails the job that needs one, clearly. */
export function diffMarketProvider(
  config: () => DiffConfig,
  calendar: TradingCalendar,
  log: Logger,
  size = 4,
): MarketProvider {
  const open = async (): Promise<Session> => {
    const client = new DiffClient({ config: config(), calendar, logger: log });
    try {
      return { client, source: await client.openMarket() };
    } catch (err) {
      await client.close().catch((closeErr: unknown) => log.warn({ err: closeErr }, 'diff.close_failed'));
      throw err;
    }
  };
  let shared: Promise<Session> | null = null;
  const idle: Session[] = [];
  const waiters: (() => void)[] = [];
  let leased = 0;
  let closed = false;

  const closeSession = async (s: Session) => {
    await s.client.close().catch((err: unknown) => log.warn({ err }, 'diff.close_failed'));
  };

  return {
    get() {
      if (closed) return Promise.reject(new Error('market provider is closed'));
      if (!shared) {
        const opening = open();
        shared = opening;
        opening.catch(() => {
          if (shared === opening) shared = null;
        });
      }
      return shared.then((s) => s.source);
    },
    async lease(): Promise<SessionLease> {
      for (;;) {
        if (closed) throw new Error('market provider is closed');
        const s = idle.pop();
        if (s || leased + idle.length < size) {
          leased++;
          let session: Session;
          try {
            session = s ?? (await open());
          } catch (err) {
            leased--;
            waiters.shift()?.();
            throw err;
          }
          let done = false;
          return {
            source: session.source,
            async release(opts = {}) {
              if (done) return;
              done = true;
              leased--;
              if (opts.discard || closed) await closeSession(session);
              else idle.push(session);
              waiters.shift()?.();
            },
          };
        }
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    async reset() {
      const s = shared;
      shared = null;
      // Idle pooled sessions go too: the next lease opens a session with the current configuration.
      const all = idle.splice(0);
      if (s) await closeSession(await s);
      for (const x of all) await closeSession(x);
    },
    async close() {
      closed = true;
      const s = shared;
      shared = null;
      const all = idle.splice(0);
      for (const w of waiters.splice(0)) w();
      if (s) await s.then(closeSession, () => undefined);
      for (const x of all) await closeSession(x);
    },
  };
}
