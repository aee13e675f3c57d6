/**
 * Module-scope runtime for the Lambda handlers: built once per container from the environment, reused by every
 * invocation (adapters are created once, never per request).
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '#shared/config.ts';
import { createLogger } from '#shared/log.ts';
import { createRuntime, type Runtime } from '#shared/services/runtime.ts';

let runtime: Promise<Runtime> | undefined;

/** The container's runtime; `setup` runs once on it right after creation (e.g. to register more job handlers). */
export function lambdaRuntime(service: string, setup?: (rt: Runtime) => void): Promise<Runtime> {
  runtime ??= (async () => {
    const config = loadConfig(process.env);
    const log = createLogger({ service, level: config.logLevel });
    // Workers never issue list cursors; a per-container secret keeps the service contract without a shared key.
    const rt = await createRuntime(config, log, {
      cursorSecret: config.auth.cursorSecret ?? randomBytes(32).toString('hex'),
    });
    setup?.(rt);
    return rt;
  })();
  return runtime;
}
