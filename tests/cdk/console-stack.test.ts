import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleBudgetBytes, ESM_REQUIRE_BANNER } from '#cdk/constructs/ghtrader-function.ts';
import {
  FORWARDED_HOST_FUNCTION_CODE,
  STATIC_PATH_PATTERN,
  TRUSTED_PROXY_HOPS,
  WS_PATH_PATTERN,
  WS_STAGE_NAME,
} from '#cdk/stacks/console-stack.ts';
import { TABLE_IDS, type TableId, tableEnvVar } from '#shared/infra/aws/definitions.ts';
import { checkOrigin, clientIp, consoleOrigin } from '#web/security/request-origin.ts';
import { STATIC_FILES } from '#web/static-assets.ts';
import { removeOutputs, type SynthesizedApp, synthApp } from './synth-app.ts';

/** AWS managed CloudFront policies (ids are fixed by AWS). */
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

interface CfEvent {
  request: { headers: Record<string, { value: string }> };
}

/** Run the CloudFront function's code on one viewer request, as CloudFront would (isolated, no Node globals). */
function runViewerRequest(headers: Record<string, string>): Record<string, string> {
  const event: CfEvent = {
    request: { headers: Object.fromEntries(Object.entries(headers).map(([k, value]) => [k, { value }])) },
  };
  const out = vm.runInNewContext(`${FORWARDED_HOST_FUNCTION_CODE}\nhandler(event);`, { event }) as CfEvent['request'];
  return Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k, v.value]));
}

describe('ConsoleStack', () => {
  let built: SynthesizedApp;
  let template: Template;

  const logicalId = (construct: IConstruct): string =>
    built.console.getLogicalId(construct.node.defaultChild as CfnElement);
  const resource = (construct: IConstruct) => template.toJSON().Resources[logicalId(construct)];

  beforeAll(() => {
    // One synthesis with real bundling of the console stack only (its five handlers and the client), shared by
    // every test of this file; the other stacks' templates are built but not bundled.
    built = synthApp({ 'aws:cdk:bundling-stacks': ['ghtrader-*-console'] });
    template = Template.fromStack(built.console);
  }, 120_000);

  afterAll(() => {
    removeOutputs(built);
  });

  /** Statements of the identity policies attached to a function role. */
  function statementsOf(role: IConstruct): Statement[] {
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: logicalId(role) }] } });
    return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  }

  /** Allowed actions whose resources name one table (cross-stack references carry the table's logical id). */
  function tableActions(statements: Statement[], tableId: TableId): string[] {
    const table = built.dataStores.tables[tableId].table;
    const tableLogicalId = built.dataStores.getLogicalId(table.node.defaultChild as CfnElement);
    return [
      ...new Set(
        statements
          .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource).includes(tableLogicalId))
          .flatMap((s) => [s.Action].flat()),
      ),
    ].sort();
  }

  /** Table id -> allowed actions, for every table a statement list touches. */
  function tableGrants(statements: Statement[]): Partial<Record<TableId, string[]>> {
    return Object.fromEntries(
      TABLE_IDS.map((id) => [id, tableActions(statements, id)] as const).filter(([, actions]) => actions.length > 0),
    );
  }

  it('proxies every HTTP API request to the http-api function with payload format 2.0', () => {
    // Prepare
    const apiId = logicalId(built.console.httpApi);
    const fnArn = { 'Fn::GetAtt': [logicalId(built.console.httpApiFunction.fn), 'Arn'] };

    // Act
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration', {
      Properties: { ApiId: { Ref: apiId } },
    });
    const [integrationId, integration] = Object.entries(integrations)[0] ?? [];

    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    expect(Object.keys(integrations)).toHaveLength(1);
    expect(integration?.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: fnArn,
      PayloadFormatVersion: '2.0',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: apiId },
      RouteKey: '$default',
      Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiId },
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: Match.objectLike({
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('requestId'),
      }),
    });
  });

  it('routes $connect, $disconnect and $default of the WebSocket API to their handlers', () => {
    // Prepare
    const apiId = logicalId(built.console.wsApi);
    const expected = {
      $connect: built.console.wsConnect,
      $disconnect: built.console.wsDisconnect,
      $default: built.console.wsDefault,
    };
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration', {
      Properties: { ApiId: { Ref: apiId } },
    });

    // Act
    const routes = Object.values(
      template.findResources('AWS::ApiGatewayV2::Route', { Properties: { ApiId: { Ref: apiId } } }),
    );
    const targets = Object.fromEntries(
      routes.map((r) => {
        const integrationId = r.Properties.Target['Fn::Join'][1][1].Ref as string;
        const uri = JSON.stringify(integrations[integrationId]?.Properties.IntegrationUri);
        const handler = Object.entries(expected).find(([, fn]) => uri.includes(logicalId(fn.fn)))?.[0];
        return [r.Properties.RouteKey as string, { handler, auth: r.Properties.AuthorizationType as string }];
      }),
    );

    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET' });
    expect(targets).toEqual({
      $connect: { handler: '$connect', auth: 'CUSTOM' },
      $disconnect: { handler: '$disconnect', auth: 'NONE' },
      $default: { handler: '$default', auth: 'NONE' },
    });
  });

  it('authorizes $connect with the ws-authorizer as a REQUEST authorizer with an empty identity source', () => {
    // Prepare
    const apiId = logicalId(built.console.wsApi);
    const authorizerFnId = logicalId(built.console.wsAuthorizer.fn);

    // Act
    const authorizers = Object.entries(
      template.findResources('AWS::ApiGatewayV2::Authorizer', { Properties: { ApiId: { Ref: apiId } } }),
    );
    const [authorizerId, authorizer] = authorizers[0] ?? [];

    // Assess
    expect(authorizers).toHaveLength(1);
    expect(authorizer?.Properties.AuthorizerType).toBe('REQUEST');
    // Not the CDK default ['route.request.header.Authorization']: cookie clients send no Authorization header.
    expect(authorizer?.Properties.IdentitySource).toEqual([]);
    expect(JSON.stringify(authorizer?.Properties.AuthorizerUri)).toContain(authorizerFnId);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$connect',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [authorizerFnId, 'Arn'] },
      Principal: 'apigateway.amazonaws.com',
    });
  });

  it('deploys the WebSocket stage as /ws with access logs, after the account-level logging role is set', () => {
    // Prepare
    const stage = resource(built.console.wsStage);

    // Act
    const account = template.findResources('AWS::ApiGateway::Account');
    const [accountId, accountResource] = Object.entries(account)[0] ?? [];

    // Assess
    expect(stage.Properties).toMatchObject({ StageName: WS_STAGE_NAME, AutoDeploy: true });
    expect(stage.Properties.AccessLogSettings.Format).toContain('$context.connectionId');
    expect(stage.DependsOn).toContain(accountId);
    expect(accountResource?.Properties.CloudWatchRoleArn).toEqual({
      'Fn::GetAtt': [logicalId(built.console.apiGatewayLogsRole), 'Arn'],
    });
    expect(resource(built.console.apiGatewayLogsRole).DeletionPolicy).toBe('Retain');
    expect(WS_PATH_PATTERN).toBe(`/${WS_STAGE_NAME}`);
  });

  it('sends the generated origin secret from CloudFront to both APIs, and gives it only to http-api and the authorizer', () => {
    // Prepare
    const config = resource(built.console.distribution).Properties.DistributionConfig;
    const ref = {
      'Fn::Join': [
        '',
        ['{{resolve:secretsmanager:', { Ref: logicalId(built.console.originSecret) }, ':SecretString:::}}'],
      ],
    };
    const envOf = (f: { fn: IConstruct }) => resource(f.fn).Properties.Environment.Variables as Record<string, unknown>;
    const { httpApiFunction, wsAuthorizer, wsConnect, wsDisconnect, wsDefault } = built.console;

    // Assess: every origin carries the header with a deploy-time reference (never the value)
    expect(config.Origins).toHaveLength(2);
    for (const origin of config.Origins as { OriginCustomHeaders: unknown }[]) {
      expect(origin.OriginCustomHeaders).toEqual([{ HeaderName: 'x-ghtrader-origin', HeaderValue: ref }]);
    }
    expect(resource(built.console.originSecret).Properties.SecretString).toBeUndefined();
    expect(envOf(httpApiFunction).GHTRADER_ORIGIN_SECRET).toEqual(ref);
    expect(envOf(wsAuthorizer).GHTRADER_ORIGIN_SECRET).toEqual(ref);
    for (const f of [wsConnect, wsDisconnect, wsDefault]) expect(envOf(f).GHTRADER_ORIGIN_SECRET).toBeUndefined();
  });

  it('serves the console from CloudFront: HTTP API by default, the WebSocket stage on /ws, both with the viewer-request function', () => {
    // Prepare
    const config = resource(built.console.distribution).Properties.DistributionConfig;
    const originOf = (apiConstruct: IConstruct) =>
      config.Origins.find((o: { DomainName: unknown }) =>
        JSON.stringify(o.DomainName).includes(logicalId(apiConstruct)),
      );
    const fnAssociation = [
      {
        EventType: 'viewer-request',
        FunctionARN: { 'Fn::GetAtt': [logicalId(built.console.forwardedHostFunction), 'FunctionARN'] },
      },
    ];

    // Act
    const ws = config.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === WS_PATH_PATTERN);
    const statics = config.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === STATIC_PATH_PATTERN);

    // Assess
    expect(config.DefaultCacheBehavior).toMatchObject({
      TargetOriginId: originOf(built.console.httpApi).Id,
      CachePolicyId: CACHING_DISABLED,
      OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      ViewerProtocolPolicy: 'redirect-to-https',
      FunctionAssociations: fnAssociation,
    });
    expect(ws).toMatchObject({
      TargetOriginId: originOf(built.console.wsApi).Id,
      CachePolicyId: CACHING_DISABLED,
      OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
      ViewerProtocolPolicy: 'https-only',
      FunctionAssociations: fnAssociation,
    });
    // The WebSocket origin is the API host itself; the /ws path is the stage path.
    expect(originOf(built.console.wsApi).OriginPath).toBeUndefined();
    expect(statics).toMatchObject({
      TargetOriginId: originOf(built.console.httpApi).Id,
      AllowedMethods: ['GET', 'HEAD'],
    });
    for (const origin of config.Origins) {
      expect(origin.CustomOriginConfig).toMatchObject({
        OriginProtocolPolicy: 'https-only',
        OriginSSLProtocols: ['TLSv1.2'],
      });
    }
    expect(config.Logging.Bucket).toEqual({
      'Fn::GetAtt': [logicalId(built.console.accessLogs), 'RegionalDomainName'],
    });
  });

  it('caches client assets keyed on their ?v= version only, for as long as the origin allows', () => {
    // Prepare
    const config = resource(built.console.distribution).Properties.DistributionConfig;
    const statics = config.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === STATIC_PATH_PATTERN);

    // Act
    const policy = template.toJSON().Resources[statics.CachePolicyId.Ref].Properties.CachePolicyConfig;

    // Assess
    expect(policy).toMatchObject({
      MinTTL: 0,
      DefaultTTL: 0,
      ParametersInCacheKeyAndForwardedToOrigin: {
        QueryStringsConfig: { QueryStringBehavior: 'whitelist', QueryStrings: ['v'] },
        CookiesConfig: { CookieBehavior: 'none' },
        HeadersConfig: { HeaderBehavior: 'none' },
      },
    });
  });

  it('runs the viewer-request function from the template on cloudfront-js-2.0', () => {
    // Prepare
    const fn = resource(built.console.forwardedHostFunction);

    // Act
    const { FunctionCode, FunctionConfig } = fn.Properties;

    // Assess
    expect(FunctionCode).toBe(FORWARDED_HOST_FUNCTION_CODE);
    expect(FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
  });

  it("sets X-Forwarded-Host to the viewer's Host, replacing a forged one, and drops it without a Host", () => {
    // Prepare
    const forged = { host: 'console.example.com', 'x-forwarded-host': 'evil.example', cookie: 'a=b' };

    // Act
    const forwarded = runViewerRequest(forged);
    const hostless = runViewerRequest({ 'x-forwarded-host': 'evil.example' });

    // Assess
    expect(forwarded).toEqual({
      host: 'console.example.com',
      'x-forwarded-host': 'console.example.com',
      cookie: 'a=b',
    });
    expect(hostless).toEqual({});
  });

  it('lets the apps derive the console origin and the viewer ip behind CloudFront and API Gateway (2 hops)', () => {
    // Prepare: a viewer at 203.0.113.7 that forges both headers; CloudFront (edge 198.51.100.9) runs the function,
    // appends the viewer to X-Forwarded-For, and API Gateway appends CloudFront.
    const viewer = runViewerRequest({ host: 'd111.cloudfront.net', 'x-forwarded-host': 'evil.example' });
    const forwarding = {
      url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/api/jobs',
      host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      forwardedFor: '10.6.6.6, 203.0.113.7, 198.51.100.9',
      forwardedProto: null,
      forwardedHost: viewer['x-forwarded-host'] ?? null,
    };

    // Act
    const origin = consoleOrigin(forwarding, TRUSTED_PROXY_HOPS);
    const ip = clientIp('198.51.100.9', forwarding.forwardedFor, TRUSTED_PROXY_HOPS);

    // Assess
    expect(origin).toBe('https://d111.cloudfront.net');
    expect(checkOrigin('https://d111.cloudfront.net', null, origin)).toEqual({ ok: true });
    expect(checkOrigin('https://evil.example', null, origin).ok).toBe(false);
    expect(ip).toBe('203.0.113.7');
  });

  it('gives every console function the table names and GHTRADER_TRUSTED_PROXY_HOPS=2', () => {
    // Prepare
    const { httpApiFunction, wsAuthorizer, wsConnect, wsDisconnect, wsDefault } = built.console;

    // Act
    const envs = [httpApiFunction, wsAuthorizer, wsConnect, wsDisconnect, wsDefault].map(
      (f) => resource(f.fn).Properties.Environment.Variables as Record<string, unknown>,
    );

    // Assess
    for (const env of envs) {
      expect(env.GHTRADER_TRUSTED_PROXY_HOPS).toBe('2');
      expect(env.GHTRADER_RESOURCE_PREFIX).toBe(built.settings.resourcePrefix);
      expect(Object.keys(env)).toEqual(expect.arrayContaining(TABLE_IDS.map(tableEnvVar)));
    }
    expect(TRUSTED_PROXY_HOPS).toBe(2);
  });

  it('gives the http-api the queue URLs and the cursor secret as a deploy-time reference to a generated secret', () => {
    // Prepare
    const env = resource(built.console.httpApiFunction.fn).Properties.Environment.Variables;
    const secretId = logicalId(built.console.cursorSecret);

    // Act
    const secret = resource(built.console.cursorSecret);

    // Assess
    expect(env.GHTRADER_CURSOR_SECRET).toEqual({
      'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, ':SecretString:::}}']],
    });
    expect(secret.Properties.SecretString).toBeUndefined();
    expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
    expect(JSON.stringify(env.GHTRADER_JOBS_QUEUE_URL)).toContain('ghtrader-dev-jobs');
    expect(JSON.stringify(env.GHTRADER_JOBS_DLQ_URL)).toContain('ghtrader-dev-jobs');
    expect(env.GHTRADER_JOBS_MAX_RECEIVE_COUNT).toBe('3');
  });

  it('lets the http-api create, update, delete and describe only this stage’s account secrets, and never read one', () => {
    // Prepare
    const statements = statementsOf(built.console.httpApiFunction.role).filter((s) =>
      [s.Action].flat().some((a) => a.startsWith('secretsmanager:')),
    );
    const accountArn = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':secretsmanager:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':secret:ghtrader/dev/accounts/*',
        ],
      ],
    };

    // Act
    const grants = statements.map((s) => ({ actions: [s.Action].flat().sort(), resource: s.Resource }));
    const env = resource(built.console.httpApiFunction.fn).Properties.Environment.Variables;

    // Assess
    expect(grants).toEqual([
      {
        actions: [
          'secretsmanager:CreateSecret',
          'secretsmanager:DeleteSecret',
          'secretsmanager:DescribeSecret',
          'secretsmanager:UpdateSecret',
        ],
        resource: accountArn,
      },
      { actions: ['secretsmanager:ListSecrets'], resource: '*' },
    ]);
    expect(JSON.stringify(statementsOf(built.console.httpApiFunction.role))).not.toContain('GetSecretValue');
    expect(env.GHTRADER_ACCOUNT_SECRET_PREFIX).toBe('ghtrader/dev/accounts/');
    const others = [
      built.console.wsAuthorizer,
      built.console.wsConnect,
      built.console.wsDisconnect,
      built.console.wsDefault,
    ];
    for (const f of others) expect(JSON.stringify(statementsOf(f.role))).not.toContain('secretsmanager:');
  });

  it('outputs the console URL, the Management endpoint of the ws stage and the broadcaster policy ARN', () => {
    // Prepare
    const wsApiId = logicalId(built.console.wsApi);

    // Act
    const outputs = template.toJSON().Outputs;

    // Assess
    expect(outputs.ConsoleUrl.Value).toEqual({
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(built.console.distribution), 'DomainName'] }]],
    });
    expect(outputs.WsManagementEndpoint.Value).toEqual({
      'Fn::Join': [
        '',
        [
          'https://',
          { Ref: wsApiId },
          '.execute-api.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          `/${WS_STAGE_NAME}`,
        ],
      ],
    });
    expect(outputs.BroadcasterPolicyArn.Value).toEqual({ Ref: logicalId(built.console.broadcasterPolicy) });
  });

  it('grants the http-api exactly the tables the web app touches, and no update or delete of audit entries', () => {
    // Prepare
    const statements = statementsOf(built.console.httpApiFunction.role);
    const readWrite = [
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ];
    const appendAndRead = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'];

    // Act
    const grants = tableGrants(statements);

    // Assess
    expect(grants).toEqual({
      jobs: [...readWrite, 'dynamodb:DescribeTable'].sort(),
      config: appendAndRead,
      audit: appendAndRead,
      users: readWrite,
      tradingState: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
      // Read only: who holds a gateway's lease (account delete and verify are refused while it is held).
      locks: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
      // Operator commands are appended (conditional put on a new id) and read for the history, never changed.
      commands: appendAndRead,
      // Read only: only the colo gateway writes the risk-kill record.
      riskKill: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
    });
    expect(grants.audit).not.toContain('dynamodb:DeleteItem');
    expect(grants.commands).not.toContain('dynamodb:UpdateItem');
    expect(grants.riskKill).not.toContain('dynamodb:PutItem');
    expect(grants.audit).not.toContain('dynamodb:UpdateItem');
  });

  it('lets the http-api list and read job logs under jobs/ of the artifacts bucket, and nothing else of it', () => {
    // Prepare
    const jobsStack = built.jobs;
    const bucketId = jobsStack.getLogicalId(jobsStack.artifactsBucket.node.defaultChild as CfnElement);
    const policyId = jobsStack.getLogicalId(jobsStack.jobLogReadPolicy.node.defaultChild as CfnElement);
    const role = template.findResources('AWS::IAM::Role');
    const managed = (role[logicalId(built.console.httpApiFunction.role)]?.Properties.ManagedPolicyArns ??
      []) as unknown[];
    const policy = Template.fromStack(jobsStack).toJSON().Resources[policyId].Properties.PolicyDocument.Statement;

    // Assess: the role attaches the jobs stack's policy (cross-stack), the bucket name reaches the function …
    expect(JSON.stringify(managed)).toContain(policyId);
    expect(JSON.stringify(resource(built.console.httpApiFunction.fn).Properties.Environment)).toContain(
      'GHTRADER_ARTIFACTS_BUCKET',
    );
    // … and the policy is read-only, on jobs/ only
    expect(policy).toEqual([
      {
        Action: 's3:ListBucket',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
        Condition: { StringLike: { 's3:prefix': ['jobs/*'] } },
      },
      {
        Action: 's3:GetObject',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/jobs/*']] },
      },
    ]);
    // No inline S3 grant on the role besides it.
    expect(JSON.stringify(statementsOf(built.console.httpApiFunction.role))).not.toContain('s3:');
  });

  it('lets the http-api send to the jobs queue and read both queue depths, but not send to the DLQ', () => {
    // Prepare
    const { jobs, jobsDlq } = built.jobs.queues.queues;
    const id = (q: IConstruct) => built.jobs.getLogicalId(q.node.defaultChild as CfnElement);
    const statements = statementsOf(built.console.httpApiFunction.role);

    // Act
    const on = (queueId: string) =>
      [
        ...new Set(
          statements.filter((s) => JSON.stringify(s.Resource).includes(queueId)).flatMap((s) => [s.Action].flat()),
        ),
      ].sort();

    // Assess
    expect(on(id(jobs))).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    expect(on(id(jobsDlq))).toEqual(['sqs:GetQueueAttributes']);
  });

  it('grants each WebSocket handler only the item actions its store calls', () => {
    // Prepare
    const { wsAuthorizer, wsConnect, wsDisconnect, wsDefault } = built.console;

    // Act
    const grants = [wsAuthorizer, wsConnect, wsDisconnect, wsDefault].map((f) => tableGrants(statementsOf(f.role)));

    // Assess
    expect(grants).toEqual([
      { users: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], config: ['dynamodb:Query'] },
      { wsConnections: ['dynamodb:PutItem', 'dynamodb:Query'] },
      { wsConnections: ['dynamodb:DeleteItem'] },
      { wsConnections: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'] },
    ]);
  });

  it('queries the WsConnections indexes by name and never the whole table or an index wildcard', () => {
    // Prepare
    const statements = statementsOf(built.console.wsConnect.role);

    // Act
    const query = statements.find((s) => [s.Action].flat().includes('dynamodb:Query'));
    const resources = JSON.stringify(query?.Resource);

    // Assess
    expect(resources).toContain('/index/user-connected_at');
    expect(resources).toContain('/index/shard-connection_id');
    expect(resources).not.toContain('/index/*');
    expect(Array.isArray(query?.Resource) && query.Resource.every((r) => JSON.stringify(r).includes('/index/'))).toBe(
      true,
    );
  });

  it('lets only $default and the broadcaster policy post to and close connections of this API stage', () => {
    // Prepare
    const wsApiId = logicalId(built.console.wsApi);
    const managed = resource(built.console.broadcasterPolicy).Properties.PolicyDocument.Statement as Statement[];
    const manage = (statements: Statement[]) =>
      statements.filter((s) => [s.Action].flat().includes('execute-api:ManageConnections')).map((s) => s.Resource);
    // One statement naming both methods (IAM policy minimization orders the resources).
    const expected = [
      ['DELETE', 'POST'].map((method) => ({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':execute-api:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':',
            { Ref: wsApiId },
            `/${WS_STAGE_NAME}/${method}/@connections/*`,
          ],
        ],
      })),
    ];

    // Act
    const others = [
      built.console.httpApiFunction,
      built.console.wsAuthorizer,
      built.console.wsConnect,
      built.console.wsDisconnect,
    ];

    // Assess
    expect(manage(statementsOf(built.console.wsDefault.role))).toEqual(expected);
    expect(manage(managed)).toEqual(expected);
    expect(others.flatMap((f) => manage(statementsOf(f.role)))).toEqual([]);
  });

  it('gives the broadcaster policy the WsConnections shard query, item read, update and delete, and Users reads only', () => {
    // Prepare
    const statements = resource(built.console.broadcasterPolicy).Properties.PolicyDocument.Statement as Statement[];

    // Act
    const grants = tableGrants(statements);
    const query = statements.find((s) => [s.Action].flat().includes('dynamodb:Query'));

    // Assess
    expect(grants).toEqual({
      wsConnections: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      users: ['dynamodb:GetItem'],
    });
    expect(JSON.stringify(query?.Resource)).toContain('/index/shard-connection_id');
    expect(JSON.stringify(query?.Resource)).not.toContain('user-connected_at');
    expect(resource(built.console.broadcasterPolicy).Properties.ManagedPolicyName).toBe(
      `${built.settings.resourcePrefix}ws-broadcaster`,
    );
  });

  it('uses no wildcard actions, no Scan and no AWS managed policies on the function roles', () => {
    // Prepare
    const { httpApiFunction, wsAuthorizer, wsConnect, wsDisconnect, wsDefault } = built.console;
    const functions = [httpApiFunction, wsAuthorizer, wsConnect, wsDisconnect, wsDefault];

    // Act
    const actions = functions.flatMap((f) => statementsOf(f.role).flatMap((s) => [s.Action].flat()));
    const managed = functions.map((f) => JSON.stringify(resource(f.role).Properties.ManagedPolicyArns ?? null));

    // Assess: the only attached policy is the jobs stack's own job-log read policy, on the http-api
    expect(actions.filter((a) => a.includes('*') || a === 'dynamodb:Scan')).toEqual([]);
    expect(managed.filter((m) => m.includes(':policy/'))).toEqual([]);
    expect(managed.slice(1)).toEqual(functions.slice(1).map(() => 'null'));
    expect(managed[0]).toContain(built.jobs.getLogicalId(built.jobs.jobLogReadPolicy.node.defaultChild as CfnElement));
  });

  it('bundles each console handler within its budget, and the http-api with the built client under static/', () => {
    // Prepare
    const functions = [
      ['http-api', built.console.httpApiFunction],
      ['ws-authorizer', built.console.wsAuthorizer],
      ['ws-connect', built.console.wsConnect],
      ['ws-disconnect', built.console.wsDisconnect],
      ['ws-default', built.console.wsDefault],
    ] as const;

    // Act
    const bundles = functions.map(([handler, f]) => {
      const code = resource(f.fn).Properties.Code as { S3Key: string };
      const dir = path.join(built.outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
      const file = path.join(dir, 'index.mjs');
      return { handler, dir, file, bytes: existsSync(file) ? statSync(file).size : -1 };
    });

    // Assess
    for (const { handler, dir, file, bytes } of bundles) {
      expect(bytes, file).toBeGreaterThan(0);
      expect(bytes, `${handler}: ${file}`).toBeLessThan(bundleBudgetBytes(handler));
      const text = readFileSync(file, 'utf8');
      expect(text.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(text).not.toContain('sourceMappingURL');
      expect(readdirSync(dir).sort()).toEqual(handler === 'http-api' ? ['index.mjs', 'static'] : ['index.mjs']);
    }
    const staticDir = path.join(bundles[0]?.dir ?? '', 'static');
    for (const name of Object.keys(STATIC_FILES)) {
      expect(statSync(path.join(staticDir, name)).size, name).toBeGreaterThan(0);
    }
  });
});
