/**
 * What every data-chain job needs (data-chain §0): the tick store, the migration ledger, locks, the provider, the
 * artifact store, the calendar (with operator overrides), settings layers and a clock. Built once per process that
 * runs data jobs (the local runner inside `ghtrader up`, or a Lambda) and handed to the handlers.
 */
import { TextDecoder } from 'node:util';
import type { LockStore } from '../../domain/control/locks.ts';
import type { ArtifactStore } from '../../domain/data/artifacts.ts';
import type { MigrationLedger } from '../../domain/data/migration-ledger.ts';
import type { SettingLayers } from '../../domain/data/settings.ts';
import type { TickStore } from '../../domain/data/tick-store.ts';
import {
  type CalendarOverrides,
  parseCalendarOverrides,
  type RefreshedCalendarFile,
  RefreshedCalendarFileSchema,
  SHIPPED_CALENDAR_DATA,
  TradingCalendar,
} from '../../domain/market/calendar/index.ts';
import type { MarketDataSource } from '../../domain/market/ports.ts';
import { DataChainError } from '../../errors/data.ts';
import type { Logger } from '../../log.ts';
import type { JobService } from '../job-service.ts';
import type { BuildItems } from './build-items.ts';

export interface SessionLease {
  readonly source: MarketDataSource;
  /** Return the session to the pool, or close it (`discard`: the §5.5 reconnect). Idempotent. */
  release(opts?: { discard?: boolean }): Promise<void>;
}

export interface MarketProvider {
  /** The shared provider session for short calls (mapping, clock), opened on first use. */
  get(): Promise<MarketDataSource>;
  /** A session of one's own for a download (bounded pool; waits for a free one). */
  lease(): Promise<SessionLease>;
  /** Drop the shared session and the idle pooled ones; the next calls open fresh sessions (current configuration). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface DataContext {
  store: TickStore;
  ledger: MigrationLedger;
  locks: LockStore;
  jobs: JobService;
  market: MarketProvider;
  artifacts: ArtifactStore;
  settings: SettingLayers;
  /**
   * The config revision log: each data job pins the head (revision + snapshot) at its start as the `config` layer
   * of `settings`, so a change applies to the next job and never mid-run. Absent: env and defaults only.
   */
  configHead?: () => Promise<{ revision: number; snapshot: Readonly<Record<string, string>> }>;
  clock: { nowMs(): number };
  log: Logger;
  /** DynamoDB access for build coordination items (the Jobs table). */
  builds: BuildItems;
  hostId: string;
}

const decoder = new TextDecoder();

/**
 * The calendar as every data job sees it: shipped data + `calendar/overrides.json` + `calendar/refreshed.json` from
 * the artifact store (§3.1). A malformed file is an error naming it; it is never skipped silently.
 */
export async function loadDataCalendar(artifacts: ArtifactStore): Promise<TradingCalendar> {
  const { overrides, refreshed } = await loadCalendarFiles(artifacts);
  return new TradingCalendar(SHIPPED_CALENDAR_DATA, overrides, refreshed);
}

/** The operator overrides and the stored refreshed list (each absent when not stored); a malformed one throws. */
export async function loadCalendarFiles(
  artifacts: ArtifactStore,
): Promise<{ overrides?: CalendarOverrides; refreshed?: RefreshedCalendarFile }> {
  const readJson = async (key: string): Promise<unknown> => {
    const body = await artifacts.get(key);
    if (body === null) return undefined;
    try {
      return JSON.parse(decoder.decode(body));
    } catch (err) {
      throw new DataChainError('calendar_file_invalid', `${artifacts.uri(key)} is not JSON: ${(err as Error).message}`);
    }
  };
  const o = await readJson('calendar/overrides.json');
  let overrides: CalendarOverrides | undefined;
  if (o !== undefined) {
    try {
      overrides = parseCalendarOverrides(o);
    } catch (err) {
      throw new DataChainError('calendar_file_invalid', `calendar/overrides.json: ${(err as Error).message}`);
    }
  }
  const r = await readJson('calendar/refreshed.json');
  let refreshed: RefreshedCalendarFile | undefined;
  if (r !== undefined) {
    const parsed = RefreshedCalendarFileSchema.safeParse(r);
    if (!parsed.success) {
      throw new DataChainError(
        'calendar_file_invalid',
        'calendar/refreshed.json is invalid; run ghtrader data calendar --refresh to replace it',
      );
    }
    refreshed = parsed.data;
  }
  return { ...(overrides ? { overrides } : {}), ...(refreshed ? { refreshed } : {}) };
}

/** What `runValidation` needs, from the data context (§6): the same wiring for the job and the build gate. */
export async function validateDeps(ctx: DataContext, log: Logger, market?: MarketDataSource) {
  return {
    store: ctx.store,
    locks: ctx.locks,
    calendar: await loadDataCalendar(ctx.artifacts),
    settings: ctx.settings,
    artifacts: ctx.artifacts,
    clock: ctx.clock,
    log,
    ...(market ? { market } : {}),
  };
}

/** The runtime's artifact store, which the data chain needs (reports, calendars, exports); none is a wiring error. */
export function requireArtifacts(artifacts: ArtifactStore | null): ArtifactStore {
  if (!artifacts) {
    throw new Error(
      'the data chain needs an artifact store: locally $GHTRADER_HOME/artifacts, in AWS GHTRADER_ARTIFACTS_BUCKET',
    );
  }
  return artifacts;
}
