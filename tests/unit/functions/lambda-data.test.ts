import { describe, expect, it } from 'vitest';
import { dataChainNotConfigured, diffEnvFromSecret, lambdaDataSettings } from '#functions/lambda-data.ts';
import { DataChainError } from '#shared/errors/data.ts';

describe('data chain settings of a Lambda deployment', () => {
  it('is enabled with QuestDB and the artifacts bucket, the DIFF secret optional', () => {
    // Act
    const s = lambdaDataSettings({
      GHTRADER_QUESTDB_HTTP: 'http://questdb.internal:9000',
      GHTRADER_ARTIFACTS_BUCKET: 'ghtrader-prod-artifacts',
      GHTRADER_DIFF_SECRET_ID: 'arn:aws:secretsmanager:us-east-1:1:secret:ghtrader-diff',
    });
    // Assess
    expect(s).toEqual({
      enabled: true,
      questdbHttp: 'http://questdb.internal:9000',
      artifactsBucket: 'ghtrader-prod-artifacts',
      diffSecretId: 'arn:aws:secretsmanager:us-east-1:1:secret:ghtrader-diff',
    });
  });

  it('is disabled, naming what is missing, when QuestDB or the bucket is unset or blank', () => {
    expect(lambdaDataSettings({})).toEqual({
      enabled: false,
      missing: ['GHTRADER_QUESTDB_HTTP', 'GHTRADER_ARTIFACTS_BUCKET'],
    });
    expect(lambdaDataSettings({ GHTRADER_QUESTDB_HTTP: 'http://q:9000', GHTRADER_ARTIFACTS_BUCKET: ' ' })).toEqual({
      enabled: false,
      missing: ['GHTRADER_ARTIFACTS_BUCKET'],
    });
  });

  it('refuses a malformed value with the key named', () => {
    const bad = () => lambdaDataSettings({ GHTRADER_QUESTDB_HTTP: 'questdb:9000', GHTRADER_ARTIFACTS_BUCKET: 'b_' });
    expect(bad).toThrow(DataChainError);
    expect(bad).toThrow(/GHTRADER_QUESTDB_HTTP: .*GHTRADER_ARTIFACTS_BUCKET: an S3 bucket name/);
  });

  it('names the missing keys and the CDK setting in the not-configured error', () => {
    const err = dataChainNotConfigured(['GHTRADER_QUESTDB_HTTP']);
    expect(err.code).toBe('data_chain_not_configured');
    expect(err.message).toMatch(/GHTRADER_QUESTDB_HTTP unset; deploy with the CDK stage setting questdbHttp/);
  });
});

describe('DIFF credentials from the Secrets Manager secret', () => {
  const ID = 'ghtrader-dev-diff-credentials';

  it('maps the JSON keys onto the GHTRADER_DIFF_* settings', () => {
    expect(diffEnvFromSecret(ID, '{"user":"u1","password":"p@ss","client_secret":"cs"}')).toEqual({
      GHTRADER_DIFF_USER: 'u1',
      GHTRADER_DIFF_PASSWORD: 'p@ss',
      GHTRADER_DIFF_CLIENT_SECRET: 'cs',
    });
    expect(diffEnvFromSecret(ID, '{"user":"u1","password":"p"}')).toEqual({
      GHTRADER_DIFF_USER: 'u1',
      GHTRADER_DIFF_PASSWORD: 'p',
    });
  });

  it('refuses an empty, non-JSON or wrongly shaped secret without echoing any value', () => {
    // Prepare
    const cases: [string | undefined, RegExp][] = [
      [undefined, /holds no value/],
      ['  ', /holds no value/],
      ['user=u1;password=hunter2', /is not JSON/],
      ['{"user":"u1","pasword":"hunter2"}', /bad or unknown keys \[.*\]/],
      ['{"user":"","password":"hunter2"}', /bad or unknown keys \[user\]/],
    ];
    for (const [secret, message] of cases) {
      // Act
      let caught: unknown;
      try {
        diffEnvFromSecret(ID, secret);
      } catch (err) {
        caught = err;
      }
      // Assess
      expect(caught, String(secret)).toBeInstanceOf(DataChainError);
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).toContain(ID);
      expect((caught as Error).message).not.toContain('hunter2');
    }
  });
});
