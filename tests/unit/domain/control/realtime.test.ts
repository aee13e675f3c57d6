import { describe, expect, it } from 'vitest';
import { routeChannelMessage, TopicSequencer } from '#shared/domain/control/realtime.ts';

describe('routeChannelMessage', () => {
  it('routes a job status to its variety, all jobs and the job; progress to the job (and variety when named)', () => {
    const status = routeChannelMessage('jobs:updates', { type: 'job.status', job: { job_id: 'J1', var: 'au' } });
    expect(status.map((r) => [r.topic, r.type])).toEqual([
      ['jobs:au', 'job.status'],
      ['jobs:all', 'job.status'],
      ['job:J1', 'job.status'],
    ]);
    const progress = routeChannelMessage('jobs:updates', {
      type: 'job.progress',
      job_id: 'J2',
      var: null,
      progress: {},
    });
    expect(progress.map((r) => r.topic)).toEqual(['job:J2']);
  });

  it('keeps desired and state apart, and routes nothing it does not know', () => {
    expect(routeChannelMessage('gateway:updates:default', { state_revision: 1 })[0]).toMatchObject({
      topic: 'gateway:default',
      type: 'gateway.state',
    });
    expect(routeChannelMessage('gateway:desired-updated:default', {})[0]?.type).toBe('gateway.desired');
    expect(routeChannelMessage('strategy:updates:p1', { type: 'command.result' })[0]?.type).toBe('command.result');
    expect(routeChannelMessage('ticks:cu', { v: 1 })[0]).toMatchObject({ topic: 'ticks:cu', type: 'ticks' });
    expect(routeChannelMessage('nope', {})).toEqual([]);
    expect(routeChannelMessage('jobs:updates', 'not an object')).toEqual([]);
  });
});

describe('TopicSequencer', () => {
  it('numbers each topic on its own, keeps its last envelope, and counts what routes nowhere', () => {
    let now = Date.parse('2026-11-21T00:00:00.000Z');
    const seq = new TopicSequencer(() => now);
    const a = seq.route('config:updates', { revision: 2 });
    now += 1000;
    const b = seq.route('config:updates', { revision: 3 });
    const t = seq.route('ticks:cu', { v: 1 });
    expect(a.map((e) => [e.topic, e.seq])).toEqual([['config', 1]]);
    expect(b[0]).toEqual({
      v: 1,
      topic: 'config',
      type: 'config.revision',
      seq: 2,
      ts: '2026-11-21T00:00:01.000Z',
      payload: { revision: 3 },
    });
    expect(t[0]?.seq).toBe(1);
    expect(seq.lastOf('config')?.payload).toEqual({ revision: 3 });
    expect(seq.route('unknown', {})).toEqual([]);
    expect(seq.unrouted).toBe(1);
    expect(seq.topics).toBe(2);
    expect(seq.warmPath({ up: false, reason: 'redis_unavailable', error: 'ECONNREFUSED' })).toMatchObject({
      topic: 'system',
      type: 'system.warm_path',
      seq: 1,
      payload: { degraded: true, reason: 'redis_unavailable', error: 'ECONNREFUSED' },
    });
  });
});
