/**
 * The hosted console (`ghtrader-<stage>-console`): one CloudFront distribution on the console host in front of
 *
 * - the HTTP API (API Gateway HTTP API, payload v2, Lambda proxy to `functions/http-api.ts`: the same hono app as
 *   `ghtrader up`, with the built client bundled beside it under `static/`), the default behaviour, and
 * - the WebSocket API (control-chain §7 AWS): `$connect` behind the REQUEST authorizer `ws-authorizer` (session cookie
 *   plus Origin, or bearer), `$disconnect`, `$default`, on the stage `ws` so the CloudFront path `/ws` is the stage
 *   path and the host-only session cookie travels with the upgrade request.
 *
 * A CloudFront viewer-request function copies the viewer's `Host` into `X-Forwarded-Host` (overwriting anything the
 * viewer sent), which is where the apps read the console origin from behind proxies (`web/security/request-origin.ts`,
 * `GHTRADER_TRUSTED_PROXY_HOPS=2`: CloudFront appends the viewer to `X-Forwarded-For`, API Gateway appends CloudFront).
 * The colo broadcaster is not deployed here: the stack outputs its Management endpoint and a managed policy to attach
 * to the colo host's role.
 */
import {
  ArnFormat,
  type CfnElement,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { AccessLogFormat, CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpStage, LogGroupLogDestination, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  AllowedMethods,
  CachePolicy,
  CacheQueryStringBehavior,
  Distribution,
  Function as EdgeFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  Grant,
  type IGrantable,
  type IManagedPolicy,
  ManagedPolicy,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import {
  ACCOUNT_SECRET_PREFIX_ENV,
  accountSecretPrefix,
  ORIGIN_SECRET_HEADER,
  QUEUES,
  TABLE_IDS,
  type TableId,
  tableEnvVar,
} from '#shared/infra/aws/definitions.ts';
import { GhtraderFunction } from '../constructs/ghtrader-function.ts';
import type { JobQueues } from '../constructs/job-queues.ts';
import { staticAssetCommands } from '../constructs/static-assets.ts';
import { grantTableAccess, type TableAccess } from '../constructs/table-access.ts';
import type { StageSettings } from '../stage-settings.ts';
import type { GhtraderTable, GhtraderTables } from './data-stores-stack.ts';

/**
 * Proxies in front of the functions that each append one `X-Forwarded-For` entry: CloudFront (the viewer's address)
 * and API Gateway (CloudFront's). The client ip is the second entry from the right.
 */
export const TRUSTED_PROXY_HOPS = 2;

/** The WebSocket API stage; also the CloudFront path of the socket (`wss://<console host>/ws`). */
export const WS_STAGE_NAME = 'ws';

/** CloudFront path pattern of the WebSocket behaviour: exactly the stage path the client opens. */
export const WS_PATH_PATTERN = `/${WS_STAGE_NAME}`;

/** CloudFront path pattern of the hash-versioned client assets (`/static/<name>?v=<hash>`). */
export const STATIC_PATH_PATTERN = '/static/*';

/**
 * The viewer-request function of the HTTP and WebSocket behaviours (cloudfront-js-2.0): `X-Forwarded-Host` becomes
 * the viewer's `Host`, replacing any value the viewer sent, so the origin check and the session cookie's `__Host-`
 * rules see the console host rather than the execute-api host (the origin request policy forwards every viewer header
 * but `Host`).
 */
export const FORWARDED_HOST_FUNCTION_CODE = `function handler(event) {
  var request = event.request;
  var host = request.headers.host;
  if (host && host.value) {
    request.headers['x-forwarded-host'] = { value: host.value };
  } else {
    delete request.headers['x-forwarded-host'];
  }
  return request;
}
`;

/**
 * The HTTP API's table access, following what `web/deps-from-runtime.ts` builds on `shared/services/runtime.ts`:
 * - users: sessions, tokens, users, one-time logins and login rate-limit counters (put, update, delete, query).
 * - jobs: submit (job and dedupe items), cancel, lists through the indexes; the status probe also describes it.
 * - config: revisions and desired documents (`desired/<component>/<profile>`) are appended with a conditional put and
 *   read; never updated or deleted.
 * - audit: every route appends entries; the audit page reads them. Nothing may change or delete one.
 * - tradingState: read only — the supervisors' telemetry (desired status, the Trading and System pages, the SLO),
 *   the AWS broadcaster's flushed counters (`/api/observability/ws`) and each account's last verification.
 * - locks: read only — who holds a gateway's lease `trade:account=<p>` (account delete and `account.verify` are
 *   refused while it is held); the app never takes, renews or releases a lock.
 * - commands: append and read — operator commands (`POST /api/gateway/command`, `/api/trading/risk-kill`) are put
 *   conditionally on a new `command_id`, and the history reads them; never updated or deleted.
 * - riskKill: read only — the durable risk-kill state (the audit's `before`, `GET /api/trading/risk-kill`); only the
 *   colo gateway writes it.
 * Not listed (no service of the app touches them): migrationLedger, wsConnections.
 */
export const HTTP_API_TABLE_ACCESS: Partial<Record<TableId, TableAccess>> = {
  users: 'readWrite',
  jobs: 'readWrite',
  config: 'appendAndRead',
  audit: 'appendAndRead',
  tradingState: 'read',
  locks: 'read',
  commands: 'appendAndRead',
  riskKill: 'read',
};

/**
 * What the HTTP API may do with broker-account secrets (`SecretsManagerSecretStore`): create a secret, replace its
 * value and summary (`UpdateSecret`), delete it, and read its summary (`DescribeSecret`). Never `GetSecretValue`:
 * passwords are write-only for the console; only the jobs worker reads them to log in.
 */
export const HTTP_API_ACCOUNT_SECRET_ACTIONS = [
  'secretsmanager:CreateSecret',
  'secretsmanager:DeleteSecret',
  'secretsmanager:DescribeSecret',
  'secretsmanager:UpdateSecret',
] as const;

export interface ConsoleStackProps extends StackProps {
  settings: StageSettings;
  tables: GhtraderTables;
  /** The jobs stack's queues: the HTTP API sends to `jobs` and reads both queues' depths for `/api/status`. */
  queues: JobQueues;
  /** The artifacts bucket: the HTTP API reads job logs (`jobs/<id>/…`) from it, nothing else. */
  artifactsBucket: IBucket;
  /** The jobs stack's read-only policy on job log objects (`jobs/*`), attached to the HTTP API's role. */
  jobLogReadPolicy: IManagedPolicy;
  /** Repository root, for bundling the handlers in `functions/` and building the client. */
  repoRoot: string;
}

export class ConsoleStack extends Stack {
  readonly httpApiFunction: GhtraderFunction;
  readonly wsAuthorizer: GhtraderFunction;
  readonly wsConnect: GhtraderFunction;
  readonly wsDisconnect: GhtraderFunction;
  readonly wsDefault: GhtraderFunction;
  readonly httpApi: HttpApi;
  readonly httpStage: HttpStage;
  readonly wsApi: WebSocketApi;
  readonly wsStage: WebSocketStage;
  readonly wsAuthorizerConstruct: WebSocketLambdaAuthorizer;
  /** HMAC key of list cursors (`GHTRADER_CURSOR_SECRET`), generated at deploy. */
  readonly cursorSecret: Secret;
  /** What CloudFront sends in `x-ghtrader-origin` and the app and authorizer require (`GHTRADER_ORIGIN_SECRET`). */
  readonly originSecret: Secret;
  readonly forwardedHostFunction: EdgeFunction;
  readonly distribution: Distribution;
  /** CloudFront standard access logs. */
  readonly accessLogs: Bucket;
  /** Role API Gateway writes the WebSocket stage's access logs with (account-level setting). */
  readonly apiGatewayLogsRole: Role;
  /** Attach to the colo host's role: what `ghtrader broadcaster` needs of this API and the WsConnections table. */
  readonly broadcasterPolicy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: ConsoleStackProps) {
    super(scope, id, props);
    const { settings, tables, queues, repoRoot } = props;
    const name = (suffix: string) => `${settings.resourcePrefix}${suffix}`;
    const { jobs: jobsQueue, jobsDlq } = queues.queues;

    const tableEnvironment: Record<string, string> = {
      ...Object.fromEntries(TABLE_IDS.map((tableId) => [tableEnvVar(tableId), tables[tableId].table.tableName])),
      GHTRADER_RESOURCE_PREFIX: settings.resourcePrefix,
      GHTRADER_TRUSTED_PROXY_HOPS: String(TRUSTED_PROXY_HOPS),
    };

    this.cursorSecret = new Secret(this, 'CursorSecret', {
      description:
        'HMAC key of the console list cursors (GHTRADER_CURSOR_SECRET of the http-api function), generated at deploy',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      // Losing it invalidates open list cursors only (clients start the list again); nothing durable depends on it.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.cursorSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'HMAC key of list cursors only: rotating it would invalidate the cursors clients hold open (they restart ' +
        'the list) and protect nothing, since a cursor carries no credential and grants nothing beyond the list ' +
        'query its caller may already run',
    });

    // CloudFront sends it to both APIs (`x-ghtrader-origin`); the app and the authorizer refuse requests without it, so
    // the execute-api endpoints cannot be called around the distribution (and its X-Forwarded-For).
    this.originSecret = new Secret(this, 'OriginSecret', {
      description:
        'Shared secret CloudFront adds to every console request (GHTRADER_ORIGIN_SECRET), generated at deploy',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.originSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'CloudFront custom origin headers are fixed at deploy: the secret changes by redeploying the stack (a new ' +
        'value reaches the distribution and both functions together); rotation in place would break every request ' +
        'until the next deploy',
    });
    const originSecretValue = this.originSecret.secretValue.unsafeUnwrap();

    this.httpApiFunction = new GhtraderFunction(this, 'HttpApiFunction', {
      repoRoot,
      afterBundling: staticAssetCommands,
      entry: 'functions/http-api.ts',
      functionName: name('http-api'),
      description: 'The console: JSON API, pages and static client (API Gateway HTTP API behind CloudFront)',
      // API Gateway gives up on an HTTP API integration after 30 s.
      timeout: Duration.seconds(25),
      // Logins cost one scrypt (N=2^15); more memory is more CPU.
      memorySize: 1024,
      logRetention: settings.logRetention,
      environment: {
        ...tableEnvironment,
        GHTRADER_ARTIFACTS_BUCKET: props.artifactsBucket.bucketName,
        GHTRADER_JOBS_QUEUE_URL: jobsQueue.queueUrl,
        GHTRADER_JOBS_DLQ_URL: jobsDlq.queueUrl,
        GHTRADER_JOBS_MAX_RECEIVE_COUNT: String(QUEUES.jobs.deadLetter.maxReceiveCount),
        ...(settings.redisUrl ? { REDIS_URL: settings.redisUrl } : { GHTRADER_REDIS_ENABLED: 'false' }),
        // A CloudFormation dynamic reference, resolved at deploy: the value never appears in the template.
        GHTRADER_CURSOR_SECRET: this.cursorSecret.secretValue.unsafeUnwrap(),
        GHTRADER_ORIGIN_SECRET: originSecretValue,
        // Broker-account secrets (`ghtrader/<stage>/accounts/<profile>`), granted below.
        [ACCOUNT_SECRET_PREFIX_ENV]: accountSecretPrefix(settings.stage),
      },
    });

    const wsCommon = { repoRoot, logRetention: settings.logRetention, environment: tableEnvironment, memorySize: 256 };
    this.wsAuthorizer = new GhtraderFunction(this, 'WsAuthorizer', {
      ...wsCommon,
      environment: { ...tableEnvironment, GHTRADER_ORIGIN_SECRET: originSecretValue },
      entry: 'functions/ws-authorizer.ts',
      functionName: name('ws-authorizer'),
      description: '$connect REQUEST authorizer of the console WebSocket API: session cookie plus Origin, or bearer',
      timeout: Duration.seconds(10),
    });
    this.wsConnect = new GhtraderFunction(this, 'WsConnect', {
      ...wsCommon,
      entry: 'functions/ws-connect.ts',
      functionName: name('ws-connect'),
      description: '$connect of the console WebSocket API: records the connection (per-user and total limits)',
      timeout: Duration.seconds(10),
    });
    this.wsDisconnect = new GhtraderFunction(this, 'WsDisconnect', {
      ...wsCommon,
      entry: 'functions/ws-disconnect.ts',
      functionName: name('ws-disconnect'),
      description: '$disconnect of the console WebSocket API: deletes the connection record',
      timeout: Duration.seconds(10),
    });
    this.wsDefault = new GhtraderFunction(this, 'WsDefault', {
      ...wsCommon,
      entry: 'functions/ws-default.ts',
      functionName: name('ws-default'),
      description: '$default of the console WebSocket API: subscribe, unsubscribe and ping frames',
      timeout: Duration.seconds(10),
    });

    // HTTP API: one catch-all route; the app authenticates and authorizes every route itself.
    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: name('console-http'),
      description: `ghtrader ${settings.stage} console HTTP API (reached through CloudFront)`,
      createDefaultStage: false,
      defaultIntegration: new HttpLambdaIntegration('HttpApiIntegration', this.httpApiFunction.fn),
    });
    const httpAccessLogs = new LogGroup(this, 'HttpApiAccessLogs', {
      logGroupName: `/aws/apigateway/${name('console-http')}`,
      retention: settings.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.httpStage = new HttpStage(this, 'HttpApiStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: {
        destination: new LogGroupLogDestination(httpAccessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            method: '$context.httpMethod',
            path: '$context.path',
            status: '$context.status',
            bytes: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.acknowledgeAppAuthorization();

    // WebSocket API. `identitySource: []`: the CDK default requires an Authorization header, which a browser cannot
    // send on a WebSocket, so cookie clients would be refused before the authorizer ran. With no identity source the
    // authorizer runs on every $connect (no cached decisions, also right for revoked sessions).
    this.wsAuthorizerConstruct = new WebSocketLambdaAuthorizer('WsConnectAuthorizer', this.wsAuthorizer.fn, {
      authorizerName: name('ws-authorizer'),
      identitySource: [],
    });
    this.wsApi = new WebSocketApi(this, 'WsApi', {
      apiName: name('console-ws'),
      description: `ghtrader ${settings.stage} console live updates (reached through CloudFront ${WS_PATH_PATTERN})`,
      connectRouteOptions: {
        integration: new WebSocketLambdaIntegration('WsConnectIntegration', this.wsConnect.fn),
        authorizer: this.wsAuthorizerConstruct,
      },
      disconnectRouteOptions: {
        integration: new WebSocketLambdaIntegration('WsDisconnectIntegration', this.wsDisconnect.fn),
      },
      defaultRouteOptions: {
        integration: new WebSocketLambdaIntegration('WsDefaultIntegration', this.wsDefault.fn),
      },
    });
    this.acknowledgeConnectionRoutes();
    this.apiGatewayLogsRole = this.apiGatewayAccountLogging();
    const wsAccessLogs = new LogGroup(this, 'WsApiAccessLogs', {
      logGroupName: `/aws/apigateway/${name('console-ws')}`,
      retention: settings.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.wsStage = new WebSocketStage(this, 'WsStage', {
      webSocketApi: this.wsApi,
      stageName: WS_STAGE_NAME,
      autoDeploy: true,
      accessLogSettings: {
        destination: new LogGroupLogDestination(wsAccessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            connectionId: '$context.connectionId',
            eventType: '$context.eventType',
            routeKey: '$context.routeKey',
            status: '$context.status',
            authorizeStatus: '$context.authorize.status',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.wsStage.node.addDependency(this.apiGatewayLogsRole.node.findChild('Account'));

    this.grantAccess(tables, queues);
    this.grantAccountSecrets(settings.stage);
    // `GET /api/jobs/{id}/log` and `/log/download`: the jobs stack's read-only policy on `jobs/*` of the bucket.
    this.httpApiFunction.role.addManagedPolicy(props.jobLogReadPolicy);
    this.broadcasterPolicy = this.buildBroadcasterPolicy(name('ws-broadcaster'), tables.wsConnections, tables.users);

    // CloudFront on the console host.
    this.accessLogs = new Bucket(this, 'CdnAccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      // CloudFront standard logging writes through the bucket ACL (awslogsdelivery), so ACLs must stay enabled;
      // the bucket owner still owns every log object.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(settings.logRetention) }],
      removalPolicy: RemovalPolicy.RETAIN,
      autoDeleteObjects: false,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "Receives CloudFront's access logs and nothing else; its own server access logs would only record that log " +
        'delivery (no reader but the operators, and no public access: every public access is blocked)',
    });

    this.forwardedHostFunction = new EdgeFunction(this, 'ForwardedHost', {
      functionName: name('console-forwarded-host'),
      comment: 'Sets X-Forwarded-Host to the viewer Host (the console origin behind CloudFront and API Gateway)',
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(FORWARDED_HOST_FUNCTION_CODE),
    });
    const viewerRequest = [{ function: this.forwardedHostFunction, eventType: FunctionEventType.VIEWER_REQUEST }];
    const originTls = {
      protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [OriginSslPolicy.TLS_V1_2],
      customHeaders: { [ORIGIN_SECRET_HEADER]: originSecretValue },
    };
    const httpOrigin = new HttpOrigin(`${this.httpApi.apiId}.execute-api.${this.region}.${this.urlSuffix}`, {
      ...originTls,
      // CloudFront's longest default; above API Gateway's 30 s integration limit, so API Gateway answers first.
      readTimeout: Duration.seconds(30),
    });
    const wsOrigin = new HttpOrigin(`${this.wsApi.apiId}.execute-api.${this.region}.${this.urlSuffix}`, originTls);
    const staticCache = new CachePolicy(this, 'StaticCache', {
      cachePolicyName: name('console-static'),
      comment:
        'Client assets: keyed on the ?v=<hash> version, cached as long as the origin says (immutable when v matches)',
      queryStringBehavior: CacheQueryStringBehavior.allowList('v'),
      // Only what the origin's Cache-Control allows: unversioned requests (no-cache) are revalidated every time.
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(0),
      maxTtl: Duration.days(365),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });

    this.distribution = new Distribution(this, 'Distribution', {
      comment: `ghtrader ${settings.stage} console`,
      defaultBehavior: {
        origin: httpOrigin,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_ALL,
        cachePolicy: CachePolicy.CACHING_DISABLED,
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        functionAssociations: viewerRequest,
      },
      additionalBehaviors: {
        [WS_PATH_PATTERN]: {
          origin: wsOrigin,
          // A WebSocket cannot follow a redirect: wss:// only.
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          // Cookie, Origin and the Sec-WebSocket-* headers reach the authorizer; Host stays the API's.
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          functionAssociations: viewerRequest,
        },
        [STATIC_PATH_PATTERN]: {
          origin: httpOrigin,
          viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: staticCache,
        },
      },
      enableLogging: true,
      logBucket: this.accessLogs,
      logFilePrefix: 'console/',
    });
    this.acknowledgeDistribution();

    new CfnOutput(this, 'ConsoleUrl', {
      description: 'The console (CloudFront default domain)',
      value: `https://${this.distribution.distributionDomainName}`,
    });
    new CfnOutput(this, 'WsManagementEndpoint', {
      description: 'Management API endpoint of the WebSocket stage: ghtrader broadcaster --endpoint <this>',
      value: this.wsStage.callbackUrl,
    });
    new CfnOutput(this, 'BroadcasterPolicyArn', {
      description: 'Managed policy to attach to the colo host role that runs the broadcaster',
      value: this.broadcasterPolicy.managedPolicyArn,
    });
  }

  /**
   * Least privilege per handler, following what the handlers call today (see `HTTP_API_TABLE_ACCESS` and the
   * WebSocket stores in `shared/infra/aws/ws-connections.ts`); item actions only, per table and per named index.
   */
  private grantAccess(tables: GhtraderTables, queues: JobQueues): void {
    const { jobs: jobsQueue, jobsDlq } = queues.queues;

    const api = this.httpApiFunction.role;
    for (const tableId of TABLE_IDS) {
      const access = HTTP_API_TABLE_ACCESS[tableId];
      if (access) grantTableAccess(api, tables[tableId], access);
    }
    // `/api/status`: the dynamo probe describes the jobs table; the sqs probe reads both queues' depths.
    Grant.addToPrincipal({
      grantee: api,
      actions: ['dynamodb:DescribeTable'],
      resourceArns: [tables.jobs.table.tableArn],
    });
    Grant.addToPrincipal({
      grantee: api,
      actions: ['sqs:GetQueueAttributes'],
      resourceArns: [jobsQueue.queueArn, jobsDlq.queueArn],
    });
    jobsQueue.grantSendMessages(api);

    // Authorizer: resolves sessions and tokens; deletes an expired session and touches last_seen_at / last_used_at.
    grantItemActions(this.wsAuthorizer.role, tables.users, [
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ]);
    // ... under the session limits of the config head (read only: the HTTP API bootstraps the revision log).
    grantItemActions(this.wsAuthorizer.role, tables.config, ['dynamodb:Query']);
    const connections = tables.wsConnections;
    // $connect: counts the user's and all connections (index queries), then puts the item.
    grantItemActions(this.wsConnect.role, connections, ['dynamodb:PutItem']);
    grantItemActions(
      this.wsConnect.role,
      connections,
      ['dynamodb:Query'],
      ['user-connected_at', 'shard-connection_id'],
    );
    // $disconnect: deletes the item.
    grantItemActions(this.wsDisconnect.role, connections, ['dynamodb:DeleteItem']);
    // $default: frame counter and topics (a consistent read, then a conditional update), the item of a connection it
    // closes (delete), and replies.
    grantItemActions(this.wsDefault.role, connections, [
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ]);
    this.grantManageConnections(this.wsDefault.role);
  }

  /**
   * `/api/accounts/*`: create, replace, delete and describe the secrets under `ghtrader/<stage>/accounts/` (a secret's
   * ARN ends in a random suffix AWS appends, so the grant names the prefix), and `ListSecrets`, which IAM only grants
   * on `*` (it cannot be scoped to a resource; the app filters by the name prefix).
   */
  private grantAccountSecrets(stage: string): void {
    const role = this.httpApiFunction.role;
    const secrets = this.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${accountSecretPrefix(stage)}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...HTTP_API_ACCOUNT_SECRET_ACTIONS], resources: [secrets] }),
    );
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['secretsmanager:ListSecrets'], resources: ['*'] }));
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${accountSecretPrefix(stage)}*]`,
      reason:
        'One secret per broker-account profile, named at run time (ghtrader/<stage>/accounts/<profile>) and suffixed ' +
        "by AWS with random characters; the grant covers this stage's account secrets only, and never their values",
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'secretsmanager:ListSecrets supports no resource-level permission (IAM requires "*"); it returns names and ' +
        'descriptions, never values, and the app keeps only names under ghtrader/<stage>/accounts/',
    });
  }

  /** `execute-api:ManageConnections` on this API's stage: `PostToConnection` and `DeleteConnection` only. */
  private manageConnectionsStatement(): PolicyStatement {
    return new PolicyStatement({
      actions: ['execute-api:ManageConnections'],
      resources: ['POST', 'DELETE'].map((method) =>
        this.formatArn({
          service: 'execute-api',
          resource: this.wsApi.apiId,
          resourceName: `${WS_STAGE_NAME}/${method}/@connections/*`,
        }),
      ),
    });
  }

  private grantManageConnections(role: Role): void {
    role.addToPrincipalPolicy(this.manageConnectionsStatement());
    this.acknowledgeConnectionWildcards(role);
  }

  /**
   * What `ghtrader broadcaster` calls on this stack's resources: list connections (shard index), delete gone ones,
   * rewrite a demoted connection's role and topics (read, then conditional update), post to and close connections,
   * and read sessions, tokens and users for the 60 s re-check (never writing them). Its lease (Locks), counters
   * (TradingState) and config head (Config) are the colo host's table access.
   */
  private buildBroadcasterPolicy(policyName: string, connections: GhtraderTable, users: GhtraderTable): ManagedPolicy {
    const policy = new ManagedPolicy(this, 'BroadcasterPolicy', {
      managedPolicyName: policyName,
      description: 'Attach to the colo host role: the console WebSocket broadcaster (ghtrader broadcaster)',
      statements: [this.manageConnectionsStatement()],
    });
    grantItemActions(policy, connections, ['dynamodb:Query'], ['shard-connection_id']);
    grantItemActions(policy, connections, ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem']);
    grantItemActions(policy, users, ['dynamodb:GetItem']);
    this.acknowledgeConnectionWildcards(policy);
    return policy;
  }

  /**
   * WebSocket access logs need API Gateway's account-level CloudWatch role (one per account and region; HTTP APIs do
   * not). The role uses AWS's own policy for it, so any other API of the account that shares the setting keeps
   * working, and it is retained with the stack so deleting one stage never breaks another's logging.
   */
  private apiGatewayAccountLogging(): Role {
    const role = new Role(this, 'ApiGatewayLogsRole', {
      assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway account-level CloudWatch Logs role (WebSocket stage access logs)',
      managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
    });
    role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    new CfnAccount(role, 'Account', { cloudWatchRoleArn: role.roleArn });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "API Gateway's account-level logging role is shared by every API of the account and region; AWS's own " +
        'policy for it keeps other APIs that rely on the setting working, where a narrower one would break them',
    });
    return role;
  }

  private acknowledgeAppAuthorization(): void {
    const route = this.httpApi.node.findChild('DefaultRoute');
    Validations.of(route).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The single catch-all route proxies to the console app, which authenticates every request itself (session ' +
        'cookie with CSRF and Origin checks, or bearer token) and checks the minimum role per route; /health, ' +
        '/static and the login endpoints are public by design',
    });
  }

  /** API Gateway runs WebSocket authorizers on `$connect` only; later routes belong to an authorized connection. */
  private acknowledgeConnectionRoutes(): void {
    for (const routeKey of ['$disconnect', '$default']) {
      Validations.of(this.wsApi.node.findChild(`${routeKey}-Route`)).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          `API Gateway accepts an authorizer on $connect only; ${routeKey} is reached solely over a connection that ` +
          'the $connect REQUEST authorizer allowed, and the handlers act on that connection id alone',
      });
    }
  }

  private acknowledgeConnectionWildcards(construct: Construct): void {
    const apiId = this.getLogicalId(this.wsApi.node.defaultChild as CfnElement);
    for (const method of ['POST', 'DELETE']) {
      Validations.of(construct).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiId}>/${WS_STAGE_NAME}/${method}/@connections/*]`,
        reason:
          'Connection ids are assigned by API Gateway at $connect, so the Management API grant names every ' +
          `connection of this one API stage (${method} only), never another API or stage`,
      });
    }
  }

  private acknowledgeDistribution(): void {
    const acknowledge = (id: string, reason: string) => Validations.of(this.distribution).acknowledge({ id, reason });
    acknowledge(
      'AwsSolutions-CFR1',
      'The console serves a few authenticated operators wherever they work; access is controlled by login, not by country',
    );
    acknowledge(
      'AwsSolutions-CFR2',
      'No WAF web ACL: every route but /health, /static and login needs a session or token, and login is rate limited ' +
        'per user and ip in the app; a web ACL is worth its cost once the console is exposed to more than its operators',
    );
    acknowledge(
      'AwsSolutions-CFR4',
      'No custom domain yet, so the distribution uses the default *.cloudfront.net certificate, whose security policy ' +
        'CloudFront fixes; a custom domain with an ACM certificate and TLSv1.2_2021 is the fix when a domain is set',
    );
  }
}

/** Grant exact item actions on one table, or (with `indexNames`) on those of its declared indexes only. */
function grantItemActions(
  grantee: IGrantable,
  { table, def }: GhtraderTable,
  actions: string[],
  indexNames?: string[],
): Grant {
  if (indexNames) {
    const unknown = indexNames.filter((n) => !def.indexes.some((ix) => ix.name === n));
    if (unknown.length > 0) throw new Error(`${def.logicalName} declares no index ${unknown.join(', ')}`);
  }
  return Grant.addToPrincipal({
    grantee,
    actions,
    resourceArns: indexNames ? indexNames.map((n) => `${table.tableArn}/index/${n}`) : [table.tableArn],
  });
}
