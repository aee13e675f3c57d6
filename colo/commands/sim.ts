/**
 * `ghtrader sim serve`: the DIFF-protocol SHFE simulator alone (market-protocol §2.1), on 127.0.0.1, until
 * SIGINT/SIGTERM. Prints the port and the dev token (`--json`: `{"port":..,"token":..,...}`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '#shared/config.ts';
import { createLogger } from '#shared/log.ts';
import { CliUsageError, homeEnv, reportError } from '../cli-support.ts';
import { parseSimOptions, SimConfigSchema, type SimOptionsInput } from '../sim/config.ts';
import { SimConfigError } from '../sim/errors.ts';
import { startSimulator } from '../sim/server.ts';

interface ServeFlags {
  port: number;
  seed: number;
  speed: number;
  clock: 'realtime' | 'accelerated' | 'replay';
  start?: string;
  end?: string;
  historyFrom?: string;
  fillPrice: 'opposite' | 'limit';
  partialFills?: boolean;
  maintenance: 'daily' | 'off';
  skipIdle?: boolean;
  token?: string;
  openAccounts?: boolean;
  legacyGreeting?: boolean;
  delayMs?: number;
  config?: string;
}

function intArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer ${min}..${max}`);
    return n;
  };
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function oneOf<T extends string>(...values: T[]) {
  return (value: string): T => {
    if (!(values as string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return value as T;
  };
}

/** Read and validate `--config sim.json`. */
async function readSimConfig(file: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new SimConfigError(`cannot read --config ${file}: ${(err as Error).message}`, { cause: err });
  }
  const r = SimConfigSchema.safeParse(raw);
  if (!r.success) {
    const text = r.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ');
    throw new SimConfigError(`invalid --config ${file}: ${text}`);
  }
  return r.data;
}

export function registerSim(program: Command): void {
  const sim = program.command('sim').description('the DIFF-protocol SHFE market simulator');
  sim
    .command('serve')
    .description('serve market data and a TqSim-like broker on 127.0.0.1 until Ctrl-C')
    .option('--port <port>', 'port (0 = a free one)', intArg(0, 65535), 7777)
    .option('--seed <n>', 'market generator seed', intArg(0, 2 ** 32 - 1), 42)
    .option('--speed <x>', 'sim seconds per wall second (accelerated)', positive, 1)
    .option('--clock <mode>', 'realtime | accelerated | replay', oneOf('realtime', 'accelerated', 'replay'), 'realtime')
    .option('--start <datetime>', 'sim start, CST (accelerated, replay)')
    .option('--end <datetime>', 'sim end, CST')
    .option('--history-from <day>', 'first trading day served (default 2024-01-02)')
    .option('--fill-price <policy>', 'opposite | limit', oneOf('opposite', 'limit'), 'opposite')
    .option('--partial-fills', 'fill level by level up to the opposite depth')
    .option('--maintenance <mode>', 'daily (19:00-19:30 CST) | off', oneOf('daily', 'off'), 'daily')
    .option('--skip-idle', 'accelerated: jump to 5 s before the next session open when no session is active')
    .option('--token <token>', 'dev token (default derived from the fixed claims)')
    .option('--open-accounts', 'any user_name logs in with password == user_name')
    .option('--legacy-greeting', 'send rsp_login before the md greeting')
    .option('--delay-ms <ms>', 'hold every rtn_data this long', intArg(0, 600_000))
    .option('--config <file>', 'sim.json: accounts, broker id, margins, commissions')
    .action(async (o: ServeFlags) => {
      const g = program.opts<{ home?: string; json?: boolean }>();
      try {
        const base = loadConfig(homeEnv(g.home));
        const input: SimOptionsInput = {
          port: o.port,
          seed: o.seed,
          speed: o.speed,
          clock: o.clock,
          fillPrice: o.fillPrice,
          partialFills: Boolean(o.partialFills),
          maintenance: o.maintenance,
          skipIdle: Boolean(o.skipIdle),
          openAccounts: Boolean(o.openAccounts),
          legacyGreeting: Boolean(o.legacyGreeting),
          home: base.home,
          ...(o.start ? { start: o.start } : {}),
          ...(o.end ? { end: o.end } : {}),
          ...(o.historyFrom ? { historyFrom: o.historyFrom } : {}),
          ...(o.token ? { token: o.token } : {}),
          ...(o.delayMs !== undefined ? { delayMs: o.delayMs } : {}),
          ...(o.config ? { config: await readSimConfig(path.resolve(o.config)) } : {}),
        };
        // Validate before binding so bad flags exit 2 with one message.
        parseSimOptions(input);
        const log = createLogger({
          service: 'ghsim',
          level: base.logLevel === 'info' && g.json ? 'warn' : base.logLevel,
        });
        const handle = await startSimulator(input, { log });
        process.stdout.write(
          g.json
            ? `${JSON.stringify({ port: handle.port, token: handle.token, url: handle.url, md_url: handle.mdUrl, trade_url: handle.tradeUrl, broker_id: handle.brokerId })}\n`
            : [
                `ghsim listening on ${handle.url}  (md ${handle.mdUrl}, trade ${handle.tradeUrl}, broker ${handle.brokerId})`,
                `dev token: ${handle.token}`,
                'press Ctrl-C to stop',
                '',
              ].join('\n'),
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        });
        await handle.stop();
        process.exit(0);
      } catch (err) {
        // Bad flags or a bad --config are bad input: exit 2 with the one message.
        reportError(err instanceof SimConfigError ? new CliUsageError(err.message) : err, Boolean(g.json));
      }
    });
}
