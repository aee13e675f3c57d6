/**
 * Per-route request metrics (control-chain §10 "Runtime"), pure: each route template (`GET /api/jobs/:id`, pages as
 * `PAGE /v/:var/dashboard`) keeps a rolling window of `windowBuckets` × `bucketMs` (5 × 1 min) log-spaced latency
 * histograms (`LatencyHistogram`: 0.1 ms – 60 s, ≤ 5 % relative error) with their 5xx counts, plus since-start
 * totals. The clock is injected so the window can be rolled in a test.
 *
 * @example
 * ```ts
 * const m = new RouteMetrics({ nowMs: Date.now });
 * m.record('GET /api/jobs/:id', 3.2, 200);
 * m.snapshot().routes['GET /api/jobs/:id']; // { count: 1, error_count: 0, error_rate: 0, p50_ms: 3.2, ... }
 * ```
 */
import { LatencyHistogram } from './broadcast.ts';

export interface RouteMetricsOptions {
  nowMs: () => number;
  /** Width of one window bucket (default 60 s). */
  bucketMs?: number;
  /** Buckets in the rolling window (default 5). */
  windowBuckets?: number;
  /**
   * Distinct route templates kept (default 512); further templates are counted under `OVERFLOW_ROUTE` so a flood of
   * odd methods or paths can never grow memory without bound.
   */
  maxRoutes?: number;
}

/** Where requests of templates beyond `maxRoutes` are counted. */
export const OVERFLOW_ROUTE = 'OTHER (route limit reached)';

export interface RouteWindowSummary {
  /** Requests in the rolling window. */
  count: number;
  /** Of those, answered with a status ≥ 500. */
  error_count: number;
  /** `error_count / count` (0 when no request). */
  error_rate: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  /** Since this process started (never rolls). */
  since_start: { count: number; error_count: number };
}

export interface RouteMetricsSnapshot {
  window_s: number;
  bucket_s: number;
  /** Start of the oldest bucket still in the window. */
  window_start_ms: number;
  started_at_ms: number;
  since_start: { count: number; error_count: number };
  routes: Record<string, RouteWindowSummary>;
}

interface Bucket {
  /** `floor(now / bucketMs)` of the minute it holds; -1 when never used. */
  index: number;
  hist: LatencyHistogram;
  errors: number;
}

interface RouteSeries {
  buckets: Bucket[];
  total: number;
  totalErrors: number;
}

export class RouteMetrics {
  private readonly routes = new Map<string, RouteSeries>();
  private readonly bucketMs: number;
  private readonly windowBuckets: number;
  private readonly maxRoutes: number;
  private readonly startedAt: number;
  private total = 0;
  private totalErrors = 0;

  constructor(private readonly opts: RouteMetricsOptions) {
    this.bucketMs = opts.bucketMs ?? 60_000;
    this.windowBuckets = opts.windowBuckets ?? 5;
    this.maxRoutes = opts.maxRoutes ?? 512;
    this.startedAt = opts.nowMs();
  }

  /** One answered request: its route template, duration and HTTP status. */
  record(route: string, durationMs: number, status: number): void {
    const series = this.series(route);
    const index = Math.floor(this.opts.nowMs() / this.bucketMs);
    const slot = series.buckets[index % this.windowBuckets] as Bucket;
    if (slot.index !== index) {
      slot.index = index;
      slot.hist = new LatencyHistogram();
      slot.errors = 0;
    }
    const isError = status >= 500;
    slot.hist.record(durationMs);
    series.total++;
    this.total++;
    if (isError) {
      slot.errors++;
      series.totalErrors++;
      this.totalErrors++;
    }
  }

  snapshot(): RouteMetricsSnapshot {
    const index = Math.floor(this.opts.nowMs() / this.bucketMs);
    const oldest = index - this.windowBuckets + 1;
    const routes: Record<string, RouteWindowSummary> = {};
    for (const name of [...this.routes.keys()].sort()) {
      const series = this.routes.get(name) as RouteSeries;
      const merged = new LatencyHistogram();
      let errors = 0;
      for (const b of series.buckets) {
        if (b.index < oldest || b.index > index) continue;
        merged.merge(b.hist);
        errors += b.errors;
      }
      const count = merged.count;
      routes[name] = {
        count,
        error_count: errors,
        error_rate: count === 0 ? 0 : Math.round((errors / count) * 10_000) / 10_000,
        p50_ms: merged.quantile(0.5),
        p95_ms: merged.quantile(0.95),
        p99_ms: merged.quantile(0.99),
        max_ms: count === 0 ? null : Math.round(merged.max * 1000) / 1000,
        since_start: { count: series.total, error_count: series.totalErrors },
      };
    }
    return {
      window_s: (this.windowBuckets * this.bucketMs) / 1000,
      bucket_s: this.bucketMs / 1000,
      window_start_ms: oldest * this.bucketMs,
      started_at_ms: this.startedAt,
      since_start: { count: this.total, error_count: this.totalErrors },
      routes,
    };
  }

  private series(route: string): RouteSeries {
    let s = this.routes.get(route);
    if (s) return s;
    if (this.routes.size >= this.maxRoutes) {
      s = this.routes.get(OVERFLOW_ROUTE);
      if (s) return s;
      route = OVERFLOW_ROUTE;
    }
    s = {
      buckets: Array.from({ length: this.windowBuckets }, () => ({
        index: -1,
        hist: new LatencyHistogram(),
        errors: 0,
      })),
      total: 0,
      totalErrors: 0,
    };
    this.routes.set(route, s);
    return s;
  }
}
