/**
 * Module-scope runtime for the Lambda handlers: built once per container from the environment, reused by every
 * invocation (adapters are created once, never per request).
 */
import { randomBytes } from 'node:crypto';
import { type AppConfig, loadConfig } from '#shared/config.ts';
import type { SecretStore } from '#shared/domain/control/secret-store.ts';
import type { ArtifactStore } from '#shared/domain/data/artifacts.ts';
import { S3ArtifactStore, s3ClientFor } from '#shared/infra/artifacts/s3.ts';
import { secretsManagerClientFor } from '#shared/infra/aws/clients.ts';
import { SecretsManagerSecretStore } from '#shared/infra/aws/secret-store.ts';
import { createLogger } from '#shared/log.ts';
import { followLogLevel } from '#shared/services/live-config.ts';
import { createRuntime, type Runtime } from '#shared/services/runtime.ts';

let runtime: Promise<Runtime> | undefined;

/**
 * The container's runtime; `setup` runs once on it right after creation (e.g. to register more job handlers). Call it
 * per invocation: the container re-reads the config head at most every 5 s (control-chain §5.4), so each invocation
 * starts with live keys at most that old, and the log level follows `GHTRADER_LOG_LEVEL` in the revision.
 */
export async function lambdaRuntime(service: string, setup?: (rt: Runtime) => void): Promise<Runtime> {
  runtime ??= (async () => {
    const config = loadConfig(process.env);
    const log = createLogger({ service, level: config.logLevel });
    // Workers never issue list cursors; a per-container secret keeps the service contract without a shared key.
    const rt = await createRuntime(config, log, {
      cursorSecret: config.auth.cursorSecret ?? randomBytes(32).toString('hex'),
      artifacts: lambdaArtifacts(config),
      secrets: lambdaSecretStore(config),
    });
    followLogLevel(rt.live, log, config.logLevel);
    setup?.(rt);
    return rt;
  })();
  const rt = await runtime;
  await rt.live.fresh();
  return rt;
}

/**
 * The artifact store of a Lambda container (job logs, control-chain §4.6): the deployment's S3 bucket
 * (`GHTRADER_ARTIFACTS_BUCKET`, as the data chain reads it), or null without one (the task's file system is read-only
 * and per container: job logs then reach only CloudWatch, and the log API answers 503).
 */
export function lambdaArtifacts(config: AppConfig): ArtifactStore | null {
  const bucket = config.env.GHTRADER_ARTIFACTS_BUCKET?.trim();
  if (!bucket) return null;
  return new S3ArtifactStore({ client: s3ClientFor({ region: config.aws.region }), bucket });
}

/**
 * The broker-account secret store of a Lambda container: Secrets Manager under `GHTRADER_ACCOUNT_SECRET_PREFIX`
 * (`ghtrader/<stage>/accounts/`, set by CDK), or null without it: never files, since the task's file system is
 * read-only and per container. Without a store the accounts API answers 503 and verifications read only the
 * environment.
 */
export function lambdaSecretStore(config: AppConfig): SecretStore | null {
  if (!config.accountSecretPrefix) return null;
  return new SecretsManagerSecretStore(secretsManagerClientFor(config), config.accountSecretPrefix);
}
