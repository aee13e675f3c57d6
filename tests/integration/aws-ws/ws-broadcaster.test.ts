/**
 * The AWS broadcaster against dynalite (WsConnections, Locks, TradingState of a per-file stack), the real Redis (its own
 * key prefix) and the local Management API server (`management-server.ts`; API Gateway's Management API has no official
 * local emulator): routing and role filtering, accounting (attempts, successes, failures, pruned on 410 Gone, items
 * deleted), the in-flight bounds (≤ 50 overall, ≤ 8 per connection), the counter flush to TradingState, and the lease
 * (one delivering broadcaster, no preemption, takeover after release).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemClock } from '#shared/domain/time.ts';
import { BroadcasterStatsFlusher, readBroadcasterStats } from '#shared/infra/aws/broadcaster-stats.ts';
import { DynamoLockStore } from '#shared/infra/aws/lock-store.ts';
import { WsBroadcaster } from '#shared/infra/aws/ws-broadcaster.ts';
import { CONSOLE_BROADCASTER_ID, LeasedWsBroadcaster } from '#shared/infra/aws/ws-broadcaster-lease.ts';
import { DynamoWsConnections } from '#shared/infra/aws/ws-connections.ts';
import { ApiGatewayWsManagement } from '#shared/infra/aws/ws-management.ts';
import { createTestStack, type TestStack, waitFor } from '../support/stack.ts';
import { ManagementServer } from './management-server.ts';

const HOUR = 3600_000;

describe('WsBroadcaster', () => {
  let stack: TestStack;
  let server: ManagementServer;
  let management: ApiGatewayWsManagement;
  let connections: DynamoWsConnections;
  const started: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    stack = await createTestStack();
    connections = new DynamoWsConnections(stack.rt.clients.doc, stack.config.tables.wsConnections);
    server = await ManagementServer.start();
    management = new ApiGatewayWsManagement({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }, 60_000);

  afterEach(async () => {
    for (const s of started.splice(0)) await s.stop();
    for (const c of await connections.listAll()) await connections.delete(c.connection_id);
    server.posts.length = 0;
    server.deletes.length = 0;
    server.gone.clear();
    server.delayMs = 0;
    server.peakInFlight = 0;
    server.peakPerConnection.clear();
  });

  afterAll(async () => {
    management?.destroy();
    await server?.close();
    await stack?.close();
  });

  async function open(role: 'viewer' | 'operator', topics: string[]): Promise<string> {
    const id = `${randomBytes(6).toString('base64url')}=`;
    await connections.put({
      connectionId: id,
      userId: `u-${role}`,
      role,
      via: 'session',
      connectedAtMs: Date.now(),
      expiresAtMs: Date.now() + HOUR,
    });
    if (topics.length > 0) await connections.updateTopics(id, () => ({ topics, result: null }));
    return id;
  }

  async function broadcaster(opts: { maxInFlight?: number } = {}): Promise<WsBroadcaster> {
    const b = new WsBroadcaster({ connections, management, log: stack.log, refreshMs: 60_000, ...opts });
    await b.start();
    started.push(b);
    return b;
  }

  const jobStatus = (jobId: string) => ({ type: 'job.status', job: { job_id: jobId, var: 'cu', status: 'running' } });

  it('delivers a routed message to each subscriber once, prunes a 410 Gone connection and deletes its item', async () => {
    // Prepare
    const viewer = await open('viewer', ['jobs:all']);
    const operator = await open('operator', ['jobs:cu', 'audit']);
    const dropped = await open('viewer', ['jobs:all']);
    const bystander = await open('viewer', ['config']);
    server.gone.add(dropped);
    const b = await broadcaster();
    const jobId = ulidGen.next();

    // Act
    b.deliver('jobs:updates', jobStatus(jobId));
    await b.idle();

    // Assess
    expect(server.messagesTo(viewer)).toEqual([
      expect.objectContaining({ v: 1, topic: 'jobs:all', type: 'job.status', seq: 1, payload: jobStatus(jobId).job }),
    ]);
    expect(server.messagesTo(operator)).toEqual([expect.objectContaining({ topic: 'jobs:cu', seq: 1 })]);
    expect(server.messagesTo(bystander)).toEqual([]);
    expect(b.stats()).toMatchObject({
      connections: 3,
      broadcast_attempt_total: 3,
      broadcast_success_total: 2,
      broadcast_failures_total: 1,
      dead_clients_pruned_total: 1,
      dropped_total: 0,
      connection_items_deleted_total: 1,
    });
    expect(b.stats().last_broadcast_error).toContain('GoneException');
    expect(await connections.get(dropped)).toBeNull();
    expect(await connections.get(viewer)).not.toBeNull();
  });

  it('clears the last error after a clean round and keeps per-topic seq', async () => {
    // Prepare
    const viewer = await open('viewer', ['jobs:all']);
    const dropped = await open('viewer', ['jobs:all']);
    server.gone.add(dropped);
    const b = await broadcaster();

    // Act
    b.deliver('jobs:updates', jobStatus(ulidGen.next()));
    await b.idle();
    const afterFailure = b.stats().last_broadcast_error;
    b.deliver('jobs:updates', jobStatus(ulidGen.next()));
    await b.idle();

    // Assess
    expect(afterFailure).not.toBeNull();
    expect(b.stats()).toMatchObject({
      last_broadcast_error: null,
      broadcast_success_total: 2,
      broadcast_failures_total: 1,
    });
    expect(server.messagesTo(viewer).map((m) => m.seq)).toEqual([1, 2]);
  });

  it('never sends command results or audit entries to a viewer, even one holding the topic', async () => {
    // Prepare
    const viewer = await open('viewer', ['audit', 'gateway:default']);
    const operator = await open('operator', ['audit', 'gateway:default']);
    const b = await broadcaster();

    // Act
    b.deliver('audit:updates', { action: 'config.set', actor: 'admin' });
    b.deliver('gateway:updates:default', { type: 'command.result', command_id: 'c1', ok: true });
    b.deliver('gateway:updates:default', { type: 'gateway.state', state: 'running' });
    await b.idle();

    // Assess
    expect(server.messagesTo(viewer).map((m) => m.type)).toEqual(['gateway.state']);
    expect(server.messagesTo(operator).map((m) => m.type)).toEqual(['audit', 'command.result', 'gateway.state']);
    expect(b.stats().broadcast_attempt_total).toBe(4);
  });

  it('keeps at most 8 sends in flight per connection and 50 overall', async () => {
    // Prepare
    const pair = await Promise.all([open('viewer', ['config']), open('viewer', ['config'])]);
    const ten = await Promise.all(Array.from({ length: 10 }, () => open('viewer', ['jobs:all'])));
    server.delayMs = 40;
    const b = await broadcaster();

    // Act
    for (let i = 0; i < 12; i++) b.deliver('config:updates', { revision: i + 1 });
    await b.idle();
    const perConnection = Math.max(...pair.map((id) => server.peakPerConnection.get(id) ?? 0));
    const pairPeak = server.peakInFlight;
    server.peakInFlight = 0;
    for (let i = 0; i < 12; i++) b.deliver('jobs:updates', jobStatus(ulidGen.next()));
    await b.idle();

    // Assess
    expect(perConnection).toBe(8);
    expect(pairPeak).toBe(16);
    expect(server.peakInFlight).toBe(50);
    expect(Math.max(...ten.map((id) => server.peakPerConnection.get(id) ?? 0))).toBeLessThanOrEqual(8);
    expect(server.messagesTo(pair[0] as string).map((m) => m.seq)).toHaveLength(12);
    expect(server.posts).toHaveLength(24 + 120);
    expect(b.stats()).toMatchObject({ broadcast_attempt_total: 144, broadcast_success_total: 144 });
  });

  it('drops (and counts) what does not fit a connection queue instead of waiting', async () => {
    // Prepare
    await open('viewer', ['config']);
    server.delayMs = 30;
    const b = new WsBroadcaster({ connections, management, log: stack.log, refreshMs: 60_000, queueMax: 4 });
    await b.start();
    started.push(b);

    // Act
    for (let i = 0; i < 10; i++) b.deliver('config:updates', { revision: i + 1 });
    await b.idle();

    // Assess
    expect(b.stats()).toMatchObject({ broadcast_attempt_total: 4, broadcast_success_total: 4, dropped_total: 6 });
  });

  it('replays the last message of a topic a connection newly subscribed to, and ignores expired connections', async () => {
    // Prepare
    const b = await broadcaster();
    b.deliver('config:updates', { revision: 7 });
    const late = await open('viewer', ['config']);
    const expired = `${randomBytes(6).toString('base64url')}=`;
    await connections.put({
      connectionId: expired,
      userId: 'u-old',
      role: 'viewer',
      via: 'token',
      connectedAtMs: Date.now() - 3 * HOUR,
      expiresAtMs: Date.now() - HOUR,
    });

    // Act
    await b.refresh();
    await b.idle();

    // Assess
    expect(server.messagesTo(late)).toEqual([
      expect.objectContaining({ topic: 'config', seq: 1, payload: { revision: 7 } }),
    ]);
    expect(server.deletes).toContain(expired);
    expect(await connections.get(expired)).toBeNull();
    expect(b.stats()).toMatchObject({ connections: 1, dead_clients_pruned_total: 1 });
  });

  it('flushes its counters to TradingState, and a flush with a lower fence never overwrites a newer one', async () => {
    // Prepare
    const viewer = await open('viewer', ['config']);
    const b = await broadcaster();
    b.deliver('config:updates', { revision: 1 });
    await b.idle();
    const id = `t-${randomBytes(3).toString('hex')}`;
    const flusher = (fence: number) =>
      new BroadcasterStatsFlusher({
        doc: stack.rt.clients.doc,
        table: stack.config.tables.tradingState,
        id,
        sink: 'aws',
        hostId: 'host-a',
        source: () => b.stats(),
        clock: systemClock,
        log: stack.log,
        fence: () => fence,
      });

    // Act
    const first = await flusher(5).flushNow();
    const stale = await flusher(4).flushNow();
    const stored = await readBroadcasterStats(stack.rt.clients.doc, stack.config.tables.tradingState, id);

    // Assess
    expect(server.messagesTo(viewer)).toHaveLength(1);
    expect([first, stale]).toEqual(['written', 'superseded']);
    expect(stored).toMatchObject({
      pk: `broadcaster#${id}`,
      sk: 'counters',
      sink: 'aws',
      fence: 5,
      connections: 1,
      broadcast_attempt_total: 1,
      broadcast_success_total: 1,
      broadcast_failures_total: 0,
      dead_clients_pruned_total: 0,
      extra: expect.objectContaining({ topics: 1, connection_items_deleted_total: 0 }),
    });
    expect(Date.now() - Date.parse(stored?.as_of ?? '')).toBeLessThan(10_000);
    expect(stored?.fanout_latency.count).toBe(1);
  });

  it('delivers from Redis only while holding the lease; a standby takes over after release, never before', async () => {
    // Prepare
    const viewer = await open('viewer', ['config']);
    const locks = new DynamoLockStore(stack.rt.clients.doc, stack.config.tables.locks);
    const leased = (name: string) =>
      new LeasedWsBroadcaster({
        locks,
        owner: { ownerId: `broadcaster:${name}:${ulidGen.next()}`, host: name, pid: process.pid },
        redis: stack.config.redis,
        broadcaster: { connections, management, refreshMs: 200 },
        stats: { doc: stack.rt.clients.doc, table: stack.config.tables.tradingState, hostId: name, intervalMs: 200 },
        clock: systemClock,
        log: stack.log,
        leaseMs: 3_000,
        retryMs: 100,
      });
    const a = leased('host-a');
    const b = leased('host-b');
    started.push(a, b);
    const redis = new Redis(stack.config.redis.url, { lazyConnect: true });
    await redis.connect();
    try {
      // Act
      a.start();
      await waitFor(async () => a.state() === 'leading', 5_000, 'a leading');
      b.start();
      await new Promise((r) => setTimeout(r, 400));
      const standby = b.state();
      let n = 0;
      await waitFor(
        async () => {
          await redis.publish(`${stack.config.redis.prefix}config:updates`, JSON.stringify({ revision: ++n }));
          return server.messagesTo(viewer).some((m) => m.topic === 'config');
        },
        5_000,
        'a config update through Redis',
        200,
      );
      const stats = await waitFor(
        () => readBroadcasterStats(stack.rt.clients.doc, stack.config.tables.tradingState, CONSOLE_BROADCASTER_ID),
        5_000,
        'flushed counters',
      );
      await a.stop();
      await waitFor(async () => b.state() === 'leading', 5_000, 'b taking over');

      // Assess
      expect(standby).toBe('waiting');
      expect(server.messagesTo(viewer).find((m) => m.topic === 'config')).toMatchObject({
        v: 1,
        type: 'config.revision',
      });
      expect(server.messagesTo(viewer)[0]).toMatchObject({
        topic: 'system',
        payload: { degraded: false, reason: null },
      });
      expect(stats).toMatchObject({ broadcaster_id: 'console', sink: 'aws', host_id: 'host-a' });
      expect(a.state()).toBe('stopped');
      expect((await locks.holder('broadcaster:console'))?.host).toBe('host-b');
    } finally {
      redis.disconnect();
    }
  }, 30_000);
});
