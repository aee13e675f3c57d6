import type { AuditInput, AuditLog } from '../domain/control/audit.ts';
import { describeError } from '../errors/base.ts';
import type { Logger } from '../log.ts';

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
      if (i === 2)
        log.error({ action: entry.action, target: entry.target, err: describeError(err) }, 'audit.write_failed');
    }
  }
}
