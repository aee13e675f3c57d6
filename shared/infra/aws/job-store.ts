/**
 * `JobStore` on the DynamoDB Jobs table. Job items carry `entity = "job"` so the `entity-created_at` index lists
 * every job without a scan; dedupe items (`job_id = dedupe#<key>`) carry no index attributes and stay out of them.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type {
  ClaimInput,
  FinishInput,
  JobListPage,
  JobListQuery,
  JobStatusFilter,
  JobStore,
  OwnerRef,
  RequeueInput,
  TransitionResult,
} from '../../domain/control/job-store.ts';
import {
  type JobAttempt,
  type JobErrorInfo,
  type JobProgress,
  type JobRecord,
  JobRecordSchema,
  type JobStatus,
} from '../../domain/control/jobs.ts';
import { parseOrThrow } from '../../domain/control/validation.ts';
import type { JobVar } from '../../domain/control/varieties.ts';
import { conditionFailedItem } from './dynamo-errors.ts';

const DEDUPE_PREFIX = 'dedupe#';

/** Attribute names that collide with DynamoDB reserved words; owner updates alias the ones they use. */
const OPTIONAL_NAMES: Record<string, string> = { '#r': 'result', '#e': 'error', '#log': 'log' };

export class DynamoJobStore implements JobStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(record: JobRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...record, entity: 'job' },
        ConditionExpression: 'attribute_not_exists(job_id)',
      }),
    );
  }

  async get(jobId: string): Promise<JobRecord | null> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { job_id: jobId }, ConsistentRead: true }),
    );
    return r.Item ? parseJob(r.Item) : null;
  }

  async putDedupe(
    key: string,
    jobId: string,
    now: string,
  ): Promise<{ ok: true } | { ok: false; jobId: string; at: string }> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { job_id: `${DEDUPE_PREFIX}${key}`, owner_job_id: jobId, at: now },
          ConditionExpression: 'attribute_not_exists(job_id)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true };
    } catch (err) {
      const old = conditionFailedItem(err);
      if (old === undefined) throw err;
      const existing = old ?? (await this.getDedupe(key));
      if (!existing) return this.putDedupe(key, jobId, now);
      return { ok: false, jobId: String(existing.owner_job_id), at: String(existing.at) };
    }
  }

  async takeOverDedupe(key: string, oldJobId: string, newJobId: string, now: string): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { job_id: `${DEDUPE_PREFIX}${key}` },
        UpdateExpression: 'SET owner_job_id = :new, #at = :now',
        ConditionExpression: 'owner_job_id = :old',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':new': newJobId, ':old': oldJobId, ':now': now },
      }),
    );
  }

  async releaseDedupe(key: string, jobId: string): Promise<void> {
    await this.conditional(
      new DeleteCommand({
        TableName: this.table,
        Key: { job_id: `${DEDUPE_PREFIX}${key}` },
        ConditionExpression: 'owner_job_id = :me',
        ExpressionAttributeValues: { ':me': jobId },
      }),
    );
  }

  claim(jobId: string, input: ClaimInput): Promise<TransitionResult> {
    return this.claimWhere(jobId, input, '#s = :queued AND attribute_not_exists(cancel_requested_at)', {
      ':queued': 'queued',
    });
  }

  reclaim(jobId: string, input: ClaimInput): Promise<TransitionResult> {
    return this.claimWhere(jobId, input, '#s = :running AND lease_expires_at < :now', {
      ':running': 'running',
      ':now': input.now,
    });
  }

  heartbeat(owner: OwnerRef, leaseExpiresAt: string, now: string): Promise<TransitionResult> {
    return this.ownerUpdate(owner, 'SET lease_expires_at = :lease, updated_at = :now', {
      ':lease': leaseExpiresAt,
      ':now': now,
    });
  }

  setProgress(owner: OwnerRef, progress: JobProgress, now: string): Promise<TransitionResult> {
    return this.ownerUpdate(owner, 'SET progress = :p, updated_at = :now', { ':p': progress, ':now': now });
  }

  finish(owner: OwnerRef, input: FinishInput): Promise<TransitionResult> {
    const i = owner.attemptIdx;
    const sets = [
      '#s = :status',
      'updated_at = :now',
      'finished_at = :now',
      'lease_expires_at = :null',
      'waiting_for = :null',
      '#e = :error',
      `attempts[${i}].outcome = :outcome`,
      `attempts[${i}].ended_at = :now`,
      `attempts[${i}].#e = :error`,
    ];
    const values: Record<string, unknown> = {
      ':status': input.status,
      ':now': input.now,
      ':null': null,
      ':error': input.error ?? null,
      ':outcome': input.outcome,
    };
    if (input.result !== undefined) {
      sets.push('#r = :result');
      values[':result'] = input.result;
    }
    if (input.progress) {
      sets.push('progress = :progress');
      values[':progress'] = input.progress;
    }
    if (input.log) {
      sets.push('#log = :log');
      values[':log'] = input.log;
    }
    return this.ownerUpdate(owner, `SET ${sets.join(', ')}`, values);
  }

  requeue(owner: OwnerRef, input: RequeueInput): Promise<TransitionResult> {
    const i = owner.attemptIdx;
    const values: Record<string, unknown> = {
      ':queued': 'queued',
      ':now': input.now,
      ':null': null,
      ':waiting': input.waitingFor ?? null,
    };
    const sets = [
      '#s = :queued',
      'updated_at = :now',
      'queued_at = :now',
      'lease_expires_at = :null',
      'waiting_for = :waiting',
    ];
    let remove = '';
    if (input.refundAttempt) {
      // A lock or slot wait spends no attempt: restore the counter and drop the attempt entry.
      values[':prev'] = owner.attempt - 1;
      sets.push('attempt = :prev');
      remove = ` REMOVE attempts[${i}]`;
    } else {
      values[':outcome'] = input.outcome;
      values[':error'] = input.error ?? null;
      sets.push(
        '#e = :error',
        `attempts[${i}].outcome = :outcome`,
        `attempts[${i}].ended_at = :now`,
        `attempts[${i}].#e = :error`,
      );
    }
    if (input.log) {
      sets.push('#log = :log');
      values[':log'] = input.log;
    }
    return this.ownerUpdate(owner, `SET ${sets.join(', ')}${remove}`, values);
  }

  cancelQueued(jobId: string, by: string, now: string): Promise<TransitionResult> {
    return this.update({
      TableName: this.table,
      Key: { job_id: jobId },
      UpdateExpression:
        'SET #s = :cancelled, updated_at = :now, finished_at = :now, cancel_requested_at = :now, cancel_requested_by = :by',
      ConditionExpression: '#s = :queued',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':cancelled': 'cancelled', ':queued': 'queued', ':now': now, ':by': by },
    });
  }

  requestCancel(jobId: string, by: string, now: string): Promise<TransitionResult> {
    return this.update({
      TableName: this.table,
      Key: { job_id: jobId },
      UpdateExpression: 'SET cancel_requested_at = :now, cancel_requested_by = :by, updated_at = :now',
      ConditionExpression: '#s = :running AND attribute_not_exists(cancel_requested_at)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':running': 'running', ':now': now, ':by': by },
    });
  }

  failAbandoned(jobId: string, error: JobErrorInfo, now: string): Promise<TransitionResult> {
    return this.update({
      TableName: this.table,
      Key: { job_id: jobId },
      UpdateExpression:
        'SET #s = :failed, #e = :error, updated_at = :now, finished_at = :now, lease_expires_at = :null, waiting_for = :null',
      ConditionExpression: '#s = :queued OR (#s = :running AND lease_expires_at < :now)',
      ExpressionAttributeNames: { '#s': 'status', '#e': 'error' },
      ExpressionAttributeValues: {
        ':failed': 'failed',
        ':queued': 'queued',
        ':running': 'running',
        ':error': error,
        ':now': now,
        ':null': null,
      },
    });
  }

  cancelAbandoned(jobId: string, now: string): Promise<TransitionResult> {
    return this.update({
      TableName: this.table,
      Key: { job_id: jobId },
      UpdateExpression: 'SET #s = :cancelled, updated_at = :now, finished_at = :now, lease_expires_at = :null',
      ConditionExpression: '#s = :running AND lease_expires_at < :now AND attribute_exists(cancel_requested_at)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':cancelled': 'cancelled', ':running': 'running', ':now': now, ':null': null },
    });
  }

  touchQueued(jobId: string, seenQueuedAt: string, now: string): Promise<TransitionResult> {
    return this.update({
      TableName: this.table,
      Key: { job_id: jobId },
      UpdateExpression: 'SET queued_at = :now, updated_at = :now',
      ConditionExpression: '#s = :queued AND queued_at = :seen',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':queued': 'queued', ':seen': seenQueuedAt, ':now': now },
    });
  }

  async list(q: JobListQuery): Promise<JobListPage> {
    const base = this.listQueryBase(q);
    const items: JobRecord[] = [];
    let startKey = q.startKey;
    let read = 0;
    for (;;) {
      const r = await this.doc.send(
        new QueryCommand({
          ...base,
          ScanIndexForward: false,
          Limit: Math.max(1, q.readBudget - read),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      read += r.ScannedCount ?? 0;
      for (const raw of r.Items ?? []) {
        items.push(parseJob(raw));
        if (items.length === q.limit) {
          // Stopped inside a page: resume right after this item, whatever the page's LastEvaluatedKey says.
          const more = raw !== r.Items?.at(-1) || r.LastEvaluatedKey !== undefined;
          return { items, nextKey: more ? this.indexKey(base.IndexName, raw) : null };
        }
      }
      if (!r.LastEvaluatedKey) return { items, nextKey: null };
      startKey = r.LastEvaluatedKey;
      if (read >= q.readBudget) return { items, nextKey: startKey };
    }
  }

  async count(status: JobStatus): Promise<number> {
    let total = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'status-created_at',
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': status },
          Select: 'COUNT',
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      total += r.Count ?? 0;
      startKey = r.LastEvaluatedKey;
    } while (startKey);
    return total;
  }

  async listByStatus(
    status: JobStatus,
    limit: number,
    createdBefore?: string,
    filter: JobStatusFilter = {},
  ): Promise<JobRecord[]> {
    const names: Record<string, string> = { '#s': 'status' };
    const values: Record<string, unknown> = { ':s': status, ...(createdBefore ? { ':before': createdBefore } : {}) };
    const filters: string[] = [];
    if (filter.kinds && filter.kinds.length > 0) {
      names['#k'] = 'kind';
      filter.kinds.forEach((k, i) => {
        values[`:k${i}`] = k;
      });
      filters.push(`#k IN (${filter.kinds.map((_, i) => `:k${i}`).join(', ')})`);
    }
    if (filter.var) {
      names['#v'] = 'var';
      values[':v'] = filter.var;
      filters.push('#v = :v');
    }
    if (filter.cancelNotRequested) filters.push('attribute_not_exists(cancel_requested_at)');
    const out: JobRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const remaining = limit - out.length;
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'status-created_at',
          KeyConditionExpression: createdBefore ? '#s = :s AND created_at < :before' : '#s = :s',
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: true,
          // `Limit` counts items read before the filter: a filtered read takes bigger pages and keeps `limit`.
          Limit: filters.length > 0 ? Math.max(remaining, 100) : remaining,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      out.push(...(r.Items ?? []).map(parseJob));
      startKey = r.LastEvaluatedKey;
    } while (startKey && out.length < limit);
    return out.slice(0, limit);
  }

  async listCreatedBetween(q: {
    from: string;
    to: string;
    var?: JobVar;
    limit: number;
  }): Promise<{ items: JobRecord[]; truncated: boolean }> {
    const byVar = q.var !== undefined;
    const items: JobRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: byVar ? 'var-created_at' : 'entity-created_at',
          KeyConditionExpression: `${byVar ? '#v = :p' : 'entity = :p'} AND created_at BETWEEN :from AND :to`,
          ...(byVar ? { ExpressionAttributeNames: { '#v': 'var' } } : {}),
          ExpressionAttributeValues: { ':p': byVar ? q.var : 'job', ':from': q.from, ':to': q.to },
          ScanIndexForward: false,
          // One more than asked, to tell "exactly limit" from "truncated".
          Limit: q.limit + 1 - items.length,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(r.Items ?? []).map(parseJob));
      startKey = r.LastEvaluatedKey;
    } while (startKey && items.length <= q.limit);
    return { items: items.slice(0, q.limit), truncated: items.length > q.limit };
  }

  private listQueryBase(q: JobListQuery): QueryCommandInput & { IndexName: string } {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const filters: string[] = [];
    let IndexName: string;
    let keyCond: string;
    const statuses = q.statuses ?? [];
    if (q.kind) {
      IndexName = 'kind-created_at';
      keyCond = '#k = :k';
      names['#k'] = 'kind';
      values[':k'] = q.kind;
    } else if (q.var) {
      IndexName = 'var-created_at';
      keyCond = '#v = :v';
      names['#v'] = 'var';
      values[':v'] = q.var;
    } else if (statuses.length === 1) {
      IndexName = 'status-created_at';
      keyCond = '#s = :s0';
      names['#s'] = 'status';
      values[':s0'] = statuses[0];
    } else {
      IndexName = 'entity-created_at';
      keyCond = 'entity = :job';
      values[':job'] = 'job';
    }
    if (q.var && IndexName !== 'var-created_at') {
      names['#v'] = 'var';
      values[':v'] = q.var;
      filters.push('#v = :v');
    }
    if (statuses.length > 0 && IndexName !== 'status-created_at') {
      names['#s'] = 'status';
      statuses.forEach((s, i) => {
        values[`:s${i}`] = s;
      });
      filters.push(`#s IN (${statuses.map((_, i) => `:s${i}`).join(', ')})`);
    }
    if (q.kindPrefix && !q.kind) {
      names['#k'] = 'kind';
      values[':kp'] = q.kindPrefix;
      filters.push('begins_with(#k, :kp)');
    }
    return {
      TableName: this.table,
      IndexName,
      KeyConditionExpression: keyCond,
      ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: values,
    };
  }

  private indexKey(index: string, item: Record<string, unknown>): Record<string, unknown> {
    const attr =
      { 'kind-created_at': 'kind', 'var-created_at': 'var', 'status-created_at': 'status' }[index] ?? 'entity';
    return { job_id: item.job_id, created_at: item.created_at, [attr]: item[attr] };
  }

  private async getDedupe(key: string): Promise<Record<string, unknown> | undefined> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { job_id: `${DEDUPE_PREFIX}${key}` }, ConsistentRead: true }),
    );
    return r.Item;
  }

  private claimWhere(
    jobId: string,
    input: ClaimInput,
    statusCondition: string,
    conditionValues: Record<string, unknown>,
  ): Promise<TransitionResult> {
    const attempt: JobAttempt = {
      attempt: input.seenAttempt + 1,
      worker: input.worker.id,
      started_at: input.now,
      ended_at: null,
      outcome: 'running',
      error: null,
    };
    return this.update({
      TableName: this.table,
      Key: { job_id: jobId },
      UpdateExpression:
        'SET #s = :running, attempt = :next, #w = :worker, lease_expires_at = :lease, updated_at = :now, ' +
        (input.previousAttempts ? 'attempts = :attempts' : 'attempts = list_append(attempts, :attempts)') +
        ', waiting_for = :waiting' +
        (input.seenAttempt === 0 ? ', started_at = :now' : '') +
        (input.config ? ', config_revision = :crev, config_hash = :chash' : ''),
      ConditionExpression: `${statusCondition} AND attempt = :seen`,
      ExpressionAttributeNames: { '#s': 'status', '#w': 'worker' },
      ExpressionAttributeValues: {
        ...conditionValues,
        ':running': 'running',
        ':next': input.seenAttempt + 1,
        ':seen': input.seenAttempt,
        ':worker': input.worker,
        ':lease': input.leaseExpiresAt,
        ':now': input.now,
        ':attempts': [...(input.previousAttempts ?? []), attempt],
        ':waiting': null,
        ...(input.config ? { ':crev': input.config.revision, ':chash': input.config.config_hash } : {}),
      },
    });
  }

  private ownerUpdate(owner: OwnerRef, expr: string, values: Record<string, unknown>): Promise<TransitionResult> {
    const used: Record<string, string> = { '#s': 'status', '#w': 'worker', '#id': 'id' };
    for (const [alias, name] of Object.entries(OPTIONAL_NAMES)) if (expr.includes(alias)) used[alias] = name;
    return this.update({
      TableName: this.table,
      Key: { job_id: owner.jobId },
      UpdateExpression: expr,
      ConditionExpression: '#s = :running_ AND #w.#id = :me_ AND attempt = :attempt_',
      ExpressionAttributeNames: used,
      ExpressionAttributeValues: {
        ...values,
        ':running_': 'running',
        ':me_': owner.workerId,
        ':attempt_': owner.attempt,
      },
    });
  }

  private async update(input: UpdateCommandInput): Promise<TransitionResult> {
    try {
      const r = await this.doc.send(
        new UpdateCommand({ ...input, ReturnValues: 'ALL_NEW', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
      );
      if (!r.Attributes) throw new Error(`update of job ${String(input.Key?.job_id)} returned no attributes`);
      return { ok: true, record: parseJob(r.Attributes) };
    } catch (err) {
      const old = conditionFailedItem(err);
      if (old === undefined) throw err;
      return { ok: false, current: old ? parseJob(old) : null };
    }
  }

  private async conditional(cmd: UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.doc.send(cmd as UpdateCommand);
      return true;
    } catch (err) {
      if (conditionFailedItem(err) !== undefined) return false;
      throw err;
    }
  }
}

function parseJob(item: Record<string, unknown>): JobRecord {
  return parseOrThrow(JobRecordSchema, item, `job record ${String(item.job_id)} read from the Jobs table`);
}
