/**
 * The HTTP API Lambda (API Gateway HTTP API, payload v2, behind CloudFront on the console host): the same hono app as
 * `ghtrader up` (`createApp`), wrapped with `hono/aws-lambda`, its dependencies built once per container from the
 * module-scope runtime. The client ip comes from the `requestContext` binding or, behind CloudFront, from the trusted
 * `X-Forwarded-For` hop (`GHTRADER_TRUSTED_PROXY_HOPS`); the console origin from CloudFront's `X-Forwarded-Host`.
 *
 * The built client (`app.js`, `app.css`, `favicon.svg`, ~90 KB) is expected next to this handler under `static/`
 * (`/var/task/static`): served by the same `StaticAssets` code as locally (hash-versioned URLs, immutable caching, so
 * CloudFront keeps them at the edge), and never out of step with the pages that reference them. `/ws` is not served
 * here (503): the WebSocket API has its own handlers.
 * `GHTRADER_CURSOR_SECRET` is required: list cursors issued by one container must verify in every other.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { emfRecord } from '#shared/domain/control/emf.ts';
import type { Runtime } from '#shared/services/runtime.ts';
import { createApp } from '#web/app.ts';
import { appDepsFromRuntime, lambdaRunnerStatus } from '#web/deps-from-runtime.ts';
import type { WebEnv } from '#web/env.ts';
import { lambdaRuntime } from './lambda-runtime.ts';

/** `static/` beside the bundle (`/var/task/static` in Lambda). */
export const BUNDLED_STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');

export interface HttpApiOptions {
  staticDir?: string;
  /** Where the per-request EMF lines go (default: stdout, which Lambda ships to CloudWatch Logs). */
  writeMetricLine?: (line: string) => void;
}

/** The app of one runtime; throws when the runtime has no shared cursor secret. */
export function createHttpApiApp(rt: Runtime, o: HttpApiOptions = {}): Hono<WebEnv> {
  const cursorSecret = rt.config.auth.cursorSecret;
  if (!cursorSecret) {
    throw new Error(
      'GHTRADER_CURSOR_SECRET is required by the HTTP API (≥ 16 characters): list cursors must verify in every container',
    );
  }
  const write = o.writeMetricLine ?? ((line: string) => void process.stdout.write(`${line}\n`));
  return createApp({
    ...appDepsFromRuntime(rt, {
      cursorSecret,
      runner: lambdaRunnerStatus,
      ...(o.staticDir ? { staticDir: o.staticDir } : {}),
    }),
    // Fleet-wide per-route latency (control-chain §10): one CloudWatch EMF line per request.
    onRequestMetric: (route, latencyMs, status) =>
      write(JSON.stringify(emfRecord({ route, latencyMs, status, timestampMs: Date.now(), service: 'http-api' }))),
  });
}

export type HttpApiHandler = ReturnType<typeof handle<WebEnv>>;

/** The Lambda handler over a given runtime (tests); `handler` below uses the container's. */
export function createHttpApiHandler(rt: Runtime, o: HttpApiOptions = {}): HttpApiHandler {
  return handle(createHttpApiApp(rt, o));
}

let containerHandler: HttpApiHandler | undefined;

export const handler = async (event: LambdaEvent, context: LambdaContext) => {
  // Per invocation: the container's runtime, with its config head re-read when older than 5 s.
  const rt = await lambdaRuntime('http-api');
  containerHandler ??= createHttpApiHandler(rt, { staticDir: BUNDLED_STATIC_DIR });
  return containerHandler(event, context);
};
