/**
 * Synthesizes the CDK app in-process exactly as `npx cdk synth` does: the context of cdk.json (feature flags
 * included) plus the test's own, into a fresh temporary cloud assembly directory.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildGhtraderApp, type GhtraderApp, REPO_ROOT } from '#cdk/build-app.ts';

/** Context that skips esbuild bundling for every stack (assets get a placeholder); for tests of templates only. */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as const;

function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

export interface SynthesizedApp extends GhtraderApp {
  assembly: CloudAssembly;
  outdir: string;
}

/** Build the whole app without synthesizing it. */
export function buildApp(context: Record<string, unknown> = {}): GhtraderApp & { outdir: string } {
  const outdir = mkdtempSync(path.join(tmpdir(), 'ghtrader-cdk-'));
  return {
    ...buildGhtraderApp({ context: { ...cdkJsonContext(), ...context }, outdir }),
    outdir,
  };
}

/** Build and synthesize the whole app; throws what `cdk synth` would report (cdk-nag findings included). */
export function synthApp(context: Record<string, unknown> = {}): SynthesizedApp {
  const built = buildApp(context);
  return { ...built, assembly: built.app.synth() };
}

/** Delete the temporary cloud assemblies of built apps (bundles included). */
export function removeOutputs(...apps: ({ outdir: string } | undefined)[]): void {
  for (const app of apps) if (app) rmSync(app.outdir, { recursive: true, force: true });
}
