import { describe, expect, it } from 'vitest';
import { cstMidnightNs, formatCst, parseCst } from '#shared/domain/market/sessions.ts';
import { InvalidDateError } from '#shared/errors/market.ts';

describe('exchange time (CST, UTC+8)', () => {
  it('puts CST midnight at 16:00 UTC of the previous day', () => {
    // Act
    const ns = cstMidnightNs('2025-01-13');

    // Assess
    expect(ns).toBe(BigInt(Date.UTC(2025, 0, 12, 16)) * 1_000_000n);
  });

  it('formats an instant with microseconds, truncating nanoseconds', () => {
    // Prepare
    const ns = BigInt(Date.UTC(2025, 0, 10, 13, 0, 0)) * 1_000_000n + 123_456_789n;

    // Act
    const text = formatCst(ns);

    // Assess
    expect(text).toBe('2025-01-10 21:00:00.123456');
  });

  it('formats instants before 1970 with floor semantics', () => {
    // Act
    const text = formatCst(-1n);

    // Assess
    expect(text).toBe('1970-01-01 07:59:59.999999');
  });

  it.each([
    ['2025-01-10', '2025-01-10 00:00:00.000000'],
    ['2025-01-10 21:00', '2025-01-10 21:00:00.000000'],
    ['2025-01-10T21:00:05.5', '2025-01-10 21:00:05.500000'],
    ['2025-01-11 01:30:00.000001', '2025-01-11 01:30:00.000001'],
  ])('parses %s back to the same exchange time', (input, formatted) => {
    // Act
    const ns = parseCst(input);

    // Assess
    expect(formatCst(ns)).toBe(formatted);
  });

  it('keeps all nine fraction digits', () => {
    // Act
    const ns = parseCst('2025-01-10 21:00:00.000000001');

    // Assess
    expect(ns % 1_000_000_000n).toBe(1n);
  });

  it.each([
    ['2025-01-10 24:00:00'],
    ['2025-01-10 21:00:00Z'],
    ['2025-02-30 10:00:00'],
    ['yesterday'],
    ['2025-01-10 21:60'],
  ])('rejects %j', (input) => {
    // Act
    const act = () => parseCst(input);

    // Assess
    expect(act).toThrow(InvalidDateError);
  });
});
