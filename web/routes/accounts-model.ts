/**
 * The System page's Broker accounts panel model (`pages/accounts-panel.tsx`), read through the hot cache
 * (`hotAccounts` in `hot-reads.ts`).
 */
import { describeError } from '#shared/errors/base.ts';
import { ControlError } from '#shared/errors/control.ts';
import type { Logger } from '#shared/log.ts';
import type { AccountListResult, AccountService, BrokerListResult } from '#shared/services/account-service.ts';

/** What the System page's Broker accounts panel renders. */
export type AccountsPanelModel =
  | ({ available: true; brokers: BrokerListResult['items'] } & AccountListResult)
  | { available: false; message: string };

/**
 * The panel's model, or why there is none: the rest of the System page renders either way, so a store that does not
 * answer (a `ControlError`, e.g. 503 from Secrets Manager) becomes the panel's message and a log line. Anything else is
 * a bug and fails the page.
 */
export async function loadAccountsPanel(
  accounts: AccountService | undefined,
  log: Logger,
): Promise<AccountsPanelModel | null> {
  if (!accounts) return null;
  try {
    const [list, brokers] = await Promise.all([accounts.list(), accounts.brokers()]);
    return { available: true, ...list, brokers: brokers.items };
  } catch (err) {
    if (!(err instanceof ControlError)) throw err;
    log.warn({ err: describeError(err) }, 'accounts.panel_unavailable');
    return { available: false, message: `Broker accounts are unavailable: ${err.message}` };
  }
}
