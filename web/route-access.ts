/**
 * Who may call a route, attached to the route's guard so the route table can be read back: the API reference
 * `web/ROUTES.md` is generated from it (control-chain pitfall 15: docs come from the route table), and a test fails
 * when an `/api` route has no declared guard.
 */
import type { Hono, MiddlewareHandler } from 'hono';
import type { Role } from '#shared/domain/control/roles.ts';
import type { WebEnv } from './env.ts';

export interface RouteAccess {
  /** The minimum role; `same-origin`: no identity yet, the console's origin only (login); `public`: anyone. */
  role: Role | 'same-origin' | 'public';
  /**
   * The audit action of a state-changing route (a denial is audited under it). A route whose action depends on the
   * request (a command's type) gives every action it may record, `|`-separated.
   */
  action?: string;
}

const ACCESS = Symbol('ghtrader.route-access');

/** `handler`, marked with its access rule (the handler itself is unchanged). */
export function withAccess(access: RouteAccess, handler: MiddlewareHandler<WebEnv>): MiddlewareHandler<WebEnv> {
  return Object.assign(handler, { [ACCESS]: access });
}

export function accessOf(handler: unknown): RouteAccess | undefined {
  return typeof handler === 'function' ? (handler as { [ACCESS]?: RouteAccess })[ACCESS] : undefined;
}

export interface RouteRow {
  method: string;
  path: string;
  /** Null: no guard declares who may call it. */
  access: RouteAccess | null;
}

/** The app's routes (no middleware-only entries), in registration order, each with the access its guard declares. */
export function routeTable(app: Hono<WebEnv>): RouteRow[] {
  const rows = new Map<string, RouteRow>();
  for (const r of app.routes) {
    if (r.method === 'ALL' || r.path.includes('*')) continue;
    const key = `${r.method} ${r.path}`;
    const row = rows.get(key) ?? { method: r.method, path: r.path, access: null };
    row.access ??= accessOf(r.handler) ?? null;
    rows.set(key, row);
  }
  return [...rows.values()];
}

/** The Markdown table of `rows`: method, path (`:param` as `{param}`), who may call it, the audit action. */
export function renderRouteTable(rows: readonly RouteRow[]): string {
  const lines = ['| Method | Path | Minimum role | Audited as |', '|---|---|---|---|'];
  for (const r of rows) {
    const path = r.path.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, '{$1}');
    const role = r.access?.role ?? '(none declared)';
    const actions = (r.access?.action?.split('|') ?? []).map((a) => `\`${a}\``).join(', ');
    lines.push(`| ${r.method} | \`${path}\` | ${role} | ${actions} |`);
  }
  return `${lines.join('\n')}\n`;
}
