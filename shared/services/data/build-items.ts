/**
 * Coordination item of one main_l5 build (data-chain §5.1 step 4, §5.5 breaker), kept in the Jobs table under
 * `job_id = "build#<build_id>"` (no `entity`/`status` attribute, so job listings never see it). Every change is a
 * conditional or atomic update, so concurrent children agree on: which batch runs next (bounded concurrency), how
 * many children are pending (exactly-once decrement per child), the circuit breaker state and who enqueues finalize.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { parseOrThrow } from '../../domain/control/validation.ts';
import { isConditionFailed } from '../../infra/aws/dynamo-errors.ts';

export const BatchSchema = z.object({
  segment_id: z.number().int().min(0),
  underlying_contract: z.string().min(1),
  days: z.array(z.string()).min(1),
});
export type Batch = z.infer<typeof BatchSchema>;

export const BuildItemSchema = z.object({
  job_id: z.string(),
  build_id: z.string(),
  symbol: z.string(),
  variety: z.string(),
  parent_job_id: z.string(),
  mode: z.enum(['update', 'full_rebuild']),
  schedule_hash: z.string(),
  prefix_hashes: z.array(z.string()),
  warnings: z.array(z.string()),
  batches: z.array(BatchSchema),
  batches_total: z.number().int(),
  next_batch: z.number().int(),
  children_total: z.number().int(),
  children_pending: z.number().int(),
  children_failed: z.number().int(),
  circuit_failures: z.number().int(),
  circuit_open_until: z.number().int(),
  /** The build lock's lease, so children renew and finalize releases the same lease. */
  lock: z.object({ key: z.string(), ownerId: z.string(), fence: z.number().int(), expiresAtMs: z.number() }),
  settings: z.record(z.string(), z.unknown()),
  config_snapshot: z.record(z.string(), z.unknown()),
  config_hash: z.string(),
  created_at_ms: z.number().int(),
  deadline_ms: z.number().int(),
  /** Schedule days after it had not closed when the build was planned; a later update builds them. */
  last_buildable_day: z.string(),
  finalize_job_id: z.string().optional(),
  status: z.enum(['building', 'finalizing', 'promoted', 'rejected', 'failed']),
  summary: z.record(z.string(), z.unknown()).optional(),
});
export type BuildItem = z.infer<typeof BuildItemSchema>;

const key = (buildId: string) => ({ job_id: `build#${buildId}` });
/** The set of unfinished build ids (no index attributes, like the build items themselves). */
const OPEN_BUILDS = { job_id: 'builds#open' };

export class BuildItems {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(item: Omit<BuildItem, 'job_id'>): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...item, ...key(item.build_id) },
        ConditionExpression: 'attribute_not_exists(job_id)',
      }),
    );
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: OPEN_BUILDS,
        UpdateExpression: 'ADD build_ids :id',
        ExpressionAttributeValues: { ':id': new Set([item.build_id]) },
      }),
    );
  }

  /** Builds not yet finished (the deadline sweeper's work list). */
  async openBuildIds(): Promise<string[]> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: OPEN_BUILDS, ConsistentRead: true }));
    const ids = r.Item?.build_ids as Set<string> | undefined;
    return ids ? [...ids].sort() : [];
  }

  async get(buildId: string): Promise<BuildItem | null> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: key(buildId), ConsistentRead: true }));
    if (!r.Item) return null;
    return parseOrThrow(BuildItemSchema, r.Item, `main_l5 build item ${buildId}`);
  }

  async require(buildId: string): Promise<BuildItem> {
    const item = await this.get(buildId);
    if (!item) throw new Error(`main_l5 build ${buildId} has no coordination item`);
    return item;
  }

  /** Take the next unstarted batch index, or null when every batch has been handed out. */
  async claimNextBatch(buildId: string): Promise<number | null> {
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key(buildId),
          UpdateExpression: 'SET next_batch = next_batch + :one',
          ConditionExpression: 'next_batch < batches_total',
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return Number(r.Attributes?.next_batch);
    } catch (err) {
      if (isConditionFailed(err)) return null;
      throw err;
    }
  }

  /**
   * Count a finished child exactly once (a redelivered or re-run child does not count twice); returns the pending
   * count after the decrement, or null when this child was already counted.
   */
  async childDone(buildId: string, childKey: string, failed: boolean): Promise<number | null> {
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key(buildId),
          UpdateExpression: 'ADD children_pending :minus, done_children :me, children_failed :failed',
          ConditionExpression: 'attribute_not_exists(done_children) OR NOT contains(done_children, :key)',
          ExpressionAttributeValues: {
            ':minus': -1,
            ':me': new Set([childKey]),
            ':key': childKey,
            ':failed': failed ? 1 : 0,
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(r.Attributes?.children_pending);
    } catch (err) {
      if (isConditionFailed(err)) return null;
      throw err;
    }
  }

  /** A continuation child (maintenance wait) joins the pending count before its predecessor leaves it. */
  async addPending(buildId: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: key(buildId),
        UpdateExpression: 'ADD children_pending :one, children_total :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  /** §5.5 breaker: count a failure; open (or extend) the circuit when failures reach the threshold. */
  async recordFailure(
    buildId: string,
    nowMs: number,
    breaker: { enabled: boolean; threshold: number; cooldownS: number },
  ): Promise<{ failures: number; openUntilMs: number }> {
    const r = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: key(buildId),
        UpdateExpression: 'ADD circuit_failures :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const failures = Number(r.Attributes?.circuit_failures);
    let openUntil = Number(r.Attributes?.circuit_open_until ?? 0);
    if (breaker.enabled && breaker.cooldownS > 0 && failures >= breaker.threshold) {
      const until = nowMs + Math.round(breaker.cooldownS * 1000);
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: key(buildId),
            UpdateExpression: 'SET circuit_open_until = :until',
            ConditionExpression: 'circuit_open_until < :until',
            ExpressionAttributeValues: { ':until': until },
          }),
        );
        openUntil = until;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        // Someone already opened it further into the future: max() semantics.
      }
    }
    return { failures, openUntilMs: openUntil };
  }

  /** A provider success resets the failure counter and clears an expired open state. */
  async recordSuccess(buildId: string, nowMs: number): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: key(buildId),
        UpdateExpression: 'SET circuit_failures = :zero',
        ExpressionAttributeValues: { ':zero': 0 },
      }),
    );
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key(buildId),
          UpdateExpression: 'SET circuit_open_until = :zero',
          ConditionExpression: 'circuit_open_until <= :now',
          ExpressionAttributeValues: { ':zero': 0, ':now': nowMs },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  /** Whoever sets this first enqueues finalize; true for the winner. */
  async claimFinalize(buildId: string, marker: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key(buildId),
          UpdateExpression: 'SET finalize_job_id = :m, #s = :finalizing',
          ConditionExpression: 'attribute_not_exists(finalize_job_id)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':m': marker, ':finalizing': 'finalizing' },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async setFinalizeJob(buildId: string, jobId: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: key(buildId),
        UpdateExpression: 'SET finalize_job_id = :j',
        ExpressionAttributeValues: { ':j': jobId },
      }),
    );
  }

  async setLock(buildId: string, lock: BuildItem['lock']): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: key(buildId),
        UpdateExpression: 'SET #l = :l',
        ExpressionAttributeNames: { '#l': 'lock' },
        ExpressionAttributeValues: { ':l': lock },
      }),
    );
  }

  async finish(buildId: string, status: 'promoted' | 'rejected' | 'failed', summary: Record<string, unknown>) {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: key(buildId),
        UpdateExpression: 'SET #s = :s, summary = :sum',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': status, ':sum': summary },
      }),
    );
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: OPEN_BUILDS,
        UpdateExpression: 'DELETE build_ids :id',
        ExpressionAttributeValues: { ':id': new Set([buildId]) },
      }),
    );
  }
}
