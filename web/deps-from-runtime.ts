/**
 * The web app's dependencies from a composition root's `Runtime`, for processes that serve the app without the local
 * stack's extras: the HTTP API Lambda (`functions/http-api.ts`) and the WebSocket authorizer (which needs only the
 * `AuthService`). `ghtrader up` adds its local runner, simulator feed, data chain and `/ws` hub on top of the same
 * services.
 */

import type { AppConfig } from '#shared/config.ts';
import type { AuditLog } from '#shared/domain/control/audit.ts';
import { HotCache } from '#shared/domain/control/hot-cache.ts';
import type { ComponentStatus } from '#shared/domain/control/status.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { type Clock, isoUtc, systemClock } from '#shared/domain/time.ts';
import { readBroadcasterStats } from '#shared/infra/aws/broadcaster-stats.ts';
import { DynamoUserStore } from '#shared/infra/aws/user-store.ts';
import { CONSOLE_BROADCASTER_ID } from '#shared/infra/aws/ws-broadcaster-lease.ts';
import type { Logger } from '#shared/log.ts';
import { AuthService } from '#shared/services/auth-service.ts';
import { type LiveConfig, liveAuthLimits } from '#shared/services/live-config.ts';
import { createAccountService, type Runtime } from '#shared/services/runtime.ts';
import {
  broadcasterStatusFrom,
  type RunnerStatusSource,
  StatusService,
  supervisorStatusFrom,
} from '#shared/services/status-service.ts';
import { tradingControl } from '#shared/services/trading-control.ts';
import type { AppDeps } from './env.ts';

export interface AuthServiceInputs {
  config: AppConfig;
  doc: Runtime['clients']['doc'];
  audit: AuditLog;
  log: Logger;
  cursorSecret: string;
  clock?: Clock;
  /** The process's live config: session and login limits then follow each revision (else the env values). */
  live?: LiveConfig;
  /** Session and token cache lifetime (`GHTRADER_CONSOLE_CACHE_MS`, ≤ 1 s); default 0, every check reads the table. */
  credentialCacheMs?: number;
}

/** The production `AuthService` on the Users table (sessions, tokens, users), as `ghtrader up` builds it. */
export function authServiceFor(i: AuthServiceInputs): AuthService {
  return new AuthService({
    users: new DynamoUserStore(i.doc, i.config.tables.users),
    audit: i.audit,
    clock: i.clock ?? systemClock,
    ids: ulidGen,
    log: i.log.child({ component: 'auth' }),
    limits: i.live ? liveAuthLimits(i.live, i.config.auth) : i.config.auth,
    ...(i.credentialCacheMs === undefined ? {} : { credentialCacheMs: i.credentialCacheMs }),
    cursorSecret: i.cursorSecret,
  });
}

/**
 * Job execution as a Lambda deployment sees it: jobs run in the jobs-worker function behind the SQS event source, which
 * the API function cannot observe; queue depth and the DLQ are reported by the `sqs` component instead.
 */
export const lambdaRunnerStatus: RunnerStatusSource = {
  status: (): ComponentStatus => ({
    state: 'unknown',
    text: 'jobs run in the jobs-worker Lambda (SQS event source); see the sqs component for queue depth and DLQ',
    error: '',
    updated_at: isoUtc(Date.now()),
    stale: false,
  }),
};

export interface DepsFromRuntimeOptions {
  cursorSecret: string;
  runner: RunnerStatusSource;
  /** Directory of the built client assets (`app.js`, `app.css`, `favicon.svg`); absent -> `/static/*` is 404. */
  staticDir?: string;
  clock?: Clock;
}

/** `AppDeps` from a runtime: the runtime's job and config services, audit log and logger, plus auth and status. */
export function appDepsFromRuntime(rt: Runtime, o: DepsFromRuntimeOptions): AppDeps {
  const clock = o.clock ?? systemClock;
  // The colo host's AWS broadcaster delivers this deployment's live updates; its counters are flushed to TradingState.
  const readConsoleBroadcaster = () =>
    readBroadcasterStats(rt.clients.doc, rt.config.tables.tradingState, CONSOLE_BROADCASTER_ID);
  return {
    config: rt.config,
    jobs: rt.jobs,
    configService: rt.configService,
    status: new StatusService({
      dynamo: rt.clients.dynamo,
      jobsTable: rt.config.tables.jobs,
      store: rt.store,
      queue: rt.queue,
      warm: rt.warm,
      runner: o.runner,
      clock,
      supervisor: supervisorStatusFrom(rt.supervisorTelemetry, clock),
      broadcaster: broadcasterStatusFrom(readConsoleBroadcaster, clock),
      configRevision: () => rt.live.revision,
    }),
    auth: authServiceFor({
      config: rt.config,
      doc: rt.clients.doc,
      audit: rt.audit,
      log: rt.log,
      cursorSecret: o.cursorSecret,
      clock,
      live: rt.live,
    }),
    audit: rt.audit,
    live: rt.live,
    // Desired state and supervisor telemetry (`/api/{gateway,strategy}/*`, the Trading page, supervisors in the SLO).
    supervision: { desired: rt.desired, telemetry: rt.supervisorTelemetry },
    // Broker accounts: secrets in Secrets Manager (write-only here), verifications as jobs; the DIFF connection of a
    // deployment is Shinny's, never the local simulator.
    accounts: createAccountService(rt, { simulatorBrokerId: null }),
    // Gateway commands: DynamoDB (durable) then the Redis stream; the colo gateway polls the table (a kill needs no Redis).
    commands: tradingControl(rt).commands,
    consoleStatus: tradingControl(rt).consoleStatus,
    locks: rt.locks,
    broadcasterStats: readConsoleBroadcaster,
    // `GHTRADER_CONSOLE_CACHE_MS` is a restart key: the revision this container started with sets the lifetime.
    hot: new HotCache({ ttlMs: rt.live.overProcess('GHTRADER_CONSOLE_CACHE_MS', rt.config.consoleCacheMs), clock }),
    log: rt.log.child({ component: 'web' }),
    clock,
    ids: ulidGen,
    ...(o.staticDir ? { staticDir: o.staticDir } : {}),
  };
}
