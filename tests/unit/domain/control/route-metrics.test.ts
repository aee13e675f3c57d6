import { describe, expect, it } from 'vitest';
import { OVERFLOW_ROUTE, RouteMetrics } from '#shared/domain/control/route-metrics.ts';

const MIN = 60_000;

function clock(start = 10 * MIN) {
  let now = start;
  return {
    nowMs: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

describe('RouteMetrics', () => {
  it('summarizes one route: count, 5xx errors, error rate, percentiles and max', () => {
    const c = clock();
    const m = new RouteMetrics({ nowMs: c.nowMs });
    for (let i = 1; i <= 100; i++) m.record('GET /api/jobs/:id', i, i <= 3 ? 500 : i === 4 ? 404 : 200);
    const r = m.snapshot().routes['GET /api/jobs/:id'];
    expect(r).toMatchObject({ count: 100, error_count: 3, error_rate: 0.03, max_ms: 100 });
    expect(r?.since_start).toEqual({ count: 100, error_count: 3 });
    // Log-spaced buckets: within 5 % of the exact order statistics.
    expect(Math.abs((r?.p50_ms as number) - 50) / 50).toBeLessThanOrEqual(0.05);
    expect(Math.abs((r?.p95_ms as number) - 95) / 95).toBeLessThanOrEqual(0.05);
    expect(Math.abs((r?.p99_ms as number) - 99) / 99).toBeLessThanOrEqual(0.05);
  });

  it('keeps routes apart and sorted, with process-wide since-start totals', () => {
    const c = clock();
    const m = new RouteMetrics({ nowMs: c.nowMs });
    m.record('PAGE /v/:var/dashboard', 12, 200);
    m.record('GET /api/status', 2, 503);
    m.record('GET /api/status', 3, 200);
    const s = m.snapshot();
    expect(Object.keys(s.routes)).toEqual(['GET /api/status', 'PAGE /v/:var/dashboard']);
    expect(s.routes['GET /api/status']).toMatchObject({ count: 2, error_count: 1, error_rate: 0.5 });
    expect(s.since_start).toEqual({ count: 3, error_count: 1 });
    expect(s.window_s).toBe(300);
    expect(s.bucket_s).toBe(60);
  });

  it('rolls a 5 x 1-minute window while since-start counts keep everything', () => {
    const c = clock();
    const m = new RouteMetrics({ nowMs: c.nowMs });
    m.record('GET /api/status', 1000, 500); // minute 0: one slow failure
    c.advance(MIN);
    for (let i = 0; i < 10; i++) m.record('GET /api/status', 1, 200); // minute 1
    c.advance(3 * MIN); // minute 4: minute 0 is still the oldest bucket of the window
    let r = m.snapshot().routes['GET /api/status'];
    expect(r).toMatchObject({ count: 11, error_count: 1, max_ms: 1000 });
    c.advance(MIN); // minute 5: minute 0 has left the window
    r = m.snapshot().routes['GET /api/status'];
    expect(r).toMatchObject({ count: 10, error_count: 0, error_rate: 0, max_ms: 1 });
    expect(r?.since_start).toEqual({ count: 11, error_count: 1 });
    c.advance(4 * MIN); // minute 9: minute 1 is gone too
    r = m.snapshot().routes['GET /api/status'];
    expect(r).toMatchObject({ count: 0, error_count: 0, p50_ms: null, p99_ms: null, max_ms: null });
    expect(r?.since_start).toEqual({ count: 11, error_count: 1 });
  });

  it('reuses a bucket slot for a new minute without carrying its old values', () => {
    const c = clock();
    const m = new RouteMetrics({ nowMs: c.nowMs, windowBuckets: 5 });
    m.record('GET /x', 50, 500);
    c.advance(5 * MIN); // same slot (index % 5), a new minute
    m.record('GET /x', 2, 200);
    expect(m.snapshot().routes['GET /x']).toMatchObject({ count: 1, error_count: 0, max_ms: 2 });
  });

  it('caps distinct templates, counting the rest under one overflow route', () => {
    const c = clock();
    const m = new RouteMetrics({ nowMs: c.nowMs, maxRoutes: 2 });
    m.record('GET /a', 1, 200);
    m.record('GET /b', 1, 200);
    m.record('GET /c', 1, 200);
    m.record('GET /d', 1, 500);
    m.record('GET /a', 1, 200);
    const s = m.snapshot().routes;
    expect(Object.keys(s).sort()).toEqual(['GET /a', 'GET /b', OVERFLOW_ROUTE].sort());
    expect(s[OVERFLOW_ROUTE]).toMatchObject({ count: 2, error_count: 1 });
    expect(s['GET /a']?.count).toBe(2);
  });

  it('never reports a percentile above max_ms (both rounded alike)', () => {
    const c = clock();
    const m = new RouteMetrics({ nowMs: c.nowMs });
    for (const v of [3.1234567, 7.7777777, 25.243279000000257, 25.2432]) m.record('GET /x', v, 200);
    const r = m.snapshot().routes['GET /x'];
    expect(r?.max_ms).toBe(25.243);
    expect(r?.p99_ms).toBeLessThanOrEqual(r?.max_ms as number);
    expect(r?.p95_ms).toBeLessThanOrEqual(r?.p99_ms as number);
    expect(r?.p50_ms).toBeLessThanOrEqual(r?.p95_ms as number);
  });

  it('clamps durations outside the histogram range (sub-0.1 ms, over 60 s, invalid)', () => {
    const c = clock();
    const m = new RouteMetrics({ nowMs: c.nowMs });
    m.record('GET /x', 0.01, 200);
    m.record('GET /x', Number.NaN, 200);
    m.record('GET /x', 120_000, 200);
    const r = m.snapshot().routes['GET /x'];
    expect(r).toMatchObject({ count: 3, p50_ms: 0.1, max_ms: 120_000 });
    expect(r?.p99_ms).toBe(120_000);
  });
});
