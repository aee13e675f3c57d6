/**
 * `ghtrader broadcaster --endpoint https://<api id>.execute-api.<region>.amazonaws.com/<stage>`: the console's AWS
 * realtime sink on the colo host (control-chain §7 AWS) until SIGINT/SIGTERM. It competes for lease
 * `broadcaster:console` (never preempting a live holder), and while it holds it: one Redis PSUBSCRIBE, `PostToConnection`
 * to the WsConnections table's connections, every connection's session or token re-checked every 60 s, counters
 * flushed to TradingState `broadcaster#console` every 5 s. It builds the same runtime as every command (tables, queues
 * and Redis from the environment: `GHTRADER_RESOURCE_PREFIX`, `REDIS_URL`, AWS credentials), whose live config gives
 * the session limits and the WebSocket backpressure limits. `ghtrader supervisor --broadcaster-endpoint` runs the same thing inside the supervisor, where the spec puts it.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Command } from 'commander';
import * as z from 'zod';
import { loadConfig } from '#shared/config.ts';
import { followLogLevel } from '#shared/services/live-config.ts';
import { createRuntime } from '#shared/services/runtime.ts';
import { ManagementEndpointSchema, startBroadcasterProcess } from '../broadcaster-process.ts';
import { CliUsageError, cliLogger, homeEnv, reportError } from '../cli-support.ts';

const FlagsSchema = z.object({
  endpoint: ManagementEndpointSchema,
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
        const hostId = config.hostId ?? os.hostname();
        // The runtime gives the re-check its Users table and the live config (session limits, WS backpressure).
        const rt = await createRuntime(config, log, {
          cursorSecret: config.auth.cursorSecret ?? randomBytes(32).toString('hex'),
        });
        // A long-running process: its log level follows `GHTRADER_LOG_LEVEL` in each config revision.
        followLogLevel(rt.live, log, config.logLevel);
        const proc = startBroadcasterProcess({
          rt,
          endpoint: flags.data.endpoint,
          hostId,
          log,
          leaseMs: flags.data.leaseS * 1000,
          refreshMs: flags.data.refreshMs,
        });
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
        await Promise.race([stopped, proc.leased.done()]);
        await proc.stop();
        await rt.close();
        process.exit(0);
      } catch (err) {
        reportError(err, Boolean(g.json));
      }
    });
}
