/**
 * The counter flush of the local `/ws` hub (what `ghtrader up` runs every 5 s): the same `BroadcasterStatsFlusher` as
 * the AWS broadcaster, writing TradingState `broadcaster#<id>` on dynalite, read back with its `as_of`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '#shared/domain/time.ts';
import { BroadcasterStatsFlusher, readBroadcasterStats } from '#shared/infra/aws/broadcaster-stats.ts';
import { RealtimeHub } from '#web/realtime/hub.ts';
import { createTestStack, type TestStack, waitFor } from '../support/stack.ts';

describe('local hub counter flush', () => {
  let stack: TestStack;
  let hub: RealtimeHub;

  beforeAll(async () => {
    stack = await createTestStack();
    hub = new RealtimeHub({ log: stack.log, reauthenticate: async () => null });
  }, 60_000);

  afterAll(async () => {
    hub?.close();
    await stack?.close();
  });

  it('writes the hub counters and extras every interval, and a last snapshot on stop', async () => {
    // Prepare
    const id = `local-${randomBytes(3).toString('hex')}`;
    const flusher = new BroadcasterStatsFlusher({
      doc: stack.rt.clients.doc,
      table: stack.config.tables.tradingState,
      id,
      sink: 'local',
      hostId: 'host-l',
      source: () => hub.stats(),
      clock: systemClock,
      log: stack.log,
      intervalMs: 100,
    });
    const read = () => readBroadcasterStats(stack.rt.clients.doc, stack.config.tables.tradingState, id);

    // Act
    flusher.start();
    const periodic = await waitFor(read, 5_000, 'a periodic flush');
    hub.deliver('config:updates', { revision: 3 });
    hub.deliver('nowhere:at-all', { x: 1 });
    await flusher.stop();
    const last = await read();

    // Assess
    expect(periodic).toMatchObject({
      sink: 'local',
      host_id: 'host-l',
      fence: 0,
      extra: { topics: 0, unrouted_total: 0 },
    });
    expect(last).toMatchObject({ connections: 0, broadcast_attempt_total: 0, extra: { topics: 1, unrouted_total: 1 } });
    expect(Date.parse(last?.as_of ?? '')).toBeGreaterThanOrEqual(Date.parse(periodic.as_of));
  });
});
