/**
 * The recursive-descent DIFF JSON parser: the reference the faster paths of `json.ts` must agree with, and the path
 * for texts those cannot take (a NUL escape that could collide with the sentinel, or malformed text, for which it
 * produces the precise error offset). Same contract as `parseDiffJson`.
 */
import { ProtocolError } from '#shared/errors/diff.ts';
import type { SchemaDriftInfo } from './json.ts';
import { isNsKey as isNsKeyImport, MAX_SAFE as MAX_SAFE_IMPORT } from './json-keys.ts';

// Local copies: hot loops must not read imported bindings (module-namespace loads under some runners).
const C_Backslash = 92;
const C_Colon = 58;
const C_Comma = 44;
const C_Cr = 13;
const C_Dot = 46;
const C_LBrace = 123;
const C_LBracket = 91;
const C_Lf = 10;
const C_LowerE = 101;
const C_LowerF = 102;
const C_LowerN = 110;
const C_LowerT = 116;
const C_Minus = 45;
const C_Nine = 57;
const C_Plus = 43;
const C_Quote = 34;
const C_RBrace = 125;
const C_RBracket = 93;
const C_Space = 32;
const C_Tab = 9;
const C_UpperE = 69;
const C_UpperI = 73;
const C_UpperN = 78;
const C_Zero = 48;
const isNsKey = isNsKeyImport;
const MAX_SAFE = MAX_SAFE_IMPORT;

/** A recursive-descent parser tuned for DIFF frames (many short keys, many numbers, few escapes). */
export class ExactParser {
  private i = 0;
  private readonly keys: string[] = [];

  constructor(
    private readonly s: string,
    private readonly onDrift: ((info: SchemaDriftInfo) => void) | undefined,
  ) {}

  parseDocument(): unknown {
    this.ws();
    const v = this.value(undefined);
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected text after the JSON value');
    return v;
  }

  private fail(what: string): never {
    const at = this.i;
    const near = this.s.slice(Math.max(0, at - 20), at + 20);
    throw new ProtocolError(`malformed JSON frame at offset ${at}: ${what} (near ${JSON.stringify(near)})`, {
      offset: at,
    });
  }

  private ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === C_Space || c === C_Lf || c === C_Cr || c === C_Tab) i++;
      else break;
    }
    this.i = i;
  }

  private value(key: string | undefined): unknown {
    const c = this.s.charCodeAt(this.i);
    switch (c) {
      case C_LBrace:
        return this.object();
      case C_LBracket:
        return this.array();
      case C_Quote:
        return this.string();
      case C_LowerT:
        return this.literal('true', true);
      case C_LowerF:
        return this.literal('false', false);
      case C_LowerN:
        return this.literal('null', null);
      case C_UpperN:
        return this.literal('NaN', Number.NaN);
      case C_UpperI:
        return this.literal('Infinity', Number.POSITIVE_INFINITY);
      default:
        if (c === C_Minus && this.s.charCodeAt(this.i + 1) === C_UpperI) {
          this.i++;
          return this.literal('Infinity', Number.NEGATIVE_INFINITY);
        }
        if (c === C_Minus || (c >= C_Zero && c <= C_Nine)) return this.number(key);
        if (Number.isNaN(c)) this.fail('unexpected end of text');
        return this.fail(`unexpected character ${JSON.stringify(this.s[this.i])}`);
    }
  }

  private literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail(`expected ${word}`);
    this.i += word.length;
    return v;
  }

  private object(): Record<string, unknown> {
    const s = this.s;
    const out: Record<string, unknown> = {};
    this.i++;
    this.ws();
    if (s.charCodeAt(this.i) === C_RBrace) {
      this.i++;
      return out;
    }
    for (;;) {
      if (s.charCodeAt(this.i) !== C_Quote) this.fail('expected a string key');
      const key = this.string();
      this.ws();
      if (s.charCodeAt(this.i) !== C_Colon) this.fail('expected ":"');
      this.i++;
      this.ws();
      this.keys.push(key);
      const v = this.value(key);
      this.keys.pop();
      if (key === '__proto__')
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = s.charCodeAt(this.i);
      if (c === C_Comma) {
        this.i++;
        this.ws();
        continue;
      }
      if (c === C_RBrace) {
        this.i++;
        return out;
      }
      this.fail('expected "," or "}"');
    }
  }

  private array(): unknown[] {
    const s = this.s;
    const out: unknown[] = [];
    this.i++;
    this.ws();
    if (s.charCodeAt(this.i) === C_RBracket) {
      this.i++;
      return out;
    }
    for (;;) {
      this.keys.push(String(out.length));
      out.push(this.value(undefined));
      this.keys.pop();
      this.ws();
      const c = s.charCodeAt(this.i);
      if (c === C_Comma) {
        this.i++;
        this.ws();
        continue;
      }
      if (c === C_RBracket) {
        this.i++;
        return out;
      }
      this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    const s = this.s;
    const start = this.i + 1;
    const end = s.indexOf('"', start);
    if (end < 0) this.fail('unterminated string');
    let plain = true;
    for (let k = start; k < end; k++) {
      const c = s.charCodeAt(k);
      if (c === C_Backslash) {
        plain = false;
        break;
      }
      // Raw control characters are refused, as JSON.parse does.
      if (c < 0x20) this.fail('control character in string');
    }
    if (plain) {
      this.i = end + 1;
      return s.slice(start, end);
    }
    // Escaped string: find the real closing quote, then let JSON.parse decode exactly.
    let k = start;
    for (;;) {
      const c = s.charCodeAt(k);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === C_Backslash) k += 2;
      else if (c === C_Quote) break;
      else k++;
    }
    this.i = k + 1;
    try {
      return JSON.parse(s.slice(start - 1, k + 1)) as string;
    } catch {
      return this.fail('bad escape in string');
    }
  }

  private number(key: string | undefined): number | bigint {
    const s = this.s;
    const start = this.i;
    let i = start;
    if (s.charCodeAt(i) === C_Minus) i++;
    const digitsStart = i;
    let c = s.charCodeAt(i);
    if (c === C_Zero) {
      i++;
    } else if (c >= C_Zero + 1 && c <= C_Nine) {
      do c = s.charCodeAt(++i);
      while (c >= C_Zero && c <= C_Nine);
    } else {
      this.i = i;
      this.fail('expected a digit');
    }
    const digits = i - digitsStart;
    let integer = true;
    c = s.charCodeAt(i);
    if (c === C_Dot) {
      integer = false;
      c = s.charCodeAt(++i);
      if (!(c >= C_Zero && c <= C_Nine)) {
        this.i = i;
        this.fail('expected a digit after "."');
      }
      do c = s.charCodeAt(++i);
      while (c >= C_Zero && c <= C_Nine);
    }
    if (c === C_LowerE || c === C_UpperE) {
      integer = false;
      c = s.charCodeAt(++i);
      if (c === C_Plus || c === C_Minus) c = s.charCodeAt(++i);
      if (!(c >= C_Zero && c <= C_Nine)) {
        this.i = i;
        this.fail('expected a digit in the exponent');
      }
      do c = s.charCodeAt(++i);
      while (c >= C_Zero && c <= C_Nine);
    }
    this.i = i;
    const text = s.slice(start, i);
    if (!integer) {
      // A whole number written as a fraction or exponent (`1e3`) under a ns key is a bigint too, as on the other paths
      // (which see only the parsed number) and as the store coerces ns fields.
      const v = Number(text);
      return key !== undefined && isNsKey(key) && Number.isInteger(v) ? BigInt(v) : v;
    }
    if (key !== undefined && isNsKey(key)) return BigInt(text);
    if (digits < 16) return Number(text);
    const big = BigInt(text);
    if (big <= MAX_SAFE && big >= -MAX_SAFE) return Number(big);
    this.onDrift?.({ path: this.keys.join('/'), expected: 'an integer within ±(2^53−1)', raw: text });
    return big;
  }
}
