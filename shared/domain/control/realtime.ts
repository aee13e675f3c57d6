/**
 * Realtime contract (control-chain §7), pure: the envelope every browser receives, the topics a client may subscribe
 * to and who may, the client frames, and the mapping from warm-path channels (Redis pub/sub, under the prefix) to
 * topics and message types. Both sinks (the local `/ws` hub and the AWS broadcaster) build on this module.
 */
import * as z from 'zod';
import { isoUtc } from '../time.ts';
import { type Role, roleAtLeast } from './roles.ts';

export const MESSAGE_TYPES = [
  'gateway.state',
  'gateway.desired',
  'strategy.state',
  'strategy.desired',
  'command.result',
  'job.status',
  'job.progress',
  'config.revision',
  'supervisor.component',
  'ticks',
  'system.warm_path',
  'audit',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** `{v:1, topic, type, seq, ts, payload}`: `seq` rises per topic; a gap tells the client to refetch that topic. */
export interface Envelope {
  v: 1;
  topic: string;
  type: MessageType;
  seq: number;
  ts: string;
  payload: unknown;
}

/** Topic the server uses for its own announcements (every client receives them, no subscription needed). */
export const SYSTEM_TOPIC = 'system';

const PROFILE = '[a-z0-9_]{1,64}';
const TOPIC_RE = new RegExp(
  `^(?:(?:gateway|strategy):${PROFILE}|jobs:(?:cu|au|ag|none|all)|job:[0-9A-HJKMNP-TV-Z]{26}|ticks:(?:cu|au|ag)|config|audit)$`,
);

export function isTopic(topic: string): boolean {
  return TOPIC_RE.test(topic);
}

/** Minimum role per topic: `audit` is operator+, everything else viewer. */
export function topicRole(topic: string): Role {
  return topic === 'audit' ? 'operator' : 'viewer';
}

/** Minimum role per message type: command results and audit entries are operator+. */
export function messageRole(type: MessageType): Role {
  return type === 'command.result' || type === 'audit' ? 'operator' : 'viewer';
}

export function mayReceive(role: Role, topic: string, type: MessageType): boolean {
  return roleAtLeast(role, topicRole(topic)) && roleAtLeast(role, messageRole(type));
}

export const MAX_TOPICS_PER_CLIENT = 32;
/** Client frames are at most 4 KiB and 10 per second; otherwise the socket is closed 1008. */
export const MAX_CLIENT_FRAME_BYTES = 4096;
export const MAX_CLIENT_FRAMES_PER_S = 10;

const Topics = z.array(z.string().min(1).max(100)).min(1).max(MAX_TOPICS_PER_CLIENT);

export const ClientFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('subscribe'), topics: Topics }),
  z.strictObject({ type: z.literal('unsubscribe'), topics: Topics }),
  z.strictObject({ type: z.literal('ping') }),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;

export type DenyCode = 'invalid_topic' | 'forbidden' | 'too_many_topics';

/** Which of `requested` a client with `role` (already holding `current`) may add, and why the others are denied. */
export function admitTopics(
  role: Role,
  current: ReadonlySet<string>,
  requested: readonly string[],
): { topics: string[]; denied: { topic: string; code: DenyCode }[] } {
  const topics: string[] = [];
  const denied: { topic: string; code: DenyCode }[] = [];
  let count = current.size;
  for (const topic of [...new Set(requested)]) {
    if (!isTopic(topic)) denied.push({ topic, code: 'invalid_topic' });
    else if (!roleAtLeast(role, topicRole(topic))) denied.push({ topic, code: 'forbidden' });
    else if (current.has(topic)) topics.push(topic);
    else if (count >= MAX_TOPICS_PER_CLIENT) denied.push({ topic, code: 'too_many_topics' });
    else {
      topics.push(topic);
      count++;
    }
  }
  return { topics, denied };
}

/** One routed message: the topic it goes to, its type and its (complete) payload. */
export interface Routed {
  topic: string;
  type: MessageType;
  payload: unknown;
}

const obj = (v: unknown): Record<string, unknown> | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/**
 * Map a warm-path channel (without the Redis prefix) and its decoded message to the topics it is delivered on.
 * Unknown channels or shapes route nowhere (the caller counts them); nothing here throws.
 *
 * - `jobs:updates` `job.status` -> `jobs:<var>`, `jobs:all`, `job:<id>`; `job.progress` -> `job:<id>` (+ `jobs:<var>`,
 *   `jobs:all` when the event names its variety);
 * - `config:updates` -> `config`; `audit:updates` -> `audit`; `ticks:<var>` -> `ticks:<var>`;
 * - `gateway|strategy:updates:<p>` -> `<component>:<p>` as `<component>.state` (or `command.result` when the message says
 *   so); `gateway|strategy:desired-updated:<p>` -> `<component>.desired`;
 * - `supervisor:updates` `{component, profile}` -> `<component>:<profile>` as `supervisor.component`.
 */
export function routeChannelMessage(channel: string, message: unknown): Routed[] {
  const m = obj(message);
  if (!m) return [];
  if (channel === 'jobs:updates') {
    if (m.type === 'job.status') {
      const job = obj(m.job);
      const id = typeof job?.job_id === 'string' ? job.job_id : null;
      if (!job || !id) return [];
      const variety = typeof job.var === 'string' ? job.var : 'none';
      return [`jobs:${variety}`, 'jobs:all', `job:${id}`].map((topic) => ({ topic, type: 'job.status', payload: job }));
    }
    if (m.type === 'job.progress' && typeof m.job_id === 'string') {
      const payload = { job_id: m.job_id, kind: m.kind, var: m.var ?? null, progress: m.progress };
      const topics = [`job:${m.job_id}`];
      if (typeof m.var === 'string') topics.push(`jobs:${m.var}`, 'jobs:all');
      return topics.map((topic) => ({ topic, type: 'job.progress', payload }));
    }
    return [];
  }
  if (channel === 'config:updates') return [{ topic: 'config', type: 'config.revision', payload: m }];
  if (channel === 'audit:updates') return [{ topic: 'audit', type: 'audit', payload: m }];
  if (channel.startsWith('ticks:')) {
    const variety = channel.slice('ticks:'.length);
    return isTopic(channel) ? [{ topic: `ticks:${variety}`, type: 'ticks', payload: m }] : [];
  }
  if (channel === 'supervisor:updates') {
    const component = m.component;
    const profile = m.profile;
    if ((component !== 'gateway' && component !== 'strategy') || typeof profile !== 'string') return [];
    const topic = `${component}:${profile}`;
    return isTopic(topic) ? [{ topic, type: 'supervisor.component', payload: m }] : [];
  }
  const parts = channel.split(':');
  if (parts.length === 3 && (parts[0] === 'gateway' || parts[0] === 'strategy')) {
    const [component, kind, profile] = parts as [string, string, string];
    const topic = `${component}:${profile}`;
    if (!isTopic(topic)) return [];
    if (kind === 'updates') {
      const type: MessageType = m.type === 'command.result' ? 'command.result' : (`${component}.state` as MessageType);
      return [{ topic, type, payload: m }];
    }
    if (kind === 'desired-updated') return [{ topic, type: `${component}.desired` as MessageType, payload: m }];
  }
  return [];
}

/** The Redis channel patterns (after the prefix) a realtime sink subscribes to. */
export const REALTIME_CHANNEL_PATTERNS = [
  'jobs:updates',
  'config:updates',
  'audit:updates',
  'supervisor:updates',
  'ticks:*',
  'gateway:*',
  'strategy:*',
] as const;

/** The warm path's state as a sink announces it: up, or down with a reason. */
export type WarmPathState = { up: true } | { up: false; reason: string; error: string };

/**
 * The part both realtime sinks (the local hub, the AWS broadcaster) share: routing warm-path messages, one `seq` per
 * topic, the envelope, and the last envelope of each topic (replayed on subscribe). Pure; the sinks do the sending.
 */
export class TopicSequencer {
  private readonly seqs = new Map<string, number>();
  private readonly last = new Map<string, Envelope>();
  private unroutedCount = 0;

  constructor(private readonly nowMs: () => number) {}

  /** The envelopes of one warm-path message (none, counted, when it routes nowhere). */
  route(channel: string, message: unknown): Envelope[] {
    const routed = routeChannelMessage(channel, message);
    if (routed.length === 0) this.unroutedCount++;
    return routed.map((r) => this.next(r));
  }

  /** The `system.warm_path` envelope announcing `state` to every client. */
  warmPath(state: WarmPathState): Envelope {
    return this.next({
      topic: SYSTEM_TOPIC,
      type: 'system.warm_path',
      payload: state.up
        ? { degraded: false, reason: null }
        : { degraded: true, reason: state.reason, error: state.error },
    });
  }

  /** Stamp the topic's next `seq` and keep the envelope as the topic's last. */
  next(r: Routed): Envelope {
    const seq = (this.seqs.get(r.topic) ?? 0) + 1;
    this.seqs.set(r.topic, seq);
    const env: Envelope = {
      v: 1,
      topic: r.topic,
      type: r.type,
      seq,
      ts: isoUtc(this.nowMs()),
      payload: r.payload,
    };
    this.last.set(r.topic, env);
    return env;
  }

  lastOf(topic: string): Envelope | undefined {
    return this.last.get(topic);
  }

  get topics(): number {
    return this.seqs.size;
  }

  get unrouted(): number {
    return this.unroutedCount;
  }
}
