/** `GET /static/app.js`, `/static/app.css`: the built client, from `AppDeps.staticDir`. */
import { Hono } from 'hono';
import { NotFoundError } from '#shared/errors/control.ts';
import type { WebEnv } from '../env.ts';
import { StaticAssets } from '../static-assets.ts';

export function staticRoutes(assets: StaticAssets): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.get('/:name', async (c) => {
    const name = c.req.param('name');
    const asset = StaticAssets.isName(name) ? await assets.get(name) : null;
    if (!asset) throw new NotFoundError('static file', name);
    const etag = `"${asset.version}"`;
    c.header('etag', etag);
    c.header(
      'cache-control',
      c.req.query('v') === asset.version ? 'public, max-age=31536000, immutable' : 'public, no-cache',
    );
    if (c.req.header('if-none-match') === etag) return c.body(null, 304);
    c.header('content-type', asset.contentType);
    return c.body(asset.body);
  });
  return app;
}
