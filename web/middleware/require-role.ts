import type { MiddlewareHandler } from 'hono';
import { type Role, roleAtLeast } from '#shared/domain/control/roles.ts';
import { ForbiddenError, UnauthenticatedError } from '#shared/errors/control.ts';
import { appendAudit } from '#shared/services/audit-append.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { authMeta } from '../request-info.ts';
import { withAccess } from '../route-access.ts';

/**
 * A route's minimum role: no principal -> 401 `unauthenticated`; too low -> 403 `forbidden` with
 * `details.required_role`. For state-changing routes pass the audit `action`: the denial is then audited with
 * `outcome: denied` (3 tries; a final failure is logged and the answer stays 403).
 */
export function requireRole(
  deps: Pick<AppDeps, 'audit' | 'config'>,
  need: Role,
  action?: string,
): MiddlewareHandler<WebEnv> {
  return withAccess({ role: need, ...(action ? { action } : {}) }, async (c, next) => {
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
          action,
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
