/**
 * The AWS broadcaster against dynalite (WsConnections, Locks, TradingState of a per-file stack), the real Redis (its own
 * key prefix) and the local Management API server (`management-server.ts`; API Gateway's Management API has no official
 * local emulator): routing and role filtering, accounting (attempts, successes, failures, pruned on 410 Gone, items
 * deleted), the in-flight bounds (≤ 50 overall, ≤ 8 per connection), backpressure (drops, live limits, lagging
 * connections closed), the session re-check against the production `AuthService` on the Users table (revoked,
 * expired, disabled, demoted, store outage, legacy items), the counter flush to TradingState, and the lease (one
 * delivering broadcaster, no preemption, takeover after release).
 */
import { randomBytes } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256HexOf } from '#shared/domain/control/auth-secrets.ts';
import type { Role } from '#shared/domain/control/roles.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { isoUtc, systemClock } from '#shared/domain/time.ts';
import { BroadcasterStatsFlusher, readBroadcasterStats } from '#shared/infra/aws/broadcaster-stats.ts';
import { DynamoLockStore } from '#shared/infra/aws/lock-store.ts';
import { DynamoUserStore } from '#shared/infra/aws/user-store.ts';
import { WsBroadcaster, type WsBroadcasterOptions } from '#shared/infra/aws/ws-broadcaster.ts';
import { CONSOLE_BROADCASTER_ID, LeasedWsBroadcaster } from '#shared/infra/aws/ws-broadcaster-lease.ts';
import { DynamoWsConnections, WS_SHARD } from '#shared/infra/aws/ws-connections.ts';
import { ApiGatewayWsManagement } from '#shared/infra/aws/ws-management.ts';
import { AuthService, systemCaller } from '#shared/services/auth-service.ts';
import { authServiceFor } from '#web/deps-from-runtime.ts';
import { storeSession } from '../support/sessions.ts';
import { createTestStack, type TestStack, waitFor } from '../support/stack.ts';
import { ManagementServer } from './management-server.ts';

const HOUR = 3600_000;
/** A reference to no credential, for connections of tests that do not re-check sessions. */
const UNCHECKED_REF = `session:${'0'.repeat(64)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WsBroadcaster', () => {
  let stack: TestStack;
  let server: ManagementServer;
  let management: ApiGatewayWsManagement;
  let connections: DynamoWsConnections;
  /** The production AuthService on this stack's Users table, as the broadcaster process builds it. */
  let auth: AuthService;
  const started: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    stack = await createTestStack();
    connections = new DynamoWsConnections(stack.rt.clients.doc, stack.config.tables.wsConnections);
    auth = authServiceFor({
      config: stack.config,
      doc: stack.rt.clients.doc,
      audit: stack.rt.audit,
      log: stack.log,
      cursorSecret: randomBytes(16).toString('hex'),
    });
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
    server.reset();
  });

  afterAll(async () => {
    management?.destroy();
    await server?.close();
    await stack?.close();
  });

  const newConnectionId = () => `${randomBytes(6).toString('base64url')}=`;

  async function open(
    role: Role,
    topics: string[],
    who: { userId?: string; credentialRef?: string } = {},
  ): Promise<string> {
    const id = newConnectionId();
    const credentialRef = who.credentialRef ?? UNCHECKED_REF;
    await connections.put({
      connectionId: id,
      userId: who.userId ?? `u-${role}`,
      role,
      via: credentialRef.startsWith('token:') ? 'token' : 'session',
      credentialRef,
      connectedAtMs: Date.now(),
      expiresAtMs: Date.now() + HOUR,
    });
    if (topics.length > 0) await connections.updateTopics(id, () => ({ topics, result: null }));
    return id;
  }

  async function broadcaster(opts: Partial<Omit<WsBroadcasterOptions, 'log'>> = {}): Promise<WsBroadcaster> {
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
    // Prepare: every POST is held unanswered until released, so the bounds are what the broadcaster reaches, not a
    // race between a fixed server delay and how fast a loaded machine issues requests
    const pair = await Promise.all([open('viewer', ['config']), open('viewer', ['config'])]);
    const ten = await Promise.all(Array.from({ length: 10 }, () => open('viewer', ['jobs:all'])));
    const b = await broadcaster();
    /** Hold `ids`, deliver, wait until `expected` POSTs are in flight and no more come, then release them all. */
    const saturate = async (ids: string[], send: () => void, expected: number) => {
      for (const id of ids) server.hold(id);
      send();
      await waitFor(async () => server.inFlight >= expected, 10_000, `${expected} sends in flight`, 10);
      await new Promise((r) => setTimeout(r, 200));
      const peak = server.peakInFlight;
      for (const id of ids) server.release(id);
      await b.idle();
      return peak;
    };

    // Act
    const pairPeak = await saturate(
      pair,
      () => {
        for (let i = 0; i < 12; i++) b.deliver('config:updates', { revision: i + 1 });
      },
      16,
    );
    const perConnection = Math.max(...pair.map((id) => server.peakPerConnection.get(id) ?? 0));
    server.peakInFlight = 0;
    const tenPeak = await saturate(
      ten,
      () => {
        for (let i = 0; i < 12; i++) b.deliver('jobs:updates', jobStatus(ulidGen.next()));
      },
      50,
    );

    // Assess
    expect(perConnection).toBe(8);
    expect(pairPeak).toBe(16);
    expect(tenPeak).toBe(50);
    expect(Math.max(...ten.map((id) => server.peakPerConnection.get(id) ?? 0))).toBeLessThanOrEqual(8);
    expect(server.messagesTo(pair[0] as string).map((m) => m.seq)).toHaveLength(12);
    expect(server.posts).toHaveLength(24 + 120);
    expect(b.stats()).toMatchObject({ broadcast_attempt_total: 144, broadcast_success_total: 144 });
  });

  it('drops (and counts) what does not fit a connection queue instead of waiting', async () => {
    // Prepare
    await open('viewer', ['config']);
    server.delayMs = 30;
    const b = await broadcaster({ limits: { queueMax: 4, lagCloseMs: 30_000 } });

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
    const expired = newConnectionId();
    await connections.put({
      connectionId: expired,
      userId: 'u-old',
      role: 'viewer',
      via: 'token',
      credentialRef: 'token:aaaaaaaaaa',
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
  describe('backpressure', () => {
    it('closes a connection lagging lagCloseMs: queued sends fail, pruned counted, the others keep receiving', async () => {
      // Prepare: the slow client's posts stall (it stopped reading); one send in flight, two queued, the rest dropped
      const slow = await open('viewer', ['config']);
      const fast = await open('viewer', ['config']);
      server.hold(slow);
      const b = await broadcaster({ maxPerConnection: 1, limits: { queueMax: 3, lagCloseMs: 300 } });

      // Act: one message at a time, each delivered to the fast client before the next
      for (let seq = 1; seq <= 5; seq++) {
        b.deliver('config:updates', { revision: seq });
        await waitFor(
          async () => server.messagesTo(fast).length === seq,
          2_000,
          `message ${seq} to the fast client`,
          5,
        );
      }
      const lagging = server.heldCount(slow);
      await waitFor(async () => server.deletes.includes(slow), 3_000, 'the lagging connection closed');
      await b.idle();
      b.deliver('config:updates', { revision: 6 });
      await b.idle();

      // Assess
      expect(server.messagesTo(fast).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(lagging).toBe(1);
      expect(server.messagesTo(slow)).toEqual([]);
      expect(await connections.get(slow)).toBeNull();
      expect(await connections.get(fast)).not.toBeNull();
      // slow: 3 attempts (1 in flight answered 410 by the close, 2 queued failed at once) and 2 dropped; fast: 6 sent
      expect(b.stats()).toMatchObject({
        connections: 1,
        dropped_total: 2,
        broadcast_attempt_total: 9,
        broadcast_success_total: 6,
        broadcast_failures_total: 3,
        dead_clients_pruned_total: 1,
        connection_items_deleted_total: 1,
        in_flight: 0,
      });
    });

    it('ends the lag when the queue drains, so a client that catches up is not closed', async () => {
      // Prepare
      const slow = await open('viewer', ['config']);
      server.hold(slow);
      const b = await broadcaster({ limits: { queueMax: 2, lagCloseMs: 500 } });

      // Act: 2 in flight, 2 dropped (lagging), then it catches up well before lagCloseMs and stays quiet after
      for (let i = 0; i < 4; i++) b.deliver('config:updates', { revision: i + 1 });
      await sleep(100);
      server.release(slow);
      await b.idle();
      await sleep(1_100);
      b.deliver('config:updates', { revision: 5 });
      await b.idle();

      // Assess
      expect(server.deletes).not.toContain(slow);
      expect(server.messagesTo(slow).map((m) => m.seq)).toEqual([1, 2, 5]);
      expect(b.stats()).toMatchObject({ connections: 1, dropped_total: 2, dead_clients_pruned_total: 0 });
    });

    it('reads its limits at each use, so a caller can follow config revisions', async () => {
      // Prepare
      await open('viewer', ['config']);
      const limits = { queueMax: 2, lagCloseMs: 30_000 };
      server.delayMs = 30;
      const b = await broadcaster({ limits });

      // Act
      for (let i = 0; i < 4; i++) b.deliver('config:updates', { revision: i + 1 });
      await b.idle();
      limits.queueMax = 4;
      for (let i = 0; i < 6; i++) b.deliver('config:updates', { revision: i + 5 });
      await b.idle();

      // Assess
      expect(b.stats()).toMatchObject({ broadcast_attempt_total: 6, broadcast_success_total: 6, dropped_total: 4 });
    });
  });

  describe('session re-check', () => {
    const meta = () => ({
      requestId: ulidGen.next(),
      ip: `10.${randomBytes(3).join('.')}`,
      userAgent: null,
    });
    const admin = () => systemCaller('system', 'test', ulidGen.next());

    async function user(role: Role): Promise<{ id: string; username: string; password: string }> {
      const username = `${role}-${randomBytes(4).toString('hex')}`;
      const password = `pw-${randomBytes(12).toString('hex')}`;
      const created = await auth.createUser(admin(), { username, password, role });
      return { id: created.id, username, password };
    }

    /** Log in and return the session's reference (what the authorizer stores) and its cookie value. */
    async function session(u: { username: string; password: string }): Promise<{ ref: string; sessionId: string }> {
      const grant = await auth.login({ username: u.username, password: u.password }, meta());
      return { ref: `session:${sha256HexOf(grant.sessionId)}`, sessionId: grant.sessionId };
    }

    const rechecking = (opts: Partial<Omit<WsBroadcasterOptions, 'log'>> = {}) =>
      broadcaster({ recheck: (ref) => auth.recheckCredential(ref), ...opts });

    it('closes a connection whose session was revoked: error frame first, then closed, item deleted, pruned', async () => {
      // Prepare
      const u = await user('operator');
      const s = await session(u);
      const id = await open('operator', ['config'], { userId: u.id, credentialRef: s.ref });
      const other = await open('operator', ['config'], { userId: u.id, credentialRef: (await session(u)).ref });
      const b = await rechecking();
      const principal = await auth.authenticateSession(s.sessionId);
      if (!principal) throw new Error('the session is live');
      await auth.logout(principal, meta());

      // Act
      await b.recheckSessions();
      await b.idle();
      // A stale copy of its item (a table read racing the delete) must not bring it back.
      await connections.put({
        connectionId: id,
        userId: u.id,
        role: 'operator',
        via: 'session',
        credentialRef: s.ref,
        connectedAtMs: Date.now(),
        expiresAtMs: Date.now() + HOUR,
      });
      await connections.updateTopics(id, () => ({ topics: ['config'], result: null }));
      await b.refresh();
      b.deliver('config:updates', { revision: 1 });
      await b.idle();

      // Assess
      expect(server.requests.filter((r) => r.connectionId === id)).toEqual([
        { method: 'POST', connectionId: id },
        { method: 'DELETE', connectionId: id },
      ]);
      expect(server.messagesTo(id)).toEqual([
        { type: 'error', code: 'session_expired', message: 'session expired or revoked' },
      ]);
      expect(server.messagesTo(other)).toEqual([expect.objectContaining({ topic: 'config', seq: 1 })]);
      expect(b.stats()).toMatchObject({
        connections: 1,
        dead_clients_pruned_total: 1,
        connection_items_deleted_total: 1,
        broadcast_attempt_total: 1,
        session_recheck_failures_total: 0,
      });
    });

    it('closes a connection whose session expired (idle), without touching or deleting the session', async () => {
      // Prepare: a session last seen longer ago than the idle limit
      const u = await user('viewer');
      const users = new DynamoUserStore(stack.rt.clients.doc, stack.config.tables.users);
      const seen = Date.now() - (stack.config.auth.sessionIdleS + 60) * 1000;
      const { idSha256 } = await storeSession(users, u.id, seen, seen);
      const id = await open('viewer', ['config'], { userId: u.id, credentialRef: `session:${idSha256}` });
      const b = await rechecking();

      // Act
      await b.recheckSessions();
      await b.idle();

      // Assess
      expect(server.messagesTo(id)).toEqual([expect.objectContaining({ type: 'error', code: 'session_expired' })]);
      expect(server.deletes).toEqual([id]);
      expect(await connections.get(id)).toBeNull();
      expect(b.stats()).toMatchObject({ connections: 0, dead_clients_pruned_total: 1 });
      expect((await users.getSession(idSha256))?.last_seen_at).toBe(isoUtc(seen));
    });

    it('closes a connection whose token was revoked on its own, every recheckMs', async () => {
      // Prepare
      const u = await user('operator');
      const t = await auth.createToken(admin(), { name: 'ws', role: 'viewer' }, { owner: u.username });
      const id = await open('viewer', ['config'], { userId: u.id, credentialRef: `token:${t.id}` });
      const b = await rechecking({ recheckMs: 150 });
      await sleep(400);
      const beforeRevocation = server.deletes.length;

      // Act
      await auth.revokeToken(admin(), t.id);
      await waitFor(async () => (await connections.get(id)) === null, 3_000, 'the connection item deleted');
      await b.idle();

      // Assess
      expect(beforeRevocation).toBe(0);
      expect(server.messagesTo(id)).toEqual([expect.objectContaining({ code: 'session_expired' })]);
      expect(server.deletes).toEqual([id]);
      expect(b.stats()).toMatchObject({ connections: 0, dead_clients_pruned_total: 1 });
    });

    it('closes every connection of a user who was disabled, session and token alike', async () => {
      // Prepare
      const u = await user('viewer');
      const t = await auth.createToken(admin(), { name: 'ws', role: 'viewer' }, { owner: u.username });
      const bySession = await open('viewer', ['config'], { userId: u.id, credentialRef: (await session(u)).ref });
      const byToken = await open('viewer', ['config'], { userId: u.id, credentialRef: `token:${t.id}` });
      const other = await user('viewer');
      const bystander = await open('viewer', ['config'], {
        userId: other.id,
        credentialRef: (await session(other)).ref,
      });
      const b = await rechecking();

      // Act
      await auth.updateUser(admin(), u.id, { disabled: true });
      await b.recheckSessions();
      await b.idle();

      // Assess
      expect(server.deletes.sort()).toEqual([bySession, byToken].sort());
      expect(server.deletes).not.toContain(bystander);
      expect(b.stats()).toMatchObject({ connections: 1, dead_clients_pruned_total: 2 });
    });

    it('demotes an operator: audit leaves the item and the connection at once, the other topics stay', async () => {
      // Prepare
      const u = await user('operator');
      const s = await session(u);
      const id = await open('operator', ['audit', 'config', 'jobs:all'], { userId: u.id, credentialRef: s.ref });
      const b = await rechecking();
      b.deliver('audit:updates', { action: 'config.set', actor: 'admin' });
      await b.idle();

      // Act
      await auth.updateUser(admin(), u.id, { role: 'viewer' });
      await b.recheckSessions();
      b.deliver('audit:updates', { action: 'user.update', actor: 'admin' });
      b.deliver('config:updates', { revision: 3 });
      await b.idle();
      await b.refresh();
      b.deliver('audit:updates', { action: 'user.update', actor: 'admin' });
      await b.idle();

      // Assess
      expect(server.messagesTo(id).map((m) => [m.topic, m.seq])).toEqual([
        ['audit', 1],
        ['config', 1],
      ]);
      expect(await connections.get(id)).toMatchObject({ role: 'viewer', topics: ['config', 'jobs:all'] });
      expect(server.deletes).toEqual([]);
      expect(b.stats()).toMatchObject({ connections: 1, dead_clients_pruned_total: 0 });
    });

    it('withdraws what a demoted connection had queued and may no longer read', async () => {
      // Prepare: its posts stall, so one audit entry is in flight and the rest queued behind it
      const u = await user('operator');
      const id = await open('operator', ['audit', 'config'], { userId: u.id, credentialRef: (await session(u)).ref });
      server.hold(id);
      const b = await rechecking({ maxPerConnection: 1 });
      b.deliver('audit:updates', { action: 'config.set', actor: 'admin' });
      b.deliver('audit:updates', { action: 'user.update', actor: 'admin' });
      b.deliver('config:updates', { revision: 1 });

      // Act
      await auth.updateUser(admin(), u.id, { role: 'viewer' });
      await b.recheckSessions();
      server.release(id);
      await b.idle();

      // Assess: the entry already in flight cannot be recalled; the queued one is never sent
      expect(server.messagesTo(id).map((m) => [m.topic, m.seq])).toEqual([
        ['audit', 1],
        ['config', 1],
      ]);
      expect(b.stats()).toMatchObject({
        broadcast_attempt_total: 3,
        broadcast_success_total: 2,
        broadcast_failures_total: 1,
        dead_clients_pruned_total: 0,
      });
    });

    it('promotes a viewer: the role is updated, the topics stay as subscribed', async () => {
      // Prepare
      const u = await user('viewer');
      const id = await open('viewer', ['config'], { userId: u.id, credentialRef: (await session(u)).ref });
      const b = await rechecking();

      // Act
      await auth.updateUser(admin(), u.id, { role: 'operator' });
      await b.recheckSessions();
      await b.refresh();
      b.deliver('config:updates', { revision: 1 });
      await b.idle();

      // Assess
      expect(await connections.get(id)).toMatchObject({ role: 'operator', topics: ['config'], topics_rev: 2 });
      expect(server.messagesTo(id)).toEqual([expect.objectContaining({ topic: 'config' })]);
    });

    it('keeps a connection whose re-check fails (store outage) and counts the failure', async () => {
      // Prepare: an AuthService whose Users table cannot be read (a real DynamoDB error from the emulator)
      const u = await user('viewer');
      const s = await session(u);
      const id = await open('viewer', ['config'], { userId: u.id, credentialRef: s.ref });
      const unreachable = new AuthService({
        users: new DynamoUserStore(stack.rt.clients.doc, `${stack.config.tables.users}-missing`),
        audit: stack.rt.audit,
        clock: systemClock,
        ids: ulidGen,
        log: stack.log,
        limits: stack.config.auth,
        cursorSecret: randomBytes(16).toString('hex'),
      });
      let store = unreachable;
      const b = await rechecking({ recheck: (ref) => store.recheckCredential(ref) });

      // Act
      await b.recheckSessions();
      b.deliver('config:updates', { revision: 1 });
      await b.idle();
      store = auth;
      await b.recheckSessions();
      await b.idle();

      // Assess
      expect(server.deletes).toEqual([]);
      expect(await connections.get(id)).not.toBeNull();
      expect(server.messagesTo(id)).toEqual([expect.objectContaining({ topic: 'config', seq: 1 })]);
      expect(b.stats()).toMatchObject({
        connections: 1,
        session_recheck_failures_total: 1,
        dead_clients_pruned_total: 0,
      });
    });

    it('closes a legacy connection item that has no credential_ref at the first re-check', async () => {
      // Prepare: an item as `$connect` wrote it before references existed
      const legacy = newConnectionId();
      await stack.rt.clients.doc.send(
        new PutCommand({
          TableName: stack.config.tables.wsConnections,
          Item: {
            connection_id: legacy,
            shard: WS_SHARD,
            user_id: 'u-legacy',
            role: 'viewer',
            via: 'session',
            topics: ['config'],
            topics_rev: 1,
            connected_at: isoUtc(Date.now()),
            expires_at: isoUtc(Date.now() + HOUR),
            expires_at_s: Math.ceil((Date.now() + HOUR) / 1000),
          },
        }),
      );
      const b = await rechecking();
      b.deliver('config:updates', { revision: 1 });
      await b.idle();

      // Act
      await b.recheckSessions();
      await b.idle();

      // Assess
      expect(server.messagesTo(legacy)).toEqual([
        expect.objectContaining({ topic: 'config', seq: 1 }),
        expect.objectContaining({ type: 'error', code: 'session_expired' }),
      ]);
      expect(server.deletes).toEqual([legacy]);
      expect(await connections.get(legacy)).toBeNull();
      expect(b.stats()).toMatchObject({ connections: 0, dead_clients_pruned_total: 1 });
    });
  });
});
