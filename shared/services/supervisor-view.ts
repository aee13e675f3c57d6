/**
 * The supervisors as the observability API and the SLO snapshot see them (control-chain §10), built from the
 * telemetry the supervisors persist in TradingState (never from a process's memory, so every web instance answers
 * alike). A host's lease is ok while the expiry it last wrote is in the future; `silent_ticks` counts poll intervals
 * since its last tick.
 */
import type { SupervisorsInput } from '../domain/control/slo.ts';
import {
  type ComponentTelemetry,
  restartsTotal,
  type SupervisorTelemetryStore,
} from '../domain/control/supervisor-telemetry.ts';

export interface SupervisorsOverview {
  input: SupervisorsInput;
  components: ComponentTelemetry[];
}

const NO_HOST =
  'no supervisor has reported yet: run `ghtrader supervisor` (also started by `ghtrader up`) on the trading host';

/** Hosts, restart totals and crash loops from the persisted telemetry. */
export async function supervisorsOverview(
  telemetry: Pick<SupervisorTelemetryStore, 'listHosts' | 'listComponents'>,
  nowMs: number,
): Promise<SupervisorsOverview> {
  const [hosts, components] = await Promise.all([telemetry.listHosts(), telemetry.listComponents()]);
  const restarts = components.reduce((sum, c) => sum + restartsTotal(c), 0);
  return {
    input: {
      hosts: hosts
        .map((h) => {
          const last = h.last_tick_at === null ? null : Date.parse(h.last_tick_at);
          return {
            host_id: h.host_id,
            lease_ok: Date.parse(h.lease_expires_at) > nowMs,
            last_tick_at: h.last_tick_at,
            tick_failures_total: h.tick_failures_total,
            silent_ticks: last === null ? 0 : Math.max(0, Math.floor((nowMs - last) / (h.poll_s * 1000))),
            idle: h.active.length === 0,
          };
        })
        .sort((a, b) => (a.host_id < b.host_id ? -1 : 1)),
      restarts_total: restarts,
      crash_loop: components
        .filter((c) => c.state === 'crash_loop')
        .map((c) => `${c.component}:${c.account_profile}`)
        .sort(),
      ...(hosts.length === 0 ? { message: NO_HOST } : {}),
    },
    components,
  };
}
