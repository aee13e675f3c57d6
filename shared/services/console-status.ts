/**
 * `GET /api/trading/console/status?account_profile&var` (control-chain §6.3): one status payload per account profile
 * for the console, from what exists without the trading processes' own state:
 *
 * - desired documents and the supervisors' persisted records (`DesiredService.status`, both components);
 * - the durable risk-kill record (DynamoDB, written by the gateway only);
 * - the host's supervisor telemetry (tick failures) for the host the gateway's desired document names;
 * - this process's warm path (`console:redis_unavailable`).
 *
 * The gateway's and strategy's own state (positions, orders, targets, account, `state_revision`, hot-path state,
 * effective mode, health) comes from the processes the trading chain adds; until a state source is wired those
 * fields are null and `state_source` is `none` — nothing here is invented. `state` is `error` for an active
 * risk kill or a crash loop, `warn` for stale state, a degraded warm path or supervisor tick failures, else `ok`
 * (`text` "healthy" or the `; `-joined reasons). An unknown profile is 200 with `not_initialized` components.
 */
import * as z from 'zod';
import { ProfileSchema } from '../domain/control/desired.ts';
import type { ComponentStatus } from '../domain/control/supervisor.ts';
import { restartsTotal, type SupervisorTelemetryStore } from '../domain/control/supervisor-telemetry.ts';
import { parseOrThrow } from '../domain/control/validation.ts';
import { type Variety, VarietySchema } from '../domain/control/varieties.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import type { WarmPathStatus } from '../infra/redis/warm-path.ts';
import type { CommandService, RiskKillStatus } from './command-service.ts';
import type { ComponentStatusView, DesiredService } from './desired-service.ts';

export const ConsoleStatusQuerySchema = z.object({
  account_profile: ProfileSchema.default('default'),
  var: VarietySchema.optional(),
});

export interface SupervisorComponentSummary {
  state: ComponentStatus;
  restarts: number;
  last_restart_reason: string | null;
  backoff_until: string | null;
}

export interface ConsoleStatus {
  account_profile: string;
  var?: Variety;
  /**
   * `GHTRADER_LIVE_ENABLED` as the gateway reports it (only the gateway's host decides); null until a gateway reports
   * state: this process's own environment says nothing about that host.
   */
  live_enabled: boolean | null;
  state: 'ok' | 'warn' | 'error';
  text: string;
  error: string;
  stale: boolean;
  /** Newest instant the payload rests on (desired, supervisor or risk-kill write); null when nothing exists. */
  updated_at: string | null;
  generated_at: string;
  warm_path_degraded: boolean;
  warm_path_reasons: string[];
  hot_path_state: string | null;
  risk_kill_active: boolean;
  risk_kill_reason: string;
  risk_kill: RiskKillStatus;
  gateway: {
    component_status: ComponentStatus;
    desired_mode: string | null;
    mode: string | null;
    effective_mode: string | null;
    state_revision: number | null;
    state_age_s: number | null;
    stale: boolean;
    health: string | null;
    symbols: string[];
    positions: unknown[] | null;
    orders_alive: number | null;
    targets: Record<string, unknown> | null;
    account: Record<string, unknown> | null;
  };
  strategy: {
    component_status: ComponentStatus;
    hot_path_state: string | null;
    last_targets: Record<string, unknown> | null;
    model_name: string | null;
    stale: boolean;
  };
  supervisor: { gateway: SupervisorComponentSummary; strategy: SupervisorComponentSummary };
  /** Where gateway/strategy state came from: `none` until the trading chain's processes write it. */
  state_source: 'none';
  state_note: string;
}

export interface ConsoleStatusDeps {
  desired: Pick<DesiredService, 'status'>;
  commands: Pick<CommandService, 'riskKillStatus'>;
  telemetry: Pick<SupervisorTelemetryStore, 'listHosts'>;
  warm: () => WarmPathStatus;
  clock: Clock;
}

const STATE_NOTE =
  'positions, orders, targets, account and hot-path state come from the gateway and strategy processes, which ' +
  'arrive with the trading chain; this payload rests on desired state, the supervisors and the risk-kill record';

function supervisorSummary(view: ComponentStatusView): SupervisorComponentSummary {
  const sup = view.supervisor;
  const restarted = sup !== null && (sup.last_action === 'start' || sup.last_action === 'restart');
  return {
    state: view.component_status,
    restarts: restartsTotal(sup),
    last_restart_reason: restarted ? sup.last_reason : null,
    backoff_until: sup?.backoff_until ?? null,
  };
}

function symbolOfVariety(sym: string, v: Variety): boolean {
  return sym.endsWith(`.${v}`) || new RegExp(`^SHFE\\.${v}\\d{4}$`).test(sym);
}

export class ConsoleStatusService {
  constructor(private readonly deps: ConsoleStatusDeps) {}

  async status(query: unknown): Promise<ConsoleStatus> {
    const q = parseOrThrow(ConsoleStatusQuerySchema, query, 'console status query');
    const profile = q.account_profile;
    const [gw, st, rk, hosts] = await Promise.all([
      this.deps.desired.status('gateway', { account_profile: profile }),
      this.deps.desired.status('strategy', { account_profile: profile }),
      this.deps.commands.riskKillStatus(profile),
      this.deps.telemetry.listHosts(),
    ]);
    const warm = this.deps.warm();
    const now = this.deps.clock.nowMs();
    const gwDoc = gw.desired as { mode?: string; symbols?: string[]; host_id?: string } | null;
    const stDoc = st.desired as { model_name?: string } | null;
    const host = gwDoc?.host_id ? hosts.find((h) => h.host_id === gwDoc.host_id) : undefined;

    const reasons: { text: string; level: 'warn' | 'error' }[] = [];
    if (gw.stale || st.stale) reasons.push({ text: 'state stale', level: 'warn' });
    if (warm.degraded) reasons.push({ text: 'warm path degraded', level: 'warn' });
    if (rk.risk_kill_active) reasons.push({ text: 'risk kill active', level: 'error' });
    if (host && host.tick_failures_total > 0 && host.last_tick_error !== '') {
      reasons.push({ text: 'supervisor tick failures', level: 'warn' });
    }
    if (gw.component_status === 'crash_loop' || st.component_status === 'crash_loop') {
      reasons.push({ text: 'crash loop', level: 'error' });
    }
    const state = reasons.some((r) => r.level === 'error') ? 'error' : reasons.length > 0 ? 'warn' : 'ok';
    const stamps = [
      gw.desired_updated_at,
      st.desired_updated_at,
      gw.supervisor?.updated_at,
      st.supervisor?.updated_at,
      rk.killed_at,
      rk.reset_at,
    ].filter((s): s is string => typeof s === 'string');
    const updatedAt = stamps.length > 0 ? stamps.reduce((a, b) => (a > b ? a : b)) : null;
    const symbols = (gwDoc?.symbols ?? []).filter((s) => (q.var ? symbolOfVariety(s, q.var) : true));

    return {
      account_profile: profile,
      ...(q.var ? { var: q.var } : {}),
      live_enabled: null,
      state,
      text: reasons.length === 0 ? 'healthy' : reasons.map((r) => r.text).join('; '),
      error: rk.risk_kill_active ? 'risk_kill_active' : '',
      stale: gw.stale || st.stale,
      updated_at: updatedAt,
      generated_at: isoUtc(now),
      warm_path_degraded: warm.degraded,
      warm_path_reasons: warm.degraded ? [`console:${warm.reason ?? 'redis_unavailable'}`] : [],
      hot_path_state: null,
      risk_kill_active: rk.risk_kill_active,
      risk_kill_reason: rk.risk_kill_active ? rk.reason : '',
      risk_kill: rk,
      gateway: {
        component_status: gw.component_status,
        desired_mode: gwDoc?.mode ?? null,
        mode: null,
        effective_mode: null,
        state_revision: null,
        state_age_s: null,
        stale: gw.stale,
        health: null,
        symbols,
        positions: null,
        orders_alive: null,
        targets: null,
        account: null,
      },
      strategy: {
        component_status: st.component_status,
        hot_path_state: null,
        last_targets: null,
        model_name: stDoc?.model_name ?? null,
        stale: st.stale,
      },
      supervisor: { gateway: supervisorSummary(gw), strategy: supervisorSummary(st) },
      state_source: 'none',
      state_note: STATE_NOTE,
    };
  }
}
