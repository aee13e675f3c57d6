import { describe, expect, it } from 'vitest';
import { resolveMainL5Settings } from '#shared/domain/data/main-l5/settings.ts';
import { DataSettingError, SettingsSnapshot } from '#shared/domain/data/settings.ts';

describe('resolveMainL5Settings (data-chain §5.5, §5.6, §0)', () => {
  it('applies every spec default with source "default"', () => {
    // Act
    const s = resolveMainL5Settings({ env: {} }, 'cu');

    // Assess
    expect({
      retryMax: s.retryMax,
      retryBaseS: s.retryBaseS,
      retryMaxS: s.retryMaxS,
      maintenanceWaitS: s.maintenanceWaitS,
      maintenanceMaxRetries: s.maintenanceMaxRetries,
      maintenanceMaxTotalWaitS: s.maintenanceMaxTotalWaitS,
      timeoutResetAfter: s.timeoutResetAfter,
      circuitEnabled: s.circuitEnabled,
      circuitThreshold: s.circuitThreshold,
      circuitCooldownS: s.circuitCooldownS,
      daysPerJob: s.daysPerJob,
      maxConcurrency: s.maxConcurrency,
      buildDeadlineS: s.buildDeadlineS,
      missingDaysTolerance: s.missingDaysTolerance,
      enforceHealth: s.enforceHealth,
      dailyAggAutoRefresh: s.dailyAggAutoRefresh,
      healthWalWaitS: s.healthWalWaitS,
    }).toEqual({
      retryMax: 3,
      retryBaseS: 10,
      retryMaxS: 300,
      maintenanceWaitS: 2100,
      maintenanceMaxRetries: 3,
      maintenanceMaxTotalWaitS: 7200,
      timeoutResetAfter: 2,
      circuitEnabled: true,
      circuitThreshold: 3,
      circuitCooldownS: 2100,
      daysPerJob: 5,
      maxConcurrency: 4,
      buildDeadlineS: 21600,
      missingDaysTolerance: 0,
      enforceHealth: true,
      dailyAggAutoRefresh: true,
      healthWalWaitS: 30,
    });
    expect(Object.values(s.sources).every((src) => src === 'default')).toBe(true);
    expect(s.config_snapshot.GHTRADER_TQ_RETRY_MAX).toEqual({ value: 3, source: 'default' });
    expect(s.config_hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('lets the per-variety key win, records the winning source and ignores other varieties', () => {
    // Prepare
    const env = {
      GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE: '2',
      GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE_CU: '4',
      GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE_AU: '9',
    };

    // Act
    const cu = resolveMainL5Settings({ env }, 'cu');
    const ag = resolveMainL5Settings({ env }, 'ag');

    // Assess
    expect(cu.missingDaysTolerance).toBe(4);
    expect(cu.sources.missingDaysTolerance).toBe('env:GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE_CU');
    expect(ag.missingDaysTolerance).toBe(2);
    expect(ag.sources.missingDaysTolerance).toBe('env:GHTRADER_MAIN_L5_MISSING_DAYS_TOLERANCE');
    expect(cu.config_hash).not.toBe(ag.config_hash);
  });

  it('falls back from GHTRADER_MAIN_L5_ENFORCE_HEALTH to GHTRADER_PIPELINE_ENFORCE_HEALTH', () => {
    const pipelineOff = resolveMainL5Settings({ env: { GHTRADER_PIPELINE_ENFORCE_HEALTH: 'false' } }, 'au');
    const ownWins = resolveMainL5Settings(
      { env: { GHTRADER_PIPELINE_ENFORCE_HEALTH: 'false', GHTRADER_MAIN_L5_ENFORCE_HEALTH: '1' } },
      'au',
    );
    expect(pipelineOff.enforceHealth).toBe(false);
    expect(pipelineOff.sources.enforceHealth).toBe('env:GHTRADER_PIPELINE_ENFORCE_HEALTH');
    expect(ownWins.enforceHealth).toBe(true);
    expect(ownWins.sources.enforceHealth).toBe('env:GHTRADER_MAIN_L5_ENFORCE_HEALTH');
  });

  it('prefers the config layer over the environment', () => {
    const s = resolveMainL5Settings(
      { env: { GHTRADER_MAIN_L5_DAYS_PER_JOB: '7' }, config: { GHTRADER_MAIN_L5_DAYS_PER_JOB: '3' } },
      'cu',
    );
    expect(s.daysPerJob).toBe(3);
    expect(s.sources.daysPerJob).toBe('config:GHTRADER_MAIN_L5_DAYS_PER_JOB');
  });

  it('applies the clamps: max_s ≥ base, reset-after/threshold/days/concurrency ≥ 1, WAL wait ≥ 1', () => {
    // Act
    const s = resolveMainL5Settings(
      {
        env: {
          GHTRADER_TQ_RETRY_BASE_S: '50',
          GHTRADER_TQ_RETRY_MAX_S: '20',
          GHTRADER_TQ_TIMEOUT_RESET_AFTER: '0',
          GHTRADER_TQ_MAINTENANCE_CIRCUIT_THRESHOLD: '0',
          GHTRADER_MAIN_L5_DAYS_PER_JOB: '0',
          GHTRADER_MAIN_L5_MAX_CONCURRENCY: '0',
          GHTRADER_HEALTH_WAL_WAIT_S: '0',
        },
      },
      'cu',
    );

    // Assess
    expect(s.retryMaxS).toBe(50);
    expect(s.timeoutResetAfter).toBe(1);
    expect(s.circuitThreshold).toBe(1);
    expect(s.daysPerJob).toBe(1);
    expect(s.maxConcurrency).toBe(1);
    expect(s.healthWalWaitS).toBe(1);
  });

  it('defaults the circuit cooldown to max(60, maintenance wait) and honours an explicit value', () => {
    expect(resolveMainL5Settings({ env: { GHTRADER_TQ_MAINTENANCE_WAIT_S: '10' } }, 'cu').circuitCooldownS).toBe(60);
    expect(resolveMainL5Settings({ env: { GHTRADER_TQ_MAINTENANCE_WAIT_S: '900' } }, 'cu').circuitCooldownS).toBe(900);
    const explicit = resolveMainL5Settings({ env: { GHTRADER_TQ_MAINTENANCE_CIRCUIT_COOLDOWN_S: '5' } }, 'cu');
    expect(explicit.circuitCooldownS).toBe(5);
    expect(explicit.sources.circuitCooldownS).toBe('env:GHTRADER_TQ_MAINTENANCE_CIRCUIT_COOLDOWN_S');
  });

  it('records into a shared snapshot so the report hash covers every value', () => {
    // Prepare
    const snapshot = new SettingsSnapshot();

    // Act
    const s = resolveMainL5Settings({ env: { GHTRADER_TQ_RETRY_MAX: '1' } }, 'ag', snapshot);

    // Assess
    expect(snapshot.toJSON().GHTRADER_TQ_RETRY_MAX).toEqual({ value: 1, source: 'env:GHTRADER_TQ_RETRY_MAX' });
    expect(Object.keys(snapshot.toJSON())).toHaveLength(17);
    expect(s.config_hash).toBe(snapshot.hash());
  });

  it('refuses malformed values naming the key', () => {
    expect(() => resolveMainL5Settings({ env: { GHTRADER_TQ_RETRY_MAX: '1.5' } }, 'cu')).toThrow(DataSettingError);
    expect(() => resolveMainL5Settings({ env: { GHTRADER_TQ_MAINTENANCE_CIRCUIT_ENABLED: 'maybe' } }, 'cu')).toThrow(
      /GHTRADER_TQ_MAINTENANCE_CIRCUIT_ENABLED/,
    );
  });
});
