/**
 * System status for `/api/status`, the console and the CLI. Each probe has a deadline and the snapshot is cached
 * for `cacheMs`, so request threads never wait on a slow dependency for long and a burst of requests costs one probe.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { BroadcastCounters } from '../domain/control/broadcast.ts';
import { broadcasterComponent, supervisorComponent } from '../domain/control/component-status.ts';
import type { JobQueue } from '../domain/control/job-queue.ts';
import type { JobStore } from '../domain/control/job-store.ts';
import {
  type ComponentStatus,
  type StatusSnapshot,
  type StatusSource,
  type StatusState,
  worstState,
} from '../domain/control/status.ts';
import type { SupervisorTelemetryStore } from '../domain/control/supervisor-telemetry.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import type { WarmPath } from '../infra/redis/warm-path.ts';
import { supervisorsOverview } from './supervisor-view.ts';

/** The supervisor component from the telemetry supervisors persist (every web instance answers alike). */
export function supervisorStatusFrom(
  telemetry: Pick<SupervisorTelemetryStore, 'listHosts' | 'listComponents'>,
  clock: Clock,
): () => Promise<ComponentStatus> {
  return async () => {
    const now = clock.nowMs();
    return supervisorComponent((await supervisorsOverview(telemetry, now)).input, isoUtc(now));
  };
}

/** The broadcaster component from counters: this process's hub (`as_of` now) or flushed ones (their own `as_of`). */
export function broadcasterStatusFrom(
  counters: () => Promise<(BroadcastCounters & { as_of: string }) | null>,
  clock: Clock,
): () => Promise<ComponentStatus> {
  return async () => {
    const c = await counters();
    const now = clock.nowMs();
    return broadcasterComponent(c, now, isoUtc(now));
  };
}

/** Where the job runner's liveness comes from: the local runner in `ghtrader up`, or Lambda in AWS. */
export interface RunnerStatusSource {
  status(): ComponentStatus;
}

export interface StatusServiceDeps {
  dynamo: DynamoDBClient;
  jobsTable: string;
  store: JobStore;
  queue: JobQueue;
  warm: WarmPath;
  runner: RunnerStatusSource;
  clock: Clock;
  /** Reach the tick store (resolves a text, throws when it cannot); absent -> `empty`: no data chain here. */
  tickstore?: () => Promise<string>;
  /** The supervisors as their telemetry reports them; absent -> `empty`: this process reads no telemetry. */
  supervisor?: () => Promise<ComponentStatus>;
  /** The live-update broadcaster (this process's hub, or the AWS broadcaster's flushed counters). */
  broadcaster?: () => Promise<ComponentStatus>;
  /** The config revision this process applies (`LiveConfig.revision`). */
  configRevision?: () => number | null;
}

const PROBE_TIMEOUT_MS = 1_500;

export class StatusService implements StatusSource {
  private cached: { at: number; snapshot: Promise<StatusSnapshot> } | null = null;

  constructor(
    private readonly deps: StatusServiceDeps,
    private readonly cacheMs = 1_000,
  ) {}

  snapshot(): Promise<StatusSnapshot> {
    const now = this.deps.clock.nowMs();
    if (this.cached && now - this.cached.at < this.cacheMs) return this.cached.snapshot;
    const snapshot = this.build();
    this.cached = { at: now, snapshot };
    snapshot.catch(() => {
      this.cached = null;
    });
    return snapshot;
  }

  private async build(): Promise<StatusSnapshot> {
    const at = isoUtc(this.deps.clock.nowMs());
    const [dynamo, sqs, counts] = await Promise.all([
      this.probe('dynamo', async () => {
        await this.deps.dynamo.send(new DescribeTableCommand({ TableName: this.deps.jobsTable }));
        return 'DynamoDB reachable';
      }),
      this.probe('sqs', async () => {
        const d = await this.deps.queue.depth();
        if (d.dlqVisible > 0) throw new WarnState(`${d.dlqVisible} message(s) in the jobs DLQ`, 'dlq_not_empty');
        return `jobs queue: ${d.visible} visible, ${d.inFlight} in flight`;
      }),
      // Counts are best effort: when DynamoDB fails, the dynamo probe above reports why and the counts read null.
      withTimeout(
        Promise.all([this.deps.store.count('running'), this.deps.store.count('queued')]),
        PROBE_TIMEOUT_MS,
      ).catch(() => null),
    ]);
    const warm = this.deps.warm.status();
    const redis: ComponentStatus = warm.degraded
      ? {
          state: 'warn',
          text: `warm path degraded (${warm.reason})`,
          error: warm.reason ?? 'redis_unavailable',
          updated_at: warm.checked_at,
          stale: false,
        }
      : { state: 'ok', text: 'Redis reachable', error: '', updated_at: warm.checked_at, stale: false };
    const runner = this.deps.runner.status();
    const [tickstore, supervisor, broadcaster] = await Promise.all([
      this.deps.tickstore ? this.probe('tickstore', this.deps.tickstore) : absent(at, 'no tick store in this process'),
      this.deps.supervisor
        ? this.probeStatus('supervisor', this.deps.supervisor)
        : absent(at, 'this process reads no supervisor telemetry'),
      this.deps.broadcaster
        ? this.probeStatus('broadcaster', this.deps.broadcaster)
        : absent(at, 'this process serves no live updates'),
    ]);
    const components = { dynamo, sqs, redis, runner, tickstore, supervisor, broadcaster };
    // A component this deployment does not run (`empty`) says so, and does not colour the overall state.
    const state = worstState(
      Object.values(components)
        .map((c) => c.state)
        .filter((st) => st !== 'empty'),
    );
    const reasons = warm.degraded && warm.reason ? [`console:${warm.reason}`] : [];
    const problems = Object.entries(components)
      .filter(([, c]) => c.state !== 'ok' && c.state !== 'empty')
      .map(([name, c]) => `${name}: ${c.text}`);
    return {
      state,
      text: problems.length === 0 ? 'all components ok' : problems.join('; '),
      error: state === 'ok' ? '' : (Object.values(components).find((c) => c.state === state)?.error ?? ''),
      updated_at: at,
      stale: false,
      components,
      warm_path_degraded: warm.degraded,
      warm_path_reasons: reasons,
      running_count: counts ? counts[0] : null,
      queued_count: counts ? counts[1] : null,
      config_revision: this.deps.configRevision?.() ?? null,
    };
  }

  /** A component whose source reports a full status; a throw or a timeout is that component's error. */
  private async probeStatus(name: string, fn: () => Promise<ComponentStatus>): Promise<ComponentStatus> {
    try {
      return await withTimeout(fn(), PROBE_TIMEOUT_MS);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const code = err instanceof TimeoutError ? `${name}_timeout` : `${name}_unavailable`;
      const at = isoUtc(this.deps.clock.nowMs());
      return { state: 'error', text: `${name} unavailable: ${message}`, error: code, updated_at: at, stale: false };
    }
  }

  private async probe(name: string, fn: () => Promise<string>): Promise<ComponentStatus> {
    const at = () => isoUtc(this.deps.clock.nowMs());
    try {
      const text = await withTimeout(fn(), PROBE_TIMEOUT_MS);
      return { state: 'ok', text, error: '', updated_at: at(), stale: false };
    } catch (err) {
      if (err instanceof WarnState)
        return { state: 'warn', text: err.message, error: err.code, updated_at: at(), stale: false };
      const message = err instanceof Error ? err.message : String(err);
      const code = err instanceof TimeoutError ? `${name}_timeout` : `${name}_unavailable`;
      return { state: 'error', text: `${name} unavailable: ${message}`, error: code, updated_at: at(), stale: false };
    }
  }
}

function absent(at: string, text: string): Promise<ComponentStatus> {
  return Promise.resolve({ state: 'empty', text, error: '', updated_at: at, stale: false });
}

class WarnState extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

class TimeoutError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer)) as Promise<T>;
}

export type { StatusState };
