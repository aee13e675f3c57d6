/**
 * The whole local platform in one process tree (`ghtrader up`): embedded emulators (unless an AWS endpoint is
 * configured), idempotent bootstrap, the local Lambda runner, the reconciler, the SHFE simulator with the console's
 * market feed (DIFF client pointed at it through AUTH/NS/FILES discovery, as in production), the web console.
 * Everything it holds is durable under `$GHTRADER_HOME`; `stop()` shuts it down in reverse order within a few seconds.
 */

import { chmod, mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { createLocalRunner } from '#functions/local-runner.ts';
import { type AppConfig, loadConfig } from '#shared/config.ts';
import { HotCache } from '#shared/domain/control/hot-cache.ts';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { formatCst } from '#shared/domain/market/cst.ts';
import { isoUtc, systemClock } from '#shared/domain/time.ts';
import { describeError } from '#shared/errors/base.ts';
import { ensureQueues, ensureTables } from '#shared/infra/aws/bootstrap.ts';
import { BroadcasterStatsFlusher } from '#shared/infra/aws/broadcaster-stats.ts';
import { createAwsClients } from '#shared/infra/aws/clients.ts';
import { DiffClient } from '#shared/infra/diff/client.ts';
import { loadDiffConfig, simDiffConfig } from '#shared/infra/diff/config.ts';
import { type LocalEmulators, startEmulators } from '#shared/infra/local/emulators.ts';
import type { Logger } from '#shared/log.ts';
import { runtimeAccountJobHandlers } from '#shared/services/account-verify.ts';
import type { AuthService } from '#shared/services/auth-service.ts';
import { loadDataCalendar } from '#shared/services/data/context.ts';
import { followLogLevel, liveWsLimits } from '#shared/services/live-config.ts';
import { type FeedConnection, MarketFeed } from '#shared/services/market-feed.ts';
import { createAccountService, createRuntime, type Runtime } from '#shared/services/runtime.ts';
import { broadcasterStatusFrom, StatusService, supervisorStatusFrom } from '#shared/services/status-service.ts';
import { TicksPublisher } from '#shared/services/ticks-publisher.ts';
import { tradingControl } from '#shared/services/trading-control.ts';
import { createApp } from '#web/app.ts';
import { authServiceFor } from '#web/deps-from-runtime.ts';
import { createNodeRealtime } from '#web/realtime/node.ts';
import { type LocalData, startLocalData } from './data-runtime.ts';
import { persistentSecret } from './secrets.ts';
import { type SimulatorHandle, startSimulator } from './sim/server.ts';
import { type ShiftedStart, shiftedSimStart } from './sim-demo-clock.ts';
import { removeStackFile, writeStackFile } from './stack-file.ts';
import { createSupervisorProcess } from './supervisor/start.ts';

export interface LocalStackOptions {
  env: Record<string, string | undefined>;
  host: string;
  port: number;
  log: Logger;
  /** Directory of the built browser client (`dist/web/static`). */
  staticDir: string;
  /**
   * The SHFE simulator and the console's market feed: off, or on with the clock `shifted` into the most recent
   * trading session (default; see `sim-demo-clock.ts`) or following the wall clock (`realtime`).
   */
  sim?: { enabled: false } | { enabled: true; clock: SimClockChoice };
}

export const SIM_CLOCK_CHOICES = ['shifted', 'realtime'] as const;
export type SimClockChoice = (typeof SIM_CLOCK_CHOICES)[number];

export interface LocalSim {
  handle: SimulatorHandle;
  clock: SimClockChoice;
  /** Where the shifted clock started (null for `realtime`). */
  shifted: ShiftedStart | null;
}

export interface LocalStack {
  url: string;
  config: AppConfig;
  rt: Runtime;
  auth: AuthService;
  /** Null with `--no-sim`. */
  sim: LocalSim | null;
  market: MarketFeed | null;
  data: LocalData;
  stop(): Promise<void>;
}

/** In-flight jobs get this long to return on shutdown; after it their leases lapse and they are re-claimed later. */
const RUNNER_STOP_WAIT_MS = 2_500;
/** Locally workers extend visibility themselves right after the claim; the queue default only covers a crash before it. */
const LOCAL_VISIBILITY_S = 60;
/** How often the console re-reads the trading calendar from the artifact store (`GHTRADER_TEST_` shortens it). */
const CONSOLE_CALENDAR_RELOAD_MS = 60_000;

function calendarReloadMs(env: Record<string, string | undefined>): number {
  const raw = env.GHTRADER_TEST_CALENDAR_RELOAD_MS;
  if (raw === undefined) return CONSOLE_CALENDAR_RELOAD_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 100) {
    throw new Error(
      `GHTRADER_TEST_CALENDAR_RELOAD_MS must be an integer ≥ 100 (milliseconds), got ${JSON.stringify(raw)}`,
    );
  }
  return ms;
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const { log } = opts;
  const base = loadConfig(opts.env);
  for (const dir of ['dynamo', 'run', 'logs', 'secrets', 'state', 'artifacts']) {
    await mkdir(path.join(base.home, dir), { recursive: true });
  }
  // The cursor key and the broker-account secrets live there: owner only, also for a home made by an older version.
  await chmod(path.join(base.home, 'secrets'), 0o700);
  const external = Boolean(base.aws.dynamoEndpoint || base.aws.sqsEndpoint);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) {
      await fn().catch((err) => log.error({ err }, 'up.cleanup_failed'));
    }
  };
  try {
    let emulators: LocalEmulators | null = null;
    if (!external) {
      emulators = await startEmulators({ dynamoPath: path.join(base.home, 'dynamo') });
      const emu = emulators;
      cleanups.push(() => emu.stop());
      log.info({ dynamo: emu.dynamoEndpoint, sqs: emu.sqsEndpoint }, 'up.emulators_started');
    }
    const cursorSecret = base.auth.cursorSecret ?? (await persistentSecret(base.home, 'cursor.key'));
    const config = loadConfig({
      ...opts.env,
      ...(emulators
        ? { AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint, AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint }
        : {}),
      GHTRADER_CURSOR_SECRET: cursorSecret,
    });
    const rt = await (async () => {
      const boot = createAwsClients(config);
      try {
        // The embedded emulator is this process's alone: an older home's table missing an index is rebuilt.
        await ensureTables(
          boot.dynamo,
          config.tables,
          emulators ? { missingIndexes: { mode: 'rebuild', backupDir: path.join(base.home, 'dynamo-rebuild') } } : {},
        );
        const queueUrls = await ensureQueues(boot.sqs, config.resourcePrefix, {
          maxReceiveCount: config.jobs.maxReceiveCount,
          visibilityTimeoutS: LOCAL_VISIBILITY_S,
        });
        return await createRuntime(config, log, { queueUrls, cursorSecret });
      } finally {
        boot.destroy();
      }
    })();
    cleanups.push(() => rt.close());
    // Config revision 1 (baseline) is put conditionally before anything reads the config log (control-chain §5.1).
    await rt.configService.bootstrap();
    // `GHTRADER_LOG_LEVEL` in a revision applies to this process's logs at once.
    const unfollowLogLevel = followLogLevel(rt.live, log, config.logLevel);
    cleanups.push(async () => unfollowLogLevel());
    // Report Redis as it is from the first request on (a down Redis costs at most this wait, then degraded mode).
    await rt.warm.settle(1_000);

    // The simulator and the market feed start before the web app, so the console's first page can show them.
    let sim: LocalSim | null = null;
    let market: MarketFeed | null = null;
    const simOpts = opts.sim ?? { enabled: true, clock: 'shifted' };
    if (simOpts.enabled) {
      sim = await startLocalSim(simOpts.clock, config.home, log);
      const handle = sim.handle;
      cleanups.push(() => handle.stop());
      log.info(
        {
          url: handle.url,
          clock: sim.clock,
          start: sim.shifted ? formatCst(sim.shifted.startNs) : null,
          rule: sim.shifted?.rule ?? null,
        },
        'up.sim_started',
      );
      market = startMarketFeed(handle, opts.env, log);
      const feed = market;
      cleanups.push(() => feed.close());
      // `ticks:<var>` on the warm path (≤ 2 Hz): the Market page and the dashboard follow it over `/ws`.
      const ticks = new TicksPublisher({
        feed,
        publish: (channel, message) => rt.warm.publish(channel, message),
        log: log.child({ component: 'ticks' }),
      });
      ticks.start();
      cleanups.push(async () => ticks.stop());
    }

    const simHandle = sim?.handle;
    // The DIFF connection of this stack's jobs: the simulator (its dev token, discovery as in production), or the
    // endpoints of the environment with `--no-sim`.
    const diffConfig = () => (simHandle ? simDiffConfig(simHandle, opts.env) : loadDiffConfig(opts.env));
    const data = await startLocalData({ rt, env: opts.env, diffConfig, log });
    cleanups.push(() => data.close());
    // account.verify: credentials from the home's secret files, then the environment; broker login over `diffConfig`.
    rt.addHandlers(runtimeAccountJobHandlers(rt, { diffConfig, calendar: shippedCalendar() }));

    const runner = createLocalRunner(rt, { log });
    // SQS messages do not survive a restart locally; every job still queued gets a fresh message now.
    const recovered = await rt.recovery.reconcile(0);
    if (recovered.requeued > 0) log.info(recovered, 'up.requeued_jobs_after_restart');
    runner.start();
    cleanups.push(async () => {
      await Promise.race([runner.stop(), new Promise((r) => setTimeout(r, RUNNER_STOP_WAIT_MS))]);
    });

    // Sessions and login limits follow the config revision; the credential cache lifetime is a restart key.
    const consoleCacheMs = rt.live.overProcess('GHTRADER_CONSOLE_CACHE_MS', config.consoleCacheMs);
    const auth = authServiceFor({
      config,
      doc: rt.clients.doc,
      audit: rt.audit,
      log,
      cursorSecret,
      live: rt.live,
      credentialCacheMs: consoleCacheMs,
    });
    // Live updates: `/ws` fed by one Redis PSUBSCRIBE (control-chain §7), limits following the config revision.
    // The console's ≤ 1 s hot reads, invalidated by the same feed (control-chain §12).
    const hot = new HotCache({ ttlMs: consoleCacheMs, clock: systemClock });
    const realtime = createNodeRealtime({
      config,
      auth,
      hot,
      live: rt.live,
      log: log.child({ component: 'realtime' }),
      hub: { limits: liveWsLimits(rt.live) },
    });
    const status = new StatusService({
      dynamo: rt.clients.dynamo,
      jobsTable: config.tables.jobs,
      store: rt.store,
      queue: rt.queue,
      warm: rt.warm,
      runner,
      clock: systemClock,
      tickstore: async () => {
        await data.ctx.store.describeColumns(TABLES.ticksMainL5.name);
        return `${data.ctx.store.kind} tick store reachable`;
      },
      supervisor: supervisorStatusFrom(rt.supervisorTelemetry, systemClock),
      broadcaster: broadcasterStatusFrom(
        async () => ({ ...realtime.hub.stats(), as_of: isoUtc(systemClock.nowMs()) }),
        systemClock,
      ),
      configRevision: () => rt.live.revision,
    });
    const consoleData = {
      store: data.ctx.store,
      artifacts: data.ctx.artifacts,
      calendar: await loadDataCalendar(data.ctx.artifacts),
    };
    // A `data.calendar` job (or an edit of calendar/overrides.json) changes the calendar the data jobs load per job;
    // the console's copy follows within a minute. A file that no longer parses keeps the last good calendar, logged.
    const calendarReload = setInterval(() => {
      loadDataCalendar(data.ctx.artifacts).then(
        (cal) => {
          consoleData.calendar = cal;
        },
        (err: unknown) => log.warn({ err: describeError(err) }, 'web.calendar_reload_failed'),
      );
    }, calendarReloadMs(opts.env));
    calendarReload.unref();
    cleanups.push(async () => clearInterval(calendarReload));
    const app = createApp({
      realtime: realtime.deps,
      hot,
      config,
      jobs: rt.jobs,
      configService: rt.configService,
      supervision: { desired: rt.desired, telemetry: rt.supervisorTelemetry },
      accounts: createAccountService(rt, { simulatorBrokerId: simHandle?.brokerId ?? null }),
      commands: tradingControl(rt).commands,
      consoleStatus: tradingControl(rt).consoleStatus,
      locks: rt.locks,
      live: rt.live,
      status,
      auth,
      audit: rt.audit,
      log: log.child({ component: 'web' }),
      clock: systemClock,
      ids: ulidGen,
      staticDir: opts.staticDir,
      ...(market ? { market } : {}),
      data: consoleData,
    });
    const server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port }, () => resolve(s as Server));
      (s as Server).once('error', reject);
    });
    realtime.attach(app, server);
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          void realtime.close();
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    // The hub's counters in TradingState `broadcaster#local` every 5 s, as the AWS broadcaster writes its own (§7).
    const hubStats = new BroadcasterStatsFlusher({
      doc: rt.clients.doc,
      table: config.tables.tradingState,
      id: 'local',
      sink: 'local',
      hostId: rt.hostId,
      source: () => realtime.hub.stats(),
      clock: systemClock,
      log,
    });
    hubStats.start();
    cleanups.push(() => hubStats.stop());
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : opts.port;
    const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
    await writeStackFile(config.home, {
      v: 1,
      pid: process.pid,
      started_at: new Date().toISOString(),
      web_url: url,
      dynamo_endpoint: config.aws.dynamoEndpoint ?? null,
      sqs_endpoint: config.aws.sqsEndpoint ?? null,
      redis_url: config.redis.url,
      resource_prefix: config.resourcePrefix,
      redis_prefix: config.redis.prefix,
      region: config.aws.region,
      ...(sim ? { sim_url: sim.handle.url, sim_token: sim.handle.token } : {}),
    });
    cleanups.push(() => removeStackFile(config.home, process.pid));
    // The host's supervisor of gateway/strategy processes (control-chain §6.2): standby while another one holds the host.
    const supervisor = createSupervisorProcess({ rt, hostId: rt.hostId, log });
    cleanups.push(() => supervisor.stop());
    supervisor.supervisor
      .start({ standby: true })
      .catch((err: unknown) => log.error({ err: describeError(err) }, 'up.supervisor_failed'));
    return { url, config, rt, auth, sim, market, data, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The simulator on a random loopback port, ledgers under `<home>/sim`, on the chosen clock. */
async function startLocalSim(clock: SimClockChoice, home: string, log: Logger): Promise<LocalSim> {
  const simLog = log.child({ component: 'sim' });
  if (clock === 'realtime') {
    const handle = await startSimulator({ port: 0, home, clock: 'realtime' }, { log: simLog });
    return { handle, clock, shifted: null };
  }
  const shifted = shiftedSimStart(shippedCalendar(), BigInt(Date.now()) * 1_000_000n);
  const handle = await startSimulator(
    { port: 0, home, clock: 'accelerated', speed: 1, start: shifted.startNs },
    { log: simLog },
  );
  return { handle, clock, shifted };
}

/**
 * The console's market feed over a DIFF client pointed at the simulator: AUTH, NS and FILES at it and its dev token
 * (the discovery path production uses; MD/TD URLs are left to discovery). Other `GHTRADER_DIFF_*` tunables from the
 * environment (backoff, timeouts, frame log) apply.
 */
function startMarketFeed(sim: SimulatorHandle, env: Record<string, string | undefined>, log: Logger): MarketFeed {
  const diffConfig = simDiffConfig(sim, env);
  const diffLog = log.child({ component: 'diff' });
  const open = async (): Promise<FeedConnection> => {
    // A fresh client per attempt: a failed open leaves nothing half-connected behind.
    const client = new DiffClient({ config: diffConfig, calendar: shippedCalendar(), logger: diffLog });
    try {
      const source = await client.openMarket();
      return { source, close: () => client.close() };
    } catch (err) {
      await client.close().catch((closeErr: unknown) => diffLog.warn({ err: closeErr }, 'diff.close_failed'));
      throw err;
    }
  };
  const feed = new MarketFeed({ open, clock: systemClock, log: log.child({ component: 'market-feed' }) });
  feed.start();
  return feed;
}
