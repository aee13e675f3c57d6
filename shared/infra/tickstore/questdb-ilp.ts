/**
 * InfluxDB Line Protocol (ILP) bodies for QuestDB's `/write?precision=n` endpoint, built in one buffer per request.
 *
 * Why not `@questdb/nodejs-client`'s per-row `Sender` API: it serialises about 30,000 tick rows/s on these machines
 * (setup notes), and its `intColumn` only takes a JS number (`Number.isInteger`), which cannot carry an int64
 * `row_hash` exactly. The wire format below is the one that client writes (its `SenderBufferV1/V2`):
 * - a line is `table,tag=v,… field=v,… <designated timestamp>\n`; SYMBOL columns are tags (they come first), other
 *   columns fields; names and tag values escape space, comma, '=', CR/LF and backslash with a backslash;
 * - LONG fields end in `i`, TIMESTAMP fields are epoch µs ending in `t`, STRING fields are double-quoted with '"',
 *   backslash and CR/LF escaped; the designated timestamp carries no suffix and is read in the request's precision
 *   (nanoseconds here), so a tick's `ts` is sent as `datetime_ns` truncated to µs, times 1000;
 * - DOUBLE in protocol version 1 is text: `String(v)` is the shortest round-trip decimal, `-0.0` keeps its sign and
 *   NaN (QuestDB's DOUBLE null) is left out; protocol version 2 (QuestDB 9; `line.proto.support.versions` in
 *   `/settings`) sends `name==` + entity type 16 + the 8 IEEE-754 bytes little-endian, bit-exact by construction —
 *   text parsing of doubles was not always faithful in QuestDB (questdb/questdb#2269), so version 2 is preferred.
 * A missing (null) value is simply not sent: QuestDB stores it as the column's null.
 */

import { TICK_NUMERIC_COLUMNS } from '../../domain/data/tick-columns.ts';
import type { Row, TickDayBatch } from '../../domain/data/tick-store.ts';
import { TickStoreInputError } from '../../domain/data/tick-store.ts';

export type IlpVersion = 1 | 2;

/** Escapes a table name, column name or tag (SYMBOL) value. */
export function escapeIlpName(s: string): string {
  return s.replace(/[ ,=\n\r\\]/g, (ch) => `\\${ch}`);
}

/** Escapes the inside of a double-quoted STRING field. */
export function escapeIlpString(s: string): string {
  return s.replace(/["\n\r\\]/g, (ch) => `\\${ch}`);
}

/** A SYMBOL (tag) value: ILP cannot carry an empty tag value, so '' is refused rather than turned into null. */
export function ilpTagValue(column: string, value: string): string {
  if (value.length === 0) {
    throw new TickStoreInputError(`SYMBOL column ${column} cannot be written as '' over ILP; use null`, { column });
  }
  return escapeIlpName(value);
}

/** Protocol-v1 text of a DOUBLE field, or `null` for NaN (not sent: QuestDB's DOUBLE null). */
export function formatIlpDouble(v: number): string | null {
  if (Number.isNaN(v)) return null;
  if (v === 0 && Object.is(v, -0)) return '-0.0';
  return String(v); // shortest round-trip; 'Infinity' / '-Infinity' / '1e+21' as JS prints them
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** `datetime_ns` truncated to µs (toward zero, as DuckDB's `datetime_ns // 1000` for the positive instants here). */
export function truncateToMicros(datetimeNs: BigInt64Array): BigInt64Array {
  const out = new BigInt64Array(datetimeNs.length);
  for (let i = 0; i < out.length; i++) out[i] = (datetimeNs[i] as bigint) / 1000n;
  return out;
}

/**
 * Distinct dedup keys of a day batch. Symbol, ticks_kind and dataset_version are constant in a batch, so the key is
 * `(ts µs, row_hash)` — the QuestDB UPSERT KEYS of the tick table. Sorted batches are counted in one pass.
 */
export function countDistinctTickKeys(tsUs: BigInt64Array, rowHash: BigInt64Array): number {
  const n = tsUs.length;
  if (rowHash.length !== n) throw new TickStoreInputError(`row_hash has ${rowHash.length} values for ${n} rows`);
  let sorted = true;
  let distinct = n > 0 ? 1 : 0;
  for (let i = 1; i < n; i++) {
    const t0 = tsUs[i - 1] as bigint;
    const t1 = tsUs[i] as bigint;
    const h0 = rowHash[i - 1] as bigint;
    const h1 = rowHash[i] as bigint;
    if (t1 < t0 || (t1 === t0 && h1 < h0)) {
      sorted = false;
      break;
    }
    if (t1 !== t0 || h1 !== h0) distinct++;
  }
  if (sorted) return distinct;
  const keys = new Set<string>();
  for (let i = 0; i < n; i++) keys.add(`${tsUs[i]}:${rowHash[i]}`);
  return keys.size;
}

/** ASCII text into a buffer, byte by byte: faster than `Buffer#write` for the many short strings of a body. */
function putAscii(buf: Uint8Array, pos: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + n;
}

function nsText(tsUs: bigint): string {
  return tsUs === 0n ? '0' : `${tsUs}000`;
}

export interface TickDayIlpInput {
  readonly table: string;
  readonly symbol: string;
  readonly tradingDay: string;
  readonly batch: TickDayBatch;
  /** `datetime_ns` truncated to µs (`truncateToMicros`), the designated `ts`. */
  readonly tsUs: BigInt64Array;
}

const DOUBLE_ENTITY = 16; // protocol v2: '=' + entity type DOUBLE + 8 bytes little-endian

/**
 * One `(symbol, trading_day)` of ticks as one ILP body (one request = one transaction on one table). The six SYMBOL
 * columns are tags; `datetime_ns`, `row_hash` and `segment_id` LONG fields; the 27 numeric columns DOUBLE fields.
 */
export function encodeTickDayIlp(input: TickDayIlpInput, version: IlpVersion): Buffer {
  const { batch, tsUs } = input;
  const n = batch.datetimeNs.length;
  if (tsUs.length !== n || batch.rowHash.length !== n || batch.values.length !== TICK_NUMERIC_COLUMNS.length) {
    throw new TickStoreInputError('tick batch columns disagree in length');
  }
  const prefix = Buffer.from(
    `${escapeIlpName(input.table)},symbol=${ilpTagValue('symbol', input.symbol)},trading_day=${ilpTagValue('trading_day', input.tradingDay)},` +
      `ticks_kind=${ilpTagValue('ticks_kind', batch.ticksKind)},dataset_version=${ilpTagValue('dataset_version', batch.datasetVersion)},` +
      `underlying_contract=${ilpTagValue('underlying_contract', batch.underlyingContract)},` +
      `schedule_hash=${ilpTagValue('schedule_hash', batch.scheduleHash)} `,
    'utf8',
  );
  if (batch.segmentId < INT64_MIN || batch.segmentId > INT64_MAX) {
    throw new TickStoreInputError(`segment_id ${batch.segmentId} is outside int64`);
  }
  const segment = `i,segment_id=${batch.segmentId}i `;
  const cols = batch.values;
  const dt = batch.datetimeNs;
  const rh = batch.rowHash;

  if (version === 2) {
    // Row = [prefix + fixed-size DOUBLE block] (copied) + [LONG fields and timestamp] (text).
    const parts: number[] = [];
    const offsets: number[] = [];
    TICK_NUMERIC_COLUMNS.forEach((name, k) => {
      for (const ch of `${k > 0 ? ',' : ''}${name}==`) parts.push(ch.charCodeAt(0));
      parts.push(DOUBLE_ENTITY);
      offsets.push(prefix.length + parts.length);
      for (let b = 0; b < 8; b++) parts.push(0);
    });
    const template = Buffer.concat([prefix, Buffer.from(parts)]);
    const tlen = template.length;
    const buf = Buffer.allocUnsafe(n * (tlen + 96 + segment.length));
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let pos = 0;
    for (let r = 0; r < n; r++) {
      buf.set(template, pos);
      for (let k = 0; k < offsets.length; k++) {
        view.setFloat64(pos + (offsets[k] as number), (cols[k] as Float64Array)[r] as number, true);
      }
      pos += tlen;
      pos = putAscii(buf, pos, `,datetime_ns=${dt[r]}i,row_hash=${rh[r]}${segment}${nsText(tsUs[r] as bigint)}\n`);
    }
    return finish(buf, pos);
  }

  const names = TICK_NUMERIC_COLUMNS.map((c) => `,${c}=`);
  // Upper bound per row: prefix, three LONGs and the timestamp, 27 names and doubles of at most 24 characters.
  const perRow = prefix.length + 110 + segment.length + names.reduce((a, c) => a + c.length + 24, 0);
  const buf = Buffer.allocUnsafe(n * perRow);
  let pos = 0;
  for (let r = 0; r < n; r++) {
    buf.set(prefix, pos);
    pos += prefix.length;
    pos = putAscii(buf, pos, `datetime_ns=${dt[r]}i,row_hash=${rh[r]}${segment.slice(0, -1)}`);
    for (let k = 0; k < names.length; k++) {
      const v = formatIlpDouble((cols[k] as Float64Array)[r] as number);
      if (v === null) continue;
      pos = putAscii(buf, pos, names[k] as string);
      pos = putAscii(buf, pos, v);
    }
    pos = putAscii(buf, pos, ` ${nsText(tsUs[r] as bigint)}\n`);
  }
  return finish(buf, pos);
}

/** Typed-array writes past the end are dropped silently: a body that outgrew its estimate is an error, not data. */
function finish(buf: Buffer, pos: number): Buffer {
  if (pos > buf.length) throw new Error(`ILP body overflowed its buffer (${pos} > ${buf.length} bytes)`);
  return buf.subarray(0, pos);
}

/** A real column of the target table: its name and QuestDB type (from `table_columns`). */
export interface IlpColumn {
  readonly name: string;
  readonly type: string;
}

function describeValue(v: unknown): string {
  return typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/**
 * Small-table rows (§1.3 `writeRows`) as one ILP body. Each row carries typed cells (`CellValue`): SYMBOL/STRING a
 * string, LONG a bigint, DOUBLE a number, TIMESTAMP a bigint of epoch µs; `null` is not sent. `ts` becomes the
 * designated timestamp and must be present.
 */
export function encodeRowsIlp(
  table: string,
  columns: readonly IlpColumn[],
  rows: readonly Row[],
  version: IlpVersion,
): Buffer {
  const t = escapeIlpName(table);
  const fields = columns.filter((c) => c.name !== 'ts');
  const pieces: Buffer[] = [];
  rows.forEach((row, r) => {
    const bad = (col: string, v: unknown, expected: string): never => {
      throw new TickStoreInputError(`row ${r}: column ${col} must be ${expected}, got ${describeValue(v)}`, {
        row: r,
        column: col,
      });
    };
    const ts = row.ts;
    if (typeof ts !== 'bigint') bad('ts', ts, 'a bigint of epoch microseconds (designated timestamp)');
    let tags = '';
    const body: Buffer[] = [];
    const text = (s: string) => body.push(Buffer.from(body.length === 0 ? s : `,${s}`, 'utf8'));
    for (const c of fields) {
      const v = row[c.name];
      if (v === null || v === undefined) continue;
      const name = escapeIlpName(c.name);
      switch (c.type.toUpperCase()) {
        case 'SYMBOL':
          if (typeof v !== 'string') bad(c.name, v, 'a string');
          tags += `,${name}=${ilpTagValue(c.name, v as string)}`;
          break;
        case 'STRING':
        case 'VARCHAR':
          if (typeof v !== 'string') bad(c.name, v, 'a string');
          text(`${name}="${escapeIlpString(v as string)}"`);
          break;
        case 'LONG':
          if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) bad(c.name, v, 'an int64 bigint');
          text(`${name}=${v}i`);
          break;
        case 'TIMESTAMP':
          if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) bad(c.name, v, 'a bigint of epoch microseconds');
          text(`${name}=${v}t`);
          break;
        case 'DOUBLE': {
          if (typeof v !== 'number') bad(c.name, v, 'a number');
          const num = v as number;
          if (Number.isNaN(num)) break;
          if (version === 2) {
            text(`${name}=`);
            const bin = Buffer.allocUnsafe(10);
            bin[0] = 61; // '='
            bin[1] = DOUBLE_ENTITY;
            bin.writeDoubleLE(num, 2);
            body.push(bin);
          } else text(`${name}=${formatIlpDouble(num)}`);
          break;
        }
        default:
          throw new TickStoreInputError(`column ${c.name} has QuestDB type ${c.type}, which writeRows cannot encode`, {
            column: c.name,
            type: c.type,
          });
      }
    }
    if (body.length === 0 && tags.length === 0) {
      throw new TickStoreInputError(`row ${r}: every value is null; ILP needs at least one column`, { row: r });
    }
    pieces.push(Buffer.from(`${t}${tags}${body.length > 0 ? ' ' : ''}`, 'utf8'), ...body);
    pieces.push(Buffer.from(` ${nsText(ts as bigint)}\n`, 'latin1'));
  });
  return Buffer.concat(pieces);
}
