import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '#shared/domain/control/cursor.ts';
import { InvalidCursorError } from '#shared/errors/control.ts';

const SECRET = 'cursor-secret-0123456789';
const KEY = { job_id: '01JGZ3V1Q8X4N2K5M7P9R0S1T2', status: 'queued', created_at: '2025-01-02T03:04:05.678Z' };
const FILTERS = { statuses: ['queued', 'running'], kind: 'system.sleep', var: undefined };

/** Run `fn`, which must throw, and return what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}

function expectInvalidCursor(err: unknown, reason: RegExp): void {
  expect(err).toBeInstanceOf(InvalidCursorError);
  const e = err as InvalidCursorError;
  expect(e.code).toBe('invalid_cursor');
  expect(e.status).toBe(400);
  expect(String(e.details.reason)).toMatch(reason);
  expect(e.message).toMatch(/restart from the first page/);
}

describe('list cursors', () => {
  it('round-trips the store key for the same filters', () => {
    // Prepare
    const cursor = encodeCursor(SECRET, KEY, FILTERS);

    // Act
    const key = decodeCursor(SECRET, cursor, FILTERS);

    // Assess
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(key).toEqual(KEY);
  });

  it('accepts the same filters spelled in another key order', () => {
    // Prepare
    const cursor = encodeCursor(SECRET, KEY, { kind: 'system.sleep', statuses: ['queued', 'running'] });

    // Act
    const key = decodeCursor(SECRET, cursor, { statuses: ['queued', 'running'], kind: 'system.sleep' });

    // Assess
    expect(key).toEqual(KEY);
  });

  it('refuses a cursor whose body was swapped for another one (signature mismatch)', () => {
    // Prepare
    const [, mac] = encodeCursor(SECRET, KEY, FILTERS).split('.');
    const [forgedBody] = encodeCursor(SECRET, { ...KEY, job_id: '00000000000000000000000000' }, FILTERS).split('.');

    // Act
    const err = thrown(() => decodeCursor(SECRET, `${forgedBody}.${mac}`, FILTERS));

    // Assess
    expectInvalidCursor(err, /signature mismatch/);
  });

  it('refuses a cursor whose body was edited by hand', () => {
    // Prepare
    const [body, mac] = encodeCursor(SECRET, KEY, FILTERS).split('.');
    const decoded = JSON.parse(Buffer.from(body ?? '', 'base64url').toString('utf8')) as { k: { job_id: string } };
    decoded.k.job_id = 'someone-elses-job';
    const edited = Buffer.from(JSON.stringify(decoded)).toString('base64url');

    // Act
    const err = thrown(() => decodeCursor(SECRET, `${edited}.${mac}`, FILTERS));

    // Assess
    expectInvalidCursor(err, /signature mismatch/);
  });

  it('refuses a cursor whose mac was altered', () => {
    // Prepare
    const [body, mac = ''] = encodeCursor(SECRET, KEY, FILTERS).split('.');
    const altered = `${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;

    // Act
    const err = thrown(() => decodeCursor(SECRET, `${body}.${altered}`, FILTERS));

    // Assess
    expectInvalidCursor(err, /signature mismatch/);
  });

  it('refuses a cursor signed with another secret', () => {
    // Prepare
    const cursor = encodeCursor('another-secret-0123456789', KEY, FILTERS);

    // Act
    const err = thrown(() => decodeCursor(SECRET, cursor, FILTERS));

    // Assess
    expectInvalidCursor(err, /signature mismatch/);
  });

  it('refuses a cursor reused with other filters', () => {
    // Prepare
    const cursor = encodeCursor(SECRET, KEY, FILTERS);

    // Act
    const err = thrown(() => decodeCursor(SECRET, cursor, { ...FILTERS, statuses: ['failed'] }));

    // Assess
    expectInvalidCursor(err, /other filters/);
  });

  it.each([
    ['no separator', 'abcdef'],
    ['an empty mac', 'abcdef.'],
    ['a third part', 'a.b.c'],
    ['nothing at all', ''],
  ])('refuses a malformed cursor with %s', (_what, cursor) => {
    // Act
    const err = thrown(() => decodeCursor(SECRET, cursor, FILTERS));

    // Assess
    expectInvalidCursor(err, /malformed/);
  });

  it('refuses a correctly signed body that is not a cursor, instead of throwing a raw SyntaxError', () => {
    // Prepare: sign garbage with the real secret, as only a leaked secret would allow.
    const body = Buffer.from('not json').toString('base64url');
    const mac = createHmac('sha256', SECRET).update(body).digest('base64url');
    const shapeless = Buffer.from(JSON.stringify({ k: 'x', f: 1 })).toString('base64url');
    const shapelessMac = createHmac('sha256', SECRET).update(shapeless).digest('base64url');

    // Act
    const notJson = thrown(() => decodeCursor(SECRET, `${body}.${mac}`, FILTERS));
    const badShape = thrown(() => decodeCursor(SECRET, `${shapeless}.${shapelessMac}`, FILTERS));

    // Assess
    expectInvalidCursor(notJson, /undecodable body/);
    expectInvalidCursor(badShape, /bad shape/);
  });
});
