/**
 * The durable risk kill on the RiskKill table (trading-chain §7.3): one item per `account_profile`, instants as
 * decimal strings, `details` a map. Every write is conditional on the revision: revision 1 only when no item exists,
 * revision N only over N-1, so two writers (a stale gateway, a replayed reset) can never both land.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { parseOrThrow } from '../../domain/control/validation.ts';
import {
  parseRiskKillRecord,
  type RiskKillRecord,
  RiskKillRecordWireSchema,
  type RiskKillStore,
  riskKillToWire,
} from '../../domain/trading/risk-kill.ts';
import { isConditionFailed } from './dynamo-errors.ts';

export class DynamoRiskKillStore implements RiskKillStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(profile: string): Promise<RiskKillRecord | null> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { account_profile: profile }, ConsistentRead: true }),
    );
    return r.Item ? parseRiskKillRecord(r.Item, `stored risk-kill record of ${profile}`) : null;
  }

  async put(next: RiskKillRecord): Promise<boolean> {
    const item = parseOrThrow(
      RiskKillRecordWireSchema,
      riskKillToWire(next),
      `risk-kill record ${next.account_profile} r${next.revision}`,
    );
    const condition =
      item.revision === 1
        ? { ConditionExpression: 'attribute_not_exists(account_profile)' }
        : {
            ConditionExpression: '#revision = :prev',
            ExpressionAttributeNames: { '#revision': 'revision' },
            ExpressionAttributeValues: { ':prev': item.revision - 1 },
          };
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: item, ...condition }));
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }
}
