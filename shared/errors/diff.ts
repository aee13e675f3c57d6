/**
 * Errors of the DIFF client (`shared/infra/diff/`), area `market`. Every subclass carries a stable machine `code`;
 * consumers branch on the class or the code, never on the message text.
 */
import { GhtraderError, type GhtraderErrorOptions } from './base.ts';

/** Base of every DIFF protocol error. */
export class DiffError extends GhtraderError {
  readonly area = 'market';
}

/** Credentials or token refused (HTTP 401/403 on the OIDC endpoint or the WebSocket upgrade). Never retried. */
export class AuthError extends DiffError {
  readonly status: number | undefined;
  constructor(message: string, status?: number, options: GhtraderErrorOptions = {}) {
    super('diff_auth_failed', message, { ...options, details: { ...options.details, status } });
    this.status = status;
  }
}

/** The token's `grants.features` lacks a feature the call needs (`futr`, `tq_dl`). Raised before any request. */
export class MissingFeatureError extends DiffError {
  readonly feature: string;
  constructor(feature: string, have: readonly string[]) {
    super(
      'diff_missing_feature',
      `this call needs the Shinny feature ${JSON.stringify(feature)}; the token grants [${have.join(', ')}]`,
      { details: { feature, have: [...have] } },
    );
    this.feature = feature;
  }
}

/** A command needs a connected (and, for td, logged-in) socket and there is none. Commands are never queued. */
export class NotConnectedError extends DiffError {
  constructor(socket: 'md' | 'td', what: string) {
    super('diff_not_connected', `${what}: the ${socket} socket is not connected; nothing was sent`, {
      details: { socket, what },
    });
  }
}

/** The server processed the subscription list and has no quote for the symbol. */
export class UnknownSymbolError extends DiffError {
  readonly symbol: string;
  constructor(symbol: string) {
    super('diff_unknown_symbol', `symbol ${symbol} does not exist on the server (ins_list echoed, no quote node)`, {
      details: { symbol },
    });
    this.symbol = symbol;
  }
}

/** A completion signal (§1.8) did not arrive before its deadline. */
export class DiffTimeoutError extends DiffError {
  constructor(what: string, timeoutMs: number, details: Record<string, unknown> = {}) {
    super('diff_timeout', `${what}: no answer within ${timeoutMs} ms`, {
      details: { ...details, what, timeout_ms: timeoutMs },
    });
  }
}

/** The server is in its maintenance window (19:00–19:30 CST or on demand) on a first-ever connect. */
export class MaintenanceError extends DiffError {
  constructor(message: string, options: GhtraderErrorOptions = {}) {
    super('diff_maintenance', message, options);
  }
}

/** Received data breaks an invariant we rely on (non-contiguous ids, wrong trading day, a roll going back). */
export class DataIntegrityError extends DiffError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('diff_data_integrity', message, { details });
  }
}

/** A field arrived with a type the field-type table does not allow, or an integer lost precision. */
export class SchemaDriftError extends DiffError {
  readonly path: string;
  constructor(path: string, expected: string, found: unknown) {
    super('diff_schema_drift', `schema drift at ${path}: expected ${expected}, found ${describeFound(found)}`, {
      details: { path, expected, found: describeFound(found) },
    });
    this.path = path;
  }
}

/** A frame is not valid JSON (beyond the tolerated NaN/Infinity tokens) or not a DIFF frame shape. */
export class ProtocolError extends DiffError {
  constructor(message: string, details: Record<string, unknown> = {}, options: GhtraderErrorOptions = {}) {
    super('diff_protocol', message, { ...options, details: { ...details, ...options.details } });
  }
}

/** The server refused a login (notify code 400/338/402/403) or login timed out. */
export class LoginError extends DiffError {
  readonly notifyCode: number | undefined;
  constructor(message: string, notifyCode?: number) {
    super('diff_login_failed', message, { details: { notify_code: notifyCode } });
    this.notifyCode = notifyCode;
  }
}

/** An order request refused locally before anything was sent (§1.10). */
export class OrderRefusedError extends DiffError {
  readonly reason: string;
  constructor(reason: string, message: string, details: Record<string, unknown> = {}) {
    super('diff_order_refused', message, { details: { ...details, reason } });
    this.reason = reason;
  }
}

/** Configuration or discovery answer unusable (bad URL scheme, broker without `TQ`, missing credentials). */
export class DiffConfigError extends DiffError {
  constructor(message: string, details: Record<string, unknown> = {}, options: GhtraderErrorOptions = {}) {
    super('diff_config', message, { ...options, details: { ...details, ...options.details } });
  }
}

/** An HTTP call to the auth, name or files service failed after its retries. */
export class DiffHttpError extends DiffError {
  readonly status: number | undefined;
  constructor(message: string, status?: number, options: GhtraderErrorOptions = {}) {
    super('diff_http', message, { ...options, details: { ...options.details, status } });
    this.status = status;
  }
}

/** The client was closed while the call was waiting. */
export class ClosedError extends DiffError {
  constructor(what: string) {
    super('diff_closed', `${what}: the client was closed`, { details: { what } });
  }
}

function describeFound(v: unknown): string {
  if (typeof v === 'bigint') return `bigint ${v}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v)}`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return `${typeof v} ${String(v)}`;
}
