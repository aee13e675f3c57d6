/**
 * Settings of the main_l5 build (data-chain §5.1, §5.5, §5.6, §1.3). Every key follows §0: `<KEY>_<VAR>` wins over
 * `<KEY>` (config layer over environment), the winning source is reported, and each value is recorded in the run's
 * `SettingsSnapshot` under its base key so the report carries `config_snapshot` and `config_hash`. Clamps follow
 * the spec: retry max_s ≥ base_s, timeout_reset_after ≥ 1, circuit threshold ≥ 1, days per job and concurrency ≥ 1,
 * WAL wait ≥ 1; the circuit cooldown defaults to max(60, maintenance wait).
 */

import type { Variety } from '../../market/varieties.ts';
import {
  type NumberSetting,
  type Resolved,
  resolveBoolean,
  resolveNumber,
  type SettingLayers,
  type SettingSource,
  SettingsSnapshot,
} from '../settings.ts';

/** The provider retry / maintenance / circuit-breaker limits of §5.5 (what `onProviderError` and the breaker use). */
export interface ProviderRetrySettings {
  /** `GHTRADER_TQ_RETRY_MAX` (3): other errors tolerated per day before `download_failed`. */
  readonly retryMax: number;
  /** `GHTRADER_TQ_RETRY_BASE_S` (10). */
  readonly retryBaseS: number;
  /** `GHTRADER_TQ_RETRY_MAX_S` (300, ≥ base). */
  readonly retryMaxS: number;
  /** `GHTRADER_TQ_MAINTENANCE_WAIT_S` (2100); 0 treats maintenance errors like any other error. */
  readonly maintenanceWaitS: number;
  /** `GHTRADER_TQ_MAINTENANCE_MAX_RETRIES` (3). */
  readonly maintenanceMaxRetries: number;
  /** `GHTRADER_TQ_MAINTENANCE_MAX_TOTAL_WAIT_S` (7200). */
  readonly maintenanceMaxTotalWaitS: number;
  /** `GHTRADER_TQ_TIMEOUT_RESET_AFTER` (2, ≥ 1). */
  readonly timeoutResetAfter: number;
}

export interface CircuitSettings {
  /** `GHTRADER_TQ_MAINTENANCE_CIRCUIT_ENABLED` (true). */
  readonly circuitEnabled: boolean;
  /** `GHTRADER_TQ_MAINTENANCE_CIRCUIT_THRESHOLD` (3, ≥ 1). */
  readonly circuitThreshold: number;
  /** `GHTRADER_TQ_MAINTENANCE_CIRCUIT_COOLDOWN_S` (max(60, maintenance wait)). */
  readonly circuitCooldownS: number;
}

export interface MainL5Values extends ProviderRetrySettings, CircuitSettings {
  /** `GHTRADER_MAIN_L5_DAYS_PER_JOB` (5, ≥ 1). */
  readonly daysPerJob: number;
  /** `GHTRADER_MAIN_L5_MAX_CONCURRENCY` (4, ≥ 1). */
  readonly maxConcurrency: number;
  /** `GHTRADER_MAIN_L5_BUILD_DEADLINE_S` (21600). */
  readonly buildDeadlineS: number;
  /** `GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE[_<VAR>]` (0): provider_missing days tolerated. */
  readonly missingDaysTolerance: number;
  /** `GHTRADER_MAIN_L5_ENFORCE_HEALTH` → `GHTRADER_PIPELINE_ENFORCE_HEALTH` → true. */
  readonly enforceHealth: boolean;
  /** `GHTRADER_MAIN_L5_DAILY_AGG_AUTO_REFRESH` (true). */
  readonly dailyAggAutoRefresh: boolean;
  /** `GHTRADER_HEALTH_WAL_WAIT_S` (30, ≥ 1). */
  readonly healthWalWaitS: number;
}

export type MainL5SettingName = keyof MainL5Values;

export interface MainL5Settings extends MainL5Values {
  /** The winning source of each value (`env:KEY`, `config:KEY`, `default`), e.g. `missing_days_tolerance_source`. */
  readonly sources: Readonly<Record<MainL5SettingName, SettingSource>>;
  /** The env key each value is reported under (base key, without the `_<VAR>` suffix). */
  readonly keys: Readonly<Record<MainL5SettingName, string>>;
  /** `snapshot.toJSON()` after recording these settings. */
  readonly config_snapshot: Record<string, { value: unknown; source: SettingSource }>;
  /** `snapshot.hash()` after recording these settings. */
  readonly config_hash: string;
}

export const MAIN_L5_SETTING_KEYS: Readonly<Record<MainL5SettingName, string>> = Object.freeze({
  retryMax: 'GHTRADER_TQ_RETRY_MAX',
  retryBaseS: 'GHTRADER_TQ_RETRY_BASE_S',
  retryMaxS: 'GHTRADER_TQ_RETRY_MAX_S',
  maintenanceWaitS: 'GHTRADER_TQ_MAINTENANCE_WAIT_S',
  maintenanceMaxRetries: 'GHTRADER_TQ_MAINTENANCE_MAX_RETRIES',
  maintenanceMaxTotalWaitS: 'GHTRADER_TQ_MAINTENANCE_MAX_TOTAL_WAIT_S',
  timeoutResetAfter: 'GHTRADER_TQ_TIMEOUT_RESET_AFTER',
  circuitEnabled: 'GHTRADER_TQ_MAINTENANCE_CIRCUIT_ENABLED',
  circuitThreshold: 'GHTRADER_TQ_MAINTENANCE_CIRCUIT_THRESHOLD',
  circuitCooldownS: 'GHTRADER_TQ_MAINTENANCE_CIRCUIT_COOLDOWN_S',
  daysPerJob: 'GHTRADER_MAIN_L5_DAYS_PER_JOB',
  maxConcurrency: 'GHTRADER_MAIN_L5_MAX_CONCURRENCY',
  buildDeadlineS: 'GHTRADER_MAIN_L5_BUILD_DEADLINE_S',
  missingDaysTolerance: 'GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE',
  enforceHealth: 'GHTRADER_MAIN_L5_ENFORCE_HEALTH',
  dailyAggAutoRefresh: 'GHTRADER_MAIN_L5_DAILY_AGG_AUTO_REFRESH',
  healthWalWaitS: 'GHTRADER_HEALTH_WAL_WAIT_S',
});

/** Fallback of `GHTRADER_MAIN_L5_ENFORCE_HEALTH` (§5 intro). */
export const PIPELINE_ENFORCE_HEALTH_KEY = 'GHTRADER_PIPELINE_ENFORCE_HEALTH';

const K = MAIN_L5_SETTING_KEYS;

/**
 * Resolve every main_l5 setting for `variety` (`<KEY>_<VAR>` first). Records each value in `snapshot` (a new one
 * when omitted) under its base key; `config_snapshot` / `config_hash` are the snapshot's state on return, so a caller
 * that records more settings afterwards should read the snapshot again for its report. Throws `DataSettingError`
 * for a malformed value.
 */
export function resolveMainL5Settings(
  layers: SettingLayers,
  variety: Variety,
  snapshot: SettingsSnapshot = new SettingsSnapshot(),
): MainL5Settings {
  const sources = {} as Record<MainL5SettingName, SettingSource>;
  const take = <T>(name: MainL5SettingName, r: Resolved<T>): T => {
    sources[name] = r.source;
    return snapshot.record(K[name], r);
  };
  const num = (name: MainL5SettingName, s: Omit<NumberSetting, 'key'>): number =>
    take(name, resolveNumber(layers, { key: K[name], ...s }, variety));
  const bool = (name: MainL5SettingName, def: boolean, fallbacks?: readonly string[]): boolean =>
    take(name, resolveBoolean(layers, { key: K[name], default: def, ...(fallbacks ? { fallbacks } : {}) }, variety));

  const retryMax = num('retryMax', { default: 3, min: 0, integer: true });
  const retryBaseS = num('retryBaseS', { default: 10, min: 0 });
  const retryMaxS = num('retryMaxS', { default: 300, min: retryBaseS });
  const maintenanceWaitS = num('maintenanceWaitS', { default: 2100, min: 0 });
  const maintenanceMaxRetries = num('maintenanceMaxRetries', { default: 3, min: 0, integer: true });
  const maintenanceMaxTotalWaitS = num('maintenanceMaxTotalWaitS', { default: 7200, min: 0 });
  const timeoutResetAfter = num('timeoutResetAfter', { default: 2, min: 1, integer: true });
  const circuitEnabled = bool('circuitEnabled', true);
  const circuitThreshold = num('circuitThreshold', { default: 3, min: 1, integer: true });
  const circuitCooldownS = num('circuitCooldownS', { default: Math.max(60, maintenanceWaitS), min: 0 });
  const daysPerJob = num('daysPerJob', { default: 5, min: 1, integer: true });
  const maxConcurrency = num('maxConcurrency', { default: 4, min: 1, integer: true });
  const buildDeadlineS = num('buildDeadlineS', { default: 21_600, min: 1 });
  const missingDaysTolerance = num('missingDaysTolerance', { default: 0, min: 0, integer: true });
  const enforceHealth = bool('enforceHealth', true, [PIPELINE_ENFORCE_HEALTH_KEY]);
  const dailyAggAutoRefresh = bool('dailyAggAutoRefresh', true);
  const healthWalWaitS = num('healthWalWaitS', { default: 30, min: 1 });

  return {
    retryMax,
    retryBaseS,
    retryMaxS,
    maintenanceWaitS,
    maintenanceMaxRetries,
    maintenanceMaxTotalWaitS,
    timeoutResetAfter,
    circuitEnabled,
    circuitThreshold,
    circuitCooldownS,
    daysPerJob,
    maxConcurrency,
    buildDeadlineS,
    missingDaysTolerance,
    enforceHealth,
    dailyAggAutoRefresh,
    healthWalWaitS,
    sources,
    keys: K,
    config_snapshot: snapshot.toJSON(),
    config_hash: snapshot.hash(),
  };
}
