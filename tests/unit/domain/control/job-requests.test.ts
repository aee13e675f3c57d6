import { describe, expect, it } from 'vitest';
import { JOBS_LIMIT, ListJobsQuerySchema, SubmitJobRequestSchema } from '#shared/domain/control/job-requests.ts';
import { parseOrThrow } from '#shared/domain/control/validation.ts';
import { ValidationFailedError } from '#shared/errors/control.ts';

/** Parse like the API does and return the thrown error (the test fails if nothing was thrown). */
function rejection(
  schema: typeof ListJobsQuerySchema | typeof SubmitJobRequestSchema,
  input: unknown,
): ValidationFailedError {
  try {
    parseOrThrow(schema, input, 'request');
  } catch (err) {
    if (err instanceof ValidationFailedError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('ListJobsQuerySchema limit', () => {
  it.each([
    ['999999', 500],
    ['500', 500],
    ['0', 1],
    ['-5', 1],
    ['1', 1],
    ['42', 42],
    ['99999999999999999999999', 500],
  ])('clamps limit %s to %i', (limit, expected) => {
    // Act
    const q = ListJobsQuerySchema.parse({ limit });

    // Assess
    expect(q.limit).toBe(expected);
  });

  it('defaults limit to 100 when absent', () => {
    // Act
    const q = ListJobsQuerySchema.parse({});

    // Assess
    expect(q.limit).toBe(100);
    expect(JOBS_LIMIT.default).toBe(100);
  });

  it.each([['abc'], ['1.5'], ['1e3'], ['']])('answers a validation error for the non-integer limit %j', (limit) => {
    // Act
    const err = rejection(ListJobsQuerySchema, { limit });

    // Assess
    expect(err.status).toBe(400);
    expect(err.issues).toEqual([expect.objectContaining({ path: ['limit'], message: 'expected an integer' })]);
  });
});

describe('ListJobsQuerySchema status', () => {
  it('parses a comma-separated list, trimming blanks and duplicates', () => {
    // Act
    const q = ListJobsQuerySchema.parse({ status: ' queued, running,,queued ' });

    // Assess
    expect(q.status).toEqual(['queued', 'running']);
  });

  it('treats an empty status as no filter', () => {
    // Act
    const q = ListJobsQuerySchema.parse({ status: '' });

    // Assess
    expect(q.status).toBeUndefined();
  });

  it('rejects an unknown status naming it and the allowed ones', () => {
    // Act
    const err = rejection(ListJobsQuerySchema, { status: 'queued,bogus' });

    // Assess
    expect(err.issues).toEqual([
      {
        path: ['status'],
        code: 'custom',
        message: 'unknown status "bogus"; expected one of queued, running, succeeded, failed, cancelled',
      },
    ]);
    expect(err.message).toBe(
      'invalid request at status: unknown status "bogus"; expected one of queued, running, succeeded, failed, cancelled',
    );
  });

  it('does not accept a status in another case', () => {
    // Act
    const err = rejection(ListJobsQuerySchema, { status: 'QUEUED' });

    // Assess
    expect(err.issues[0]?.path).toEqual(['status']);
  });
});

describe('ListJobsQuerySchema other fields', () => {
  it('rejects unknown query parameters', () => {
    // Act
    const err = rejection(ListJobsQuerySchema, { limit: '10', sort: 'desc' });

    // Assess
    expect(err.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', path: [] })]);
  });

  it('accepts a known variety and refuses an unknown one', () => {
    // Act
    const ok = ListJobsQuerySchema.safeParse({ var: 'au' });
    const bad = ListJobsQuerySchema.safeParse({ var: 'zn' });

    // Assess
    expect(ok.success && ok.data.var).toBe('au');
    expect(bad.success).toBe(false);
  });
});

describe('SubmitJobRequestSchema', () => {
  it('defaults params to an empty object', () => {
    // Act
    const req = SubmitJobRequestSchema.parse({ kind: 'system.selftest' });

    // Assess
    expect(req).toEqual({ kind: 'system.selftest', params: {} });
  });

  it.each([
    ['argv', ['sh', '-c', 'id']],
    ['command', 'rm -rf /'],
    ['script', '/tmp/x.sh'],
  ])('rejects the extra field %s instead of ignoring it', (field, value) => {
    // Act
    const err = rejection(SubmitJobRequestSchema, { kind: 'system.sleep', params: { seconds: 1 }, [field]: value });

    // Assess
    expect(err.status).toBe(400);
    expect(err.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', path: [] })]);
    expect(err.message).toContain(field);
  });

  it('requires a non-empty kind and a note of at most 500 characters', () => {
    // Act
    const noKind = rejection(SubmitJobRequestSchema, { kind: '' });
    const longNote = rejection(SubmitJobRequestSchema, { kind: 'system.selftest', note: 'x'.repeat(501) });

    // Assess
    expect(noKind.issues.map((i) => i.path)).toEqual([['kind']]);
    expect(longNote.issues.map((i) => i.path)).toEqual([['note']]);
  });

  it('rejects params that are not an object', () => {
    // Act
    const err = rejection(SubmitJobRequestSchema, { kind: 'system.sleep', params: ['--seconds', '1'] });

    // Assess
    expect(err.issues.map((i) => i.path)).toEqual([['params']]);
  });
});
