/**
 * Exact decoding of QuestDB's `/exec` JSON (REST API: `{"query", "columns":[{name,type}], "timestamp", "dataset":
 * [[…]], "count"}`; errors as `{"query","error","position"}`, or `"error"`/`"errorPos"` after `"count"` when a query
 * fails while rows stream; DDL/DML as `{"ddl":"OK"[, "updated":N]}`/`{"dml":"OK"}`).
 *
 * `JSON.parse` is not used: LONG values above 2^53 would lose bits. The dataset is decoded column-wise by the
 * declared column type: LONG from its digits (bare, or quoted when `quoteLargeNum=true`) straight to int64, DOUBLE
 * with `Number(text)` (correctly rounded, so QuestDB's round-trip rendering of a double reads back bit-exact; it
 * prints `NaN`, `Infinity`, `-Infinity` and `-0.0` as such — `Numbers.append(CharSink, double)` in QuestDB).
 *
 * QuestDB has no separate null for LONG: null *is* the bit pattern -2^63 (`Numbers.LONG_NULL`), printed `null`. The
 * decoder keeps those bits (`null` → -2^63n in the `BigInt64Array`); callers decide what a -2^63 means. DOUBLE null is
 * NaN the same way.
 */
import { DataChainError } from '../../errors/data.ts';

export type ExecColumn =
  | { readonly name: string; readonly type: string; readonly kind: 'double'; readonly values: Float64Array }
  | { readonly name: string; readonly type: string; readonly kind: 'long'; readonly values: BigInt64Array }
  | { readonly name: string; readonly type: string; readonly kind: 'string'; readonly values: (string | null)[] }
  | { readonly name: string; readonly type: string; readonly kind: 'other'; readonly values: unknown[] };

export interface ExecRows {
  readonly kind: 'rows';
  readonly columns: ExecColumn[];
  readonly rowCount: number;
}

export interface ExecStatement {
  readonly kind: 'statement';
  /** `ddl` / `dml` member as sent (`"OK"`), and `updated` for UPDATE. */
  readonly ddl?: string;
  readonly dml?: string;
  readonly updated?: number;
}

export type ExecResponse = ExecRows | ExecStatement;

/** An `/exec` answer that reports an error, or text that is not the documented JSON. */
export class QuestDbQueryError extends DataChainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('questdb_query_failed', `QuestDB query failed: ${message}`, { details });
  }
}

export const LONG_NULL = -(1n << 63n);

type Kind = ExecColumn['kind'];

export function columnKind(type: string): Kind {
  switch (type.toUpperCase()) {
    case 'DOUBLE':
    case 'FLOAT':
      return 'double';
    case 'LONG':
      return 'long';
    case 'SYMBOL':
    case 'STRING':
    case 'VARCHAR':
    case 'CHAR':
      return 'string';
    default:
      return 'other';
  }
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const LBRACKET = 91;
const RBRACKET = 93;
const LBRACE = 123;
const RBRACE = 125;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;
const INTEGER = /^-?\d+$/;

interface ColumnBuilder {
  readonly name: string;
  readonly type: string;
  readonly kind: Kind;
  readonly values: unknown[];
}

class ExecParser {
  private i = 0;

  constructor(private readonly s: string) {}

  fail(what: string): never {
    const near = this.s.slice(Math.max(0, this.i - 30), this.i + 30);
    throw new QuestDbQueryError(
      `malformed /exec response at offset ${this.i}: ${what} (near ${JSON.stringify(near)})`,
      {
        offset: this.i,
      },
    );
  }

  ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.i = i;
  }

  expect(code: number, what: string): void {
    this.ws();
    if (this.s.charCodeAt(this.i) !== code) this.fail(`expected ${what}`);
    this.i++;
  }

  peek(): number {
    this.ws();
    return this.s.charCodeAt(this.i);
  }

  string(): string {
    const s = this.s;
    if (s.charCodeAt(this.i) !== QUOTE) this.fail('expected a string');
    const start = this.i + 1;
    const end = s.indexOf('"', start);
    if (end < 0) this.fail('unterminated string');
    const bs = s.indexOf('\\', start);
    if (bs < 0 || bs > end) {
      this.i = end + 1;
      return s.slice(start, end);
    }
    let k = start;
    for (;;) {
      const c = s.charCodeAt(k);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === BACKSLASH) k += 2;
      else if (c === QUOTE) break;
      else k++;
    }
    this.i = k + 1;
    try {
      return JSON.parse(s.slice(start - 1, k + 1)) as string;
    } catch {
      return this.fail('bad escape in string');
    }
  }

  /** The raw text of a number-like token (digits, sign, '.', exponent, or NaN / Infinity / -Infinity). */
  numberText(): string {
    const s = this.s;
    const start = this.i;
    let i = start;
    for (;;) {
      const c = s.charCodeAt(i);
      if (
        (c >= ZERO && c <= NINE) ||
        c === MINUS ||
        c === 43 /* + */ ||
        c === 46 /* . */ ||
        c === 101 /* e */ ||
        c === 69 /* E */ ||
        (c >= 65 && c <= 90) ||
        (c >= 97 && c <= 122)
      ) {
        i++;
      } else break;
    }
    if (i === start) this.fail('expected a value');
    this.i = i;
    return s.slice(start, i);
  }

  /** A generic JSON value (header members): integers beyond 2^53 become bigint. */
  value(): unknown {
    const c = this.peek();
    if (c === QUOTE) return this.string();
    if (c === LBRACE) return this.object();
    if (c === LBRACKET) {
      const out: unknown[] = [];
      this.i++;
      if (this.peek() === RBRACKET) {
        this.i++;
        return out;
      }
      for (;;) {
        out.push(this.value());
        const d = this.peek();
        this.i++;
        if (d === RBRACKET) return out;
        if (d !== COMMA) this.fail('expected "," or "]"');
      }
    }
    const t = this.numberText();
    if (t === 'null') return null;
    if (t === 'true') return true;
    if (t === 'false') return false;
    if (INTEGER.test(t)) {
      const n = Number(t);
      return Number.isSafeInteger(n) ? n : BigInt(t);
    }
    const n = Number(t);
    if (Number.isNaN(n) && t !== 'NaN') this.fail(`bad token ${JSON.stringify(t)}`);
    return n;
  }

  object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.expect(LBRACE, '"{"');
    if (this.peek() === RBRACE) {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      const key = this.string();
      this.expect(COLON, '":"');
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      const d = this.peek();
      this.i++;
      if (d === RBRACE) return out;
      if (d !== COMMA) this.fail('expected "," or "}"');
    }
  }

  /** One cell decoded by its column kind. */
  cell(col: ColumnBuilder): void {
    const c = this.peek();
    switch (col.kind) {
      case 'double': {
        if (c === QUOTE) this.fail(`column ${col.name}: expected a number`);
        const t = this.numberText();
        if (t === 'null') {
          col.values.push(Number.NaN);
          return;
        }
        const v = Number(t);
        if (Number.isNaN(v) && t !== 'NaN') this.fail(`column ${col.name}: bad number ${JSON.stringify(t)}`);
        col.values.push(v);
        return;
      }
      case 'long': {
        const t = c === QUOTE ? this.string() : this.numberText();
        if (t === 'null' && c !== QUOTE) {
          col.values.push(LONG_NULL);
          return;
        }
        if (!INTEGER.test(t)) this.fail(`column ${col.name}: bad LONG ${JSON.stringify(t)}`);
        col.values.push(BigInt(t));
        return;
      }
      case 'string': {
        if (c === QUOTE) {
          col.values.push(this.string());
          return;
        }
        const t = this.numberText();
        if (t !== 'null') this.fail(`column ${col.name}: expected a string or null`);
        col.values.push(null);
        return;
      }
      default:
        col.values.push(this.value());
    }
  }

  dataset(cols: ColumnBuilder[]): number {
    this.expect(LBRACKET, '"[" opening the dataset');
    let rows = 0;
    if (this.peek() === RBRACKET) {
      this.i++;
      return 0;
    }
    for (;;) {
      this.expect(LBRACKET, '"[" opening a row');
      for (let k = 0; k < cols.length; k++) {
        if (k > 0) this.expect(COMMA, '","');
        this.cell(cols[k] as ColumnBuilder);
      }
      this.expect(RBRACKET, `"]" closing row ${rows} after ${cols.length} columns`);
      rows++;
      const d = this.peek();
      this.i++;
      if (d === RBRACKET) return rows;
      if (d !== COMMA) this.fail('expected "," or "]" after a row');
    }
  }

  /**
   * A query that fails while rows stream ends the open row early and appends `"error"` after `"count"` (QuestDB
   * `JsonQueryProcessorState.querySuffixWithError`); a row cut short then fails the strict row grammar, so the
   * server's own message is looked for before reporting malformed text.
   */
  datasetOrServerError(cols: ColumnBuilder[]): number {
    try {
      return this.dataset(cols);
    } catch (err) {
      const m = /"error"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(this.s.slice(this.i));
      if (m?.[1] !== undefined) {
        throw new QuestDbQueryError(`${JSON.parse(m[1]) as string} (while streaming rows)`, { cause: String(err) });
      }
      throw err;
    }
  }

  document(): ExecResponse {
    const top: Record<string, unknown> = {};
    let cols: ColumnBuilder[] | undefined;
    let rows = -1;
    this.expect(LBRACE, '"{"');
    if (this.peek() !== RBRACE) {
      for (;;) {
        this.ws();
        const key = this.string();
        this.expect(COLON, '":"');
        if (key === 'dataset') {
          if (cols === undefined) {
            // Without metadata (nm=true) or before "columns": only an empty dataset can be taken.
            this.expect(LBRACKET, '"["');
            if (this.peek() !== RBRACKET) this.fail('dataset before columns');
            this.i++;
            rows = 0;
          } else rows = this.datasetOrServerError(cols);
        } else {
          const v = this.value();
          top[key] = v;
          if (key === 'columns') cols = columnBuilders(v, (w) => this.fail(w));
        }
        const d = this.peek();
        this.i++;
        if (d === RBRACE) break;
        if (d !== COMMA) this.fail('expected "," or "}"');
      }
    } else this.i++;
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected text after the response');
    if (top.error !== undefined) {
      const position = top.position ?? top.errorPos;
      throw new QuestDbQueryError(
        `${String(top.error)}${position === undefined ? '' : ` (at position ${String(position)})`}`,
        {
          error: top.error,
          position,
          query: top.query,
        },
      );
    }
    if (cols !== undefined) {
      if (rows < 0) this.fail('columns without a dataset');
      return { kind: 'rows', columns: cols.map(finish), rowCount: rows };
    }
    const updated = top.updated;
    return {
      kind: 'statement',
      ...(typeof top.ddl === 'string' ? { ddl: top.ddl } : {}),
      ...(typeof top.dml === 'string' ? { dml: top.dml } : {}),
      ...(typeof updated === 'number' ? { updated } : typeof updated === 'bigint' ? { updated: Number(updated) } : {}),
    };
  }
}

function columnBuilders(v: unknown, fail: (what: string) => never): ColumnBuilder[] {
  if (!Array.isArray(v)) fail('"columns" is not an array');
  return v.map((c) => {
    const name = (c as { name?: unknown } | null)?.name;
    const type = (c as { type?: unknown } | null)?.type;
    if (typeof name !== 'string' || typeof type !== 'string') fail('a column lacks name or type');
    return { name, type, kind: columnKind(type), values: [] };
  });
}

function finish(c: ColumnBuilder): ExecColumn {
  switch (c.kind) {
    case 'double':
      return { name: c.name, type: c.type, kind: 'double', values: Float64Array.from(c.values as number[]) };
    case 'long':
      return { name: c.name, type: c.type, kind: 'long', values: BigInt64Array.from(c.values as bigint[]) };
    case 'string':
      return { name: c.name, type: c.type, kind: 'string', values: c.values as (string | null)[] };
    default:
      return { name: c.name, type: c.type, kind: 'other', values: c.values };
  }
}

/** Decode one `/exec` response body; throws `QuestDbQueryError` for an error answer or malformed text. */
export function decodeExecResponse(text: string): ExecResponse {
  return new ExecParser(text).document();
}

/** The column `name` of a row set, checked to be of the expected kind. */
export function execColumn(res: ExecRows, name: string, kind: 'double'): Float64Array;
export function execColumn(res: ExecRows, name: string, kind: 'long'): BigInt64Array;
export function execColumn(res: ExecRows, name: string, kind: 'string'): (string | null)[];
export function execColumn(res: ExecRows, name: string, kind: Kind): ExecColumn['values'] {
  const col = res.columns.find((c) => c.name === name);
  if (col === undefined) {
    throw new QuestDbQueryError(`result has no column ${name}`, { columns: res.columns.map((c) => c.name) });
  }
  if (col.kind !== kind) {
    throw new QuestDbQueryError(`column ${name} is ${col.type}, expected a ${kind} column`, { type: col.type });
  }
  return col.values;
}
