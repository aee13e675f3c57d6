/**
 * One Lambda function built from a handler file in `functions/`: Node.js 22 on arm64, bundled by the local esbuild
 * (no Docker) into one minified ESM file with the AWS SDK inside, its own log group with a retention, and its own role
 * that starts with no permissions at all (no AWS managed policy): callers grant exactly what the handler needs.
 */
import path from 'node:path';
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * ESM bundles have no `require`; CommonJS dependencies bundled into them (parts of the AWS SDK, pino) call it for
 * Node built-ins. This banner gives them one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** The runtime every function targets; keep in step with `target` below and the platform's Node 22 baseline. */
export const FUNCTION_RUNTIME = Runtime.NODEJS_22_X;

/**
 * Size budget of each minified function bundle (bytes, decimal), by handler name (`functions/<name>.ts`); checked by
 * the cdk tests and reported by the control-plane bench. 1 MB each, but three at 1.5 MB: the jobs worker and the
 * reconciler carry the data chain (QuestDB and DIFF clients, the S3 and Secrets Manager SDK clients, and the job-log
 * store on S3; ~1.2 and ~1.03 MB), and the HTTP API the whole web app (hono, pages, every route and schema, the
 * DynamoDB, SQS, S3 and Redis clients; ~1.05 MB).
 */
const LARGE_BUNDLES = new Set(['jobs-worker', 'jobs-reconciler', 'http-api']);

export function bundleBudgetBytes(handler: string): number {
  return LARGE_BUNDLES.has(handler) ? 1_500_000 : 1_000_000;
}

export interface GhtraderFunctionProps {
  /** Repository root: the esbuild working directory and where `package-lock.json` lives. */
  repoRoot: string;
  /** Handler file relative to the repository root, e.g. `functions/jobs-worker.ts`; it must export `handler`. */
  entry: string;
  /** Physical function name. */
  functionName: string;
  description: string;
  timeout: Duration;
  memorySize: number;
  environment: Record<string, string>;
  logRetention: RetentionDays;
  /** Shell commands run after bundling (`(inputDir, outputDir) => commands`), e.g. to ship files with the bundle. */
  afterBundling?: (inputDir: string, outputDir: string) => string[];
}

export class GhtraderFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: GhtraderFunctionProps) {
    super(scope, id);
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.functionName}`,
    });
    const logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // In place of AWSLambdaBasicExecutionRole (which allows writing to any log group): this log group only.
    logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      entry: path.join(props.repoRoot, props.entry),
      handler: 'handler',
      projectRoot: props.repoRoot,
      depsLockFilePath: path.join(props.repoRoot, 'package-lock.json'),
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup,
      environment: props.environment,
      bundling: {
        forceDockerBundling: false,
        minify: true,
        // No source maps: they would double the bundle (budget < 1 MB) and need --enable-source-maps at start-up.
        sourceMap: false,
        target: 'node22',
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        // Bundle the AWS SDK too, so the deployed SDK is the version pinned in package-lock.json, not the runtime's.
        externalModules: [],
        ...(props.afterBundling
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: props.afterBundling,
              },
            }
          : {}),
      },
    });

    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        "Pinned to Node.js 22, the Lambda runtime of the architecture, matching the bundles' esbuild target node22; " +
        'a newer runtime is a deliberate upgrade of runtime and target together, tested before it ships',
    });
  }
}
