/**
 * Shared plumbing of the `ghtrader` commands: exit codes (0 ok, 2 bad input, 1 failure), `--json` error output,
 * and finding the stack a command should talk to.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AppConfig, loadConfig } from '#shared/config.ts';
import { describeError, GhtraderError } from '#shared/errors/base.ts';
import { ControlError } from '#shared/errors/control.ts';
import { CalendarDataError, MarketError } from '#shared/errors/market.ts';
import { createLogger, type Logger } from '#shared/log.ts';
import { readLiveStack, type StackFile, stackEnv } from './stack-file.ts';

export class CliUsageError extends Error {}

/** Bad input exits 2 with one clear message; anything else exits 1. */
export function exitCodeOf(err: unknown): 1 | 2 {
  if (err instanceof CliUsageError) return 2;
  if (err instanceof ControlError && err.status >= 400 && err.status < 500 && err.status !== 409) return 2;
  // Market errors raised by commands are about their input (dates, varieties, symbols, out-of-range calendar),
  // except broken shipped or stored calendar data, which is a failure.
  if (err instanceof MarketError && !(err instanceof CalendarDataError)) return 2;
  return 1;
}

export function reportError(err: unknown, json: boolean): never {
  const code = exitCodeOf(err);
  if (json) {
    const body =
      err instanceof GhtraderError
        ? { error: { code: err.code, message: err.message, details: err.details } }
        : {
            error: {
              code: code === 2 ? 'bad_input' : 'failed',
              message: err instanceof Error ? err.message : String(err),
              details: {},
            },
          };
    process.stdout.write(`${JSON.stringify(body)}\n`);
  } else {
    process.stderr.write(`ghtrader: ${err instanceof Error ? err.message : String(err)}\n`);
    if (code === 1 && !(err instanceof GhtraderError)) process.stderr.write(`${JSON.stringify(describeError(err))}\n`);
  }
  process.exit(code);
}

export function cliLogger(config: Pick<AppConfig, 'logLevel'>, service = 'cli'): Logger {
  return createLogger({ service, level: config.logLevel });
}

/** `--home` beats `GHTRADER_HOME`, which beats `./var`. */
export function homeEnv(home: string | undefined): Record<string, string | undefined> {
  return { ...process.env, ...(home ? { GHTRADER_HOME: home } : {}) };
}

/**
 * The configuration of the stack the command talks to: the one running under the home (`ghtrader up`), else the one
 * the environment names explicitly — emulators (`AWS_ENDPOINT_URL*`) or a deployed stack (`GHTRADER_JOBS_QUEUE_URL`,
 * the jobs stack's output, with the caller's AWS credentials and `GHTRADER_RESOURCE_PREFIX` / `GHTRADER_TABLE_*`, as on
 * a colo host or an SRE's shell, §11). Neither: a clear error naming both ways.
 */
export async function attachToStack(home: string | undefined): Promise<{ config: AppConfig; stack: StackFile | null }> {
  const env = homeEnv(home);
  const base = loadConfig(env);
  const stack = await readLiveStack(base.home);
  const explicit = Boolean(
    env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL_SQS || env.GHTRADER_JOBS_QUEUE_URL,
  );
  if (!stack && !explicit) {
    throw new CliUsageError(
      `no ghtrader stack is running under ${base.home}; start one with \`ghtrader up --home ${base.home}\`, or name a deployed stack with GHTRADER_JOBS_QUEUE_URL (and GHTRADER_RESOURCE_PREFIX, AWS credentials), or emulators with AWS_ENDPOINT_URL`,
    );
  }
  return { config: loadConfig(stack ? stackEnv(stack, env) : env), stack };
}

/** The actor name the CLI records: `cli:<os-user>@<host>`. */
export function cliActor(): string {
  return `cli:${os.userInfo().username}@${os.hostname()}`;
}

/** `dist/web/static` next to the built CLI (`dist/colo/cli.js`), or under the checkout when run from source. */
export function defaultStaticDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', here.includes(`${path.sep}dist${path.sep}`) ? '' : 'dist', 'web', 'static');
}

/** Parse `k=v` pairs; values that parse as JSON (numbers, booleans, objects) are taken as JSON. */
export function parseParams(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new CliUsageError(`--param expects key=value, got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, i);
    const raw = pair.slice(i + 1);
    try {
      out[key] = JSON.parse(raw);
    } catch {
      // Not JSON: a plain string value, which is what `--param var=cu` means.
      out[key] = raw;
    }
  }
  return out;
}
