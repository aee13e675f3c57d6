/**
 * The web app's dependencies and the hono environment (per-request variables, runtime bindings). The same app runs
 * under `@hono/node-server` (`ghtrader up`), the HTTP API Lambda, and `app.request()` in tests.
 */
import type { AppConfig } from '#shared/config.ts';
import type { AuditLog } from '#shared/domain/control/audit.ts';
import type { HotCache } from '#shared/domain/control/hot-cache.ts';
import type { LockLister } from '#shared/domain/control/locks.ts';
import type { StatusSource } from '#shared/domain/control/status.ts';
import type { SupervisorTelemetryStore } from '#shared/domain/control/supervisor-telemetry.ts';
import type { ArtifactStore } from '#shared/domain/data/artifacts.ts';
import type { TickStore } from '#shared/domain/data/tick-store.ts';
import type { IdGen } from '#shared/domain/ids.ts';
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import type { MarketFeedSource } from '#shared/domain/market/feed.ts';
import type { Clock } from '#shared/domain/time.ts';
import type { BroadcasterStats } from '#shared/infra/aws/broadcaster-stats.ts';
import type { Logger } from '#shared/log.ts';
import type { AccountService } from '#shared/services/account-service.ts';
import type { AuthService, Principal } from '#shared/services/auth-service.ts';
import type { CommandService } from '#shared/services/command-service.ts';
import type { ConfigService } from '#shared/services/config-service.ts';
import type { ConsoleStatusService } from '#shared/services/console-status.ts';
import type { DesiredService } from '#shared/services/desired-service.ts';
import type { JobService } from '#shared/services/job-service.ts';
import type { LiveConfig } from '#shared/services/live-config.ts';
import type { RealtimeDeps } from './realtime/ws-route.ts';

export interface AppDeps {
  config: AppConfig;
  jobs: JobService;
  status: StatusSource;
  auth: AuthService;
  /** Config revisions behind `/api/config/*` and the Config page. */
  configService: ConfigService;
  audit: AuditLog;
  log: Logger;
  clock: Clock;
  ids: IdGen;
  /** Directory holding the built `app.js` and `app.css` served under `/static/`; absent -> those are 404. */
  staticDir?: string;
  /**
   * The live market feed behind `/api/market/{var}` and the Market page; absent (`ghtrader up --no-sim`, or a
   * deployment without a market-data source) -> the API answers 503 `dependency_unavailable`, the page says so.
   */
  market?: MarketFeedSource;
  /**
   * The data chain's stores behind `/api/data/{var}/overview` and the Data page; absent (a process that does not run
   * the data chain) -> the API answers 503 `dependency_unavailable`, the page says so.
   */
  data?: { store: TickStore; artifacts: ArtifactStore; calendar: TradingCalendar };
  /**
   * The live-update hub behind `GET /ws` and `/api/observability/ws`; absent (the HTTP API Lambda, `app.request()`
   * tests) -> `/ws` answers 503 `dependency_unavailable`.
   */
  realtime?: RealtimeDeps;
  /**
   * The console's hot-read cache (≤ 1 s, `web/hot-reads.ts`). Pass the one the realtime feed invalidates
   * (`ghtrader up`); absent -> the app makes its own, bounded by its lifetime alone.
   */
  hot?: HotCache;
  /**
   * The counters another process's broadcaster flushed to TradingState (`broadcaster#<id>`, every 5 s): what a process
   * without its own hub (the HTTP API Lambda, whose live updates the colo host's AWS broadcaster delivers) reports at
   * `/api/observability/ws` and in the SLO snapshot, with their `as_of`. Null when none was ever flushed.
   */
  broadcasterStats?: () => Promise<BroadcasterStats | null>;
  /**
   * The process's live config (`#shared/services/live-config.ts`): `/api/observability/runtime` reports the revision
   * this process applies; absent (tests) -> reported as null.
   */
  live?: Pick<LiveConfig, 'stats'>;
  /**
   * Called once per request with its route template, duration and status, after the in-process metrics (the HTTP
   * API Lambda writes a CloudWatch EMF line, control-chain §10); absent -> nothing more.
   */
  onRequestMetric?: (route: string, latencyMs: number, status: number) => void;
  /**
   * Desired state and supervisor telemetry behind `/api/{gateway,strategy}/*` and `/api/observability/supervisors`;
   * absent (a process that wires no desired-state service) -> those desired routes answer 503.
   */
  supervision?: SupervisionDeps;
  /**
   * Broker accounts behind `/api/accounts`, `/api/brokers` and the System page's Broker accounts panel; absent (a
   * process that wires none) -> those routes answer 503 and the panel says so.
   */
  accounts?: AccountService;
  /**
   * Operator commands to gateways behind `POST /api/gateway/command`, `/api/trading/risk-kill` and
   * `GET /api/gateway/commands`; absent -> those routes answer 503.
   */
  commands?: CommandService;
  /** `GET /api/trading/console/status`; absent -> 503. */
  consoleStatus?: ConsoleStatusService;
  /** The lease locks behind `GET /api/locks` and the System page's Locks panel; absent -> 503. */
  locks?: LockLister;
}

/** The desired-state service and the supervisors' persisted telemetry. */
export interface SupervisionDeps {
  desired: DesiredService;
  telemetry: SupervisorTelemetryStore;
}

export interface WebVariables {
  requestId: string;
  /** Logger carrying `request_id`. */
  log: Logger;
  /** Null until the authenticate middleware resolves a session cookie or bearer token. */
  principal: Principal | null;
}

/**
 * Runtime bindings: `incoming` under @hono/node-server, `requestContext` under the API Gateway Lambda adapter.
 * Only the client address and TLS flag are read from them.
 */
export interface WebBindings {
  incoming?: { socket?: { remoteAddress?: string | undefined; encrypted?: boolean | undefined } };
  requestContext?: { http?: { sourceIp?: string }; identity?: { sourceIp?: string } };
}

export interface WebEnv {
  Variables: WebVariables;
  Bindings: WebBindings;
}
