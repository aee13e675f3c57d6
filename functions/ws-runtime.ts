/**
 * Module-scope context of the WebSocket API handlers (`ws-authorizer`, `ws-connect`, `ws-disconnect`, `ws-default`):
 * config, AWS clients, the `AuthService` and the WsConnections store, built once per container from the environment.
 * Lighter than `lambdaRuntime`: these handlers touch no queue or job. The authorizer applies the session limits of the
 * config revision (`live`, re-read at most every 5 s and awaited per invocation, as every Lambda container does); it
 * only reads the revision log, which the HTTP API's first request has bootstrapped before any socket can log in.
 */
import { randomBytes } from 'node:crypto';
import { type AppConfig, loadConfig } from '#shared/config.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { type Clock, systemClock } from '#shared/domain/time.ts';
import { DynamoAuditLog } from '#shared/infra/aws/audit-log.ts';
import { type AwsClients, createAwsClients } from '#shared/infra/aws/clients.ts';
import { DynamoConfigStore } from '#shared/infra/aws/config-store.ts';
import { DynamoWsConnections } from '#shared/infra/aws/ws-connections.ts';
import { createLogger, type Logger } from '#shared/log.ts';
import type { AuthService } from '#shared/services/auth-service.ts';
import { ConfigService } from '#shared/services/config-service.ts';
import { LiveConfig } from '#shared/services/live-config.ts';
import { authServiceFor } from '#web/deps-from-runtime.ts';

export interface WsRuntime {
  config: AppConfig;
  log: Logger;
  clients: AwsClients;
  auth: AuthService;
  connections: DynamoWsConnections;
  clock: Clock;
  /** The config head (session limits); not loaded until a handler awaits `live.fresh()`. */
  live: LiveConfig;
}

let runtime: WsRuntime | undefined;

/** The container's WebSocket context (synchronous: nothing here needs a network call to build). */
export function wsRuntime(service: string): WsRuntime {
  if (runtime) return runtime;
  const config = loadConfig(process.env);
  const log = createLogger({ service, level: config.logLevel });
  if (config.unknownEnvKeys.length > 0) log.warn({ keys: config.unknownEnvKeys }, 'config.unknown_env_key');
  const clients = createAwsClients(config);
  const audit = new DynamoAuditLog(clients.doc, config.tables.audit, systemClock, ulidGen);
  // These handlers never issue list cursors; a per-container secret keeps the service contract (as lambdaRuntime).
  const cursorSecret = config.auth.cursorSecret ?? randomBytes(32).toString('hex');
  const configService = new ConfigService({
    store: new DynamoConfigStore(clients.doc, config.tables.config),
    audit,
    // Read-only here: these handlers never write a revision, so nothing is ever published.
    publish: () => {},
    clock: systemClock,
    log,
    env: config.env,
    cursorSecret,
  });
  const live = new LiveConfig({ configService, env: config.env, clock: systemClock, log });
  runtime = {
    config,
    log,
    clients,
    auth: authServiceFor({ config, doc: clients.doc, audit, log, cursorSecret, live }),
    connections: new DynamoWsConnections(clients.doc, config.tables.wsConnections),
    clock: systemClock,
    live,
  };
  return runtime;
}
