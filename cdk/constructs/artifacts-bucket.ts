/**
 * The S3 bucket of the data chain's reports and artifacts (`GHTRADER_ARTIFACTS_BUCKET`), and the bucket that receives
 * its server access logs. Both block all public access, refuse requests without TLS, are encrypted with S3-managed
 * keys, have CloudFormation-generated names, and are retained when the stack is deleted, in every stage (deleting a
 * non-empty bucket with the stack would need an auto-delete custom resource Lambda; an operator empties and deletes a
 * retained bucket by hand instead).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Days an overwritten (noncurrent) artifact version is kept: time enough to notice and undo a bad overwrite. */
export const NONCURRENT_VERSION_DAYS = 30;

/** Days an unfinished multipart upload (an operator's large upload that died) is kept before S3 aborts it. */
export const INCOMPLETE_UPLOAD_DAYS = 7;

/** Key prefix of the artifacts bucket's server access logs in the log bucket. */
export const ACCESS_LOG_PREFIX = 'artifacts/';

export interface ArtifactsBucketProps {
  /** Days server access logs are kept before S3 expires them. */
  accessLogRetentionDays: number;
}

export class ArtifactsBucket extends Construct {
  /** Reports and artifacts; versioned. */
  readonly bucket: Bucket;
  /** Server access logs of `bucket`; logs expire after `accessLogRetentionDays`. */
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: ArtifactsBucketProps) {
    super(scope, id);
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // S3 delivers server access logs only to a bucket encrypted with S3-managed keys (SSE-S3), not with KMS.
      encryption: BucketEncryption.S3_MANAGED,
      // No ACLs: S3's log delivery writes through the bucket policy CDK adds for `serverAccessLogsBucket` below.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogRetentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
      autoDeleteObjects: false,
    });
    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // A report rewritten by a re-run (or by mistake) keeps its previous version for NONCURRENT_VERSION_DAYS.
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: ACCESS_LOG_PREFIX,
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(INCOMPLETE_UPLOAD_DAYS),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
      autoDeleteObjects: false,
    });
  }
}
