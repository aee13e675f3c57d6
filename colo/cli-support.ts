/**
 * Shared plumbing of the `ghtrader` commands: exit codes (0 ok, 2 bad input, 1 failure), `--json` error output,
 * and finding the stack a command should talk to.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type * as z from 'zod';
import { type AppConfig, loadConfig } from '#shared/config.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { describeError, GhtraderError } from '#shared/errors/base.ts';
import { ControlError } from '#shared/errors/control.ts';
import { CalendarDataError, MarketError } from '#shared/errors/market.ts';
import { ensureTables } from '#shared/infra/aws/bootstrap.ts';
import { type AwsClients, createAwsClients } from '#shared/infra/aws/clients.ts';
import { startEmulators } from '#shared/infra/local/emulators.ts';
import { RedisWarmPath } from '#shared/infra/redis/warm-path.ts';
import { createLogger, type Logger } from '#shared/log.ts';
import { type Caller, systemCaller } from '#shared/services/auth-service.ts';
import { createRuntime, type Runtime } from '#shared/services/runtime.ts';
import { persistentSecret } from './secrets.ts';
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

/**
 * `parseParams` for a params schema: a value that the schema's field `k` accepts as text stays text (`note=2024`,
 * `diff_hash=12345678`, which the JSON rule would turn into numbers the service then refuses); any other value follows
 * the JSON rule. Without a schema, or for a field it does not have, the JSON rule alone (the service names the field).
 */
export function parseParamsFor(schema: z.ZodType | undefined, pairs: string[]): Record<string, unknown> {
  const out = parseParams(pairs);
  const shape = schema && 'shape' in schema ? (schema.shape as Record<string, z.ZodType | undefined>) : {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    const key = pair.slice(0, i);
    const raw = pair.slice(i + 1);
    const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (field && typeof out[key] !== 'string' && field.safeParse(raw).success) out[key] = raw;
  }
  return out;
}

/**
 * `attachToStack` plus what every store-backed command needs: a logger on stderr (stdout stays the command's output,
 * one JSON document with --json; `info` becomes `warn` so routine lines stay out of the way) and the stack's cursor
 * secret (the same persisted one as `ghtrader up`, so list cursors printed here work in the console and back).
 */
export async function attachCli(
  home: string | undefined,
): Promise<{ config: AppConfig; log: Logger; cursorSecret: string; stack: StackFile | null }> {
  const { config, stack } = await attachToStack(home);
  const log = cliStderrLogger(config);
  const cursorSecret = config.auth.cursorSecret ?? (await persistentSecret(config.home, 'cursor.key'));
  return { config, log, cursorSecret, stack };
}

/** A one-shot command's logger: stderr (stdout stays its output), with `info` raised to `warn`. */
export function cliStderrLogger(config: Pick<AppConfig, 'logLevel'>): Logger {
  return createLogger({
    service: 'cli',
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    destination: pino.destination({ dest: 2, sync: true }),
  });
}

/**
 * Run `fn` on the home's own embedded DynamoDB (and SQS), started for this command only, when no stack runs there:
 * the configuration points at the emulators, the tables exist, and clients and emulators are closed afterwards.
 */
export async function withEmbeddedDynamo<T>(
  env: Record<string, string | undefined>,
  fn: (config: AppConfig, clients: AwsClients) => Promise<T>,
): Promise<T> {
  const home = loadConfig(env).home;
  const emu = await startEmulators({ dynamoPath: path.join(home, 'dynamo') });
  try {
    const config = loadConfig({
      ...env,
      AWS_ENDPOINT_URL_DYNAMODB: emu.dynamoEndpoint,
      AWS_ENDPOINT_URL_SQS: emu.sqsEndpoint,
    });
    const clients = createAwsClients(config);
    try {
      // The embedded emulator is this process's alone: an older home's table missing an index is rebuilt.
      await ensureTables(clients.dynamo, config.tables, {
        missingIndexes: { mode: 'rebuild', backupDir: path.join(home, 'dynamo-rebuild') },
      });
      return await fn(config, clients);
    } finally {
      clients.destroy();
    }
  } finally {
    await emu.stop();
  }
}

/** How long a runtime-backed write waits for Redis before going on without the warm path (its write is DynamoDB). */
const RUNTIME_SETTLE_MS = 1_000;

/**
 * Attach to the stack under `--home`, wire the runtime (the API's wiring, logs on stderr) and run `fn` as the CLI
 * caller (`cli:<os-user>@<host>`, admin, one request id per command); the runtime is closed afterwards. A write
 * (`writes`) gives Redis 1 s to come up first, so its warm-path mirror, hint or stream entry goes out; without Redis
 * the write still succeeds (the service logs or reports what it skipped).
 */
export async function withCliRuntime<T>(
  home: string | undefined,
  writes: boolean,
  fn: (rt: Runtime, caller: Caller) => Promise<T>,
): Promise<T> {
  const { config, log, cursorSecret } = await attachCli(home);
  const rt = await createRuntime(config, log, { cursorSecret });
  try {
    if (writes) await rt.warm.settle(RUNTIME_SETTLE_MS);
    return await fn(rt, systemCaller('cli', cliActor(), ulidGen.next()));
  } finally {
    await rt.close();
  }
}

/** How long a command waits for Redis before dropping its queued warm-path messages (the writes are already stored). */
const PUBLISH_SETTLE_MS = 1_000;

/** What a store-backed CLI command works with (`withCliStores`). */
export interface CliStores {
  config: AppConfig;
  /** Logs to stderr, so stdout stays the command's output (one JSON document with --json). */
  log: Logger;
  clients: AwsClients;
  /** The same persisted cursor secret as `ghtrader up`, so list cursors printed here work in the console and back. */
  cursorSecret: string;
  /** The CLI caller (`cli:<os-user>@<host>`, admin), one request id per command. */
  caller: Caller;
  /** Queue a warm-path message (`config.revision`, `audit:updates`): published after the command, best effort. */
  publish(channel: string, message: unknown): void;
}

/**
 * Attach to the stack under `--home` and run `fn` with its store clients as the CLI caller. What `fn` queued with
 * `publish` goes out on Redis afterwards if Redis answers within 1 s: a Redis outage never fails a command (its write
 * is stored), it is logged, and a command that queued nothing never connects to Redis.
 */
export async function withCliStores<T>(home: string | undefined, fn: (s: CliStores) => Promise<T>): Promise<T> {
  const { config, log, cursorSecret } = await attachCli(home);
  const clients = createAwsClients(config);
  const pending: [string, unknown][] = [];
  try {
    const caller = systemCaller('cli', cliActor(), ulidGen.next());
    return await fn({ config, log, clients, cursorSecret, caller, publish: (c, m) => pending.push([c, m]) });
  } finally {
    clients.destroy();
    if (pending.length > 0) await publishQueued(config.redis, pending, log);
  }
}

async function publishQueued(redis: AppConfig['redis'], pending: [string, unknown][], log: Logger): Promise<void> {
  const warm = new RedisWarmPath({ ...redis, log: log.child({ component: 'redis' }) });
  try {
    const status = await warm.settle(PUBLISH_SETTLE_MS);
    if (status.degraded) log.warn({ reason: status.reason, error: status.error }, 'cli.publish_skipped');
    for (const [channel, message] of pending) warm.publish(channel, message);
  } catch (err) {
    log.warn({ err: describeError(err) }, 'cli.publish_skipped');
  } finally {
    await warm.close().catch((err: unknown) => log.warn({ err: describeError(err) }, 'cli.redis_close_failed'));
  }
}
