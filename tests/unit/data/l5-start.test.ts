import { describe, expect, it } from 'vitest';
import { firstL5Day, probeContracts, yymmDate } from '#shared/domain/data/l5-start.ts';
import type { ContractInfo } from '#shared/domain/market/ports.ts';

const contract = (instrument_id: string, expiry: string | null): ContractInfo =>
  ({
    instrument_id,
    exchange_id: 'SHFE',
    expire_datetime: expiry === null ? null : BigInt(Date.parse(expiry)) * 1_000_000n,
  }) as ContractInfo;

describe('L5 start probe plan (§5.7)', () => {
  it('reads the YYMM of a contract (yy < 70 is 20yy), or nothing', () => {
    expect(yymmDate('SHFE.cu2505')).toBe('2025-05-01');
    expect(yymmDate('cu9912')).toBe('1999-12-01');
    expect(yymmDate('SHFE.cu2513')).toBeNull();
    expect(yymmDate('KQ.m@SHFE.cu')).toBeNull();
  });

  it('orders contracts by their YYMM date (unparsable last) and bounds each window', () => {
    // Prepare
    const contracts = [
      contract('SHFE.cu2503', '2025-03-17'),
      contract('SHFE.cu2501', '2025-01-15'),
      contract('SHFE.cuXX', null),
    ];
    // Act
    const plan = probeContracts(contracts, '2025-03-03', '2015-01-05', (c) =>
      c.expire_datetime === null ? null : new Date(Number(c.expire_datetime / 1_000_000n)).toISOString().slice(0, 10),
    );
    // Assess: expiry or the requested end, whichever is earlier; start three years back, never before 2010 or the calendar
    expect(plan).toEqual([
      { symbol: 'SHFE.cu2501', order_date: '2025-01-01', window_start: '2022-01-01', window_end: '2025-01-15' },
      { symbol: 'SHFE.cu2503', order_date: '2025-03-01', window_start: '2022-01-01', window_end: '2025-03-03' },
      { symbol: 'SHFE.cuXX', order_date: '2099-01-01', window_start: '2022-01-01', window_end: '2025-03-03' },
    ]);
    expect(
      probeContracts([contract('SHFE.cu1203', '2012-03-15')], '2025-03-03', '2015-01-05', () => '2012-03-15'),
    ).toEqual([]);
  });

  it('finds the first day of a monotone predicate with the last day first, then a binary search', async () => {
    // Prepare
    const days = Array.from({ length: 100 }, (_, i) => `d${String(i).padStart(3, '0')}`);
    for (const first of [0, 1, 37, 98, 99]) {
      const asked: string[] = [];
      // Act
      const r = await firstL5Day(days, async (d) => {
        asked.push(d);
        return d >= (days[first] as string);
      });
      // Assess
      expect(r.day, `first=${first}`).toBe(days[first]);
      expect(asked[0]).toBe('d099');
      expect(r.probes).toBe(asked.length);
      expect(r.probes).toBeLessThanOrEqual(1 + Math.ceil(Math.log2(101)));
    }
    expect(await firstL5Day(days, async () => false)).toEqual({ day: null, probes: 1 });
    expect(await firstL5Day([], async () => true)).toEqual({ day: null, probes: 0 });
  });
});
