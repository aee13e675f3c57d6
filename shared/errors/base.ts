/**
 * Root of every error ghtrader raises on purpose. Each area has its own base class (see the sibling files) and
 * named subclasses; `code` is the stable machine-readable identifier that reaches API clients and logs.
 */
export interface GhtraderErrorOptions {
  /** What was expected and what was found, as structured data for logs and API `details`. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export abstract class GhtraderError extends Error {
  abstract readonly area: string;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: GhtraderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** Serialise any thrown value for a log line without losing the cause chain. */
export function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof GhtraderError) {
    return {
      name: err.name,
      code: err.code,
      message: err.message,
      details: err.details,
      ...(err.cause === undefined ? {} : { cause: describeError(err.cause) }),
    };
  }
  if (err instanceof Error) {
    return {
      name: err.name,
      message: err.message,
      stack: err.stack,
      ...(err.cause === undefined ? {} : { cause: describeError(err.cause) }),
    };
  }
  return { value: String(err) };
}
