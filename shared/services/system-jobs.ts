/**
 * Handlers of the `system.*` kinds: `system.selftest` round-trips every store and reports; `system.sleep` sleeps
 * with progress and can fail on purpose (tests of progress, cancel, retry and DLQ).
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { TableNames } from '../config.ts';
import type { AuditLog } from '../domain/control/audit.ts';
import type { JobQueue } from '../domain/control/job-queue.ts';
import type { Clock } from '../domain/time.ts';
import { JobFailedError } from '../errors/control.ts';
import { SELFTEST_KEY_PREFIX, TABLE_IDS, TABLES } from '../infra/aws/definitions.ts';
import type { WarmPath } from '../infra/redis/warm-path.ts';
import { abortableSleep, type JobContext, type JobHandler, type JobHandlers } from './job-handlers.ts';

export interface SelftestCheck {
  store: string;
  ok: boolean;
  latency_ms: number;
  detail: string;
  /** Optional stores (Redis) report degraded instead of failing the selftest. */
  required: boolean;
}

export interface SystemJobDeps {
  doc: DynamoDBDocumentClient;
  tables: TableNames;
  queue: JobQueue;
  warm: WarmPath;
  audit: AuditLog;
  clock: Clock;
}

export function systemJobHandlers(deps: SystemJobDeps): JobHandlers {
  return { 'system.selftest': selftest(deps), 'system.sleep': sleep };
}

function selftest(deps: SystemJobDeps): JobHandler {
  return async (_params, ctx) => {
    const checks: SelftestCheck[] = [];
    const probes: [string, boolean, () => Promise<string>][] = [
      ...TABLE_IDS.filter((id) => id !== 'audit').map(
        (id) =>
          [`dynamo:${TABLES[id].logicalName}`, true, () => tableRoundTrip(deps, id, ctx.jobId)] as [
            string,
            boolean,
            () => Promise<string>,
          ],
      ),
      ['dynamo:Audit', true, () => auditRoundTrip(deps, ctx)],
      ['sqs:jobs', true, () => queueRoundTrip(deps, ctx)],
      ['redis', false, () => redisRoundTrip(deps, ctx.jobId)],
    ];
    for (const [i, [store, required, fn]] of probes.entries()) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await ctx.progress({
        phase: 'probe',
        total_phases: 1,
        step: store,
        step_idx: i,
        total_steps: probes.length,
        message: `checking ${store}`,
      });
      const t0 = performance.now();
      let check: SelftestCheck;
      try {
        const detail = await fn();
        check = { store, ok: true, latency_ms: round(performance.now() - t0), detail, required };
      } catch (err) {
        check = {
          store,
          ok: false,
          latency_ms: round(performance.now() - t0),
          detail: err instanceof Error ? err.message : String(err),
          required,
        };
      }
      checks.push(check);
      const verdict = check.ok ? 'ok' : required ? 'FAILED' : 'degraded';
      ctx.log[check.ok ? 'info' : required ? 'error' : 'warn'](
        { store, ok: check.ok, latency_ms: check.latency_ms, detail: check.detail },
        `${store}: ${verdict} in ${check.latency_ms} ms (${check.detail})`,
      );
    }
    const failed = checks.filter((c) => !c.ok && c.required);
    if (failed.length > 0) {
      throw new JobFailedError(
        'selftest_failed',
        `selftest failed: ${failed.map((c) => `${c.store}: ${c.detail}`).join('; ')}`,
        false,
        {
          details: { checks },
        },
      );
    }
    const degraded = checks.filter((c) => !c.ok).map((c) => c.store);
    ctx.log.info(
      { checks: checks.length, degraded },
      `selftest passed: ${checks.length} stores checked${degraded.length > 0 ? `, degraded: ${degraded.join(', ')}` : ''}`,
    );
    return { ok: true, degraded, checks };
  };
}

/** Put, read back and delete a probe item shaped by the table's key schema. */
async function tableRoundTrip(deps: SystemJobDeps, id: (typeof TABLE_IDS)[number], jobId: string): Promise<string> {
  const def = TABLES[id];
  const key: Record<string, string | number> = { [def.partitionKey.name]: `${SELFTEST_KEY_PREFIX}${jobId}` };
  if ('sortKey' in def && def.sortKey) key[def.sortKey.name] = def.sortKey.type === 'N' ? 0 : 'selftest';
  const TableName = deps.tables[id];
  const marker = `${jobId}:${deps.clock.nowMs()}`;
  await deps.doc.send(
    new PutCommand({
      TableName,
      Item: { ...key, selftest_marker: marker },
      ConditionExpression: `attribute_not_exists(#pk)`,
      ExpressionAttributeNames: { '#pk': def.partitionKey.name },
    }),
  );
  const r = await deps.doc.send(new GetCommand({ TableName, Key: key, ConsistentRead: true }));
  await deps.doc.send(new DeleteCommand({ TableName, Key: key }));
  if (r.Item?.selftest_marker !== marker)
    throw new Error(`read back ${JSON.stringify(r.Item?.selftest_marker)}, wrote ${marker}`);
  return `put/get/delete on ${TableName}`;
}

/** The audit log is append-only: the selftest appends a real entry and reads it back. */
async function auditRoundTrip(deps: SystemJobDeps, ctx: JobContext): Promise<string> {
  const entry = await deps.audit.append({
    actor: { type: 'system', id: 'selftest', name: 'system.selftest' },
    role: 'admin',
    ip: null,
    user_agent: null,
    request_id: null,
    action: 'system.selftest',
    target: `job:${ctx.jobId}`,
    outcome: 'ok',
    reason: null,
    before: null,
    after: { attempt: ctx.attempt },
  });
  const day = entry.ts.slice(0, 10);
  const recent = await deps.audit.listDay(day, 50);
  if (!recent.some((e) => e.audit_id === entry.audit_id))
    throw new Error(`audit entry ${entry.audit_id} not found in ${day}`);
  return `append + query on audit#${day}`;
}

/**
 * SQS: send a duplicate of this job's own message (the protocol makes it harmless: a worker sees the live lease
 * or the terminal record and drops it) and read the queue depth.
 */
async function queueRoundTrip(deps: SystemJobDeps, ctx: JobContext): Promise<string> {
  const id = await deps.queue.send({ v: 1, job_id: ctx.jobId, kind: ctx.kind });
  const d = await deps.queue.depth();
  return `sent ${id}; depth ${d.visible} visible, ${d.inFlight} in flight, DLQ ${d.dlqVisible}`;
}

async function redisRoundTrip(deps: SystemJobDeps, jobId: string): Promise<string> {
  const status = deps.warm.status();
  if (status.degraded) throw new Error(`warm path degraded (${status.reason}): ${status.error}`);
  const key = `selftest:${jobId}`;
  await deps.warm.set(key, jobId, 60);
  const v = await deps.warm.get(key);
  await deps.warm.del(key);
  if (v !== jobId) throw new Error(`read back ${JSON.stringify(v)}`);
  return 'set/get/del';
}

const sleep: JobHandler = async (params, ctx) => {
  const seconds = Number(params.seconds);
  const failAt = params.fail_at_pct === undefined ? null : Number(params.fail_at_pct);
  const steps = Math.max(1, Math.min(100, Math.round(seconds * 4)));
  const stepMs = (seconds * 1000) / steps;
  ctx.log.info(
    { seconds, steps, fail_at_pct: failAt },
    `sleeping ${seconds} s in ${steps} steps${failAt === null ? '' : `, failing at ${Math.round(failAt * 100)} %`}`,
  );
  let loggedS = 0;
  for (let i = 0; i <= steps; i++) {
    const sleptS = (i * stepMs) / 1000;
    // One line per whole second slept (and none for the start, logged above).
    if (Math.floor(sleptS + 1e-9) > loggedS && i < steps) {
      loggedS = Math.floor(sleptS + 1e-9);
      ctx.log.info({ slept_s: loggedS, seconds }, `slept ${loggedS} of ${seconds} s`);
    }
    if (failAt !== null && i / steps >= failAt) {
      ctx.log.error({ at_pct: Math.round((i / steps) * 100) }, 'failing on purpose (fail_at_pct)');
      throw new JobFailedError(
        'simulated_failure',
        `system.sleep failed on purpose at ${Math.round((i / steps) * 100)} %`,
        params.fail_retryable !== false,
      );
    }
    if (i === steps) break;
    await ctx.progress({
      phase: 'sleep',
      total_phases: 1,
      step: 'tick',
      step_idx: i,
      total_steps: steps,
      message: `slept ${((i * stepMs) / 1000).toFixed(1)} of ${seconds} s`,
    });
    await abortableSleep(stepMs, ctx.signal);
  }
  ctx.log.info({ slept_s: seconds }, `slept ${seconds} s; done`);
  return { slept_s: seconds };
};

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
