import { describe, expect, it } from 'vitest';
import { badValueOf, FaultSchema, Faults, oddNsOffset } from '#colo/sim/faults.ts';

function pinned() {
  let now = 1_000_000;
  return { wall: () => now, advance: (ms: number) => (now += ms) };
}

describe('Faults', () => {
  it('expires timed faults on the wall clock', () => {
    // Prepare
    const w = pinned();
    const f = new Faults(w.wall);
    f.add(FaultSchema.parse({ kind: 'quote_stall', symbol: 'SHFE.cu2502', for_s: 2 }));

    // Act
    const during = f.stalled('SHFE.cu2502');
    const other = f.stalled('SHFE.cu2503');
    w.advance(2001);

    // Assess
    expect([during, other, f.stalled('SHFE.cu2502')]).toEqual([true, false, false]);
  });

  it('stalls every symbol with "*"', () => {
    // Prepare
    const f = new Faults(pinned().wall);

    // Act
    f.add(FaultSchema.parse({ kind: 'quote_stall', for_s: 1 }));

    // Assess
    expect(f.stalled('SHFE.ag2506')).toBe(true);
  });

  it('hands a bad-values fault out exactly count times', () => {
    // Prepare
    const f = new Faults(pinned().wall);
    f.add(FaultSchema.parse({ kind: 'bad_values', symbol: 's', fields: ['last_price'], value: '-', count: 2 }));

    // Act
    const taken = [f.takeBadValues('s'), f.takeBadValues('s'), f.takeBadValues('s')];

    // Assess
    expect(taken.map((t) => t?.value ?? 'none')).toEqual(['-', '-', 'none']);
  });

  it('takes the larger of the --delay-ms base and an active delay for the socket kind', () => {
    // Prepare
    const w = pinned();
    const f = new Faults(w.wall, 10);
    f.add(FaultSchema.parse({ kind: 'delay', socket: 'md', ms: 300, for_s: 1 }));

    // Act
    const md = f.delayMs('md');
    const trade = f.delayMs('trade');
    w.advance(1500);

    // Assess
    expect([md, trade, f.delayMs('md')]).toEqual([300, 10, 10]);
  });

  it('clears everything on DELETE', () => {
    // Prepare
    const f = new Faults(pinned().wall);
    f.add(FaultSchema.parse({ kind: 'maintenance', for_s: 60 }));
    f.add(FaultSchema.parse({ kind: 'odd_ns', on: true }));
    f.add(FaultSchema.parse({ kind: 'limit_lock', symbol: 's', side: 'down', for_s: 60 }));

    // Act
    f.clear();

    // Assess
    expect([f.onDemandMaintenance, f.oddNs, f.limitLock('s')]).toEqual([false, false, null]);
  });

  it('refuses an unknown fault kind or a missing field', () => {
    // Act
    const unknown = FaultSchema.safeParse({ kind: 'explode' });
    const missing = FaultSchema.safeParse({ kind: 'limit_lock', symbol: 's', for_s: 1 });

    // Assess
    expect([unknown.success, missing.success]).toEqual([false, false]);
  });

  it('derives odd-ns offsets in 1..255, deterministically', () => {
    // Act
    const offsets = Array.from({ length: 2000 }, (_, i) => oddNsOffset(i));

    // Assess
    expect(offsets.every((o) => o >= 1n && o <= 255n)).toBe(true);
    expect(oddNsOffset(12345)).toBe(oddNsOffset(12345));
    expect(new Set(offsets).size).toBeGreaterThan(100);
  });

  it('turns "NaN-token" into the number NaN and passes the other values through', () => {
    // Act
    const out = [badValueOf('NaN-token'), badValueOf('NaN'), badValueOf('-'), badValueOf(null)];

    // Assess
    expect(Number.isNaN(out[0])).toBe(true);
    expect(out.slice(1)).toEqual(['NaN', '-', null]);
  });
});
