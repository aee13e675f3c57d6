/**
 * The `ghtrader` command line. Every command takes `--json`; exit 0 = success, 2 = bad input (one clear message on
 * stderr), 1 = failure.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { API_TOKEN_ENV, checkApiCommand } from './api-client.ts';
import { reportError } from './cli-support.ts';
import { registerAccounts } from './commands/accounts.ts';
import { registerAdmin } from './commands/admin.ts';
import { registerBroadcaster } from './commands/broadcaster.ts';
import { registerConfig } from './commands/config.ts';
import { registerData } from './commands/data.ts';
import { registerGatewayCommand } from './commands/gateway-command.ts';
import { registerJobs } from './commands/jobs.ts';
import { registerLocks } from './commands/locks.ts';
import { registerSim } from './commands/sim.ts';
import { registerSupervisor } from './commands/supervisor.ts';
import { registerTokens } from './commands/tokens.ts';
import { registerTrading } from './commands/trading.ts';
import { up } from './commands/up.ts';
import { registerUsers } from './commands/users.ts';
import { SIM_CLOCK_CHOICES, type SimClockChoice } from './local-stack.ts';

// Node 20 is supported by the AWS SDK until 2027; its notice would otherwise print on every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0..65535');
  return n;
}

function simClock(value: string): SimClockChoice {
  if (!(SIM_CLOCK_CHOICES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${SIM_CLOCK_CHOICES.join(', ')}`);
  }
  return value as SimClockChoice;
}

const program = new Command();
program
  .name('ghtrader')
  .description('AI-driven tick trading for SHFE cu, au, ag')
  .option('--home <dir>', 'state directory (default $GHTRADER_HOME or ./var)')
  .option('--json', 'machine-readable output')
  .option(
    '--api <url>',
    `send jobs and config commands to the HTTP API at <url> (e.g. https://console.example.com) with $${API_TOKEN_ENV} as bearer, instead of using the store credentials; other commands refuse it`,
  )
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program
  .command('up')
  .description('run the whole local platform: emulators, job runner, SHFE simulator, web console')
  .option('--port <port>', 'console port', port, 8000)
  .option('--host <host>', 'console address', '127.0.0.1')
  .option('--no-demo', 'do not seed demo data')
  .option('--no-sim', 'do not run the SHFE simulator (the console says the market feed is off)')
  .option(
    '--sim-clock <clock>',
    'shifted (start inside the most recent trading session) | realtime (follow the wall clock)',
    simClock,
    'shifted',
  )
  .action(async (o: { port: number; host: string; demo: boolean; sim: boolean; simClock: SimClockChoice }) => {
    const g = program.opts<{ home?: string; json?: boolean }>();
    try {
      await up({
        port: o.port,
        host: o.host,
        demo: o.demo,
        json: Boolean(g.json),
        sim: o.sim,
        simClock: o.simClock,
        ...(g.home ? { home: g.home } : {}),
      });
      // Everything was closed in order; idle keep-alive sockets of the SDK must not hold the exit for seconds.
      process.exit(0);
    } catch (err) {
      reportError(err, Boolean(g.json));
    }
  });

// `--api`: only the commands with API routes run without the store credentials; checked before any action starts.
program.hook('preAction', (_program, action) => {
  checkApiCommand(action, program.opts<{ api?: string }>().api);
});

registerConfig(program);
registerJobs(program);
registerLocks(program);
registerData(program);
registerSim(program);
registerSupervisor(program);
registerTrading(program);
registerGatewayCommand(program);
registerAdmin(program);
registerUsers(program);
registerTokens(program);
registerAccounts(program);
registerBroadcaster(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here with code 0; usage errors (already printed by commander on stderr) exit 2, and
    // with --json also print the §11 error object on stdout (commander stops before it knows the option's value, so
    // the argument list is asked).
    if (err.exitCode !== 0 && process.argv.includes('--json')) {
      const message = err.message.replace(/^error: /, '');
      process.stdout.write(
        `${JSON.stringify({ error: { code: 'bad_input', message, details: { commander_code: err.code } } })}\n`,
      );
    }
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  reportError(err, Boolean(program.opts<{ json?: boolean }>().json));
}
