import { isDeepStrictEqual } from 'node:util';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GhtraderFunction } from '#cdk/constructs/ghtrader-function.ts';
import { SELFTEST_KEY_PREFIX } from '#cdk/constructs/table-access.ts';
import { TABLE_IDS, TABLES, type TableId } from '#shared/infra/aws/definitions.ts';
import { removeOutputs, SKIP_BUNDLING, type SynthesizedApp, synthApp } from './synth-app.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const SELFTEST_ONLY = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${SELFTEST_KEY_PREFIX}*`] } };

describe('JobsStack permissions', () => {
  let built: SynthesizedApp;
  let template: Template;

  beforeAll(() => {
    built = synthApp(SKIP_BUNDLING);
    template = Template.fromStack(built.jobs);
  });

  afterAll(() => {
    removeOutputs(built);
  });

  /** Statements of a function role's policies in the jobs template. */
  function statementsOf(fn: GhtraderFunction): Statement[] {
    const roleId = built.jobs.getLogicalId(fn.role.node.defaultChild as CfnElement);
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
    return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  }

  /**
   * Actions a role may take on one table (or its indexes), either unconditionally or only on selftest probe items.
   * Cross-stack references name the producing resource's logical id, so a statement is about a table when its
   * resources mention that id.
   */
  function tableActions(fn: GhtraderFunction, tableId: TableId, scope: 'any item' | 'selftest probes'): string[] {
    const table = built.dataStores.tables[tableId].table;
    const tableLogicalId = built.dataStores.getLogicalId(table.node.defaultChild as CfnElement);
    return statementsOf(fn)
      .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource).includes(tableLogicalId))
      .filter((s) => (scope === 'any item' ? s.Condition === undefined : isDeepStrictEqual(s.Condition, SELFTEST_ONLY)))
      .flatMap((s) => [s.Action].flat())
      .sort();
  }

  it('never lets a function change or delete audit entries', () => {
    // Prepare
    const functions = [built.jobs.worker, built.jobs.dlqHandler, built.jobs.reconciler];

    // Act
    const actions = functions.map((fn) => tableActions(fn, 'audit', 'any item'));

    // Assess
    expect(actions).toEqual([
      ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      [],
      [],
    ]);
  });

  it('lets the worker read config but write only selftest probe items there', () => {
    // Prepare
    const worker = built.jobs.worker;

    // Act
    const anyItem = tableActions(worker, 'config', 'any item');
    const probes = tableActions(worker, 'config', 'selftest probes');

    // Assess
    expect(anyItem).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);
    expect(probes).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
  });

  it.each<TableId>(['users', 'commands', 'riskKill'])(
    'keeps the worker out of the %s table except for selftest probe items',
    (tableId) => {
      // Prepare
      const worker = built.jobs.worker;

      // Act
      const anyItem = tableActions(worker, tableId, 'any item');
      const probes = tableActions(worker, tableId, 'selftest probes');

      // Assess
      expect(anyItem).toEqual([]);
      expect(probes).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
    },
  );

  it('lets the selftest round-trip a probe item in every table but the audit log', () => {
    // Prepare
    const roundTrip = ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'];

    // Act
    const missing = TABLE_IDS.filter((id) => id !== 'audit').filter((tableId) => {
      const granted = new Set([
        ...tableActions(built.jobs.worker, tableId, 'any item'),
        ...tableActions(built.jobs.worker, tableId, 'selftest probes'),
      ]);
      return !roundTrip.every((a) => granted.has(a));
    });

    // Assess
    expect(missing).toEqual([]);
  });

  it('lets the jobs-dlq function and the reconciler touch the jobs table only', () => {
    // Prepare
    const others = TABLE_IDS.filter((id) => id !== 'jobs');

    // Act
    const touched = [built.jobs.dlqHandler, built.jobs.reconciler].flatMap((fn) =>
      others.filter(
        (id) => tableActions(fn, id, 'any item').length + tableActions(fn, id, 'selftest probes').length > 0,
      ),
    );

    // Assess
    expect(touched).toEqual([]);
    expect(tableActions(built.jobs.reconciler, 'jobs', 'any item')).toContain('dynamodb:Query');
  });

  it('grants queries on each declared index by name, never on an index wildcard', () => {
    // Prepare
    const resources = JSON.stringify(statementsOf(built.jobs.worker).map((s) => s.Resource));

    // Act
    const jobsIndexes = TABLES.jobs.indexes.map((ix) => `/index/${ix.name}`);

    // Assess
    for (const index of jobsIndexes) expect(resources).toContain(index);
    expect(resources).not.toContain('/index/*');
  });

  /** Allowed actions of a role whose resources mention the logical id of `construct`'s resource in the jobs stack. */
  function actionsOn(fn: GhtraderFunction, construct: IConstruct): { action: string; resource: unknown }[] {
    const id = built.jobs.getLogicalId(construct.node.defaultChild as CfnElement);
    return statementsOf(fn)
      .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource).includes(id))
      .flatMap((s) => [s.Action].flat().map((action) => ({ action, resource: s.Resource })))
      .sort((a, b) => a.action.localeCompare(b.action));
  }

  it('lets the worker list the artifacts bucket and get and put its objects, but not delete them', () => {
    // Prepare
    const bucket = built.jobs.artifactsBucket;
    const bucketArn = { 'Fn::GetAtt': [built.jobs.getLogicalId(bucket.node.defaultChild as CfnElement), 'Arn'] };

    // Act
    const granted = actionsOn(built.jobs.worker, bucket);

    // Assess
    expect(granted).toEqual([
      { action: 's3:GetObject', resource: { 'Fn::Join': ['', [bucketArn, '/*']] } },
      { action: 's3:ListBucket', resource: bucketArn },
      { action: 's3:PutObject', resource: { 'Fn::Join': ['', [bucketArn, '/*']] } },
    ]);
  });

  it('lets the worker read the value of the DIFF credentials secret and nothing else about it', () => {
    // Prepare
    const secret = built.jobs.diffSecret;

    // Act
    const granted = actionsOn(built.jobs.worker, secret);

    // Assess
    expect(granted).toEqual([
      {
        action: 'secretsmanager:GetSecretValue',
        resource: { Ref: built.jobs.getLogicalId(secret.node.defaultChild as CfnElement) },
      },
    ]);
  });

  it('lets the worker read the values of this stage’s account secrets only, and tells it their prefix', () => {
    // Prepare
    const accountStatements = statementsOf(built.jobs.worker).filter((s) =>
      JSON.stringify(s.Resource).includes(':secret:ghtrader/'),
    );
    const env = template.toJSON().Resources[
      built.jobs.getLogicalId(built.jobs.worker.fn.node.defaultChild as CfnElement)
    ].Properties.Environment.Variables as Record<string, unknown>;

    // Act
    const granted = accountStatements.map((s) => ({ action: s.Action, resource: JSON.stringify(s.Resource) }));

    // Assess
    expect(granted).toEqual([
      { action: 'secretsmanager:GetSecretValue', resource: expect.stringContaining(':secret:ghtrader/dev/accounts/*') },
    ]);
    expect(env.GHTRADER_ACCOUNT_SECRET_PREFIX).toBe('ghtrader/dev/accounts/');
    for (const fn of [built.jobs.reconciler, built.jobs.dlqHandler]) {
      expect(JSON.stringify(statementsOf(fn))).not.toContain('ghtrader/dev/accounts');
    }
  });

  it('keeps the reconciler and the jobs-dlq function away from the artifacts, their logs and the DIFF secret', () => {
    // Prepare
    const guarded = [built.jobs.artifactsBucket, built.jobs.artifactsAccessLogs, built.jobs.diffSecret];

    // Act
    const granted = [built.jobs.reconciler, built.jobs.dlqHandler].flatMap((fn) =>
      guarded.flatMap((construct) => actionsOn(fn, construct)),
    );
    const services = [built.jobs.reconciler, built.jobs.dlqHandler].flatMap((fn) =>
      statementsOf(fn).flatMap((s) => [s.Action].flat().filter((a) => /^(s3|secretsmanager|kms):/.test(a))),
    );

    // Assess
    expect(granted).toEqual([]);
    expect(services).toEqual([]);
  });

  it('keeps the worker out of the access log bucket', () => {
    // Prepare
    const logs = built.jobs.artifactsAccessLogs;

    // Act
    const granted = actionsOn(built.jobs.worker, logs);

    // Assess
    expect(granted).toEqual([]);
  });

  it('uses no wildcard actions, no Scan and no AWS managed policies', () => {
    // Prepare
    const functions = [built.jobs.worker, built.jobs.dlqHandler, built.jobs.reconciler];

    // Act
    const actions = functions.flatMap((fn) => statementsOf(fn).flatMap((s) => [s.Action].flat()));
    const roles = Object.values(template.findResources('AWS::IAM::Role'));

    // Assess
    expect(actions.filter((a) => a.includes('*') || a === 'dynamodb:Scan')).toEqual([]);
    expect(roles.map((r) => r.Properties.ManagedPolicyArns)).toEqual(roles.map(() => undefined));
  });
});
