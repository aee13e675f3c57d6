/**
 * The market feed over the real simulator and the real DIFF client, discovered the way `ghtrader up` does it (AUTH,
 * NS and FILES at the simulator, its dev token), and the web app over a real per-file stack with that feed. Logins go
 * through `POST /api/auth/login` like a browser (as in tests/integration/web/support.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import type { SimOptionsInput } from '#colo/sim/config.ts';
import { type SimulatorHandle, startSimulator } from '#colo/sim/server.ts';
import type { Role } from '#shared/domain/control/roles.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import type { MarketFeedSource } from '#shared/domain/market/feed.ts';
import { isoUtc, systemClock } from '#shared/domain/time.ts';
import { DynamoUserStore } from '#shared/infra/aws/user-store.ts';
import { DiffClient } from '#shared/infra/diff/client.ts';
import { loadDiffConfig } from '#shared/infra/diff/config.ts';
import { silentLogger } from '#shared/log.ts';
import { AuthService, systemCaller } from '#shared/services/auth-service.ts';
import { type FeedConnection, MarketFeed, type MarketFeedOptions } from '#shared/services/market-feed.ts';
import { StatusService } from '#shared/services/status-service.ts';
import { createApp } from '#web/app.ts';
import type { WebEnv } from '#web/env.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';

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
export class MarketWebStack {
  readonly app: Hono<WebEnv>;
  readonly auth: AuthService;
  readonly ip = `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

  private constructor(
    readonly stack: TestStack,
    market: MarketFeedSource | undefined,
  ) {
    const { config, rt } = stack;
    this.auth = new AuthService({
      users: new DynamoUserStore(rt.clients.doc, config.tables.users),
      audit: rt.audit,
      clock: systemClock,
      ids: ulidGen,
      log: silentLogger(),
      limits: config.auth,
      cursorSecret: config.auth.cursorSecret ?? 'test-cursor-secret-0001',
    });
    const status = new StatusService({
      dynamo: rt.clients.dynamo,
      jobsTable: config.tables.jobs,
      store: rt.store,
      queue: rt.queue,
      warm: rt.warm,
      runner: {
        status: () => ({
          state: 'unknown',
          text: 'no job runner in this test stack',
          error: '',
          updated_at: isoUtc(Date.now()),
          stale: false,
        }),
      },
      clock: systemClock,
    });
    this.app = createApp({
      config,
      jobs: rt.jobs,
      status,
      auth: this.auth,
      audit: rt.audit,
      log: silentLogger(),
      clock: systemClock,
      ids: ulidGen,
      ...(market ? { market } : {}),
    });
  }

  static async create(market: MarketFeedSource | undefined): Promise<MarketWebStack> {
    return new MarketWebStack(await createTestStack(), market);
  }

  request(path: string, init: RequestInit = {}): Promise<Response> {
    return Promise.resolve(
      this.app.request(`${ORIGIN}${path}`, init, { incoming: { socket: { remoteAddress: this.ip } } }),
    );
  }

  /** A new user of `role`, logged in through the API; returns the session cookie. */
  async loginAs(role: Role): Promise<string> {
    const username = `${role}-${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(12).toString('hex')}`;
    await this.auth.createUser(systemCaller('system', 'test', ulidGen.next()), { username, password, role });
    const res = await this.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ username, password }),
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  }

  close(): Promise<void> {
    return this.stack.close();
  }
}
