/**
 * Per-profile account state on the TradingState table: `{pk: account#<profile>, sk: last_verify}` holds the last
 * verification (`account.verify` job or `ghtrader account verify`): `{ok, verified_at, error, job_id}`. A write is
 * conditional on being at least as new as the stored one, so a slow verification finishing late never replaces the
 * answer of a later one. Nothing here holds a credential: the error text is already redacted by the verifier.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type AccountStateStore, type LastVerify, LastVerifySchema } from '../../domain/control/accounts.ts';
import { parseOrThrow } from '../../domain/control/validation.ts';
import { isConditionFailed } from './dynamo-errors.ts';

const LAST_VERIFY_SK = 'last_verify';

/** The TradingState key of a profile's last verification. */
export function accountStateKey(profile: string): { pk: string; sk: string } {
  return { pk: `account#${profile}`, sk: LAST_VERIFY_SK };
}

export class DynamoAccountStateStore implements AccountStateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async lastVerify(profile: string): Promise<LastVerify | null> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: accountStateKey(profile), ConsistentRead: true }),
    );
    if (!r.Item) return null;
    const { ok, verified_at, error, job_id } = r.Item;
    return parseOrThrow(LastVerifySchema, { ok, verified_at, error, job_id }, `stored last verify of ${profile}`);
  }

  async recordVerify(profile: string, v: LastVerify): Promise<boolean> {
    const item = { ...accountStateKey(profile), account_profile: profile, ...LastVerifySchema.parse(v) };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR verified_at <= :v',
          ExpressionAttributeValues: { ':v': v.verified_at },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }
}
