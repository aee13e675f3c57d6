#!/usr/bin/env node
/**
 * esbuild bundles for every Lambda handler, every colo entrypoint (the `ghtrader` CLI), and the browser client.
 * `--if-stale` skips the build when no source file is newer than the last build (used by `npm start`).
 *
 * Lambda bundles use the same options as the CDK `NodejsFunction`s (ESM, node22, minified, AWS SDK bundled), so
 * the sizes `npm run bench` reports are the sizes that deploy.
 */
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, 'dist');
const stampFile = path.join(dist, '.build-stamp');
const SOURCE_DIRS = ['shared', 'functions', 'colo', 'web'];

/** Lambda handlers: every file in functions/ that exports `handler` (the runner and helpers are not deployed). */
export const LAMBDA_ENTRIES = ['jobs-worker', 'jobs-dlq', 'jobs-reconciler'];
const COLO_ENTRIES = ['cli'];

async function newestMtime(dir) {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const s = await stat(path.join(entry.parentPath ?? entry.path, entry.name));
    newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

async function isStale() {
  try {
    const stamp = (await stat(stampFile)).mtimeMs;
    const inputs = await Promise.all(
      [...SOURCE_DIRS.map((d) => path.join(root, d)), path.join(root, 'package-lock.json')].map(async (p) =>
        (await stat(p)).isDirectory() ? newestMtime(p) : (await stat(p)).mtimeMs,
      ),
    );
    return Math.max(...inputs) > stamp;
  } catch {
    // No stamp yet (first build) or a source folder is missing: build.
    return true;
  }
}

const lambdaOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: true,
  sourcemap: false,
  mainFields: ['module', 'main'],
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  logLevel: 'warning',
  metafile: true,
};

export async function build() {
  await mkdir(dist, { recursive: true });
  const results = await Promise.all([
    ...LAMBDA_ENTRIES.map((name) =>
      esbuild.build({
        ...lambdaOptions,
        entryPoints: [path.join(root, 'functions', `${name}.ts`)],
        outfile: path.join(dist, 'functions', name, 'index.mjs'),
      }),
    ),
    ...COLO_ENTRIES.map((name) =>
      esbuild.build({
        entryPoints: [path.join(root, 'colo', `${name}.ts`)],
        outfile: path.join(dist, 'colo', `${name}.js`),
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'esm',
        // Processes run from the checkout: dependencies (native ones included) resolve from node_modules.
        packages: 'external',
        sourcemap: 'linked',
        banner: { js: '#!/usr/bin/env node' },
        logLevel: 'warning',
      }),
    ),
    esbuild.build({
      entryPoints: [path.join(root, 'web', 'client', 'app.ts')],
      outfile: path.join(dist, 'web', 'static', 'app.js'),
      bundle: true,
      platform: 'browser',
      target: 'es2022',
      format: 'iife',
      minify: true,
      sourcemap: false,
      logLevel: 'warning',
    }),
  ]);
  // One stylesheet: uPlot's (the chart's legend and cursor; CSP style-src 'self' allows a same-origin sheet) first,
  // then the console's, so ours wins on equal specificity.
  const css = await Promise.all([
    readFile(path.join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), 'utf8'),
    readFile(path.join(root, 'web', 'static', 'app.css'), 'utf8'),
  ]);
  await writeFile(path.join(dist, 'web', 'static', 'app.css'), `${css.join('\n')}\n`);
  // The tab icon (without one every page load logs a 404 for /favicon.ico).
  await copyFile(path.join(root, 'web', 'static', 'favicon.svg'), path.join(dist, 'web', 'static', 'favicon.svg'));
  await writeFile(stampFile, new Date().toISOString());
  return results;
}

const ifStale = process.argv.includes('--if-stale');
if (ifStale && !(await isStale())) {
  process.stdout.write('build: up to date\n');
} else {
  const t0 = performance.now();
  await build();
  process.stdout.write(`build: done in ${Math.round(performance.now() - t0)} ms -> dist/\n`);
}
