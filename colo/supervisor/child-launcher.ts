/**
 * How the supervisor starts its children (control-chain §6.2). The port `ChildLauncher` returns a handle whose
 * `exited` promise is the only liveness signal (never a pid on disk); `terminate()` sends SIGTERM and nothing else — a
 * trading process is never SIGKILLed. Production runs this CLI's `gateway run --account <p>` / `strategy run ...`
 * (`cliChildCommand`); tests inject a fixture program through the same `ProcessChildLauncher`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import type { ComponentKind } from '#shared/domain/control/desired.ts';
import { describeError } from '#shared/errors/base.ts';
import type { Logger } from '#shared/log.ts';

export interface ChildSpec {
  component: ComponentKind;
  profile: string;
  /** Arguments after `<component> run` (`launchArgs` of the desired document). */
  args: string[];
}

export interface ChildExit {
  code: number | null;
  signal: string | null;
}

export interface ChildHandle {
  /** Null when the spawn itself failed (then `exited` resolves at once). */
  readonly pid: number | null;
  readonly exited: Promise<ChildExit>;
  /** SIGTERM (idempotent); the supervisor waits for `exited` and raises `stop_timeout` past the grace. */
  terminate(): void;
}

/** Port: start one child. */
export interface ChildLauncher {
  launch(spec: ChildSpec): ChildHandle;
}

export interface ProcessCommand {
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
}

export interface ProcessChildLauncherOptions {
  /** The program and arguments for a spec. */
  build: (spec: ChildSpec) => ProcessCommand;
  /** stdout and stderr of each child are appended to `<logDir>/<component>-<profile>.log`. */
  logDir: string;
  log: Logger;
}

/** Children as OS processes, output appended to a per-component log file. */
export class ProcessChildLauncher implements ChildLauncher {
  constructor(private readonly opts: ProcessChildLauncherOptions) {}

  launch(spec: ChildSpec): ChildHandle {
    const cmd = this.opts.build(spec);
    mkdirSync(this.opts.logDir, { recursive: true });
    const logFile = path.join(this.opts.logDir, `${spec.component}-${spec.profile}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(cmd.command, cmd.args, { env: cmd.env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const exited = new Promise<ChildExit>((resolve) => {
      child.once('error', (err) => {
        // A failed spawn never emits 'exit'; it is reported as an exit without a code.
        this.opts.log.error({ ...spec, err: describeError(err) }, 'supervisor.spawn_failed');
        if (child.pid === undefined) resolve({ code: null, signal: null });
      });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    return {
      pid: child.pid ?? null,
      exited,
      terminate: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      },
    };
  }
}

/**
 * This CLI's own `<component> run ...` (trading-chain §1): the running Node binary, its exec arguments (a loader when
 * run from source) and the script that is running now (`dist/colo/cli.js` or `colo/cli.ts`).
 */
export function cliChildCommand(
  env: Record<string, string | undefined>,
  cliPath: string = process.argv[1] ?? '',
): (spec: ChildSpec) => ProcessCommand {
  if (!cliPath) throw new Error('cannot tell which ghtrader CLI is running (process.argv[1] is empty)');
  return (spec) => ({
    command: process.execPath,
    args: [...process.execArgv, cliPath, spec.component, 'run', ...spec.args],
    env,
  });
}
