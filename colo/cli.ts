/**
 * The `ghtrader` command line. Every command takes `--json`; exit 0 = success, 2 = bad input (one clear message on
 * stderr), 1 = failure.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { reportError } from './cli-support.ts';
import { registerAdmin } from './commands/admin.ts';
import { registerData } from './commands/data.ts';
import { registerJobs } from './commands/jobs.ts';
import { registerSim } from './commands/sim.ts';
import { up } from './commands/up.ts';

// Node 20 is supported by the AWS SDK until 2027; its notice would otherwise print on every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0..65535');
  return n;
}

const program = new Command();
program
  .name('ghtrader')
  .description('AI-driven tick trading for SHFE cu, au, ag')
  .option('--home <dir>', 'state directory (default $GHTRADER_HOME or ./var)')
  .option('--json', 'machine-readable output')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program
  .command('up')
  .description('run the whole local platform: emulators, job runner, web console')
  .option('--port <port>', 'console port', port, 8000)
  .option('--host <host>', 'console address', '127.0.0.1')
  .option('--no-demo', 'do not seed demo data')
  .action(async (o: { port: number; host: string; demo: boolean }) => {
    const g = program.opts<{ home?: string; json?: boolean }>();
    try {
      await up({
        port: o.port,
        host: o.host,
        demo: o.demo,
        json: Boolean(g.json),
        ...(g.home ? { home: g.home } : {}),
      });
      // Everything was closed in order; idle keep-alive sockets of the SDK must not hold the exit for seconds.
      process.exit(0);
    } catch (err) {
      reportError(err, Boolean(g.json));
    }
  });

registerJobs(program);
registerData(program);
registerSim(program);
registerAdmin(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here with code 0; usage errors (already printed by commander) exit 2.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  reportError(err, Boolean(program.opts<{ json?: boolean }>().json));
}
