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

/** The level setter of each logger `createLogger` made (children share their root's). */
const levelSetters = new WeakMap<Logger, (level: string) => void>();

function thresholdOf(level: string): number {
  if (level === 'silent') return Number.POSITIVE_INFINITY;
  const n = pino.levels.values[level];
  if (n === undefined) throw new Error(`unknown log level ${JSON.stringify(level)}`);
  return n;
}

/**
 * Create the process logger. Use `logger.child({request_id})` / `child({job_id, attempt})` for context. Its level can
 * change while it runs (`setLogLevel`, for `GHTRADER_LOG_LEVEL` in a config revision), children included: pino fixes
 * a child's level when the child is made, so the threshold is applied in a `logMethod` hook every child inherits.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const paths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  let threshold = thresholdOf(opts.level ?? 'info');
  const logger = pino(
    {
      // The lowest level `GHTRADER_LOG_LEVEL` can name; the hook below drops what is under the current threshold.
      level: 'debug',
      hooks: {
        logMethod(args, method, level) {
          if (level >= threshold) method.apply(this, args);
        },
      },
      base: { service: opts.service },
      messageKey: 'msg',
      errorKey: 'err',
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths, censor: '[redacted]' },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
  levelSetters.set(logger, (level) => {
    threshold = thresholdOf(level);
  });
  return logger;
}

/**
 * Change the level of a logger `createLogger` made, and of all its children, at once. False for other loggers (the
 * tests' `silentLogger`), whose level is fixed.
 */
export function setLogLevel(root: Logger, level: string): boolean {
  const set = levelSetters.get(root);
  if (!set) return false;
  set(level);
  return true;
}

/** A logger that discards everything, for tests that assert on behaviour rather than log lines. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
