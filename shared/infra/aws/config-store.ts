import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type ConfigRevision, ConfigRevisionSchema, type ConfigStore } from '../../domain/control/config.ts';
import { parseOrThrow } from '../../domain/control/validation.ts';
import { isConditionFailed } from './dynamo-errors.ts';

const PK = 'config';

/**
 * Config revisions on the Config table: partition `config`, numeric sort key `revision`, each put with
 * `attribute_not_exists(revision)` so two writers can never both create revision N (control-chain §5.1). The same
 * table holds desired-state documents under other partitions; this adapter reads only its own.
 */
export class DynamoConfigStore implements ConfigStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async head(): Promise<ConfigRevision | null> {
    const [top] = await this.list(1);
    return top ?? null;
  }

  async put(rev: ConfigRevision): Promise<boolean> {
    const item = parseOrThrow(ConfigRevisionSchema, rev, 'config revision');
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: PK, ...item },
          ConditionExpression: 'attribute_not_exists(revision)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async get(revision: number): Promise<ConfigRevision | null> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: PK, revision }, ConsistentRead: true }),
    );
    return r.Item ? toRevision(r.Item) : null;
  }

  async list(limit: number, before?: number): Promise<ConfigRevision[]> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: before === undefined ? 'pk = :pk' : 'pk = :pk AND revision < :before',
        ExpressionAttributeValues: before === undefined ? { ':pk': PK } : { ':pk': PK, ':before': before },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (r.Items ?? []).map(toRevision);
  }
}

function toRevision(item: Record<string, unknown>): ConfigRevision {
  const { pk: _pk, ...rest } = item;
  return parseOrThrow(ConfigRevisionSchema, rest, 'stored config revision');
}
