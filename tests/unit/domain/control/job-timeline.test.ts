import { describe, expect, it } from 'vitest';
import {
  layoutTimeline,
  mergeTimeline,
  TIMELINE_MAX_ITEMS,
  type TimelineItem,
  TimelineQuerySchema,
  timelineWindow,
} from '#shared/domain/control/job-timeline.ts';
import type { JobRecord } from '#shared/domain/control/jobs.ts';

const H = 3600_000;
const NOW = Date.parse('2026-11-21T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function item(id: string, queuedH: number, endH: number | null, status: TimelineItem['status']): TimelineItem {
  return {
    job_id: id,
    kind: 'system.sleep',
    var: 'none',
    status,
    created_at: iso(NOW + queuedH * H),
    queued_at: iso(NOW + queuedH * H),
    started_at: status === 'queued' ? null : iso(NOW + queuedH * H + 1000),
    finished_at: endH === null ? null : iso(NOW + endH * H),
  };
}

describe('timelineWindow', () => {
  it('defaults to the 24 h before now and honours from/to', () => {
    expect(timelineWindow({}, NOW)).toEqual({ from: iso(NOW - 24 * H), to: iso(NOW), hours: 24, clamped: false });
    expect(timelineWindow({ to: iso(NOW - H) }, NOW)).toMatchObject({ from: iso(NOW - 25 * H), to: iso(NOW - H) });
    expect(timelineWindow({ from: iso(NOW - 2 * H) }, NOW)).toEqual({
      from: iso(NOW - 2 * H),
      to: iso(NOW),
      hours: 2,
      clamped: false,
    });
  });

  it('takes hours (default 24) ending at to, clamped silently into 1..168', () => {
    expect(timelineWindow({ hours: 6 }, NOW)).toEqual({
      from: iso(NOW - 6 * H),
      to: iso(NOW),
      hours: 6,
      clamped: false,
    });
    expect(timelineWindow({ hours: 3, to: iso(NOW - H) }, NOW)).toMatchObject({ from: iso(NOW - 4 * H), hours: 3 });
    expect(timelineWindow({ hours: 999_999 }, NOW)).toEqual({
      from: iso(NOW - 168 * H),
      to: iso(NOW),
      hours: 168,
      clamped: true,
    });
    expect(timelineWindow({ hours: 0 }, NOW)).toMatchObject({ from: iso(NOW - H), hours: 1, clamped: true });
    expect(timelineWindow({ hours: -5 }, NOW)).toMatchObject({ hours: 1, clamped: true });
  });

  it('clamps a from..to window over 168 h to the 168 h ending at to', () => {
    expect(timelineWindow({ from: iso(NOW - 7 * 24 * H - 1), to: iso(NOW) }, NOW)).toEqual({
      from: iso(NOW - 168 * H),
      to: iso(NOW),
      hours: 168,
      clamped: true,
    });
    expect(timelineWindow({ from: iso(NOW - 168 * H), to: iso(NOW) }, NOW)).toMatchObject({ clamped: false });
  });

  it('refuses a reversed or empty window', () => {
    expect(timelineWindow({ from: iso(NOW), to: iso(NOW) }, NOW)).toHaveProperty('error');
    expect(timelineWindow({ from: iso(NOW), to: iso(NOW - H) }, NOW)).toHaveProperty('error');
  });
});

describe('TimelineQuerySchema', () => {
  it('parses hours as an integer and refuses non-numeric hours and from with hours', () => {
    expect(TimelineQuerySchema.parse({ hours: '48' })).toEqual({ hours: 48 });
    expect(TimelineQuerySchema.safeParse({ hours: 'abc' }).success).toBe(false);
    expect(TimelineQuerySchema.safeParse({ hours: '1.5' }).success).toBe(false);
    expect(TimelineQuerySchema.safeParse({ hours: '2', from: '2026-01-01T00:00:00Z' }).success).toBe(false);
  });
});

describe('layoutTimeline', () => {
  const window = { from: iso(NOW - 24 * H), to: iso(NOW) };

  it('packs overlapping jobs into separate lanes and reuses a lane once free', () => {
    const items = [
      item('A', -20, -10, 'succeeded'),
      item('B', -15, -5, 'failed'),
      item('C', -9, -8, 'cancelled'),
      item('D', -2, null, 'running'),
    ];
    const l = layoutTimeline(items, window, NOW);
    const lane = Object.fromEntries(l.bars.map((b) => [b.item.job_id, b.lane]));
    expect(lane).toEqual({ A: 0, B: 1, C: 0, D: 0 });
    expect(l.lanes).toBe(2);
    expect(l.counts).toEqual({ queued: 0, running: 1, succeeded: 1, failed: 1, cancelled: 1 });
    const d = l.bars.find((b) => b.item.job_id === 'D');
    // Still running: the bar reaches now (the right edge).
    expect(d?.x1).toBe(1);
    expect(d?.x0).toBeCloseTo(22 / 24, 6);
  });

  it('clips a job that began before the window and counts what no lane could take', () => {
    const items = [item('old', -30, -20, 'succeeded'), ...[1, 2, 3].map((i) => item(`p${i}`, -6, -1, 'succeeded'))];
    const l = layoutTimeline(items, window, NOW, { maxLanes: 2 });
    const old = l.bars.find((b) => b.item.job_id === 'old');
    expect(old?.clippedLeft).toBe(true);
    expect(old?.x0).toBe(0);
    // p1 reuses old's lane (old ended 20 h ago), p2 takes the second lane, p3 finds none.
    expect(l.bars.map((b) => [b.item.job_id, b.lane])).toEqual([
      ['old', 0],
      ['p1', 0],
      ['p2', 1],
    ]);
    expect(l.hidden).toBe(1);
    expect(l.counts.succeeded).toBe(4);
  });

  it('gives a queued job no run start', () => {
    const l = layoutTimeline([item('Q', -1, null, 'queued')], window, NOW);
    expect(l.bars[0]?.xRun).toBeNull();
  });
});

describe('mergeTimeline', () => {
  const rec = (id: string, created: string, status: JobRecord['status']) =>
    ({
      job_id: id,
      kind: 'system.sleep',
      var: 'none',
      status,
      created_at: created,
      queued_at: created,
      started_at: null,
      finished_at: null,
    }) as unknown as JobRecord;

  it('adds running jobs from before the window once, newest first, at most 1000', () => {
    const created = [rec('B', '2026-11-21T10:00:00.000Z', 'running'), rec('C', '2026-11-21T11:00:00.000Z', 'queued')];
    const running = [rec('A', '2026-11-19T10:00:00.000Z', 'running'), created[0] as JobRecord];
    expect(mergeTimeline(created, running).map((i) => i.job_id)).toEqual(['C', 'B', 'A']);
    const many = Array.from({ length: 1200 }, (_, i) => rec(`J${i}`, iso(NOW - i * 1000), 'succeeded'));
    expect(mergeTimeline(many, [])).toHaveLength(TIMELINE_MAX_ITEMS);
  });
});
