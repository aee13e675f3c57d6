import type { AuditInput, AuditLog } from '../domain/control/audit.ts';
import { describeError } from '../errors/base.ts';
import type { Logger } from '../log.ts';
import type { AuthMeta } from './auth-service.ts';

let writeFailures = 0;

/** Audit entries this process gave up on since start (`audit_write_failures_total`, control-chain §10). */
export function auditWriteFailuresTotal(): number {
  return writeFailures;
}

/**
 * Append one audit entry after the committed action (control-chain §9): 3 tries; a final failure logs
 * `audit.write_failed` and never undoes the action (so this never throws).
 */
export async function appendAudit(audit: AuditLog, log: Logger, entry: AuditInput): Promise<void> {
  for (let i = 0; i < 3; i++) {
    try {
      await audit.append(entry);
      return;
    } catch (err) {
      if (i === 2) {
        writeFailures++;
        log.error({ action: entry.action, target: entry.target, err: describeError(err) }, 'audit.write_failed');
      }
    }
  }
}

/** Who did it, as every audit entry records it: the caller's actor and role, and the request's ip, agent and id. */
export function auditWho(caller: {
  actor: AuditInput['actor'];
  role: AuditInput['role'];
  meta: AuthMeta;
}): Pick<AuditInput, 'actor' | 'role' | 'ip' | 'user_agent' | 'request_id'> {
  return {
    actor: caller.actor,
    role: caller.role,
    ip: caller.meta.ip,
    user_agent: caller.meta.userAgent,
    request_id: caller.meta.requestId,
  };
}
