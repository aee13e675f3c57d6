/**
 * The console's hot-read cache (control-chain §12: "hot reads use ≤ 1 s in-process caches invalidated by WS
 * events"). Pure: time comes from the injected clock, no I/O.
 *
 * - An entry lives at most `ttlMs` (≤ 1000); `ttlMs = 0` turns caching off (every read loads).
 * - Concurrent misses for one key share one load (single flight), so a burst of requests costs one store read.
 * - Entries carry tags (realtime topics such as `jobs:all`, `job:<id>`, `config`, `audit`); `invalidate(tag)` drops
 *   every entry holding it. A load that was already running when its tag was invalidated still answers its own
 *   callers but is not kept: a read that starts after an invalidation never sees data from before it.
 * - A failed load is never cached.
 * - Refresh ahead: a read of an entry older than `refreshAheadRatio × ttlMs` (0.7) starts one background load and
 *   still answers from the entry, which is younger than `ttlMs`; the new value replaces the entry when it arrives, dated
 *   from when its load started. Hot keys so never make a reader wait on the store, and no answer is older than
 *   `ttlMs`. A background load that fails leaves the entry to expire (the next reader then loads and sees the error)
 *   and is counted in `refresh_failures`; one that an invalidation overtook is dropped.
 * - At most `maxEntries`; the oldest entry is dropped first.
 * - Final values (`getUntilFinal`): a value that can never change again (a terminal job record) is kept apart, without
 *   a lifetime and untouched by invalidations, at most `maxFinalEntries` of them, the least recently read dropped
 *   first. The ≤ 1 s bound is about staleness, and a final value cannot go stale.
 *
 * Values are shared between callers: treat them as read-only.
 */
import type { Clock } from '../time.ts';
import { routeChannelMessage } from './realtime.ts';

export const HOT_CACHE_MAX_TTL_MS = 1_000;

export interface HotCacheOptions {
  ttlMs: number;
  clock: Clock;
  maxEntries?: number;
  /** Final values kept at most (default 4,096). */
  maxFinalEntries?: number;
  /** Fraction of the lifetime after which a read refreshes the entry in the background (default 0.7; 1 = never). */
  refreshAheadRatio?: number;
}

export interface HotCacheStats {
  ttl_ms: number;
  entries: number;
  hits: number;
  misses: number;
  /** Loads that joined one already in flight. */
  coalesced: number;
  invalidations: number;
  /** Background refreshes started, and those whose load failed. */
  refreshes: number;
  refresh_failures: number;
  /** Final values kept, and reads they answered. */
  final_entries: number;
  final_hits: number;
}

interface Entry {
  value: Promise<unknown>;
  atMs: number;
  tags: readonly string[];
  settled: boolean;
  refreshing: boolean;
}

export class HotCache {
  private readonly entries = new Map<string, Entry>();
  /** Final values by key, least recently read first. */
  private readonly finals = new Map<string, unknown>();
  private readonly maxEntries: number;
  private readonly maxFinalEntries: number;
  private readonly refreshAfterMs: number;
  private readonly counters = {
    hits: 0,
    misses: 0,
    coalesced: 0,
    invalidations: 0,
    refreshes: 0,
    refresh_failures: 0,
    final_hits: 0,
  };

  constructor(private readonly opts: HotCacheOptions) {
    if (!Number.isInteger(opts.ttlMs) || opts.ttlMs < 0 || opts.ttlMs > HOT_CACHE_MAX_TTL_MS) {
      throw new RangeError(`hot cache ttlMs must be an integer in [0, ${HOT_CACHE_MAX_TTL_MS}], got ${opts.ttlMs}`);
    }
    this.maxEntries = opts.maxEntries ?? 1_000;
    this.maxFinalEntries = opts.maxFinalEntries ?? 4_096;
    const ratio = opts.refreshAheadRatio ?? 0.7;
    if (!(ratio > 0 && ratio <= 1)) throw new RangeError(`hot cache refreshAheadRatio must be in (0, 1], got ${ratio}`);
    this.refreshAfterMs = ratio * opts.ttlMs;
  }

  /** The cached value of `key`, or `load()` (shared with concurrent callers) when absent or older than the TTL. */
  get<T>(key: string, tags: readonly string[], load: () => Promise<T>): Promise<T> {
    if (this.opts.ttlMs === 0) return load();
    const now = this.opts.clock.nowMs();
    const hit = this.entries.get(key);
    if (hit && now - hit.atMs < this.opts.ttlMs) {
      if (!hit.settled) {
        this.counters.coalesced++;
        return hit.value as Promise<T>;
      }
      this.counters.hits++;
      if (!hit.refreshing && now - hit.atMs >= this.refreshAfterMs) this.refresh(key, hit, load, now);
      return hit.value as Promise<T>;
    }
    this.counters.misses++;
    return this.store(key, tags, load(), now);
  }

  /**
   * `get`, except that a value `isFinal` accepts is kept as final: later reads of `key` answer it with no load, however
   * old, until it is dropped for space. Only for values whose store guarantees they never change once final (a job
   * record in a terminal status: every write to a job is conditioned on a status that is not terminal).
   */
  getUntilFinal<T>(
    key: string,
    tags: readonly string[],
    load: () => Promise<T>,
    isFinal: (v: T) => boolean,
  ): Promise<T> {
    if (this.opts.ttlMs === 0) return load();
    if (this.finals.has(key)) {
      const value = this.finals.get(key) as T;
      this.finals.delete(key);
      this.finals.set(key, value);
      this.counters.final_hits++;
      return Promise.resolve(value);
    }
    return this.get(key, tags, async () => {
      const value = await load();
      if (isFinal(value)) this.keepFinal(key, value);
      return value;
    });
  }

  private keepFinal(key: string, value: unknown): void {
    this.finals.delete(key);
    if (this.finals.size >= this.maxFinalEntries) {
      const oldest = this.finals.keys().next();
      if (!oldest.done) this.finals.delete(oldest.value);
    }
    this.finals.set(key, value);
    this.entries.delete(key);
  }

  private store<T>(key: string, tags: readonly string[], value: Promise<T>, atMs: number): Promise<T> {
    const entry: Entry = { value, atMs, tags, settled: false, refreshing: false };
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, entry);
    value.then(
      () => {
        entry.settled = true;
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return value;
  }

  /** Load `key` again in the background; the result replaces `hit` unless something replaced or dropped it first. */
  private refresh<T>(key: string, hit: Entry, load: () => Promise<T>, startedMs: number): void {
    hit.refreshing = true;
    this.counters.refreshes++;
    load().then(
      (v) => {
        if (this.entries.get(key) !== hit) return;
        const entry: Entry = {
          value: Promise.resolve(v),
          atMs: startedMs,
          tags: hit.tags,
          settled: true,
          refreshing: false,
        };
        this.entries.set(key, entry);
      },
      () => {
        this.counters.refresh_failures++;
        hit.refreshing = false;
      },
    );
  }

  /** Drop every entry tagged `tag`. */
  invalidate(tag: string): void {
    this.counters.invalidations++;
    for (const [key, entry] of this.entries) if (entry.tags.includes(tag)) this.entries.delete(key);
  }

  /** Invalidate what a warm-path message makes stale (the topics it is delivered on; any job event: `jobs:all`). */
  invalidateForChannel(channel: string, message: unknown): void {
    for (const tag of cacheTagsForChannel(channel, message)) this.invalidate(tag);
  }

  clear(): void {
    this.entries.clear();
    this.finals.clear();
  }

  stats(): HotCacheStats {
    return { ttl_ms: this.opts.ttlMs, entries: this.entries.size, final_entries: this.finals.size, ...this.counters };
  }
}

/**
 * The cache tags a warm-path message (channel without the Redis prefix) makes stale: the realtime topics it is routed
 * to, plus `jobs:all` for every job event (a progress event of a job without a variety routes to `job:<id>` only, but
 * the job list shows progress too).
 */
export function cacheTagsForChannel(channel: string, message: unknown): string[] {
  const tags = new Set(routeChannelMessage(channel, message).map((r) => r.topic));
  if (channel === 'jobs:updates') tags.add('jobs:all');
  return [...tags];
}
