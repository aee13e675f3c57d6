/**
 * The web app as the control-plane benches measure it (control-chain §12): the production wiring (@hono/node-server,
 * JobService, StatusService, ConfigService, AuthService) on dynalite/fauxqs and the real Redis, with 1,000 jobs and
 * 50 config revisions seeded, optionally the data chain's stores (in-memory DuckDB, migrated; local artifacts).
 *
 * Emulators: `worker` runs dynalite and fauxqs in a worker thread of the bench's own file (DynamoDB and SQS are remote
 * services in production; in the server's thread dynalite's CPU would sit in the server's event loop); `inproc` keeps
 * them in the server's thread, as `ghtrader up` does. A bench file using `worker` must call `emulatorsWorkerMain()`
 * when it runs as that worker (`isEmulatorsWorker()`).
 */

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { serve } from '@hono/node-server';
import pino from 'pino';
import { ulid } from 'ulid';
import { HotCache } from '#shared/domain/control/hot-cache.ts';
import type { JobRecord, JobStatus } from '#shared/domain/control/jobs.ts';
import type { Role } from '#shared/domain/control/roles.ts';
import type { TickStore } from '#shared/domain/data/tick-store.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { isoUtc, systemClock } from '#shared/domain/time.ts';
import { LocalArtifactStore } from '#shared/infra/artifacts/local.ts';
import { DynamoMigrationLedger } from '#shared/infra/aws/migration-ledger.ts';
import { DynamoUserStore } from '#shared/infra/aws/user-store.ts';
import { type LocalEmulators, startEmulators } from '#shared/infra/local/emulators.ts';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { createLogger, silentLogger } from '#shared/log.ts';
import type { AccountService } from '#shared/services/account-service.ts';
import { AuthService, systemCaller } from '#shared/services/auth-service.ts';
import { loadDataCalendar } from '#shared/services/data/context.ts';
import { applyMigrations } from '#shared/services/data/migrate.ts';
import { createAccountService, type Runtime } from '#shared/services/runtime.ts';
import { StatusService } from '#shared/services/status-service.ts';
import { tradingControl } from '#shared/services/trading-control.ts';
import { type AppDeps, createApp } from '#web/app.ts';
import { createNodeRealtime, type NodeRealtime } from '#web/realtime/node.ts';
import { startBenchRuntime } from './runtime.ts';

export type EmulatorMode = 'worker' | 'inproc';

export const SEEDED_JOBS = 1_000;
export const SEEDED_REVISIONS = 50;

export function emulatorMode(): EmulatorMode {
  return process.env.BENCH_EMULATORS === 'inproc' ? 'inproc' : 'worker';
}

export function isEmulatorsWorker(): boolean {
  return (workerData as { role?: string } | null)?.role === 'emulators';
}

/** The emulators worker: start both, post their endpoints, stop on `stop`. */
export async function emulatorsWorkerMain(): Promise<void> {
  const emu = await startEmulators();
  parentPort?.postMessage({ dynamoEndpoint: emu.dynamoEndpoint, sqsEndpoint: emu.sqsEndpoint });
  parentPort?.on('message', (m) => {
    if (m === 'stop') void emu.stop().then(() => process.exit(0));
  });
}

async function emulatorsInWorker(entry: URL): Promise<LocalEmulators> {
  const w = new Worker(entry, { workerData: { role: 'emulators' } });
  const ends = await new Promise<{ dynamoEndpoint: string; sqsEndpoint: string }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  return {
    ...ends,
    stop: async () => {
      w.postMessage('stop');
      await new Promise((r) => w.once('exit', r));
    },
  };
}

const STATUS_MIX: [JobStatus, number][] = [
  ['succeeded', 900],
  ['failed', 50],
  ['cancelled', 30],
  ['queued', 15],
  ['running', 5],
];

/**
 * 1,000 job records straight into the Jobs table (the store, not `submit`: seeding is not what is measured), one a
 * minute over the last ~17 hours, most finished, with progress. Returns every fifth job id, newest and oldest alike.
 */
export async function seedJobs(rt: Runtime): Promise<string[]> {
  const now = Date.now();
  const records: JobRecord[] = [];
  let n = 0;
  for (const [status, count] of STATUS_MIX) {
    for (let k = 0; k < count; k++, n++) {
      const createdMs = now - (SEEDED_JOBS - n) * 60_000;
      const created = isoUtc(createdMs);
      const done = status === 'succeeded' || status === 'failed' || status === 'cancelled';
      const started = status === 'queued' ? null : isoUtc(createdMs + 1_000);
      const worker = { id: `local:bench:1:${n}`, runner: 'local' as const, request_id: `bench-${n}` };
      records.push({
        job_id: ulid(createdMs),
        kind: 'system.sleep',
        params: { seconds: n % 30 },
        dedupe_key: `bench-${n}`,
        var: (['cu', 'au', 'ag', 'none'] as const)[n % 4] ?? 'none',
        status,
        attempt: status === 'queued' ? 0 : 1,
        max_attempts: 3,
        worker: status === 'running' ? worker : null,
        lease_expires_at: status === 'running' ? isoUtc(now + 600_000) : null,
        created_at: created,
        created_by: { actor: 'bench', role: 'operator' },
        updated_at: created,
        queued_at: created,
        started_at: started,
        finished_at: done ? isoUtc(createdMs + 30_000) : null,
        progress:
          status === 'queued'
            ? null
            : {
                phase: 'sleep',
                phase_idx: 0,
                total_phases: 1,
                step: 'wait',
                step_idx: 0,
                total_steps: 1,
                item: `${n}`,
                item_idx: n % 10,
                total_items: 10,
                pct: done ? 1 : 0.4,
                message: 'sleeping',
                eta_s: done ? 0 : 12,
                updated_at: isoUtc(createdMs + 20_000),
              },
        waiting_for: null,
        error:
          status === 'failed'
            ? { code: 'bench', message: 'seeded failure', retryable: false, attempt: 1, at: isoUtc(createdMs + 30_000) }
            : null,
        attempts: started
          ? [
              {
                attempt: 1,
                worker: worker.id,
                started_at: started,
                ended_at: done ? isoUtc(createdMs + 30_000) : null,
                outcome: status === 'queued' ? 'running' : status,
                error: null,
              },
            ]
          : [],
        result: status === 'succeeded' ? { slept_s: n % 30 } : null,
      });
    }
  }
  for (let i = 0; i < records.length; i += 50) {
    await Promise.all(records.slice(i, i + 50).map((r) => rt.store.create(r)));
  }
  return records.filter((_, i) => i % 5 === 0).map((r) => r.job_id);
}

/** Revision 1 (baseline) + 49 sets = 50 revisions; returns the head revision. */
export async function seedRevisions(rt: Runtime): Promise<number> {
  const admin = systemCaller('system', 'bench', ulidGen.next());
  await rt.configService.bootstrap();
  const keys = ['GHTRADER_SLO_QUEUE_WARN', 'GHTRADER_SLO_QUEUE_AGE_WARN_S', 'GHTRADER_SLO_MODEL_MAX_AGE_H'];
  for (let i = 0; i < SEEDED_REVISIONS - 1; i++) {
    const key = keys[i % keys.length] as string;
    await rt.configService.set(admin, { values: { [key]: 60 + i } }, 'bench_seed');
  }
  return (await rt.configService.head()).revision;
}

export interface WebBench {
  rt: Runtime;
  origin: string;
  port: number;
  emulators: EmulatorMode;
  /** Ids of seeded jobs (every fifth). */
  jobIds: string[];
  headRevision: number;
  seedMs: number;
  /** A new user of `role` logged in through `POST /api/auth/login`: its session cookie. */
  login(role: Role): Promise<string>;
  /** The `/ws` hub and feed when `realtime` was asked for. */
  realtime: NodeRealtime | null;
  close(): Promise<void>;
}

export interface WebBenchOptions {
  /** The bench's own file (`import.meta.url`), run as the emulators worker. */
  entry: URL;
  /** Also run the data chain's stores (in-memory DuckDB, migrated; local artifacts). */
  data?: boolean;
  /** Seed 1,000 jobs and 50 config revisions (default true). */
  seed?: boolean;
  /** Serve `/ws` (the hub and its Redis feed, as `ghtrader up` wires them). */
  realtime?: boolean;
}

export async function startWebBench(opts: WebBenchOptions): Promise<WebBench> {
  const mode = emulatorMode();
  const emu = mode === 'worker' ? await emulatorsInWorker(opts.entry) : await startEmulators();
  // BENCH_LOG_LEVEL (e.g. `error`) sends the app's log lines to stderr; silent by default, like the other benches.
  const log = process.env.BENCH_LOG_LEVEL
    ? createLogger({ service: 'bench', level: process.env.BENCH_LOG_LEVEL, destination: pino.destination(2) })
    : silentLogger();
  // Its own home: the seeded broker-account secret files go there, never under the working directory.
  const home = await mkdtemp(path.join(tmpdir(), 'ghtrader-bench-home-'));
  const { config, rt } = await startBenchRuntime(emu, log, { GHTRADER_HOME: home });
  const auth = new AuthService({
    users: new DynamoUserStore(rt.clients.doc, config.tables.users),
    audit: rt.audit,
    clock: systemClock,
    ids: ulidGen,
    log,
    limits: config.auth,
    credentialCacheMs: config.consoleCacheMs,
    cursorSecret: config.auth.cursorSecret as string,
  });
  const status = new StatusService({
    dynamo: rt.clients.dynamo,
    jobsTable: config.tables.jobs,
    store: rt.store,
    queue: rt.queue,
    warm: rt.warm,
    runner: {
      status: () => ({ state: 'unknown', text: 'bench', error: '', updated_at: isoUtc(Date.now()), stale: false }),
    },
    clock: systemClock,
  });
  let dir: string | null = null;
  let store: TickStore | null = null;
  let data: AppDeps['data'] | undefined;
  if (opts.data) {
    dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-bench-web-'));
    store = await openDuckDbTickStore({ path: ':memory:' });
    await applyMigrations(
      store,
      new DynamoMigrationLedger(rt.clients.doc, config.tables.migrationLedger, systemClock),
      {
        appliedBy: 'bench',
      },
    );
    const artifacts = new LocalArtifactStore(path.join(dir, 'artifacts'));
    data = { store, artifacts, calendar: await loadDataCalendar(artifacts) };
  }
  const hot = new HotCache({ ttlMs: config.consoleCacheMs, clock: systemClock });
  const realtime = opts.realtime ? createNodeRealtime({ config, auth, log, hot }) : null;
  // As under `ghtrader up`: desired state and supervisor telemetry (Trading, System) and broker accounts (System).
  const accounts = createAccountService(rt, { simulatorBrokerId: 'ghsim' });
  const app = createApp({
    supervision: { desired: rt.desired, telemetry: rt.supervisorTelemetry },
    accounts,
    commands: tradingControl(rt).commands,
    consoleStatus: tradingControl(rt).consoleStatus,
    hot,
    config,
    jobs: rt.jobs,
    configService: rt.configService,
    status,
    auth,
    audit: rt.audit,
    log,
    clock: systemClock,
    ids: ulidGen,
    ...(data ? { data } : {}),
    ...(realtime ? { realtime: realtime.deps } : {}),
  });
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server));
  });
  realtime?.attach(app, server);
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const close = async () => {
    await realtime?.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await rt.close();
    await rm(home, { recursive: true, force: true });
    await emu.stop();
  };
  try {
    const t0 = performance.now();
    const seed = opts.seed ?? true;
    const jobIds = seed ? await seedJobs(rt) : [];
    const headRevision = seed ? await seedRevisions(rt) : (await rt.configService.head()).revision;
    if (seed) await seedAccounts(accounts);
    const seedMs = performance.now() - t0;
    let users = 0;
    const login = async (role: Role) => {
      const username = `bench-${role}-${users++}`;
      const password = `pw-${randomBytes(12).toString('hex')}`;
      await auth.createUser(systemCaller('system', 'bench', ulidGen.next()), { username, password, role });
      const res = await fetch(`${origin}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify({ username, password }),
      });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
      return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    };
    return { rt, origin, port, emulators: mode, jobIds, headRevision, seedMs, login, realtime, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Broker accounts the System page lists (secret files under the bench runtime's home). */
export const SEEDED_ACCOUNTS = 3;

async function seedAccounts(accounts: AccountService): Promise<void> {
  const caller = systemCaller('system', 'bench', ulidGen.next());
  for (let i = 0; i < SEEDED_ACCOUNTS; i++) {
    await accounts.upsert(caller, {
      profile: `bench_${i}`,
      broker_id: 'ghsim',
      account_id: `bench-account-${i}`,
      password: `bench-password-${i}`,
    });
  }
}
