/**
 * The status payload contract (control-chain §1): every status-like payload has `state`, `text` (one line),
 * `error` (code or ""), `updated_at` and `stale`.
 */
export type StatusState = 'ok' | 'warn' | 'error' | 'empty' | 'unknown';

export interface ComponentStatus {
  state: StatusState;
  text: string;
  error: string;
  updated_at: string;
  stale: boolean;
}

export type ComponentName = 'dynamo' | 'sqs' | 'redis' | 'runner' | 'tickstore' | 'supervisor' | 'broadcaster';

export interface StatusSnapshot {
  state: StatusState;
  text: string;
  error: string;
  updated_at: string;
  stale: boolean;
  components: Record<ComponentName, ComponentStatus>;
  warm_path_degraded: boolean;
  /** e.g. `console:redis_unavailable`, `console:redis_ping_failed`. */
  warm_path_reasons: string[];
  running_count: number | null;
  queued_count: number | null;
  /** The config revision this process applies; null when it has none loaded. */
  config_revision: number | null;
}

/** Port used by the web app and the CLI to read system status; probes never block a request for long. */
export interface StatusSource {
  snapshot(): Promise<StatusSnapshot>;
}

/** Worst of several states, for the overall state. */
export function worstState(states: StatusState[]): StatusState {
  const order: StatusState[] = ['ok', 'empty', 'unknown', 'warn', 'error'];
  return states.reduce<StatusState>((acc, s) => (order.indexOf(s) > order.indexOf(acc) ? s : acc), 'ok');
}
