/**
 * `ArtifactStore` on an S3 bucket (the cloud side of data-chain §0): each key is one object under an optional store
 * prefix. A PutObject is atomic (readers see the old or the new object, never half of one); `list` treats its prefix
 * as a directory path exactly like `LocalArtifactStore`.
 */
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { ArtifactKeyError, type ArtifactStore, assertArtifactKey } from '../../domain/data/artifacts.ts';
import { DataChainError } from '../../errors/data.ts';

/** S3 returns at most 1000 keys per ListObjectsV2 page. */
const MAX_PAGE_SIZE = 1000;

/** Lowercase letters, digits, dots and hyphens, 3–63 characters, starting and ending alphanumeric. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export interface S3ArtifactStoreOptions {
  client: S3Client;
  bucket: string;
  /** Prepended to every key, e.g. `ghtrader/`: empty, or artifact-key segments ending with `/`. */
  prefix?: string;
  /** Keys per ListObjectsV2 page (1–1000, default 1000); tests lower it to exercise pagination. */
  listPageSize?: number;
}

export class S3ArtifactStore implements ArtifactStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly listPageSize: number;

  constructor(options: S3ArtifactStoreOptions) {
    const prefix = options.prefix ?? '';
    if (!BUCKET.test(options.bucket)) {
      throw new DataChainError(
        'artifact_bucket_invalid',
        `S3 bucket name ${JSON.stringify(options.bucket)} is not valid: use 3-63 lowercase letters, digits, dots or hyphens`,
        { details: { bucket: options.bucket } },
      );
    }
    if (prefix !== '' && !isKeyPrefix(prefix)) {
      throw new DataChainError(
        'artifact_prefix_invalid',
        `S3 artifact prefix ${JSON.stringify(prefix)} is not valid: use '' or slash-separated segments ` +
          `[A-Za-z0-9._@=-] (no '.', '..' or empty segment) ending with '/', e.g. 'ghtrader/'`,
        { details: { prefix } },
      );
    }
    const pageSize = options.listPageSize ?? MAX_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw new DataChainError(
        'artifact_list_page_size_invalid',
        `S3 list page size ${pageSize} is not valid: use an integer from 1 to ${MAX_PAGE_SIZE}`,
        { details: { listPageSize: pageSize } },
      );
    }
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = prefix;
    this.listPageSize = pageSize;
  }

  private objectKey(key: string): string {
    return `${this.prefix}${assertArtifactKey(key)}`;
  }

  async put(key: string, body: string | Uint8Array): Promise<string> {
    const objectKey = this.objectKey(key);
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: objectKey,
        Body: bytes,
        // Explicit, so an empty body is sent as a sized (zero-length) object rather than a stream of unknown length.
        ContentLength: bytes.byteLength,
        ContentType: key.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      }),
    );
    return this.uri(key);
  }

  async get(key: string): Promise<Uint8Array | null> {
    const objectKey = this.objectKey(key);
    let out: GetObjectCommandOutput;
    try {
      out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (err) {
      if (isMissingObject(err)) return null;
      throw err;
    }
    if (out.Body === undefined) {
      throw new DataChainError(
        'artifact_body_missing',
        `S3 GetObject ${this.uri(key)} answered without a body; check that the endpoint is a real S3 API`,
        { details: { bucket: this.bucket, key: objectKey } },
      );
    }
    return out.Body.transformToByteArray();
  }

  async list(prefix: string): Promise<string[]> {
    const base = prefix.replace(/\/+$/, '');
    // Like a directory: `reports/a` lists `reports/a/...`, never `reports/ab/...`.
    const under = base === '' ? this.prefix : `${this.objectKey(base)}/`;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          ...(under === '' ? {} : { Prefix: under }),
          MaxKeys: this.listPageSize,
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key;
        // Zero-byte `folder/` markers (made by the S3 console) are not artifacts, as directories are not locally.
        if (key === undefined || key.endsWith('/')) continue;
        keys.push(key.slice(this.prefix.length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && token === undefined) {
        throw new DataChainError(
          'artifact_list_truncated',
          `S3 ListObjectsV2 on s3://${this.bucket}/${under} said the listing is truncated but gave no continuation ` +
            'token; the endpoint does not implement S3 pagination',
          { details: { bucket: this.bucket, prefix: under } },
        );
      }
    } while (token !== undefined);
    return keys.sort();
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }
}

/** An S3 client for artifacts; `endpoint` points it at a local emulator (path-style addressing). */
export function s3ClientFor(options: {
  region: string;
  endpoint?: string;
  /** Explicit credentials (emulators in tests); omit to use the default provider chain. */
  credentials?: S3ClientConfig['credentials'];
}): S3Client {
  return new S3Client({
    region: options.region,
    maxAttempts: 3,
    // Every call has a deadline (the socket may idle at most this long); the SDK retries within maxAttempts.
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 30_000 },
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint, forcePathStyle: true }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
}

/** `segment/segment/.../` with every segment a valid artifact-key segment. */
function isKeyPrefix(prefix: string): boolean {
  if (!prefix.endsWith('/')) return false;
  try {
    assertArtifactKey(prefix.slice(0, -1));
    return true;
  } catch (err) {
    if (err instanceof ArtifactKeyError) return false;
    throw err;
  }
}

/** NoSuchKey (or a bare 404), but not NoSuchBucket: a missing bucket is a misconfiguration, not an absent artifact. */
function isMissingObject(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e.name === 'NoSuchBucket') return false;
  return e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}
