import type { MiddlewareHandler } from 'hono';
import { OriginNotAllowedError } from '#shared/errors/control.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { ORIGIN_SECRET_HEADER, originSecretOk } from '../security/origin-secret.ts';

/** Refuse (403 `origin_not_allowed`) a request that did not come through the console's CloudFront distribution. */
export function requireOriginSecret(deps: Pick<AppDeps, 'config'>): MiddlewareHandler<WebEnv> {
  const secret = deps.config.auth.originSecret;
  return async (c, next) => {
    if (!originSecretOk(secret, c.req.header(ORIGIN_SECRET_HEADER))) throw new OriginNotAllowedError();
    await next();
  };
}
