/**
 * The console's AWS realtime sink as a colo process part (control-chain §7 AWS): lease `broadcaster:console` (never
 * preempting a live holder), one Redis PSUBSCRIBE, `PostToConnection` to the WsConnections table's connections, and
 * counters flushed to TradingState `broadcaster#console` every 5 s. `ghtrader supervisor --broadcaster-endpoint` hosts
 * it next to the host's gateway and strategy children, as the spec places it; `ghtrader broadcaster` runs it alone.
 */
import * as z from 'zod';
import type { AppConfig } from '#shared/config.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemClock } from '#shared/domain/time.ts';
import { createAwsClients } from '#shared/infra/aws/clients.ts';
import { DynamoLockStore } from '#shared/infra/aws/lock-store.ts';
import { LeasedWsBroadcaster } from '#shared/infra/aws/ws-broadcaster-lease.ts';
import { DynamoWsConnections } from '#shared/infra/aws/ws-connections.ts';
import { ApiGatewayWsManagement } from '#shared/infra/aws/ws-management.ts';
import type { Logger } from '#shared/log.ts';

/** The Management API endpoint (the console stack's `WsManagementEndpoint` output). */
export const ManagementEndpointSchema = z.url({
  protocol: /^https?$/,
  error: 'an https:// Management API endpoint (the console stack output)',
});

export interface BroadcasterProcessOptions {
  config: AppConfig;
  endpoint: string;
  hostId: string;
  log: Logger;
  leaseMs?: number;
  refreshMs?: number;
}

export interface BroadcasterProcess {
  leased: LeasedWsBroadcaster;
  /** Stop delivering, release the lease, close the clients. */
  stop(): Promise<void>;
}

/** Build and start the leased broadcaster (it competes for the lease in the background). */
export function startBroadcasterProcess(o: BroadcasterProcessOptions): BroadcasterProcess {
  const clients = createAwsClients(o.config);
  const management = new ApiGatewayWsManagement({ endpoint: o.endpoint, region: o.config.aws.region });
  const leased = new LeasedWsBroadcaster({
    locks: new DynamoLockStore(clients.doc, o.config.tables.locks, systemClock),
    owner: { ownerId: `broadcaster:${o.hostId}:${process.pid}:${ulidGen.next()}`, host: o.hostId, pid: process.pid },
    redis: o.config.redis,
    broadcaster: {
      connections: new DynamoWsConnections(clients.doc, o.config.tables.wsConnections),
      management,
      refreshMs: o.refreshMs ?? 1_000,
    },
    stats: { doc: clients.doc, table: o.config.tables.tradingState, hostId: o.hostId },
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
      clients.destroy();
    },
  };
}
