/**
 * The console's hot reads (control-chain §12): the reads every page and poll repeats (job lists, a job and its
 * progress, the effective config, config history, audit pages) go through one in-process `HotCache` of ≤ 1 s,
 * invalidated by this app's own writes at once and by warm-path events (the realtime feed calls
 * `invalidateForChannel`). Processes without a feed (the HTTP API Lambda) are bounded by the lifetime alone.
 *
 * Cache keys are the route plus its query in a canonical order; tags are the realtime topics whose events make the
 * value stale (`jobs:all`, `job:<id>`, `config`, `audit`), plus `accounts` for this app's own account writes.
 * A terminal job record is final (every store write to a job is conditioned on a status that is not terminal), so the
 * cache keeps it without a lifetime: polling a finished job's record or progress reads the store once.
 */
import type { Context } from 'hono';
import { HotCache } from '#shared/domain/control/hot-cache.ts';
import { isTerminal, type JobRecord } from '#shared/domain/control/jobs.ts';
import { parseOrThrow } from '#shared/domain/control/validation.ts';
import { DependencyUnavailableError } from '#shared/errors/control.ts';
import type { Logger } from '#shared/log.ts';
import type { AuditListResult, AuditService } from '#shared/services/audit-service.ts';
import { ConsoleStatusQuerySchema } from '#shared/services/console-status.ts';
import type { AppDeps, WebEnv } from './env.ts';
import { loadAccountsPanel } from './routes/accounts-model.ts';
import { knownProfiles } from './routes/trading-model.ts';

export type HotDeps = AppDeps & { hot: HotCache };

/** The deps with their hot cache: the one given (shared with the realtime feed), else a new one. */
export function withHotCache(deps: AppDeps): HotDeps {
  return { ...deps, hot: deps.hot ?? new HotCache({ ttlMs: deps.config.consoleCacheMs, clock: deps.clock }) };
}

/** Serialized hot-cache values: a cached value is shared and read-only, so its JSON text is too. */
const jsonTexts = new WeakMap<object, string>();

/**
 * A hot-cache value as a 200 JSON answer, exactly as `c.json` would send it, but serialized once per cached value
 * rather than once per request (the effective config is ~25 KB and the job list ~15 KB of JSON, asked for hundreds
 * of times a second under the API goal's load). Only for values the hot cache returned: anything else may change.
 */
export function hotJson(c: Context<WebEnv>, value: unknown, headers: Record<string, string> = {}): Response {
  const key = typeof value === 'object' && value !== null ? value : null;
  let text = key ? jsonTexts.get(key) : undefined;
  if (text === undefined) {
    text = JSON.stringify(value);
    if (key) jsonTexts.set(key, text);
  }
  return c.body(text, 200, { 'content-type': 'application/json', ...headers });
}

/** A cache key for `name` and a query object: entries sorted, so `?a=1&b=2` and `?b=2&a=1` share one entry. */
export function queryKey(name: string, query: Record<string, string | undefined>): string {
  const entries = Object.entries(query)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${name}?${new URLSearchParams(entries).toString()}`;
}

/** A profile whose durable risk kill is active, as the chrome's risk-kill badge shows it. */
export interface ActiveRiskKill {
  account_profile: string;
  trigger: string | null;
  reason: string;
  killed_at: string | null;
}

/** Profiles the chrome's risk-kill badge checks at most (the known ones: `default` and those with desired state). */
const RISK_KILL_BADGE_MAX_PROFILES = 100;

/**
 * The chrome's risk-kill badge (control-chain §8): the known profiles (`default`, then each with a desired document)
 * whose durable risk-kill record is KILLED; null without a command service. Stale on audited actions (commands, and
 * the gateway's audited kills and resets) and after ≤ 1 s whatever happens.
 */
export function hotRiskKills(deps: HotDeps) {
  return {
    active: () => deps.hot.get('risk-kill:active', ['audit'], () => loadActiveRiskKills(deps)),
  };
}

async function loadActiveRiskKills(deps: AppDeps): Promise<ActiveRiskKill[] | null> {
  const svc = deps.commands;
  if (!svc) return null;
  const profiles = deps.supervision ? await knownProfiles(deps.supervision, 'default') : ['default'];
  const states = await Promise.all(profiles.slice(0, RISK_KILL_BADGE_MAX_PROFILES).map((p) => svc.riskKillStatus(p)));
  return states
    .filter((s) => s.risk_kill_active)
    .map((s) => ({ account_profile: s.account_profile, trigger: s.trigger, reason: s.reason, killed_at: s.killed_at }));
}

/**
 * `GET /api/trading/console/status` per (canonical profile, variety): stale on the profile's gateway and strategy
 * events (state, supervisor records) and on audited actions (desired writes, commands), else after ≤ 1 s (the warm
 * path's own state has no event). A bad query is parsed (400) before any cache lookup.
 */
export function hotConsoleStatus(deps: HotDeps) {
  return {
    status: (query: Record<string, string | undefined>) => {
      const svc = deps.consoleStatus;
      if (!svc) throw new DependencyUnavailableError('the console status service (not wired in this process)');
      const q = parseOrThrow(ConsoleStatusQuerySchema, query, 'console status query');
      const p = q.account_profile;
      const key = queryKey('trading:console-status', { account_profile: p, var: q.var });
      return deps.hot.get(key, [`gateway:${p}`, `strategy:${p}`, 'audit'], () => svc.status(q));
    },
  };
}

/** Cached job reads, shared by `/api/jobs` and the pages. */
export function hotJobs(deps: HotDeps) {
  return {
    list: (query: Record<string, string | undefined>) =>
      deps.hot.get(queryKey('jobs:list', query), ['jobs:all'], () => deps.jobs.list(query)),
    timeline: (query: Record<string, string | undefined>) =>
      deps.hot.get(queryKey('jobs:timeline', query), ['jobs:all'], () => deps.jobs.timeline(query)),
    /** The Jobs page's terminal-status KPIs (exact status-index counts, whose cost grows with the job history). */
    terminalCounts: () =>
      deps.hot.get('jobs:terminal-counts', ['jobs:all'], () =>
        deps.jobs.countsOf(['succeeded', 'failed', 'cancelled'] as const),
      ),
    /** A job record; a terminal one is final (no write changes it), so it is read from the store once. */
    get: (id: string) => readJob(deps, id),
    /** The progress view of that record, its age as of now. */
    progress: async (id: string) => deps.jobs.progressOf(await readJob(deps, id)),
    /** The newest attempt's log tail at the default size (the job detail page's first paint). */
    logTail: (id: string) => deps.hot.get(`job:${id}:log`, [`job:${id}`], () => deps.jobs.logTail(id, {})),
    /** After this app changed a job: the lists and that job's reads are stale now. */
    changed(id: string) {
      deps.hot.invalidate('jobs:all');
      deps.hot.invalidate(`job:${id}`);
    },
  };
}

function readJob(deps: HotDeps, id: string): Promise<JobRecord> {
  return deps.hot.getUntilFinal(
    `job:${id}`,
    [`job:${id}`],
    () => deps.jobs.get(id),
    (job) => isTerminal(job.status),
  );
}

/** Cached config reads, shared by `/api/config/*`. */
export function hotConfig(deps: HotDeps) {
  const svc = deps.configService;
  return {
    effective: (query: Record<string, string | undefined>) =>
      deps.hot.get(queryKey('config:effective', query), ['config'], () => svc.effective(query)),
    history: (query: Record<string, string | undefined>) =>
      deps.hot.get(queryKey('config:history', query), ['config'], () => svc.history(query)),
    /** After this app wrote a revision. */
    changed: () => deps.hot.invalidate('config'),
  };
}

/** Cached audit pages (`GET /api/audit` and the Audit page); new entries arrive on `audit:updates`. */
export function hotAudit(deps: HotDeps, svc: AuditService): Pick<AuditService, 'list'> {
  return {
    list: (query: unknown): Promise<AuditListResult> => {
      const q = (typeof query === 'object' && query !== null ? query : {}) as Record<string, string | undefined>;
      return deps.hot.get(queryKey('audit:list', q), ['audit'], () => svc.list(q));
    },
  };
}

/**
 * The System page's Broker accounts panel (secret listing, last verifications, gateway and strategy status of every
 * profile). Stale after this app's account writes (`accounts`), any audited action elsewhere (account changes from
 * the CLI, desired state, supervisor starts and stops: `audit`) and job changes (a verification ending: `jobs:all`);
 * a component's heartbeat age is bounded by the cache lifetime (≤ 1 s).
 */
export function hotAccounts(deps: HotDeps) {
  return {
    panel: (log: Logger) =>
      deps.hot.get('accounts:panel', ['accounts', 'audit', 'jobs:all'], () => loadAccountsPanel(deps.accounts, log)),
    /** After this app changed an account (upsert, delete) or submitted a verification. */
    changed: () => deps.hot.invalidate('accounts'),
  };
}
