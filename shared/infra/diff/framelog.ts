/**
 * JSON-lines frame log (market-protocol §1.12): one line per frame
 * `{"ts":"<epoch ns>","sock":"md"|"td","dir":"send"|"recv","raw":"<exact frame text>"}`. `raw` is the frame text
 * byte-exact (NaN tokens and long integers survive because it is a JSON string); a `req_login` password is
 * replaced by `"***"` before the line is written. Files rotate at 256 MiB (`<path>.1` … `<path>.7`, 8 files in all).
 *
 * Writes are synchronous so the log order is the socket order and a crash loses nothing already logged.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

export type SocketKind = 'md' | 'td';
export type Direction = 'send' | 'recv';

export interface FrameLine {
  ts: string;
  sock: SocketKind;
  dir: Direction;
  raw: string;
}

export interface FrameLogOptions {
  /** Rotate when the current file exceeds this many bytes (default 256 MiB). */
  maxBytes?: number;
  /** Total files kept, the current one included (default 8). */
  keep?: number;
}

const START_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Wall-clock epoch ns with monotonic sub-millisecond resolution. */
export function nowNs(): bigint {
  return START_NS + process.hrtime.bigint();
}

const PASSWORD_FIELD = /("password"\s*:\s*)"(?:[^"\\]|\\.)*"/g;

/** The frame text with any `req_login` password replaced by `"***"` (other frames unchanged). */
export function maskFrame(raw: string): string {
  if (!raw.includes('req_login')) return raw;
  return raw.replace(PASSWORD_FIELD, '$1"***"');
}

export class FrameLog {
  private fd: number;
  private bytes: number;
  private readonly maxBytes: number;
  private readonly keep: number;

  constructor(
    readonly path: string,
    options: FrameLogOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.keep = options.keep ?? 8;
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a');
    this.bytes = existsSync(path) ? statSync(path).size : 0;
  }

  /** Append one frame. */
  write(sock: SocketKind, dir: Direction, raw: string): void {
    const line: FrameLine = { ts: nowNs().toString(), sock, dir, raw: maskFrame(raw) };
    const text = `${JSON.stringify(line)}\n`;
    const buf = Buffer.from(text, 'utf8');
    if (this.bytes > 0 && this.bytes + buf.length > this.maxBytes) this.rotate();
    writeSync(this.fd, buf);
    this.bytes += buf.length;
  }

  close(): void {
    closeSync(this.fd);
  }

  private rotate(): void {
    closeSync(this.fd);
    const oldest = `${this.path}.${this.keep - 1}`;
    if (existsSync(oldest)) rmSync(oldest);
    for (let i = this.keep - 2; i >= 1; i--) {
      const from = `${this.path}.${i}`;
      if (existsSync(from)) renameSync(from, `${this.path}.${i + 1}`);
    }
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, 'a');
    this.bytes = 0;
  }
}

/** Read a frame log (one file) back; malformed lines throw with their line number. */
export function readFrameLog(path: string): FrameLine[] {
  return parseFrameLines(readFileSync(path, 'utf8'));
}

/** Parse JSON-lines frame log text. */
export function parseFrameLines(text: string): FrameLine[] {
  const out: FrameLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim();
    if (!line) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new Error(`frame log line ${i + 1} is not JSON: ${(err as Error).message}`);
    }
    const o = v as Partial<FrameLine>;
    if (
      typeof o.ts !== 'string' ||
      (o.sock !== 'md' && o.sock !== 'td') ||
      (o.dir !== 'send' && o.dir !== 'recv') ||
      typeof o.raw !== 'string'
    ) {
      throw new Error(`frame log line ${i + 1} lacks ts/sock/dir/raw`);
    }
    out.push({ ts: o.ts, sock: o.sock, dir: o.dir, raw: o.raw });
  }
  return out;
}
