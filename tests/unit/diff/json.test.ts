import { describe, expect, it } from 'vitest';
import { ProtocolError } from '#shared/errors/diff.ts';
import { parseDiffJson, parseDiffJsonExact, type SchemaDriftInfo, stringifyDiffJson } from '#shared/infra/diff/json.ts';

function tickFrame(rows: number): string {
  const parts: string[] = [];
  for (let i = 0; i < rows; i++) {
    const dt = 1736380800000000000n + BigInt(i) * 500_000_000n + 1n;
    parts.push(
      `"${100000 + i}":{"datetime":${dt},"last_price":75230.0,"average":75211.53,"ask_price1":75240,"ask_volume1":12,` +
        `"bid_price1":75230,"bid_volume1":7,"volume":${1000 + i},"amount":${376150000 + i * 37615},"open_interest":180123}`,
    );
  }
  return `{"aid":"rtn_data","data":[{"ticks":{"SHFE.cu2502":{"last_id":200000,"data":{${parts.join(',')}}}}}]}`;
}

/** A replacer that tells bigints, NaN and ±Infinity apart in a JSON comparison. */
const big = (_k: string, v: unknown) =>
  typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? `${v}` : v;

describe('parseDiffJson', () => {
  it('keeps a 19-digit nanosecond datetime exact where JSON.parse would round it', () => {
    // Prepare
    const text = '{"datetime":1568255607000000001}';

    // Act
    const v = parseDiffJson(text) as { datetime: bigint };

    // Assess
    expect(v.datetime).toBe(1568255607000000001n);
    expect(BigInt((JSON.parse(text) as { datetime: number }).datetime)).not.toBe(1568255607000000001n);
  });

  it('reads every listed ns key and any *_dt key as bigint, even when small', () => {
    // Prepare
    const text =
      '{"insert_date_time":1,"trade_date_time":2,"expire_datetime":3,"focus_datetime":4,' +
      '"trading_day_start":5,"trading_day_count":6,"current_dt":7,"datetime":0,"volume":8}';

    // Act
    const v = parseDiffJson(text) as Record<string, unknown>;

    // Assess
    expect(v).toEqual({
      insert_date_time: 1n,
      trade_date_time: 2n,
      expire_datetime: 3n,
      focus_datetime: 4n,
      trading_day_start: 5n,
      trading_day_count: 6n,
      current_dt: 7n,
      datetime: 0n,
      volume: 8,
    });
  });

  it('keeps a quote datetime string a string', () => {
    // Act
    const v = parseDiffJson('{"datetime":"2025-01-09 09:00:00.500000"}');

    // Assess
    expect(v).toEqual({ datetime: '2025-01-09 09:00:00.500000' });
  });

  it('accepts bare NaN, Infinity and -Infinity tokens as numbers', () => {
    // Act
    const v = parseDiffJson('{"a":NaN,"b":Infinity,"c":-Infinity,"d":[NaN, 1]}') as Record<string, unknown>;

    // Assess
    expect(v.a).toBeNaN();
    expect(v.b).toBe(Number.POSITIVE_INFINITY);
    expect(v.c).toBe(Number.NEGATIVE_INFINITY);
    expect((v.d as unknown[])[0]).toBeNaN();
  });

  it('leaves NaN and long digit runs inside strings untouched', () => {
    // Act
    const v = parseDiffJson('{"s":"NaN Infinity 12345678901234567890","t":"a\\"NaN"}');

    // Assess
    expect(v).toEqual({ s: 'NaN Infinity 12345678901234567890', t: 'a"NaN' });
  });

  it('turns an unsafe integer under another key into a bigint and reports schema drift with its path', () => {
    // Prepare
    const drifts: SchemaDriftInfo[] = [];

    // Act
    const v = parseDiffJson('{"quotes":{"X":{"volume":123456789012345678901,"ok":9007199254740991}}}', {
      onSchemaDrift: (d) => drifts.push(d),
    }) as { quotes: { X: { volume: unknown; ok: unknown } } };

    // Assess
    expect(v.quotes.X.volume).toBe(123456789012345678901n);
    expect(v.quotes.X.ok).toBe(9007199254740991);
    expect(drifts).toEqual([
      { path: 'quotes/X/volume', expected: 'an integer within ±(2^53−1)', raw: '123456789012345678901' },
    ]);
  });

  it('keeps 16-digit floats and exponent forms as numbers (only integer literals become bigint)', () => {
    // Act
    const v = parseDiffJson('{"p":1234567890123456.5,"q":1234567890123456e2}') as Record<string, unknown>;

    // Assess
    expect(v.p).toBe(1234567890123456.5);
    expect(v.q).toBe(1234567890123456e2);
  });

  it('gives the same tree on the fast path as JSON.parse', () => {
    // Prepare
    const text = '{"aid":"rtn_data","data":[{"quotes":{"SHFE.cu2502":{"last_price":75230.5,"close":"-"}}},{}]}';

    // Act
    const v = parseDiffJson(text);

    // Assess
    expect(v).toEqual(JSON.parse(text));
  });

  it('agrees with the recursive-descent reference on a tick frame with NaN tokens and escapes', () => {
    // Prepare
    const text = tickFrame(50).replace('"last_price":75230.0', '"last_price":NaN').replace('"aid"', '"aid\\u00e9"');

    // Act
    const fast = parseDiffJson(text);
    const exact = parseDiffJsonExact(text);

    // Assess
    expect(fast).toEqual(exact);
    const first = (exact as { data: { ticks: { 'SHFE.cu2502': { data: Record<string, { datetime: bigint }> } } }[] })
      .data[0]?.ticks['SHFE.cu2502'].data['100000'];
    expect(first?.datetime).toBe(1736380800000000001n);
  });

  it('agrees with the recursive-descent reference on 2,000 random frames of escapes, quotes and long literals', () => {
    // Prepare: a seeded generator (xorshift) of frames mixing everything the token scanner must get right
    let seed = 0x9e3779b9;
    const rnd = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const pieces = ['\\\\', '\\"', '"', 'NaN', 'Infinity', '1234567890123456789', 'a', ',', ':', '\\u00e9', ' '];
    const str = () => {
      let out = '';
      for (let k = rnd(6); k > 0; k--) out += pieces[rnd(pieces.length)]?.replace(/^"$/, '\\"') ?? '';
      return `"${out}"`;
    };
    const num = () =>
      [
        `${rnd(100000)}`,
        `-${rnd(1000)}.${rnd(100)}`,
        `${1741743000000000000n + BigInt(rnd(1_000_000))}`,
        '12345678901234567.5',
        '1234567890123456e3',
        'NaN',
        '-Infinity',
      ][rnd(7)] as string;
    const value = (depth: number): string => {
      const r = rnd(depth > 2 ? 3 : 5);
      if (r === 0) return str();
      if (r === 1 || r === 2) return num();
      if (r === 3) return `[${Array.from({ length: rnd(4) }, () => value(depth + 1)).join(',')}]`;
      const keys = ['datetime', 'insert_date_time', 'last_price', 'x_dt', 'volume', str().slice(1, -1)];
      return `{${Array.from({ length: rnd(5) }, () => `"${keys[rnd(keys.length)]}":${value(depth + 1)}`).join(',')}}`;
    };
    const frames = Array.from({ length: 2000 }, () => `{"aid":"rtn_data","data":[${value(0)}]}`);

    // Act
    const mismatches = frames.filter((f) => {
      const a = parseDiffJson(f);
      const b = parseDiffJsonExact(f);
      return !Object.is(JSON.stringify(a, big), JSON.stringify(b, big));
    });

    // Assess
    expect(mismatches).toEqual([]);
  });

  it('does not confuse a NUL escape in a wire string with its internal sentinel', () => {
    // Act
    const v = parseDiffJson('{"s":"\\u0000B123","datetime":1568255607000000001}');

    // Assess
    expect(v).toEqual({ s: '\u0000B123', datetime: 1568255607000000001n });
  });

  it.each([
    ['{"a":1', 'unterminated object'],
    ['{"a":01}', 'leading zero'],
    ['{"a":NaX}', 'bad token'],
    ['{"datetime":1568255607000000001,}', 'trailing comma'],
    ['{"s":"a\u0001b","datetime":1}', 'raw control character'],
  ])('refuses malformed text %s (%s) with ProtocolError', (text) => {
    // Act
    const run = () => parseDiffJson(text);

    // Assess
    expect(run).toThrow(ProtocolError);
  });
});

describe('stringifyDiffJson', () => {
  it('writes bigint as a bare integer literal that parses back exactly', () => {
    // Prepare
    const v = { aid: 'set_chart', focus_datetime: 1568255607000000001n, view_width: 2000 };

    // Act
    const text = stringifyDiffJson(v);

    // Assess
    expect(text).toBe('{"aid":"set_chart","focus_datetime":1568255607000000001,"view_width":2000}');
    expect(parseDiffJson(text)).toEqual(v);
  });

  it('refuses NaN by default and never writes it', () => {
    // Act
    const run = () => stringifyDiffJson({ limit_price: Number.NaN });

    // Assess
    expect(run).toThrow(ProtocolError);
  });

  it('writes null or bare tokens for non-finite numbers only when asked', () => {
    // Act
    const asNull = stringifyDiffJson({ a: Number.NaN }, { nonFinite: 'null' });
    const asToken = stringifyDiffJson({ a: Number.NaN, b: Number.NEGATIVE_INFINITY }, { nonFinite: 'token' });

    // Assess
    expect(asNull).toBe('{"a":null}');
    expect(asToken).toBe('{"a":NaN,"b":-Infinity}');
  });

  it('with knownFinite writes real nulls, bigints and numbers exactly as without it', () => {
    // Prepare
    const frame = {
      aid: 'rtn_data',
      data: [{ ticks: { s: { data: { '1': null, '2': { datetime: 1568255607000000001n, last_price: 1.5 } } } } }],
    };

    // Act
    const plain = stringifyDiffJson(frame);
    const known = stringifyDiffJson(frame, { knownFinite: true });
    const withoutBigint = stringifyDiffJson({ a: null, b: [null, 2.25] }, { knownFinite: true });

    // Assess
    expect(known).toBe(plain);
    expect(parseDiffJson(known)).toEqual(frame);
    expect(withoutBigint).toBe('{"a":null,"b":[null,2.25]}');
  });

  it('omits undefined members and escapes strings like JSON.stringify', () => {
    // Act
    const text = stringifyDiffJson({ a: undefined, b: 'x"y\n', c: [1, undefined], d: null, e: true });

    // Assess
    expect(text).toBe(JSON.stringify({ a: undefined, b: 'x"y\n', c: [1, undefined], d: null, e: true }));
  });
});
