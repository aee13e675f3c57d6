/**
 * Tolerant, BigInt-safe JSON for the DIFF wire (market-protocol §1.5), shared by the client and the simulator.
 *
 * Parsing contract:
 * - standard JSON plus bare `NaN`, `Infinity`, `-Infinity` tokens outside strings (→ `number`);
 * - an integer literal under a nanosecond key (`datetime`, `insert_date_time`, `trade_date_time`, `expire_datetime`,
 *   `focus_datetime`, `trading_day_start`, `trading_day_count`, any `*_dt`) is always a `bigint` (so is a whole number
 *   written as a fraction or exponent there, `1e3`, by way of its double);
 * - any other integer literal outside ±(2^53−1) becomes a `bigint` and is reported through `onSchemaDrift`;
 * - a frame with none of those tokens goes through `JSON.parse` (fast path) and yields exactly what it would.
 *
 * Serialising contract: `bigint` is written as a bare integer literal; non-finite numbers are refused (`throw`, the
 * default), written as `null`, or — only for the simulator's fault injection — as bare tokens (`token`).
 */
import { ProtocolError } from '#shared/errors/diff.ts';
import { ExactParser } from './json-exact.ts';
import { isNsKey as isNsKeyImport, MAX_SAFE as MAX_SAFE_IMPORT } from './json-keys.ts';

export { isNsKey, NS_KEYS } from './json-keys.ts';

// Local copies: hot loops must not read imported bindings (module-namespace loads under some runners).
const C_Backslash = 92;
const C_Dot = 46;
const C_LowerE = 101;
const C_Minus = 45;
const C_Nine = 57;
const C_Plus = 43;
const C_Quote = 34;
const C_UpperE = 69;
const C_UpperI = 73;
const C_UpperN = 78;
const C_Zero = 48;
const isNsKey = isNsKeyImport;
const MAX_SAFE = MAX_SAFE_IMPORT;

export interface SchemaDriftInfo {
  /** Slash-joined path of the value inside the parsed document (array indices as decimal segments). */
  path: string;
  expected: string;
  /** The literal text as it appeared on the wire. */
  raw: string;
}

export interface ParseOptions {
  /** Called for an integer outside ±(2^53−1) under a key that is not a ns key (kept as `bigint`). */
  onSchemaDrift?: (info: SchemaDriftInfo) => void;
}

/**
 * Anything that could make `JSON.parse` wrong or fail where we must not: NaN/Infinity tokens, integer literals of ≥ 16
 * digits, or an integer (rather than string) value under a ns key. A match inside a string is harmless: that frame
 * simply takes the exact path.
 */
const NEEDS_EXACT = /NaN|Infinity|\d{16}|(?:datetime|date_time|_dt|trading_day_start|trading_day_count)"\s*:\s*-?\d/;

/**
 * Parse one DIFF frame. Throws `ProtocolError` (code `diff_protocol`) on malformed text.
 *
 * Three paths, same result: `JSON.parse` when nothing needs exactness; otherwise a scanner rewrites NaN/Infinity and
 * long integer literals outside strings into sentinel strings, `JSON.parse` builds the tree and one walk restores them
 * (about 140 MB/s on 2,000-row tick frames); a text that already holds a NUL escape (could collide with the sentinel)
 * or that fails to parse goes through the recursive-descent parser, which also produces the precise error offset.
 */
export function parseDiffJson(text: string, options: ParseOptions = {}): unknown {
  if (!NEEDS_EXACT.test(text)) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ProtocolError(
        `malformed JSON frame: ${(err as Error).message}`,
        { length: text.length },
        { cause: err },
      );
    }
  }
  if (!text.includes('\\u0000')) {
    let tree: unknown;
    try {
      tree = JSON.parse(rewriteTokens(text));
    } catch {
      return new ExactParser(text, options.onSchemaDrift).parseDocument();
    }
    return restore(tree, undefined, [], options.onSchemaDrift);
  }
  return new ExactParser(text, options.onSchemaDrift).parseDocument();
}

/** Sentinel prefix (a NUL character) of strings that stand for a token the standard parser cannot represent. */
const SENTINEL = 0;

/**
 * Replace NaN/±Infinity tokens and integer literals of ≥ 16 digits outside strings by sentinel strings
 * (`"\u0000N"`, `"\u0000I"`, `"\u0000i"`, `"\u0000B<digits>"`). Everything else is copied verbatim; malformed
 * text stays malformed so `JSON.parse` still refuses it.
 */
function rewriteTokens(s: string): string {
  const parts: string[] = [];
  let last = 0;
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === C_Quote) {
      // Jump to the closing quote: the next quote not escaped (an even run of backslashes before it). A native
      // search beats a character loop over the keys that make up most of a tick frame.
      let j = s.indexOf('"', i + 1);
      for (;;) {
        if (j < 0) {
          i = n;
          break;
        }
        let k = j - 1;
        while (s.charCodeAt(k) === C_Backslash) k--;
        if ((j - 1 - k) % 2 === 0) {
          i = j + 1;
          break;
        }
        j = s.indexOf('"', j + 1);
      }
      continue;
    }
    if (c === C_UpperN && s.startsWith('NaN', i)) {
      parts.push(s.slice(last, i), '"\\u0000N"');
      i += 3;
      last = i;
      continue;
    }
    if (c === C_UpperI && s.startsWith('Infinity', i)) {
      parts.push(s.slice(last, i), '"\\u0000I"');
      i += 8;
      last = i;
      continue;
    }
    if (c === C_Minus && s.startsWith('-Infinity', i)) {
      parts.push(s.slice(last, i), '"\\u0000i"');
      i += 9;
      last = i;
      continue;
    }
    if ((c >= C_Zero && c <= C_Nine) || c === C_Minus) {
      const start = i;
      if (c === C_Minus) i++;
      const digitsStart = i;
      let d = s.charCodeAt(i);
      while (d >= C_Zero && d <= C_Nine) d = s.charCodeAt(++i);
      if (i - digitsStart >= 16 && d !== C_Dot && d !== C_LowerE && d !== C_UpperE) {
        parts.push(s.slice(last, start), '"\\u0000B', s.slice(start, i), '"');
        last = i;
      } else {
        while (
          (d >= C_Zero && d <= C_Nine) ||
          d === C_Dot ||
          d === C_LowerE ||
          d === C_UpperE ||
          d === C_Plus ||
          d === C_Minus
        )
          d = s.charCodeAt(++i);
      }
      continue;
    }
    i++;
  }
  if (last === 0) return s;
  parts.push(s.slice(last));
  return parts.join('');
}

/** Turn sentinel strings back into numbers/bigints and ns-key integers into bigints, in place. */
function restore(v: unknown, key: string | undefined, path: string[], onDrift: ParseOptions['onSchemaDrift']): unknown {
  if (typeof v === 'string') return v.charCodeAt(0) === SENTINEL ? decodeSentinel(v, key, path, onDrift) : v;
  if (typeof v === 'number') return key !== undefined && Number.isInteger(v) && isNsKey(key) ? BigInt(v) : v;
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    for (let k = 0; k < v.length; k++) {
      const item: unknown = v[k];
      if (typeof item === 'object' && item !== null) {
        path.push(String(k));
        restore(item, undefined, path, onDrift);
        path.pop();
      } else if (typeof item === 'string' && item.charCodeAt(0) === SENTINEL) {
        path.push(String(k));
        v[k] = decodeSentinel(item, undefined, path, onDrift);
        path.pop();
      }
    }
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const item = o[k];
    if (typeof item === 'object') {
      if (item === null) continue;
      path.push(k);
      restore(item, k, path, onDrift);
      path.pop();
    } else if (typeof item === 'string') {
      if (item.charCodeAt(0) === SENTINEL) {
        path.push(k);
        o[k] = decodeSentinel(item, k, path, onDrift);
        path.pop();
      }
    } else if (typeof item === 'number' && Number.isInteger(item) && isNsKey(k)) {
      o[k] = BigInt(item);
    }
  }
  return o;
}

function decodeSentinel(
  v: string,
  key: string | undefined,
  path: string[],
  onDrift: ParseOptions['onSchemaDrift'],
): number | bigint {
  const tag = v.charCodeAt(1);
  if (tag === C_UpperN) return Number.NaN;
  if (tag === C_UpperI) return Number.POSITIVE_INFINITY;
  if (tag === 105 /* i */) return Number.NEGATIVE_INFINITY;
  const text = v.slice(2);
  const big = BigInt(text);
  if (key !== undefined && isNsKey(key)) return big;
  if (big <= MAX_SAFE && big >= -MAX_SAFE) return Number(big);
  onDrift?.({ path: path.join('/'), expected: 'an integer within ±(2^53−1)', raw: text });
  return big;
}

export type NonFinitePolicy = 'throw' | 'null' | 'token';

export interface StringifyOptions {
  /**
   * What to do with NaN/±Infinity: `throw` (default; the DIFF client never sends them), `null`, or `token` (bare
   * `NaN`/`Infinity`, for the simulator's `NaN-token` fault only).
   */
  nonFinite?: NonFinitePolicy;
  /**
   * The caller has checked that the value holds no NaN/±Infinity (the simulator's pending patches track it), so a
   * `null` in the native serialiser's output is a real `null` and needs no second, replacer pass to tell.
   */
  knownFinite?: boolean;
}

/**
 * Serialise a value for the wire. `bigint` → bare integer literal; `undefined` members are omitted like `JSON.stringify`.
 * Throws `ProtocolError` on a non-finite number under the default policy.
 */
export function stringifyDiffJson(value: unknown, options: StringifyOptions = {}): string {
  const policy = options.nonFinite ?? 'throw';
  const fast = stringifyFast(value, policy, options.knownFinite === true);
  if (fast !== null) return fast;
  const parts: string[] = [];
  write(value, parts, policy, '');
  return parts.join('');
}

/** Marker for values the native serialiser cannot write; control characters never occur in DIFF strings. */
const MARK = '\u0000\u0001ght:';
const MARKED = /"\\u0000\\u0001ght:([^"]*)"/g;

/**
 * Native `JSON.stringify` with a replacer that marks bigints and non-finite numbers, then swaps the marks for bare
 * literals: several times faster than the recursive writer on MB-sized chart frames. Returns null (use the writer)
 * when a non-finite number must throw (the writer names its path) or a string already starts with the marker.
 */
function stringifyFast(value: unknown, policy: NonFinitePolicy, knownFinite: boolean): string | null {
  // Most frames hold no bigint, no non-finite number and no marker-like string: the native serialiser without a
  // replacer writes them exactly (it throws on a bigint; a `null` or marker in its output sends us the slow way).
  let plain: string | undefined;
  try {
    plain = JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    plain = undefined;
  }
  if (plain !== undefined && (knownFinite || !plain.includes('null')) && !plain.includes('\\u0000\\u0001ght:')) {
    return plain;
  }
  let bail = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${MARK}${v.toString()}`;
    if (typeof v === 'number' && !Number.isFinite(v)) {
      if (policy === 'throw') bail = true;
      return policy === 'null' ? null : `${MARK}${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'}`;
    }
    if (typeof v === 'string' && v.startsWith(MARK)) bail = true;
    return v;
  });
  if (bail || text === undefined) return null;
  return text.includes('\\u0000\\u0001ght:') ? text.replace(MARKED, '$1') : text;
}

function write(v: unknown, out: string[], policy: NonFinitePolicy, path: string): void {
  switch (typeof v) {
    case 'string':
      out.push(JSON.stringify(v));
      return;
    case 'number':
      if (Number.isFinite(v)) out.push(String(v));
      else out.push(nonFinite(v, policy, path));
      return;
    case 'bigint':
      out.push(v.toString());
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'object': {
      if (v === null) {
        out.push('null');
        return;
      }
      if (Array.isArray(v)) {
        out.push('[');
        for (let k = 0; k < v.length; k++) {
          if (k > 0) out.push(',');
          const item = v[k];
          if (item === undefined || typeof item === 'function' || typeof item === 'symbol') out.push('null');
          else write(item, out, policy, `${path}/${k}`);
        }
        out.push(']');
        return;
      }
      out.push('{');
      let first = true;
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        const item = (v as Record<string, unknown>)[key];
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        if (!first) out.push(',');
        first = false;
        out.push(JSON.stringify(key), ':');
        write(item, out, policy, `${path}/${key}`);
      }
      out.push('}');
      return;
    }
    default:
      throw new ProtocolError(`cannot serialise a ${typeof v} at ${path || '/'}`, { path });
  }
}

function nonFinite(v: number, policy: NonFinitePolicy, path: string): string {
  if (policy === 'null') return 'null';
  if (policy === 'token') return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  throw new ProtocolError(`refusing to serialise ${v} at ${path || '/'}: DIFF frames never carry NaN/Infinity`, {
    path,
  });
}

/** The recursive-descent path alone (the reference the faster paths must agree with; used by tests and benches). */
export function parseDiffJsonExact(text: string, options: ParseOptions = {}): unknown {
  return new ExactParser(text, options.onSchemaDrift).parseDocument();
}
