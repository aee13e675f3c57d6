/**
 * Console pages (control-chain §8), server-rendered from the same services as the API so the first paint carries
 * the data. `/v/{var}/...` with var ∈ cu, au, ag (else 404); unauthenticated -> 303 `/login?next=<path>`.
 * Actions a role may not take are not rendered (and the API answers 403 anyway).
 */
import { type Context, Hono } from 'hono';
import { jobFormKinds } from '#shared/domain/control/job-form.ts';
import { JOB_STATUSES, type JobStatus } from '#shared/domain/control/jobs.ts';
import { roleAtLeast } from '#shared/domain/control/roles.ts';
import type { StatusSnapshot } from '#shared/domain/control/status.ts';
import { type Variety, VarietySchema } from '#shared/domain/control/varieties.ts';
import { describeError } from '#shared/errors/base.ts';
import { ControlError, NotFoundError } from '#shared/errors/control.ts';
import { callerOf } from '#shared/services/auth-service.ts';
import type { WebEnv } from '../env.ts';
import { type HotDeps, hotAccounts, hotAudit, hotJobs, hotRiskKills } from '../hot-reads.ts';
import { requireRole } from '../middleware/require-role.ts';
import { routeMetricsOf } from '../middleware/route-metrics.ts';
import { AuditPage } from '../pages/audit.tsx';
import { ConfigPage } from '../pages/config.tsx';
import { DashboardPage } from '../pages/dashboard.tsx';
import { DataPage } from '../pages/data.tsx';
import { ExplorerPage } from '../pages/explorer.tsx';
import { JobDetailPage } from '../pages/job-detail.tsx';
import { type JobsFilters, JobsPage } from '../pages/jobs.tsx';
import { type ChromeContext, SECTIONS, type SectionId } from '../pages/layout.tsx';
import { LoginPage } from '../pages/login.tsx';
import { MarketPage } from '../pages/market.tsx';
import { PlaceholderPage, type PlannedWorkspace } from '../pages/placeholder.tsx';
import { SystemPage } from '../pages/system.tsx';
import { TradingPage } from '../pages/trading.tsx';
import { authMeta, principalOf } from '../request-info.ts';
import { safeNextPath } from '../security/request-origin.ts';
import type { StaticAssets } from '../static-assets.ts';
import { auditService, loadAuditPage } from './api-audit.ts';
import { loadConfigPage } from './api-config.ts';
import { DataChainOffError, dataViewDeps, loadOverview } from './api-data.ts';
import { loadExplorerPage } from './api-explorer.ts';
import { jobIdParam } from './api-jobs.ts';
import { loadLocksPanel } from './api-locks.ts';
import { MarketFeedOffError, marketJson } from './api-market.ts';
import { loadDashboard, loadSlo } from './dashboard-model.ts';
import { loadTradingPage } from './trading-model.ts';

const PER_PAGE = { default: 50, min: 20, max: 200 } as const;

/** A rendered hono/jsx element: a string, or a promise of one when a component is async. */
type Rendered = { toString(): string | Promise<string> };

export function pageRoutes(deps: HotDeps, assets: StaticAssets): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const jobs = hotJobs(deps);
  const riskKills = hotRiskKills(deps);
  const hops = deps.config.auth.trustedProxyHops;

  const hrefs = async () => ({ css: await assets.href('app.css'), js: await assets.href('app.js') });

  /** Render with a `Server-Timing: render;dur=<ms>` header (pages' p95 render goal, control-chain §12). */
  const render = async (c: Context<WebEnv>, element: unknown, started: number) => {
    const html = await (element as Rendered).toString();
    c.header('Server-Timing', `render;dur=${(performance.now() - started).toFixed(1)}`);
    return c.html(html);
  };

  const chrome = async (c: Context<WebEnv>, section: SectionId): Promise<ChromeContext> => {
    const p = principalOf(c);
    const [statusRead, killsRead] = await Promise.allSettled([deps.status.snapshot(), riskKills.active()]);
    let status: StatusSnapshot | null = null;
    if (statusRead.status === 'fulfilled') status = statusRead.value;
    else {
      // Shown on the page as "status unavailable"; the page itself still renders.
      c.get('log').error({ err: describeError(statusRead.reason) }, 'status.snapshot_failed');
    }
    if (killsRead.status === 'rejected') {
      // Shown as "risk-kill state unknown"; never as "no kill".
      c.get('log').error({ err: describeError(killsRead.reason) }, 'risk_kill.badge_read_failed');
    }
    return {
      variety: c.req.param('var') as Variety,
      section,
      user: { username: p.username, role: p.role },
      status,
      riskKills: killsRead.status === 'fulfilled' ? killsRead.value : 'unavailable',
      assets: await hrefs(),
      csrfToken: p.session?.csrfToken ?? null,
    };
  };

  app.get('/', (c) => c.redirect('/v/cu/dashboard', 303));
  for (const s of SECTIONS) app.get(`/${s.id}`, (c) => c.redirect(`/v/cu/${s.id}`, 303));

  app.get('/login', async (c) => {
    const next = safeNextPath(c.req.query('next'));
    if (c.get('principal')) return c.redirect(next ?? '/v/cu/dashboard', 303);
    return render(c, <LoginPage assets={await hrefs()} next={next} />, performance.now());
  });

  app.use('/v/:var/*', async (c, next) => {
    const v = c.req.param('var') ?? '';
    if (!VarietySchema.safeParse(v).success) throw new NotFoundError('variety', v.slice(0, 16));
    if (!c.get('principal')) {
      const search = new URL(c.req.url).search;
      return c.redirect(`/login?next=${encodeURIComponent(`${c.req.path}${search}`)}`, 303);
    }
    await next();
  });

  app.get('/v/:var/dashboard', async (c) => {
    const started = performance.now();
    const variety = c.req.param('var') as Variety;
    const [ctx, model] = await Promise.all([chrome(c, 'dashboard'), loadDashboard(c, deps, variety)]);
    return render(
      c,
      <DashboardPage
        ctx={ctx}
        model={model}
        canOperate={roleAtLeast(ctx.user.role, 'operator')}
        market={deps.market ? marketJson(deps.market.snapshot(variety)) : null}
      />,
      started,
    );
  });

  app.get('/v/:var/market', async (c) => {
    const started = performance.now();
    const variety = c.req.param('var') as Variety;
    const ctx = await chrome(c, 'market');
    const market = deps.market ? marketJson(deps.market.snapshot(variety)) : null;
    return render(c, <MarketPage ctx={ctx} market={market} offMessage={new MarketFeedOffError().message} />, started);
  });

  app.get('/v/:var/data', async (c) => {
    const started = performance.now();
    const variety = c.req.param('var') as Variety;
    const data = dataViewDeps(deps);
    const [ctx, overview] = await Promise.all([
      chrome(c, 'data'),
      data ? loadOverview(c, data, variety) : Promise.resolve(null),
    ]);
    return render(
      c,
      <DataPage
        ctx={ctx}
        overview={overview}
        offMessage={new DataChainOffError().message}
        canOperate={roleAtLeast(ctx.user.role, 'operator')}
      />,
      started,
    );
  });

  app.get('/v/:var/jobs', async (c) => {
    const started = performance.now();
    const q = c.req.query();
    const variety = c.req.param('var') as Variety;
    const perPage = Number.parseInt(q.per_page ?? '', 10);
    const filters: JobsFilters = {
      status: JOB_STATUSES.includes(q.status as JobStatus) ? (q.status as string) : '',
      kind: (q.kind ?? '').trim().slice(0, 100),
      q: (q.q ?? '').trim().slice(0, 100),
      scope: q.scope === 'var' ? 'var' : 'all',
      perPage: Number.isFinite(perPage) ? Math.min(PER_PAGE.max, Math.max(PER_PAGE.min, perPage)) : PER_PAGE.default,
    };
    const listQuery: Record<string, string> = { limit: String(filters.perPage) };
    if (filters.status) listQuery.status = filters.status;
    if (filters.kind) listQuery.kind = filters.kind;
    if (filters.q) listQuery.q = filters.q;
    if (filters.scope === 'var') listQuery.var = variety;
    if (q.cursor) listQuery.cursor = q.cursor;
    const [ctx, list, timeline, terminal] = await Promise.all([
      chrome(c, 'jobs'),
      jobs.list(listQuery),
      jobs.timeline(filters.scope === 'var' ? { var: variety } : {}),
      // KPIs per status: `list.counts` has queued and running; the terminal ones are the same status-index counts.
      jobs.terminalCounts(),
    ]);
    const params = new URLSearchParams({
      ...(filters.status ? { status: filters.status } : {}),
      ...(filters.kind ? { kind: filters.kind } : {}),
      ...(filters.q ? { q: filters.q } : {}),
      scope: filters.scope,
      per_page: String(filters.perPage),
    });
    const base = `/v/${variety}/jobs?${params.toString()}`;
    return render(
      c,
      <JobsPage
        ctx={ctx}
        list={list}
        counts={{ ...list.counts, ...terminal }}
        timeline={timeline}
        nowMs={deps.clock.nowMs()}
        filters={filters}
        canOperate={roleAtLeast(ctx.user.role, 'operator')}
        submitKinds={
          roleAtLeast(ctx.user.role, 'operator') ? jobFormKinds(deps.jobs.kinds(), { presets: { var: variety } }) : []
        }
        nextHref={list.next_cursor ? `${base}&cursor=${encodeURIComponent(list.next_cursor)}` : null}
        firstHref={q.cursor ? base : null}
      />,
      started,
    );
  });

  app.get('/v/:var/jobs/:id', async (c) => {
    const started = performance.now();
    const id = jobIdParam(c);
    const [ctx, job, progress, log] = await Promise.all([
      chrome(c, 'jobs'),
      jobs.get(id),
      jobs.progress(id),
      // No log store here (503) or no such attempt: the panel says so and the client reads the tail itself.
      jobs.logTail(id).catch((err: unknown) => {
        if (err instanceof ControlError) return null;
        throw err;
      }),
    ]);
    return render(
      c,
      <JobDetailPage
        ctx={ctx}
        job={job}
        progress={progress}
        log={log}
        canOperate={roleAtLeast(ctx.user.role, 'operator')}
      />,
      started,
    );
  });

  app.get('/v/:var/system', async (c) => {
    const started = performance.now();
    const caller = callerOf(principalOf(c), authMeta(c, hops));
    const isAdmin = caller.role === 'admin';
    const [ctx, slo, tokens, users, accounts, locks] = await Promise.all([
      chrome(c, 'system'),
      loadSlo(deps),
      deps.auth.listTokens(caller, { limit: '100' }),
      isAdmin ? deps.auth.listUsers(caller, { limit: '100' }) : Promise.resolve(null),
      hotAccounts(deps).panel(c.get('log')),
      loadLocksPanel(deps, c.get('log')),
    ]);
    return render(
      c,
      <SystemPage
        ctx={ctx}
        slo={slo}
        routes={routeMetricsOf(deps).snapshot()}
        tokens={tokens.items}
        users={users?.items ?? null}
        accounts={accounts}
        locks={locks}
      />,
      started,
    );
  });

  app.get('/v/:var/config', async (c) => {
    const started = performance.now();
    const variety = c.req.param('var') as Variety;
    const q = c.req.query();
    const [ctx, model] = await Promise.all([chrome(c, 'config'), loadConfigPage(deps.configService, variety, q)]);
    const base = `/v/${variety}/config${model.prefix ? `?prefix=${encodeURIComponent(model.prefix)}&` : '?'}`;
    return render(
      c,
      <ConfigPage
        ctx={ctx}
        model={model}
        isAdmin={roleAtLeast(ctx.user.role, 'admin')}
        nextHref={
          model.history.next_cursor
            ? `${base}cursor=${encodeURIComponent(model.history.next_cursor)}#config-history-h`
            : null
        }
        firstHref={q.cursor ? `${base.slice(0, -1)}#config-history-h` : null}
      />,
      started,
    );
  });

  const audit = hotAudit(deps, auditService(deps));
  app.get('/v/:var/audit', requireRole(deps, 'operator'), async (c) => {
    const started = performance.now();
    const variety = c.req.param('var') as Variety;
    const [ctx, model] = await Promise.all([chrome(c, 'audit'), loadAuditPage(audit, variety, c.req.query())]);
    return render(c, <AuditPage ctx={ctx} model={model} />, started);
  });

  app.get('/v/:var/explorer', async (c) => {
    const started = performance.now();
    const [ctx, model] = await Promise.all([chrome(c, 'explorer'), loadExplorerPage(deps)]);
    return render(
      c,
      <ExplorerPage
        ctx={ctx}
        model={model}
        canQuery={roleAtLeast(ctx.user.role, 'operator')}
        offMessage={new DataChainOffError().message}
      />,
      started,
    );
  });

  app.get('/v/:var/trading', async (c) => {
    const started = performance.now();
    const [ctx, model] = await Promise.all([chrome(c, 'trading'), loadTradingPage(deps, c.req.query())]);
    return render(
      c,
      <TradingPage ctx={ctx} model={model} canOperate={roleAtLeast(ctx.user.role, 'operator')} />,
      started,
    );
  });

  for (const workspace of ['models'] as const satisfies PlannedWorkspace[]) {
    app.get(`/v/:var/${workspace}`, async (c) => {
      const started = performance.now();
      const ctx = await chrome(c, workspace);
      return render(c, <PlaceholderPage ctx={ctx} workspace={workspace} />, started);
    });
  }

  return app;
}
