/**
 * The `ArtifactStore` contract on `S3ArtifactStore` against the embedded emulator (fauxqs serves S3 path-style on the
 * SQS endpoint), with and without a store prefix, each test in its own bucket; then the S3-only behaviour: the store
 * prefix, Content-Type, pagination, and configuration errors.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore, s3ClientFor } from '#shared/infra/artifacts/s3.ts';
import { type LocalEmulators, startEmulators } from '#shared/infra/local/emulators.ts';
import { artifactStoreContract } from './contract.ts';

let emu: LocalEmulators;
let client: S3Client;

beforeAll(async () => {
  emu = await startEmulators();
  client = s3ClientFor({
    region: 'us-east-1',
    endpoint: emu.sqsEndpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});
afterAll(async () => {
  client?.destroy();
  await emu?.stop();
});

async function createBucket(): Promise<string> {
  const bucket = `ghtrader-test-${randomBytes(6).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Every object key in the bucket, read raw (no store prefix applied). */
async function rawKeys(bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, ...(token === undefined ? {} : { ContinuationToken: token }) }),
    );
    for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

async function deleteBucket(bucket: string): Promise<void> {
  const keys = await rawKeys(bucket);
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

artifactStoreContract('s3', async () => {
  const bucket = await createBucket();
  return { store: new S3ArtifactStore({ client, bucket }), cleanup: () => deleteBucket(bucket) };
});

artifactStoreContract('s3 with prefix ghtrader/', async () => {
  const bucket = await createBucket();
  // A foreign object beside the store prefix must never show up in the store's listings.
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'other/reports/a/1.json', Body: '{}' }));
  return {
    store: new S3ArtifactStore({ client, bucket, prefix: 'ghtrader/' }),
    cleanup: () => deleteBucket(bucket),
  };
});

describe('S3ArtifactStore', () => {
  let bucket: string;

  beforeEach(async () => {
    bucket = await createBucket();
  });
  afterEach(async () => {
    await deleteBucket(bucket);
  });

  it('stores objects under its prefix and lists keys relative to it', async () => {
    // Prepare
    const store = new S3ArtifactStore({ client, bucket, prefix: 'env/ghtrader/' });
    const bare = new S3ArtifactStore({ client, bucket });
    // Act
    const uri = await store.put('reports/x/a.json', '{}');
    await bare.put('reports/x/b.json', '{}');
    // Assess
    expect(uri).toBe(`s3://${bucket}/env/ghtrader/reports/x/a.json`);
    expect(await rawKeys(bucket)).toEqual(['env/ghtrader/reports/x/a.json', 'reports/x/b.json']);
    expect(await store.list('')).toEqual(['reports/x/a.json']);
    expect(await store.list('reports/x')).toEqual(['reports/x/a.json']);
    expect(await bare.list('')).toEqual(['env/ghtrader/reports/x/a.json', 'reports/x/b.json']);
    expect(await store.get('reports/x/b.json')).toBeNull();
  });

  it('sets Content-Type application/json for .json keys and application/octet-stream otherwise', async () => {
    // Prepare
    const store = new S3ArtifactStore({ client, bucket });
    // Act
    await store.put('reports/x/a.json', '{}');
    await store.put('models/cu/weights.bin', new Uint8Array([0, 255]));
    // Assess
    const json = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'reports/x/a.json' }));
    const bin = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'models/cu/weights.bin' }));
    expect(json.ContentType).toBe('application/json');
    expect(bin.ContentType).toBe('application/octet-stream');
  });

  it('follows continuation tokens until the listing is complete', async () => {
    // Prepare: keys whose locale order equals their byte order; fauxqs 1.9.2 sorts pages with localeCompare but
    // resumes after the token by byte order, so it drops keys mixing case or `_` with digits across pages.
    const store = new S3ArtifactStore({ client, bucket, prefix: 'p/', listPageSize: 2 });
    const keys = ['reports/a/0.json', 'reports/a/1.json', 'reports/a/2.json', 'reports/a/3.json', 'reports/a/4.json'];
    for (const key of [...keys].reverse()) await store.put(key, '{}');
    await store.put('reports/ab/5.json', '{}');
    // Act
    const listed = await store.list('reports/a');
    // Assess
    expect(listed).toEqual(keys);
  });

  it('fails rather than answering null when the bucket does not exist', async () => {
    // Prepare
    const store = new S3ArtifactStore({ client, bucket: `${bucket}-missing` });
    // Act
    const got = store.get('reports/x/a.json');
    // Assess
    await expect(got).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });

  it.each(['ghtrader', '/ghtrader/', 'a//', '../', 'a/./', '/'])('refuses the store prefix %j', (prefix) => {
    // Act
    const make = () => new S3ArtifactStore({ client, bucket, prefix });
    // Assess
    expect(make).toThrow(expect.objectContaining({ code: 'artifact_prefix_invalid' }));
  });

  it.each(['', 'Upper', 'a_b', 'x'.repeat(64)])('refuses the bucket name %j', (name) => {
    // Act
    const make = () => new S3ArtifactStore({ client, bucket: name });
    // Assess
    expect(make).toThrow(expect.objectContaining({ code: 'artifact_bucket_invalid' }));
  });

  it.each([0, 1001, 2.5])('refuses the list page size %j', (listPageSize) => {
    // Act
    const make = () => new S3ArtifactStore({ client, bucket, listPageSize });
    // Assess
    expect(make).toThrow(expect.objectContaining({ code: 'artifact_list_page_size_invalid' }));
  });
});
