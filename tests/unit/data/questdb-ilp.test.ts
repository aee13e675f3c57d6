import { describe, expect, it } from 'vitest';
import { TABLES, TICK_NUMERIC_COLUMNS } from '#shared/domain/data/tick-columns.ts';
import { TickStoreInputError } from '#shared/domain/data/tick-store.ts';
import {
  countDistinctTickKeys,
  encodeRowsIlp,
  encodeTickDayIlp,
  escapeIlpName,
  escapeIlpString,
  formatIlpDouble,
  type IlpColumn,
  truncateToMicros,
} from '#shared/infra/tickstore/questdb-ilp.ts';
import { makeDay, pick } from '#tests/integration/tickstore/fixtures.ts';

const T = TABLES.ticksMainL5.name;
const CU = 'KQ.m@SHFE.cu';
const PREFIX = `${T},symbol=${CU},trading_day=2026-01-05,ticks_kind=main_l5,dataset_version=v2,underlying_contract=SHFE.cu2602,schedule_hash=0123456789abcdef `;

/** Split a body into lines, honouring protocol-v2 binary doubles (which may contain '\n' bytes). */
function v2Lines(body: Buffer, prefixLen: number): { doubles: number[]; tail: string }[] {
  const out: { doubles: number[]; tail: string }[] = [];
  let pos = 0;
  while (pos < body.length) {
    pos += prefixLen;
    const doubles: number[] = [];
    TICK_NUMERIC_COLUMNS.forEach((name, k) => {
      const head = `${k > 0 ? ',' : ''}${name}==`;
      if (body.toString('latin1', pos, pos + head.length) !== head || body[pos + head.length] !== 16) {
        throw new Error(`no binary DOUBLE ${name} at byte ${pos}`);
      }
      pos += head.length;
      doubles.push(body.readDoubleLE(pos + 1));
      pos += 9;
    });
    const end = body.indexOf(10, pos);
    out.push({ doubles, tail: body.toString('latin1', pos, end) });
    pos = end + 1;
  }
  return out;
}

describe('ILP escaping and number text', () => {
  it('escapes names and tag values, and quoted strings, as the official client does', () => {
    // Act
    const tag = escapeIlpName('a b,c=d\\e\nf');
    const str = escapeIlpString('say "hi", \\ ok\n');
    // Assess
    expect(tag).toBe('a\\ b\\,c\\=d\\\\e\\\nf');
    expect(str).toBe('say \\"hi\\", \\\\ ok\\\n');
  });

  it('writes protocol-v1 doubles as shortest round-trip text, keeps -0.0 and leaves NaN out', () => {
    // Act
    const texts = [0.1 + 0.2, 69990.00000000001, 70000, -0, 1e21, 5e-324, Number.NEGATIVE_INFINITY].map(
      formatIlpDouble,
    );
    // Assess
    expect(texts).toEqual([
      '0.30000000000000004',
      '69990.00000000001',
      '70000',
      '-0.0',
      '1e+21',
      '5e-324',
      '-Infinity',
    ]);
    expect(formatIlpDouble(Number.NaN)).toBeNull();
    expect(texts.map((t) => Number(t === '-0.0' ? '-0' : t))).toEqual([
      0.1 + 0.2,
      69990.00000000001,
      70000,
      -0,
      1e21,
      5e-324,
      Number.NEGATIVE_INFINITY,
    ]);
  });
});

describe('tick day ILP body', () => {
  function twoRows() {
    const day = pick(makeDay(3), [0, 1]);
    day.datetimeNs[1] = 1_767_574_800_123_456_789n; // sub-µs digits are dropped from ts, kept in datetime_ns
    (day.values[0] as Float64Array)[0] = 0.1 + 0.2;
    (day.values[1] as Float64Array)[0] = -0;
    (day.values[2] as Float64Array)[0] = Number.NaN;
    (day.values[3] as Float64Array)[0] = 69990.00000000001;
    (day.values[4] as Float64Array)[1] = Number.POSITIVE_INFINITY;
    (day.values[5] as Float64Array)[1] = 5e-324;
    return { ...day, rowHash: BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n]) };
  }

  it('writes one line per tick: six SYMBOL tags, LONG fields with i, ts = datetime_ns truncated to µs (v1)', () => {
    // Prepare
    const batch = twoRows();
    // Act
    const body = encodeTickDayIlp(
      { table: T, symbol: CU, tradingDay: '2026-01-05', batch, tsUs: truncateToMicros(batch.datetimeNs) },
      1,
    ).toString('utf8');
    // Assess
    const lines = body.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(
      lines[0]?.startsWith(`${PREFIX}datetime_ns=1767574800000000000i,row_hash=-9223372036854775808i,segment_id=3i,`),
    ).toBe(true);
    expect(lines[0]).toContain(',last_price=0.30000000000000004,average=-0.0,lowest=69990.00000000001,');
    expect(lines[0]).not.toContain('highest=');
    expect(lines[0]?.endsWith(' 1767574800000000000')).toBe(true);
    expect(lines[1]).toContain('datetime_ns=1767574800123456789i,row_hash=9223372036854775807i,');
    expect(lines[1]).toContain(',volume=Infinity,amount=5e-324,');
    expect(lines[1]?.endsWith(' 1767574800123456000')).toBe(true);
  });

  it('writes protocol-v2 doubles as their exact IEEE-754 bytes', () => {
    // Prepare
    const batch = twoRows();
    // Act
    const body = encodeTickDayIlp(
      { table: T, symbol: CU, tradingDay: '2026-01-05', batch, tsUs: truncateToMicros(batch.datetimeNs) },
      2,
    );
    // Assess
    const lines = v2Lines(body, Buffer.byteLength(PREFIX));
    expect(lines).toHaveLength(2);
    const bits = (d: number) => {
      const v = new DataView(new ArrayBuffer(8));
      v.setFloat64(0, d);
      return v.getBigUint64(0);
    };
    expect(lines.map((line) => line.doubles.map(bits))).toEqual(
      [0, 1].map((r) => batch.values.map((col) => bits(col[r] as number))),
    );
    expect(Object.is(lines[0]?.doubles[1], -0)).toBe(true);
    expect(lines[0]?.tail).toBe(
      ',datetime_ns=1767574800000000000i,row_hash=-9223372036854775808i,segment_id=3i 1767574800000000000',
    );
    expect(lines[1]?.tail).toBe(
      ',datetime_ns=1767574800123456789i,row_hash=9223372036854775807i,segment_id=3i 1767574800123456000',
    );
  });

  it('fits rows of the longest numbers into the body, in both protocol versions', () => {
    // Prepare: every double and LONG at its longest text
    const day = makeDay(2000);
    const batch = {
      ...day,
      datetimeNs: day.datetimeNs.map((d) => -d),
      rowHash: day.rowHash.map(() => -(2n ** 63n)),
      segmentId: -(2n ** 63n),
      values: day.values.map((v) =>
        v.map((_, i) => (i % 2 === 0 ? -2.2250738585072014e-308 : -1.7976931348623157e308)),
      ),
    };
    const tsUs = truncateToMicros(batch.datetimeNs);
    // Act
    const v1 = encodeTickDayIlp({ table: T, symbol: CU, tradingDay: '2026-01-05', batch, tsUs }, 1).toString('latin1');
    const v2 = encodeTickDayIlp({ table: T, symbol: CU, tradingDay: '2026-01-05', batch, tsUs }, 2);
    // Assess
    const lines = v1.split('\n');
    expect(lines).toHaveLength(2001);
    expect(lines[1999]).toContain(',ask_volume5=-1.7976931348623157e+308 ');
    expect(lines[1999]).toContain('segment_id=-9223372036854775808i');
    const parsed = v2Lines(v2, Buffer.byteLength(PREFIX));
    expect(parsed).toHaveLength(2000);
    expect(parsed[1999]?.doubles).toEqual(batch.values.map((v) => v[1999]));
    expect(parsed[1999]?.tail).toBe(
      `,datetime_ns=${batch.datetimeNs[1999]}i,row_hash=-9223372036854775808i,segment_id=-9223372036854775808i ${(tsUs[1999] as bigint) * 1000n}`,
    );
  });

  it('escapes tag values and refuses an empty SYMBOL', () => {
    // Prepare
    const batch = makeDay(1);
    const tsUs = truncateToMicros(batch.datetimeNs);
    // Act
    const body = encodeTickDayIlp({ table: T, symbol: 'odd sym,bol', tradingDay: '2026-01-05', batch, tsUs }, 1);
    const empty = () =>
      encodeTickDayIlp(
        { table: T, symbol: CU, tradingDay: '2026-01-05', batch: { ...batch, underlyingContract: '' }, tsUs },
        1,
      );
    // Assess
    expect(body.toString().startsWith(`${T},symbol=odd\\ sym\\,bol,trading_day=`)).toBe(true);
    expect(empty).toThrow(TickStoreInputError);
  });
});

describe('distinct dedup keys of a batch', () => {
  it('collapses exact re-deliveries and ticks of the same µs and hash, sorted or not', () => {
    // Prepare
    const ts = truncateToMicros(BigInt64Array.from([1_000_000n, 1_000_001n, 1_000_999n, 2_000_000n, 2_000_000n]));
    const rh = BigInt64Array.from([5n, 5n, 6n, 7n, 7n]);
    const shuffled = [4, 2, 0, 3, 1];
    // Act
    const sorted = countDistinctTickKeys(ts, rh);
    const unsorted = countDistinctTickKeys(
      BigInt64Array.from(shuffled.map((i) => ts[i] as bigint)),
      BigInt64Array.from(shuffled.map((i) => rh[i] as bigint)),
    );
    // Assess
    expect([...ts]).toEqual([1000n, 1000n, 1000n, 2000n, 2000n]);
    expect(sorted).toBe(3); // (1000,5) twice, (1000,6), (2000,7) twice
    expect(unsorted).toBe(3);
    expect(countDistinctTickKeys(new BigInt64Array(0), new BigInt64Array(0))).toBe(0);
  });
});

describe('small-table rows as ILP', () => {
  const schedule: IlpColumn[] = TABLES.mainSchedule.columns.map((c) => ({ name: c.name, type: c.type }));
  const row = {
    exchange: 'SHFE',
    variety: 'cu',
    trading_day: '2026-01-05',
    main_contract: 'SHFE.cu2602',
    segment_id: 3n,
    schedule_hash: 'f25225a1507bb808',
    updated_at: 1_767_600_000_123_456n,
    ts: 1_767_571_200_000_000n,
  };

  it('writes SYMBOL tags, LONG with i, TIMESTAMP in µs with t and ts as the designated timestamp', () => {
    // Act
    const body = encodeRowsIlp(TABLES.mainSchedule.name, schedule, [row, { ...row, segment_id: null }], 1).toString();
    // Assess
    expect(body).toBe(
      'ghtrader_main_schedule_v2,exchange=SHFE,variety=cu,trading_day=2026-01-05,main_contract=SHFE.cu2602,schedule_hash=f25225a1507bb808 segment_id=3i,updated_at=1767600000123456t 1767571200000000000\n' +
        'ghtrader_main_schedule_v2,exchange=SHFE,variety=cu,trading_day=2026-01-05,main_contract=SHFE.cu2602,schedule_hash=f25225a1507bb808 updated_at=1767600000123456t 1767571200000000000\n',
    );
  });

  it('quotes STRING values and sends DOUBLE binary in v2, text in v1', () => {
    // Prepare
    const cols: IlpColumn[] = [
      { name: 'symbol', type: 'SYMBOL' },
      { name: 'report_uri', type: 'VARCHAR' },
      { name: 'rate', type: 'DOUBLE' },
      { name: 'ts', type: 'TIMESTAMP' },
    ];
    const r = { symbol: 'A', report_uri: 's3://b/"k"', rate: 0.1 + 0.2, ts: 1n };
    // Act
    const v1 = encodeRowsIlp('t', cols, [r], 1).toString();
    const v2 = encodeRowsIlp('t', cols, [r], 2);
    // Assess
    expect(v1).toBe('t,symbol=A report_uri="s3://b/\\"k\\"",rate=0.30000000000000004 1000\n');
    const head = Buffer.from('t,symbol=A report_uri="s3://b/\\"k\\"",rate==');
    expect(v2.subarray(0, head.length).equals(head)).toBe(true);
    expect(v2[head.length]).toBe(16);
    expect(v2.readDoubleLE(head.length + 1)).toBe(0.1 + 0.2);
    expect(v2.subarray(head.length + 9).toString()).toBe(' 1000\n');
  });

  it('refuses untyped values, a missing ts and columns it cannot encode', () => {
    // Act
    const numberForLong = () => encodeRowsIlp('t', schedule, [{ ...row, segment_id: 3 }], 1);
    const stringForTimestamp = () => encodeRowsIlp('t', schedule, [{ ...row, updated_at: '2026-01-05' }], 1);
    const noTs = () => encodeRowsIlp('t', schedule, [{ ...row, ts: null }], 1);
    const intColumn = () => encodeRowsIlp('t', [{ name: 'x', type: 'INT' }, ...schedule], [{ ...row, x: 1n }], 1);
    // Assess
    expect(numberForLong).toThrow('tick store: row 0: column segment_id must be an int64 bigint, got 3');
    expect(stringForTimestamp).toThrow(/updated_at must be a bigint of epoch microseconds/);
    expect(noTs).toThrow(/column ts must be a bigint/);
    expect(intColumn).toThrow(/QuestDB type INT/);
  });
});
