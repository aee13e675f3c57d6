/**
 * Warm-path badge (`#warm-path-badge`, control-chain §7 degraded mode): set from `system.warm_path` messages and from
 * `GET /api/status`, which `live.ts` reads when the socket opens and on every fallback poll. A 401 means the session
 * ended: go to the login page.
 */
import { ApiError, api, toLogin } from './api.ts';

interface StatusLite {
  warm_path_degraded: boolean;
  warm_path_reasons: string[];
}

export function setWarmPathBadge(degraded: boolean, reasons: readonly string[]): void {
  const badge = document.getElementById('warm-path-badge');
  if (!badge) return;
  badge.hidden = !degraded;
  const text = document.getElementById('warm-path-reasons');
  if (text) text.textContent = degraded && reasons.length > 0 ? ` (${reasons.join(', ')})` : '';
}

/** Read `/api/status` and update the badge: whether the warm path is degraded, or null when the read failed. */
export async function refreshStatus(): Promise<boolean | null> {
  try {
    const s = await api<StatusLite>('GET', '/api/status');
    setWarmPathBadge(s.warm_path_degraded, s.warm_path_reasons);
    return s.warm_path_degraded;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) toLogin();
    // Otherwise the badge stays as it was; the next poll retries.
    return null;
  }
}
