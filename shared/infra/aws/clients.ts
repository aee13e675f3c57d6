/**
 * AWS SDK clients built from config. The same clients talk to dynalite/fauxqs locally, to localstack or moto in CI,
 * and to AWS in the cloud: only the endpoint differs (`AWS_ENDPOINT_URL`, or the per-service
 * `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL_SECRETS_MANAGER`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AppConfig } from '../../config.ts';

/** Every call has a deadline: the SDK retries within it, then the caller sees the error. */
const REQUEST_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 2_000;

function endpointOptions(endpoint: string | undefined) {
  if (!endpoint) return {};
  // Emulators accept any credentials; real ones from the environment still win when present.
  const hasEnvCreds = Boolean(process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY);
  return {
    endpoint,
    ...(hasEnvCreds ? {} : { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  };
}

export interface AwsClients {
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  destroy(): void;
}

/** Create one set of clients per process (composition root or Lambda module scope). */
export function createAwsClients(config: AppConfig): AwsClients {
  // `throwOnRequestTimeout`: without it this SDK only logs a warning past `requestTimeout` and keeps waiting.
  const requestHandler = {
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    throwOnRequestTimeout: true,
  };
  const dynamo = new DynamoDBClient({
    region: config.aws.region,
    maxAttempts: 3,
    requestHandler,
    ...endpointOptions(config.aws.dynamoEndpoint),
  });
  const doc = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  const sqs = new SQSClient({
    region: config.aws.region,
    maxAttempts: 3,
    // Long polls hold a request open for up to 20 s; the SQS client therefore gets a longer deadline.
    requestHandler: { requestTimeout: 25_000, connectionTimeout: CONNECT_TIMEOUT_MS, throwOnRequestTimeout: true },
    ...endpointOptions(config.aws.sqsEndpoint),
  });
  return {
    dynamo,
    doc,
    sqs,
    destroy() {
      doc.destroy();
      dynamo.destroy();
      sqs.destroy();
    },
  };
}

/**
 * The Secrets Manager client of a process that keeps broker-account secrets there (`GHTRADER_ACCOUNT_SECRET_PREFIX`).
 * Created only by such processes, so the local stack never builds one.
 */
export function secretsManagerClientFor(config: AppConfig): SecretsManagerClient {
  return new SecretsManagerClient({
    region: config.aws.region,
    maxAttempts: 3,
    requestHandler: {
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionTimeout: CONNECT_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
    ...endpointOptions(config.aws.secretsManagerEndpoint),
  });
}
