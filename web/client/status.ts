/**
 * Warm-path badge: poll `GET /api/status` every 2 s while the tab is visible, every 30 s in the background
 * (control-chain §7 degraded mode). A 401 means the session ended: go to the login page.
 */
import { ApiError, api } from './api.ts';

const ACTIVE_MS = 2000;
const BACKGROUND_MS = 30_000;

interface StatusLite {
  warm_path_degraded: boolean;
  warm_path_reasons: string[];
}

export function startStatusPolling(): void {
  const badge = document.getElementById('warm-path-badge');
  if (!badge) return;
  const reasons = document.getElementById('warm-path-reasons');
  const tick = async () => {
    try {
      const s = await api<StatusLite>('GET', '/api/status');
      badge.hidden = !s.warm_path_degraded;
      if (reasons) reasons.textContent = s.warm_path_degraded ? ` (${s.warm_path_reasons.join(', ')})` : '';
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
        return;
      }
      // A failed poll leaves the badge as it was; the next tick retries.
    }
    setTimeout(tick, document.visibilityState === 'visible' ? ACTIVE_MS : BACKGROUND_MS);
  };
  setTimeout(tick, ACTIVE_MS);
}
