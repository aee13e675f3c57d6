/**
 * Broadcast accounting (control-chain §7), pure and shared by both sinks: per send one attempt and then one success
 * or one failure (with `last_broadcast_error` and its time); failed sockets are pruned after the round; a clean round
 * clears the last error; drops (backpressure) are counted; fan-out latency goes into a log-spaced histogram.
 */

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/** Log-spaced latency histogram, 0.1 ms – 60 s, ≤ 5 % relative error per bucket (control-chain §10). */
export class LatencyHistogram {
  private static readonly MIN_MS = 0.1;
  private static readonly MAX_MS = 60_000;
  /** Bucket growth factor: 1.1 keeps the midpoint within 5 % of any value in the bucket. */
  private static readonly GROWTH = 1.1;
  private static readonly BUCKETS = Math.ceil(
    Math.log(LatencyHistogram.MAX_MS / LatencyHistogram.MIN_MS) / Math.log(LatencyHistogram.GROWTH),
  );
  private readonly counts = new Uint32Array(LatencyHistogram.BUCKETS + 2);
  private total = 0;
  private maxMs = 0;

  record(ms: number): void {
    const v = Number.isFinite(ms) && ms > 0 ? ms : 0;
    let idx: number;
    if (v < LatencyHistogram.MIN_MS) idx = 0;
    else if (v >= LatencyHistogram.MAX_MS) idx = LatencyHistogram.BUCKETS + 1;
    else idx = 1 + Math.floor(Math.log(v / LatencyHistogram.MIN_MS) / Math.log(LatencyHistogram.GROWTH));
    this.counts[idx] = (this.counts[idx] ?? 0) + 1;
    this.total++;
    if (v > this.maxMs) this.maxMs = v;
  }

  get count(): number {
    return this.total;
  }

  /** The largest value recorded (0 when empty). */
  get max(): number {
    return this.maxMs;
  }

  /** Add every value of `other` into this histogram (rolling windows merge their per-minute histograms). */
  merge(other: LatencyHistogram): this {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] = (this.counts[i] ?? 0) + (other.counts[i] ?? 0);
    this.total += other.total;
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
    return this;
  }

  /** The `q` quantile (0..1) as the geometric midpoint of its bucket; null when empty. */
  quantile(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) {
        if (i === 0) return LatencyHistogram.MIN_MS;
        // Rounded like `max_ms` (3 decimals), so a quantile never reads above the reported maximum.
        if (i === LatencyHistogram.BUCKETS + 1) return round3(this.maxMs);
        const lo = LatencyHistogram.MIN_MS * LatencyHistogram.GROWTH ** (i - 1);
        return round3(Math.min(this.maxMs, lo * Math.sqrt(LatencyHistogram.GROWTH)));
      }
    }
    return round3(this.maxMs);
  }

  summary(): { count: number; p50_ms: number | null; p99_ms: number | null; max_ms: number | null } {
    return {
      count: this.total,
      p50_ms: this.quantile(0.5),
      p99_ms: this.quantile(0.99),
      max_ms: this.total === 0 ? null : round3(this.maxMs),
    };
  }
}

export interface BroadcastCounters {
  connections: number;
  broadcast_attempt_total: number;
  broadcast_success_total: number;
  broadcast_failures_total: number;
  dead_clients_pruned_total: number;
  dropped_total: number;
  last_broadcast_error: string | null;
  last_broadcast_error_at: string | null;
  fanout_latency: ReturnType<LatencyHistogram['summary']>;
}

export class BroadcastAccounting {
  private attempts = 0;
  private successes = 0;
  private failures = 0;
  private pruned = 0;
  private dropped = 0;
  private connections = 0;
  private lastError: string | null = null;
  private lastErrorAt: string | null = null;
  private readonly latency = new LatencyHistogram();

  /** Start one broadcast round; `finish` must be called once all its sends are settled. */
  round(nowIso: () => string): BroadcastRound {
    let failed = 0;
    return {
      attempt: () => {
        this.attempts++;
      },
      success: (latencyMs: number) => {
        this.successes++;
        this.latency.record(latencyMs);
      },
      failure: (error: string) => {
        this.failures++;
        failed++;
        this.lastError = error;
        this.lastErrorAt = nowIso();
      },
      dropped: () => {
        this.dropped++;
      },
      finish: (prunedNow: number) => {
        this.pruned += prunedNow;
        if (failed === 0) {
          this.lastError = null;
          this.lastErrorAt = null;
        }
      },
    };
  }

  /** Sockets closed outside a round (lag close, ping timeout): counted as pruned. */
  prunedOutsideRound(n: number): void {
    this.pruned += n;
  }

  setConnections(n: number): void {
    this.connections = n;
  }

  snapshot(): BroadcastCounters {
    return {
      connections: this.connections,
      broadcast_attempt_total: this.attempts,
      broadcast_success_total: this.successes,
      broadcast_failures_total: this.failures,
      dead_clients_pruned_total: this.pruned,
      dropped_total: this.dropped,
      last_broadcast_error: this.lastError,
      last_broadcast_error_at: this.lastErrorAt,
      fanout_latency: this.latency.summary(),
    };
  }
}

export interface BroadcastRound {
  attempt(): void;
  success(latencyMs: number): void;
  failure(error: string): void;
  dropped(): void;
  finish(prunedNow: number): void;
}
