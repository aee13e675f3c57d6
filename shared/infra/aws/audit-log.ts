import { type DynamoDBDocumentClient, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  type AuditEntry,
  AuditEntrySchema,
  type AuditInput,
  type AuditListPage,
  type AuditListRequest,
  type AuditLog,
} from '../../domain/control/audit.ts';
import { parseOrThrow } from '../../domain/control/validation.ts';
import type { IdGen } from '../../domain/ids.ts';
import { type Clock, isoUtc } from '../../domain/time.ts';

const SUMMARY_MAX_BYTES = 4096;
/** Housekeeping only (CDK TTL); retention must stay ≥ 400 days. */
const RETENTION_S = 800 * 24 * 3600;
const DAY_MS = 24 * 3600 * 1000;
/** Day partitions one `list` call may visit (a sparse 400-day window then costs bounded work per page). */
const MAX_DAYS_PER_CALL = 31;
/** Above every ULID character: `<to>#~` bounds every sort key whose timestamp is `<to>`. */
const SK_MAX_SUFFIX = '#~';

/**
 * Audit log on the Audit table: pk `audit#<UTC day>`, sk `<ts>#<ulid>`, put with `attribute_not_exists`; GSI
 * `actor-ts` (`actor_id` = `<type>:<id>`, `ts`). Listing uses Query only: the GSI for one actor, else the day
 * partitions from `to` back to `from`.
 */
export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
    private readonly ids: IdGen,
    /** Called with each entry once it is stored (the runtime publishes it on `audit:updates`); must not throw. */
    private readonly onAppended?: (entry: AuditEntry) => void,
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
    this.onAppended?.(entry);
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
    return (r.Items ?? []).map(parseEntry);
  }

  /**
   * Newest first within `[from, to]`; action/target/outcome are filter expressions, so one call reads at most
   * `readBudget` items (plus at most 31 empty day partitions) and may return fewer than `limit` with a position.
   */
  async list(q: AuditListRequest): Promise<AuditListPage> {
    return q.actorId ? this.listByActor(q, q.actorId) : this.listByDay(q);
  }

  private async listByActor(q: AuditListRequest, actorId: string): Promise<AuditListPage> {
    const f = filterOf(q);
    const base: QueryCommandInput = {
      TableName: this.table,
      IndexName: 'actor-ts',
      KeyConditionExpression: 'actor_id = :actor AND ts BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':actor': actorId, ':from': q.from, ':to': q.to, ...f.values },
      ...f.expression,
      ScanIndexForward: false,
    };
    const items: AuditEntry[] = [];
    let startKey = q.start?.key;
    let read = 0;
    for (;;) {
      const r = await this.doc.send(
        new QueryCommand({
          ...base,
          Limit: Math.max(1, q.readBudget - read),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      read += r.ScannedCount ?? 0;
      for (const raw of r.Items ?? []) {
        items.push(parseEntry(raw));
        if (items.length === q.limit) {
          // Stopped inside a page: resume right after this item, whatever the page's LastEvaluatedKey says.
          const more = raw !== r.Items?.at(-1) || r.LastEvaluatedKey !== undefined;
          return { items, next: more ? { key: pick(raw, ['pk', 'sk', 'actor_id', 'ts']) } : null };
        }
      }
      if (!r.LastEvaluatedKey) return { items, next: null };
      startKey = r.LastEvaluatedKey;
      if (read >= q.readBudget) return { items, next: { key: startKey } };
    }
  }

  private async listByDay(q: AuditListRequest): Promise<AuditListPage> {
    const f = filterOf(q);
    const fromDay = q.from.slice(0, 10);
    const items: AuditEntry[] = [];
    let day = q.start?.day ?? q.to.slice(0, 10);
    let startKey = q.start?.key;
    let read = 0;
    let days = 0;
    while (day >= fromDay) {
      if (days >= MAX_DAYS_PER_CALL || read >= q.readBudget) {
        return { items, next: { day, ...(startKey ? { key: startKey } : {}) } };
      }
      days++;
      for (;;) {
        const r = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':pk': `audit#${day}`,
              ':from': q.from,
              ':to': `${q.to}${SK_MAX_SUFFIX}`,
              ...f.values,
            },
            ...f.expression,
            ScanIndexForward: false,
            Limit: Math.max(1, q.readBudget - read),
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        read += r.ScannedCount ?? 0;
        for (const raw of r.Items ?? []) {
          items.push(parseEntry(raw));
          if (items.length === q.limit) {
            if (raw !== r.Items?.at(-1) || r.LastEvaluatedKey !== undefined) {
              return { items, next: { day, key: pick(raw, ['pk', 'sk']) } };
            }
            const older = previousDay(day);
            return { items, next: older >= fromDay ? { day: older } : null };
          }
        }
        if (!r.LastEvaluatedKey) break;
        startKey = r.LastEvaluatedKey;
        if (read >= q.readBudget) return { items, next: { day, key: startKey } };
      }
      startKey = undefined;
      day = previousDay(day);
    }
    return { items, next: null };
  }
}

function parseEntry(raw: Record<string, unknown>): AuditEntry {
  return parseOrThrow(AuditEntrySchema, raw, 'audit entry');
}

function previousDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) - DAY_MS).toISOString().slice(0, 10);
}

function pick(item: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, item[k]]));
}

/** action (exact or prefix), target and outcome as one FilterExpression with its names and values. */
function filterOf(q: AuditListRequest): {
  expression: Pick<QueryCommandInput, 'FilterExpression' | 'ExpressionAttributeNames'>;
  values: Record<string, unknown>;
} {
  const parts: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (q.action) {
    names['#action'] = 'action';
    values[':action'] = q.action.value;
    parts.push(q.action.prefix ? 'begins_with(#action, :action)' : '#action = :action');
  }
  if (q.target !== undefined) {
    names['#target'] = 'target';
    values[':target'] = q.target;
    parts.push('#target = :target');
  }
  if (q.outcome) {
    names['#outcome'] = 'outcome';
    values[':outcome'] = q.outcome;
    parts.push('#outcome = :outcome');
  }
  return {
    expression: parts.length > 0 ? { FilterExpression: parts.join(' AND '), ExpressionAttributeNames: names } : {},
    values,
  };
}

/** Summaries larger than 4 KiB are replaced by a marker with their size, never silently cut mid-value. */
function clip(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  const text = JSON.stringify(value);
  return text.length <= SUMMARY_MAX_BYTES ? value : { truncated: true, bytes: text.length };
}
