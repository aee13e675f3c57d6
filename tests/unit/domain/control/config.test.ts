/**
 * Config registry and revision rules (control-chain §5.2–§5.4): env-only and managed keys are disjoint, every default
 * is within its own bounds, scoped variants classify by the scopes a key declares, values normalise, writes are all
 * or nothing with the env-only check first, and the resolver's precedence and sources.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#shared/config.ts';
import {
  applyValues,
  checkEnvironment,
  configHash,
  diffSnapshots,
  InvalidEnvValueError,
  resolveConfig,
} from '#shared/domain/control/config.ts';
import {
  CONFIG_REGISTRY,
  classifyConfigKey,
  isEnvOnlyKey,
  parseConfigValue,
  RETIRED_CONFIG_KEYS,
} from '#shared/domain/control/config-registry.ts';
import { ConfigKeyNotWritableError, ValidationFailedError } from '#shared/errors/control.ts';

describe('config registry', () => {
  it('has no key that the env-only rules also claim', () => {
    const both = [...CONFIG_REGISTRY.keys()].filter(isEnvOnlyKey);
    expect(both).toEqual([]);
    expect(CONFIG_REGISTRY.size).toBeGreaterThan(90);
  });

  it('declares every default within its own type and bounds', () => {
    for (const def of CONFIG_REGISTRY.values()) {
      if (def.default === null) continue;
      const p = parseConfigValue(def, def.default);
      expect(p.ok, `${def.key} default ${String(def.default)}`).toBe(true);
      if (def.minOf && typeof def.default === 'number') {
        const other = CONFIG_REGISTRY.get(def.minOf.key);
        expect(other, `${def.key} relates to ${def.minOf.key}`).toBeDefined();
        expect(def.default).toBeGreaterThanOrEqual(Number(other?.default) * def.minOf.factor);
      }
    }
  });

  it('classifies env-only first, then managed (scoped variants per declared scope), else unmanaged', () => {
    for (const k of ['GHTRADER_QUESTDB_PG_PASSWORD', 'TQ_USER', 'AWS_REGION', 'GHTRADER_JOB_X', 'REDIS_URL']) {
      expect(classifyConfigKey(k).kind, k).toBe('env_only');
    }
    expect(classifyConfigKey('GHTRADER_LIVE_ENABLED').kind).toBe('env_only');
    expect(classifyConfigKey('GHTRADER_MAIN_L5_TOTAL_WORKERS').kind).toBe('managed');
    expect(classifyConfigKey('GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S_CU_NIGHT')).toMatchObject({
      kind: 'managed',
      variety: 'CU',
      session: 'NIGHT',
    });
    expect(classifyConfigKey('GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S_DAY')).toMatchObject({ session: 'DAY' });
    expect(classifyConfigKey('GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE_AG')).toMatchObject({ variety: 'AG' });
    // A scope the key does not declare, an unknown variety, a typo and every retired key are unmanaged.
    expect(classifyConfigKey('GHTRADER_MAX_PARALLEL_TQSDK_JOBS_CU').kind).toBe('unmanaged');
    expect(classifyConfigKey('GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE_NI').kind).toBe('unmanaged');
    expect(classifyConfigKey('GHTRADER_NOT_A_KEY').kind).toBe('unmanaged');
    for (const k of RETIRED_CONFIG_KEYS) expect(classifyConfigKey(k).kind, k).toBe('unmanaged');
    // The jobs queue's redrive count is part of the queue (set at deploy or local start), so no revision may hold it.
    expect(classifyConfigKey('GHTRADER_JOBS_MAX_RECEIVE_COUNT').kind).toBe('unmanaged');
    expect(() => applyValues({}, { GHTRADER_JOBS_MAX_RECEIVE_COUNT: 5 })).toThrow(
      'config_key_not_writable:GHTRADER_JOBS_MAX_RECEIVE_COUNT:unmanaged',
    );
  });

  it('normalises values and names the expected type and bounds when one is refused', () => {
    const def = (k: string) => CONFIG_REGISTRY.get(k) ?? expect.unreachable(k);
    expect(parseConfigValue(def('GHTRADER_PIPELINE_ENFORCE_HEALTH'), 'TRUE')).toMatchObject({ normalised: 'true' });
    expect(parseConfigValue(def('GHTRADER_PIPELINE_ENFORCE_HEALTH'), false)).toMatchObject({ normalised: 'false' });
    expect(parseConfigValue(def('GHTRADER_LOCK_POLL_INTERVAL_S'), '1.50')).toMatchObject({ normalised: '1.5' });
    expect(parseConfigValue(def('GHTRADER_WORKERS_GLOBAL_MAX'), 12)).toMatchObject({ normalised: '12', value: 12 });
    expect(parseConfigValue(def('GHTRADER_WORKERS_GLOBAL_MAX'), '1.5')).toMatchObject({ ok: false });
    expect(parseConfigValue(def('GHTRADER_WORKERS_GLOBAL_MAX'), 'abc')).toEqual({
      ok: false,
      message: 'expected an integer ≥ 1, got "abc"',
    });
    expect(parseConfigValue(def('GHTRADER_L5_VALIDATE_STRICT_RATIO'), 1.3)).toMatchObject({ ok: false });
    expect(parseConfigValue(def('GHTRADER_LOG_LEVEL'), 'debug')).toMatchObject({ normalised: 'debug' });
    expect(parseConfigValue(def('GHTRADER_LOG_LEVEL'), 'loud')).toMatchObject({ ok: false });
    expect(parseConfigValue(def('GHTRADER_L5_START_DATE'), '2025-02-30')).toMatchObject({ ok: false });
    expect(parseConfigValue(def('GHTRADER_L5_START_DATE'), '2025-02-28')).toMatchObject({ normalised: '2025-02-28' });
  });
});

describe('config revisions', () => {
  it('hashes the canonical JSON of the snapshot (first 16 hex of SHA-256)', () => {
    expect(configHash({})).toBe('44136fa355b3678a');
    expect(configHash({ B: '1', A: '2' })).toBe(configHash({ A: '2', B: '1' }));
  });

  it('applies a batch all or nothing: env-only before unmanaged before values, null removes', () => {
    const head = { GHTRADER_MAIN_L5_TOTAL_WORKERS: '4' };
    expect(() =>
      applyValues(head, { GHTRADER_NOT_A_KEY: 1, GHTRADER_QUESTDB_PG_PASSWORD: 'x', GHTRADER_WORKERS_GLOBAL_MAX: 0 }),
    ).toThrow(new ConfigKeyNotWritableError('GHTRADER_QUESTDB_PG_PASSWORD', 'env_only'));
    const err = (() => {
      try {
        applyValues(head, { GHTRADER_WORKERS_GLOBAL_MAX: 0, GHTRADER_L5_VALIDATE_STRICT_RATIO: '1.3' });
      } catch (e) {
        return e as ValidationFailedError;
      }
      return expect.unreachable('no error');
    })();
    expect(err).toBeInstanceOf(ValidationFailedError);
    expect(err.issues.map((i) => i.path[1])).toEqual([
      'GHTRADER_L5_VALIDATE_STRICT_RATIO',
      'GHTRADER_WORKERS_GLOBAL_MAX',
    ]);
    expect(applyValues(head, { GHTRADER_MAIN_L5_TOTAL_WORKERS: null, GHTRADER_WORKERS_GLOBAL_MAX: '64' })).toEqual({
      GHTRADER_WORKERS_GLOBAL_MAX: '64',
    });
  });

  it('checks relations between keys on the whole snapshot (lease ≥ 3 × heartbeat)', () => {
    expect(() => applyValues({}, { GHTRADER_JOBS_LEASE_S: 10 })).toThrow(/GHTRADER_JOBS_LEASE_S: expected ≥ 3×/);
    expect(() => applyValues({ GHTRADER_JOBS_LEASE_S: '30' }, { GHTRADER_JOBS_HEARTBEAT_S: 20 })).toThrow(
      /GHTRADER_JOBS_LEASE_S/,
    );
    expect(applyValues({}, { GHTRADER_JOBS_LEASE_S: 15 })).toEqual({ GHTRADER_JOBS_LEASE_S: '15' });
  });

  it('diffs two snapshots per key', () => {
    expect(diffSnapshots({ A: '1', B: '2' }, { B: '3', C: '4' })).toEqual([
      { key: 'A', before: '1', after: null },
      { key: 'B', before: '2', after: '3' },
      { key: 'C', before: null, after: '4' },
    ]);
  });
});

describe('config resolver', () => {
  const K = 'GHTRADER_L5_VALIDATE_GAP_THRESHOLD_S';

  it('walks scoped candidates most specific first, revision before env at each', () => {
    const layers = { revision: 9, snapshot: { [K]: '7' }, env: { [`${K}_CU_NIGHT`]: '11', [`${K}_CU`]: '9' } };
    expect(resolveConfig(K, layers, { var: 'cu', session: 'night' })).toMatchObject({
      value: 11,
      source: `env:${K}_CU_NIGHT`,
      key_used: `${K}_CU_NIGHT`,
    });
    expect(resolveConfig(K, layers, { var: 'cu', session: 'day' })).toMatchObject({ value: 9, source: `env:${K}_CU` });
    expect(resolveConfig(K, layers, { var: 'au' })).toMatchObject({ value: 7, source: `config:${K}@9`, revision: 9 });
    expect(resolveConfig(K, { ...layers, snapshot: {} }, { var: 'au' })).toMatchObject({ value: 5, source: 'default' });
    expect(resolveConfig(K, layers, { flag: 2, var: 'cu' })).toMatchObject({ value: 2, source: 'flag' });
  });

  it('refuses an env value that does not parse, naming key, value and expected type', () => {
    expect(() =>
      resolveConfig('GHTRADER_WORKERS_GLOBAL_MAX', {
        revision: 1,
        snapshot: {},
        env: { GHTRADER_WORKERS_GLOBAL_MAX: 'abc' },
      }),
    ).toThrow(new InvalidEnvValueError('GHTRADER_WORKERS_GLOBAL_MAX', 'abc', 'an integer ≥ 1'));
  });
});

describe('startup environment check', () => {
  it('warns about unknown GHTRADER_* keys and ignores env-only, deployment and process-schema keys', () => {
    const r = checkEnvironment(
      {
        GHTRADER_TYPO_KEY: '1',
        GHTRADER_SLO_GPU_MIN: '1',
        GHTRADER_QUESTDB_PG_PASSWORD: 'x',
        GHTRADER_TABLE_JOBS: 'jobs',
        GHTRADER_DIFF_USER: 'u',
        GHTRADER_MAIN_L5_TOTAL_WORKERS: '7',
        GHTRADER_JOBS_MAX_RECEIVE_COUNT: '5',
        GHTRADER_HOME: '/tmp/x',
        PATH: '/bin',
      },
      (k) => k === 'GHTRADER_HOME',
    );
    expect(r.unknown).toEqual(['GHTRADER_SLO_GPU_MIN', 'GHTRADER_TYPO_KEY']);
  });

  it('loadConfig stops on a bad managed value and reports unknown keys', () => {
    expect(() => loadConfig({ GHTRADER_WORKERS_GLOBAL_MAX: 'abc' })).toThrow(
      'invalid environment value GHTRADER_WORKERS_GLOBAL_MAX="abc": expected an integer ≥ 1',
    );
    expect(loadConfig({ GHTRADER_TYPO_KEY: '1' }).unknownEnvKeys).toEqual(['GHTRADER_TYPO_KEY']);
    // Keys of the process schema keep their own (test-friendly) bounds.
    expect(loadConfig({ GHTRADER_JOBS_HEARTBEAT_S: '0.2', GHTRADER_JOBS_LEASE_S: '1' }).jobs.heartbeatS).toBe(0.2);
  });
});
