/**
 * CloudWatch Embedded Metric Format (control-chain §10: "Lambdas also emit CloudWatch EMF metrics for fleet
 * percentiles"): one JSON log line per request that CloudWatch Logs turns into metrics, so p50/p99 per route can be
 * read across every Lambda container (each container's own histograms only see its own requests). Pure.
 */

/** The metric namespace of the console's HTTP API. */
export const EMF_NAMESPACE = 'ghtrader/console';

export interface RequestMetric {
  /** The route template (`GET /api/jobs/:id`, `PAGE /v/:var/dashboard`). */
  route: string;
  latencyMs: number;
  status: number;
  timestampMs: number;
  service: string;
}

/**
 * The EMF record of one request: `latency_ms` (Milliseconds) and `server_errors` (Count, 1 for a status ≥ 500) under
 * the dimensions `[Service, Route]` and `[Service]` (fleet-wide and per route); `status` rides along as a property.
 */
export function emfRecord(m: RequestMetric): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: Math.round(m.timestampMs),
      CloudWatchMetrics: [
        {
          Namespace: EMF_NAMESPACE,
          Dimensions: [['Service', 'Route'], ['Service']],
          Metrics: [
            { Name: 'latency_ms', Unit: 'Milliseconds' },
            { Name: 'server_errors', Unit: 'Count' },
          ],
        },
      ],
    },
    Service: m.service,
    Route: m.route,
    latency_ms: Math.round(m.latencyMs * 1000) / 1000,
    server_errors: m.status >= 500 ? 1 : 0,
    status: m.status,
  };
}
