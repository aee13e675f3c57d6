/**
 * Structured JSON logs: one line per event `{ts, level, msg, service, request_id?, job_id?, ...}` on stdout (or a
 * destination the composition root chooses). Secrets are redacted by key name wherever they appear.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import { REDACTED_KEYS } from './domain/redacted-keys.ts';

export type { Logger } from 'pino';
export { REDACTED_KEYS };

export interface LoggerOptions {
  service: string;
  level?: string;
  destination?: DestinationStream;
}

/** Create the process logger. Use `logger.child({request_id})` / `child({job_id, attempt})` for context. */
export function createLogger(opts: LoggerOptions): Logger {
  const paths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: opts.service },
      messageKey: 'msg',
      errorKey: 'err',
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths, censor: '[redacted]' },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that discards everything, for tests that assert on behaviour rather than log lines. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
