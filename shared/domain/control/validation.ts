import type { z } from 'zod';
import { ValidationFailedError, type ValidationIssue } from '../../errors/control.ts';

/** zod issues as the API's `{path, code, message}` triples. */
export function zodIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    code: i.code,
    message: i.message,
  }));
}

/** Parse `input` with `schema` or throw `ValidationFailedError` whose message names `what` and the first issue. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = zodIssues(r.error);
  const first = issues[0];
  const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
  throw new ValidationFailedError(`invalid ${what}${where}: ${first?.message ?? 'does not match the schema'}`, issues);
}
