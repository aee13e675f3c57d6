import type { MiddlewareHandler } from 'hono';
import type { WebEnv } from '../env.ts';
import { TokenInQueryError } from '../errors.ts';

/** Query keys that would carry a credential into logs, history and Referer headers. */
const CREDENTIAL_KEYS = new Set(['token', 'access_token', 'session']);

/** Reject credentials in the query string (400 `token_in_query`) before anything reads or logs the request. */
export function rejectTokensInQuery(): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const url = c.req.url;
    if (url.includes('?')) {
      const keys = [...new URL(url).searchParams.keys()]
        .map((k) => k.toLowerCase())
        .filter((k) => CREDENTIAL_KEYS.has(k));
      if (keys.length > 0) throw new TokenInQueryError([...new Set(keys)]);
    }
    await next();
  };
}
