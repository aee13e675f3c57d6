import { describe, expect, it } from 'vitest';
import { MainL5ShapeError } from '#shared/domain/data/main-l5/errors.ts';
import { isTrueL5Row } from '#shared/domain/data/main-l5/l5-rule.ts';
import { RowHasher } from '#shared/domain/data/main-l5/row-hasher.ts';
import { DayShaper, type ShapedDay, shapeDay, shapeDayAsync } from '#shared/domain/data/main-l5/shape.ts';
import { rowHashFnv1a64V1Reference } from '#shared/domain/data/row-hash.ts';
import { TICK_NUMERIC_COLUMNS, type TickNumericColumn } from '#shared/domain/data/tick-columns.ts';
import { shippedCalendar, TradingCalendar } from '#shared/domain/market/calendar/index.ts';
import type { TickRow } from '#shared/domain/market/ports.ts';
import { parseCst, type SessionWindow, sessionWindows, tradingDayOf } from '#shared/domain/market/sessions.ts';
import type { Variety } from '#shared/domain/market/varieties.ts';
import { RowHashInputError } from '#shared/errors/data.ts';
import { NotATradingDayError } from '#shared/errors/market.ts';

/** A wire row whose 27 numeric cells are all `fill` unless overridden. */
function tick(datetime: bigint, fill = 1, patch: Partial<Record<TickNumericColumn, number>> = {}, id = 0): TickRow {
  const row: Record<string, unknown> = { symbol: 'SHFE.ag2502', id, trading_day: '', datetime };
  for (const c of TICK_NUMERIC_COLUMNS) row[c] = patch[c] ?? fill;
  return row as unknown as TickRow;
}

const cst = (text: string): bigint => parseCst(text);

/** Values of row i of a shaped batch, positionally. */
function rowValues(day: ShapedDay, i: number): number[] {
  return day.batch.values.map((col) => col[i] as number);
}

describe('shapeDay (data-chain §5.4, §11 item 4)', () => {
  it('keeps exactly the 7 ag ticks of Monday 2025-01-13, dropping Fri 16:00 and Mon 17:00', () => {
    // Prepare
    const calendar = new TradingCalendar({
      source: 'test',
      source_urls: [],
      covers: { from: '2025-01-06', to: '2025-01-17' },
      holidays: [],
    });
    const times = [
      '2025-01-10 21:00:00',
      '2025-01-10 22:30:00',
      '2025-01-11 00:00:00',
      '2025-01-11 01:30:00',
      '2025-01-11 02:29:00',
      '2025-01-13 09:00:00',
      '2025-01-13 13:30:00',
      '2025-01-10 16:00:00',
      '2025-01-13 17:00:00',
    ];
    const rows = times.map((t, i) => tick(cst(t), 1.0, {}, i + 1));

    // Act
    const day = shapeDay([rows.slice(0, 4), rows.slice(4)], { tradingDay: '2025-01-13', variety: 'ag', calendar });

    // Assess
    expect(day.batch.datetimeNs.length).toBe(7);
    expect([...day.batch.datetimeNs]).toEqual(times.slice(0, 7).map(cst));
    expect(day.batch.datetimeNs).not.toContain(cst('2025-01-10 16:00:00'));
    expect(day.batch.datetimeNs).not.toContain(cst('2025-01-13 17:00:00'));
    expect(day.counts).toEqual({ rows_fetched: 9, rows_l5: 9, rows_in_session: 7 });
    expect(day.batch.values).toHaveLength(27);
    expect(rowValues(day, 0)).toEqual(new Array(27).fill(1));
    expect(day.batch.rowHash[0]).toBe(rowHashFnv1a64V1Reference(cst(times[0] as string), new Array(27).fill(1)));
  });

  it('drops Saturday 01:30 for cu (its night ends at 01:00) and keeps it for ag', () => {
    // Prepare
    const calendar = shippedCalendar();
    const rows = [tick(cst('2025-01-11 00:59:59')), tick(cst('2025-01-11 01:30:00'))];

    // Act
    const cu = shapeDay([rows], { tradingDay: '2025-01-13', variety: 'cu', calendar });
    const ag = shapeDay([rows], { tradingDay: '2025-01-13', variety: 'ag', calendar });

    // Assess
    expect(cu.counts.rows_in_session).toBe(1);
    expect(ag.counts.rows_in_session).toBe(2);
  });

  it('counts fetched, true-L5 and in-session rows separately', () => {
    // Prepare: an L1-only row, a stale partial book (legacy rule would keep it), two L5 rows of which one after close.
    const calendar = shippedCalendar();
    const l1Only = tick(cst('2025-01-13 09:01:00'), 0, {
      bid_price1: 1,
      bid_volume1: 1,
      ask_price1: 2,
      ask_volume1: 1,
    });
    const partial = tick(cst('2025-01-13 09:02:00'), 1, { bid_price4: 0, ask_price4: Number.NaN });
    const inside = tick(cst('2025-01-13 09:03:00'));
    const afterClose = tick(cst('2025-01-13 15:00:01'));

    // Act
    const day = shapeDay([[l1Only, partial], [inside, afterClose], []], {
      tradingDay: '2025-01-13',
      variety: 'cu',
      calendar,
    });

    // Assess
    expect(day.counts).toEqual({ rows_fetched: 4, rows_l5: 2, rows_in_session: 1 });
    expect([...day.batch.datetimeNs]).toEqual([cst('2025-01-13 09:03:00')]);
  });

  it('keeps a print inside the last second of a window (inclusive whole-second bounds)', () => {
    const day = shapeDay([[tick(cst('2025-01-13 15:00:00.999999999')), tick(cst('2025-01-13 15:00:01'))]], {
      tradingDay: '2025-01-13',
      variety: 'cu',
      calendar: shippedCalendar(),
    });
    expect(day.counts.rows_in_session).toBe(1);
  });

  it('has no night for the first day after a holiday (2025-02-05)', () => {
    const day = shapeDay([[tick(cst('2025-02-04 21:30:00')), tick(cst('2025-02-05 09:30:00'))]], {
      tradingDay: '2025-02-05',
      variety: 'cu',
      calendar: shippedCalendar(),
    });
    expect([...day.batch.datetimeNs]).toEqual([cst('2025-02-05 09:30:00')]);
  });

  it('sorts rows by (datetime_ns, row_hash) and keeps two distinct ticks sharing a timestamp', () => {
    // Prepare
    const calendar = shippedCalendar();
    const t1 = cst('2025-01-13 09:00:01');
    const t2 = cst('2025-01-13 09:00:02');
    const rows = [tick(t2, 3), tick(t1, 5), tick(t1, 2), tick(t1, 4)];
    const hashOf = (r: TickRow) =>
      rowHashFnv1a64V1Reference(
        r.datetime,
        TICK_NUMERIC_COLUMNS.map((c) => r[c]),
      );

    // Act
    const day = shapeDay([rows], { tradingDay: '2025-01-13', variety: 'cu', calendar });

    // Assess
    const expected = rows
      .map((r) => ({ dt: r.datetime, h: hashOf(r), v: r.last_price }))
      .sort((a, b) => (a.dt !== b.dt ? (a.dt < b.dt ? -1 : 1) : a.h < b.h ? -1 : a.h > b.h ? 1 : 0));
    expect([...day.batch.datetimeNs]).toEqual(expected.map((e) => e.dt));
    expect([...day.batch.rowHash]).toEqual(expected.map((e) => e.h));
    expect([...(day.batch.values[0] as Float64Array)]).toEqual(expected.map((e) => e.v));
  });

  it('stores absent and non-numeric cells as NaN and hashes them as 0.0', () => {
    // Prepare
    const calendar = shippedCalendar();
    const t = cst('2025-01-13 10:00:00');
    const row = tick(t, 1, { average: Number.NaN });
    (row as unknown as Record<string, unknown>).amount = null;

    // Act
    const day = shapeDay([[row]], { tradingDay: '2025-01-13', variety: 'cu', calendar });

    // Assess
    const v = rowValues(day, 0);
    expect(v[1]).toBeNaN();
    expect(v[5]).toBeNaN();
    const zeroed = new Array(27).fill(1);
    zeroed[1] = 0;
    zeroed[5] = 0;
    expect(day.batch.rowHash[0]).toBe(rowHashFnv1a64V1Reference(t, zeroed));
  });

  it('fails the day for a row without an integer datetime; the hasher refuses datetimes outside int64', () => {
    const ctx = { tradingDay: '2025-01-13', variety: 'cu' as const, calendar: shippedCalendar() };
    const noDatetime = tick(0n);
    (noDatetime as unknown as Record<string, unknown>).datetime = 1736730000000000000;
    expect(() => shapeDay([[noDatetime]], ctx)).toThrow(MainL5ShapeError);

    // A datetime beyond int64 cannot be hashed (and never falls back to hashing less).
    expect(() => new RowHasher().hash(1n << 63n, new Float64Array(27))).toThrow(RowHashInputError);
  });

  it('refuses a day that is not a trading day', () => {
    expect(() => shapeDay([], { tradingDay: '2025-01-11', variety: 'cu', calendar: shippedCalendar() })).toThrow(
      NotATradingDayError,
    );
  });

  it('shapes an async page stream the same way', async () => {
    // Prepare
    const calendar = shippedCalendar();
    const pages = [[tick(cst('2025-01-13 09:00:00'))], [tick(cst('2025-01-13 10:00:00'))]];
    async function* stream() {
      for (const p of pages) yield p;
    }

    // Act
    const viaAsync = await shapeDayAsync(stream(), { tradingDay: '2025-01-13', variety: 'cu', calendar });
    const viaSync = shapeDay(pages, { tradingDay: '2025-01-13', variety: 'cu', calendar });

    // Assess
    expect(viaAsync).toEqual(viaSync);
    expect(viaAsync.batch.datetimeNs.length).toBe(2);
  });

  it('refuses to finish twice', () => {
    const shaper = new DayShaper({ tradingDay: '2025-01-13', variety: 'cu', calendar: shippedCalendar() });
    shaper.finish();
    expect(() => shaper.finish()).toThrow(MainL5ShapeError);
  });

  it.each<[Variety, string]>([
    ['ag', '2025-01-13'],
    ['cu', '2025-02-05'],
  ])(
    'agrees with tradingDayOf + the strict rule + the reference hash on a large shuffled day (%s %s)',
    (variety, d) => {
      // Prepare: 20k rows, most inside or just around D's windows, the rest anywhere from noon of the previous
      // trading day to 18:00 of D; every ~4th is L1-only; scrambled order, duplicated timestamps; > 8192 kept rows
      // so the result spans several storage chunks.
      const calendar = shippedCalendar();
      const windows = sessionWindows(calendar, d, variety);
      const from = cst(`${calendar.prevTradingDay(d)} 12:00:00`);
      const to = cst(`${d} 18:00:00`);
      let s = 12345;
      const rand = () => {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        return s / 4_294_967_296;
      };
      const rows: TickRow[] = [];
      for (let i = 0; i < 20_000; i++) {
        let dt: bigint;
        if (rand() < 0.75) {
          const w = windows[Math.floor(rand() * windows.length)] as SessionWindow;
          const lo = w.start_s - 30;
          dt = BigInt(lo + Math.floor(rand() * (w.end_s - lo + 31))) * 1_000_000_000n;
        } else {
          dt = from + BigInt(Math.floor(rand() * Number((to - from) / 1_000_000_000n))) * 1_000_000_000n;
        }
        dt += BigInt(Math.floor(rand() * 2)) * 500_000_000n;
        const l1Only = rand() < 0.25;
        rows.push(tick(dt, 0, l1Only ? { last_price: i } : { last_price: i, ...fullBookPatch() }, i));
      }
      const pages: TickRow[][] = [];
      for (let i = 0; i < rows.length; i += 2000) pages.push(rows.slice(i, i + 2000));

      // Act
      const day = shapeDay(pages, { tradingDay: d, variety, calendar });

      // Assess
      const kept = rows
        .filter((r) => isTrueL5Row(Float64Array.from(TICK_NUMERIC_COLUMNS, (c) => r[c])))
        .filter((r) => {
          const td = tradingDayOf(calendar, r.datetime, 'SHFE', variety);
          return td.trading_day === d && td.in_session;
        })
        .map((r) => ({
          dt: r.datetime,
          h: rowHashFnv1a64V1Reference(
            r.datetime,
            TICK_NUMERIC_COLUMNS.map((c) => r[c]),
          ),
          lp: r.last_price,
        }))
        .sort((a, b) => (a.dt !== b.dt ? (a.dt < b.dt ? -1 : 1) : a.h < b.h ? -1 : a.h > b.h ? 1 : 0));
      const mismatches: number[] = [];
      for (let i = 0; i < kept.length && mismatches.length < 5; i++) {
        const k = kept[i] as { dt: bigint; h: bigint; lp: number };
        const b = day.batch;
        if (b.datetimeNs[i] !== k.dt || b.rowHash[i] !== k.h || b.values[0]?.[i] !== k.lp) mismatches.push(i);
      }
      expect(kept.length).toBeGreaterThan(8192);
      expect(day.counts.rows_fetched).toBe(20_000);
      expect(day.counts.rows_in_session).toBe(kept.length);
      expect(day.batch.datetimeNs.length).toBe(kept.length);
      expect(day.batch.values.every((c) => c.length === kept.length)).toBe(true);
      expect(mismatches).toEqual([]);
    },
  );
});

function fullBookPatch(): Partial<Record<TickNumericColumn, number>> {
  const p: Partial<Record<TickNumericColumn, number>> = {};
  for (let i = 1; i <= 5; i++) {
    p[`bid_price${i}` as TickNumericColumn] = 100 - i;
    p[`bid_volume${i}` as TickNumericColumn] = i;
    p[`ask_price${i}` as TickNumericColumn] = 100 + i;
    p[`ask_volume${i}` as TickNumericColumn] = i;
  }
  return p;
}

describe('RowHasher (allocation-free fnv1a64_v1, §2.2)', () => {
  it('reproduces both spec vectors', () => {
    // Prepare
    const h = new RowHasher();
    const b = Float64Array.from(TICK_NUMERIC_COLUMNS, (c) =>
      c === 'last_price'
        ? 70000
        : c === 'bid_price1'
          ? 69990
          : c === 'ask_price1'
            ? 70010
            : c === 'bid_volume1'
              ? 5
              : c === 'ask_volume1'
                ? 7
                : c === 'volume'
                  ? 100
                  : c === 'open_interest'
                    ? 200000
                    : 0,
    );

    // Act + Assess
    h.hash(0n, new Float64Array(27));
    expect(h.value()).toBe(-514687452735585709n);
    h.hash(1735689600000000000n, b);
    expect(h.value()).toBe(-9023450307992665517n);
  });

  it('matches the BigInt reference on random rows and special values', () => {
    // Prepare
    const specials = [
      Number.NaN,
      -0,
      0,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      5e-324,
      1.7976931348623157e308,
      0.1,
      -69990.5,
    ];
    let s = 7;
    const rand = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4_294_967_296;
    };
    const h = new RowHasher();
    const mismatches: string[] = [];

    // Act
    for (let i = 0; i < 2000; i++) {
      const v = Float64Array.from({ length: 27 }, () =>
        rand() < 0.3 ? (specials[Math.floor(rand() * specials.length)] as number) : (rand() - 0.5) * 1e6,
      );
      const dt = BigInt(Math.floor((rand() - 0.5) * 2 ** 52)) * BigInt(Math.floor(rand() * 4096) + 1);
      h.hash(dt, v);
      const want = rowHashFnv1a64V1Reference(dt, [...v]);
      if (h.value() !== want) mismatches.push(`${dt}`);
    }
    h.hash(-(1n << 63n), new Float64Array(27));
    const minOk = h.value() === rowHashFnv1a64V1Reference(-(1n << 63n), new Array(27).fill(0));

    // Assess
    expect(mismatches).toEqual([]);
    expect(minOk).toBe(true);
  });
});
