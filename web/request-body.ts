import type { Context } from 'hono';
import { ValidationFailedError } from '#shared/errors/control.ts';
import type { WebEnv } from './env.ts';

/**
 * The JSON body, or undefined when the body is empty. Malformed JSON is 400 `validation_failed` (the caller then
 * validates the value with its zod schema). Size and media type were checked by the hygiene middleware.
 */
export async function readJson(c: Context<WebEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = `malformed JSON: ${(err as Error).message}`;
    throw new ValidationFailedError(`invalid request body: ${message}`, [{ path: [], code: 'invalid_json', message }]);
  }
}
