import { describe, expect, it } from 'vitest';
import { findJobKind, JOB_KINDS } from '#shared/domain/control/job-kinds/index.ts';
import { isTradingLockKey } from '#shared/domain/control/locks.ts';
import { JobVarSchema } from '#shared/domain/control/varieties.ts';
import { MAX_JOB_TIMEOUT_S } from '#shared/infra/aws/definitions.ts';

/**
 * Valid params for every registered kind. A kind added to the registry without an entry here fails the first test,
 * so the invariants below always cover the whole closed set.
 */
const SAMPLE_PARAMS: Record<string, unknown[]> = {
  'system.selftest': [{}],
  'system.sleep': [{ seconds: 1 }, { seconds: 840, fail_at_pct: 0.5, fail_retryable: false }],
  'data.calendar': [{}, { refresh: true }],
  'data.schedule': [{ var: 'cu' }],
  'data.main_l5': [{ var: 'au' }, { var: 'ag', full_rebuild: true, days_per_job: 10, max_concurrency: 2 }],
  'data.main_l5.day_batch': [{ var: 'cu', build_id: '0123456789ab', batch_index: 0 }],
  'data.main_l5.finalize': [{ var: 'cu', build_id: '0123456789ab' }],
  'data.validate': [{ var: 'cu' }, { var: 'au', start: '2025-01-02', end: '2025-01-31', incremental: false }],
  'data.verify': [{ var: 'cu' }, { var: 'ag', sample_days: 5, promote: true }],
  'data.field_quality': [
    { var: 'cu' },
    { var: 'au', start: '2025-01-02' },
    { var: 'ag', start: '2025-01-02', end: '2025-01-02' },
  ],
  'data.migrate': [{}, { apply: true, table: 'ghtrader_ticks_main_l5_v2' }],
  'data.l5_start': [{ var: 'cu' }, { var: 'ag', refresh: true }],
  'account.verify': [{ account_profile: 'default' }, { account_profile: 'Alt-01', timeout_s: 60 }],
};

const kinds = [...JOB_KINDS.values()];

function sampleFor(kind: string): unknown[] {
  const samples = SAMPLE_PARAMS[kind];
  if (!samples) throw new Error(`no sample params for ${kind}; add them to SAMPLE_PARAMS`);
  return samples;
}

describe('job kind registry', () => {
  it('has sample params in this test for every registered kind', () => {
    // Act
    const registered = [...JOB_KINDS.keys()].sort();

    // Assess
    expect(registered).toEqual(Object.keys(SAMPLE_PARAMS).sort());
  });

  it('registers each kind under its own name, once', () => {
    // Act
    const names = kinds.map((k) => k.kind);

    // Assess
    expect(new Set(names).size).toBe(names.length);
    for (const [key, def] of JOB_KINDS) {
      expect(def.kind).toBe(key);
      expect(findJobKind(key)).toBe(def);
    }
  });

  it('names kinds as dotted lowercase paths', () => {
    // Assess
    for (const def of kinds) expect(def.kind).toMatch(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/);
  });

  it('keeps every kind’s timeout within Lambda’s 900 s', () => {
    // Assess
    for (const def of kinds) {
      expect(def.timeoutS, def.kind).toBeGreaterThan(0);
      expect(def.timeoutS, def.kind).toBeLessThanOrEqual(MAX_JOB_TIMEOUT_S);
    }
    expect(MAX_JOB_TIMEOUT_S).toBe(900);
  });

  it('never asks for a trading lock, for any sample params', () => {
    // Act
    const requested = kinds.flatMap((def) =>
      sampleFor(def.kind).flatMap((raw) => def.locks(def.params.parse(raw)).map((key) => `${def.kind} -> ${key}`)),
    );

    // Assess
    expect(requested.filter((r) => isTradingLockKey(r.split(' -> ')[1] ?? ''))).toEqual([]);
  });

  it('maps every sample to a known variety or none', () => {
    // Assess
    for (const def of kinds) {
      for (const raw of sampleFor(def.kind)) {
        expect(JobVarSchema.safeParse(def.var(def.params.parse(raw))).success, def.kind).toBe(true);
      }
    }
  });

  it('describes every kind in one line', () => {
    // Assess
    for (const def of kinds) {
      expect(def.description.length, def.kind).toBeGreaterThan(10);
      expect(def.description, def.kind).not.toMatch(/\n/);
    }
  });

  it('answers undefined for a kind that does not exist, including prototype names', () => {
    // Act
    const found = ['system.shell', 'constructor', '__proto__', 'toString', ''].map(findJobKind);

    // Assess
    expect(found).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('system.sleep params', () => {
  const sleep = () => {
    const def = findJobKind('system.sleep');
    if (!def) throw new Error('system.sleep is not registered');
    return def;
  };

  it('applies the default fail_retryable: true', () => {
    // Act
    const parsed = sleep().params.parse({ seconds: 2 });

    // Assess
    expect(parsed).toEqual({ seconds: 2, fail_retryable: true });
  });

  it.each([
    ['seconds 0', { seconds: 0 }, ['seconds']],
    ['seconds above the 840 s Lambda-safe cap', { seconds: 841 }, ['seconds']],
    ['seconds missing', {}, ['seconds']],
    ['seconds as a string', { seconds: '5' }, ['seconds']],
    ['fail_at_pct above 1', { seconds: 1, fail_at_pct: 1.5 }, ['fail_at_pct']],
  ])('rejects %s', (_what, params, path) => {
    // Act
    const r = sleep().params.safeParse(params);

    // Assess
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path)).toEqual([path]);
  });

  it.each([['argv'], ['command'], ['script']])('rejects the unknown field %s instead of ignoring it', (field) => {
    // Act
    const r = sleep().params.safeParse({ seconds: 1, [field]: ['rm', '-rf', '/'] });

    // Assess
    expect(r.success).toBe(false);
    expect(r.error?.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: [field] })]);
  });
});

describe('system.selftest params', () => {
  it('accepts only an empty object', () => {
    // Prepare
    const def = findJobKind('system.selftest');
    if (!def) throw new Error('system.selftest is not registered');

    // Act
    const empty = def.params.safeParse({});
    const withArgv = def.params.safeParse({ argv: ['sh', '-c', 'id'] });

    // Assess
    expect(empty.success).toBe(true);
    expect(withArgv.success).toBe(false);
  });
});

describe('account.verify params', () => {
  const verify = () => {
    const def = findJobKind('account.verify');
    if (!def) throw new Error('account.verify is not registered');
    return def;
  };

  it('canonicalises the profile and applies timeout_s 20', () => {
    // Act
    const parsed = verify().params.parse({ account_profile: ' Alt-01 ' });

    // Assess
    expect(parsed).toEqual({ account_profile: 'alt_01', timeout_s: 20 });
  });

  it.each([
    ['timeout_s 0', { account_profile: 'a', timeout_s: 0 }, ['timeout_s']],
    ['timeout_s 61', { account_profile: 'a', timeout_s: 61 }, ['timeout_s']],
    ['no profile', {}, ['account_profile']],
    ['a password (credentials never travel in job params)', { account_profile: 'a', password: 'x' }, []],
  ])('rejects %s', (_what, params, path) => {
    // Act
    const r = verify().params.safeParse(params);

    // Assess
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(path);
  });

  it('holds verify:account=<p>, refuses while trade:account=<p> is held, and dedupes per profile', () => {
    // Prepare
    const def = verify();
    const a = def.params.parse({ account_profile: 'alt', timeout_s: 5 });
    const b = def.params.parse({ account_profile: 'alt', timeout_s: 50 });

    // Act
    const locks = def.locks(a);
    const guarded = def.refuseWhileHeld?.(a);

    // Assess
    expect(locks).toEqual(['verify:account=alt']);
    expect(guarded).toEqual(['trade:account=alt']);
    expect(def.identity?.(a)).toEqual(def.identity?.(b));
    expect(def.sourceBound).toBe(true);
  });
});
