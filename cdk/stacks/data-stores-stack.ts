/**
 * Every DynamoDB table of `TABLES`, built by looping over the definitions (the local bootstrap builds the same tables
 * from the same objects, so the schemas cannot drift). Tables are retained when the stack is deleted; production
 * tables also refuse deletion outright.
 */
import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import {
  type KeyAttr,
  TABLE_IDS,
  TABLES,
  type TableDef,
  type TableId,
  tableName,
} from '#shared/infra/aws/definitions.ts';
import type { StageSettings } from '../stage-settings.ts';

export interface DataStoresStackProps extends StackProps {
  settings: StageSettings;
}

/** A built table together with the definition it was built from (grants need the index names). */
export interface GhtraderTable {
  table: Table;
  def: TableDef;
}

export type GhtraderTables = Record<TableId, GhtraderTable>;

const ATTRIBUTE_TYPES = { S: AttributeType.STRING, N: AttributeType.NUMBER } as const;

function attribute(key: KeyAttr): { name: string; type: AttributeType } {
  return { name: key.name, type: ATTRIBUTE_TYPES[key.type] };
}

export class DataStoresStack extends Stack {
  readonly tables: GhtraderTables;

  constructor(scope: Construct, id: string, props: DataStoresStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.tables = Object.fromEntries(
      TABLE_IDS.map((tableId): [TableId, GhtraderTable] => {
        const def: TableDef = TABLES[tableId];
        const table = new Table(this, def.logicalName, {
          // Fixed physical names (`<prefix><logicalName>`) so the CLI and the colo supervisor find the tables from
          // `GHTRADER_RESOURCE_PREFIX` alone, exactly as they do locally.
          tableName: tableName(settings.resourcePrefix, tableId),
          partitionKey: attribute(def.partitionKey),
          ...(def.sortKey ? { sortKey: attribute(def.sortKey) } : {}),
          billingMode: BillingMode.PAY_PER_REQUEST,
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          // KMS key `aws/dynamodb`: no key to manage, and key use is visible in CloudTrail.
          encryption: TableEncryption.AWS_MANAGED,
          // Housekeeping only: no code relies on TTL deletion (every expiry is checked in condition expressions).
          ...(def.ttlAttribute ? { timeToLiveAttribute: def.ttlAttribute } : {}),
          deletionProtection: settings.isProduction,
          removalPolicy: RemovalPolicy.RETAIN,
        });
        for (const index of def.indexes) {
          table.addGlobalSecondaryIndex({
            indexName: index.name,
            partitionKey: attribute(index.partitionKey),
            ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
            projectionType: ProjectionType.ALL,
          });
        }
        return [tableId, { table, def }];
      }),
    ) as GhtraderTables;
  }
}
