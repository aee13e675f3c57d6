import type { AuditInput, AuditLog } from '../domain/control/audit.ts';
import { describeError } from '../errors/base.ts';
import type { Logger } from '../log.ts';

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
