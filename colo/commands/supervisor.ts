/**
 * `ghtrader supervisor [--host-id H] [--standby] [--json]` (control-chain §6.2, §11): the per-host supervisor of the
 * gateway and strategy processes, against the running local stack (or `AWS_ENDPOINT_URL`). A second supervisor for the
 * same host exits 1 with `lease_held:<owner>`; `--standby` waits for the lease instead. SIGTERM/SIGINT stop it
 * (children get SIGTERM, never SIGKILL) and exit 0. With `--json` one line `{host_id, lease_key, owner, fencing_token,
 * pid}` is printed once the lease is held.
 */
import type { Command } from 'commander';
import { HostIdSchema } from '#shared/domain/control/desired.ts';
import { createRuntime } from '#shared/services/runtime.ts';
import { attachToStack, CliUsageError, cliLogger, reportError } from '../cli-support.ts';
import { persistentSecret } from '../secrets.ts';
import { createSupervisorProcess } from '../supervisor/start.ts';

export function registerSupervisor(program: Command): void {
  program
    .command('supervisor')
    .description('start and stop this host’s gateway and strategy processes from desired state')
    .option('--host-id <id>', 'the host id desired documents name (default $GHTRADER_HOST_ID or the hostname)')
    .option('--standby', 'wait for the host lease instead of exiting when another supervisor holds it')
    .action(async (o: { hostId?: string; standby?: boolean }) => {
      const g = program.opts<{ home?: string; json?: boolean }>();
      const json = Boolean(g.json);
      try {
        if (o.hostId !== undefined && !HostIdSchema.safeParse(o.hostId).success) {
          throw new CliUsageError(`--host-id ${JSON.stringify(o.hostId)}: expected letters, digits, ".", "_" or "-"`);
        }
        const { config } = await attachToStack(g.home);
        const log = cliLogger(config, 'supervisor');
        const cursorSecret = config.auth.cursorSecret ?? (await persistentSecret(config.home, 'cursor.key'));
        const rt = await createRuntime(config, log, { cursorSecret });
        const hostId = o.hostId ?? rt.hostId;
        const proc = createSupervisorProcess({ rt, hostId, log });
        let stopping = false;
        const shutdown = () => {
          if (stopping) return;
          stopping = true;
          proc
            .stop()
            .then(() => rt.close())
            .then(() => process.exit(0))
            .catch((err: unknown) => reportError(err, json));
        };
        process.once('SIGTERM', shutdown);
        process.once('SIGINT', shutdown);
        try {
          await proc.supervisor.start({ standby: Boolean(o.standby) });
        } catch (err) {
          await proc.stop();
          await rt.close();
          throw err;
        }
        const lease = proc.supervisor.currentLease();
        const banner = {
          host_id: hostId,
          lease_key: proc.supervisor.leaseKey,
          owner: proc.supervisor.owner,
          fencing_token: lease?.fence ?? null,
          pid: process.pid,
        };
        process.stdout.write(
          json
            ? `${JSON.stringify(banner)}\n`
            : `supervisor for host ${hostId} running (lease ${banner.lease_key}, fencing token ${banner.fencing_token})\n`,
        );
      } catch (err) {
        reportError(err, json);
      }
    });
}
