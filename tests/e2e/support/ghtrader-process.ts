/**
 * Spawns the built `ghtrader up` with a temp home on a random port, reads its `--json` banner, and offers a tiny
 * cookie-and-CSRF-aware HTTP client for the console API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = path.join(root, 'dist', 'colo', 'cli.js');

export interface UpBanner {
  url: string;
  login_url: string | null;
  home: string;
  pid: number;
  demo_job: string | null;
}

export interface RunningStack {
  child: ChildProcess;
  banner: UpBanner;
  output: () => string;
  /** Send SIGTERM and resolve with the exit code and how long the stop took. */
  stop(): Promise<{ code: number | null; ms: number }>;
}

/** A Redis key prefix unique to this e2e run, so the shared Redis is never clobbered. */
export const E2E_REDIS_PREFIX = `ghtrader-e2e-${randomBytes(4).toString('hex')}:`;

export async function startUp(
  home: string,
  extraArgs: string[] = [],
  timeoutMs = 20_000,
  env: Record<string, string> = {},
): Promise<RunningStack> {
  const child = spawn(process.execPath, [CLI, 'up', '--home', home, '--port', '0', '--json', ...extraArgs], {
    env: { ...process.env, GHTRADER_REDIS_PREFIX: E2E_REDIS_PREFIX, GHTRADER_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    out += String(d);
  });
  const banner = await new Promise<UpBanner>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`ghtrader up printed no banner within ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const check = () => {
      const line = out.split('\n').find((l) => l.startsWith('{"url"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as UpBanner);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ghtrader up exited with ${code} before its banner:\n${out}`));
    });
  });
  return {
    child,
    banner,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        const t0 = Date.now();
        child.once('exit', (code) => resolve({ code, ms: Date.now() - t0 }));
        child.kill('SIGTERM');
      }),
  };
}

/** A console client: session cookie, CSRF header and Origin on writes, or a bearer token. */
export class ConsoleClient {
  private cookie = '';
  private csrf = '';
  constructor(
    readonly base: string,
    private readonly bearer: string | null = null,
  ) {}

  /** The session cookie (`name=value`) once logged in, e.g. for a `/ws` upgrade. */
  get sessionCookie(): string {
    return this.cookie;
  }

  async loginOneTime(loginUrl: string): Promise<void> {
    const token = new URL(loginUrl).hash.replace('#otp=', '');
    const r = await fetch(`${this.base}/api/auth/one-time`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: this.base },
      body: JSON.stringify({ token }),
    });
    if (r.status !== 200) throw new Error(`one-time login answered ${r.status}: ${await r.text()}`);
    this.cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    this.csrf = ((await r.json()) as { csrf_token: string }).csrf_token;
  }

  /** `POST /api/auth/login` with a username and password; returns the answer's status (200 keeps the session). */
  async login(username: string, password: string): Promise<number> {
    const r = await fetch(`${this.base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: this.base },
      body: JSON.stringify({ username, password }),
    });
    if (r.status === 200) {
      this.cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      this.csrf = ((await r.json()) as { csrf_token: string }).csrf_token;
    } else {
      await r.text();
    }
    return r.status;
  }

  withBearer(token: string): ConsoleClient {
    return new ConsoleClient(this.base, token);
  }

  async request(
    method: string,
    p: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: unknown; text: string; headers: Headers }> {
    const h: Record<string, string> = { ...headers };
    if (this.bearer) h.authorization = `Bearer ${this.bearer}`;
    else if (this.cookie) {
      h.cookie = this.cookie;
      if (method !== 'GET') {
        h['x-csrf-token'] = this.csrf;
        h.origin = this.base;
      }
    }
    if (body !== undefined) h['content-type'] = 'application/json';
    const r = await fetch(`${this.base}${p}`, {
      method,
      headers: h,
      redirect: 'manual',
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // Pages answer HTML; callers use `text` for those.
    }
    return { status: r.status, json, text, headers: r.headers };
  }
}

/** Poll `fn` every 200 ms until it returns non-null, or throw after `timeoutMs`. */
export async function until<T>(fn: () => Promise<T | null>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The last line a command printed on stdout, parsed (with `--json`, the command's one JSON document). */
export function lastJson<T = Record<string, unknown>>(r: { stdout: string }): T {
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as T;
}

/** A failed expectation's context: exit code, stdout and stderr of the run. */
export function explain(r: CliRun): string {
  return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

/** `runCli` / `runCliWithInput` with `--home <home()>` appended and a 60 s timeout, for suites on one stack's home. */
export function homeCli(home: () => string): {
  cli(args: string[]): Promise<CliRun>;
  cliInput(args: string[], input: string): Promise<CliRun>;
} {
  return {
    cli: (args) => runCli([...args, '--home', home()], {}, 60_000),
    cliInput: (args, input) => runCliWithInput([...args, '--home', home()], input, {}, 60_000),
  };
}

/** Run the built `ghtrader` with `args` (this run's Redis prefix, plus `env`); SIGKILL and reject past the timeout. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 240_000): Promise<CliRun> {
  return spawnCli(args, null, env, timeoutMs);
}

/** `runCli` with `input` written to the command's stdin (then closed), e.g. for `--password-stdin`. */
export function runCliWithInput(
  args: string[],
  input: string,
  env: Record<string, string> = {},
  timeoutMs = 240_000,
): Promise<CliRun> {
  return spawnCli(args, input, env, timeoutMs);
}

/** Where `apiCli` runs: the API's URL, the bearer's token, and a home whose `nowhere` subfolder holds no stack. */
export interface ApiCliTarget {
  url: string;
  token: string;
  home: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * `ghtrader --api <url> …` as the owner of `token`: no `--home`, and a `GHTRADER_HOME` that holds no stack, so only
 * the HTTP API can answer (never the store credentials). `input`, when given, is written to stdin.
 */
export function apiCli(t: ApiCliTarget, args: string[], input?: string): Promise<CliRun> {
  const env = { ...t.env, GHTRADER_API_TOKEN: t.token, GHTRADER_HOME: path.join(t.home, 'nowhere') };
  return spawnCli(['--api', t.url, ...args], input ?? null, env, t.timeoutMs ?? 90_000);
}

function spawnCli(
  args: string[],
  input: string | null,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<CliRun> {
  return new Promise<CliRun>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, GHTRADER_REDIS_PREFIX: E2E_REDIS_PREFIX, ...env },
      stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ghtrader ${args.join(' ')} ran over ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    if (input !== null && child.stdin) {
      // A command that exits before reading its input must not crash the test with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

/** `POST /api/auth/tokens` as `owner` (an admin session creates any role): the new token's plaintext. */
export async function createApiToken(
  owner: ConsoleClient,
  name: string,
  role: 'viewer' | 'operator' | 'admin',
): Promise<string> {
  const r = await owner.request('POST', '/api/auth/tokens', { name, role, expires_in_days: 1 });
  if (r.status !== 201) throw new Error(`token create answered ${r.status}: ${r.text}`);
  return (r.json as { token: string }).token;
}

/** A suite's own `ghtrader up` in a new temporary home, with the admin logged in through the banner's one-time link. */
export interface SuiteStack {
  home: string;
  stack: RunningStack;
  admin: ConsoleClient;
}

/** Start `ghtrader up <args>` in `$TMPDIR/ghtrader-e2e-<name>-*` and log the admin in (for a suite's `beforeAll`). */
export async function startLoggedIn(
  name: string,
  args: string[],
  timeoutMs?: number,
  env: Record<string, string> = {},
): Promise<SuiteStack> {
  const home = await mkdtemp(path.join(tmpdir(), `ghtrader-e2e-${name}-`));
  const stack = await startUp(home, args, timeoutMs, env);
  if (!stack.banner.login_url) throw new Error(`no login url in banner: ${stack.output()}`);
  const admin = new ConsoleClient(stack.banner.url);
  await admin.loginOneTime(stack.banner.login_url);
  return { home, stack, admin };
}

/** Stop a suite's stack if it still runs and remove its home (for a suite's `afterAll`; either may be unset). */
export async function stopSuite(stack: RunningStack | undefined, home: string | undefined): Promise<void> {
  if (stack?.child.exitCode === null) await stack.stop();
  if (home) await rm(home, { recursive: true, force: true });
}
