/**
 * The composition of a production supervisor from a runtime: the runtime's stores and audit log, this CLI's own
 * `<component> run` as the child command, the OS lock under `$GHTRADER_HOME/run`, settings from the config revision,
 * and the desired-updated hints from Redis. Used by `ghtrader supervisor` and `ghtrader up`.
 */
import path from 'node:path';
import { knownAccountProfiles } from '#shared/domain/control/accounts.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemClock } from '#shared/domain/time.ts';
import type { Logger } from '#shared/log.ts';
import type { Runtime } from '#shared/services/runtime.ts';
import { type ChildLauncher, cliChildCommand, ProcessChildLauncher } from './child-launcher.ts';
import { type DesiredHints, subscribeDesiredHints } from './desired-hints.ts';
import { HostLock } from './host-lock.ts';
import { supervisorSettingsFrom } from './settings.ts';
import { Supervisor } from './supervisor.ts';

export interface SupervisorProcess {
  supervisor: Supervisor;
  /** Stop the supervisor (children get SIGTERM) and the hint subscription. */
  stop(): Promise<void>;
}

export interface SupervisorProcessOptions {
  rt: Runtime;
  hostId: string;
  log: Logger;
  /** Default: this CLI's `<component> run` with the process environment. */
  launcher?: ChildLauncher;
}

/** Build the supervisor (not started: call `supervisor.start({standby})`). */
export function createSupervisorProcess(o: SupervisorProcessOptions): SupervisorProcess {
  const { rt } = o;
  const home = rt.config.home;
  const log = o.log.child({ component: 'supervisor', host_id: o.hostId });
  const launcher =
    o.launcher ??
    new ProcessChildLauncher({
      build: cliChildCommand({ ...process.env, GHTRADER_HOME: home }),
      logDir: path.join(home, 'logs'),
      log,
    });
  const hostLock = new HostLock(path.join(home, 'run', 'supervisor.lock'), `${o.hostId} pid ${process.pid}`);
  const sup = new Supervisor({
    hostId: o.hostId,
    home,
    locks: rt.locks,
    desired: rt.desiredStore,
    telemetry: rt.supervisorTelemetry,
    audit: rt.audit,
    publish: (channel, message) => rt.warm.publish(channel, message),
    launcher,
    hostLock,
    clock: systemClock,
    ids: ulidGen,
    log,
    settings: supervisorSettingsFrom(rt.configService, rt.config.env),
    random: Math.random,
    knownProfiles: knownAccountProfiles(rt.config.env),
  });
  let hints: DesiredHints | null = null;
  if (rt.config.redis.enabled) {
    hints = subscribeDesiredHints({
      url: rt.config.redis.url,
      prefix: rt.config.redis.prefix,
      log,
      onHint: () => sup.wake(),
    });
  }
  return {
    supervisor: sup,
    async stop() {
      await sup.stop();
      await hints?.close();
    },
  };
}
