/**
 * The durable command sink (trading-chain §8): the Commands table, partition `account_profile`, sort `command_id`
 * (a ULID, so a cursor is a sort-key bound). Each item is exactly the wire envelope (`issued_at_ns` a decimal string,
 * `params` a map); nothing secret is in a command. `put` is conditional on the id being new, so the same command
 * written twice is one command and the first write wins. Reads are consistent and every item is parsed: a corrupt
 * item throws naming its profile and id, never silently dropped from the gateway's poll.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  type CommandStore,
  commandToWire,
  type GatewayCommand,
  parseGatewayCommand,
} from '../../domain/trading/commands.ts';
import { isConditionFailed } from './dynamo-errors.ts';

export class DynamoCommandStore implements CommandStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(c: GatewayCommand): Promise<boolean> {
    // Re-check the envelope: what is written must be what every reader can parse.
    const item = commandToWire(parseGatewayCommand(commandToWire(c), 'command to store'));
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(command_id)' }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async get(profile: string, commandId: string): Promise<GatewayCommand | null> {
    const r = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { account_profile: profile, command_id: commandId },
        ConsistentRead: true,
      }),
    );
    return r.Item ? parseStored(profile, r.Item) : null;
  }

  async after(profile: string, cursor: string | null, limit: number): Promise<GatewayCommand[]> {
    return cursor === null
      ? this.query(profile, 'account_profile = :p', { ':p': profile }, true, limit)
      : this.query(
          profile,
          'account_profile = :p AND command_id > :cursor',
          { ':p': profile, ':cursor': cursor },
          true,
          limit,
        );
  }

  async recent(profile: string, limit: number, before: string | null = null): Promise<GatewayCommand[]> {
    return before === null
      ? this.query(profile, 'account_profile = :p', { ':p': profile }, false, limit)
      : this.query(
          profile,
          'account_profile = :p AND command_id < :before',
          { ':p': profile, ':before': before },
          false,
          limit,
        );
  }

  /** Up to `limit` items in sort-key order, following pages when DynamoDB stops early (its 1 MB page bound). */
  private async query(
    profile: string,
    keyCondition: string,
    values: Record<string, string>,
    ascending: boolean,
    limit: number,
  ): Promise<GatewayCommand[]> {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`command query limit must be an integer ≥ 1, got ${limit}`);
    const out: GatewayCommand[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: keyCondition,
          ExpressionAttributeValues: values,
          ScanIndexForward: ascending,
          ConsistentRead: true,
          Limit: limit - out.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of r.Items ?? []) out.push(parseStored(profile, item));
      start = r.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }
}

function parseStored(profile: string, item: Record<string, unknown>): GatewayCommand {
  return parseGatewayCommand(item, `stored command ${profile}/${String(item.command_id)}`);
}
