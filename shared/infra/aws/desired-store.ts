/**
 * Desired documents on the Config table (control-chain §6.1): one partition per document `desired/<kind>/<p>`, the
 * numeric sort key `revision`, each revision put with `attribute_not_exists(revision)` so two writers can never both
 * create revision N. Append-only: a revision is never updated or deleted.
 */
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  type ComponentKind,
  type DesiredRecord,
  DesiredRecordSchema,
  type DesiredStore,
  desiredPartition,
} from '../../domain/control/desired.ts';
import { parseOrThrow } from '../../domain/control/validation.ts';
import { isConditionFailed } from './dynamo-errors.ts';

export class DynamoDesiredStore implements DesiredStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async head(kind: ComponentKind, profile: string): Promise<DesiredRecord | null> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': desiredPartition(kind, profile) },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: 1,
      }),
    );
    const item = r.Items?.[0];
    if (!item) return null;
    const { pk: _pk, ...rest } = item;
    return parseOrThrow(DesiredRecordSchema, rest, `stored desired document ${desiredPartition(kind, profile)}`);
  }

  async put(rec: DesiredRecord): Promise<boolean> {
    const item = parseOrThrow(DesiredRecordSchema, rec, 'desired document revision');
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: desiredPartition(item.component, item.account_profile), ...item },
          ConditionExpression: 'attribute_not_exists(revision)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }
}
