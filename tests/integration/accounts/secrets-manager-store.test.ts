/**
 * The AWS Secrets Manager `SecretStore` through the real SDK client (built by `secretsManagerClientFor` from config)
 * against `SecretsManagerServer`, a local server speaking the service's JSON protocol: names under the stage prefix,
 * create then update (value and summary together), summaries read without any `GetSecretValue`, paginated prefix
 * listing, forced deletion, the create-after-delete retry, and service errors as 503 without secret values.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '#shared/config.ts';
import type { AccountSecret } from '#shared/domain/control/secret-store.ts';
import { DependencyUnavailableError, SecretStoreInvalidError } from '#shared/errors/control.ts';
import { secretsManagerClientFor } from '#shared/infra/aws/clients.ts';
import { accountSecretPrefix } from '#shared/infra/aws/definitions.ts';
import { SecretsManagerSecretStore } from '#shared/infra/aws/secret-store.ts';
import { FileSecretStore } from '#shared/infra/local/secret-store.ts';
import { secretStoreFor } from '#shared/services/runtime.ts';
import { SecretsManagerServer } from './secrets-manager-server.ts';

const PREFIX = accountSecretPrefix('itest');
const PASSWORD = 'sm-Password-4711';

let server: SecretsManagerServer;
let store: SecretsManagerSecretStore;

const secret = (profile: string, over: Partial<AccountSecret> = {}): AccountSecret => ({
  v: 1,
  profile,
  broker_id: 'ghsim',
  account_id: 'sm-acct-99887766',
  password: PASSWORD,
  updated_at: '2025-01-02T03:04:05.678Z',
  ...over,
});

beforeAll(async () => {
  server = await SecretsManagerServer.start();
  const config = loadConfig({
    AWS_ENDPOINT_URL_SECRETS_MANAGER: server.endpoint,
    GHTRADER_ACCOUNT_SECRET_PREFIX: PREFIX,
  });
  const built = secretStoreFor(config);
  if (!(built instanceof SecretsManagerSecretStore)) throw new Error('expected the Secrets Manager store');
  // No waiting between create retries in tests; the retry count is what is checked.
  store = new SecretsManagerSecretStore(secretsManagerClientFor(config), PREFIX, async () => undefined);
  built.close();
});

beforeEach(() => {
  server.reset();
});

afterAll(async () => {
  store.close();
  await server.close();
});

describe('SecretsManagerSecretStore', () => {
  it('is the store a process gets when GHTRADER_ACCOUNT_SECRET_PREFIX is set, and files otherwise', () => {
    // Act
    const aws = secretStoreFor(loadConfig({ GHTRADER_ACCOUNT_SECRET_PREFIX: PREFIX }));
    const local = secretStoreFor(loadConfig({}));

    // Assess
    expect(aws.kind).toBe('aws_secrets_manager');
    expect(local).toBeInstanceOf(FileSecretStore);
    aws.close();
  });

  it('creates ghtrader/<stage>/accounts/<profile> with the JSON secret and a summary description, signed', async () => {
    // Act
    const r = await store.put(secret('alt_01'));

    // Assess
    expect(r).toEqual({ created: true, password_changed: true });
    expect(server.operations()).toEqual(['CreateSecret']);
    const req = server.requests[0];
    expect(req?.signed).toBe(true);
    expect(req?.body.Name).toBe('ghtrader/itest/accounts/alt_01');
    expect(JSON.parse(String(req?.body.SecretString))).toEqual(secret('alt_01'));
    const description = JSON.parse(String(req?.body.Description));
    expect(description).toMatchObject({ profile: 'alt_01', broker_id: 'ghsim', account_id_masked: 'sm***66' });
    expect(String(req?.body.Description)).not.toContain(PASSWORD);
    expect(String(req?.body.Description)).not.toContain('99887766');
  });

  it('replaces an existing secret with UpdateSecret: new value and new summary in one call', async () => {
    // Prepare
    await store.put(secret('p'));
    server.requests.length = 0;

    // Act
    const r = await store.put(
      secret('p', { broker_id: 'simnow', password: 'changed-pw', updated_at: '2025-02-01T00:00:00.000Z' }),
    );

    // Assess
    expect(r).toEqual({ created: false, password_changed: true });
    expect(server.operations()).toEqual(['CreateSecret', 'UpdateSecret']);
    const update = server.requests[1]?.body ?? {};
    expect(update.SecretId).toBe('ghtrader/itest/accounts/p');
    expect(JSON.parse(String(update.SecretString)).password).toBe('changed-pw');
    expect(JSON.parse(String(update.Description)).broker_id).toBe('simnow');
    expect(await store.get('p')).toMatchObject({ broker_id: 'simnow', password: 'changed-pw' });
  });

  it('describes and lists from names and descriptions alone, never reading a secret value', async () => {
    // Prepare
    server.pageSize = 2;
    for (const p of ['e', 'b', 'd', 'a', 'c']) await store.put(secret(p, { account_id: `acct-${p}-000111` }));
    server.secrets.set('ghtrader/other/accounts/x', {
      name: 'ghtrader/other/accounts/x',
      arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ghtrader/other/accounts/x-abcdef',
      value: '{}',
      description: undefined,
      versions: 1,
      deletedDate: undefined,
    });
    server.requests.length = 0;

    // Act
    const list = await store.list();
    const one = await store.describe('c');
    const none = await store.describe('zz');

    // Assess
    expect(list.map((s) => s.profile)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(list[2]).toEqual({
      profile: 'c',
      broker_id: 'ghsim',
      account_id_masked: 'ac***11',
      updated_at: '2025-01-02T03:04:05.678Z',
    });
    expect(one).toEqual(list[2]);
    expect(none).toBeNull();
    expect(server.operations()).toEqual([
      'ListSecrets',
      'ListSecrets',
      'ListSecrets',
      'DescribeSecret',
      'DescribeSecret',
    ]);
    const filters = server.requests.filter((r) => r.operation === 'ListSecrets').map((r) => r.body.Filters);
    expect(filters).toEqual([0, 1, 2].map(() => [{ Key: 'name', Values: ['ghtrader/itest/accounts/'] }]));
    expect(server.requests.map((r) => r.body.NextToken)).toEqual([undefined, '2', '4', undefined, undefined]);
  });

  it('deletes with ForceDeleteWithoutRecovery, and reports a missing secret as false without deleting', async () => {
    // Prepare
    await store.put(secret('gone'));
    server.requests.length = 0;

    // Act
    const first = await store.delete('gone');
    const second = await store.delete('gone');

    // Assess
    expect([first, second]).toEqual([true, false]);
    expect(server.operations()).toEqual(['DescribeSecret', 'DeleteSecret', 'DescribeSecret']);
    expect(server.requests[1]?.body).toEqual({
      SecretId: 'ghtrader/itest/accounts/gone',
      ForceDeleteWithoutRecovery: true,
    });
    expect(server.secrets.has('ghtrader/itest/accounts/gone')).toBe(false);
  });

  it('retries a create that AWS refuses while a deletion of that name is still finishing', async () => {
    // Prepare
    server.pendingDeletion.set('ghtrader/itest/accounts/again', 2);

    // Act
    const r = await store.put(secret('again'));

    // Assess
    expect(r.created).toBe(true);
    expect(server.operations()).toEqual(['CreateSecret', 'CreateSecret', 'CreateSecret']);
  });

  it('reads the whole secret back with GetSecretValue, and null for a profile without one', async () => {
    // Prepare
    await store.put(secret('full'));

    // Act
    const got = await store.get('full');
    const missing = await store.get('missing');

    // Assess
    expect(got).toEqual(secret('full'));
    expect(missing).toBeNull();
  });

  it('answers a service failure as 503 dependency_unavailable naming the operation, never a value', async () => {
    // Prepare
    server.failWith = { type: 'InternalServiceError', status: 500 };

    // Act
    const err = await store.put(secret('down')).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    const e = err as DependencyUnavailableError;
    expect(e.status).toBe(503);
    expect(e.message).toContain('CreateSecret: InternalServiceError');
    expect(e.message).not.toContain(PASSWORD);
  });

  it('reports a secret under the prefix whose description is not ours as unreadable, by name only', async () => {
    // Prepare
    server.secrets.set(`${PREFIX}stray`, {
      name: `${PREFIX}stray`,
      arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:stray-abcdef',
      value: JSON.stringify(secret('stray')),
      description: 'made by hand',
      versions: 1,
      deletedDate: undefined,
    });

    // Act
    const err = await store.list().catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(SecretStoreInvalidError);
    expect((err as Error).message).toContain(`${PREFIX}stray`);
    expect((err as Error).message).not.toContain(PASSWORD);
  });
});
