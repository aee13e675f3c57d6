#!/usr/bin/env node
/**
 * `npm run bench`: bundle every `tests/bench/*.bench.ts` with esbuild (dependencies external) and run each with
 * node, one after another, so each prints its JSON undisturbed by the others.
 *
 * `BENCH_CPU_PROF_DIR=<dir>` runs each bench (and the simulator processes benches spawn) under `--cpu-prof`, writing
 * `.cpuprofile` files there for Chrome DevTools or speedscope.
 */
import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const benchDir = path.join(root, 'tests', 'bench');
const only = process.argv[2];
const files = (await readdir(benchDir)).filter((f) => f.endsWith('.bench.ts') && (!only || f.includes(only))).sort();
let failed = 0;
for (const file of files) {
  const outfile = path.join(root, 'dist', 'bench', file.replace(/\.ts$/, '.mjs'));
  await esbuild.build({
    entryPoints: [path.join(benchDir, file)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
  const prof = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF_DIR] : [];
  const r = spawnSync(process.execPath, [...prof, outfile], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`bench ${file} exited ${r.status}\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
