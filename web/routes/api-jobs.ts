/** `/api/jobs`: submit and cancel [operator]; list, kinds, record and progress [viewer]. */
import { type Context, Hono } from 'hono';
import { NotFoundError } from '#shared/errors/control.ts';
import type { WebEnv } from '../env.ts';
import { type HotDeps, hotJobs } from '../hot-reads.ts';
import { requireRole } from '../middleware/require-role.ts';
import { readJson } from '../request-body.ts';
import { jobRequestContext } from '../request-info.ts';

const JOB_ID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Job ids are ULIDs; anything else cannot exist and never reaches the store. */
export function jobIdParam(c: Context<WebEnv>): string {
  const id = c.req.param('id') ?? '';
  if (!JOB_ID_RE.test(id)) throw new NotFoundError('job', id.slice(0, 64));
  return id;
}

export function jobRoutes(deps: HotDeps): Hono<WebEnv> {
  const hops = deps.config.auth.trustedProxyHops;
  const app = new Hono<WebEnv>();
  const jobs = hotJobs(deps);

  app.post('/', requireRole(deps, 'operator', 'job.submit'), async (c) => {
    const r = await deps.jobs.submit(await readJson(c), jobRequestContext(c, hops));
    jobs.changed(r.job.job_id);
    return c.json(r, r.deduped ? 200 : 201);
  });

  app.get('/', requireRole(deps, 'viewer'), async (c) => c.json(await jobs.list(c.req.query())));

  // Registered before `/:id` so the literal paths win.
  app.get('/timeline', requireRole(deps, 'viewer'), async (c) => c.json(await jobs.timeline(c.req.query())));

  app.get('/kinds', requireRole(deps, 'viewer'), (c) => c.json({ items: deps.jobs.kinds() }));

  app.get('/:id', requireRole(deps, 'viewer'), async (c) => c.json(await jobs.get(jobIdParam(c))));

  app.get('/:id/progress', requireRole(deps, 'viewer'), async (c) => c.json(await jobs.progress(jobIdParam(c))));

  app.post('/:id/cancel', requireRole(deps, 'operator', 'job.cancel'), async (c) => {
    const id = jobIdParam(c);
    const job = await deps.jobs.cancel(id, await readJson(c), jobRequestContext(c, hops));
    jobs.changed(id);
    return c.json({ job }, 202);
  });

  return app;
}
