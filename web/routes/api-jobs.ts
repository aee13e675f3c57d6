/** `/api/jobs`: submit and cancel [operator]; list, kinds, record and progress [viewer]. */
import { type Context, Hono } from 'hono';
import { NotFoundError } from '#shared/errors/control.ts';
import type { AppDeps, WebEnv } from '../env.ts';
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

export function jobRoutes(deps: AppDeps): Hono<WebEnv> {
  const hops = deps.config.auth.trustedProxyHops;
  const app = new Hono<WebEnv>();

  app.post('/', requireRole(deps, 'operator', 'job.submit'), async (c) => {
    const r = await deps.jobs.submit(await readJson(c), jobRequestContext(c, hops));
    return c.json(r, r.deduped ? 200 : 201);
  });

  app.get('/', requireRole(deps, 'viewer'), async (c) => c.json(await deps.jobs.list(c.req.query())));

  // Registered before `/:id` so the literal path wins.
  app.get('/kinds', requireRole(deps, 'viewer'), (c) => c.json({ items: deps.jobs.kinds() }));

  app.get('/:id', requireRole(deps, 'viewer'), async (c) => c.json(await deps.jobs.get(jobIdParam(c))));

  app.get('/:id/progress', requireRole(deps, 'viewer'), async (c) => c.json(await deps.jobs.progress(jobIdParam(c))));

  app.post('/:id/cancel', requireRole(deps, 'operator', 'job.cancel'), async (c) => {
    const job = await deps.jobs.cancel(jobIdParam(c), await readJson(c), jobRequestContext(c, hops));
    return c.json({ job }, 202);
  });

  return app;
}
