import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebTestStack } from './support.ts';

let dir: string;
let web: WebTestStack;

beforeAll(async () => {
  // Build the client as build.mjs does: browser, iife, minified.
  dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-static-'));
  await build({
    entryPoints: ['web/client/app.ts'],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    minify: true,
    target: 'es2022',
    outfile: path.join(dir, 'app.js'),
    logLevel: 'silent',
  });
  await writeFile(path.join(dir, 'app.css'), 'body{}');
  web = await WebTestStack.create({ staticDir: dir });
});

afterAll(async () => {
  await web?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('static client', () => {
  it('bundles the client for the browser under the 50 KiB gzipped budget', async () => {
    // Act
    const size = (await stat(path.join(dir, 'app.js'))).size;
    const { readFile } = await import('node:fs/promises');
    const gz = gzipSync(await readFile(path.join(dir, 'app.js'))).length;

    // Assess
    expect(size).toBeGreaterThan(1000);
    expect(gz).toBeLessThan(50 * 1024);
  });

  it('serves app.js and app.css, cacheable forever under the versioned URL the pages use', async () => {
    // Prepare
    const s = await web.login(await web.createUser('viewer'));
    const html = await (await web.request('/v/cu/jobs', { headers: { cookie: s.cookie } })).text();
    const js = /<script src="(\/static\/app\.js\?v=[0-9a-f]{12})" defer=""><\/script>/.exec(html)?.[1];
    const css = /href="(\/static\/app\.css\?v=[0-9a-f]{12})"/.exec(html)?.[1];

    // Act
    const jsRes = await web.request(js ?? '/missing');
    const cssRes = await web.request(css ?? '/missing');
    const bare = await web.request('/static/app.js');

    // Assess
    expect(jsRes.status).toBe(200);
    expect(jsRes.headers.get('content-type')).toContain('text/javascript');
    expect(jsRes.headers.get('cache-control')).toContain('immutable');
    expect(cssRes.headers.get('content-type')).toContain('text/css');
    expect(bare.headers.get('cache-control')).toBe('public, no-cache');
  });

  it('answers 404 for any other static name, and for every asset when no static dir is configured', async () => {
    // Prepare
    const bare = await WebTestStack.create();

    try {
      // Act
      const other = await web.request('/static/../../etc/passwd');
      const unknown = await web.request('/static/other.js');
      const absent = await bare.request('/static/app.js');

      // Assess
      expect(other.status).toBe(404);
      expect(unknown.status).toBe(404);
      expect(absent.status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
