/**
 * `ghtrader supervisor [--host-id H] [--standby] [--once] [--broadcaster-endpoint URL] [--json]` (control-chain §6.2,
 * §7, §11): the per-host supervisor of the gateway and strategy processes (and, with `--broadcaster-endpoint`, the console's AWS
 * live-update broadcaster), against the running local stack (or `AWS_ENDPOINT_URL`). A second supervisor for the
 * same host exits 1 with `lease_held:<owner>`; `--standby` waits for the lease instead. SIGTERM/SIGINT stop it
 * (children get SIGTERM, never SIGKILL) and exit 0. With `--json` one line `{host_id, lease_key, owner, fencing_token,
 * pid}` is printed once the lease is held. `--once` prints what one reconcile pass would do for the host and exits 0,
 * changing nothing (`supervisor/plan.ts`: a supervisor owns its children, so a pass that then exited would stop what it
 * started).
 */
import type { Command } from 'commander';
import { knownAccountProfiles } from '#shared/domain/control/accounts.ts';
import { HostIdSchema } from '#shared/domain/control/desired.ts';
import { systemClock } from '#shared/domain/time.ts';
import { followLogLevel } from '#shared/services/live-config.ts';
import { createRuntime } from '#shared/services/runtime.ts';
import { ManagementEndpointSchema, startBroadcasterProcess } from '../broadcaster-process.ts';
import { attachToStack, CliUsageError, cliLogger, cliStderrLogger, reportError } from '../cli-support.ts';
import { persistentSecret } from '../secrets.ts';
import { planOnce, type SupervisorPlan } from '../supervisor/plan.ts';
import { supervisorSettingsFrom } from '../supervisor/settings.ts';
import { createSupervisorProcess } from '../supervisor/start.ts';

/** The plan as lines: the host's state, then one line per (component, profile). */
function planText(plan: SupervisorPlan): string {
  const lines = [`supervisor plan for host ${plan.host_id}: ${plan.note}`];
  for (const i of plan.items) {
    const desired =
      i.desired_mode === null
        ? 'no desired document'
        : `desired ${i.desired_mode} (revision ${i.desired_revision}, host ${i.desired_host_id})`;
    const lease = i.lease_holder ? `; lease held by ${i.lease_holder}` : '';
    lines.push(
      `  ${i.component}:${i.account_profile}  ${desired}; recorded ${i.recorded_state}${lease} -> ${i.action}${i.reason ? ` (${i.reason})` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function registerSupervisor(program: Command): void {
  program
    .command('supervisor')
    .description('start and stop this host’s gateway and strategy processes from desired state')
    .option('--host-id <id>', 'the host id desired documents name (default $GHTRADER_HOST_ID or the hostname)')
    .option('--standby', 'wait for the host lease instead of exiting when another supervisor holds it')
    .option(
      '--once',
      'print what one reconcile pass would do for this host and exit, changing nothing (no lease, no process started or stopped)',
    )
    .option(
      '--broadcaster-endpoint <url>',
      'also run the console’s AWS live-update broadcaster (lease broadcaster:console) to this Management API endpoint',
    )
    .action(async (o: { hostId?: string; standby?: boolean; once?: boolean; broadcasterEndpoint?: string }) => {
      const g = program.opts<{ home?: string; json?: boolean }>();
      const json = Boolean(g.json);
      try {
        if (o.hostId !== undefined && !HostIdSchema.safeParse(o.hostId).success) {
          throw new CliUsageError(`--host-id ${JSON.stringify(o.hostId)}: expected letters, digits, ".", "_" or "-"`);
        }
        const endpoint =
          o.broadcasterEndpoint === undefined ? null : ManagementEndpointSchema.safeParse(o.broadcasterEndpoint);
        if (endpoint && !endpoint.success) {
          throw new CliUsageError(`--broadcaster-endpoint: ${endpoint.error.issues[0]?.message ?? 'not a URL'}`);
        }
        if (o.once && (o.standby || endpoint)) {
          throw new CliUsageError('--once only reports: it takes no --standby or --broadcaster-endpoint');
        }
        const { config } = await attachToStack(g.home);
        // A report goes to stdout alone (its logs to stderr); the long-running supervisor logs to stdout as a service.
        const log = o.once ? cliStderrLogger(config) : cliLogger(config, 'supervisor');
        const cursorSecret = config.auth.cursorSecret ?? (await persistentSecret(config.home, 'cursor.key'));
        const rt = await createRuntime(config, log, { cursorSecret });
        if (o.once) {
          try {
            const plan = await planOnce({
              hostId: o.hostId ?? rt.hostId,
              locks: rt.locks,
              desired: rt.desiredStore,
              telemetry: rt.supervisorTelemetry,
              settings: supervisorSettingsFrom(rt.configService, rt.config.env),
              knownProfiles: knownAccountProfiles(rt.config.env),
              clock: systemClock,
            });
            process.stdout.write(json ? `${JSON.stringify(plan)}\n` : planText(plan));
          } finally {
            await rt.close();
          }
          return;
        }
        // A long-running process: its log level follows `GHTRADER_LOG_LEVEL` in each config revision.
        followLogLevel(rt.live, log, config.logLevel);
        const hostId = o.hostId ?? rt.hostId;
        const proc = createSupervisorProcess({ rt, hostId, log });
        // The AWS realtime sink runs inside the supervisor on the colo host (control-chain §7), under its own lease.
        const broadcaster = endpoint?.success
          ? startBroadcasterProcess({ rt, endpoint: endpoint.data, hostId, log })
          : null;
        let stopping = false;
        const shutdown = () => {
          if (stopping) return;
          stopping = true;
          Promise.all([proc.stop(), broadcaster?.stop()])
            .then(() => rt.close())
            .then(() => process.exit(0))
            .catch((err: unknown) => reportError(err, json));
        };
        process.once('SIGTERM', shutdown);
        process.once('SIGINT', shutdown);
        try {
          await proc.supervisor.start({ standby: Boolean(o.standby) });
        } catch (err) {
          await Promise.all([proc.stop(), broadcaster?.stop()]);
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
