/**
 * Client frames of the AWS WebSocket API (`$default` route), with the local hub's rules (control-chain §7): text
 * frames ≤ 4 KiB and ≤ 10 per second per connection, parsed with the same `ClientFrameSchema`; `subscribe` admits
 * topics with `admitTopics` for the connection's role (viewers are denied `audit`), `unsubscribe` removes them, `ping`
 * answers `pong`. Replies go back through the Management API.
 *
 * A frame that breaks a limit (binary, too large, too frequent) gets an `error` reply naming the limit and the
 * connection is closed: API Gateway's `DeleteConnection` cannot carry the local 1008 close code, so the reply says why.
 * Topic changes are conditional on the item's `topics_rev`, so concurrent frames of one connection never lose one.
 */
import {
  admitTopics,
  ClientFrameSchema,
  MAX_CLIENT_FRAME_BYTES,
  MAX_CLIENT_FRAMES_PER_S,
} from '../../domain/control/realtime.ts';
import { isoUtc } from '../../domain/time.ts';
import type { Logger } from '../../log.ts';
import type { DynamoWsConnections } from './ws-connections.ts';
import type { WsManagement } from './ws-management.ts';

export interface WsFrameDeps {
  connections: Pick<DynamoWsConnections, 'countFrame' | 'updateTopics' | 'delete'>;
  management: WsManagement;
  nowMs: () => number;
  log: Logger;
}

export interface ClientFrameInput {
  connectionId: string;
  body: string | null | undefined;
  isBinary: boolean;
}

/** What became of one frame: answered, the connection closed for breaking a limit, or the connection already gone. */
export type FrameOutcome =
  | { kind: 'replied'; reply: Record<string, unknown> }
  | { kind: 'closed'; reason: string }
  | { kind: 'gone' };

/** Handle one client frame end to end (rate count, parse, topic update, reply). */
export async function handleClientFrame(deps: WsFrameDeps, input: ClientFrameInput): Promise<FrameOutcome> {
  const { connectionId } = input;
  const text = input.body ?? '';
  if (input.isBinary) return reject(deps, connectionId, 'binary frames are not accepted');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CLIENT_FRAME_BYTES) {
    return reject(deps, connectionId, `frame of ${bytes} bytes is over the ${MAX_CLIENT_FRAME_BYTES}-byte limit`);
  }
  const now = deps.nowMs();
  const count = await deps.connections.countFrame(connectionId, now);
  if (count === null) return closeUnknown(deps, connectionId);
  if (count > MAX_CLIENT_FRAMES_PER_S) {
    return reject(deps, connectionId, `more than ${MAX_CLIENT_FRAMES_PER_S} frames in one second`);
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return reply(deps, connectionId, { type: 'error', code: 'invalid_frame', message: 'frames are JSON objects' });
  }
  const parsed = ClientFrameSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return reply(deps, connectionId, {
      type: 'error',
      code: 'invalid_frame',
      message: `${first?.path.join('.') || 'frame'}: ${first?.message ?? 'does not match {type: subscribe|unsubscribe|ping}'}`,
    });
  }
  const f = parsed.data;
  if (f.type === 'ping') return reply(deps, connectionId, { type: 'pong', ts: isoUtc(now) });
  if (f.type === 'unsubscribe') {
    const drop = new Set(f.topics);
    const done = await deps.connections.updateTopics(connectionId, (c) => ({
      topics: c.topics.filter((t) => !drop.has(t)),
      result: null,
    }));
    if (!done) return closeUnknown(deps, connectionId);
    return reply(deps, connectionId, { type: 'unsubscribed', topics: f.topics });
  }
  const done = await deps.connections.updateTopics(connectionId, (c) => {
    const current = new Set(c.topics);
    const admitted = admitTopics(c.role, current, f.topics);
    for (const t of admitted.topics) current.add(t);
    return { topics: [...current], result: admitted };
  });
  if (!done) return closeUnknown(deps, connectionId);
  return reply(deps, connectionId, { type: 'subscribed', topics: done.result.topics, denied: done.result.denied });
}

async function reply(deps: WsFrameDeps, connectionId: string, msg: Record<string, unknown>): Promise<FrameOutcome> {
  const sent = await deps.management.post(connectionId, JSON.stringify(msg));
  if (sent === 'gone') {
    await deps.connections.delete(connectionId);
    return { kind: 'gone' };
  }
  return { kind: 'replied', reply: msg };
}

/** Say why, then close the connection and drop its item (the local hub closes 1008). */
async function reject(deps: WsFrameDeps, connectionId: string, reason: string): Promise<FrameOutcome> {
  deps.log.info({ connection_id: connectionId, reason }, 'ws.frame_rejected');
  const sent = await deps.management.post(
    connectionId,
    JSON.stringify({ type: 'error', code: 'frame_rejected', message: reason }),
  );
  if (sent === 'ok') await deps.management.close(connectionId);
  await deps.connections.delete(connectionId);
  return { kind: 'closed', reason };
}

/** A frame from a connection without an item (pruned, expired): it cannot be served, so it is closed. */
async function closeUnknown(deps: WsFrameDeps, connectionId: string): Promise<FrameOutcome> {
  deps.log.warn({ connection_id: connectionId }, 'ws.frame_from_unknown_connection');
  const closed = await deps.management.close(connectionId);
  return closed === 'gone' ? { kind: 'gone' } : { kind: 'closed', reason: 'connection is not registered' };
}
