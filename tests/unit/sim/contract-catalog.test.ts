import { describe, expect, it } from 'vitest';
import { parseSimOptions } from '#colo/sim/config.ts';
import { ContractCatalog } from '#colo/sim/contract-catalog.ts';
import type { MarketPort } from '#colo/sim/market-port.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { parseCst } from '#shared/domain/market/cst.ts';

const cal = shippedCalendar();
const LISTED = ['SHFE.cu2502', 'SHFE.cu2503'];

/** A stand-in market listing two cu contracts, cu2501 expired on 2025-01-15. */
function standIn(): MarketPort {
  const none = (): never => {
    throw new Error('not used');
  };
  return {
    isListed: (s) => LISTED.includes(s),
    lastTradingDay: (s) => (s === 'SHFE.cu2501' ? '2025-01-15' : s.startsWith('SHFE.cu25') ? '2025-12-15' : null),
    firstListedDay: () => '2024-02-01',
    listed: (v) => (v === 'cu' ? LISTED : []),
    mainContract: () => 'SHFE.cu2503',
    continuousTable: none,
    dayTicks: none,
    tickIdBase: none,
    tickRow: none,
    quoteAt: () => null,
    dayFigures: none,
  };
}

const catalog = new ContractCatalog(cal, standIn(), parseSimOptions({}).config, '2024-01-02');
const NOW = parseCst('2025-01-20 10:00:00');

describe('ContractCatalog', () => {
  it('answers ins_query by instrument_id list with full symbols, ns expiry and sim margin/commission', () => {
    // Act
    const r = catalog.query({ instrument_id: ['SHFE.cu2502', 'SHFE.cu9912'] }, NOW);

    // Assess
    expect('result' in r).toBe(true);
    const infos = ('result' in r ? r.result.multi_symbol_info : []) as Record<string, unknown>[];
    expect(infos).toHaveLength(1);
    expect(infos[0]).toMatchObject({
      instrument_id: 'SHFE.cu2502',
      class: 'FUTURE',
      price_tick: 10,
      margin: 40_000,
      commission: 20,
      delivery_year: 2025,
      delivery_month: 2,
    });
    expect(typeof infos[0]?.expire_datetime).toBe('bigint');
  });

  it('lists CONT entries with their underlying edge', () => {
    // Act
    const r = catalog.query({ class: 'CONT', exchange_id: 'KQ', product_id: 'cu' }, NOW);

    // Assess
    const infos = ('result' in r ? r.result.multi_symbol_info : []) as Record<string, unknown>[];
    expect(infos).toEqual([
      expect.objectContaining({
        instrument_id: 'KQ.m@SHFE.cu',
        class: 'CONT',
        underlying: { edges: [{ node: { instrument_id: 'SHFE.cu2503' } }] },
      }),
    ]);
  });

  it('includes contracts expired since --history-from when expired is true', () => {
    // Act
    const r = catalog.query({ class_: ['FUTURE'], exchange_id: ['SHFE'], product_id: ['cu'], expired: true }, NOW);

    // Assess
    const infos = ('result' in r ? r.result.multi_symbol_info : []) as Record<string, unknown>[];
    const ids = infos.map((e) => e.instrument_id);
    expect(ids).toContain('SHFE.cu2501');
    expect(ids).not.toContain('SHFE.cu2502');
  });

  it('answers unsupported variables with an error', () => {
    // Act
    const r = catalog.query({ instrument_id: ['SHFE.cu2502'], foo: 1 }, NOW);

    // Assess
    expect(r).toEqual({ error: 'unsupported variables: foo' });
  });

  it('sees the continuous alias as not tradable (410) and a made-up contract as unknown (409)', () => {
    // Act
    const cont = catalog.instrumentStatus('KQ', 'm@SHFE.cu', '2025-01-20');
    const unknown = catalog.instrumentStatus('SHFE', 'cu9912', '2025-01-20');
    const expired = catalog.instrumentStatus('SHFE', 'cu2501', '2025-01-20');
    const ok = catalog.instrumentStatus('SHFE', 'cu2502', '2025-01-20');

    // Assess
    expect([cont.kind, unknown.kind, expired.kind, ok.kind]).toEqual([
      'not_tradable',
      'unknown',
      'not_tradable',
      'tradable',
    ]);
  });
});
