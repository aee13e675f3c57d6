import { GhtraderError, type GhtraderErrorOptions } from './base.ts';

/** HTTP-facing classification of a control-plane failure. */
export type HttpStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 429 | 500 | 503;

/** Base of every control-chain error (API, jobs, locks, auth, config). */
export class ControlError extends GhtraderError {
  readonly area = 'control';
  readonly status: HttpStatus;
  constructor(code: string, status: HttpStatus, message: string, options?: GhtraderErrorOptions) {
    super(code, message, options);
    this.status = status;
  }
}

export interface ValidationIssue {
  path: (string | number)[];
  code: string;
  message: string;
}

/** Input failed its zod schema; `details.issues` carries the issues as `{path, code, message}`. */
export class ValidationFailedError extends ControlError {
  readonly issues: ValidationIssue[];
  constructor(message: string, issues: ValidationIssue[], options: GhtraderErrorOptions = {}) {
    super('validation_failed', 400, message, { ...options, details: { ...options.details, issues } });
    this.issues = issues;
  }
}

export class UnauthenticatedError extends ControlError {
  constructor(message = 'authentication required: send a session cookie or `Authorization: Bearer ght_...`') {
    super('unauthenticated', 401, message);
  }
}

export class InvalidCredentialsError extends ControlError {
  constructor() {
    super('invalid_credentials', 401, 'invalid username or password');
  }
}

export class ForbiddenError extends ControlError {
  constructor(requiredRole: string, actualRole: string) {
    super('forbidden', 403, `this action needs role ${requiredRole}; you have ${actualRole}`, {
      details: { required_role: requiredRole, role: actualRole },
    });
  }
}

export class CsrfFailedError extends ControlError {
  constructor(reason: string) {
    super('csrf_failed', 403, `cross-site request check failed: ${reason}`, { details: { reason } });
  }
}

/** A request that did not come through the console's CloudFront distribution (no or a wrong origin secret). */
export class OriginNotAllowedError extends ControlError {
  constructor() {
    super(
      'origin_not_allowed',
      403,
      "requests must come through the console's address (its CloudFront distribution), not the API endpoint directly",
    );
  }
}

export class NotFoundError extends ControlError {
  constructor(what: string, id: string) {
    super('not_found', 404, `${what} ${id} not found`, { details: { what, id } });
  }
}

export class RateLimitedError extends ControlError {
  readonly retryAfterS: number;
  constructor(scope: string, retryAfterS: number) {
    super('rate_limited', 429, `too many attempts (${scope}); retry after ${retryAfterS} s`, {
      details: { scope, retry_after_s: retryAfterS },
    });
    this.retryAfterS = retryAfterS;
  }
}

/** A store or queue we depend on did not answer; the caller may retry. */
export class DependencyUnavailableError extends ControlError {
  constructor(dependency: string, options: GhtraderErrorOptions = {}) {
    super('dependency_unavailable', 503, `${dependency} is unavailable; retry shortly`, {
      ...options,
      details: { ...options.details, dependency },
    });
  }
}

export interface LockConflictDetail {
  key: string;
  owner: string;
  expires_at: string;
  fence?: number;
  host?: string;
  pid?: number;
}

/** A lock is held by someone else; `details.conflicts` names each holder. Never resolved by preemption. */
export class LockHeldError extends ControlError {
  readonly conflicts: LockConflictDetail[];
  constructor(conflicts: LockConflictDetail[]) {
    const text = conflicts.map((c) => `${c.key} held by ${c.owner} until ${c.expires_at}`).join('; ');
    super('lock_held', 409, `lock held: ${text}`, { details: { conflicts } });
    this.conflicts = conflicts;
  }
}

/**
 * A stored secret that cannot be read back (not JSON, or not the shape we write). The message names the store and the
 * offending keys, never a value; fix or re-upsert the account.
 */
export class SecretStoreInvalidError extends ControlError {
  constructor(where: string, keys: string[]) {
    super(
      'secret_store_invalid',
      500,
      `stored account secret ${where} is unreadable (${keys.length > 0 ? `bad keys: ${keys.join(', ')}` : 'not a JSON object'}); replace it with \`ghtrader accounts upsert\``,
      { details: { where, keys } },
    );
  }
}

/** Our lease on `key` was taken over or expired; the holder must stop committing work. */
export class LockLostError extends ControlError {
  constructor(key: string, fence: number) {
    super('lock_lost', 409, `lease on ${key} (fence ${fence}) is no longer ours`, { details: { key, fence } });
  }
}

/** Submit of a kind that exists only for internal fan-out. */
export class KindNotSubmittableError extends ControlError {
  constructor(kind: string) {
    super('kind_not_submittable', 400, `job kind ${kind} is internal and cannot be submitted`, { details: { kind } });
  }
}

export class JobNotCancellableError extends ControlError {
  constructor(jobId: string, status: string) {
    super('job_not_cancellable', 409, `job ${jobId} is ${status}; only queued or running jobs can be cancelled`, {
      details: { job_id: jobId, status },
    });
  }
}

/**
 * A config key the store refuses (control-chain §5.2): the message is exactly `config_key_not_writable:<KEY>:<why>`,
 * identical for the CLI (exit 2) and the API (400).
 */
export class ConfigKeyNotWritableError extends ControlError {
  readonly key: string;
  readonly why: 'env_only' | 'unmanaged';
  constructor(key: string, why: 'env_only' | 'unmanaged') {
    super('config_key_not_writable', 400, `config_key_not_writable:${key}:${why}`, { details: { key, why } });
    this.key = key;
    this.why = why;
  }
}

/** A config write with `expected_revision` lost the race: the head moved on. */
export class ConfigRevisionConflictError extends ControlError {
  constructor(expected: number, head: number) {
    super(
      'config_revision_conflict',
      409,
      `config revision conflict: expected head ${expected}, but the head is ${head}; re-read and retry`,
      { details: { expected_revision: expected, head_revision: head } },
    );
  }
}

export class InvalidCursorError extends ControlError {
  constructor(reason: string) {
    super('invalid_cursor', 400, `invalid cursor: ${reason}; restart from the first page`, { details: { reason } });
  }
}

/**
 * A job handler's failure with an explicit retry decision. Retryable failures are redelivered (then DLQ);
 * others fail the job at once. Errors that are not `JobFailedError` are retryable unless they are validation errors.
 */
export class JobFailedError extends ControlError {
  readonly retryable: boolean;
  constructor(code: string, message: string, retryable: boolean, options?: GhtraderErrorOptions) {
    super(code, 500, message, options);
    this.retryable = retryable;
  }
}

/** The path exists but not for this method (e.g. any write to the read-only audit log); `details.allowed` lists them. */
export class MethodNotAllowedError extends ControlError {
  constructor(method: string, path: string, allowed: string[]) {
    super('method_not_allowed', 405, `${method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`, {
      details: { method, allowed },
    });
  }
}

/**
 * An explorer statement the store's own parser and catalog do not accept as exactly one read-only SELECT over catalog
 * tables or views (control-chain §8 "Explorer guard"; never a keyword filter). `details.reason` names the rule.
 */
export class QueryNotAllowedError extends ControlError {
  readonly reason: string;
  constructor(reason: string, message: string, details: Record<string, unknown> = {}) {
    super('query_not_allowed', 400, `query not allowed: ${message}`, { details: { ...details, reason } });
    this.reason = reason;
  }
}

/** An explorer statement still running at `GHTRADER_EXPLORER_STATEMENT_TIMEOUT_MS`: it was cancelled by the store. */
export class QueryTimeoutError extends ControlError {
  constructor(timeoutMs: number) {
    super(
      'query_timeout',
      400,
      `query cancelled after ${timeoutMs} ms (GHTRADER_EXPLORER_STATEMENT_TIMEOUT_MS); narrow it with WHERE or LIMIT`,
      { details: { timeout_ms: timeoutMs } },
    );
  }
}

/** A `live_trade` desired document without `confirm_live: "I_UNDERSTAND"` (control-chain §6.1). */
export class ConfirmLiveRequiredError extends ControlError {
  constructor(profile: string) {
    super(
      'confirm_live_required',
      400,
      `desired mode live_trade for ${profile} needs confirm_live: "I_UNDERSTAND" (anything else is refused)`,
      { details: { account_profile: profile } },
    );
  }
}

/** A start with no desired document to start from (strategy: nothing stored and none sent). */
export class NoDesiredError extends ControlError {
  constructor(component: string, profile: string) {
    super(
      'no_desired',
      400,
      `no desired ${component} document for ${profile}: send one with the start request or POST /api/${component}/desired first`,
      { details: { component, account_profile: profile } },
    );
  }
}

/** A strategy that would run with no symbol. */
export class NoSymbolsError extends ControlError {
  constructor(profile: string) {
    super('no_symbols', 400, `the strategy for ${profile} needs at least one symbol in desired.symbols to run`, {
      details: { account_profile: profile },
    });
  }
}

/** A desired write with `expected_desired_revision` lost the race: the document moved on. */
export class DesiredRevisionConflictError extends ControlError {
  constructor(document: string, expected: number, head: number | null) {
    super(
      'desired_revision_conflict',
      409,
      `desired revision conflict on ${document}: expected ${expected}, but the head is ${head ?? 'none'}; re-read and retry`,
      { details: { document, expected_desired_revision: expected, desired_revision: head } },
    );
  }
}

/** A start that would change nothing: the component already runs (or is being brought up) in that mode. */
export class AlreadyRunningError extends ControlError {
  constructor(component: string, profile: string, mode: string, state: string) {
    super(
      'already_running',
      409,
      `${component} ${profile} is already desired in mode ${mode} (supervisor state ${state}); stop it first or change desired`,
      { details: { component, account_profile: profile, mode, component_status: state } },
    );
  }
}

/** Another supervisor holds `supervisor:host=<h>`; the message is exactly `lease_held:<owner>` (exit 1). */
export class SupervisorLeaseHeldError extends ControlError {
  constructor(key: string, owner: string, expiresAt: string, fence: number) {
    super('lease_held', 409, `lease_held:${owner}`, { details: { key, owner, expires_at: expiresAt, fence } });
  }
}

/** Another supervisor process holds this home's OS lock (`$GHTRADER_HOME/run/supervisor.lock`). */
export class HostLockHeldError extends ControlError {
  constructor(path: string, holder: string) {
    super('host_lock_held', 409, `host_lock_held:${holder} (${path}); one supervisor per host and home`, {
      details: { path, holder },
    });
  }
}
