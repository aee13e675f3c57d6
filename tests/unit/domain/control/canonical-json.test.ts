import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '#shared/domain/control/canonical-json.ts';
import { findJobKind } from '#shared/domain/control/job-kinds/index.ts';
import { dedupeKeyOf } from '#shared/domain/control/jobs.ts';

/** The identity the job service derives at submission: params parsed by the kind's schema, defaults applied. */
function identityOf(kind: string, params: unknown): string {
  const def = findJobKind(kind);
  if (!def) throw new Error(`test setup: no kind ${kind}`);
  const parsed = def.params.parse(params);
  return canonicalJson(def.identity ? def.identity(parsed) : parsed);
}

describe('canonicalJson', () => {
  it('sorts object keys at every depth and writes no whitespace', () => {
    // Act
    const text = canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 'x' } });

    // Assess
    expect(text).toBe('{"a":{"c":"x","d":[{"y":2,"z":1}]},"b":1}');
  });

  it('serialises the same value spelled in another key order to the same string', () => {
    // Act
    const one = canonicalJson({ var: 'cu', full_rebuild: false, range: { start: 1, end: 2 } });
    const two = canonicalJson({ range: { end: 2, start: 1 }, full_rebuild: false, var: 'cu' });

    // Assess
    expect(one).toBe(two);
  });

  it('drops undefined members', () => {
    // Act
    const text = canonicalJson({ a: 1, b: undefined, c: { d: undefined, e: null } });

    // Assess
    expect(text).toBe('{"a":1,"c":{"e":null}}');
  });

  it('keeps array order, since order can be meaningful (horizons, factors)', () => {
    // Act
    const one = canonicalJson({ horizons: [200, 10, 50] });
    const two = canonicalJson({ horizons: [10, 50, 200] });

    // Assess
    expect(one).toBe('{"horizons":[200,10,50]}');
    expect(one).not.toBe(two);
  });

  it('writes bigints as decimal strings instead of throwing', () => {
    // Act
    const text = canonicalJson({ ts_ns: 1_735_787_045_678_000_000n });

    // Assess
    expect(text).toBe('{"ts_ns":"1735787045678000000"}');
  });

  it('does not apply defaults itself: {var:"cu"} and {full_rebuild:false,var:"cu"} differ as raw values', () => {
    // Act
    const bare = canonicalJson({ var: 'cu' });
    const spelled = canonicalJson({ full_rebuild: false, var: 'cu' });

    // Assess
    expect(bare).not.toBe(spelled);
  });
});

describe('canonical identity with the kind schema’s defaults applied', () => {
  it('gives system.sleep {seconds:1} and {seconds:1, fail_retryable:true} the same identity and dedupe key', () => {
    // Act
    const bare = identityOf('system.sleep', { seconds: 1 });
    const spelled = identityOf('system.sleep', { fail_retryable: true, seconds: 1 });

    // Assess
    expect(bare).toBe('{"fail_retryable":true,"seconds":1}');
    expect(spelled).toBe(bare);
    expect(dedupeKeyOf('system.sleep', spelled, sha256Hex)).toBe(dedupeKeyOf('system.sleep', bare, sha256Hex));
  });

  it('keeps a non-default value distinct: fail_retryable:false is another job', () => {
    // Act
    const bare = identityOf('system.sleep', { seconds: 1 });
    const other = identityOf('system.sleep', { seconds: 1, fail_retryable: false });

    // Assess
    expect(other).not.toBe(bare);
  });
});

describe('sha256Hex', () => {
  it('hashes the UTF-8 bytes and truncates to the requested number of hex digits', () => {
    // Act
    const full = sha256Hex('abc');
    const short = sha256Hex('abc', 16);
    const unicode = sha256Hex('铜', 8);

    // Assess
    expect(full).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(short).toBe('ba7816bf8f01cfea');
    expect(unicode).toMatch(/^[0-9a-f]{8}$/);
    expect(unicode).not.toBe(sha256Hex('?', 8));
  });
  it('serialises a Date as its ISO instant, so two different dates never share an identity', () => {
    // Act
    const one = canonicalJson({ start: new Date('2025-01-02T00:00:00.000Z') });
    const two = canonicalJson({ start: new Date('2025-03-04T00:00:00.000Z') });

    // Assess
    expect(one).toBe('{"start":"2025-01-02T00:00:00.000Z"}');
    expect(one).not.toBe(two);
  });
});
