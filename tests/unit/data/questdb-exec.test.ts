import { describe, expect, it } from 'vitest';
import {
  decodeExecResponse,
  type ExecRows,
  execColumn,
  LONG_NULL,
  QuestDbQueryError,
} from '#shared/infra/tickstore/questdb-exec.ts';

function rows(text: string): ExecRows {
  const res = decodeExecResponse(text);
  if (res.kind !== 'rows') throw new Error('expected rows');
  return res;
}

const header = (cols: [string, string][]) =>
  `{"query":"q","columns":[${cols.map(([n, t]) => `{"name":"${n}","type":"${t}"}`).join(',')}],"timestamp":-1,"dataset":`;

describe('/exec JSON decoding', () => {
  it('reads LONG values beyond 2^53 exactly, bare or quoted (quoteLargeNum)', () => {
    // Prepare
    const text = `${header([['h', 'LONG']])}[[9007199254740993],["-9023450307992665517"],[9223372036854775807],[null]],"count":4}`;
    // Act
    const h = execColumn(rows(text), 'h', 'long');
    // Assess
    expect([...h]).toEqual([9007199254740993n, -9023450307992665517n, 2n ** 63n - 1n, LONG_NULL]);
    expect(BigInt(JSON.parse('[9007199254740993]')[0])).not.toBe(9007199254740993n); // what JSON.parse would lose
  });

  it('reads DOUBLE renderings back bit-exact, including -0.0, NaN, null and infinities', () => {
    // Prepare
    const cells = [
      '0.30000000000000004',
      '69990.00000000001',
      '-0.0',
      'NaN',
      'null',
      'Infinity',
      '-Infinity',
      '5.0E-324',
      '70000.0',
    ];
    const text = `${header([['v', 'DOUBLE']])}[${cells.map((c) => `[${c}]`).join(',')}],"count":${cells.length}}`;
    // Act
    const v = [...execColumn(rows(text), 'v', 'double')];
    // Assess
    expect(v[0]).toBe(0.1 + 0.2);
    expect(v[1]).toBe(69990.00000000001);
    expect(Object.is(v[2], -0)).toBe(true);
    expect(Number.isNaN(v[3])).toBe(true);
    expect(Number.isNaN(v[4])).toBe(true);
    expect(v.slice(5)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324, 70000]);
  });

  it('round-trips random doubles printed as shortest decimals', () => {
    // Prepare
    const view = new DataView(new ArrayBuffer(8));
    let seed = 12345;
    const values = Array.from({ length: 2000 }, () => {
      for (let b = 0; b < 8; b++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        view.setUint8(b, seed >>> 24);
      }
      const d = view.getFloat64(0);
      return Number.isFinite(d) ? d : 1.5;
    });
    const text = `${header([['v', 'DOUBLE']])}[${values.map((d) => `[${Object.is(d, -0) ? '-0.0' : String(d)}]`).join(',')}],"count":${values.length}}`;
    // Act
    const back = execColumn(rows(text), 'v', 'double');
    // Assess
    expect([...back]).toEqual(values);
  });

  it('reads SYMBOL/STRING/VARCHAR with escapes and nulls, and other types generically', () => {
    // Prepare
    const text =
      `${header([
        ['s', 'SYMBOL'],
        ['t', 'VARCHAR'],
        ['b', 'BOOLEAN'],
        ['ts', 'TIMESTAMP'],
      ])}` +
      '[["KQ.m@SHFE.cu","a \\"quoted\\" \\u00e9",true,"2026-01-05T01:00:00.000000Z"],[null,"",false,null]],"count":2}';
    // Act
    const res = rows(text);
    // Assess
    expect(execColumn(res, 's', 'string')).toEqual(['KQ.m@SHFE.cu', null]);
    expect(execColumn(res, 't', 'string')).toEqual(['a "quoted" é', '']);
    expect(res.columns[2]?.values).toEqual([true, false]);
    expect(res.columns[3]?.values).toEqual(['2026-01-05T01:00:00.000000Z', null]);
    expect(res.rowCount).toBe(2);
  });

  it('answers an empty dataset with typed empty columns', () => {
    // Act
    const res = rows(`${header([['n', 'LONG']])}[],"count":0}`);
    // Assess
    expect(res.rowCount).toBe(0);
    expect(execColumn(res, 'n', 'long')).toHaveLength(0);
  });

  it('turns an error answer into QuestDbQueryError with the position', () => {
    // Act
    const attempt = () =>
      decodeExecResponse('{"query":"SELECT * FROM nope","error":"table does not exist [table=nope]","position":14}');
    // Assess
    expect(attempt).toThrow(QuestDbQueryError);
    expect(attempt).toThrow('QuestDB query failed: table does not exist [table=nope] (at position 14)');
  });

  it('reports the server error of a query that failed while its rows streamed', () => {
    // Prepare: a row cut short, then the error suffix QuestDB appends after "count"
    const text = `${header([
      ['a', 'LONG'],
      ['b', 'DOUBLE'],
    ])}[[1,2.5],[2]],"count":2,"error":"timeout, query aborted", "errorPos":0}`;
    // Act
    const attempt = () => decodeExecResponse(text);
    // Assess
    expect(attempt).toThrow(/timeout, query aborted \(while streaming rows\)/);
  });

  it('reads statement answers', () => {
    // Act
    const ddl = decodeExecResponse('{"ddl":"OK"}');
    const update = decodeExecResponse('{"ddl":"OK","updated":34}');
    const dml = decodeExecResponse('{"dml":"OK"}');
    // Assess
    expect(ddl).toEqual({ kind: 'statement', ddl: 'OK' });
    expect(update).toEqual({ kind: 'statement', ddl: 'OK', updated: 34 });
    expect(dml).toEqual({ kind: 'statement', dml: 'OK' });
  });

  it('refuses malformed text and rows of the wrong width with the offset', () => {
    // Act
    const truncated = () => decodeExecResponse(`${header([['a', 'LONG']])}[[1],[2`);
    const wide = () => decodeExecResponse(`${header([['a', 'LONG']])}[[1,2]],"count":1}`);
    const badLong = () => decodeExecResponse(`${header([['a', 'LONG']])}[[1.5]],"count":1}`);
    // Assess
    expect(truncated).toThrow(/malformed \/exec response at offset/);
    expect(wide).toThrow(/closing row 0 after 1 columns/);
    expect(badLong).toThrow(/bad LONG "1.5"/);
  });

  it('checks the kind of a column a caller asks for', () => {
    // Prepare
    const res = rows(`${header([['a', 'DOUBLE']])}[[1.0]],"count":1}`);
    // Act
    const wrongKind = () => execColumn(res, 'a', 'long');
    const missing = () => execColumn(res, 'b', 'long');
    // Assess
    expect(wrongKind).toThrow('column a is DOUBLE, expected a long column');
    expect(missing).toThrow('result has no column b');
  });
});
