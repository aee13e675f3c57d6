/**
 * The data endpoints [viewer] (control-chain §3.2), thin over `data-view.ts` and `data-api.ts`:
 * - `GET /api/data/{var}/overview`: the Data page's read model (`dataOverview`): schedule with segments and rolls,
 *   coverage per trading day, the last validation, the last main_l5 build and the last schedule run;
 * - `GET /api/data/coverage?var&from&to`, `/schedule?var`, `/validation/summary?var&days` (30, 1..3650),
 *   `/validation/gaps?var&limit`,
 *   `/reports?var&limit`: the same sections for quants and CI (absent -> 200 `status: none`, unreadable -> 200
 *   `status: error`);
 * - `GET /api/data/ticks?symbol&from_ns&to_ns&max_points`: chart points of ≤ 7 days, evenly downsampled.
 * `var` other than cu, au, ag and any other bad parameter -> 400 `validation_failed`; a process without the data
 * chain -> 503 `dependency_unavailable`. Every answer but the ticks carries the §1 status payload (`state`, `text`,
 * `error` code, `updated_at`, `stale`; an unreadable section's `{code, message}` is `error_detail`), and readiness the
 * quality contract too (`status-contract.ts`).
 */
import { type Context, Hono } from 'hono';
import { parseOrThrow } from '#shared/domain/control/validation.ts';
import { type Variety, VarietySchema } from '#shared/domain/control/varieties.ts';
import { isoUtc } from '#shared/domain/time.ts';
import { ControlError } from '#shared/errors/control.ts';
import {
  chartTicks,
  coverageDays,
  dataReadiness,
  latestReports,
  scheduleDetail,
  validationGaps,
  validationSummary,
} from '#shared/services/data/data-api.ts';
import { type DataOverview, type DataViewDeps, dataOverview } from '#shared/services/data/data-view.ts';
import { withReadinessStatus, withSectionStatus, withSectionsStatus } from '#shared/services/data/status-contract.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { requireRole } from '../middleware/require-role.ts';

/** This process serves the console without the data chain (no tick store / artifact store wired in). */
export class DataChainOffError extends ControlError {
  constructor() {
    super(
      'dependency_unavailable',
      503,
      'the data chain is not running in this process: the console was started without a tick store and artifact store; start it with ghtrader up',
      { details: { dependency: 'data_chain' } },
    );
  }
}

/** The data chain's read deps (with the lease locks, for the build section), or null when it is off here. */
export function dataViewDeps(deps: Pick<AppDeps, 'data' | 'locks'>): DataViewDeps | null {
  if (!deps.data) return null;
  return deps.locks ? { ...deps.data, locks: deps.locks } : deps.data;
}

export function requireData(deps: AppDeps): DataViewDeps {
  const data = dataViewDeps(deps);
  if (!data) throw new DataChainOffError();
  return data;
}

/**
 * The overview, with every section that could not be read logged (the page and the JSON show it; the log keeps the
 * reason for the operator).
 */
export async function loadOverview(c: Context<WebEnv>, data: DataViewDeps, variety: Variety): Promise<DataOverview> {
  const overview = await dataOverview(data, variety);
  for (const [name, s] of Object.entries(overview)) {
    if (typeof s === 'object' && s !== null && 'status' in s && s.status === 'error') {
      c.get('log').warn({ section: name, variety, error: s.error }, 'data.overview_section_failed');
    }
  }
  return overview;
}

/** Log an answer's unreadable section (the JSON names it; the log keeps it for the operator); returns the answer. */
function logged<T extends { var: string; status?: string; error?: unknown }>(c: Context<WebEnv>, body: T): T {
  if (body.status === 'error')
    c.get('log').warn({ path: c.req.path, variety: body.var, error: body.error }, 'data.section_failed');
  return body;
}

export function dataRoutes(deps: AppDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const viewer = requireRole(deps, 'viewer');
  // The §1 status payload on every status-like answer (`status-contract.ts`): read from the stores per request.
  const now = () => isoUtc(deps.clock.nowMs());
  app.get('/coverage', viewer, async (c) => {
    const body = logged(c, await coverageDays(requireData(deps), c.req.query()));
    return c.json(withSectionStatus(body, (b) => `${b.days.length} days of ${b.symbol}, ${b.from}..${b.to}`, now()));
  });
  app.get('/schedule', viewer, async (c) => {
    const body = logged(c, await scheduleDetail(requireData(deps), c.req.query()));
    return c.json(
      withSectionStatus(
        body,
        (b) =>
          b.status === 'ok'
            ? `${b.symbol} schedule ${b.data.start}..${b.data.end}: ${b.data.segments.length} segments, ${b.data.rolls.length} rolls`
            : '',
        now(),
      ),
    );
  });
  app.get('/validation/summary', viewer, async (c) => {
    const body = logged(c, await validationSummary(requireData(deps), c.req.query()));
    return c.json(
      withSectionStatus(
        body,
        (b) =>
          b.status === 'ok'
            ? `last validation of ${b.symbol}: ${b.data.overall_state}; ${b.data.recent.validated_days} validated days (${b.data.recent.gap_days} with gaps, ${b.data.recent.missing_days} missing) in the newest ${b.days}`
            : '',
        now(),
      ),
    );
  });
  app.get('/validation/gaps', viewer, async (c) => {
    const body = logged(c, await validationGaps(requireData(deps), c.req.query()));
    return c.json(
      withSectionStatus(
        body,
        (b) => (b.status === 'ok' ? `${b.data.items.length} of ${b.data.issues_total} issue days of ${b.symbol}` : ''),
        now(),
      ),
    );
  });
  app.get('/reports', viewer, async (c) => {
    const body = await latestReports(requireData(deps), c.req.query());
    for (const [step, s] of Object.entries(body.steps)) {
      if (s.status === 'error') logged(c, { var: body.var, status: 'error', error: { step, ...s.error } });
    }
    return c.json(withSectionsStatus(body, body.steps, `reports of ${body.symbol} by step`, now()));
  });
  app.get('/ticks', viewer, async (c) => c.json(await chartTicks(requireData(deps), c.req.query())));
  app.get('/quality/readiness', viewer, async (c) => {
    const r = await dataReadiness(requireData(deps), c.req.query());
    for (const [name, s] of [
      ['validation', r.validation],
      ['field_quality', r.field_quality],
    ] as const) {
      if (s.status === 'error') logged(c, { var: r.var, status: 'error', error: { section: name, ...s.error } });
    }
    return c.json(withReadinessStatus(r, now()));
  });
  app.get('/:var/overview', requireRole(deps, 'viewer'), async (c) => {
    const variety = parseOrThrow(VarietySchema, c.req.param('var'), 'variety');
    return c.json(await loadOverview(c, requireData(deps), variety));
  });
  return app;
}
