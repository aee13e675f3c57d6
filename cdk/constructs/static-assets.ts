/**
 * The HTTP API function's static assets: a `GhtraderFunction` `afterBundling` hook that copies the built browser
 * client into the bundle as `static/` (`/var/task/static` in Lambda, where `functions/http-api.ts` looks for it).
 *
 * The client is built by the repository's own `node build.mjs --if-stale` (a no-op when nothing changed since the last
 * build), so the pages and the assets they reference ship in one asset and can never be out of step. Everything runs
 * locally: synthesis stays offline.
 */
import path from 'node:path';

/** Where `build.mjs` writes the browser client, relative to the repository root. */
export const BUILT_STATIC_DIR = 'dist/web/static';

/** The folder of the bundle that receives the client (`/var/task/static`). */
export const BUNDLE_STATIC_DIR = 'static';

/** Single-quote a path for bash. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The shell commands of the after-bundling hook: build the client when stale, copy it into the bundle, and fail the
 * synthesis when the copy is empty (a bundle without its client would answer 404 for every script and stylesheet).
 */
export function staticAssetCommands(inputDir: string, outputDir: string): string[] {
  const source = shellQuote(path.posix.join(inputDir, BUILT_STATIC_DIR));
  const target = shellQuote(path.posix.join(outputDir, BUNDLE_STATIC_DIR));
  // Each command runs on its own (no shared working directory), so every path is absolute.
  return [
    `node ${shellQuote(path.posix.join(inputDir, 'build.mjs'))} --if-stale`,
    `rm -rf ${target}`,
    `cp -R ${source} ${target}`,
    `test -n "$(ls -A ${target})"`,
  ];
}
