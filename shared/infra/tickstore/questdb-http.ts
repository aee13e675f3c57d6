/**
 * QuestDB over HTTP (port 9000): SQL through `GET /exec?query=…` (JSON, decoded exactly by `questdb-exec.ts`), ILP
 * through `POST /write?precision=n` (answer 204 on success; the whole request is one transaction when it holds one
 * table — QuestDB docs, ILP overview, "HTTP transaction semantics"), and `GET /settings` for the ILP protocol
 * versions the server accepts.
 *
 * Retries (§1.3): a transport error — connection reset, broken pipe, refused or closed socket — is retried
 * `retryMax` times (`GHTRADER_QDB_ILP_RETRY_MAX`, default 1) after min(2, 0.1·2^attempt) s; every other failure
 * (an HTTP error status, a timeout, a malformed answer) is final. `fetch` keeps no state of its own worth dropping:
 * the broken socket is discarded by its pool, and the retry opens a fresh connection. Re-sending an ILP body is safe
 * because the first attempt either committed as a whole or not at all, and the tick tables deduplicate on UPSERT KEYS.
 */
import { DataChainError } from '../../errors/data.ts';
import { decodeExecResponse, type ExecResponse, type ExecRows, QuestDbQueryError } from './questdb-exec.ts';
import { type Clock, retryBackoffS, systemClock } from './questdb-sql.ts';

/** An HTTP answer QuestDB gave with an error status (the body, usually JSON with `message`, is kept). */
export class QuestDbHttpError extends DataChainError {
  readonly status: number;
  constructor(what: string, status: number, body: string) {
    const msg = serverMessage(body);
    super('questdb_http_error', `QuestDB ${what} failed with HTTP ${status}: ${msg}`, {
      details: { status, body: body.slice(0, 2000) },
    });
    this.status = status;
  }
}

/** The request never got an HTTP answer (after the allowed retries). */
export class QuestDbTransportError extends DataChainError {
  constructor(what: string, attempts: number, cause: unknown) {
    super('questdb_unreachable', `QuestDB ${what} failed after ${attempts} attempt(s): ${describeCause(cause)}`, {
      details: { attempts },
      cause,
    });
  }
}

function serverMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { message?: unknown; error?: unknown };
    if (typeof j.message === 'string') return j.message;
    if (typeof j.error === 'string') return j.error;
  } catch {
    // not JSON: the raw text is the message
  }
  return body.trim().slice(0, 500) || '(empty body)';
}

function describeCause(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    parts.push(`${e.message}${typeof code === 'string' ? ` [${code}]` : ''}`);
    e = e.cause;
  }
  return parts.length > 0 ? parts.join(' <- ') : String(err);
}

const TRANSPORT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * A failure of the connection itself (closed socket, broken pipe, reset, refused), looked for along the `cause`
 * chain as Node's `fetch` wraps it (`TypeError: fetch failed` → `SocketError`/`Error` with a `code`).
 */
export function isTransportError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSPORT_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export interface QuestDbHttpOptions {
  /** `http://host:9000` (no trailing path). */
  readonly baseUrl: string;
  readonly fetch?: typeof fetch;
  readonly retryMax: number;
  readonly clock?: Clock;
  /** `/exec` timeout; default 120 s. */
  readonly execTimeoutMs?: number;
}

export class QuestDbHttp {
  private readonly base: string;
  private readonly doFetch: typeof fetch;
  private readonly clock: Clock;

  constructor(private readonly options: QuestDbHttpOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new DataChainError('questdb_config_invalid', `QuestDB URL ${options.baseUrl} is not http(s)`, {
        details: { url: options.baseUrl },
      });
    }
    this.base = `${url.protocol}//${url.host}`;
    this.doFetch = options.fetch ?? globalThis.fetch;
    this.clock = options.clock ?? systemClock;
  }

  /** Run `attempt` and retry it after a transport error, per §1.3. */
  private async withRetry<T>(what: string, retry: boolean, attempt: () => Promise<T>): Promise<T> {
    const max = retry ? this.options.retryMax : 0;
    for (let i = 0; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        if (!isTransportError(err)) throw err;
        if (i >= max) throw new QuestDbTransportError(what, i + 1, err);
        await this.clock.sleep(retryBackoffS(i) * 1000);
      }
    }
  }

  /**
   * One SQL statement through `/exec`. `retry` allows the transport retry (reads only: a statement that changes
   * data is never sent twice). `quoteLargeNum=true` makes QuestDB quote LONG values; the decoder takes both forms.
   */
  async exec(sql: string, opts: { retry?: boolean } = {}): Promise<ExecResponse> {
    const url = `${this.base}/exec?query=${encodeURIComponent(sql)}&quoteLargeNum=true`;
    const text = await this.withRetry('query', opts.retry ?? false, async () => {
      const res = await this.doFetch(url, {
        method: 'GET',
        signal: AbortSignal.timeout(this.options.execTimeoutMs ?? 120_000),
      });
      return { status: res.status, body: await res.text() };
    });
    if (text.status !== 200) {
      // Errors come back as {"query","error","position"} with 400 (REST API docs); decode for the message.
      try {
        decodeExecResponse(text.body);
      } catch (err) {
        if (err instanceof QuestDbQueryError && err.details.error !== undefined) throw withSql(err, sql, text.status);
      }
      throw new QuestDbHttpError('query', text.status, text.body);
    }
    try {
      return decodeExecResponse(text.body);
    } catch (err) {
      if (err instanceof QuestDbQueryError) throw withSql(err, sql, text.status);
      throw err;
    }
  }

  /** A SELECT: rows expected, transport retry allowed. */
  async query(sql: string): Promise<ExecRows> {
    const res = await this.exec(sql, { retry: true });
    if (res.kind !== 'rows') throw new QuestDbQueryError('expected rows, got a statement answer', { sql });
    return res;
  }

  /**
   * POST one ILP body to `/write?precision=n`. 204 is success; anything else is a write failure with the server's
   * message. Timeout as the official client computes it: 10 s plus the body at 100 KiB/s.
   */
  async write(body: Buffer): Promise<void> {
    const timeoutMs = 10_000 + Math.ceil((body.length / 102_400) * 1000);
    const res = await this.withRetry('ILP write', true, async () => {
      const r = await this.doFetch(`${this.base}/write?precision=n`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: body as unknown as BodyInit,
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: r.status, body: await r.text() };
    });
    if (res.status !== 204) throw new QuestDbHttpError('ILP write', res.status, res.body);
  }

  /** `GET /settings` → its `config` object, or `null` when the server has no such endpoint (404). */
  async settings(): Promise<Record<string, unknown> | null> {
    const res = await this.withRetry('settings', true, async () => {
      const r = await this.doFetch(`${this.base}/settings`, {
        method: 'GET',
        signal: AbortSignal.timeout(this.options.execTimeoutMs ?? 120_000),
      });
      return { status: r.status, body: await r.text() };
    });
    if (res.status === 404) return null;
    if (res.status !== 200) throw new QuestDbHttpError('settings', res.status, res.body);
    const parsed = JSON.parse(res.body) as { config?: unknown };
    return parsed.config !== null && typeof parsed.config === 'object'
      ? (parsed.config as Record<string, unknown>)
      : {};
  }
}

function withSql(err: QuestDbQueryError, sql: string, status: number): QuestDbQueryError {
  return new QuestDbQueryError(`${err.message.replace(/^QuestDB query failed: /, '')} — in: ${sql.slice(0, 500)}`, {
    ...err.details,
    status,
    sql: sql.slice(0, 2000),
  });
}
