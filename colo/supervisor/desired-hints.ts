/**
 * Early wake-ups from the warm path (control-chain §6.2): a PSUBSCRIBE on `<prefix>{gateway,strategy}:desired-updated:*`
 * makes the supervisor reconcile at once after a desired write instead of at its next poll. Only a hint: desired is
 * always read from DynamoDB, and without Redis the poll alone keeps the supervisor correct (outages are logged).
 */
import { Redis } from 'ioredis';
import { describeError } from '#shared/errors/base.ts';
import type { Logger } from '#shared/log.ts';

export interface DesiredHints {
  close(): Promise<void>;
}

export function subscribeDesiredHints(opts: {
  url: string;
  prefix: string;
  log: Logger;
  onHint: (channel: string) => void;
}): DesiredHints {
  const sub = new Redis(opts.url, { lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: true });
  let lastError = '';
  sub.on('error', (err) => {
    const text = err instanceof Error ? err.message : String(err);
    // ioredis retries on its own; log each distinct failure once instead of once per reconnect attempt.
    if (text !== lastError) opts.log.warn({ err: describeError(err) }, 'supervisor.hints_unavailable');
    lastError = text;
  });
  sub.on('ready', () => {
    lastError = '';
  });
  sub.on('pmessage', (_pattern: string, channel: string) => opts.onHint(channel));
  sub.connect().catch((err: unknown) => opts.log.warn({ err: describeError(err) }, 'supervisor.hints_connect_failed'));
  void sub
    .psubscribe(`${opts.prefix}gateway:desired-updated:*`, `${opts.prefix}strategy:desired-updated:*`)
    .catch((err: unknown) => opts.log.warn({ err: describeError(err) }, 'supervisor.hints_subscribe_failed'));
  return {
    async close() {
      try {
        await sub.quit();
      } catch (err) {
        opts.log.debug({ err: describeError(err) }, 'supervisor.hints_quit_failed');
        sub.disconnect();
      }
    },
  };
}
