/**
 * `ghtrader broadcaster --endpoint https://<api id>.execute-api.<region>.amazonaws.com/<stage>`: the console's AWS
 * realtime sink on the colo host (control-chain §7 AWS) until SIGINT/SIGTERM. It competes for lease
 * `broadcaster:console` (never preempting a live holder), and while it holds it: one Redis PSUBSCRIBE, `PostToConnection`
 * to the WsConnections table's connections, counters flushed to TradingState `broadcaster#console` every 5 s.
 * Tables and Redis come from the environment (`GHTRADER_RESOURCE_PREFIX`, `REDIS_URL`, AWS credentials), like every
 * command; the spec runs this inside `ghtrader supervisor`, which will host it once the supervisor exists.
 */
import os from 'node:os';
import type { Command } from 'commander';
import * as z from 'zod';
import { loadConfig } from '#shared/config.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemClock } from '#shared/domain/time.ts';
import { createAwsClients } from '#shared/infra/aws/clients.ts';
import { DynamoLockStore } from '#shared/infra/aws/lock-store.ts';
import { LeasedWsBroadcaster } from '#shared/infra/aws/ws-broadcaster-lease.ts';
import { DynamoWsConnections } from '#shared/infra/aws/ws-connections.ts';
import { ApiGatewayWsManagement } from '#shared/infra/aws/ws-management.ts';
import { CliUsageError, cliLogger, homeEnv, reportError } from '../cli-support.ts';

const FlagsSchema = z.object({
  endpoint: z.url({ protocol: /^https?$/, error: 'an https:// Management API endpoint (the console stack output)' }),
  leaseS: z.coerce.number().min(3).max(600),
  refreshMs: z.coerce.number().int().min(100).max(60_000),
});

export function registerBroadcaster(program: Command): void {
  program
    .command('broadcaster')
    .description('deliver live console updates to the AWS WebSocket API (under lease broadcaster:console)')
    .requiredOption('--endpoint <url>', 'the WebSocket API Management endpoint (console stack output)')
    .option('--lease-s <s>', 'lease length in seconds (renewed every third)', '30')
    .option('--refresh-ms <ms>', 'how often the connection list is re-read', '1000')
    .action(async (raw: { endpoint: string; leaseS: string; refreshMs: string }) => {
      const g = program.opts<{ home?: string; json?: boolean }>();
      try {
        const flags = FlagsSchema.safeParse(raw);
        if (!flags.success) {
          const text = flags.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; ');
          throw new CliUsageError(text);
        }
        const config = loadConfig(homeEnv(g.home));
        const log = cliLogger(config, 'broadcaster');
        const clients = createAwsClients(config);
        const management = new ApiGatewayWsManagement({ endpoint: flags.data.endpoint, region: config.aws.region });
        const hostId = config.hostId ?? os.hostname();
        const leased = new LeasedWsBroadcaster({
          locks: new DynamoLockStore(clients.doc, config.tables.locks, systemClock),
          owner: { ownerId: `broadcaster:${hostId}:${process.pid}:${ulidGen.next()}`, host: hostId, pid: process.pid },
          redis: config.redis,
          broadcaster: {
            connections: new DynamoWsConnections(clients.doc, config.tables.wsConnections),
            management,
            refreshMs: flags.data.refreshMs,
          },
          stats: { doc: clients.doc, table: config.tables.tradingState, hostId },
          clock: systemClock,
          log,
          leaseMs: flags.data.leaseS * 1000,
        });
        leased.start();
        process.stdout.write(
          g.json
            ? `${JSON.stringify({ endpoint: flags.data.endpoint, host_id: hostId, pid: process.pid })}\n`
            : `broadcaster: competing for lease broadcaster:console as ${hostId} (pid ${process.pid}); Ctrl-C stops\n`,
        );
        const stopped = new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        });
        // A loop failure (not a lost lease: an unexpected error) ends the command with exit 1.
        await Promise.race([stopped, leased.done()]);
        await leased.stop();
        management.destroy();
        clients.destroy();
        process.exit(0);
      } catch (err) {
        reportError(err, Boolean(g.json));
      }
    });
}
