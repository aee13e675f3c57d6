/**
 * What both realtime sinks share (control-chain §7): the local `/ws` hub (`web/realtime/hub.ts`) and the AWS
 * broadcaster (`shared/infra/aws/ws-broadcaster.ts`) route warm-path messages to topics with one `TopicSequencer`
 * (per-topic `seq`, the last envelope per topic for replays) and differ only in how they broadcast an envelope.
 */
import { type Envelope, type Routed, TopicSequencer } from '../domain/control/realtime.ts';
import type { Logger } from '../log.ts';
import type { FeedState } from './redis/realtime-feed.ts';

export abstract class SequencedSink {
  protected readonly sequencer: TopicSequencer;

  protected constructor(
    nowMs: () => number,
    private readonly sinkLog: Logger,
  ) {
    this.sequencer = new TopicSequencer(nowMs);
  }

  /** Route one warm-path message to its topics and broadcast each. */
  deliver(channel: string, message: unknown): void {
    const envs = this.sequencer.route(channel, message);
    if (envs.length === 0) {
      this.sinkLog.debug({ channel, unrouted: this.sequencer.unrouted }, 'ws.unrouted_message');
      return;
    }
    for (const env of envs) this.broadcast(env);
  }

  /** Announce the warm path's state to every connection (`system.warm_path`). */
  announce(state: FeedState): void {
    this.broadcast(this.sequencer.warmPath(state));
  }

  /** Broadcast one message on its topic (the next `seq`). */
  publish(r: Routed): void {
    this.broadcast(this.sequencer.next(r));
  }

  /** Send one envelope to every connection subscribed to its topic whose role may read it; never awaits a client. */
  protected abstract broadcast(env: Envelope): void;
}
