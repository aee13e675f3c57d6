/**
 * Composition of the DIFF client: one token provider, one shared reconnect backoff and one optional frame log per
 * client; discovery of the md and trade URLs; the two ports. A process creates one `DiffClient` in its composition
 * root and injects the ports.
 *
 * @example
 * const client = new DiffClient({ config: loadDiffConfig(process.env), calendar: shippedCalendar() });
 * const md = await client.openMarket();
 * const broker = await client.brokerSession({ brokerId: 'ghsim', account: 'u1', password: 'u1' });
 * await broker.login();
 */
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { type Logger, silentLogger } from '#shared/log.ts';
import { TokenProvider } from './auth.ts';
import type { DiffConfig } from './config.ts';
import { ContinuousTableSource } from './continuous.ts';
import { discoverBroker, discoverMdUrl, endpointKind } from './discovery.ts';
import { FrameLog } from './framelog.ts';
import { DiffMarket } from './market.ts';
import type { InstrumentLimits } from './order-frame.ts';
import { DiffBrokerSession, DiffMarketDataSource } from './ports.ts';
import { Backoff } from './reconnect.ts';
import { DiffTrade } from './trade.ts';

export interface DiffProfile {
  brokerId: string;
  account: string;
  password: string;
  clientAppId?: string;
  clientSystemInfo?: string;
  clientMacAddress?: string;
}

export interface DiffClientOptions {
  config: DiffConfig;
  calendar: TradingCalendar;
  logger?: Logger;
  /** Wall clock (ms); injected by tests. */
  nowMs?: () => number;
  hexId?: () => string;
  /** HTTP retry delay (tests shorten it). */
  httpRetryDelayMs?: (attempt: number) => number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
}

export class DiffClient {
  readonly tokens: TokenProvider;
  readonly backoff: Backoff;
  readonly frameLog: FrameLog | undefined;
  private readonly log: Logger;
  private market: DiffMarketDataSource | undefined;
  private readonly sessions: DiffBrokerSession[] = [];

  constructor(private readonly opts: DiffClientOptions) {
    this.log = opts.logger ?? silentLogger();
    this.tokens = new TokenProvider(opts.config, {
      logger: this.log,
      ...(opts.httpRetryDelayMs ? { retryDelayMs: opts.httpRetryDelayMs } : {}),
    });
    this.backoff = new Backoff(opts.config.backoffBaseMs, Math.random, opts.nowMs ?? Date.now);
    this.frameLog = opts.config.frameLogPath ? new FrameLog(opts.config.frameLogPath) : undefined;
  }

  private discoveryOpts() {
    return this.opts.httpRetryDelayMs ? { retryDelayMs: this.opts.httpRetryDelayMs } : {};
  }

  /** Discover the md URL, connect and wait for initial readiness; one market source per client. */
  async openMarket(): Promise<DiffMarketDataSource> {
    if (this.market) return this.market;
    const cfg = this.opts.config;
    const url = await discoverMdUrl(cfg, this.tokens, this.discoveryOpts());
    if (!this.tokens.isStatic) {
      await this.tokens
        .grantInfo()
        .catch((err: unknown) =>
          this.log.warn({ err: (err as Error).message }, 'get-grant failed; continuing without grant info'),
        );
    }
    const market = new DiffMarket({
      url,
      tokens: this.tokens,
      backoff: this.backoff,
      calendar: this.opts.calendar,
      resyncTimeoutMs: cfg.resyncTimeoutMs,
      readyTimeoutMs: cfg.readyTimeoutMs,
      stallMs: cfg.stallMs,
      logger: this.log,
      frameLog: this.frameLog,
      ...(this.opts.nowMs ? { nowMs: this.opts.nowMs } : {}),
      ...(this.opts.hexId ? { hexId: this.opts.hexId } : {}),
      ...(this.opts.pingIntervalMs !== undefined ? { pingIntervalMs: this.opts.pingIntervalMs } : {}),
      ...(this.opts.pongTimeoutMs !== undefined ? { pongTimeoutMs: this.opts.pongTimeoutMs } : {}),
    });
    await market.start();
    this.market = new DiffMarketDataSource(
      market,
      this.tokens,
      new ContinuousTableSource(cfg, this.tokens, this.opts.nowMs),
      cfg.readyTimeoutMs,
    );
    return this.market;
  }

  /**
   * Discover the broker's trade URL (refusing non-TQ brokers and non-ws schemes) and return a session that connects
   * and logs in on `login()`. Order checks use the md quote of the symbol when the market source is open.
   */
  async brokerSession(profile: DiffProfile): Promise<DiffBrokerSession> {
    const cfg = this.opts.config;
    const broker = await discoverBroker(cfg, this.tokens, profile.brokerId, profile.account, this.discoveryOpts());
    const kind = endpointKind(broker.url);
    if (kind === 'shinny') await this.tokens.ensureAccountGranted(profile.account);
    const limits = (symbol: string): InstrumentLimits | undefined => {
      const q = this.market?.market.quote(symbol);
      if (q === undefined) return undefined;
      return {
        price_tick: q.price_tick,
        max_limit_order_volume: q.max_limit_order_volume,
        upper_limit: q.upper_limit,
        lower_limit: q.lower_limit,
      };
    };
    const session = new DiffBrokerSession(
      async () =>
        new DiffTrade({
          url: broker.url,
          tokens: this.tokens,
          backoff: this.backoff,
          brokerId: profile.brokerId,
          userName: profile.account,
          password: profile.password,
          ...(profile.clientAppId !== undefined ? { clientAppId: profile.clientAppId } : {}),
          ...(profile.clientSystemInfo !== undefined ? { clientSystemInfo: profile.clientSystemInfo } : {}),
          ...(profile.clientMacAddress !== undefined ? { clientMacAddress: profile.clientMacAddress } : {}),
          confirmSettlement: kind === 'shinny',
          resyncTimeoutMs: cfg.resyncTimeoutMs,
          readyTimeoutMs: cfg.readyTimeoutMs,
          orderAckTimeoutMs: cfg.orderAckTimeoutMs,
          instrumentLimits: limits,
          logger: this.log,
          frameLog: this.frameLog,
          ...(this.opts.nowMs ? { nowMs: this.opts.nowMs } : {}),
          ...(this.opts.pingIntervalMs !== undefined ? { pingIntervalMs: this.opts.pingIntervalMs } : {}),
          ...(this.opts.pongTimeoutMs !== undefined ? { pongTimeoutMs: this.opts.pongTimeoutMs } : {}),
        }),
      kind,
    );
    this.sessions.push(session);
    return session;
  }

  async close(): Promise<void> {
    await Promise.all([this.market?.close(), ...this.sessions.map((s) => s.close())]);
    this.tokens.close();
    this.frameLog?.close();
  }
}
