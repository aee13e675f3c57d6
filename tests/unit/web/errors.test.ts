/** The web error handler: store outages are 503 `dependency_unavailable`, other unknown errors stay 500 bugs. */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { WebEnv } from '#web/env.ts';
import { handleError, storeOutage } from '#web/errors.ts';

function appThrowing(err: unknown) {
  const app = new Hono<WebEnv>();
  app.get('/api/x', () => {
    throw err;
  });
  app.onError(handleError);
  return app;
}

describe('handleError', () => {
  it('answers an AWS SDK timeout, throttling, a 5xx or a refused connection with 503', async () => {
    const timeout = Object.assign(new Error('request timed out'), { name: 'TimeoutError' });
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: {} });
    const fiveHundred = Object.assign(new Error('boom'), { name: 'X', $metadata: { httpStatusCode: 502 } });
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    for (const err of [timeout, throttled, fiveHundred, refused]) {
      const res = await appThrowing(err).request('/api/x');
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('dependency_unavailable');
    }
  });

  it('keeps other unknown errors as 500 internal (a bug), and a 4xx SDK error is not an outage', async () => {
    expect((await appThrowing(new TypeError('x is undefined')).request('/api/x')).status).toBe(500);
    const validation = Object.assign(new Error('bad key'), {
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(storeOutage(validation)).toBeNull();
    expect(storeOutage('text')).toBeNull();
  });
});
