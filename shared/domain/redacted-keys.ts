/**
 * Field names whose values never reach a log line: the process log (`shared/log.ts`, pino redaction) and the job
 * log (`shared/domain/control/job-log.ts`, which adds the DIFF credentials' `client_secret`). Pure and import-free, so
 * the browser client can use it too.
 */
export const REDACTED_KEYS: readonly string[] = [
  'password',
  'password_hash',
  'token',
  'secret',
  'authorization',
  'cookie',
  'csrf_token',
  'access_token',
  'session',
];
