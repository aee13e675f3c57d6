import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KeyAttr, TABLE_IDS, TABLES, type TableDef, tableName } from '#shared/infra/aws/definitions.ts';
import { removeOutputs, SKIP_BUNDLING, type SynthesizedApp, synthApp } from './synth-app.ts';

function keySchema(partitionKey: KeyAttr, sortKey: KeyAttr | undefined) {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' }] : []),
  ];
}

function attributeDefinitions(def: TableDef) {
  const attrs = new Map<string, string>();
  for (const key of [def.partitionKey, def.sortKey, ...def.indexes.flatMap((ix) => [ix.partitionKey, ix.sortKey])]) {
    if (key) attrs.set(key.name, key.type);
  }
  return [...attrs].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));
}

describe('DataStoresStack', () => {
  let built: SynthesizedApp;
  let template: Template;
  let prod: SynthesizedApp | undefined;

  beforeAll(() => {
    built = synthApp(SKIP_BUNDLING);
    template = Template.fromStack(built.dataStores);
  });

  afterAll(() => {
    removeOutputs(built, prod);
  });

  it('builds exactly one table per definition in TABLES', () => {
    // Prepare
    const expected = TABLE_IDS.length;

    // Act
    const tables = template.findResources('AWS::DynamoDB::Table');

    // Assess
    expect(Object.keys(tables)).toHaveLength(expected);
  });

  it.each(TABLE_IDS)('builds the %s table with the key schema, attributes and indexes of its definition', (tableId) => {
    // Prepare
    const def: TableDef = TABLES[tableId];

    // Act
    const props = {
      TableName: tableName(built.settings.resourcePrefix, tableId),
      KeySchema: keySchema(def.partitionKey, def.sortKey),
      AttributeDefinitions: Match.arrayEquals(attributeDefinitions(def)),
      GlobalSecondaryIndexes:
        def.indexes.length > 0
          ? Match.arrayEquals(
              def.indexes.map((ix) => ({
                IndexName: ix.name,
                KeySchema: keySchema(ix.partitionKey, ix.sortKey),
                Projection: { ProjectionType: 'ALL' },
              })),
            )
          : Match.absent(),
    };

    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', props);
  });

  it.each(TABLE_IDS)('bills the %s table on demand, with point-in-time recovery and KMS encryption', (tableId) => {
    // Prepare
    const name = tableName(built.settings.resourcePrefix, tableId);

    // Act
    const props = {
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      // SSEEnabled without a key id: KMS with the AWS managed aws/dynamodb key.
      SSESpecification: { SSEEnabled: true },
    };

    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', props);
  });

  it.each(TABLE_IDS)('sets TTL on the %s table only where its definition names a TTL attribute', (tableId) => {
    // Prepare
    const def: TableDef = TABLES[tableId];

    // Act
    const ttl = def.ttlAttribute ? { AttributeName: def.ttlAttribute, Enabled: true } : Match.absent();

    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: tableName(built.settings.resourcePrefix, tableId),
      TimeToLiveSpecification: ttl,
    });
  });

  it('retains every table when the stack is deleted', () => {
    // Prepare
    const tables = template.findResources('AWS::DynamoDB::Table');

    // Act
    const policies = Object.values(tables).map((t) => [t.DeletionPolicy, t.UpdateReplacePolicy]);

    // Assess
    expect(policies).toEqual(TABLE_IDS.map(() => ['Retain', 'Retain']));
  });

  it('protects production tables from deletion and leaves dev tables deletable by an operator', () => {
    // Prepare
    prod = synthApp({ ...SKIP_BUNDLING, stage: 'prod' });

    // Act
    const prodTemplate = Template.fromStack(prod.dataStores);

    // Assess
    expect(prod.settings.resourcePrefix).toBe('ghtrader-prod-');
    prodTemplate.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
    template.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  });
});
