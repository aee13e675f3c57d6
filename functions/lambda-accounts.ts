/**
 * `account.verify` inside the jobs Lambda (the cloud twin of the registration in `colo/local-stack.ts`): the same
 * handler (`shared/services/account-verify.ts`) over the container's runtime — credentials from the Secrets Manager
 * store (`GetSecretValue` on `ghtrader/<stage>/accounts/*`), then the environment — and a DIFF connection to Shinny
 * configured from the environment plus the DIFF credentials secret (`GHTRADER_DIFF_SECRET_ID`, as the data chain
 * reads it). The DIFF configuration is read on the first verification of a container; a failed read is retried by
 * the next one and fails only that job (`diff_not_configured`).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { type DiffConfig, loadDiffConfig } from '#shared/infra/diff/config.ts';
import { runtimeAccountJobHandlers } from '#shared/services/account-verify.ts';
import type { JobHandlers } from '#shared/services/job-handlers.ts';
import type { Runtime } from '#shared/services/runtime.ts';
import { diffEnvFromSecret } from './lambda-data.ts';

/** The account job handlers of a Lambda container. */
export function lambdaAccountHandlers(rt: Runtime, env: Record<string, string | undefined>): JobHandlers {
  let diff: Promise<DiffConfig> | undefined;
  const diffConfig = (): Promise<DiffConfig> => {
    diff ??= loadLambdaDiffConfig(rt, env).catch((err: unknown) => {
      diff = undefined;
      throw err;
    });
    return diff;
  };
  return runtimeAccountJobHandlers(rt, { diffConfig, calendar: shippedCalendar() });
}

/** `loadDiffConfig` over the environment plus the DIFF credentials secret when the deployment names one. */
async function loadLambdaDiffConfig(rt: Runtime, env: Record<string, string | undefined>): Promise<DiffConfig> {
  const secretId = env.GHTRADER_DIFF_SECRET_ID?.trim();
  if (!secretId) return loadDiffConfig(env);
  const sm = new SecretsManagerClient({ region: rt.config.aws.region, maxAttempts: 3 });
  try {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
    return loadDiffConfig({ ...env, ...diffEnvFromSecret(secretId, out.SecretString) });
  } finally {
    sm.destroy();
  }
}
