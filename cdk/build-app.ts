/**
 * Builds the whole CDK app: the stage settings from context, the data-stores, jobs and console stacks, and cdk-nag's
 * AwsSolutions checks as a validation plugin (synthesis fails on any finding that is not acknowledged with a reason).
 * `app.ts` runs it for the CLI; the tests run it in-process with the same context as cdk.json.
 */
import { fileURLToPath } from 'node:url';
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConsoleStack } from './stacks/console-stack.ts';
import { DataStoresStack } from './stacks/data-stores-stack.ts';
import { JobsStack } from './stacks/jobs-stack.ts';
import { readStageSettings, type StageSettings } from './stage-settings.ts';

/** The repository root (this file is `<root>/cdk/build-app.ts`). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface GhtraderAppProps {
  /** Context values, as `-c key=value` would give them (stage settings, feature flags, bundling switches). */
  context?: Record<string, unknown>;
  /** Cloud assembly directory; the CLI's `cdk.out` when absent. */
  outdir?: string;
  /** Directory holding `functions/` and `package-lock.json`; this repository when absent. */
  repoRoot?: string;
}

export interface GhtraderApp {
  app: App;
  settings: StageSettings;
  dataStores: DataStoresStack;
  jobs: JobsStack;
  console: ConsoleStack;
}

/** Build every stack of one stage. Env-agnostic: no account or region lookups, so synthesis needs no credentials. */
export function buildGhtraderApp(props: GhtraderAppProps = {}): GhtraderApp {
  const app = new App({
    ...(props.context ? { context: props.context } : {}),
    ...(props.outdir ? { outdir: props.outdir } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  const settings = readStageSettings(app.node);
  Tags.of(app).add('project', 'ghtrader');
  Tags.of(app).add('ghtrader:stage', settings.stage);

  const dataStores = new DataStoresStack(app, `ghtrader-${settings.stage}-data-stores`, {
    description: `ghtrader ${settings.stage}: DynamoDB tables`,
    settings,
  });
  const jobs = new JobsStack(app, `ghtrader-${settings.stage}-jobs`, {
    description: `ghtrader ${settings.stage}: jobs queues, worker, DLQ handler, reconciler, alarms, artifacts bucket and DIFF secret`,
    settings,
    tables: dataStores.tables,
    repoRoot: props.repoRoot ?? REPO_ROOT,
  });
  const consoleStack = new ConsoleStack(app, `ghtrader-${settings.stage}-console`, {
    description: `ghtrader ${settings.stage}: hosted console (CloudFront, HTTP API and WebSocket API, their functions)`,
    settings,
    tables: dataStores.tables,
    queues: jobs.queues,
    artifactsBucket: jobs.artifactsBucket,
    jobLogReadPolicy: jobs.jobLogReadPolicy,
    repoRoot: props.repoRoot ?? REPO_ROOT,
  });
  return { app, settings, dataStores, jobs, console: consoleStack };
}
