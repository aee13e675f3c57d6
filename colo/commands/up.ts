/** `ghtrader up`: the whole local stack, one process tree, until SIGINT/SIGTERM. */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '#shared/config.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { formatCst } from '#shared/domain/market/cst.ts';
import { describeError } from '#shared/errors/base.ts';
import { createLogger } from '#shared/log.ts';
import { defaultStaticDir, homeEnv } from '../cli-support.ts';
import { demoStartEnv, seedDemoData } from '../demo-seed.ts';
import { type LocalStack, type SimClockChoice, startLocalStack } from '../local-stack.ts';
import { readLiveStack } from '../stack-file.ts';

export interface UpOptions {
  port: number;
  host: string;
  home?: string;
  demo: boolean;
  json: boolean;
  /** Run the SHFE simulator and the console's market feed (`--no-sim` turns both off). */
  sim: boolean;
  /** `shifted` (default): the simulator's clock starts inside the most recent session; `realtime`: the wall clock. */
  simClock: SimClockChoice;
}

/** Everything must be down within this long after SIGINT/SIGTERM. */
const SHUTDOWN_DEADLINE_MS = 5_000;

export async function up(opts: UpOptions): Promise<void> {
  const env0 = homeEnv(opts.home);
  const base = loadConfig(env0);
  const running = await readLiveStack(base.home);
  if (running) {
    throw new Error(`a stack is already running under ${base.home} (pid ${running.pid}, ${running.web_url})`);
  }
  await mkdir(path.join(base.home, 'logs'), { recursive: true });
  // The demo's schedule start (only when the operator configured none), fixed once per home.
  const env = opts.demo ? { ...env0, ...(await demoStartEnv(base.home, env0, shippedCalendar(), Date.now())) } : env0;
  // Logs go to $GHTRADER_HOME/logs/ghtrader.log; the terminal gets the few lines a person needs.
  const logFile = createWriteStream(path.join(base.home, 'logs', 'ghtrader.log'), { flags: 'a' });
  const log = createLogger({
    service: 'ghtrader-up',
    level: base.logLevel,
    destination: pino.multistream([
      { stream: logFile, level: 'debug' },
      ...(process.env.GHTRADER_LOG_STDOUT === 'true' ? [{ stream: process.stdout }] : []),
    ]),
  });
  const stack = await startLocalStack({
    env,
    host: opts.host,
    port: opts.port,
    log,
    staticDir: defaultStaticDir(),
    sim: opts.sim ? { enabled: true, clock: opts.simClock } : { enabled: false },
  });

  const boot = await stack.auth.ensureBootstrapAdmin();
  const otp = boot.created
    ? { token: boot.oneTimeToken, expires_at: boot.expires_at }
    : await stack.auth.mintOneTimeToken('admin').catch(() => null);
  let demoJob: string | null = null;
  const demoAbort = new AbortController();
  if (opts.demo) {
    // The data chain's demo history arrives with it; until then the demo is one selftest so every page has data.
    const r = await stack.rt.jobs.submit(
      { kind: 'system.selftest', params: {}, note: 'ghtrader up demo' },
      {
        actor: { actor: 'system:up', role: 'admin' },
        requestId: 'ghtrader-up-demo',
        actorType: 'system',
      },
    );
    demoJob = r.job.job_id;
    // The data chain's demo history: schedule + main_l5 for each variety, in the background.
    seedDemoData(stack.rt, log, demoAbort.signal).then(
      (r) => log.info(r, 'up.demo_data'),
      (err: unknown) => {
        if (!demoAbort.signal.aborted) log.error({ err: describeError(err) }, 'up.demo_data_failed');
      },
    );
  }
  const loginUrl = otp ? `${stack.url}/login#otp=${otp.token}` : null;
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ url: stack.url, login_url: loginUrl, login_expires_at: otp?.expires_at ?? null, home: stack.config.home, pid: process.pid, demo_job: demoJob, sim: simBanner(stack) })}\n`,
    );
  } else {
    process.stdout.write(
      [
        `ghtrader console: ${stack.url}`,
        loginUrl
          ? `one-time admin login (valid until ${otp?.expires_at}): ${loginUrl}`
          : 'no `admin` user to log in as: create an admin with `ghtrader users add <username> --role admin`, or mint a link for an existing user with `ghtrader admin login-link --user <username>`',
        simLine(stack),
        `home: ${stack.config.home}   logs: ${path.join(stack.config.home, 'logs', 'ghtrader.log')}`,
        'press Ctrl-C to stop',
        '',
      ].join('\n'),
    );
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'up.stopping');
      demoAbort.abort();
      const deadline = setTimeout(() => {
        process.stderr.write(`ghtrader: shutdown exceeded ${SHUTDOWN_DEADLINE_MS} ms; exiting anyway\n`);
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      stack
        .stop()
        .then(() => {
          log.info('up.stopped');
          if (!opts.json) process.stdout.write('ghtrader: stopped\n');
          resolve();
        })
        .catch((err) => {
          process.stderr.write(`ghtrader: shutdown failed: ${JSON.stringify(describeError(err))}\n`);
          process.exit(1);
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await new Promise<void>((resolve) => logFile.end(resolve));
}

/** The simulator as the `--json` banner reports it (null with `--no-sim`). */
function simBanner(stack: LocalStack): { url: string; clock: SimClockChoice; start: string | null } | null {
  if (!stack.sim) return null;
  const start = stack.sim.shifted ? `${formatCst(stack.sim.shifted.startNs).slice(0, 19)} CST` : null;
  return { url: stack.sim.handle.url, clock: stack.sim.clock, start };
}

function simLine(stack: LocalStack): string {
  const s = simBanner(stack);
  if (!s) return 'market simulator: off (--no-sim); the console says the market feed is off';
  return s.start
    ? `market simulator: ${s.url}  (clock shifted to ${s.start}, speed 1; --sim-clock realtime follows the wall clock)`
    : `market simulator: ${s.url}  (clock follows the wall clock)`;
}
