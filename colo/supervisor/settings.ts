/** The supervisor's tunables from the effective config (`GHTRADER_SUPERVISOR_*`, control-chain §5.3), read per tick. */
import { resolveConfig } from '#shared/domain/control/config.ts';
import { SUPERVISOR_LEASE_S, type SupervisorSettings } from '#shared/domain/control/supervisor.ts';
import type { ConfigService } from '#shared/services/config-service.ts';

export function supervisorSettingsFrom(
  configService: Pick<ConfigService, 'current'>,
  env: Readonly<Record<string, string | undefined>>,
): () => Promise<SupervisorSettings> {
  return async () => {
    const head = await configService.current();
    const layers = { revision: head.revision, snapshot: head.snapshot, env };
    const num = (key: string) => Number(resolveConfig(key, layers).value);
    return {
      poll_s: num('GHTRADER_SUPERVISOR_POLL_S'),
      stop_grace_s: num('GHTRADER_SUPERVISOR_STOP_GRACE_S'),
      backoff_base_s: num('GHTRADER_SUPERVISOR_BACKOFF_BASE_S'),
      backoff_max_s: num('GHTRADER_SUPERVISOR_BACKOFF_MAX_S'),
      stable_after_s: num('GHTRADER_SUPERVISOR_STABLE_AFTER_S'),
      crash_budget: num('GHTRADER_SUPERVISOR_CRASH_BUDGET'),
      crash_window_s: num('GHTRADER_SUPERVISOR_CRASH_WINDOW_S'),
      heartbeat_stale_s: num('GHTRADER_SUPERVISOR_HEARTBEAT_STALE_S'),
      hung_restart_s: num('GHTRADER_SUPERVISOR_HUNG_RESTART_S'),
      lease_s: SUPERVISOR_LEASE_S,
    };
  };
}
