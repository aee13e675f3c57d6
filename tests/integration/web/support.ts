/**
 * The web app over a real per-file stack (dynalite/fauxqs via `createTestStack`, real Redis): the production
 * AuthService on the DynamoDB Users table, the production JobService and StatusService, a logger whose lines are
 * kept for assertions, and helpers that log in through the HTTP API like a browser would.
 */
import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import { HotCache } from '#shared/domain/control/hot-cache.ts';
import type { Role } from '#shared/domain/control/roles.ts';
import type { StatusSource } from '#shared/domain/control/status.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import type { MarketFeedSource } from '#shared/domain/market/feed.ts';
import { isoUtc, systemClock } from '#shared/domain/time.ts';
import { DynamoUserStore } from '#shared/infra/aws/user-store.ts';
import { createLogger } from '#shared/log.ts';
import { AuthService, systemCaller } from '#shared/services/auth-service.ts';
import { liveAuthLimits } from '#shared/services/live-config.ts';
import { createAccountService } from '#shared/services/runtime.ts';
import { StatusService } from '#shared/services/status-service.ts';
import { type AppDeps, createApp } from '#web/app.ts';
import type { WebEnv } from '#web/env.ts';
import { createTestStack, type TestStack } from '../support/stack.ts';

export const ORIGIN = 'http://localhost';

export interface TestUser {
  id: string;
  username: string;
  password: string;
  role: Role;
}

export interface BrowserSession {
  cookie: string;
  csrf: string;
}

export interface WebStackOptions {
  env?: Record<string, string>;
  status?: StatusSource;
  staticDir?: string;
  /** The console's market feed (absent: the market endpoints answer 503, the page says the feed is off). */
  market?: MarketFeedSource;
  /** The data chain's stores (absent: the data endpoints answer 503, the Data page says the chain is off). */
  data?: AppDeps['data'];
  /** Build the `/ws` hub from this stack's auth service (absent: `/ws` answers 503). */
  realtime?: (auth: AuthService, stack: TestStack, hot: HotCache) => NonNullable<AppDeps['realtime']>;
  /** The app's hot-read cache (default: one with `GHTRADER_CONSOLE_CACHE_MS` on the system clock). */
  hot?: HotCache;
  /**
   * Wire the account service over this stack's runtime (`/api/accounts`, `/api/brokers`, the System page's panel), as
   * `ghtrader up` does; `simulatorBrokerId` is the broker the DIFF connection's simulator serves (null: none).
   */
  accounts?: { simulatorBrokerId: string | null };
  /** Keep the runtime's log lines too (job workers, services) in `logLines`, not only the app's. */
  captureRuntimeLog?: boolean;
}

export interface RequestOptions extends RequestInit {
  /** Socket address the request comes from (rate limits are per ip). */
  ip?: string;
}

export class WebTestStack {
  readonly app: Hono<WebEnv>;
  /** The deps `app` was built from. */
  readonly deps: AppDeps;
  readonly auth: AuthService;
  readonly users: DynamoUserStore;
  /** The app's hot-read cache (also handed to the `realtime` factory, whose feed invalidates it). */
  readonly hot: HotCache;
  /** Default client ip of this stack's requests (unique per stack so ip rate limits never collide). */
  readonly ip = `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

  private constructor(
    readonly stack: TestStack,
    opts: WebStackOptions,
    /** Every log line the app wrote (and the runtime, with `captureRuntimeLog`), raw JSON text, in order. */
    readonly logLines: string[] = [],
  ) {
    const { config, rt } = stack;
    const log = createLogger({
      service: 'web-test',
      level: 'debug',
      destination: { write: (line: string) => void this.logLines.push(line) },
    });
    this.users = new DynamoUserStore(rt.clients.doc, config.tables.users);
    const cursorSecret = config.auth.cursorSecret ?? 'test-cursor-secret-0001';
    this.auth = new AuthService({
      users: this.users,
      audit: rt.audit,
      clock: systemClock,
      ids: ulidGen,
      log,
      // As `ghtrader up` wires it: session and login limits follow the config revision.
      limits: liveAuthLimits(rt.live, config.auth),
      credentialCacheMs: config.consoleCacheMs,
      cursorSecret,
    });
    const status =
      opts.status ??
      new StatusService({
        dynamo: rt.clients.dynamo,
        jobsTable: config.tables.jobs,
        store: rt.store,
        queue: rt.queue,
        warm: rt.warm,
        // This stack runs no job runner; saying so is the true status.
        runner: {
          status: () => ({
            state: 'unknown',
            text: 'no job runner in this test stack',
            error: '',
            updated_at: isoUtc(Date.now()),
            stale: false,
          }),
        },
        clock: systemClock,
        configRevision: () => rt.live.revision,
      });
    this.hot = opts.hot ?? new HotCache({ ttlMs: config.consoleCacheMs, clock: systemClock });
    this.deps = {
      hot: this.hot,
      config,
      jobs: rt.jobs,
      configService: rt.configService,
      live: rt.live,
      status,
      auth: this.auth,
      audit: rt.audit,
      log,
      clock: systemClock,
      ids: ulidGen,
      locks: rt.locks,
      ...(opts.staticDir ? { staticDir: opts.staticDir } : {}),
      ...(opts.market ? { market: opts.market } : {}),
      ...(opts.data ? { data: opts.data } : {}),
      ...(opts.realtime ? { realtime: opts.realtime(this.auth, stack, this.hot) } : {}),
      ...(opts.accounts ? { accounts: createAccountService(rt, opts.accounts) } : {}),
    };
    this.app = createApp(this.deps);
  }

  /** Another app over this stack's services with `extra` deps, e.g. the desired-state service as `ghtrader up` wires it. */
  appWith(extra: Partial<AppDeps>): Hono<WebEnv> {
    return createApp({ ...this.deps, ...extra });
  }

  /** `appWith` the desired-state service and supervisor telemetry (`/api/{gateway,strategy}/*`, the Trading page). */
  supervisedApp(): Hono<WebEnv> {
    const { rt } = this.stack;
    return this.appWith({ supervision: { desired: rt.desired, telemetry: rt.supervisorTelemetry } });
  }

  static async create(opts: WebStackOptions = {}): Promise<WebTestStack> {
    const lines: string[] = [];
    const runtimeLog = opts.captureRuntimeLog
      ? createLogger({
          service: 'runtime-test',
          level: 'debug',
          destination: { write: (l: string) => void lines.push(l) },
        })
      : undefined;
    const stack = await createTestStack({
      ...(opts.env ? { env: opts.env } : {}),
      ...(runtimeLog ? { log: runtimeLog } : {}),
    });
    return new WebTestStack(stack, opts, lines);
  }

  /** `app.request` with a socket address, like @hono/node-server provides. */
  request(path: string, opts: RequestOptions = {}): Promise<Response> {
    const { ip, ...init } = opts;
    const url = path.startsWith('http') ? path : `${ORIGIN}${path}`;
    return Promise.resolve(this.app.request(url, init, { incoming: { socket: { remoteAddress: ip ?? this.ip } } }));
  }

  /** JSON write with the given extra headers. */
  send(method: string, path: string, body: unknown, headers: Record<string, string> = {}, ip?: string) {
    return this.request(path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      ...(ip ? { ip } : {}),
    });
  }

  async createUser(role: Role, prefix = role): Promise<TestUser> {
    const username = `${prefix}-${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const user = await this.auth.createUser(systemCaller('system', 'test', ulidGen.next()), {
      username,
      password,
      role,
    });
    return { id: user.id, username, password, role };
  }

  /** Log in through `POST /api/auth/login` and keep the cookie and CSRF token, as the browser client does. */
  async login(user: TestUser, ip?: string): Promise<BrowserSession> {
    const res = await this.send(
      'POST',
      '/api/auth/login',
      { username: user.username, password: user.password },
      { origin: ORIGIN },
      ip,
    );
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { csrf_token: string };
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    return { cookie, csrf: body.csrf_token };
  }

  /** Headers of a same-origin browser write. */
  browserHeaders(s: BrowserSession): Record<string, string> {
    return { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: ORIGIN };
  }

  async token(user: TestUser, role: Role = user.role): Promise<string> {
    const t = await this.auth.createToken(
      systemCaller('system', 'test', ulidGen.next()),
      { name: `t-${role}`, role },
      { owner: user.username },
    );
    return t.token;
  }

  bearer(token: string): Record<string, string> {
    return { authorization: `Bearer ${token}` };
  }

  close(): Promise<void> {
    return this.stack.close();
  }
}

export interface ErrorJson {
  error: { code: string; message: string; details: Record<string, unknown> };
}

export async function errorOf(res: Response): Promise<ErrorJson['error']> {
  return ((await res.json()) as ErrorJson).error;
}
