import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobLogKey } from '#shared/domain/control/job-log.ts';
import { systemClock } from '#shared/domain/time.ts';
import { LocalArtifactStore } from '#shared/infra/artifacts/local.ts';
import { createLogger } from '#shared/log.ts';
import { JobLogs } from '#shared/services/job-log.ts';
import type { RequestContext } from '#shared/services/job-service.ts';
import { createTestStack, type TestStack, waitFor } from '../support/stack.ts';

const operator: RequestContext = { actor: { actor: 'alice', role: 'operator' }, requestId: 'test-request-log1' };
const JOB = '01JABCDEFGHJKMNPQRSTVWXYZ0';

interface Line {
  ts: string;
  level: string;
  msg: string;
  job_id: string;
  attempt: number;
  [k: string]: unknown;
}

const parse = (text: string): Line[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);

describe('job logs through the real worker (local runner, LocalArtifactStore under a temp GHTRADER_HOME)', () => {
  let stack: TestStack;
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ghtrader-joblog-'));
    stack = await createTestStack({ runner: true, maxReceiveCount: 3, env: { GHTRADER_HOME: home } });
  });
  afterAll(async () => {
    await stack?.close();
    await rm(home, { recursive: true, force: true });
  });

  const terminal = (id: string, timeoutMs = 30_000) =>
    waitFor(
      async () => {
        const j = await stack.rt.jobs.get(id);
        return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
      },
      timeoutMs,
      `job ${id} to finish`,
    );

  it('stores a sleep job’s lines (UTC timestamps, job id, attempt) and serves the tail', async () => {
    // Act
    const { job } = await stack.rt.jobs.submit({ kind: 'system.sleep', params: { seconds: 3 } }, operator);
    const done = await terminal(job.job_id);
    const tail = await stack.rt.jobs.logTail(job.job_id, {});

    // Assess
    expect(done.status).toBe('succeeded');
    expect(tail.attempt).toBe(1);
    expect(tail.truncated).toBe(false);
    const lines = parse(tail.text);
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'attempt 1 of 3 started',
        'sleeping 3 s in 12 steps',
        'phase 1/1 sleep: slept 0.0 of 3 s',
        'slept 1 of 3 s',
        'slept 2 of 3 s',
        'slept 3 s; done',
        'attempt ended: handler returned',
      ]),
    );
    expect(lines[0]?.msg).toBe('attempt 1 of 3 started');
    expect(lines.at(-1)?.msg).toBe('attempt ended: handler returned');
    for (const l of lines) {
      expect(l.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(l).toMatchObject({ job_id: job.job_id, attempt: 1 });
    }
    expect(tail.bytes).toBe(Buffer.byteLength(tail.text));
    // Stored where the data chain keeps its artifacts: $GHTRADER_HOME/artifacts.
    expect(existsSync(path.join(home, 'artifacts', ...jobLogKey(job.job_id, 1, 0).split('/')))).toBe(true);
  });

  it('clamps max_bytes=1 to 1024 and says the tail is truncated', async () => {
    // Prepare
    const { job } = await stack.rt.jobs.submit({ kind: 'system.selftest', params: {} }, operator);
    await terminal(job.job_id);
    const full = await stack.rt.jobs.logTail(job.job_id, {});

    // Act
    const tail = await stack.rt.jobs.logTail(job.job_id, { max_bytes: '1' });

    // Assess
    expect(full.bytes).toBeGreaterThan(1024);
    expect(parse(full.text).some((l) => l.msg.startsWith('dynamo:Jobs: ok'))).toBe(true);
    expect(tail.bytes).toBeLessThanOrEqual(1024);
    expect(tail.bytes).toBeGreaterThan(0);
    expect(tail.truncated).toBe(true);
    expect(full.text.endsWith(tail.text)).toBe(true);
    expect(() => parse(tail.text)).not.toThrow();
  });

  it('keeps every attempt of a retried job: per-attempt tails, the NDJSON download, 404 past the last attempt', async () => {
    // Prepare
    const { job } = await stack.rt.jobs.submit(
      { kind: 'system.sleep', params: { seconds: 1, fail_at_pct: 0 } },
      operator,
    );
    const done = await terminal(job.job_id);

    // Act
    const second = await stack.rt.jobs.logTail(job.job_id, { attempt: '2' });
    const chunks: Uint8Array[] = [];
    for await (const c of await stack.rt.jobs.logDownload(job.job_id)) chunks.push(c);
    const all = parse(Buffer.concat(chunks).toString('utf8'));

    // Assess
    expect(done.attempts.map((a) => a.outcome)).toEqual(['retry', 'retry', 'retry']);
    expect(second.attempt).toBe(2);
    expect(parse(second.text).every((l) => l.attempt === 2)).toBe(true);
    expect(parse(second.text).map((l) => l.msg)).toContain('failing on purpose (fail_at_pct)');
    expect([...new Set(all.map((l) => l.attempt))]).toEqual([1, 2, 3]);
    expect(all.filter((l) => l.msg === 'attempt ended: handler failed')).toHaveLength(3);
    // The record's log summary (§4.1 `log{prefix, bytes}`) adds up every attempt's stored bytes.
    expect(job.log).toEqual({ prefix: `jobs/${job.job_id}/`, bytes: 0 });
    expect(done.log).toEqual({ prefix: `jobs/${job.job_id}/`, bytes: Buffer.concat(chunks).byteLength });
    await expect(stack.rt.jobs.logTail(job.job_id, { attempt: '4' })).rejects.toMatchObject({
      code: 'not_found',
      status: 404,
      message: `job ${job.job_id} has no attempt 4; its attempts are 1..3`,
    });
    await expect(stack.rt.jobs.logTail(job.job_id, { max_bytes: 'lots' })).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });
});

describe('JobAttemptLog on a LocalArtifactStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ghtrader-joblog-unit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const processLog = () => {
    const lines: string[] = [];
    const log = createLogger({ service: 'test', level: 'info', destination: { write: (l: string) => lines.push(l) } });
    return { log, lines };
  };

  it('sends handler lines to both logs, redacted and ANSI-free, and flushes at the byte threshold', async () => {
    // Prepare
    const store = new LocalArtifactStore(path.join(dir, 'a'));
    const logs = new JobLogs({ store, clock: systemClock, settings: { flushMs: 60_000, flushBytes: 2048 } });
    const p = processLog();
    const attempt = logs.open(JOB, 1, p.log.child({ job_id: JOB, attempt: 1 }));

    // Act
    attempt.logger.info({ password: 'hunter2', nested: { token: 'tok' } }, '\u001b[32mconnected\u001b[0m');
    for (let i = 0; i < 40; i++) attempt.logger.info({ i }, `line ${i} ${'x'.repeat(60)}`);
    await waitFor(async () => (await store.list(`jobs/${JOB}/attempt-1/`)).length > 0, 5000, 'a threshold flush');
    const flushedBeforeClose = (await store.list(`jobs/${JOB}/attempt-1/`)).length;
    await attempt.close();
    const tail = await logs.tail(JOB, 1, 1_048_576);

    // Assess
    const lines = parse(tail.text);
    expect(flushedBeforeClose).toBeGreaterThan(0);
    expect(lines).toHaveLength(41);
    expect(lines[0]).toMatchObject({ msg: 'connected', password: '[redacted]', nested: { token: '[redacted]' } });
    expect(lines.at(-1)?.msg).toMatch(/^line 39 /);
    expect(tail.text).not.toContain('hunter2');
    const processLines = p.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    // The process log gets the handler's own text; the job log strips its ANSI escapes.
    const connected = processLines.find((l) => String(l.msg).includes('connected'));
    expect(connected).toMatchObject({ job_id: JOB, attempt: 1, password: '[redacted]', level: 'info' });
    expect(p.lines.join('')).not.toContain('hunter2');
  });

  it('keeps lines when a flush fails, logs it, and writes them on a later flush', async () => {
    // Prepare: the store's root is a plain file, so writes fail until it is removed.
    const root = path.join(dir, 'blocked');
    await writeFile(root, 'not a directory');
    const store = new LocalArtifactStore(root);
    const logs = new JobLogs({ store, clock: systemClock, settings: { flushMs: 60_000 } });
    const p = processLog();
    const attempt = logs.open(JOB, 2, p.log);
    attempt.logger.warn('first');
    attempt.logger.info('second');

    // Act
    await attempt.flush();
    const failedPending = attempt.pendingLines;
    await rm(root);
    attempt.logger.info('third');
    await attempt.close();

    // Assess
    expect(failedPending).toBe(2);
    expect(p.lines.some((l) => (JSON.parse(l) as { msg: string }).msg === 'job_log.flush_failed')).toBe(true);
    expect(attempt.pendingLines).toBe(0);
    const lines = parse((await logs.tail(JOB, 2, 1_048_576)).text);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'first'],
      ['info', 'second'],
      ['info', 'third'],
    ]);
  });

  it('drops the oldest lines past the buffer bound while the store fails, and records the drop', async () => {
    // Prepare
    const root = path.join(dir, 'blocked-2');
    await writeFile(root, 'not a directory');
    const store = new LocalArtifactStore(root);
    const logs = new JobLogs({
      store,
      clock: systemClock,
      settings: { flushMs: 60_000, flushBytes: 1_000_000, maxBufferedBytes: 2_000 },
    });
    const p = processLog();
    const attempt = logs.open(JOB, 3, p.log);

    // Act
    for (let i = 0; i < 25; i++) attempt.logger.info(`line ${i}`);
    await attempt.flush();
    for (let i = 25; i < 50; i++) attempt.logger.info(`line ${i}`);
    await rm(root);
    await attempt.close();

    // Assess
    const lines = parse((await logs.tail(JOB, 3, 1_048_576)).text);
    expect(lines[0]).toMatchObject({ level: 'warn', dropped_lines: expect.any(Number) });
    const dropped = lines[0]?.dropped_lines as number;
    expect(dropped).toBeGreaterThan(0);
    expect(lines).toHaveLength(51 - dropped);
    expect(lines.at(-1)?.msg).toBe('line 49');
    expect(p.lines.some((l) => (JSON.parse(l) as { msg: string }).msg === 'job_log.lines_dropped')).toBe(true);
  });
});
