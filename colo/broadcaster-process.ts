/**
 * The console's AWS realtime sink as a colo process part (control-chain §7 AWS): lease `broadcaster:console` (never
 * preempting a live holder), one Redis PSUBSCRIBE, `PostToConnection` to the WsConnections table's connections, the
 * 60 s re-check of every connection's session or token (`AuthService.recheckCredential` on the Users table, built as
 * the WebSocket Lambdas build theirs: no credential cache), and counters flushed to TradingState `broadcaster#console`
 * every 5 s. `ghtrader supervisor --broadcaster-endpoint` hosts it next to the host's gateway and strategy children,
 * as the spec places it; `ghtrader broadcaster` runs it alone.
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemClock } from '#shared/domain/time.ts';
import { DynamoLockStore } from '#shared/infra/aws/lock-store.ts';
import { LeasedWsBroadcaster } from '#shared/infra/aws/ws-broadcaster-lease.ts';
import { DynamoWsConnections } from '#shared/infra/aws/ws-connections.ts';
import { ApiGatewayWsManagement } from '#shared/infra/aws/ws-management.ts';
import type { Logger } from '#shared/log.ts';
import { liveWsLimits } from '#shared/services/live-config.ts';
import type { Runtime } from '#shared/services/runtime.ts';
import { authServiceFor } from '#web/deps-from-runtime.ts';

/** The Management API endpoint (the console stack's `WsManagementEndpoint` output). */
export const ManagementEndpointSchema = z.url({
  protocol: /^https?$/,
  error: 'an https:// Management API endpoint (the console stack output)',
});

export interface BroadcasterProcessOptions {
  /** The process's runtime: its AWS clients, audit log and live config (the supervisor's, or `ghtrader broadcaster`'s). */
  rt: Pick<Runtime, 'config' | 'clients' | 'audit' | 'live'>;
  endpoint: string;
  hostId: string;
  log: Logger;
  leaseMs?: number;
  refreshMs?: number;
}

export interface BroadcasterProcess {
  leased: LeasedWsBroadcaster;
  /** Stop delivering, release the lease, close the Management API client (the runtime is the caller's). */
  stop(): Promise<void>;
}

/** Build and start the leased broadcaster (it competes for the lease in the background). */
export function startBroadcasterProcess(o: BroadcasterProcessOptions): BroadcasterProcess {
  const { config, clients, live } = o.rt;
  const management = new ApiGatewayWsManagement({ endpoint: o.endpoint, region: config.aws.region });
  // Re-checks only read sessions, tokens and users, under the session limits of the config revision; it never issues
  // list cursors (a per-process secret keeps the service contract, as in `wsRuntime`).
  const auth = authServiceFor({
    config,
    doc: clients.doc,
    audit: o.rt.audit,
    log: o.log,
    cursorSecret: config.auth.cursorSecret ?? randomBytes(32).toString('hex'),
    clock: systemClock,
    live,
  });
  const leased = new LeasedWsBroadcaster({
    locks: new DynamoLockStore(clients.doc, config.tables.locks, systemClock),
    owner: { ownerId: `broadcaster:${o.hostId}:${process.pid}:${ulidGen.next()}`, host: o.hostId, pid: process.pid },
    redis: config.redis,
    broadcaster: {
      connections: new DynamoWsConnections(clients.doc, config.tables.wsConnections),
      management,
      refreshMs: o.refreshMs ?? 1_000,
      recheck: (credentialRef) => auth.recheckCredential(credentialRef),
      // `GHTRADER_WS_CLIENT_QUEUE_MAX` and `GHTRADER_WS_LAG_CLOSE_S` follow the config revision.
      limits: liveWsLimits(live),
    },
    stats: { doc: clients.doc, table: config.tables.tradingState, hostId: o.hostId },
    clock: systemClock,
    log: o.log.child({ component: 'broadcaster' }),
    leaseMs: o.leaseMs ?? 30_000,
  });
  leased.start();
  return {
    leased,
    async stop() {
      await leased.stop();
      management.destroy();
    },
  };
}
