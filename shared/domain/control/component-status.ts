/**
 * `/api/status` components that are summaries of richer views (control-chain §3.2): the supervisors (from their
 * persisted telemetry, `SupervisorsInput`) and the live-update broadcaster (its counters, from this process's hub or
 * as the AWS broadcaster flushed them to TradingState). Pure: the callers measure, these functions word the status.
 */
import type { BroadcastCounters } from './broadcast.ts';
import type { SupervisorsInput } from './slo.ts';
import type { ComponentStatus } from './status.ts';

/** Flushed counters older than this are stale (three missed 5 s flushes). */
export const BROADCASTER_STALE_MS = 15_000;

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/**
 * `ok` while every supervisor that reported holds its lease and nothing is in a crash loop; `warn` for a lost lease or
 * a crash loop (named); `empty` when none ever reported (this deployment runs none yet: it says what to run).
 */
export function supervisorComponent(s: SupervisorsInput, at: string): ComponentStatus {
  if (s.hosts.length === 0) {
    return { state: 'empty', text: s.message ?? 'no supervisor has reported', error: '', updated_at: at, stale: false };
  }
  const lost = s.hosts.filter((h) => !h.lease_ok).map((h) => h.host_id);
  const problems = [
    ...(lost.length > 0 ? [`lease lapsed on ${lost.join(', ')}`] : []),
    ...(s.crash_loop.length > 0 ? [`crash loop: ${s.crash_loop.join(', ')}`] : []),
  ];
  const live = s.hosts.length - lost.length;
  const text = `${plural(live, 'supervisor')} live (${s.hosts.map((h) => h.host_id).join(', ')}), ${plural(s.restarts_total, 'restart')}`;
  if (problems.length === 0) return { state: 'ok', text, error: '', updated_at: at, stale: false };
  return {
    state: 'warn',
    text: `${text}; ${problems.join('; ')}`,
    error: s.crash_loop.length > 0 ? 'crash_loop' : 'supervisor_lease_lapsed',
    updated_at: at,
    stale: false,
  };
}

/**
 * The broadcaster from its counters: `ok` with its connections, `warn` while its last round had a failure (named) or
 * when flushed counters are older than `BROADCASTER_STALE_MS` (`stale`), and `warn` when an AWS deployment has none
 * flushed yet (live updates are then not delivered: it names the command that delivers them).
 */
export function broadcasterComponent(
  counters: (Pick<BroadcastCounters, 'connections' | 'last_broadcast_error'> & { as_of: string }) | null,
  nowMs: number,
  at: string,
): ComponentStatus {
  if (!counters) {
    return {
      state: 'warn',
      text: 'no broadcaster has flushed its counters: live updates need `ghtrader supervisor --broadcaster-endpoint` on the colo host',
      error: 'broadcaster_absent',
      updated_at: at,
      stale: false,
    };
  }
  const ageMs = nowMs - Date.parse(counters.as_of);
  const stale = !(ageMs <= BROADCASTER_STALE_MS);
  const text = `${plural(counters.connections, 'connection')}`;
  if (stale) {
    return {
      state: 'warn',
      text: `${text} as of ${counters.as_of}: no counters for ${Math.round(ageMs / 1000)} s (broadcaster stopped?)`,
      error: 'broadcaster_stale',
      updated_at: counters.as_of,
      stale: true,
    };
  }
  if (counters.last_broadcast_error) {
    return {
      state: 'warn',
      text: `${text}; last round failed: ${counters.last_broadcast_error}`,
      error: 'broadcast_failures',
      updated_at: counters.as_of,
      stale: false,
    };
  }
  return { state: 'ok', text, error: '', updated_at: counters.as_of, stale: false };
}
