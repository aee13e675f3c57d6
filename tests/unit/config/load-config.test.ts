import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#shared/config.ts';
import { ValidationFailedError } from '#shared/errors/control.ts';

/** Load `env` and return the error it must raise (the test fails if it loads). */
function rejection(env: Record<string, string | undefined>): ValidationFailedError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ValidationFailedError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadConfig defaults', () => {
  it('resolves the default home ./var to an absolute path', () => {
    // Act
    const config = loadConfig({});

    // Assess
    expect(path.isAbsolute(config.home)).toBe(true);
    expect(config.home).toBe(path.resolve('var'));
  });

  it('resolves a relative GHTRADER_HOME to an absolute path and keeps an absolute one', () => {
    // Act
    const relative = loadConfig({ GHTRADER_HOME: 'data/home' });
    const absolute = loadConfig({ GHTRADER_HOME: '/srv/ghtrader' });

    // Assess
    expect(relative.home).toBe(path.resolve('data/home'));
    expect(absolute.home).toBe('/srv/ghtrader');
  });

  it('names every table <prefix><logical name> with the default prefix ghtrader-', () => {
    // Act
    const config = loadConfig({});

    // Assess
    expect(config.resourcePrefix).toBe('ghtrader-');
    expect(config.tables).toEqual({
      jobs: 'ghtrader-Jobs',
      locks: 'ghtrader-Locks',
      config: 'ghtrader-Config',
      migrationLedger: 'ghtrader-MigrationLedger',
      audit: 'ghtrader-Audit',
      tradingState: 'ghtrader-TradingState',
      commands: 'ghtrader-Commands',
      users: 'ghtrader-Users',
      riskKill: 'ghtrader-RiskKill',
      wsConnections: 'ghtrader-WsConnections',
    });
  });

  it('uses the documented defaults for AWS, Redis and job timings', () => {
    // Act
    const config = loadConfig({});

    // Assess
    expect(config.logLevel).toBe('info');
    expect(config.hostId).toBeUndefined();
    expect(config.aws).toEqual({
      region: 'us-east-1',
      dynamoEndpoint: undefined,
      sqsEndpoint: undefined,
      jobsQueueUrl: undefined,
      jobsDlqUrl: undefined,
    });
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'ghtrader:', enabled: true });
    expect(config.jobs).toMatchObject({
      heartbeatS: 5,
      leaseS: 30,
      cancelGraceS: 8,
      progressStaleS: 45,
      retryDelayS: 10,
      maxReceiveCount: 3,
      lockPollIntervalS: 1,
    });
    expect(config.auth.cursorSecret).toBeUndefined();
  });
});

describe('loadConfig overrides', () => {
  it('applies the resource prefix to every table', () => {
    // Act
    const config = loadConfig({ GHTRADER_RESOURCE_PREFIX: 'it-ab12-' });

    // Assess
    expect(config.tables.jobs).toBe('it-ab12-Jobs');
    expect(config.tables.riskKill).toBe('it-ab12-RiskKill');
  });

  it('takes a physical table name from GHTRADER_TABLE_<ID> and leaves the other tables alone', () => {
    // Act
    const config = loadConfig({
      GHTRADER_TABLE_JOBS: 'Prod-JobsTable-1A2B3C',
      GHTRADER_TABLE_MIGRATION_LEDGER: 'Prod-Ledger-9Z',
    });

    // Assess
    expect(config.tables.jobs).toBe('Prod-JobsTable-1A2B3C');
    expect(config.tables.migrationLedger).toBe('Prod-Ledger-9Z');
    expect(config.tables.locks).toBe('ghtrader-Locks');
  });

  it('uses AWS_ENDPOINT_URL for both services when no per-service endpoint is set', () => {
    // Act
    const config = loadConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' });

    // Assess
    expect(config.aws.dynamoEndpoint).toBe('http://127.0.0.1:4566');
    expect(config.aws.sqsEndpoint).toBe('http://127.0.0.1:4566');
  });

  it('keeps account secrets in files unless GHTRADER_ACCOUNT_SECRET_PREFIX names a Secrets Manager prefix', () => {
    // Act
    const local = loadConfig({});
    const aws = loadConfig({
      GHTRADER_ACCOUNT_SECRET_PREFIX: 'ghtrader/prod/accounts/',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:4000',
    });

    // Assess
    expect(local.accountSecretPrefix).toBeUndefined();
    expect(aws.accountSecretPrefix).toBe('ghtrader/prod/accounts/');
    expect(aws.aws.secretsManagerEndpoint).toBe('http://127.0.0.1:4000');
  });

  it('lets AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS beat AWS_ENDPOINT_URL', () => {
    // Act
    const dynamoOnly = loadConfig({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
    });
    const sqsOnly = loadConfig({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9324',
    });

    // Assess
    expect(dynamoOnly.aws).toMatchObject({
      dynamoEndpoint: 'http://127.0.0.1:8000',
      sqsEndpoint: 'http://127.0.0.1:4566',
    });
    expect(sqsOnly.aws).toMatchObject({
      dynamoEndpoint: 'http://127.0.0.1:4566',
      sqsEndpoint: 'http://127.0.0.1:9324',
    });
  });

  it.each([
    ['false', false],
    ['0', false],
    ['true', true],
    ['1', true],
  ])('reads GHTRADER_REDIS_ENABLED=%s as %s', (value, expected) => {
    // Act
    const config = loadConfig({ GHTRADER_REDIS_ENABLED: value });

    // Assess
    expect(config.redis.enabled).toBe(expected);
  });

  it('coerces numeric keys from their string form', () => {
    // Act
    const config = loadConfig({
      GHTRADER_JOBS_HEARTBEAT_S: '0.2',
      GHTRADER_JOBS_LEASE_S: '1',
      GHTRADER_RUNNER_CONCURRENCY: '8',
    });

    // Assess
    expect(config.jobs).toMatchObject({ heartbeatS: 0.2, leaseS: 1, runnerConcurrency: 8 });
  });
});

describe('loadConfig empty values', () => {
  it('treats empty strings as unset, for schema keys and table overrides alike', () => {
    // Act
    const config = loadConfig({
      GHTRADER_RESOURCE_PREFIX: '',
      GHTRADER_JOBS_HEARTBEAT_S: '',
      AWS_ENDPOINT_URL: '',
      GHTRADER_TABLE_JOBS: '',
      GHTRADER_CURSOR_SECRET: '',
      GHTRADER_REDIS_ENABLED: '',
    });

    // Assess
    expect(config.resourcePrefix).toBe('ghtrader-');
    expect(config.jobs.heartbeatS).toBe(5);
    expect(config.aws.dynamoEndpoint).toBeUndefined();
    expect(config.tables.jobs).toBe('ghtrader-Jobs');
    expect(config.auth.cursorSecret).toBeUndefined();
    expect(config.redis.enabled).toBe(true);
  });

  it('treats undefined values as unset', () => {
    // Act
    const config = loadConfig({ GHTRADER_JOBS_LEASE_S: undefined, REDIS_URL: undefined });

    // Assess
    expect(config.jobs.leaseS).toBe(30);
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
  });
});

describe('loadConfig rejections', () => {
  it('names key, value and expectation for a value that is not a number', () => {
    // Act
    const err = rejection({ GHTRADER_JOBS_HEARTBEAT_S: 'abc' });

    // Assess
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^invalid environment: GHTRADER_JOBS_HEARTBEAT_S="abc": .*expected number/);
    expect(err.issues).toEqual([expect.objectContaining({ path: ['GHTRADER_JOBS_HEARTBEAT_S'] })]);
  });

  it('names the allowed range for a number outside it', () => {
    // Act
    const err = rejection({ GHTRADER_JOBS_HEARTBEAT_S: '120' });

    // Assess
    expect(err.message).toBe('invalid environment: GHTRADER_JOBS_HEARTBEAT_S="120": expected a number in [0.05, 60]');
  });

  it('rejects a fractional value for an integer key', () => {
    // Act
    const err = rejection({ GHTRADER_RUNNER_CONCURRENCY: '2.5' });

    // Assess
    expect(err.message).toMatch(/GHTRADER_RUNNER_CONCURRENCY="2\.5": .*expected int/);
  });

  it('names every bad key at once, not only the first', () => {
    // Act
    const err = rejection({ GHTRADER_REDIS_ENABLED: 'yes', AWS_ENDPOINT_URL: 'not a url', GHTRADER_LOG_LEVEL: 'loud' });

    // Assess
    expect(err.issues.map((i) => i.path[0]).sort()).toEqual([
      'AWS_ENDPOINT_URL',
      'GHTRADER_LOG_LEVEL',
      'GHTRADER_REDIS_ENABLED',
    ]);
    expect(err.message).toContain('GHTRADER_REDIS_ENABLED="yes"');
    expect(err.message).toContain('AWS_ENDPOINT_URL="not a url"');
    expect(err.message).toContain('GHTRADER_LOG_LEVEL="loud"');
  });

  it('rejects a resource prefix with characters AWS names cannot hold', () => {
    // Act
    const err = rejection({ GHTRADER_RESOURCE_PREFIX: 'bad prefix/' });

    // Assess
    expect(err.message).toContain('GHTRADER_RESOURCE_PREFIX="bad prefix/"');
  });

  it('rejects an account secret prefix that does not end in "/" or holds a character Secrets Manager names cannot', () => {
    // Act
    const errors = [
      rejection({ GHTRADER_ACCOUNT_SECRET_PREFIX: 'ghtrader/prod/accounts' }),
      rejection({ GHTRADER_ACCOUNT_SECRET_PREFIX: 'ghtrader/pr od/' }),
    ];

    // Assess
    for (const err of errors) expect(err.message).toContain('GHTRADER_ACCOUNT_SECRET_PREFIX');
  });

  it('rejects a GHTRADER_TQ_ACCOUNT_PROFILES entry that is no valid profile, naming it', () => {
    // Act
    const err = rejection({ GHTRADER_TQ_ACCOUNT_PROFILES: `alt_01,${'x'.repeat(33)}` });

    // Assess
    expect(err.message).toContain('GHTRADER_TQ_ACCOUNT_PROFILES');
    expect(err.message).toContain('x'.repeat(33));
  });

  it('rejects a cursor secret shorter than 16 characters', () => {
    // Act
    const err = rejection({ GHTRADER_CURSOR_SECRET: 'short' });

    // Assess
    expect(err.issues[0]?.path).toEqual(['GHTRADER_CURSOR_SECRET']);
  });

  it('rejects a lease shorter than 3 heartbeats, naming both values', () => {
    // Act
    const err = rejection({ GHTRADER_JOBS_HEARTBEAT_S: '5', GHTRADER_JOBS_LEASE_S: '14.9' });

    // Assess
    expect(err.message).toBe(
      'invalid environment: GHTRADER_JOBS_LEASE_S=14.9 must be at least 3 × GHTRADER_JOBS_HEARTBEAT_S (5)',
    );
    expect(err.issues).toEqual([
      { path: ['GHTRADER_JOBS_LEASE_S'], code: 'too_small', message: 'must be ≥ 3 × heartbeat' },
    ]);
  });

  it('accepts a lease of exactly 3 heartbeats', () => {
    // Act
    const config = loadConfig({ GHTRADER_JOBS_HEARTBEAT_S: '5', GHTRADER_JOBS_LEASE_S: '15' });

    // Assess
    expect(config.jobs.leaseS).toBe(15);
  });

  it('checks the lease against the default heartbeat when only the lease is set', () => {
    // Act
    const err = rejection({ GHTRADER_JOBS_LEASE_S: '10' });

    // Assess
    expect(err.message).toContain('GHTRADER_JOBS_HEARTBEAT_S (5)');
  });
  it('treats a whitespace-only value as unset instead of reading it as 0', () => {
    // Act
    const config = loadConfig({ GHTRADER_LOCK_WAIT_TIMEOUT_S: ' ' });

    // Assess
    expect(config.jobs.lockWaitTimeoutS).toBe(120);
  });
});
