import type { Context, MiddlewareHandler } from 'hono';
import { type Role, roleAtLeast } from '#shared/domain/control/roles.ts';
import { ForbiddenError, UnauthenticatedError } from '#shared/errors/control.ts';
import { appendAudit } from '#shared/services/audit-append.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { authMeta } from '../request-info.ts';
import { withAccess } from '../route-access.ts';

/**
 * The audit action of a route whose action depends on the request: `of` reads it (only for a denial, which answers
 * 403 right after), `actions` lists every value `of` may return (the route table shows them).
 */
export interface AuditActionOf {
  actions: readonly string[];
  of(c: Context<WebEnv>): Promise<string>;
}

/**
 * A route's minimum role: no principal -> 401 `unauthenticated`; too low -> 403 `forbidden` with
 * `details.required_role`. For state-changing routes pass the audit `action`: the denial is then audited with
 * `outcome: denied` (3 tries; a final failure is logged and the answer stays 403).
 */
export function requireRole(
  deps: Pick<AppDeps, 'audit' | 'config'>,
  need: Role,
  action?: string | AuditActionOf,
): MiddlewareHandler<WebEnv> {
  const declared = typeof action === 'object' ? action.actions.join('|') : action;
  return withAccess({ role: need, ...(declared ? { action: declared } : {}) }, async (c, next) => {
    const p = c.get('principal');
    if (!p) throw new UnauthenticatedError();
    if (!roleAtLeast(p.role, need)) {
      if (action) {
        const meta = authMeta(c, deps.config.auth.trustedProxyHops);
        await appendAudit(deps.audit, c.get('log'), {
          actor: { type: p.via === 'token' ? 'token' : 'user', id: p.tokenId ?? p.userId, name: p.username },
          role: p.role,
          ip: meta.ip,
          user_agent: meta.userAgent,
          request_id: meta.requestId,
          action: typeof action === 'object' ? await action.of(c) : action,
          target: `${c.req.method} ${c.req.path}`,
          outcome: 'denied',
          reason: `requires ${need}`,
          before: null,
          after: null,
        });
      }
      throw new ForbiddenError(need, p.role);
    }
    await next();
  });
}
