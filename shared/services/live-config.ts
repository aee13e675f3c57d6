/**
 * Managed config keys applied to a running process (control-chain §5.3–5.4): "applied live unless marked restart";
 * "long-running processes refresh on `config.revision` and every 5 s; Lambda containers re-read the head at most every
 * 5 s".
 *
 * `LiveConfig` holds the config head this process last read and resolves keys against it synchronously (CLI flag >
 * revision > env > default, the one resolver). It learns of a newer head:
 * - at once when this process writes one or re-reads one (`ConfigService.onHead`);
 * - when a `config.revision` event arrives from another process (`noteRevision`, fed by the realtime feed);
 * - otherwise at most `maxAgeMs` (5 s) later: a read of a stale head starts one background re-read, and request paths
 *   that must not use a head older than that `await fresh()` first (the web app does, per request).
 *
 * A failed re-read keeps the last head (the process goes on with the configuration it had, it does not fall back to
 * env or defaults) and is logged as `config.refresh_failed` with the failure count in `stats()`.
 *
 * Views: `liveAuthLimits` (sessions and login limits, read per use by `AuthService`), `liveWsLimits` (the WebSocket
 * per-client queue and lag close, read per message by the hub and the AWS broadcaster). Keys marked `restart` are read
 * once by the composition root after `fresh()` (worker heartbeat, lease, console cache lifetime).
 */
import type { AppConfig } from '../config.ts';
import { type ConfigRevision, type ResolvedConfig, resolveConfig } from '../domain/control/config.ts';
import type { ConfigValue } from '../domain/control/config-keys.ts';
import type { Clock } from '../domain/time.ts';
import { describeError } from '../errors/base.ts';
import { type Logger, setLogLevel } from '../log.ts';
import type { ConfigService } from './config-service.ts';

/** After a failed re-read, the next one waits this long (the store is not hammered while it is down). */
const RETRY_MS = 1_000;

export interface LiveConfigDeps {
  configService: Pick<ConfigService, 'current' | 'onHead' | 'noteRevision'>;
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  log: Logger;
  /** The longest a head is used before a re-read is started (spec: 5 s). */
  maxAgeMs?: number;
}

export class LiveConfigNotLoadedError extends Error {
  constructor(key: string) {
    super(`LiveConfig: ${key} read before the config head was loaded (await live.fresh() in the composition root)`);
    this.name = 'LiveConfigNotLoadedError';
  }
}

export class LiveConfig {
  private head: ConfigRevision | null = null;
  private readAtMs = Number.NEGATIVE_INFINITY;
  private retryAtMs = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | null = null;
  private refreshFailures = 0;
  private readonly listeners = new Set<(head: ConfigRevision, previous: ConfigRevision | null) => void>();
  private readonly maxAgeMs: number;
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: LiveConfigDeps) {
    this.maxAgeMs = deps.maxAgeMs ?? 5_000;
    this.unsubscribe = deps.configService.onHead((head) => this.apply(head));
  }

  /** The revision in use; null before the first load. */
  get revision(): number | null {
    return this.head?.revision ?? null;
  }

  /**
   * Resolve once the head in use is at most `maxAgeMs` old, re-reading it if not. A failed re-read keeps the head in
   * use (logged and counted, retried at most every `RETRY_MS`); only the first load throws, having nothing to keep.
   */
  async fresh(): Promise<void> {
    if (!this.head) {
      await this.load();
      return;
    }
    if (!this.due()) return;
    try {
      await this.load();
    } catch (err) {
      this.failed(err);
    }
  }

  /** A `config.revision` event (another process wrote `revision`): re-read now unless it is already in use. */
  noteRevision(revision: number): void {
    if (this.head && this.head.revision >= revision) return;
    this.deps.configService.noteRevision(revision);
    this.readAtMs = Number.NEGATIVE_INFINITY;
    this.retryAtMs = Number.NEGATIVE_INFINITY;
    this.revalidate();
  }

  /** The resolved key with its source, from the head in use (a stale head starts a background re-read). */
  resolve(key: string, scope: { var?: string; session?: string } = {}): ResolvedConfig {
    const head = this.head;
    if (!head) throw new LiveConfigNotLoadedError(key);
    if (this.due()) this.revalidate();
    return resolveConfig(key, { revision: head.revision, snapshot: head.snapshot, env: this.deps.env }, scope);
  }

  value(key: string, scope: { var?: string; session?: string } = {}): ConfigValue | null {
    return this.resolve(key, scope).value;
  }

  /** A numeric key; a key without a value (an unset rule) is an error here: ask `value` for those. */
  number(key: string, scope: { var?: string; session?: string } = {}): number {
    const v = this.value(key, scope);
    if (typeof v !== 'number') throw new Error(`LiveConfig: ${key} is ${JSON.stringify(v)}, not a number`);
    return v;
  }

  /**
   * A key this process also parses from its environment (`AppConfig`, whose env schema admits test-sized values the
   * registry bounds refuse): the revision's value when the revision sets the key, else the process's own value
   * (its env value or the same default). Same precedence as the resolver: revision > env > default.
   */
  overProcess<T extends ConfigValue>(key: string, processValue: T): T {
    const head = this.head;
    if (!head) throw new LiveConfigNotLoadedError(key);
    if (this.due()) this.revalidate();
    const r = resolveConfig(key, { revision: head.revision, snapshot: head.snapshot, env: {} });
    if (!r.source.startsWith('config:')) return processValue;
    if (typeof r.value !== typeof processValue) {
      throw new Error(
        `LiveConfig: ${key} is ${JSON.stringify(r.value)} in revision ${head.revision}, not a ${typeof processValue}`,
      );
    }
    return r.value as T;
  }

  /** Called with every newer head this process applies (after the first load). Returns the unsubscribe function. */
  onChange(listener: (head: ConfigRevision, previous: ConfigRevision | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): { revision: number | null; read_at_ms: number | null; refresh_failures_total: number } {
    return {
      revision: this.revision,
      read_at_ms: Number.isFinite(this.readAtMs) ? this.readAtMs : null,
      refresh_failures_total: this.refreshFailures,
    };
  }

  /** Stop following `ConfigService` heads. */
  close(): void {
    this.unsubscribe();
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        // A real re-read (`current` calls `apply` through `onHead` when the revision changed; applying here too
        // records the read time of an unchanged one).
        this.apply(await this.deps.configService.current(0));
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  private due(): boolean {
    const now = this.deps.clock.nowMs();
    return now - this.readAtMs >= this.maxAgeMs && now >= this.retryAtMs;
  }

  private revalidate(): void {
    if (this.loading) return;
    this.load().catch((err: unknown) => this.failed(err));
  }

  private failed(err: unknown): void {
    this.refreshFailures++;
    this.retryAtMs = this.deps.clock.nowMs() + RETRY_MS;
    this.deps.log.warn(
      { revision: this.revision, refresh_failures: this.refreshFailures, err: describeError(err) },
      'config.refresh_failed',
    );
  }

  private apply(head: ConfigRevision): void {
    const previous = this.head;
    if (previous && head.revision < previous.revision) return;
    this.head = head;
    this.readAtMs = this.deps.clock.nowMs();
    if (previous && previous.revision !== head.revision) {
      this.deps.log.info({ revision: head.revision, previous: previous.revision }, 'config.applied');
      for (const l of this.listeners) {
        try {
          l(head, previous);
        } catch (err) {
          // One consumer failing to apply a revision must not stop the others or the config read that found it.
          this.deps.log.error({ revision: head.revision, err: describeError(err) }, 'config.apply_failed');
        }
      }
    }
  }
}

/**
 * Make a long-running process's logger (a `createLogger` root, children included) follow `GHTRADER_LOG_LEVEL` in each
 * revision, starting now. CLI commands do not: their output stays as their flags make it. Returns the unsubscribe.
 */
export function followLogLevel(live: LiveConfig, root: Logger, processLevel: string): () => void {
  const apply = () => {
    if (!setLogLevel(root, live.overProcess('GHTRADER_LOG_LEVEL', processLevel))) {
      throw new Error('followLogLevel: the logger was not made by createLogger, so its level cannot change');
    }
  };
  apply();
  return live.onChange(apply);
}

/** `AuthService` limits whose session and login values follow the config revision (each read resolves the key). */
export function liveAuthLimits(live: LiveConfig, base: AppConfig['auth']): AppConfig['auth'] {
  return {
    get sessionIdleS() {
      return live.overProcess('GHTRADER_SESSION_IDLE_S', base.sessionIdleS);
    },
    get sessionMaxS() {
      return live.overProcess('GHTRADER_SESSION_MAX_S', base.sessionMaxS);
    },
    get loginMaxFailures() {
      return live.overProcess('GHTRADER_LOGIN_MAX_FAILURES', base.loginMaxFailures);
    },
    get loginWindowS() {
      return live.overProcess('GHTRADER_LOGIN_WINDOW_S', base.loginWindowS);
    },
    // Env-only keys (§5.2): never in a revision.
    trustedProxyHops: base.trustedProxyHops,
    cursorSecret: base.cursorSecret,
    originSecret: base.originSecret,
  };
}

/** The WebSocket sinks' backpressure limits (`GHTRADER_WS_CLIENT_QUEUE_MAX`, `GHTRADER_WS_LAG_CLOSE_S`), read per use. */
export interface WsLimits {
  readonly queueMax: number;
  readonly lagCloseMs: number;
}

export function liveWsLimits(live: LiveConfig): WsLimits {
  return {
    get queueMax() {
      return live.number('GHTRADER_WS_CLIENT_QUEUE_MAX');
    },
    get lagCloseMs() {
      return live.number('GHTRADER_WS_LAG_CLOSE_S') * 1000;
    },
  };
}
