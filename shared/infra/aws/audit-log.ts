import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type AuditEntry, AuditEntrySchema, type AuditInput, type AuditLog } from '../../domain/control/audit.ts';
import { parseOrThrow } from '../../domain/control/validation.ts';
import type { IdGen } from '../../domain/ids.ts';
import { type Clock, isoUtc } from '../../domain/time.ts';

const SUMMARY_MAX_BYTES = 4096;
/** Housekeeping only (CDK TTL); retention must stay ≥ 400 days. */
const RETENTION_S = 800 * 24 * 3600;

/** Audit log on the Audit table: pk `audit#<UTC day>`, sk `<ts>#<ulid>`, put with `attribute_not_exists`. */
export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
    private readonly ids: IdGen,
  ) {}

  async append(input: AuditInput): Promise<AuditEntry> {
    const now = this.clock.nowMs();
    const ts = isoUtc(now);
    const entry: AuditEntry = {
      ...input,
      audit_id: this.ids.next(),
      ts,
      before: clip(input.before),
      after: clip(input.after),
    };
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...entry,
          pk: `audit#${ts.slice(0, 10)}`,
          sk: `${ts}#${entry.audit_id}`,
          actor_id: `${entry.actor.type}:${entry.actor.id}`,
          expires_at_s: Math.floor(now / 1000) + RETENTION_S,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return entry;
  }

  async listDay(day: string, limit: number): Promise<AuditEntry[]> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `audit#${day}` },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (r.Items ?? []).map((i) => parseOrThrow(AuditEntrySchema, i, 'audit entry'));
  }
}

/** Summaries larger than 4 KiB are replaced by a marker with their size, never silently cut mid-value. */
function clip(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  const text = JSON.stringify(value);
  return text.length <= SUMMARY_MAX_BYTES ? value : { truncated: true, bytes: text.length };
}
