import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { parseOrThrow, zodIssues } from '#shared/domain/control/validation.ts';
import { ControlError, ValidationFailedError } from '#shared/errors/control.ts';

const Schema = z.object({ name: z.string().min(1), legs: z.array(z.object({ qty: z.number().int() })) }).strict();

function rejection(input: unknown, what = 'order'): ValidationFailedError {
  try {
    parseOrThrow(Schema, input, what);
  } catch (err) {
    if (err instanceof ValidationFailedError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseOrThrow', () => {
  it('returns the parsed value when the input matches', () => {
    // Act
    const value = parseOrThrow(Schema, { name: 'a', legs: [{ qty: 1 }] }, 'order');

    // Assess
    expect(value).toEqual({ name: 'a', legs: [{ qty: 1 }] });
  });

  it('throws ValidationFailedError, status 400, code validation_failed', () => {
    // Act
    const err = rejection({ name: '', legs: [] });

    // Assess
    expect(err).toBeInstanceOf(ControlError);
    expect(err.name).toBe('ValidationFailedError');
    expect(err.status).toBe(400);
    expect(err.code).toBe('validation_failed');
    expect(err.area).toBe('control');
  });

  it('lists every issue as {path, code, message} in details.issues, numeric indexes kept as numbers', () => {
    // Act
    const err = rejection({ name: '', legs: [{ qty: 1 }, { qty: 1.5 }] });

    // Assess
    expect(err.details.issues).toEqual([
      { path: ['name'], code: 'too_small', message: expect.any(String) },
      { path: ['legs', 1, 'qty'], code: 'invalid_type', message: expect.any(String) },
    ]);
    expect(err.issues).toBe(err.details.issues);
  });

  it('names what was parsed and where the first issue is in the message', () => {
    // Act
    const err = rejection({ name: 'a', legs: [{ qty: 'x' }] }, 'job submission');

    // Assess
    expect(err.message).toMatch(/^invalid job submission at legs\.0\.qty: .*expected number/);
  });

  it('omits the location when the first issue is at the root', () => {
    // Act
    const err = rejection({ name: 'a', legs: [], argv: ['x'] });

    // Assess
    expect(err.message).toMatch(/^invalid order: Unrecognized key: "argv"$/);
    expect(err.issues).toEqual([{ path: [], code: 'unrecognized_keys', message: 'Unrecognized key: "argv"' }]);
  });
});

describe('zodIssues', () => {
  it('turns symbol path segments into strings so issues serialise as JSON', () => {
    // Prepare
    const key = Symbol('tag');
    const error = new z.ZodError([{ code: 'custom', path: [key, 0], message: 'bad', input: undefined }]);

    // Act
    const issues = zodIssues(error);

    // Assess
    expect(issues).toEqual([{ path: ['Symbol(tag)', 0], code: 'custom', message: 'bad' }]);
  });
});
