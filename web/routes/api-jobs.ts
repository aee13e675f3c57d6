/** `/api/jobs`: submit, cancel and batch cancel [operator]; list, kinds, record, progress and log [viewer]. */
import { type Context, Hono } from 'hono';
import { describeError } from '#shared/errors/base.ts';
import { NotFoundError } from '#shared/errors/control.ts';
import type { WebEnv } from '../env.ts';
import { type HotDeps, hotJobs, hotJson } from '../hot-reads.ts';
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

  app.get('/', requireRole(deps, 'viewer'), async (c) => hotJson(c, await jobs.list(c.req.query())));

  // Registered before `/:id` so the literal paths win. `?var&from&to&hours`: `hours` (24, 1..168) ending at `to`, or
  // `from`..`to`; a longer window is clamped to 168 h, never refused; the answer names the window used (`from`, `to`,
  // `hours`, `clamped`).
  app.get('/timeline', requireRole(deps, 'viewer'), async (c) => hotJson(c, await jobs.timeline(c.req.query())));

  app.get('/kinds', requireRole(deps, 'viewer'), (c) => c.json({ items: deps.jobs.kinds() }));

  // `{kinds?, statuses?, var?, reason}` -> 202 `{matched, cancel_requested, job_ids, truncated}` (≤ 500 per call).
  app.post('/cancel-batch', requireRole(deps, 'operator', 'job.cancel_batch'), async (c) => {
    const body = await readJson(c);
    try {
      const r = await deps.jobs.cancelBatch(body, jobRequestContext(c, hops));
      for (const id of r.job_ids) jobs.changed(id);
      return c.json(r, 202);
    } finally {
      // A batch that failed part-way may still have cancelled some jobs: the lists are stale either way.
      deps.hot.invalidate('jobs:all');
    }
  });

  app.get('/:id', requireRole(deps, 'viewer'), async (c) => hotJson(c, await jobs.get(jobIdParam(c))));

  app.get('/:id/progress', requireRole(deps, 'viewer'), async (c) => hotJson(c, await jobs.progress(jobIdParam(c))));

  // `?max_bytes` clamps to [1024, 1 MiB] (non-numeric 400); `?attempt` the job never had is 404.
  app.get('/:id/log', requireRole(deps, 'viewer'), async (c) =>
    c.json(await deps.jobs.logTail(jobIdParam(c), c.req.query()), 200, { 'cache-control': 'no-store' }),
  );

  app.get('/:id/log/download', requireRole(deps, 'viewer'), async (c) => {
    const id = jobIdParam(c);
    const chunks = (await deps.jobs.logDownload(id))[Symbol.asyncIterator]();
    const log = c.get('log');
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (err) {
          // Headers are out already: the client sees a cut download, and the failure is logged here.
          log.error({ job_id: id, err: describeError(err) }, 'job.log_download_failed');
          controller.error(err);
        }
      },
      async cancel() {
        await chunks.return?.();
      },
    });
    return c.body(body, 200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="job-${id}-log.ndjson"`,
      'cache-control': 'no-store',
    });
  });

  app.post('/:id/cancel', requireRole(deps, 'operator', 'job.cancel'), async (c) => {
    const id = jobIdParam(c);
    const job = await deps.jobs.cancel(id, await readJson(c), jobRequestContext(c, hops));
    jobs.changed(id);
    return c.json({ job }, 202);
  });

  return app;
}
