import type { JobEvent, JobEvents } from '../../domain/control/job-events.ts';
import type { WarmPath } from './warm-path.ts';

/** Job events on the Redis channel `<prefix>jobs:updates`; lost while Redis is down (clients poll REST then). */
export class RedisJobEvents implements JobEvents {
  constructor(private readonly warm: WarmPath) {}

  publish(event: JobEvent): void {
    this.warm.publish('jobs:updates', { v: 1, ts: new Date().toISOString(), ...event });
  }
}
