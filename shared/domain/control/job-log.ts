/**
 * Job logs (control-chain §4.6), the pure rules: one NDJSON line per event `{ts, level, msg, job_id, attempt, ...}`
 * with ANSI escapes stripped and secrets redacted (the key names `shared/log.ts` redacts, at any depth, plus secrets
 * written inline in text), objects named `jobs/<job_id>/attempt-<n>/<seq:06>.ndjson` in the `ArtifactStore`, and the
 * tail: the newest objects up to `max_bytes` (clamped to [1024, 1 MiB]), cut at a line boundary.
 *
 * Pure and without dependencies (only the redacted key list): the browser client formats tails with
 * `formatJobLogText` from this module.
 */
import { REDACTED_KEYS } from '../redacted-keys.ts';

/** Buffered lines are flushed every 2 s, or as soon as 256 KiB are buffered (§4.6). */
export const JOB_LOG_FLUSH_MS = 2_000;
export const JOB_LOG_FLUSH_BYTES = 256 * 1024;
/** Lines kept while flushes fail; past this the oldest unflushed lines are dropped (and the drop is logged). */
export const JOB_LOG_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** One line never exceeds this: larger fields are replaced by a marker and the message is cut. */
export const JOB_LOG_LINE_MAX_BYTES = 16 * 1024;
/** `GET /api/jobs/{id}/log?max_bytes` (§3.1). */
export const JOB_LOG_TAIL = { default: 64_000, min: 1024, max: 1_048_576 } as const;

export const JOB_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type JobLogLevel = (typeof JOB_LOG_LEVELS)[number];

export const REDACTED = '[redacted]';

/** Field names whose values never reach a job log: the process log's, plus the DIFF credentials' `client_secret`. */
export const JOB_LOG_REDACTED_KEYS: readonly string[] = [...REDACTED_KEYS, 'client_secret'];
const REDACTED_KEY_SET = new Set(JOB_LOG_REDACTED_KEYS.map((k) => k.toLowerCase()));

/** Keys every line carries first; fields of the same name are dropped. */
const RESERVED = new Set(['ts', 'level', 'msg', 'job_id', 'attempt']);
const MAX_DEPTH = 8;

// ECMA-48 CSI / OSC / two-character escape sequences (the `ansi-regex` grammar), then stray C0/C1 controls.
const ANSI_RE = new RegExp(
  [
    '[\\u001B\\u009B][[\\]()#;?]*(?:(?:(?:;[-a-zA-Z\\d\\/#&.:=?%@~_]+)*|[a-zA-Z\\d]+(?:;[-a-zA-Z\\d\\/#&.:=?%@~_]*)*)?\\u0007)',
    '(?:[\\u001B\\u009B][[\\]()#;?]*(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PR-TZcf-ntqry=><~])',
  ].join('|'),
  'g',
);
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this regex's purpose
const CONTROL_RE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/** Remove ANSI colour/cursor sequences and control characters other than tab and newline. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_RE, '').replace(CONTROL_RE, '');
}

const INLINE_SECRETS: [RegExp, string][] = [
  // API tokens (`ght_<id>_<secret>`) wherever they appear.
  [/\bght_[a-z2-7]{10}_[A-Za-z0-9_-]{43}\b/g, `ght_${REDACTED}`],
  // `Authorization: Bearer <credential>` and the like.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // `user:password@host` in URLs.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi, `$1:${REDACTED}@`],
  // `password=…`, `"token": "…"`, `GHTRADER_DIFF_PASSWORD=…`, `session: …`.
  [
    /\b([A-Za-z0-9_]*?(?:password|passwd|secret|token|authorization|cookie|session))(["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&"'}]+)/gi,
    `$1$2${REDACTED}`,
  ],
];

/** Redact secrets written inline in free text (messages, error strings). */
export function redactText(text: string): string {
  let out = text;
  for (const [re, replacement] of INLINE_SECRETS) out = out.replace(re, replacement);
  return out;
}

/** ANSI-stripped, secret-redacted, JSON-safe copy of a field value (Errors as `{type, message, stack}`). */
export function sanitizeLogValue(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactText(stripAnsi(value));
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value === null || typeof value === 'boolean') return value;
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (depth >= MAX_DEPTH) return '[depth]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  try {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    if (value instanceof Error) {
      return sanitizeLogValue(
        { type: value.name, message: value.message, ...(value.stack ? { stack: value.stack } : {}) },
        depth,
        seen,
      );
    }
    if (Array.isArray(value)) return value.map((v) => sanitizeLogValue(v, depth + 1, seen) ?? null);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (REDACTED_KEY_SET.has(k.toLowerCase())) {
        out[k] = REDACTED;
        continue;
      }
      const s = sanitizeLogValue(v, depth + 1, seen);
      if (s !== undefined) out[k] = s;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

export interface JobLogEntry {
  /** UTC ISO timestamp (…Z); anything else is normalised, an unparseable value replaced by `fallbackTs`. */
  ts: string;
  level: JobLogLevel;
  msg: string;
  fields?: Record<string, unknown>;
}

const encoder = new TextEncoder();

export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

function utcTs(ts: string, fallbackTs: string): string {
  const ms = Date.parse(ts);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : fallbackTs;
}

/** Cut `text` to at most `maxBytes` UTF-8 bytes without splitting a character. */
function cutUtf8(text: string, maxBytes: number): string {
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/** One NDJSON line (with its `\n`) of job `jobId`, attempt `attempt`; at most `JOB_LOG_LINE_MAX_BYTES`. */
export function formatJobLogLine(jobId: string, attempt: number, entry: JobLogEntry, fallbackTs: string): string {
  const head = {
    ts: utcTs(entry.ts, fallbackTs),
    level: entry.level,
    msg: redactText(stripAnsi(entry.msg)),
    job_id: jobId,
    attempt,
  };
  const fields = sanitizeLogValue(
    Object.fromEntries(Object.entries(entry.fields ?? {}).filter(([k]) => !RESERVED.has(k))),
  ) as Record<string, unknown>;
  let line = JSON.stringify({ ...head, ...fields });
  if (utf8Bytes(line) + 1 <= JOB_LOG_LINE_MAX_BYTES) return `${line}\n`;
  // Too large: keep the message (cut to fit) and say that fields were left out.
  const fieldBytes = utf8Bytes(JSON.stringify(fields));
  const bare = JSON.stringify({ ...head, msg: '', fields_omitted_bytes: fieldBytes });
  const room = JOB_LOG_LINE_MAX_BYTES - 1 - utf8Bytes(bare) - 64;
  let msg = cutUtf8(head.msg, room);
  // JSON escaping can grow the message: shrink until the line fits.
  for (;;) {
    line = JSON.stringify({ ...head, msg, fields_omitted_bytes: fieldBytes, msg_truncated: msg !== head.msg });
    if (utf8Bytes(line) + 1 <= JOB_LOG_LINE_MAX_BYTES || msg === '') return `${line}\n`;
    msg = cutUtf8(msg, Math.floor(utf8Bytes(msg) * 0.75));
  }
}

// --- object naming -------------------------------------------------------------------------------------------------

const SEQ_DIGITS = 6;
const MAX_SEQ = 10 ** SEQ_DIGITS - 1;
const KEY_RE = /^jobs\/([^/]+)\/attempt-([1-9]\d*)\/(\d{6})\.ndjson$/;

/** Every object of one job's log. */
export function jobLogPrefix(jobId: string): string {
  return `jobs/${jobId}/`;
}

/** The objects of one attempt. */
export function jobLogAttemptPrefix(jobId: string, attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`job log attempt must be ≥ 1, got ${attempt}`);
  return `jobs/${jobId}/attempt-${attempt}/`;
}

/** `jobs/<job_id>/attempt-<n>/<seq:06>.ndjson`. */
export function jobLogKey(jobId: string, attempt: number, seq: number): string {
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ)
    throw new RangeError(`job log sequence must be an integer in [0, ${MAX_SEQ}], got ${seq}`);
  return `${jobLogAttemptPrefix(jobId, attempt)}${String(seq).padStart(SEQ_DIGITS, '0')}.ndjson`;
}

export interface JobLogObject {
  key: string;
  jobId: string;
  attempt: number;
  seq: number;
}

/** The parts of a job log key, or null for any other key. */
export function parseJobLogKey(key: string): JobLogObject | null {
  const m = KEY_RE.exec(key);
  if (!m) return null;
  return { key, jobId: m[1] ?? '', attempt: Number(m[2]), seq: Number(m[3]) };
}

/** The job log objects among `keys` (others ignored), in reading order: attempt, then sequence (numerically). */
export function sortJobLogObjects(keys: readonly string[], jobId?: string): JobLogObject[] {
  return keys
    .map(parseJobLogKey)
    .filter((o): o is JobLogObject => o !== null && (jobId === undefined || o.jobId === jobId))
    .sort((a, b) => a.attempt - b.attempt || a.seq - b.seq);
}

/** The sequence number of an attempt's next object: one past the highest already stored (0 when none). */
export function nextJobLogSeq(existingKeys: readonly string[]): number {
  let next = 0;
  for (const o of sortJobLogObjects(existingKeys)) next = Math.max(next, o.seq + 1);
  if (next > MAX_SEQ) throw new RangeError(`job log attempt already holds ${MAX_SEQ + 1} objects`);
  return next;
}

// --- tail ----------------------------------------------------------------------------------------------------------

/** `max_bytes` clamped into [1024, 1 MiB] (`max_bytes=1` reads 1024). */
export function clampLogMaxBytes(n: number): number {
  if (!Number.isFinite(n)) return JOB_LOG_TAIL.default;
  return Math.min(JOB_LOG_TAIL.max, Math.max(JOB_LOG_TAIL.min, Math.trunc(n)));
}

export interface TailText {
  text: string;
  bytes: number;
  truncated: boolean;
}

/**
 * The tail of `chunks` (the newest objects' bodies, oldest first): at most `maxBytes` bytes, starting at a line
 * boundary (unless one line alone is longer, then its last bytes on a character boundary). `truncated` when anything
 * older was left out, including objects not read (`olderUnread`).
 */
export function tailOf(chunks: readonly Uint8Array[], maxBytes: number, olderUnread: boolean): TailText {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  if (total <= maxBytes) {
    return { text: new TextDecoder().decode(all), bytes: total, truncated: olderUnread };
  }
  const cutAt = total - maxBytes;
  let start = cutAt;
  if (all[cutAt - 1] !== 0x0a) {
    const nl = all.indexOf(0x0a, cutAt);
    if (nl >= 0 && nl < total - 1) start = nl + 1;
    else while (start < total && ((all[start] ?? 0) & 0xc0) === 0x80) start++;
  }
  const kept = all.subarray(start);
  return { text: new TextDecoder().decode(kept), bytes: kept.length, truncated: true };
}

// --- display -------------------------------------------------------------------------------------------------------

function fieldText(v: unknown): string {
  return typeof v === 'string' ? (/[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v) : JSON.stringify(v);
}

/**
 * NDJSON log text as lines for people: `2026-01-02T03:04:05.678Z INFO  message key=value …` (job id and attempt,
 * shown by the page, left out). Lines that are not JSON objects are shown as they are.
 */
export function formatJobLogText(ndjson: string): string {
  const out: string[] = [];
  for (const raw of ndjson.split('\n')) {
    if (raw.trim() === '') continue;
    let o: unknown;
    try {
      o = JSON.parse(raw);
    } catch {
      out.push(raw);
      continue;
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) {
      out.push(raw);
      continue;
    }
    const { ts, level, msg, job_id: _j, attempt: _a, ...rest } = o as Record<string, unknown>;
    const extra = Object.entries(rest).map(([k, v]) => `${k}=${fieldText(v)}`);
    out.push(
      [
        String(ts ?? ''),
        String(level ?? '')
          .toUpperCase()
          .padEnd(5),
        String(msg ?? ''),
        ...extra,
      ]
        .join(' ')
        .trimEnd(),
    );
  }
  return out.join('\n');
}
